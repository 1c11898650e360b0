"""Value parsers: units, statuses, dates and numbers as planners type them."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from parkmap import cell_values
from parkmap.errors import UsageError


def test_investment_units_from_header_and_cells():
    cells = pd.Series(["5,000", "150亿元", "5,000万元", "１２，５００", "3000000000元", "", "待定"])
    amounts, bad = cell_values.parse_investment(cells, header_unit="wan")
    # 5,000 万元 = 0.5 亿元; a unit in the cell wins over the header's 万元.
    expected = [0.5, 150.0, 0.5, 1.25, 30.0, np.nan, np.nan]
    np.testing.assert_allclose(amounts.to_numpy(), expected, equal_nan=True)
    assert bad.tolist() == [False] * 6 + [True]


def test_investment_default_unit_is_yi_and_negative_is_kept_for_rejection():
    amounts, bad = cell_values.parse_investment(pd.Series(["12.5", "-3", 7.0]), header_unit="yi")
    np.testing.assert_allclose(amounts.to_numpy(), [12.5, -3.0, 7.0])
    assert not bad.any()


@pytest.mark.parametrize(
    ("spelling", "unit"),
    [("万元", "wan"), ("亿元", "yi"), ("元", "yuan"), ("yuan", "yuan"), ("Wan", "wan")],
)
def test_canonical_unit(spelling, unit):
    assert cell_values.canonical_unit(spelling) == unit


def test_unknown_unit_lists_choices():
    with pytest.raises(UsageError, match="万元"):
        cell_values.canonical_unit("dollars")


def test_statuses():
    statuses, bad = cell_values.parse_status(
        pd.Series(
            ["签约", "在建", "投产", "竣工", "", "Under construction", "洽谈", "前期", "暂停"]
        )
    )
    assert statuses.tolist() == [
        "signed",
        "under_construction",
        "in_production",
        "in_production",
        "unknown",
        "under_construction",
        "planned",  # talks and preparation come before signing
        "planned",
        "unknown",  # suspended: no stage
    ]
    assert bad.tolist() == [False] * 8 + [True]


def test_dates_in_spreadsheet_forms():
    cells = pd.Series(
        [
            "2020-06-30",
            "2020/6/30",
            "2020.6.30",
            "2020年6月30日",
            "44012",
            44012.0,
            dt.datetime(2020, 6, 30),
            "",
            "next week",
        ],
        dtype=object,
    )
    dates, bad = cell_values.parse_date(cells)
    june30 = pd.Timestamp("2020-06-30")
    # Excel serial 44012 = 2020-06-30 (day 0 = 1899-12-30 in Excel's 1900 system).
    assert (june30 - pd.Timestamp("1899-12-30")).days == 44012
    assert dates.iloc[:7].tolist() == [june30] * 7
    assert pd.isna(dates.iloc[7]) and pd.isna(dates.iloc[8])
    assert bad.tolist() == [False] * 8 + [True]


def test_numbers_allow_full_width_and_degree_sign():
    numbers, bad = cell_values.parse_number(pd.Series(["１２０.５", "36.7°", "abc", ""]))
    np.testing.assert_allclose(numbers.to_numpy(), [120.5, 36.7, np.nan, np.nan], equal_nan=True)
    assert bad.tolist() == [False, False, True, False]


def test_iso_dates_fast_path_refuses_impossible_days():
    cells = pd.Series(
        ["2024-02-29", "2023-02-29", "2020-13-01", "2020-06-31", "2020-06-30", "2020-6-30"],
        dtype=cell_values.TEXT,
    )
    dates, bad = cell_values.parse_date(cells)
    assert dates.iloc[0] == pd.Timestamp(2024, 2, 29)
    assert dates.iloc[1:4].isna().all() and bad.iloc[1:4].all()  # no roll-over into next month
    assert dates.iloc[4] == dates.iloc[5] == pd.Timestamp(2020, 6, 30)
    assert not bad.iloc[[0, 4, 5]].any()


def test_numbers_column_with_one_bad_cell_keeps_the_good_ones():
    # One unreadable cell must not spoil the column (the fast path casts the column at once).
    cells = pd.Series(["120.5", "abc", "", "1e2", "-36.25"], dtype=cell_values.TEXT)
    numbers, bad = cell_values.parse_number(cells)
    assert numbers.iloc[0] == 120.5 and numbers.iloc[3] == 100.0 and numbers.iloc[4] == -36.25
    assert numbers.iloc[[1, 2]].isna().all()
    assert bad.tolist() == [False, True, False, False, False]


def test_text_normalises_full_width_forms_and_ideographic_spaces_only_where_present():
    cells = pd.Series(["\u3000南村\u3000", "ＡＢＣ１２３", "plain", "姜山", None], dtype=object)
    assert cell_values.as_text(cells).tolist() == ["南村", "ABC123", "plain", "姜山", ""]
    clean = pd.Series(["plain", "姜山"], dtype=cell_values.TEXT)
    assert cell_values.as_text(clean).tolist() == ["plain", "姜山"]

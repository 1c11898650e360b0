"""Value parsers: units, statuses, dates and numbers as planners type them."""

from __future__ import annotations

import datetime as dt
import sys

import numpy as np
import pandas as pd
import pyarrow as pa
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
        "unknown",  # suspended: no stage, flagged so the row says why
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
    numbers, bad = cell_values.parse_coordinate(pd.Series(["１２０.５", "36.7°", "abc", ""]))
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
    numbers, bad = cell_values.parse_coordinate(cells)
    assert numbers.iloc[0] == 120.5 and numbers.iloc[3] == 100.0 and numbers.iloc[4] == -36.25
    assert numbers.iloc[[1, 2]].isna().all()
    assert bad.tolist() == [False, True, False, False, False]


def test_text_normalises_full_width_forms_and_ideographic_spaces_only_where_present():
    cells = pd.Series(["\u3000南村\u3000", "ＡＢＣ１２３", "plain", "姜山", None], dtype=object)
    assert cell_values.as_text(cells).tolist() == ["南村", "ABC123", "plain", "姜山", ""]
    clean = pd.Series(["plain", "姜山"], dtype=cell_values.TEXT)
    assert cell_values.as_text(clean).tolist() == ["plain", "姜山"]


# --- statuses typed as phrases ------------------------------------------------------------------

PHRASES = [
    ("开工建设", "under_construction", False),
    ("前期手续办理中", "planned", False),
    ("已签约", "signed", False),
    ("竣工投产", "in_production", False),
    ("试生产", "in_production", False),
    ("正在施工", "under_construction", False),
    ("续建", "under_construction", False),
    ("已落地", "signed", False),
    ("项目论证", "planned", False),
    ("已签约未开工", "signed", False),  # 未开工 is a negation, not a start of works
    ("建成投产", "in_production", False),  # both 建 and 投产: production wins
    ("停建", "unknown", True),  # contains 建, but stop words come first
    ("缓建", "unknown", True),
    ("暂停施工", "unknown", True),
    ("项目终止", "unknown", True),
    ("ok", "unknown", True),
    ("", "unknown", False),
]


@pytest.mark.parametrize("dtype", [cell_values.TEXT, object])
def test_status_phrases_by_ordered_keywords(dtype):
    cells = pd.Series([p for p, _, _ in PHRASES] * 3, dtype=dtype)  # repeated: factorised
    statuses, bad = cell_values.parse_status(cells)
    assert statuses.tolist() == [s for _, s, _ in PHRASES] * 3
    assert bad.tolist() == [b for _, _, b in PHRASES] * 3
    stopped = cell_values.stopped_statuses(cells).tolist()
    expected_stopped = [p in ("停建", "缓建", "暂停施工", "项目终止") for p, _, _ in PHRASES] * 3
    assert stopped == expected_stopped


def test_status_keyword_table_puts_stop_words_first():
    groups = [status for status, _ in cell_values.STATUS_KEYWORDS]
    assert groups[0] == cell_values.STOPPED
    assert groups[1:] == ["in_production", "under_construction", "signed", "planned"]


def test_status_of_mixed_object_cells_and_an_empty_column():
    cells = pd.Series([None, 3.0, "在建", np.nan], dtype=object)
    statuses, bad = cell_values.parse_status(cells)
    assert statuses.tolist() == ["unknown", "unknown", "under_construction", "unknown"]
    assert bad.tolist() == [False, True, False, False]
    statuses, bad = cell_values.parse_status(pd.Series([], dtype=cell_values.TEXT))
    assert statuses.empty and bad.empty


# --- dates with a precision, and out of range ---------------------------------------------------


@pytest.mark.parametrize("dtype", [cell_values.TEXT, object])
def test_month_and_year_dates_keep_their_precision(dtype):
    cells = pd.Series(
        [
            "2020年6月",
            "2020.6",
            "2020-06",
            "2020/6",
            "2020年",
            "2020",
            "2020年6月30日",
            "",
            "2020-13",
        ],
        dtype=dtype,
    )
    found = cell_values.parse_date_cells(cells)
    june, jan = pd.Timestamp(2020, 6, 1), pd.Timestamp(2020, 1, 1)
    assert found.dates.iloc[:7].tolist() == [june] * 4 + [jan] * 2 + [pd.Timestamp(2020, 6, 30)]
    assert found.precision.tolist() == ["month"] * 4 + ["year"] * 2 + ["day", "", ""]
    assert found.bad.tolist() == [False] * 8 + [True]  # month 13 is no month
    assert not found.out_of_range.any()


def test_dates_from_a_workbook_column_have_precision_day_or_what_was_typed():
    # What the xlsx reader gives: datetimes, serial numbers, a year typed as a number, text.
    cells = pd.Series(
        [dt.datetime(2020, 6, 30), 44012, 2019.0, "2021.3", dt.date(2020, 6, 30), None],
        dtype=object,
    )
    found = cell_values.parse_date_cells(cells)
    assert found.dates.iloc[:5].tolist() == [
        pd.Timestamp(2020, 6, 30),
        pd.Timestamp(2020, 6, 30),  # 44012 days after 1899-12-30
        pd.Timestamp(2019, 1, 1),
        pd.Timestamp(2021, 3, 1),
        pd.Timestamp(2020, 6, 30),
    ]
    assert found.precision.tolist() == ["day", "day", "year", "month", "day", ""]
    assert not found.bad.any() and not found.out_of_range.any()


@pytest.mark.parametrize("dtype", [cell_values.TEXT, object])
def test_dates_outside_1900_to_2100_are_left_empty_not_a_crash(dtype):
    cells = pd.Series(
        ["9999-12-31", "2300.1.1", "1800-01-01", "2150-01-01", "1899年12月", "1900-01-01",
         "2100-12-31", "73415", "73416", "next week"],
        dtype=dtype,
    )  # fmt: skip
    found = cell_values.parse_date_cells(cells)
    # Serial 73415 = 2100-12-31: 73415 days after 1899-12-30 (2100 is no leap year).
    assert pd.Timestamp("1899-12-30") + pd.Timedelta(days=73415) == pd.Timestamp(2100, 12, 31)
    assert found.out_of_range.tolist() == [True] * 5 + [False, False, False, True, False]
    assert found.dates.iloc[[5, 6, 7]].tolist() == [
        pd.Timestamp(1900, 1, 1),
        pd.Timestamp(2100, 12, 31),
        pd.Timestamp(2100, 12, 31),
    ]
    assert found.dates.isna().tolist() == [True] * 5 + [False] * 3 + [True, True]
    assert found.bad.tolist() == [False] * 9 + [True]
    _, bad = cell_values.parse_date(cells)  # the two-value form flags both kinds
    assert bad.tolist() == [True] * 5 + [False] * 3 + [True, True]


def test_workbook_datetimes_outside_the_range_are_left_empty():
    cells = pd.Series(
        [dt.datetime(9999, 12, 31), pd.Timestamp(1800, 1, 1), dt.datetime(2020, 1, 2)],
        dtype=object,
    )
    found = cell_values.parse_date_cells(cells)
    assert found.out_of_range.tolist() == [True, True, False]
    assert found.dates.iloc[2] == pd.Timestamp(2020, 1, 2) and found.dates.iloc[:2].isna().all()
    assert not found.bad.any()
    assert cell_values.cell_text(dt.datetime(9999, 12, 31)) == "9999-12-31"
    # A datetime column (Parquet) may hold microsecond datetimes beyond pandas' nanoseconds.
    stamps = pd.Series(
        np.array(["9999-12-31", "2020-06-30", "NaT"], dtype="datetime64[us]"),
    )
    found = cell_values.parse_date_cells(stamps)
    assert found.out_of_range.tolist() == [True, False, False]
    assert found.dates.iloc[1] == pd.Timestamp(2020, 6, 30)
    assert found.precision.tolist() == ["", "day", ""]


def _python_calls(func, *args):
    """How many Python-level function calls ``func(*args)`` makes (C calls not counted)."""
    count = 0

    def profile(frame, event, arg):
        nonlocal count
        if event == "call":
            count += 1

    sys.setprofile(profile)
    try:
        func(*args)
    finally:
        sys.setprofile(None)
    return count


@pytest.mark.parametrize("dtype", [cell_values.TEXT, object])
def test_a_100k_date_column_with_wild_years_is_read_in_bulk(dtype):
    n = 100_000
    pattern = ["9999-12-31", "2300.1.1", "1800-01-01", "2020-06-30", "2020年6月", "44012", "", "x"]
    cells = pd.Series(pattern * (n // len(pattern)), dtype=dtype)
    if dtype == cell_values.TEXT:  # two Arrow chunks, as a CSV read in blocks gives
        chunked = pa.chunked_array([pa.array(cells[: n // 2]), pa.array(cells[n // 2 :])])
        cells = pd.Series(pd.arrays.ArrowStringArray(chunked), dtype=cell_values.TEXT)
    found = cell_values.parse_date_cells(cells)
    reps = n // len(pattern)
    assert int(found.out_of_range.sum()) == 3 * reps
    assert int(found.bad.sum()) == reps
    assert found.precision.value_counts().to_dict() == {
        "": 5 * reps,
        "day": 2 * reps,
        "month": reps,
    }
    # No loop over the rows in Python: the call count does not grow with the column.
    small = pd.Series(pattern * 10, dtype=dtype)
    assert _python_calls(cell_values.parse_date_cells, cells) < 2 * _python_calls(
        cell_values.parse_date_cells, small
    )


# --- coordinates in degrees, minutes and seconds --------------------------------------------------

#: Worked by hand: d + m/60 + s/3600.
DMS = [
    ("120°9'57.87\"E", 120 + 9 / 60 + 57.87 / 3600),  # 120.166075
    ("120°9′57.87″E", 120 + 9 / 60 + 57.87 / 3600),
    ("120度9分57.87秒", 120 + 9 / 60 + 57.87 / 3600),
    ("36°32'45.43\"N", 36 + 32 / 60 + 45.43 / 3600),  # 36.545952777…
    ("120°9.9645'E", 120 + 9.9645 / 60),  # 120.166075 as degrees and decimal minutes
    ("N36°32'45.43\"", 36 + 32 / 60 + 45.43 / 3600),
    ("120° 0' 48\" E", 120 + 48 / 3600),  # 120.013333…
    ("36.7°", 36.7),
    ("120.5E", 120.5),
    ("120°9'57.87\"W", -(120 + 9 / 60 + 57.87 / 3600)),  # west: negative (then outside China)
    ("-36.25", -36.25),
    ("１２０°９′５７.８７″Ｅ", 120 + 9 / 60 + 57.87 / 3600),  # full width, NFKC: ″ → ′′
    ("120.166075", 120.166075),
]
NOT_COORDINATES = [
    "120°60'",  # minutes must be below 60
    "120°9'60\"",  # so must seconds
    "1209'",  # 120°9' needs a ° or a space before the minutes
    "120.5°30'",  # decimal degrees and minutes
    "120°9.5'30\"",  # decimal minutes and seconds
    "E120°N",
    "-120°E",
    "东经120",
    "120°0'48\"X",
    "abc",
]


@pytest.mark.parametrize("dtype", [cell_values.TEXT, object])
def test_degrees_minutes_seconds(dtype):
    cells = pd.Series([t for t, _ in DMS] + NOT_COORDINATES + [""], dtype=dtype)
    numbers, bad = cell_values.parse_coordinate(cells)
    assert numbers.iloc[0] == pytest.approx(120.16607500, abs=1e-12)
    assert numbers.iloc[3] == pytest.approx(36.54595278, abs=1e-8)
    np.testing.assert_allclose(numbers.iloc[: len(DMS)], [v for _, v in DMS], rtol=0, atol=1e-12)
    assert numbers.iloc[len(DMS) :].isna().all()
    assert bad.tolist() == [False] * len(DMS) + [True] * len(NOT_COORDINATES) + [False]


def test_coordinates_from_a_workbook_mix_numbers_and_text():
    cells = pd.Series([120.5, 36, "120°9'57.87\"E", None, "36.7"], dtype=object)
    numbers, bad = cell_values.parse_coordinate(cells)
    np.testing.assert_allclose(
        numbers, [120.5, 36.0, 120 + 9 / 60 + 57.87 / 3600, np.nan, 36.7], atol=1e-12
    )
    assert not bad.any()
    numbers, bad = cell_values.parse_coordinate(pd.Series([120.5, np.nan]))  # numeric column
    assert numbers.iloc[0] == 120.5 and not bad.any()


def test_dms_cells_past_the_first_arrow_chunk():
    first = pa.array(["120.1", "120°30'E"] * 5)
    second = pa.array(["36°30'N", "bad°"] * 5)
    cells = pd.Series(
        pd.arrays.ArrowStringArray(pa.chunked_array([first, second])), dtype=cell_values.TEXT
    )
    numbers, bad = cell_values.parse_coordinate(cells)
    np.testing.assert_allclose(numbers.iloc[:10], [120.1, 120.5] * 5)
    np.testing.assert_allclose(numbers.iloc[10::2], [36.5] * 5)
    assert bad.tolist() == [False] * 10 + [False, True] * 5


def test_quoted_cell_text_has_no_escapes_and_one_line():
    assert cell_values.quoted("120°0'48\"X") == "“120°0'48\"X”"
    assert cell_values.quoted("停建\n(待定)\t") == "“停建 (待定)”"
    assert cell_values.quoted(12500.0) == "“12500”"
    assert cell_values.quoted("x" * 100) == "“" + "x" * 59 + "…”"


@pytest.mark.parametrize(
    ("parser", "pattern", "n_bad"),
    [
        (cell_values.parse_coordinate, ["120.1", "120°9'57.87\"E", "36°30′N", "bad", ""], 1),
        (cell_values.parse_status, ["开工建设", "停建", "已签约", "ok", ""], 2),
    ],
)
def test_coordinates_and_statuses_are_read_in_bulk(parser, pattern, n_bad):
    big = pd.Series(pattern * 20_000, dtype=cell_values.TEXT)
    small = pd.Series(pattern * 2, dtype=cell_values.TEXT)
    values, bad = parser(big)
    assert int(bad.sum()) == n_bad * 20_000 and len(values) == 100_000
    assert _python_calls(parser, big) < 2 * _python_calls(parser, small)


def test_to_float_reads_what_pandas_reads_and_leaves_other_text_out():
    # Plain decimals take Arrow's cast; "inf", "1e3" and stray letters go to pandas; cells
    # outside ASCII (full-width digits, Chinese) are never numbers. Chunked like a big CSV.
    cells = ["120.5", "-3", ".5", "5.", "+7e2", "inf", "-Infinity", "NaN", "1e", "abc", "",
             "１２", "十", "12 5", "0x10", "1_000", "36.7"]  # fmt: skip
    chunks = pa.chunked_array([pa.array(cells[:6]), pa.array(cells[6:11]), pa.array(cells[11:])])
    text = pd.Series(pd.arrays.ArrowStringArray(chunks), index=np.arange(100, 100 + len(cells)))
    got = cell_values._to_float(text)
    ascii_only = np.array([c.isascii() for c in cells])
    want = pd.to_numeric(pd.Series(cells, dtype=object), errors="coerce").astype(float)
    want[~ascii_only] = np.nan
    assert got.index.equals(text.index)
    np.testing.assert_array_equal(got.to_numpy(), want.to_numpy())

"""Ledgers as offices keep them: the table found below its title, totals and blank rows,
row numbers as the spreadsheet shows them, and per-park figures from the real projects only."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from ledgers import (
    OTHER_HEADERS,
    OfficeLedger,
    office_ledger,
    write_csv,
    write_xlsx,
)

from parkmap.cli import main
from parkmap.errors import InputError
from parkmap.pipeline import analyse
from parkmap.read import project_table, tables
from parkmap.settings import InputOptions

SHARED = Path(__file__).resolve().parents[2] / "shared" / "ledgers"


def _check_figures(ledger: OfficeLedger, inputs: InputOptions) -> None:
    """Per-park counts and sums equal the real projects'; totals rejected as totals; blank
    rows skipped; each project mapped at its own spreadsheet row."""
    analysis = analyse(inputs)
    parks = analysis.parks.set_index("park_id")
    for park_id, (n, investment) in ledger.per_park().items():
        assert parks.loc[park_id, "projects"] == n, park_id
        assert parks.loc[park_id, "investment_100m_cny"] == pytest.approx(investment, abs=1e-9)
    rejected = analysis.rejected.set_index("row")
    totals = rejected.loc[ledger.totals]
    assert totals["reason"].str.startswith("total row").all()
    assert analysis.summary.blank == len(ledger.blank)
    assert not set(ledger.blank) & set(analysis.rejected["row"])
    projects = analysis.projects.set_index("row")
    for p in ledger.projects:
        assert p.row in projects.index, p
        assert projects.loc[p.row, "park_id"] == p.park_id
        assert projects.loc[p.row, "investment_100m_cny"] == pytest.approx(p.wan / 1e4)
        assert projects.loc[p.row, "status"] == p.status, p.status_text
        assert projects.loc[p.row, "signed_date"] == pd.Timestamp(p.date), p.date_text
        assert projects.loc[p.row, "signed_date_precision"] == p.precision, p.date_text
        # degrees, minutes and seconds read exactly (the map is in WGS-84, as written)
        assert projects.loc[p.row, "lon_orig"] == pytest.approx(p.lon, abs=1e-9)
        assert projects.loc[p.row, "lat_orig"] == pytest.approx(p.lat, abs=1e-9)
    assert analysis.summary.read == len(analysis.projects) + len(analysis.rejected)


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_an_office_ledger_builds_as_it_is(tmp_path, kind):
    ledger = office_ledger()
    path = tmp_path / f"台账.{kind}"
    (write_csv if kind == "csv" else write_xlsx)(ledger, path)
    raw = project_table(path)
    assert raw.first_row == ledger.header_row + 1
    assert raw.unit == "wan"
    assert raw.blank_rows == tuple(ledger.blank)
    _check_figures(ledger, InputOptions(projects=path))


@pytest.mark.parametrize(
    ("unit", "headers", "total_word", "style"),
    [
        ("亿元", OTHER_HEADERS, "总计", "primes"),
        ("元", OTHER_HEADERS, "合 计", "chinese"),
        ("万元", OTHER_HEADERS, "Total", "ascii"),
    ],
)
def test_layouts_vary_by_office(tmp_path, unit, headers, total_word, style):
    ledger = office_ledger(unit=unit, headers=headers, total_word=total_word, dms_style=style)
    path = write_csv(ledger, tmp_path / "台账.csv")
    _check_figures(ledger, InputOptions(projects=path))


@pytest.mark.parametrize("newline", ["\r\n", "\n", "\r"])
def test_empty_lines_and_any_line_ending_keep_row_numbers(tmp_path, newline):
    # an empty line is a row in a spreadsheet; after one, rows must not be off by one
    ledger = office_ledger()
    path = write_csv(ledger, tmp_path / "台账.csv", newline=newline, empty_lines=True)
    _check_figures(ledger, InputOptions(projects=path))


def test_header_row_option_overrides_detection(tmp_path):
    ledger = office_ledger(nameless=False, far=False)
    # a second title that looks like a header row above the real one: only --header-row helps
    ledger.rows.insert(1, ["项目名称", "经度", "纬度", "", "", "", "", ""])
    for p in ledger.projects:
        p.row += 1
    ledger.totals = [r + 1 for r in ledger.totals]
    ledger.blank = [r + 1 for r in ledger.blank]
    path = write_csv(ledger, tmp_path / "台账.csv")
    assert project_table(path).first_row == 5  # found: the row naming most columns
    _check_figures(ledger, InputOptions(projects=path, header_row=4))
    with pytest.raises(InputError, match="past the last row"):
        project_table(path, header_row=500)


def test_a_nameless_project_is_mapped_with_a_warning(tmp_path):
    ledger = office_ledger()
    path = write_xlsx(ledger, tmp_path / "台账.xlsx")
    analysis = analyse(InputOptions(projects=path))
    nameless = next(p for p in ledger.projects if not p.name)
    row = analysis.projects.set_index("row").loc[nameless.row]
    assert "project name missing" in row["warnings"]


def test_total_rows_are_rejected_whatever_they_carry(tmp_path):
    table = pd.DataFrame(
        {
            "序号": ["1", "", "平度市合计", "2", ""],
            "项目名称": ["小计划项目", "小计", "", "乙", "总 计："],
            "经度": ["120.1", "120.1", "120.1", "", "120.1"],
            "纬度": ["36.5", "36.5", "36.5", "", "36.5"],
        }
    )
    mask, found = tables_total_rows(table)
    assert mask.tolist() == [False, True, True, False, True]
    assert found == {
        1: ("项目名称", "小计"),
        2: ("序号", "平度市合计"),
        4: ("项目名称", "总 计:"),
    }  # as read: NFKC


def tables_total_rows(table: pd.DataFrame):
    from parkmap.schema import match_headers
    from parkmap.validate import total_rows

    return total_rows(table, match_headers(table.columns))


def test_a_row_longer_than_its_header_is_rejected_not_shifted(tmp_path):
    path = tmp_path / "ragged.csv"
    path.write_text(
        "编号,名称,经度,纬度\nA,甲,120.1,36.5\nB,乙,120,5,36.5\nC,丙,120.2,36.6,\n",
        encoding="utf-8",
    )
    loaded = analyse(InputOptions(projects=path))
    assert loaded.projects["project_id"].tolist() == ["A", "C"]
    assert loaded.projects["lon"].tolist() == pytest.approx([120.1, 120.2], abs=0.01)
    (reason,) = loaded.rejected["reason"].tolist()
    assert loaded.rejected["row"].tolist() == [3]
    assert "more cells than the header's 4 columns" in reason and "“36.5”" in reason


def test_an_empty_id_never_takes_a_real_one(tmp_path):
    path = tmp_path / "ids.csv"
    path.write_text(
        "项目编号,项目名称,经度,纬度\nR3,甲,120.1,36.5\n,乙,120.2,36.6\nR3-2,丙,120.3,36.7\n",
        encoding="utf-8",
    )
    projects = analyse(InputOptions(projects=path)).projects
    ids = projects["project_id"].tolist()
    assert len(set(ids)) == 3 and ids[1] not in ("R3", "R3-2")
    assert ids[1] == "R3-3"


def test_header_finding_on_rows():
    rows: list[list[object]] = [
        ["某某区2023年重点项目台账", None, None],
        ["金额单位：人民币亿元", None, None],
        [None, None, None],
        ["项目名称", "经度", "纬度"],
        ["甲", 120.1, 36.5],
    ]
    assert tables.find_header_row(rows) == 3
    assert tables.unit_above(rows[:3]) == ("yi", 2, "金额单位：人民币亿元")
    assert tables.find_header_row([["a", "b"], ["c", "d"]]) == 0
    assert tables.column_names(["名称", None, "名称", ""] + [""] * 24) == [
        "名称",
        "column B",
        "名称.1",
        "column D",
        *[f"column {c}" for c in "EFGHIJKLMNOPQRSTUVWXYZ"],
        "column AA",
        "column AB",
    ]


def test_validate_names_the_header_row_when_a_column_is_missing(tmp_path):
    path = tmp_path / "台账.csv"
    path.write_text("2020年台账,\n单位：万元,\n项目名称,总投资\n甲,1\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["validate", str(path)])
    assert result.exit_code == 2
    assert "row 3: no longitude column" in result.output


def test_a_big_ledger_with_a_title_stays_on_the_fast_reader(tmp_path, monkeypatch):
    # 20,000 rows below a title and a 单位 line: Arrow reads them, numbered from row 4
    n = 20_000
    lines = ["2023年项目台账,,,", "单位：万元,,,", "项目名称,总投资,经度,纬度"]
    lines += [f"项目{i},{i},{120 + i * 1e-6:.6f},36.5" for i in range(n)]
    path = tmp_path / "big.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    monkeypatch.setattr(tables, "_read_csv_records", lambda *a: pytest.fail("slow reader used"))
    cells = tables.read_table(path)
    assert cells.header_row == 3 and len(cells.table) == n
    assert cells.row_numbers[[0, -1]].tolist() == [4, n + 3]


@pytest.mark.skipif(
    not SHARED.is_dir(), reason="shared/ledgers (office examples) not beside the repo"
)
@pytest.mark.parametrize(
    "name", ["pingdu-laixi-2020-tracker-gbk.csv", "pingdu-laixi-2020-tracker.xlsx"]
)
def test_the_office_examples_build_without_editing(tmp_path, name):
    expected = json.loads((SHARED / "expected.json").read_text(encoding="utf-8"))
    result = CliRunner().invoke(
        main, ["build", str(SHARED / name), "--out", str(tmp_path / "out")], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    parks = pd.read_csv(tmp_path / "out" / "parks.csv", encoding="utf-8-sig").set_index("park_id")
    for park_id, figures in expected["parks"].items():
        assert parks.loc[park_id, "projects"] == figures["n"]
        assert parks.loc[park_id, "investment_100m_cny"] == pytest.approx(figures["inv"], abs=0.005)
    rejected = pd.read_csv(tmp_path / "out" / "rejected.csv", encoding="utf-8-sig")
    totals = rejected[rejected["reason"].str.startswith("total row")]
    assert sorted(totals["row"]) == expected["totals"]
    assert not set(expected["blank"]) & set(rejected["row"])
    projects = json.loads((tmp_path / "out" / "projects.geojson").read_text(encoding="utf-8"))
    mapped = sorted((f["properties"] for f in projects["features"]), key=lambda p: p["row"])
    assert len(mapped) == expected["n_projects"]
    # expected.json keys its projects one past their sheet rows; compared in sheet order
    want = [expected["projects"][k] for k in sorted(expected["projects"], key=int)]
    for got, exp in zip(mapped, want, strict=True):
        assert got["investment_100m_cny"] == pytest.approx(exp["inv"], abs=0.005)
        assert got["status"] == exp["status"]
        assert (got["park_id"] or None) == exp["park"]
    by_row = {p["row"]: p for p in mapped}
    assert "project name missing" in by_row[expected["noname"]]["warnings"]
    assert np.isfinite([p["lon"] for p in mapped]).all()


@pytest.mark.parametrize("header_comma", ["", ","])
def test_a_trailing_delimiter_on_each_row_is_no_column(tmp_path, header_comma):
    path = tmp_path / "trailing.csv"
    path.write_text(
        f"项目名称,经度,纬度{header_comma}\n甲,120.1,36.5,\n乙,120.2,36.6,\n", encoding="utf-8"
    )
    analysis = analyse(InputOptions(projects=path))
    assert analysis.projects["name"].tolist() == ["甲", "乙"]
    assert analysis.projects["lat"].tolist() == pytest.approx([36.5, 36.6], abs=0.01)
    assert analysis.rejected.empty


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_title_rows_above_a_big_table_in_each_encoding_read_on_the_fast_reader(
    tmp_path, monkeypatch, encoding
):
    # The fast reader parses from the header line on: a view of the file's own bytes for
    # UTF-8 (after the byte-order mark, if any), the text encoded again for GB18030.
    n = 3_000
    lines = ["青岛市重点项目台账（2024年）,,,", "单位：万元,,,", "项目名称,总投资,经度,纬度"]
    lines += [f"海尔智家{i}期,{i},{120 + i * 1e-6:.6f},36.5" for i in range(n)]
    path = tmp_path / "big.csv"
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode(encoding))
    monkeypatch.setattr(tables, "_read_csv_records", lambda *a: pytest.fail("slow reader used"))
    cells = tables.read_table(path)
    assert cells.encoding == encoding and cells.unit == "wan" and cells.header_row == 3
    assert cells.table.columns.tolist() == ["项目名称", "总投资", "经度", "纬度"]
    assert cells.table["项目名称"].iloc[[0, -1]].tolist() == ["海尔智家0期", f"海尔智家{n - 1}期"]
    assert cells.table["纬度"].iloc[-1] == "36.5"
    assert cells.row_numbers[[0, -1]].tolist() == [4, n + 3]


def test_a_quote_above_the_header_sends_the_file_to_the_record_reader(tmp_path, monkeypatch):
    path = tmp_path / "quoted-title.csv"
    text = '"台账，2024年\n（第二版）",,\n名称,经度,纬度\n甲,120.1,36.5\n'
    path.write_text(text, encoding="utf-8")
    used = []
    slow = tables._read_csv_records
    monkeypatch.setattr(tables, "_read_csv_records", lambda *a: used.append(1) or slow(*a))
    cells = tables.read_table(path)
    # a spreadsheet shows the two-line title as one row: the header is row 2
    assert used and cells.header_row == 2 and cells.row_numbers.tolist() == [3]
    assert cells.table["名称"].tolist() == ["甲"]


@pytest.mark.parametrize("cut", [10, 65_530, 65_536, 65_540, 70_000])
def test_first_records_from_a_prefix_are_those_of_the_whole_text(cut):
    # A title cell, then a quoted cell with line breaks, placed so the first prefix ends
    # before, inside or just after them; and a first line longer than the first prefix.
    title = "标" * cut
    text = f'{title},\n"多行\n名称\r\n续",x\n' + "".join(f"行{i},{i}\n" for i in range(40))
    whole = list(csv.reader(io.StringIO(text, newline="")))
    for count in (1, 2, 3, 30, 50):
        assert tables._first_records(text, ",", count) == whole[:count]

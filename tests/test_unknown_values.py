"""Unknown is not zero: a ledger without an investment or a status column.

Three parks, worked by hand: A holds P1 (2 亿元, signed) and P2 (3 亿元, in production), B holds
P3 (5 亿元, signed) and P4 (investment cell empty, under construction), E holds nothing, and P5
lies between A and B (outside every park).
"""

from __future__ import annotations

import re

import geopandas as gpd
import numpy as np
import openpyxl
import pandas as pd
import pytest
from pages import OfflinePage, with_test_hooks
from shapely.geometry import box

from parkmap import metrics, pipeline
from parkmap.analysis import Analysis
from parkmap.export import export_all
from parkmap.i18n import texts
from parkmap.metrics import INVESTMENT, STATUS
from parkmap.settings import BuildOptions, InputOptions
from parkmap.webmap import save_map
from parkmap.webmap.compose import make_map

PARKS = {"A": box(120.0, 36.5, 120.1, 36.6), "B": box(120.2, 36.5, 120.3, 36.6)}
PARKS["E"] = box(120.5, 36.8, 120.55, 36.85)

RECORDS = pd.DataFrame(
    {
        "project_id": ["P1", "P2", "P3", "P4", "P5"],
        "name": ["一号", "二号", "三号", "四号", "五号"],
        "industry": ["家电", "家电", "汽车", "汽车", "农业"],
        "status": ["签约", "投产", "签约", "在建", "签约"],
        "investment_100m_cny": ["2", "3", "5", "", "7"],
        "lon": [120.05, 120.06, 120.25, 120.26, 120.15],
        "lat": [36.55, 36.56, 36.55, 36.56, 36.55],
    }
)


@pytest.fixture(scope="module")
def parks_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("parks") / "parks.geojson"
    layer = gpd.GeoDataFrame(
        {"park_id": list(PARKS), "name": [f"园区{k}" for k in PARKS]},
        geometry=list(PARKS.values()),
        crs="EPSG:4326",
    )
    layer.to_file(path, driver="GeoJSON")
    return path


def _inputs(tmp_path, parks_file, drop=()) -> InputOptions:
    path = tmp_path / "ledger.csv"
    RECORDS.drop(columns=list(drop)).to_csv(path, index=False)
    return InputOptions(projects=path, parks=(parks_file,))


def _parks_csv(out) -> pd.DataFrame:
    return pd.read_csv(out / "parks.csv", encoding="utf-8-sig", keep_default_na=False).set_index(
        "park_id"
    )


def test_no_investment_column_leaves_investment_density_and_rank_empty(tmp_path, parks_file):
    inputs = _inputs(tmp_path, parks_file, drop=["investment_100m_cny"])
    analysis, _ = pipeline.build(BuildOptions(inputs=inputs, out=tmp_path / "out"))
    table = _parks_csv(tmp_path / "out")
    # Counts are known: 2 in A, 2 in B, none in E.
    assert table["projects"].tolist() == [2, 2, 0]
    for park in ("A", "B"):
        for col in ("investment_100m_cny", "density_100m_cny_per_km2", "rank"):
            assert table.loc[park, col] == "", (park, col)
        for s in ("signed", "in_production", "under_construction"):
            assert table.loc[park, f"investment_{s}_100m_cny"] == ""
    # A park with no projects has truly 0 projects and 0 investment; still no rank.
    assert float(table.loc["E", "investment_100m_cny"]) == 0.0
    assert table.loc["E", "rank"] == ""
    # Status is known: A has one signed and one in production.
    assert table.loc["A", "projects_signed"] == 1
    assert table.loc["A", "projects_in_production"] == 1
    # Said once, as a note; no row warning per missing cell.
    said = [n for n in analysis.notes if "no investment" in n]
    assert len(said) == 1 and "unknown" in said[0]
    assert analysis.summary.warnings == 0
    assert analysis.known_figures == {STATUS}
    assert "inf" not in (tmp_path / "out" / "parks.csv").read_text(encoding="utf-8-sig")


def test_no_status_column_leaves_status_counts_empty(tmp_path, parks_file):
    inputs = _inputs(tmp_path, parks_file, drop=["status"])
    analysis, _ = pipeline.build(BuildOptions(inputs=inputs, out=tmp_path / "out"))
    table = _parks_csv(tmp_path / "out")
    for park in ("A", "B"):
        for s in ("planned", "signed", "under_construction", "in_production", "unknown"):
            assert table.loc[park, f"projects_{s}"] == "", (park, s)
            assert table.loc[park, f"investment_{s}_100m_cny"] == ""
    assert float(table.loc["E", "projects_signed"]) == 0.0  # no projects: a true 0
    # Investment is known: A = 2 + 3, B = 5 (P4's empty cell counted, left out of the sum).
    assert float(table.loc["A", "investment_100m_cny"]) == 5.0
    assert float(table.loc["B", "investment_100m_cny"]) == 5.0
    assert [n for n in analysis.notes if "no project status" in n] != []
    assert analysis.known_figures == {INVESTMENT}


def test_some_empty_cells_are_counted_and_left_out_of_sums_as_before(tmp_path, parks_file):
    analysis, _ = pipeline.build(
        BuildOptions(inputs=_inputs(tmp_path, parks_file), out=tmp_path / "out")
    )
    table = _parks_csv(tmp_path / "out")
    assert table.loc["B", "projects"] == 2
    assert float(table.loc["B", "investment_100m_cny"]) == 5.0
    assert float(table.loc["B", "investment_under_construction_100m_cny"]) == 0.0
    area = metrics.geodesic_area_km2(gpd.GeoSeries(list(PARKS.values()), crs="EPSG:4326"))
    # Same investment, B lies on the same parallels as A: A and B have equal area (to 1e-9),
    # so they tie for rank 1; E (density 0) is 3rd.
    assert area.iloc[0] == pytest.approx(area.iloc[1], rel=1e-9)
    assert table["rank"].tolist() == [1, 1, 3]
    assert not [n for n in analysis.notes if "unknown, not 0" in n]
    assert analysis.known_figures == {INVESTMENT, STATUS}


def test_known_figures_rule():
    frame = pd.DataFrame(
        {"investment_100m_cny": [np.nan, np.nan], "status": ["unknown"] * 2, "status_raw": ["", ""]}
    )
    assert metrics.known_figures(frame) == frozenset()
    assert metrics.known_figures(frame.iloc[:0]) == metrics.ALL_FIGURES  # nothing to sum
    frame.loc[1, "investment_100m_cny"] = 0.0
    frame.loc[0, "status_raw"] = "前期储备"  # not recognised, but the file has a status
    assert metrics.known_figures(frame) == metrics.ALL_FIGURES


def _analysis_without(tmp_path, parks_file, drop) -> Analysis:
    return pipeline.analyse(_inputs(tmp_path, parks_file, drop=drop))


def test_map_legend_says_unknown_instead_of_zero_classes(tmp_path, parks_file):
    analysis = _analysis_without(tmp_path, parks_file, ["investment_100m_cny", "status"])
    html = save_map(make_map(analysis), tmp_path / "map.html").read_text(encoding="utf-8")
    t = texts("zh")
    assert t["no_investment_data"] in html
    assert t["no_status_data"] in html
    assert "0.00 – 0.00" not in html
    assert t["summary_unknown_inv"].format(parks=3, projects="5") in html


@pytest.mark.browser
def test_browser_legend_and_popup_say_unknown(browser, tmp_path, parks_file):
    analysis = _analysis_without(tmp_path, parks_file, ["investment_100m_cny", "status"])
    path = save_map(make_map(analysis), tmp_path / "map.html")
    session = OfflinePage(with_test_hooks(browser), path)
    try:
        page = session.page
        t = texts("zh")
        parks = page.locator(".pm-legend [data-layer=parks] .pm-legend-row").all_inner_texts()
        # The two parks with projects are in the no-data colour; park E holds no project, so it
        # has the no-projects class of its own (unknown investment is not "no projects").
        assert [re.sub(r"\s+", " ", r).strip() for r in parks] == [
            f"{t['no_investment_data']} (2)",
            f"{t['legend_no_projects']} (1)",
        ]
        markers = page.locator(
            ".pm-legend [data-layer=projects] .pm-legend-label"
        ).all_inner_texts()
        assert t["no_status_data"] in markers
        colours = page.evaluate(
            "() => parkmap.state().layers.parks.getLayers().map(l => l.options.fillColor)"
        )
        from parkmap.style import NO_DATA_COLOR, NO_PROJECTS_COLOR

        assert colours == [NO_DATA_COLOR, NO_DATA_COLOR, NO_PROJECTS_COLOR]
        # A click inside park A, away from its markers.
        page.evaluate("parkmap.map.setView([36.59, 120.01], 13, {animate: false})")
        page.wait_for_timeout(100)
        point = page.evaluate("parkmap.map.latLngToContainerPoint([36.59, 120.01])")
        frame = page.locator(".folium-map").bounding_box()
        page.mouse.click(frame["x"] + point["x"], frame["y"] + point["y"])
        page.wait_for_selector(".leaflet-popup-content")
        text = page.locator(".leaflet-popup-content").inner_text()
        assert "园区A" in text
        assert (
            f"{t['investment']}\t{t['unknown']}" in text
            or f"{t['investment']} {t['unknown']}" in text
        )
        assert "0.00 亿元" not in text
        assert t["no_status_data"] in text
        session.assert_clean()
    finally:
        session.close()


def test_export_sheets_and_atlas_say_unknown(tmp_path, parks_file):
    pypdf = pytest.importorskip("pypdf")
    analysis = _analysis_without(tmp_path, parks_file, ["investment_100m_cny", "status"])
    out = tmp_path / "export"
    result = export_all(analysis, out, formats="pdf", dpi=60)
    # The workbook leaves unknown cells empty (not 0) for parks with projects.
    sheet = openpyxl.load_workbook(result.files["parks_xlsx"]).active
    rows = list(sheet.iter_rows(values_only=True))
    header = list(rows[0])
    inv_col = header.index(next(h for h in header if "投资额" in str(h)))
    body = {r[0]: r for r in rows[1:4]}
    assert body["A"][inv_col] is None and body["B"][inv_col] is None
    assert body["E"][inv_col] == 0
    t = texts("zh", "map", "sheet")
    atlas = [p.extract_text() for p in pypdf.PdfReader(result.files["atlas"]).pages]
    assert t["unknown"] in atlas[0]  # the cover's citywide total
    park_a = next(p for p in atlas if "园区A" in p and t["no_status_data"] in p)
    assert t["unknown"] in park_a
    (sheet_text,) = [p.extract_text() for p in pypdf.PdfReader(result.files["map_pdf"]).pages]
    assert t["no_investment_data"] in sheet_text
    assert t["no_status_data"] in sheet_text
    assert "0.00 – 0.00" not in sheet_text


@pytest.mark.slow
def test_dask_engine_leaves_unknown_investment_empty(tmp_path, parks_file):
    pytest.importorskip("distributed")
    folder = tmp_path / "parts"
    folder.mkdir()
    records = RECORDS.drop(columns=["investment_100m_cny"])
    for i, chunk in enumerate(np.array_split(np.arange(len(records)), 2)):
        records.iloc[chunk].to_parquet(folder / f"part.{i}.parquet", index=False)
    options = BuildOptions(
        inputs=InputOptions(projects=folder, parks=(parks_file,)),
        out=tmp_path / "dask",
        engine="dask",
    )
    result, _ = pipeline.build(options)
    pipeline.build(BuildOptions(inputs=options.inputs, out=tmp_path / "memory", engine="memory"))
    dask_csv = (tmp_path / "dask" / "parks.csv").read_bytes()
    assert dask_csv == (tmp_path / "memory" / "parks.csv").read_bytes()
    table = _parks_csv(tmp_path / "dask")
    assert table.loc["A", "investment_100m_cny"] == ""
    assert len([n for n in result.notes if "no investment" in n]) == 1


def test_unknown_figures_are_read_back_from_the_summary(parks_file):
    layer = gpd.read_file(parks_file)
    joined = pd.DataFrame(
        {
            "park_ids": ["A", "A", "B"],
            "investment_100m_cny": [np.nan] * 3,
            "status": ["unknown"] * 3,
            "status_raw": [""] * 3,
            "industry": [""] * 3,
        }
    )
    summary = metrics.park_summary(layer, joined)
    assert metrics.unknown_figures(summary) == metrics.ALL_FIGURES
    assert summary["projects"].tolist() == [2, 1, 0]
    assert summary["investment_100m_cny"].isna().tolist() == [True, True, False]
    assert summary["rank"].isna().all()
    known = metrics.park_summary(layer, joined.assign(investment_100m_cny=[1.0, np.nan, 0.0]))
    assert metrics.unknown_figures(known) == {STATUS}
    assert known["investment_100m_cny"].tolist() == [1.0, 0.0, 0.0]
    assert np.isnan(metrics.citywide_totals(joined)["investment_100m_cny"])


def test_printed_map_gives_parks_without_projects_their_own_class(tmp_path, parks_file):
    # Investment known: A and B hold projects, E holds none. On paper, as on the page, E is
    # "no projects" (its own light grey and legend row), not the lowest density class.
    from parkmap.export import static_map
    from parkmap.style import NO_PROJECTS_COLOR

    analysis = pipeline.analyse(_inputs(tmp_path, parks_file, drop=[]))
    data = static_map.prepare(
        analysis.parks, analysis.projects, None, scheme="quantiles", k=5, lang="zh"
    )
    colours = dict(zip(analysis.parks["park_id"], data.park_colors, strict=True))
    assert colours["E"] == NO_PROJECTS_COLOR
    assert NO_PROJECTS_COLOR not in (colours["A"], colours["B"])
    t = texts("zh", "map", "sheet")
    rows = [row for _, block in static_map._legend_blocks(data, "zh", t) for row in block]
    assert ("patch", NO_PROJECTS_COLOR, t["legend_no_projects"], 1) in rows
    # The density classes count only the two parks that hold projects.
    assert sum(data.classes.counts) == 2

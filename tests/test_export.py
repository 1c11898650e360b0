"""Static maps, atlas and tables of ``parkmap export`` on the bundled demo data."""

from __future__ import annotations

import dataclasses
import functools
import math
import re
import warnings
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pandas as pd
import pdfplumber
import pyogrio
import pypdf
import pytest
import shapely
from click.testing import CliRunner
from openpyxl import load_workbook
from PIL import Image
from pyproj import CRS, Geod, Proj, Transformer

from parkmap import fonts
from parkmap.cli import main
from parkmap.cluster import cluster_analysis
from parkmap.cluster.style import GI_BIN_COLORS
from parkmap.cluster.summary import moran_sentence, summary_markdown
from parkmap.errors import UsageError
from parkmap.export import MissingFontWarning, export_all, parse_formats
from parkmap.export.atlas import top_projects
from parkmap.export.cartography import (
    legend_sizes,
    marker_radius_pt,
    nice_floor,
    scale_bar,
    true_north_angle,
)
from parkmap.export.paper import pixel_size, raster_inches
from parkmap.pipeline import analyse

GK = CRS.from_epsg(4549)  # CGCS2000 Gauss–Krüger, central meridian 120° E
CJK = re.compile("[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")


@pytest.fixture(scope="module")
def analysis():
    return analyse()


@pytest.fixture(scope="module")
def exported(analysis, tmp_path_factory):
    out = tmp_path_factory.mktemp("export")
    result = export_all(analysis, out, dpi=100, caption="审图号：青S(2026)001号")
    return out, result


@functools.lru_cache(maxsize=16)
def _pdf_text(path: Path, mtime: float) -> tuple[str, ...]:
    with pdfplumber.open(path) as pdf:
        return tuple(page.extract_text() or "" for page in pdf.pages)


def pdf_text(path: Path) -> tuple[str, ...]:
    """Text of each page, extracted with pdfplumber (parsed once per file version)."""
    return _pdf_text(Path(path), Path(path).stat().st_mtime)


# --- paper and pixels -------------------------------------------------------------------------


def test_pixel_size_follows_paper_orientation_and_dpi():
    # 297 mm / 25.4 × 300 = 3507.87 → 3508; 210 mm → 2480.31 → 2480.
    assert pixel_size("a4", "landscape", 300) == (3508, 2480)
    assert pixel_size("a4", "portrait", 300) == (2480, 3508)
    # A3 portrait at 100 dpi: 297 mm → 1169.29, 420 mm → 1653.54.
    assert pixel_size("a3", "portrait", 100) == (1169, 1654)
    with pytest.raises(UsageError):
        pixel_size("letter", "landscape", 300)


@pytest.mark.parametrize("pixels,dpi", [(3508, 300), (2480, 300), (1169, 100), (1754, 150)])
def test_raster_inches_give_exact_pixels(pixels, dpi):
    assert int(raster_inches(pixels, dpi) * dpi) == pixels


def test_map_png_at_300_dpi_is_a4_landscape(analysis, tmp_path):
    result = export_all(analysis, tmp_path, formats="png", dpi=300, atlas=False, tables=False)
    with Image.open(tmp_path / "map.png") as im:
        assert im.size == (3508, 2480)
    assert result.pixels == (3508, 2480)
    assert set(result.files) == {"map_png"}


def test_map_png_size_and_not_blank(exported):
    out, _ = exported
    with Image.open(out / "map.png") as im:
        assert im.size == (1169, 827)  # 297 × 210 mm at 100 dpi
        pixels = np.asarray(im.convert("RGB"), dtype=int)
    not_white = (pixels < 240).any(axis=2).mean()
    assert not_white > 0.02
    assert len(np.unique(pixels.reshape(-1, 3), axis=0)) > 50
    signed = np.array([0x98, 0x4E, 0xA3])  # the signed-status marker colour
    assert (np.abs(pixels - signed).max(axis=2) <= 12).sum() > 100


def test_map_svg_parses_and_has_paper_size(exported, analysis):
    out, _ = exported
    text = (out / "map.svg").read_text(encoding="utf-8")
    root = ET.fromstring(text.encode("utf-8"))
    assert root.tag.endswith("svg")
    assert float(root.get("width").removesuffix("pt")) == pytest.approx(297 / 25.4 * 72, abs=0.01)
    assert float(root.get("height").removesuffix("pt")) == pytest.approx(210 / 25.4 * 72, abs=0.01)
    assert "<text" not in text  # glyphs are outlines: renders without the font
    for name in analysis.parks["name_zh"]:
        assert name in text  # matplotlib keeps each string as a comment beside its outlines


def test_map_pdf_has_extractable_chinese_park_names(exported, analysis):
    out, _ = exported
    (page,) = pdf_text(out / "map.pdf")
    other = "".join(p.extract_text() for p in pypdf.PdfReader(out / "map.pdf").pages)
    for name in analysis.parks["name_zh"]:
        assert name in page
        assert name in other
    assert "审图号：青S(2026)001号" in page
    assert "亿元/km²" in page
    box = pypdf.PdfReader(out / "map.pdf").pages[0].mediabox
    assert float(box.width) == pytest.approx(297 / 25.4 * 72, abs=0.01)
    assert float(box.height) == pytest.approx(210 / 25.4 * 72, abs=0.01)


def test_pdf_fonts_are_embedded_validly(exported):
    """A CFF (OTTO) font program must not sit in a TrueType FontFile2 stream."""
    out, result = exported
    reader = pypdf.PdfReader(out / "atlas.pdf")
    kinds = set()
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            kinds.add(str(font["/Subtype"]))
            for desc in font.get("/DescendantFonts", []):
                descriptor = desc.get_object()["/FontDescriptor"].get_object()
                if "/FontFile2" in descriptor:
                    assert descriptor["/FontFile2"].get_object().get_data()[:4] != b"OTTO"
    if result.font is not None and result.font.outlines == "cff":
        assert kinds == {"/Type3"}


# --- atlas ------------------------------------------------------------------------------------


def test_atlas_has_cover_overview_and_a_page_per_park(exported, analysis):
    out, _ = exported
    pages = pdf_text(out / "atlas.pdf")
    parks = analysis.parks
    assert len(pages) == 2 + len(parks)
    assert len(pypdf.PdfReader(out / "atlas.pdf").pages) == 2 + len(parks)
    assert "全市合计" in pages[0]
    for name in parks["name_zh"]:
        assert name in "".join(pages)
    for i, (_, park) in enumerate(parks.iterrows()):
        page = pages[2 + i]
        assert park["name_zh"] in page
        assert f"第 {int(park['rank'])} / {len(parks)} 名" in page


def test_atlas_cover_totals(exported, analysis):
    out, _ = exported
    cover = pdf_text(out / "atlas.pdf")[0]
    projects = analysis.projects
    assert f"已上图项目 {len(projects)}" in cover
    assert f"园区外项目 {int(projects['outside_parks'].sum())}" in cover


def test_top_projects_are_the_largest_by_investment(analysis):
    projects = analysis.projects
    park_id = analysis.parks["park_id"].iloc[1]
    top = top_projects(projects, park_id)
    inside = projects[projects["park_ids"].str.split(";").map(lambda ids: park_id in ids)]
    expected = inside["investment_100m_cny"].sort_values(ascending=False).head(10)
    assert len(top) == min(10, len(inside))
    assert top["investment_100m_cny"].tolist() == expected.tolist()


def test_park_page_lists_top_projects(exported, analysis):
    out, _ = exported
    pages = pdf_text(out / "atlas.pdf")
    i = int(np.argmax(analysis.parks["projects"].to_numpy()))
    park_id = analysis.parks["park_id"].iloc[i]
    largest = top_projects(analysis.projects, park_id).iloc[0]
    assert f"{largest['investment_100m_cny']:.0f}" in pages[2 + i]


# --- tables -----------------------------------------------------------------------------------


def test_geopackage_has_both_layers(exported, analysis):
    out, _ = exported
    layers = {name for name, _ in pyogrio.list_layers(out / "projects.gpkg")}
    assert layers == {"parks", "projects"}
    parks = pyogrio.read_dataframe(out / "projects.gpkg", layer="parks")
    projects = pyogrio.read_dataframe(out / "projects.gpkg", layer="projects")
    assert len(parks) == len(analysis.parks)
    assert len(projects) == len(analysis.projects)
    assert parks.crs.to_epsg() == 4326
    dates = projects["signed_date"].dropna()
    assert all(re.fullmatch(r"\d{4}-\d{2}-\d{2}", d) for d in dates)
    assert projects["warnings"].map(lambda v: v is None or isinstance(v, str)).all()
    assert sorted(parks["name_zh"]) == sorted(analysis.parks["name_zh"])


def test_workbook_totals_match_parks_csv(exported):
    out, _ = exported
    csv = pd.read_csv(out / "parks.csv")
    ws = load_workbook(out / "parks.xlsx").active
    rows = list(ws.iter_rows(values_only=True))
    header = list(rows[0])
    assert "面积（km²）" in header
    assert "投资额（亿元）" in header
    assert ws.freeze_panes == "A2"
    body = rows[1 : 1 + len(csv)]
    assert ws.max_row == 2 + len(csv)  # header, one row per park, totals last
    total = dict(zip(csv.columns, rows[-1], strict=False))
    assert total["name"] == "合计"
    for col in csv.columns:
        if col.startswith(("area_km2", "projects", "investment")):
            assert total[col] == pytest.approx(csv[col].sum(), abs=1e-6), col
            column = [r[list(csv.columns).index(col)] for r in body]
            assert column == pytest.approx(csv[col].tolist())
    density = csv["investment_100m_cny"].sum() / csv["area_km2"].sum()
    assert total["density_100m_cny_per_km2"] == pytest.approx(density, rel=1e-6)
    area_cell = ws.cell(row=2, column=list(csv.columns).index("area_km2") + 1)
    assert area_cell.number_format == "#,##0.00"
    assert ws.column_dimensions["B"].width >= 14


# --- cartography ------------------------------------------------------------------------------


@pytest.mark.parametrize("lon,lat,km", [(120.2, 36.7, 10), (121.4, 36.9, 5), (118.6, 36.0, 20)])
def test_scale_bar_is_true_on_the_ground(lon, lat, km):
    x0, y0 = Transformer.from_crs("EPSG:4326", GK, always_xy=True).transform(lon, lat)
    bar = scale_bar(GK, x0, y0, km)
    back = Transformer.from_crs(GK, "EPSG:4326", always_xy=True)
    (lon0, lon1), (lat0, lat1) = back.transform([x0, x0 + bar.length_map], [y0, y0])
    _, _, dist = Geod(ellps="WGS84").inv(lon0, lat0, lon1, lat1)
    assert dist == pytest.approx(km * 1000, rel=1e-7)


def test_scale_bar_on_the_central_meridian_matches_gk_scale_factor():
    # On the central meridian the GK scale factor is exactly 1: map metres are ground metres.
    x0, y0 = Transformer.from_crs("EPSG:4326", GK, always_xy=True).transform(120.0, 36.7)
    bar = scale_bar(GK, x0 - 5000, y0, 10)
    assert bar.length_map == pytest.approx(10000, rel=1e-5)


@pytest.mark.parametrize("lon,lat", [(120.6, 36.8), (119.5, 36.4), (120.0, 36.7)])
def test_north_arrow_points_to_true_north(lon, lat):
    x, y = Transformer.from_crs("EPSG:4326", GK, always_xy=True).transform(lon, lat)
    angle = true_north_angle(GK, x, y)
    convergence = Proj(GK).get_factors(lon, lat).meridian_convergence
    assert angle == pytest.approx(-convergence, abs=1e-3)
    # By hand: γ ≈ Δλ·sin φ, and true north lies anticlockwise of grid north east of the CM.
    assert angle == pytest.approx(-(lon - 120.0) * math.sin(math.radians(lat)), abs=2e-3)


def test_marker_sizes_use_the_web_maps_sqrt_scale():
    r = marker_radius_pt(np.array([100.0, 25.0, 0.0, np.nan]), 100.0)
    # (3 + 13·√(v/max)) px × 0.75 pt/px; unknown investment is a 4 px ring.
    assert r.tolist() == pytest.approx([12.0, (3 + 6.5) * 0.75, 2.25, 3.0])
    assert legend_sizes(150.0) == [100.0, 20.0, 5.0]
    assert nice_floor(0.37) == 0.2
    assert legend_sizes(None) == []


def test_parse_formats():
    assert parse_formats("png, PDF,png") == ["png", "pdf"]
    with pytest.raises(UsageError, match="png, svg, pdf"):
        parse_formats("png,tiff")
    with pytest.raises(UsageError):
        parse_formats(",")


# --- fonts ------------------------------------------------------------------------------------


def test_found_font_draws_every_park_name(analysis):
    from fontTools.ttLib import TTFont

    font = fonts.find_cjk_font()
    assert font is not None  # a system font, or the bundled Noto Sans CJK (a dependency)
    with TTFont(font.path, fontNumber=font.index, lazy=True) as tt:
        cmap = tt.getBestCmap()
        family = tt["name"].getDebugName(1)
        sfnt = tt.sfntVersion
    assert family == font.family
    for name in analysis.parks["name_zh"]:
        assert all(ord(ch) in cmap for ch in name)
    assert font.outlines == ("cff" if sfnt == "OTTO" else "truetype")
    assert font.pdf_fonttype == (42 if font.outlines == "truetype" else 3)


def test_without_any_cjk_font_chinese_labels_stop_with_one_clear_error(
    analysis, tmp_path, monkeypatch
):
    monkeypatch.setattr(fonts, "find_cjk_font", lambda: None)
    out = tmp_path / "out"
    with pytest.raises(fonts.MissingFontError) as info:
        export_all(analysis, out, formats="pdf", dpi=60, tables=False)
    message = str(info.value)
    assert "\n" not in message
    assert "pip install noto-cjk-sans-otc" in message
    assert "--font PATH" in message and "--lang en" in message
    assert not out.exists()  # nothing half-written


def test_english_without_cjk_font_warns_that_chinese_names_are_left_out(
    analysis, tmp_path, monkeypatch
):
    monkeypatch.setattr(fonts, "find_cjk_font", lambda: None)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = export_all(analysis, tmp_path, formats="pdf,png", dpi=60, tables=False, lang="en")
    messages = [str(w.message) for w in caught]
    assert any(
        issubclass(w.category, MissingFontWarning)
        and "pip install noto-cjk-sans-otc" in str(w.message)
        for w in caught
    )
    assert not [m for m in messages if "missing from font" in m.lower()]  # no tofu boxes
    assert result.lang == "en"
    assert result.font is None
    assert "left out" in result.warnings[0]
    assert "pip install noto-cjk-sans-otc" in result.warnings[0]
    for path in (tmp_path / "map.pdf", tmp_path / "atlas.pdf"):
        text = "".join(pdf_text(path))
        assert not CJK.search(text)
        for name in analysis.parks["name_en"]:
            assert name in text.replace("\n", " ") or name[:20] in text


# --- CLI --------------------------------------------------------------------------------------


def test_cli_export(tmp_path):
    out = tmp_path / "report"
    result = CliRunner().invoke(
        main,
        [
            "export",
            "--out",
            str(out),
            "--format",
            "png,pdf",
            "--paper",
            "a3",
            "--orientation",
            "portrait",
            "--dpi",
            "50",
            "--title",
            "平度—莱西园区攻势简报",
            "--caption",
            "数据来源：示例",
        ],
    )
    assert result.exit_code == 0, result.output
    names = {p.name for p in out.iterdir()}
    assert names == {
        "map.png",
        "map.pdf",
        "atlas.pdf",
        "parks.csv",
        "parks.xlsx",
        "projects.gpkg",
    }
    with Image.open(out / "map.png") as im:
        # A3 portrait: 297 mm × 420 mm at 50 dpi = 584.6 × 826.8 px.
        assert im.size == (585, 827)
    text = pdf_text(out / "map.pdf")[0]
    assert "平度—莱西园区攻势简报" in text
    assert "数据来源：示例" in text
    assert f"wrote {out / 'atlas.pdf'}" in result.output


def test_cli_export_rejects_unknown_format(tmp_path):
    result = CliRunner().invoke(main, ["export", "--out", str(tmp_path), "--format", "gif"])
    assert result.exit_code == 2
    assert "Error: unknown format 'gif'" in result.output


def test_atlas_page_for_a_park_without_projects(analysis, tmp_path):
    empty = analysis.parks["park_id"].iloc[0]
    keep = ~analysis.projects["park_ids"].str.split(";").map(lambda ids: empty in ids)
    thinner = dataclasses.replace(analysis, projects=analysis.projects[keep.to_numpy(dtype=bool)])
    export_all(thinner, tmp_path, formats="pdf", dpi=50, tables=False)
    pages = pdf_text(tmp_path / "atlas.pdf")
    assert len(pages) == 2 + len(analysis.parks)
    assert "园区内无项目" in pages[2]


def test_export_rejects_unknown_language(analysis, tmp_path):
    with pytest.raises(UsageError, match="zh, en"):
        export_all(analysis, tmp_path, lang="fr")


# --- hot spots and clusters in the atlas ------------------------------------------------------

HOT_TITLE = "投资热点与项目集群"


@pytest.fixture(scope="module")
def clusters(analysis):
    return cluster_analysis(analysis.projects, analysis.parks, permutations=99, simulations=19)


@pytest.fixture(scope="module")
def clustered_atlas(analysis, clusters, tmp_path_factory):
    out = tmp_path_factory.mktemp("atlas-clusters")
    result = export_all(analysis, out, formats=None, tables=False, clusters=clusters)
    return out / "atlas.pdf", result


def test_atlas_with_clusters_has_the_hot_spot_page_after_the_overview(clustered_atlas, analysis):
    path, result = clustered_atlas
    assert set(result.files) == {"atlas"}  # formats=None, tables off: the atlas only
    assert sorted(p.name for p in path.parent.iterdir()) == ["atlas.pdf"]
    pages = pdf_text(path)
    parks = analysis.parks
    assert len(pages) == 3 + len(parks)
    assert len(pypdf.PdfReader(path).pages) == 3 + len(parks)
    assert HOT_TITLE in pages[2]
    assert not any(HOT_TITLE in page for i, page in enumerate(pages) if i != 2)
    assert f"第 3 / {3 + len(parks)} 页" in pages[2]
    for i, (_, park) in enumerate(parks.iterrows()):  # park pages move one on
        assert park["name_zh"] in pages[3 + i]
        assert f"第 {int(park['rank'])} / {len(parks)} 名" in pages[3 + i]


def test_hot_spot_page_states_morans_i_as_the_summary_does(clustered_atlas, clusters):
    import esda
    from libpysal.weights import Queen

    path, _ = clustered_atlas
    page = pdf_text(path)[2]
    # Moran's I recomputed with PySAL from the cells, seeded as parkmap seeds it.
    cells = clusters.hexes.cells
    w = Queen.from_dataframe(cells, use_index=False, silence_warnings=True)
    w.transform = "R"
    np.random.seed(0)
    mi = esda.Moran(cells["investment_100m_cny"].to_numpy(float), w, permutations=99)
    assert f"Moran's I = {mi.I:.2f}" in page
    assert f"p = {mi.p_sim:.3g}" in page
    sentence = moran_sentence(clusters, lang="zh")
    assert f"- {sentence}" in summary_markdown(clusters, lang="zh").splitlines()
    assert sentence.replace(" ", "") in page.replace(" ", "").replace("\n", "")


def test_hot_spot_page_table_lists_the_largest_clusters(clustered_atlas, clusters):
    path, _ = clustered_atlas
    page = pdf_text(path)[2]
    table = clusters.clusters.clusters
    top = table.loc[table["investment_100m_cny"].idxmax()]
    assert "主要项目集群" in page
    assert str(top["dominant_industry"]) in page
    assert f"{top['hull_area_km2']:.2f}" in page
    n = len(table)
    assert f"共 {n} 个集群" in page
    bins = clusters.hexes.cells["gi_bin"]
    assert f"不显著 ({int((bins == 0).sum())})" in page


def test_gi_bin_colours_are_the_documented_ones():
    assert GI_BIN_COLORS == {
        3: "#b2182b",
        2: "#d6604d",
        1: "#f4a582",
        0: "#e0e0e0",
        -1: "#92c5de",
        -2: "#4393c3",
        -3: "#2166ac",
    }


def _rgb(hex_color: str) -> np.ndarray:
    return np.array([int(hex_color[i : i + 2], 16) for i in (1, 3, 5)])


def test_hot_spot_cells_are_filled_with_their_bin_colour(clustered_atlas, analysis, clusters):
    """Render page 3 (pdfium, through pdfplumber) and sample cell centroids."""
    import matplotlib
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from parkmap.export.hotspots import hotspot_layers, hotspot_page, label_anchor
    from parkmap.export.static_map import Sheet, prepare
    from parkmap.fonts import font_setup

    path, _ = clustered_atlas
    dpi = 100
    with pdfplumber.open(path) as pdf:
        image = pdf.pages[2].to_image(resolution=dpi).original.convert("RGB")
    pixels = np.asarray(image, dtype=int)
    height, width = pixels.shape[:2]
    # The same page built again gives the map's data-to-sheet transform.
    setup = font_setup("zh")
    with matplotlib.rc_context(setup.rc()):
        data = prepare(
            analysis.parks, analysis.projects, analysis.context, scheme="quantiles", k=5, lang="zh"
        )
        fig = hotspot_page(data, clusters, setup, sheet=Sheet(), caption=None)
        FigureCanvasAgg(fig).draw()
    ax = fig.axes[0]
    fig_w, fig_h = fig.get_size_inches() * fig.dpi
    layers = hotspot_layers(clusters, data)
    cells, hulls = layers.cells, layers.hulls
    # Leave out cells under a hull or park outline or a cluster number.
    edges = shapely.union(hulls.boundary.union_all(), data.parks.boundary.union_all())
    numbers = shapely.multipoints([label_anchor(g) for g in hulls.geometry])
    centroids = cells.centroid
    clear = (
        centroids.within(data.parks.union_all())  # park names sit below the parks
        & (centroids.distance(edges) > 400)
        & (centroids.distance(numbers) > 2500)
    )
    checked = {}
    # The demo's hot spots are a few cells round its smallest parks (a 1 km cell is some six
    # pixels here, a pixel about 150 m): those clear of outlines by 200 m and of a cluster
    # number by 1.2 km, in the strongest hot bin that has one; and five clear cells of bin 0.
    clear_hot = (centroids.distance(edges) > 200) & (centroids.distance(numbers) > 1200)
    hot = [v for v in (3, 2, 1) if ((cells["gi_bin"] == v) & clear_hot).any()]
    assert hot, "no hot-spot cell clear of outlines and labels"
    for value in (hot[0], 0):
        where = clear_hot if value else clear
        chosen = cells[(cells["gi_bin"] == value).to_numpy() & where.to_numpy()].head(5)
        assert len(chosen), value
        for point in centroids[chosen.index]:
            fx, fy = ax.transData.transform((point.x, point.y))
            col = round(fx / fig_w * width)
            row = round((1 - fy / fig_h) * height)
            window = pixels[row - 1 : row + 2, col - 1 : col + 2].reshape(-1, 3)
            close = np.abs(window - _rgb(GI_BIN_COLORS[value])).max(axis=1) <= 6
            assert close.mean() >= 0.75, (value, point, window)
        checked[value] = len(chosen)
    assert checked[hot[0]] >= 1 and checked[0] == 5


def test_cli_export_with_clusters(tmp_path, analysis):
    out = tmp_path / "report"
    result = CliRunner().invoke(
        main,
        [
            "export",
            "--out",
            str(out),
            "--format",
            "png",
            "--dpi",
            "60",
            "--clusters",
            "--seed",
            "2",
        ],
    )
    assert result.exit_code == 0, result.output
    assert {p.name for p in out.iterdir()} == {
        "map.png",
        "atlas.pdf",
        "parks.csv",
        "parks.xlsx",
        "projects.gpkg",
    }
    pages = pdf_text(out / "atlas.pdf")
    assert len(pages) == 3 + len(analysis.parks)
    assert HOT_TITLE in pages[2]
    assert "置换 999 次，随机种子 2" in pages[2]  # the cluster analysis' defaults, with --seed

"""The page fits a laptop screen and reads in one language; data that is not the demo gets its
own title and context (issue 14).

Expected values come from the fixtures (park count, file stem, the user's context names, the
viewport) or from hand-worked geometry, never from a first run of the page.
"""

from __future__ import annotations

import json
import math
import re

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from click.testing import CliRunner
from conftest import join_like, make_many_projects, make_parks, make_projects, metrics_like
from pages import OfflinePage, with_test_hooks
from pyproj import CRS

from parkmap import pipeline
from parkmap.cli import main
from parkmap.i18n import crs_words
from parkmap.settings import ClusterOptions, ClusterParameters, InputOptions
from parkmap.webmap import build_map, save_map
from parkmap.webmap.cluster_layers import hotspot_features
from parkmap.webmap.payloads import inline_blocks

#: Three Shanghai parks (lon_min, lat_min, lon_max, lat_max) around 121.5 E, 31.2 N.
SHANGHAI_PARKS = (
    ("zj", "张江科学城", 121.56, 31.18, 121.62, 31.22),
    ("jq", "金桥开发区", 121.58, 31.24, 121.63, 31.28),
    ("cj", "漕河泾开发区", 121.39, 31.15, 121.43, 31.18),
)
SHANGHAI_STEM = "shanghai_zones"
USER_DISTRICT = "浦东新区（示例）"
USER_LANDMARK = "陆家嘴（示例）"


def _shanghai(folder):
    """Park layer, project records (10 projects a park, one with a row warning's cause) and a
    context layer of the user's own, written into ``folder``."""
    parks = gpd.GeoDataFrame(
        {"park_id": [p[0] for p in SHANGHAI_PARKS], "name": [p[1] for p in SHANGHAI_PARKS]},
        geometry=[shapely.box(*p[2:]) for p in SHANGHAI_PARKS],
        crs="EPSG:4326",
    )
    park_path = folder / f"{SHANGHAI_STEM}.geojson"
    parks.to_file(park_path)
    rng = np.random.default_rng(5)
    rows = []
    statuses = ["签约", "在建", "投产"]
    for k, (_pid, name, x0, y0, x1, y1) in enumerate(SHANGHAI_PARKS):
        for j in range(10):
            rows.append(
                {
                    "project_id": f"SH-{k}-{j}",
                    "name": f"{name}项目{j}",
                    "park": name,
                    "industry": ["集成电路", "生物医药"][j % 2],
                    "status": statuses[j % 3],
                    "investment_100m_cny": round(float(rng.uniform(1, 20)), 2),
                    "signed_date": f"202{j % 4}-0{1 + j % 9}-15",
                    "lon": round(float(rng.uniform(x0 + 0.005, x1 - 0.005)), 6),
                    "lat": round(float(rng.uniform(y0 + 0.005, y1 - 0.005)), 6),
                }
            )
    rows[0]["park"] = "不存在的园区"  # a row warning (declared park not in the layer)
    records = folder / "上海台账.csv"
    pd.DataFrame(rows).to_csv(records, index=False, encoding="utf-8")
    context = gpd.GeoDataFrame(
        {"名称": [USER_DISTRICT, USER_LANDMARK]},
        geometry=[shapely.box(121.45, 31.10, 121.70, 31.32), shapely.Point(121.50, 31.24)],
        crs="EPSG:4326",
    )
    context_path = folder / "my_context.geojson"
    context.to_file(context_path)
    return records, park_path, context_path, pd.DataFrame(rows)


@pytest.fixture(scope="module")
def shanghai(tmp_path_factory):
    return _shanghai(tmp_path_factory.mktemp("shanghai"))


def _payload(html: str, function: str) -> dict | None:
    match = re.search(rf"parkmap\.{function}\(\s*map_\w+,\s*(.+?)\);\n", html)
    return inline_blocks(json.loads(match.group(1)), html) if match else None


def _build(*args: str, out) -> str:
    result = CliRunner().invoke(main, ["build", *args, "--out", str(out)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return (out / "map.html").read_text(encoding="utf-8")


# ---------------------------------------------------------------- the demo's look is the demo's


def test_other_data_gets_its_own_title_and_no_qingdao_context(shanghai, tmp_path):
    records, parks, _, _ = shanghai
    html = _build(str(records), "--parks", str(parks), out=tmp_path / "out")
    title = _payload(html, "addTitle")["title"]
    assert title == f"{SHANGHAI_STEM}：{len(SHANGHAI_PARKS)} 个园区投资项目"
    assert f"<title>{title}</title>" in html
    assert "青岛" not in title
    assert _payload(html, "contextLayer") is None
    for qingdao in ("平度市", "莱西市", "胶东国际机场", "人民政府驻地"):
        assert qingdao not in html


def test_english_title_counts_the_parks_of_a_generic_layer(shanghai, tmp_path):
    records, parks, _, _ = shanghai
    generic = tmp_path / "parks.geojson"
    generic.write_bytes(parks.read_bytes())
    html = _build(str(records), "--parks", str(generic), "--lang", "en", out=tmp_path / "o")
    assert _payload(html, "addTitle")["title"] == "Investment projects in 3 parks"


def test_title_option_wins(shanghai, tmp_path):
    records, parks, _, _ = shanghai
    html = _build(str(records), "--parks", str(parks), "--title", "浦东项目", out=tmp_path / "o")
    assert _payload(html, "addTitle")["title"] == "浦东项目"


def test_user_context_is_drawn(shanghai, tmp_path):
    records, parks, context, _ = shanghai
    html = _build(str(records), "--parks", str(parks), "--context", str(context), out=tmp_path)
    payload = _payload(html, "contextLayer")
    assert [f["properties"]["label"] for f in payload["districts"]["features"]] == [USER_DISTRICT]
    assert [(p["label"], p["lat"], p["lon"]) for p in payload["points"]] == [
        (USER_LANDMARK, 31.24, 121.50)
    ]
    assert "平度市" not in html


def test_demo_keeps_its_title_and_context(tmp_path):
    html = _build(out=tmp_path)
    assert _payload(html, "addTitle")["title"] == "青岛重点产业园区投资项目"
    payload = _payload(html, "contextLayer")
    labels = [f["properties"]["label"] for f in payload["districts"]["features"]]
    assert labels == ["平度市", "莱西市"]
    assert "青岛胶东国际机场" in [p["label"] for p in payload["points"]]


def test_bundled_context_only_where_it_meets_the_data():
    """Parks around Shanghai: none of the bundled Qingdao features lies within 15 km."""
    parks = gpd.GeoDataFrame(geometry=[shapely.box(121.4, 31.1, 121.6, 31.3)], crs="EPSG:4326")
    assert pipeline._context_near(parks) is None
    # a park at the Pingdu seat (119.9538 E, 36.7886 N) brings Pingdu and its seat only
    near = gpd.GeoDataFrame(geometry=[shapely.box(119.94, 36.78, 119.96, 36.80)], crs="EPSG:4326")
    names = sorted(pipeline._context_near(near)["name_zh"])
    assert names == ["平度市", "平度市人民政府驻地"]


def test_context_extent_from_the_projects_lon_lat_columns():
    """Projects' extent comes from their lon/lat columns: the same features as from their
    points, and a project far off widens it (Shanghai parks, one project at Pingdu's seat)."""
    parks = gpd.GeoDataFrame(geometry=[shapely.box(121.4, 31.1, 121.6, 31.3)], crs="EPSG:4326")
    lon, lat = [121.5, 119.95], [31.2, 36.79]
    projects = gpd.GeoDataFrame(
        {"lon": lon, "lat": lat}, geometry=gpd.points_from_xy(lon, lat), crs="EPSG:4326"
    )
    from_columns = pipeline._context_near(parks, projects)
    from_points = pipeline._context_near(parks, projects.drop(columns=["lon", "lat"]))
    assert from_columns is not None and from_points is not None
    assert sorted(from_columns["name_zh"]) == sorted(from_points["name_zh"])
    assert "平度市" in set(from_columns["name_zh"])


@pytest.mark.parametrize(
    "definition",
    [
        "+proj=tmerc +lat_0=0 +lon_0=121.5 +k=1 +x_0=500000 +y_0=0 +ellps=GRS80 +units=m",
        "+proj=aea +lat_0=0 +lon_0=105 +lat_1=25 +lat_2=47 +ellps=WGS84 +units=m",
        "EPSG:4549",
    ],
)
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_projection_line_always_names_the_crs(definition, lang):
    words = crs_words(CRS.from_user_input(definition), lang)
    assert words and "unknown" not in words.lower()


def test_export_title_comes_from_the_data(shanghai, tmp_path, monkeypatch):
    records, parks, _, _ = shanghai
    seen = {}

    def fake_export_all(analysis, out, **kwargs):
        seen.update(kwargs)
        from parkmap.export import ExportResult

        return ExportResult(font=None, lang=kwargs["lang"])

    monkeypatch.setattr("parkmap.export.export_all", fake_export_all)
    from parkmap.settings import ExportOptions

    inputs = InputOptions(projects=records, parks=(parks,))
    pipeline.export(ExportOptions(inputs=inputs, out=tmp_path, lang="en"))
    assert seen["title"] == f"{SHANGHAI_STEM}: investment projects in 3 parks"


# ---------------------------------------------------------------- untested hot spots


@pytest.fixture(scope="module")
def untested(shanghai, tmp_path_factory):
    """``parkmap cluster`` on 4 projects within 300 m: fewer than 5 cells with investment, so
    Gi* is not run."""
    _, parks, _, rows = shanghai
    out = tmp_path_factory.mktemp("cluster")
    few = rows.iloc[1:5].copy()
    few["lon"] = 121.590 + np.array([0.0, 0.001, 0.002, 0.003])
    few["lat"] = 31.200
    records = out.parent / "few.csv"
    few.to_csv(records, index=False, encoding="utf-8")
    options = ClusterOptions(
        inputs=InputOptions(projects=records, parks=(parks,)),
        out=out,
        params=ClusterParameters(permutations=99, simulations=9),
        plots=False,
    )
    outcome = pipeline.cluster(options)
    return outcome, (out / "map.html").read_text(encoding="utf-8"), out / "map.html"


def test_untested_hot_spots_have_one_legend_row_and_no_z_or_p(untested):
    from parkmap.cluster.summary import hot_spots_untested

    outcome, html, _ = untested
    gi = outcome.clusters.hexes.stats["gi"]
    assert gi["result"] in {"too_few_cells", "too_few_nonzero_cells"}
    cells = outcome.clusters.hexes.cells
    sections = _payload(html, "addLegendSections")["sections"]
    hot = next(s for s in sections if s["key"] == "hotspots")
    assert [(e["label"], e["count"]) for e in hot["entries"]] == [("未检验", len(cells))]
    assert hot["note"] == hot_spots_untested(outcome.clusters, lang="zh")
    layer = _payload(html, "hotspotsLayer")
    assert layer["untested"] == "未检验"
    props = [f["properties"] for f in hotspot_features(layer)]
    assert len(props) == len(cells)
    assert all(p["z"] is None and p["p"] is None and p["b"] == 0 for p in props)


@pytest.mark.browser
def test_untested_hot_spot_popup_leaves_out_z_and_p(browser, untested):
    outcome, _, path = untested
    page = OfflinePage(with_test_hooks(browser), path, viewport=(1366, 768))
    try:
        p = page.page
        p.evaluate("parkmap.map.addLayer(parkmap.state().layers.hotspots)")
        html = p.evaluate(
            """() => { const l = parkmap.state().layers.hotspots.getLayers()[0];
                       l.fire('click', {latlng: l.getBounds().getCenter()}, true);
                       return document.querySelector('.leaflet-popup-content').innerText; }"""
        )
        assert "未检验" in html
        assert "z" not in html and "p 值" not in html
        from parkmap.cluster.summary import hot_spots_untested

        note = p.locator('.pm-legend-section[data-layer="hotspots"] .pm-legend-note')
        assert note.inner_text() == hot_spots_untested(outcome.clusters, lang="zh")
        page.assert_clean()
    finally:
        page.close()


# ---------------------------------------------------------------- pages in the browser


@pytest.fixture(scope="module")
def demo_page_path(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    _build(out=out)
    return out / "map.html"


@pytest.fixture(scope="module")
def many_industries_path(tmp_path_factory):
    """A page with eleven industries, undated and unknown-investment projects: the longest
    filter panel."""
    parks = make_parks()
    projects = make_many_projects(3000, seed=5)
    path = tmp_path_factory.mktemp("many") / "map.html"
    save_map(build_map(metrics_like(parks, join_like(make_projects(), parks)), projects), path)
    return path


@pytest.mark.browser
@pytest.mark.parametrize("viewport", [(1366, 768), (1440, 900)])
@pytest.mark.parametrize("which", ["demo", "many"])
def test_count_line_is_on_screen(browser, demo_page_path, many_industries_path, viewport, which):
    path = demo_page_path if which == "demo" else many_industries_path
    page = OfflinePage(browser, path, viewport=viewport)
    try:
        line = page.page.locator(".pm-shown")
        box = line.bounding_box()
        assert box is not None and box["height"] > 0
        assert line.inner_text().strip()
        assert box["x"] >= 0 and box["x"] + box["width"] <= viewport[0]
        assert box["y"] >= 0 and box["y"] + box["height"] <= viewport[1]
        # nothing of the panel hides under the bottom-left note
        note = page.page.locator(".pm-note")
        if note.count():
            assert box["y"] + box["height"] <= note.bounding_box()["y"]
        # the panel folds away and opens again
        page.page.locator(".pm-filters summary").click()
        assert not line.is_visible()
        page.page.locator(".pm-filters summary").click()
        assert line.is_visible()
        page.assert_clean()
    finally:
        page.close()


def _visible_width_m(page) -> float:
    """The map's visible width in metres along its centre latitude (haversine, R = 6,371 km)."""
    west, east, lat = page.evaluate(
        """() => { const b = parkmap.map.getBounds();
                   return [b.getWest(), b.getEast(), parkmap.map.getCenter().lat]; }"""
    )
    phi = math.radians(lat)
    half = math.radians(east - west) / 2
    a = math.cos(phi) ** 2 * math.sin(half) ** 2
    return 2 * 6_371_000 * math.asin(math.sqrt(a))


@pytest.mark.browser
@pytest.mark.parametrize("viewport", [(1366, 768), (1440, 900), (1920, 1080)])
def test_search_zooms_to_about_two_km_around_a_project(browser, demo_page_path, viewport):
    projects = pd.read_csv(pipeline.read.bundled_path("projects.csv"))
    target = projects.iloc[7]
    page = OfflinePage(browser, demo_page_path, viewport=viewport)
    try:
        p = page.page
        p.locator(".pm-search").fill(target["name"])
        p.locator(".pm-result:not(.pm-result-park)").first.click()
        assert p.locator(".leaflet-popup-content h3").inner_text() == target["name"]
        width = _visible_width_m(p)
        assert 1000 <= width <= 5000
        lat, lon = p.evaluate(
            "(() => { const c = parkmap.map.getCenter(); return [c.lat, c.lng]; })()"
        )
        assert (lat, lon) == pytest.approx((target["lat"], target["lon"]), abs=0.01)
        page.assert_clean()
    finally:
        page.close()


@pytest.mark.browser
def test_search_fits_a_park(browser, demo_page_path):
    parks = gpd.read_file(pipeline.read.bundled_path("parks.geojson"))
    park = parks.iloc[1]
    west, south, east, north = park.geometry.bounds
    page = OfflinePage(browser, demo_page_path, viewport=(1366, 768))
    try:
        p = page.page
        p.locator(".pm-search").fill(park["name_zh"])
        result = p.locator(".pm-result-park")
        assert result.first.inner_text() == park["name_zh"]
        result.first.click()
        b = p.evaluate(
            """() => { const b = parkmap.map.getBounds();
                       return [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()]; }"""
        )
        # the whole park is in view, and it fills a good part of it (not a county-wide view)
        assert b[0] <= west and b[1] <= south and b[2] >= east and b[3] >= north
        assert (east - west) / (b[2] - b[0]) > 0.2 or (north - south) / (b[3] - b[1]) > 0.2
        assert p.locator(".leaflet-popup-content h3").inner_text() == park["name_zh"]
        page.assert_clean()
    finally:
        page.close()


# ---------------------------------------------------------------- one language per page

#: Words a Chinese page may show in Latin letters: units, statistics, the map library.
ALLOWED = {"km", "Gi", "LISA", "HH", "HL", "LH", "LL", "Moran", "Leaflet", "KDE", "EPSG"}

CHROME_TEXT = """() => {
  const out = [];
  const add = (t) => { if (t && t.trim()) out.push(t.trim()); };
  const q = (sel) => Array.from(document.querySelectorAll(sel));
  q('.leaflet-control-layers label, .pm-title p, .pm-filters summary, .pm-fieldset legend, '
    + '.pm-shown, .pm-legend h4, .pm-legend-note, .pm-legend-label, .leaflet-popup-content th, '
    + '.leaflet-popup-content h4, .pm-warn').forEach((n) => add(n.innerText));
  q('[title], [aria-label], [placeholder]').forEach((n) => {
    add(n.getAttribute('title')); add(n.getAttribute('aria-label'));
    add(n.getAttribute('placeholder'));
  });
  q('.pm-warn-text').forEach((n) => out.push('DATA:' + n.innerText));
  return out;
}"""


def _open_popups(page, warned_name: str) -> list[str]:
    """Open the park popup of the first park, then the popup of the project with a warning;
    the texts of the page (CHROME_TEXT) while the park popup was open."""
    p = page.page
    p.evaluate(
        """() => { const l = parkmap.state().layers.parks.getLayers()[0];
                   l.fire('click', {latlng: l.getBounds().getCenter()}, true); }"""
    )
    assert p.locator(".leaflet-popup-content th").count() > 0
    with_park = p.evaluate(CHROME_TEXT)
    p.locator(".pm-search").fill(warned_name)
    p.locator(".pm-result:not(.pm-result-park)").first.click()
    p.wait_for_function("document.querySelectorAll('.leaflet-popup').length === 1")
    return with_park


@pytest.mark.browser
def test_chinese_page_has_no_english_chrome(browser, shanghai, tmp_path):
    records, parks, _, rows = shanghai
    _build(str(records), "--parks", str(parks), out=tmp_path)
    page = OfflinePage(with_test_hooks(browser), tmp_path / "map.html", viewport=(1366, 768))
    try:
        p = page.page
        p.locator(".leaflet-control-layers").hover()
        texts = _open_popups(page, rows.iloc[0]["name"]) + p.evaluate(CHROME_TEXT)
        data = [t for t in texts if t.startswith("DATA:")]
        assert data, "the warned project's popup shows its warning"
        # the warning's label is Chinese; its text (validation's words) is quoted as data
        warn = p.locator(".pm-warn").inner_text()
        assert warn.startswith("数据提示：")
        english = set()
        for text in texts:
            if text.startswith("DATA:") or text == warn:
                continue
            english |= {w for w in re.findall(r"[A-Za-z]{2,}", text) if w not in ALLOWED}
        assert english == set(), english
        # the layer control's toggle title is Chinese too (checked above), and says 图层
        assert p.locator(".leaflet-control-layers-toggle").get_attribute("title") == "图层"
        page.assert_clean()
    finally:
        page.close()


@pytest.mark.browser
def test_english_page_has_no_full_width_punctuation_in_labels(browser, shanghai, tmp_path):
    records, parks, _, rows = shanghai
    _build(str(records), "--parks", str(parks), "--lang", "en", out=tmp_path)
    page = OfflinePage(with_test_hooks(browser), tmp_path / "map.html", viewport=(1366, 768))
    try:
        p = page.page
        texts = _open_popups(page, rows.iloc[0]["name"]) + p.evaluate(CHROME_TEXT)
        assert p.locator(".pm-warn").inner_text().startswith("Warnings: ")
        full_width = {t for t in texts if re.search("[：（），；]", t)}
        # park and project names are the data's own (Chinese here): only labels are checked
        names = set(rows["name"]) | {p[1] for p in SHANGHAI_PARKS}
        full_width = {t for t in full_width if not any(n in t for n in names)}
        assert full_width == set()
        # nor Chinese words, apart from the data's names (parks, projects, industries) and
        # the warnings quoted from validation
        names |= set(rows["industry"]) | set(rows["park"])
        chinese = {
            t
            for t in texts
            if re.search(r"[\u4e00-\u9fff]", t)
            and not t.startswith(("DATA:", "Warnings: "))
            and t not in names
        }
        assert chinese == set()
        page.assert_clean()
    finally:
        page.close()


def test_printed_legend_names_the_users_context_as_theirs(shanghai, tmp_path):
    # The bundled layer is "district outlines (schematic)"; the user's layer is not ours to
    # call schematic district outlines.
    from parkmap.export import static_map
    from parkmap.i18n import texts
    from parkmap.settings import InputOptions

    records, parks, context, _ = shanghai
    analysis = pipeline.analyse(InputOptions(projects=records, parks=(parks,), context=context))
    data = static_map.prepare(
        analysis.parks, analysis.projects, analysis.context, scheme="quantiles", k=5, lang="zh"
    )
    t = texts("zh", "map", "sheet")
    labels = [row[2] for _, block in static_map._legend_blocks(data, "zh", t) for row in block]
    assert t["context_user"] in labels
    assert t["context"] not in labels
    demo = pipeline.analyse()
    data = static_map.prepare(
        demo.parks, demo.projects, demo.context, scheme="quantiles", k=5, lang="zh"
    )
    labels = [row[2] for _, block in static_map._legend_blocks(data, "zh", t) for row in block]
    assert t["context"] in labels

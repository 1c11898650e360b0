"""The cluster analysis on the interactive map: hot-spot cells and cluster hulls.

The analysis is the bundled demo (``pipeline.analyse()``) with a small, seeded
``cluster_analysis``; what the page carries is decoded from the rendered HTML and compared with
that result. Colours and labels are the ones the issue asks for, written out here by hand.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace

import pytest
import shapely
from pages import OfflinePage, with_test_hooks
from shapely.geometry import shape

from parkmap import pipeline
from parkmap.cluster import cluster_analysis
from parkmap.coords import wgs84_to_gcj02
from parkmap.errors import UsageError
from parkmap.settings import MapOptions
from parkmap.webmap import OfflineMap, build_map, compose, save_map
from parkmap.webmap.cluster_layers import (
    add_cluster_layers,
    cluster_map,
    hotspot_features,
    hotspots_payload,
)
from parkmap.webmap.payloads import inline_blocks

XSS_INDUSTRY = "<img src=x onerror=window.__xss=1>"
XSS_PARK = "<script>window.__xss=2</script>"
TEMPLATE_INDUSTRY = "{{ 7*7 }} {% endif %}"

#: The documented hot-spot colours (ColorBrewer RdBu steps, as in the atlas), by Gi* bin.
EXPECTED_COLORS = {
    3: "#b2182b",
    2: "#d6604d",
    1: "#f4a582",
    0: "#e0e0e0",
    -1: "#92c5de",
    -2: "#4393c3",
    -3: "#2166ac",
}
BIN_LABELS_ZH = {
    3: "热点，置信度 99%",
    2: "热点，置信度 95%",
    1: "热点，置信度 90%",
    0: "不显著",
    -1: "冷点，置信度 90%",
    -2: "冷点，置信度 95%",
    -3: "冷点，置信度 99%",
}
LISA_ZH = {"HH": "高-高 (HH)", "HL": "高-低 (HL)", "LH": "低-高 (LH)", "LL": "低-低 (LL)"}


@pytest.fixture(scope="module")
def demo():
    analysis = pipeline.analyse()
    result = cluster_analysis(
        analysis.projects, analysis.parks, permutations=99, simulations=9, seed=3
    )
    return analysis, result


@pytest.fixture(scope="module")
def demo_map(demo):
    analysis, result = demo
    return cluster_map(analysis, result)


def _call_payload(html: str, function: str) -> dict:
    """The JSON payload of ``parkmap.<function>(map_…, {...})`` in the page script."""
    match = re.search(rf"parkmap\.{function}\(\s*map_\w+,\s*(.+?)\);\n", html)
    assert match, f"no parkmap.{function} call"
    return inline_blocks(json.loads(match.group(1)), html)


def _with_hostile_strings(result):
    """The result with an XSS industry, a template industry and an XSS park name."""
    clusters = result.clusters.clusters.copy()
    clusters.loc[clusters.index[0], "dominant_industry"] = XSS_INDUSTRY
    clusters.loc[clusters.index[1], "dominant_industry"] = TEMPLATE_INDUSTRY
    touched = clusters.loc[clusters.index[0], "parks"].split(";")[0]
    parks = [dict(p, name=XSS_PARK) if p["park_id"] == touched else p for p in result.parks]
    return replace(result, clusters=replace(result.clusters, clusters=clusters), parks=parks)


# ---------------------------------------------------------------- HTML string tests


@pytest.mark.parametrize(
    ("lang", "names"),
    [
        ("zh", ("投资热点 (Gi*)", "项目集群")),
        ("en", ("Investment hot spots (Gi*)", "Project clusters")),
    ],
)
def test_layer_names_in_layer_control(demo, lang, names):
    analysis, result = demo
    html = cluster_map(analysis, result, MapOptions(lang=lang)).get_root().render()
    block = re.search(r"overlays\s*:\s*\{(.*?)\}", html, flags=re.DOTALL).group(1)
    entries = re.findall(r'("(?:[^"\\]|\\.)*")\s*:\s*(\w+)', block)
    listed = {json.loads(key): var for key, var in entries}
    hot = re.search(r"var (\w+) = parkmap\.hotspotsLayer\(", html).group(1)
    groups = re.search(r"var (\w+) = parkmap\.clustersLayer\(", html).group(1)
    # the two layers are listed last, under their names, by the control that follows them
    assert list(listed)[-2:] == list(names)
    assert [listed[n] for n in names] == [hot, groups]
    assert html.index("parkmap.clustersLayer(") < html.index("L.control.layers(")


def test_hot_spots_off_and_clusters_on_when_the_page_opens(demo_map):
    html = demo_map.get_root().render()
    hot = re.search(r"var (\w+) = parkmap\.hotspotsLayer\(\s*(map_\w+)", html)
    groups = re.search(r"var (\w+) = parkmap\.clustersLayer\(\s*(map_\w+)", html)
    assert f"{hot.group(1)}.addTo({hot.group(2)})" not in html
    assert f"{groups.group(1)}.addTo({groups.group(2)})" in html


def test_hotspot_payload_equals_the_result(demo, demo_map):
    _, result = demo
    cells = result.hexes.cells
    data = _call_payload(demo_map.get_root().render(), "hotspotsLayer")
    features = hotspot_features(data)
    assert len(features) == len(cells)
    props = [f["properties"] for f in features]
    assert [p["id"] for p in props] == cells["cell_id"].tolist()
    assert [p["b"] for p in props] == cells["gi_bin"].tolist()
    assert [p["n"] for p in props] == cells["count"].tolist()
    assert [p["q"] for p in props] == cells["lisa_quadrant"].tolist()
    for p, z, pv, inv in zip(
        props, cells["gi_z"], cells["gi_p"], cells["investment_100m_cny"], strict=True
    ):
        # z to 2 decimals, p to 4 significant digits: what the popup shows, and no more
        assert p["z"] == pytest.approx(z, abs=0.005 + 1e-12)
        assert p["p"] == pytest.approx(pv, rel=5e-4)
        assert p["inv"] == pytest.approx(inv, abs=5e-5)
    # the cells themselves: same hexagons (6-decimal rounding ≈ 0.1 m)
    for f, geom in zip(features, cells.geometry, strict=True):
        assert shape(f["geometry"]).equals_exact(geom, 1e-6)
    # colours by bin index (b + 3) and the number of cells per bin
    assert data["colors"] == [EXPECTED_COLORS[b] for b in range(-3, 4)]
    assert data["counts"] == [int((cells["gi_bin"] == b).sum()) for b in range(-3, 4)]


def test_every_bin_gets_its_colour_and_legend_row(demo):
    analysis, result = demo
    cells = result.hexes.cells.copy()
    bins = [(i % 7) - 3 for i in range(len(cells))]
    cells["gi_bin"] = bins
    cells["lisa_quadrant"] = [("HH", "HL", "LH", "LL", "ns")[i % 5] for i in range(len(cells))]
    synthetic = replace(result, hexes=replace(result.hexes, cells=cells))
    html = cluster_map(analysis, synthetic).get_root().render()
    data = _call_payload(html, "hotspotsLayer")
    for f, b in zip(hotspot_features(data), bins, strict=True):
        assert data["colors"][f["properties"]["b"] + 3] == EXPECTED_COLORS[b]
    legend = _call_payload(html, "addLegendSections")
    hot, clusters = legend["sections"]
    assert hot["key"] == "hotspots" and clusters["key"] == "clusters"
    assert hot["title"] == "投资热点 Gi*（1 km 网格）"
    assert [(e["label"], e["color"], e["count"]) for e in hot["entries"]] == [
        (BIN_LABELS_ZH[b], EXPECTED_COLORS[b], bins.count(b)) for b in (3, 2, 1, 0, -1, -2, -3)
    ]
    assert clusters["entries"][0]["count"] == len(result.clusters.clusters)


def test_cluster_payload_equals_the_result(demo, demo_map):
    _, result = demo
    table = result.clusters.clusters
    data = _call_payload(demo_map.get_root().render(), "clustersLayer")
    names = {p["park_id"]: p["name"] for p in result.parks}
    assert [c["id"] for c in data["clusters"]] == table["cluster_id"].tolist()
    for record, row in zip(data["clusters"], table.itertuples(), strict=True):
        assert record["n"] == row.projects
        assert record["inv"] == pytest.approx(row.investment_100m_cny, abs=5e-5)
        assert record["area"] == pytest.approx(row.hull_area_km2, abs=5e-5)
        assert record["industry"] == row.dominant_industry
        assert record["parks"] == [names[p] for p in row.parks.split(";") if p]
        centre = row.geometry.centroid
        assert record["at"] == pytest.approx([centre.y, centre.x], abs=1e-6)
    hulls = [shape(f["geometry"]) for f in data["geojson"]["features"]]
    assert len(hulls) == len(table)
    for hull, geom in zip(hulls, table.geometry, strict=True):
        assert hull.equals_exact(geom, 1e-6)


def test_user_strings_never_reach_the_html_as_markup(demo):
    analysis, result = demo
    html = cluster_map(analysis, _with_hostile_strings(result)).get_root().render()
    assert XSS_INDUSTRY not in html
    assert XSS_PARK not in html
    # the template text went through no template engine
    data = _call_payload(html, "clustersLayer")
    assert data["clusters"][0]["industry"] == XSS_INDUSTRY
    assert data["clusters"][1]["industry"] == TEMPLATE_INDUSTRY
    assert XSS_PARK in data["clusters"][0]["parks"]


def test_english_park_names_and_amap_shift(demo):
    analysis, result = demo
    html = cluster_map(analysis, result, MapOptions(lang="en", basemap="amap")).get_root().render()
    data = _call_payload(html, "clustersLayer")
    names = {p["park_id"]: p["name_en"] for p in result.parks}
    row = result.clusters.clusters.iloc[0]
    assert data["clusters"][0]["parks"] == [names[p] for p in row["parks"].split(";")]
    # on an Amap basemap the hulls and cells are drawn in GCJ-02 like every other layer
    x, y = shapely.get_coordinates(row.geometry)[0]
    gx, gy = wgs84_to_gcj02(x, y)
    assert data["geojson"]["features"][0]["geometry"]["coordinates"][0][0] == pytest.approx(
        [float(gx), float(gy)], abs=2e-6
    )


def test_add_cluster_layers_checks_its_options(demo):
    analysis, result = demo
    m = compose.make_map(analysis)
    with pytest.raises(UsageError, match="language"):
        add_cluster_layers(m, result, lang="fr")
    with pytest.raises(UsageError, match="basemap"):
        add_cluster_layers(m, result, basemap="google")
    assert isinstance(cluster_map(analysis, result), OfflineMap)


def test_layers_on_a_build_map_page(park_metrics, projects_joined):
    """add_cluster_layers works on a plain build_map page (synthetic data of conftest)."""
    result = cluster_analysis(
        projects_joined, park_metrics, eps_m=1500, min_samples=3, permutations=9, simulations=1
    )
    m = build_map(park_metrics, projects_joined)
    add_cluster_layers(m, result)
    html = m.get_root().render()
    data = _call_payload(html, "hotspotsLayer")
    assert len(hotspot_features(data)) == len(result.hexes.cells)
    assert len(_call_payload(html, "clustersLayer")["clusters"]) == len(result.clusters.clusters)


# ---------------------------------------------------------------- in the browser


class _Session(OfflinePage):
    """The map page with the network cut, plus layer helpers."""

    def only(self, *keys: str) -> None:
        """Leave only these parkmap layers on the map (by their key in the runtime state)."""
        self.page.evaluate(
            """(keep) => {
                const st = parkmap.state();
                for (const [key, layer] of Object.entries(st.layers)) {
                    if (keep.includes(key)) st.map.addLayer(layer);
                    else st.map.removeLayer(layer);
                }
            }""",
            list(keys),
        )

    def point_at(self, lat: float, lon: float, zoom: int) -> tuple[float, float]:
        """Centre the map on (lat, lon) at ``zoom``; return that place in page pixels."""
        self.page.evaluate(
            "([lat, lon, z]) => { parkmap.map.setView([lat, lon], z, {animate: false}); }",
            [lat, lon, zoom],
        )
        self.page.wait_for_timeout(100)
        p = self.page.evaluate(
            "([lat, lon]) => parkmap.map.latLngToContainerPoint([lat, lon])", [lat, lon]
        )
        box = self.page.locator(".folium-map").bounding_box()
        return box["x"] + p["x"], box["y"] + p["y"]


@pytest.fixture
def open_map(browser, tmp_path):
    sessions = []

    def opener(m, name="map.html"):
        session = _Session(with_test_hooks(browser), save_map(m, tmp_path / name))
        sessions.append(session)
        return session

    yield opener
    for session in sessions:
        session.context.close()


@pytest.mark.browser
def test_browser_toggling_hot_spots_draws_every_cell(open_map, demo, demo_map):
    _, result = demo
    s = open_map(demo_map)
    page = s.page
    n_hulls = len(result.clusters.clusters)
    assert page.evaluate("parkmap.layerCount('hotspots')") == 0
    assert page.evaluate("parkmap.layerCount('clusters')") == n_hulls
    assert page.locator(".pm-cluster-label").count() == n_hulls
    assert page.locator(".pm-legend [data-layer=hotspots]").is_hidden()
    assert page.locator(".pm-legend [data-layer=clusters]").is_visible()

    label = page.locator(".leaflet-control-layers-overlays label", has_text="投资热点 (Gi*)")
    label.click()
    assert page.evaluate("parkmap.layerCount('hotspots')") == len(result.hexes.cells)
    legend = page.locator(".pm-legend [data-layer=hotspots]")
    assert legend.is_visible()
    rows = legend.locator(".pm-legend-label").all_inner_texts()
    assert rows == [BIN_LABELS_ZH[b] for b in (3, 2, 1, 0, -1, -2, -3)]
    label.click()
    assert page.evaluate("parkmap.layerCount('hotspots')") == 0
    assert legend.is_hidden()

    clusters = page.locator(".leaflet-control-layers-overlays label", has_text="项目集群")
    clusters.click()
    assert page.evaluate("parkmap.layerCount('clusters')") == 0
    assert page.locator(".pm-cluster-label").count() == 0
    s.assert_clean()


@pytest.mark.browser
def test_browser_hot_cell_shows_its_z(open_map, demo, demo_map):
    _, result = demo
    cells = result.hexes.cells
    assert (cells["gi_bin"] > 0).any(), "the demo data has a hot spot"
    cell = cells.loc[cells["gi_z"].idxmax()]
    z, p, b, q = cell["gi_z"], cell["gi_p"], int(cell["gi_bin"]), cell["lisa_quadrant"]
    s = open_map(demo_map)
    s.only("hotspots")
    centre = cell.geometry.representative_point()
    x, y = s.point_at(centre.y, centre.x, 15)

    s.page.mouse.move(x, y)
    tip = s.page.locator(".leaflet-tooltip")
    tip.wait_for()
    text = tip.inner_text()
    assert f"{z:,.2f}" in text
    assert BIN_LABELS_ZH[b] in text
    assert (f"{p:.3f}" if p >= 0.001 else "< 0.001") in text
    assert LISA_ZH.get(q, "不显著") in text
    assert f"{cell['count']}" in text

    s.page.mouse.click(x, y)
    popup = s.page.locator(".leaflet-popup-content")
    popup.wait_for()
    text = popup.inner_text()
    assert f"{z:,.2f}" in text
    assert f"{cell['investment_100m_cny']:,.2f} 亿元" in text
    assert f"{(99, 95, 90)[3 - b]}%" in text
    s.assert_clean()


@pytest.mark.browser
def test_browser_cluster_label_tooltip_and_popup_show_names_as_text(open_map, demo):
    analysis, result = demo
    hostile = _with_hostile_strings(result)
    row = hostile.clusters.clusters.iloc[0]
    s = open_map(cluster_map(analysis, hostile))
    s.only("clusters")
    centre = row.geometry.centroid
    s.point_at(centre.y, centre.x, 14)
    label = s.page.locator(".pm-cluster-label", has_text=f"集群 {row['cluster_id']}")
    label.hover()
    tip = s.page.locator(".leaflet-tooltip")
    tip.wait_for()
    assert tip.inner_text() == (
        f"集群 {row['cluster_id']} · {row['projects']} 个项目 · "
        f"{row['investment_100m_cny']:,.1f} 亿元 · {XSS_INDUSTRY}"
    )
    label.click()
    popup = s.page.locator(".leaflet-popup-content")
    popup.wait_for()
    text = popup.inner_text()
    assert XSS_INDUSTRY in text
    assert XSS_PARK in text
    assert f"{row['hull_area_km2']:,.2f} km²" in text
    assert f"{row['dominant_industry_projects']} 个项目" in text
    assert popup.locator("img, script").count() == 0
    assert s.page.evaluate("typeof window.__xss") == "undefined"
    s.assert_clean()


@pytest.fixture
def hex_grid_calls(monkeypatch):
    """A list that gets one item per call of :func:`parkmap.density.hex_grid`."""
    from parkmap import density

    calls: list[int] = []
    real = density.hex_grid

    def counting(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(density, "hex_grid", counting)
    return calls


def test_cluster_map_draws_the_statistics_grid_without_building_it_again(demo, hex_grid_calls):
    analysis, result = demo
    plain = _call_payload(compose.make_map(analysis).get_root().render(), "hexLayer")
    hex_grid_calls.clear()
    html = cluster_map(analysis, result).get_root().render()
    assert hex_grid_calls == []  # the cells of the statistics are drawn
    assert _call_payload(html, "hexLayer") == plain  # and they are the map's own cells
    # A map with another cell size builds its own grid.
    cluster_map(analysis, result, MapOptions(cell_km=2.0))
    assert hex_grid_calls == [1]


def test_the_cluster_command_builds_the_grid_once(tmp_path, hex_grid_calls):
    from parkmap.settings import ClusterOptions, ClusterParameters

    params = ClusterParameters(permutations=9, simulations=9)
    outcome = pipeline.cluster(ClusterOptions(out=tmp_path, params=params, plots=False))
    assert outcome.files["map"].exists()
    assert hex_grid_calls == [1]


def test_cells_that_are_not_hexagons_travel_as_geojson_and_empty_ones_are_left_out(demo):
    """A clipped cell (a square here) keeps its outline; a cell without a geometry is dropped."""
    _, result = demo
    cells = result.hexes.cells.iloc[:4].copy()
    x, y = shapely.get_coordinates(cells.geometry.iloc[1].centroid)[0]
    square = shapely.box(x - 0.001, y - 0.001, x + 0.001, y + 0.001)
    cells["geometry"] = [cells.geometry.iloc[0], square, None, cells.geometry.iloc[3]]
    data = hotspots_payload(cells)
    features = hotspot_features(data)
    assert [f["properties"]["id"] for f in features] == cells["cell_id"].iloc[[0, 1, 3]].tolist()
    assert len(data["shape"]["c"]) == 2 * 2  # two hexagons as integers
    assert [k for k, _ in data["outlines"]] == [1]
    for f, geom in zip(features, cells.geometry.iloc[[0, 1, 3]], strict=True):
        assert shape(f["geometry"]).equals_exact(geom, 1e-6)
    assert data["counts"] == [
        int((cells["gi_bin"].iloc[[0, 1, 3]] == b).sum()) for b in range(-3, 4)
    ]


@pytest.fixture(scope="module")
def cluster_run(tmp_path_factory):
    """``parkmap cluster`` on the bundled demo: its folder (hotspots.geojson, map.html)."""
    from parkmap.settings import ClusterOptions, ClusterParameters

    out = tmp_path_factory.mktemp("cluster_run")
    options = ClusterOptions(
        out=out, params=ClusterParameters(permutations=99, simulations=9, seed=3), plots=False
    )
    pipeline.cluster(options)
    return out


@pytest.mark.browser
def test_browser_packed_cells_decode_to_the_written_hot_spots(browser, cluster_run):
    """The page's own code turns the packed cells back into the polygons and the figures of
    hotspots.geojson: vertices within 1e-6°, z to 2 decimals, p to 4 significant digits,
    bin and quadrant as written."""
    import geopandas as gpd
    import numpy as np

    written = gpd.read_file(cluster_run / "hotspots.geojson")
    assert len(written) > 30 and (written["gi_bin"] != 0).any()
    html = (cluster_run / "map.html").read_text(encoding="utf-8")
    data = _call_payload(html, "hotspotsLayer")
    assert "geojson" not in data and data["outlines"] == []  # every cell travels as integers
    page = OfflinePage(with_test_hooks(browser), cluster_run / "map.html")
    try:
        drawn = page.page.evaluate(
            """() => {
                const s = parkmap.state();
                s.map.addLayer(s.layers.hotspots);
                const cells = [];
                s.layers.hotspots.eachLayer(l => cells.push({
                    properties: l.feature.properties,
                    ring: l.toGeoJSON(15).geometry.coordinates[0],
                }));
                return cells;
            }"""
        )
        page.assert_clean()
    finally:
        page.close()
    assert len(drawn) == len(written)
    for cell, row in zip(drawn, written.itertuples(), strict=True):
        p = cell["properties"]
        assert p["id"] == row.cell_id
        assert p["n"] == row.count
        assert p["inv"] == pytest.approx(row.investment_100m_cny, abs=5e-5)
        assert p["z"] == pytest.approx(round(row.gi_z, 2), abs=1e-9)
        assert p["p"] == pytest.approx(float(f"{row.gi_p:.4g}"), rel=1e-9)
        assert p["b"] == row.gi_bin
        assert p["q"] == row.lisa_quadrant
        ring = np.asarray(cell["ring"])
        expected = np.asarray(row.geometry.exterior.coords)
        assert ring.shape == expected.shape == (7, 2)
        np.testing.assert_allclose(ring, expected, rtol=0, atol=1e-6)

"""Basemaps: tiles and attribution per provider, overlays in GCJ-02 on Amap, key handling."""

from __future__ import annotations

import numpy as np
import pytest

from parkmap import pipeline
from parkmap.coords import wgs84_to_gcj02
from parkmap.errors import UsageError
from parkmap.settings import MapOptions
from parkmap.webmap import compose, save_map
from parkmap.webmap.basemaps import display_system, tianditu_key, tile_layers
from parkmap.webmap.elements import RuntimeLayer


@pytest.fixture(scope="module")
def analysis():
    return pipeline.analyse()


def layer_payload(m, factory):
    (layer,) = [
        c for c in m._children.values() if isinstance(c, RuntimeLayer) and c.factory == factory
    ]
    return layer.payload


def test_display_system():
    assert display_system("amap") == display_system("amap-satellite") == "gcj02"
    assert display_system("none") == display_system("osm") == display_system("tianditu") == "wgs84"
    with pytest.raises(UsageError, match="none, osm, amap"):
        display_system("google")


def test_amap_overlays_are_drawn_at_gcj02_positions(analysis):
    plain = layer_payload(compose.make_map(analysis), "projectsLayer")["columns"]
    amap_map = compose.make_map(analysis, MapOptions(basemap="amap"))
    amap = layer_payload(amap_map, "projectsLayer")["columns"]
    truth = analysis.projects.set_index("project_id")
    lon, lat = truth.loc[amap["id"], "lon"].to_numpy(), truth.loc[amap["id"], "lat"].to_numpy()
    g_lon, g_lat = wgs84_to_gcj02(lon, lat)
    np.testing.assert_allclose(amap["lon"], g_lon, atol=2e-6)
    np.testing.assert_allclose(amap["lat"], g_lat, atol=2e-6)
    np.testing.assert_allclose(plain["lon"], truth.loc[plain["id"], "lon"], atol=2e-6)
    # The shift near Qingdao is mostly eastward, 0.004-0.006 degrees.
    assert 0.004 < float(np.mean(np.array(amap["lon"]) - lon)) < 0.006
    # Park outlines move too: the first vertex of each park equals its GCJ-02 image.
    parks = layer_payload(amap_map, "parksLayer")
    first = parks["geojson"]["features"][0]["geometry"]["coordinates"][0][0]
    ring = analysis.parks.geometry.iloc[0].exterior.coords[0]
    assert first == pytest.approx(list(map(float, wgs84_to_gcj02(*ring))), abs=2e-6)


def test_tile_urls_and_attribution(analysis, tmp_path):
    html = save_map(
        compose.make_map(analysis, MapOptions(basemap="amap")), tmp_path / "a.html"
    ).read_text(encoding="utf-8")
    # folium writes the options as JSON: "&" as \u0026 and Chinese as \u escapes.
    assert "https://webrd0{s}.is.autonavi.com/appmaptile?" in html
    assert "AutoNavi" in html
    osm = tile_layers("osm")
    assert osm[0].url == "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
    assert "OpenStreetMap</a> contributors" in osm[0].attribution
    assert tile_layers("none") == []
    satellite = tile_layers("amap-satellite")
    assert [t.overlay for t in satellite] == [False, True]


def test_tianditu_key_from_option_or_environment(monkeypatch):
    monkeypatch.delenv("TIANDITU_KEY", raising=False)
    with pytest.raises(UsageError, match="--tianditu-key"):
        tile_layers("tianditu")
    assert "tk=abc123" in tile_layers("tianditu", key="abc123")[0].url
    monkeypatch.setenv("TIANDITU_KEY", "fromenv")
    assert tianditu_key() == "fromenv"
    layers = tile_layers("tianditu", lang="en")
    assert "LAYER=eva" in layers[1].url and "tk=fromenv" in layers[1].url


@pytest.mark.browser
def test_tiles_are_the_only_requests(browser, analysis, tmp_path):
    path = save_map(compose.make_map(analysis, MapOptions(basemap="amap")), tmp_path / "map.html")
    url = path.resolve().as_uri()
    requests = []
    page = browser.new_page()

    def route(r):
        if r.request.url != url:
            requests.append(r.request.url)
        r.abort() if r.request.url != url else r.continue_()

    page.route("**/*", route)
    page.goto(url)
    page.wait_for_function("window.parkmap && window.parkmap.map")
    page.wait_for_timeout(500)
    page.close()
    assert requests, "the Amap basemap should request tiles"
    assert all(".is.autonavi.com/appmaptile?" in u for u in requests), requests

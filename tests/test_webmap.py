"""Tests for parkmap.webmap: the HTML as a string, then the page in a real headless Chromium."""

from __future__ import annotations

import base64
import io
import json
import math
import os
import re
from dataclasses import replace
from html import escape
from html.parser import HTMLParser
from pathlib import Path

import folium
import numpy as np
import pandas as pd
import pytest
from pages import OfflinePage, with_test_hooks

from parkmap.classes import classify
from parkmap.errors import InputError, UsageError
from parkmap.webmap import OfflineMap, build_map, save_map
from parkmap.webmap import payload_schema as schema
from parkmap.webmap.assets import dumps_js, leaflet_js
from parkmap.webmap.payloads import DENSITY_RAMP, inline_blocks, unpack_raw

XSS_PROJECT = "<img src=x onerror=window.__xss=1>"
XSS_PARK = "<script>window.__xss=2</script>"
XSS_NOTE = "</script><script>window.__xss=3</script>"
XSS_TITLE = '<b onmouseover="window.__xss=4">T</b>'
TEMPLATE_NAME = "{{ 7*7 }} {% endif %}"


class _Page(HTMLParser):
    """Collect the tags, attributes and inline style text of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.styles: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        self._in_style = tag == "style"

    def handle_endtag(self, tag):
        self._in_style = False

    def handle_data(self, data):
        if self._in_style:
            self.styles.append(data)


def _parse(html: str) -> _Page:
    page = _Page()
    page.feed(html)
    return page


def _call_payload(html: str, function: str) -> dict:
    """The JSON payload of ``parkmap.<function>(map, {...})`` in the page script."""
    match = re.search(rf"parkmap\.{function}\(\s*map_\w+,\s*(.+?)\);\n", html)
    assert match, f"no parkmap.{function} call"
    return inline_blocks(json.loads(match.group(1)), html)


def unpack_columns(payload: dict) -> dict:
    """Decode the packed project sections (base64, gunzip, typed sections), with the keys and
    scales of the payload schema."""
    cols = {
        k: v.tolist() if isinstance(v, np.ndarray) else v for k, v in unpack_raw(payload).items()
    }
    n = payload[schema.COUNT_KEY]
    x0, y0 = payload[schema.LON.origin], payload[schema.LAT.origin]
    cols["lon"] = [(x0 + v) / schema.LON.scale for v in cols[schema.LON.key]]
    cols["lat"] = [(y0 + v) / schema.LAT.scale for v in cols[schema.LAT.key]]
    cols["inv"] = [None if v < 0 else v / schema.INV.scale for v in cols[schema.INV.key]]
    cols.setdefault(schema.ID.key, [""] * n)
    cols.setdefault(schema.DAY.key, [schema.MISSING] * n)
    km = cols.get(schema.KM.key, [schema.MISSING] * n)
    cols["km"] = [v / schema.KM.scale if v >= 0 else None for v in km]
    return cols


def project_columns(html: str) -> dict:
    """The decoded project columns of a rendered page."""
    return unpack_columns(_call_payload(html, "projectsLayer"))


@pytest.fixture
def xss_inputs(park_metrics, projects_joined, breakdown):
    """The synthetic data with hostile strings in a park name and a project name."""
    parks = park_metrics.copy()
    parks.loc[parks.index[1], "name"] = XSS_PARK
    projects = projects_joined.copy()
    projects.loc[projects.index[9], "name"] = XSS_PROJECT  # first project of park 1
    projects.loc[projects.index[1], "name"] = TEMPLATE_NAME
    projects.loc[projects.park_id == parks.park_id.iloc[1], "park_name"] = XSS_PARK
    return parks, projects, breakdown


@pytest.fixture
def full_map(park_metrics, projects_joined, breakdown, context_frame, density_surface):
    return build_map(
        park_metrics,
        projects_joined,
        context=context_frame,
        density=density_surface,
        breakdown=breakdown,
        data_note="演示数据",
    )


# ---------------------------------------------------------------- HTML string tests


def test_no_external_src_or_href(full_map):
    html = full_map.get_root().render()
    page = _parse(html)
    for tag, attrs in page.tags:
        for key in ("src", "href"):
            value = (attrs.get(key) or "").strip().lower()
            assert not value.startswith(("http:", "https:", "//")), (tag, key, value)
    assert not any(tag == "link" for tag, _ in page.tags)
    assert not any(tag == "script" and attrs.get("src") for tag, attrs in page.tags)
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", _outside_scripts(html))
    for style in page.styles:
        for url in re.findall(r"url\(\s*['\"]?([^'\")]+)", style):
            assert url.startswith(("data:", "#")), url
    lowered = html.lower()
    for cdn in ("cdn.jsdelivr", "code.jquery.com", "bootstrapcdn", "cdnjs", "fontawesome"):
        assert cdn not in lowered
    assert "tile.openstreetmap" not in lowered
    assert "L.tileLayer(" not in html


def _outside_scripts(html: str) -> str:
    return re.sub(r"<script>.*?</script>", "", html, flags=re.DOTALL)


def test_leaflet_is_inlined(full_map):
    html = full_map.get_root().render()
    assert "Leaflet 1.9.3" in html
    assert leaflet_js()[-2000:] in html
    assert "sourceMappingURL" not in html
    # the layer-control and marker icons became data URIs
    assert html.count('url("data:image/png;base64,') >= 3
    assert "images/layers.png" not in html
    assert 'charset=UTF-8"' in html


def test_layer_names_in_layer_control(full_map):
    html = full_map.get_root().render()
    block = re.search(r"overlays\s*:\s*\{(.*?)\}", html, flags=re.DOTALL).group(1)
    names = ["投资项目", "园区投资密度", "投资核密度（平滑）", "行政区与地标"]
    keys = [json.loads(k) for k in re.findall(r'("(?:[^"\\]|\\.)*")\s*:', block)]
    assert keys == names
    assert '"collapsed": false' in html


def test_english_labels(park_metrics, projects_joined):
    html = build_map(park_metrics, projects_joined, lang="en").get_root().render()
    block = re.search(r"overlays\s*:\s*\{(.*?)\}", html, flags=re.DOTALL).group(1)
    keys = [json.loads(k) for k in re.findall(r'("(?:[^"\\]|\\.)*")\s*:', block)]
    assert keys == ["Projects", "Park investment density"]
    title = _call_payload(html, "addTitle")
    assert title["title"] == "Qingdao industrial parks: investment projects"
    assert "<title>Qingdao industrial parks: investment projects</title>" in html
    setup = _call_payload(html, "setup")
    assert setup["lang"] == "en"
    assert setup["t"]["status_under_construction"] == "Under construction"


@pytest.mark.parametrize(("scheme", "k"), [("quantiles", 5), ("equal_interval", 3), ("jenks", 2)])
def test_legend_labels_equal_classes(park_metrics, projects_joined, scheme, k):
    html = build_map(park_metrics, projects_joined, scheme=scheme, k=k).get_root().render()
    legend = _call_payload(html, "addLegend")
    expected = classify(park_metrics["density_100m_cny_per_km2"], scheme, k)
    assert [e["label"] for e in legend["parks"]["entries"]] == expected.labels()
    assert [e["color"] for e in legend["parks"]["entries"]] == expected.colors
    assert "亿元/km²" in legend["parks"]["title"]


def test_user_strings_are_escaped(xss_inputs):
    parks, projects, breakdown = xss_inputs
    m = build_map(parks, projects, breakdown=breakdown, title=XSS_TITLE, data_note=XSS_NOTE)
    html = m.get_root().render()
    for raw in (XSS_PROJECT, XSS_PARK, XSS_NOTE, XSS_TITLE):
        assert raw not in html
    names = project_columns(html)["name"]
    assert XSS_PROJECT in names  # packed (base64 of gzip): no markup can leak from it
    assert dumps_js(XSS_PARK) in html
    assert dumps_js(XSS_NOTE) in html
    assert f"<title>{escape(XSS_TITLE)}</title>" in html
    # a user's template syntax is data: never evaluated by Jinja
    assert TEMPLATE_NAME in names
    page = _parse(html)
    assert not any(tag == "img" for tag, _ in page.tags)


def test_rendering_twice_gives_the_same_page(full_map):
    first = full_map.get_root().render()
    assert full_map.get_root().render() == first
    # projects, parks, density and context are each added once
    assert len(re.findall(r"parkmap_layer_\w+\.addTo\(map_", first)) == 4


def test_dumps_js_is_script_safe():
    text = dumps_js({"a": "</script><!-- & \u2028\u2029", "n": math.nan, "x": np.float64(1.5)})
    assert "<" not in text and ">" not in text and "&" not in text
    assert "\u2028" not in text and "\u2029" not in text
    assert json.loads(text) == {"a": "</script><!-- & \u2028\u2029", "n": None, "x": 1.5}


def test_projects_are_column_arrays(park_metrics, projects_joined):
    html = build_map(park_metrics, projects_joined).get_root().render()
    data = _call_payload(html, "projectsLayer")
    assert "columns" not in data and data["n"] == 30
    cols = project_columns(html)
    assert len(cols["lon"]) == len(projects_joined) == 30
    assert {len(v) for v in cols.values() if isinstance(v, list)} == {30}
    # largest first; unknown investment (NaN) last, as null
    inv = cols["inv"]
    known = [v for v in inv if v is not None]
    assert known == sorted(known, reverse=True)
    assert inv[-2:] == [None, None]
    assert data["invMax"] == pytest.approx(projects_joined["investment_100m_cny"].max())
    # coordinates equal to the input points to 1e-6 degree
    by_id = projects_joined.set_index("project_id")
    for pid, lon, lat in zip(cols["id"], cols["lon"], cols["lat"], strict=True):
        assert lon == pytest.approx(by_id.loc[pid, "lon"], abs=1e-6)
        assert lat == pytest.approx(by_id.loc[pid, "lat"], abs=1e-6)
    # status index into the lookup list
    statuses = [data["statuses"][s] for s in cols["st"]]
    assert statuses == [by_id.loc[pid, "status"] for pid in cols["id"]]
    # outside projects carry the distance, inside ones the park
    outside = [i for i, p in enumerate(cols["park"]) if p < 0]
    assert len(outside) == 3
    assert all(cols["km"][i] > 0 for i in outside)
    # no per-marker objects: projects are painted from the arrays, no circleMarker at all
    assert "L.circleMarker(" not in html
    # signing dates as day numbers since 1970-01-01, -1 when missing
    for pid, day in zip(cols["id"], cols["day"], strict=True):
        date = by_id.loc[pid, "signed_date"]
        expected = -1 if date is pd.NaT else (date - pd.Timestamp("1970-01-01")).days
        assert day == expected
    assert cols["warn"] == ["坐标为估计" if pid == "P006" else "" for pid in cols["id"]]
    assert "orig" not in cols


def test_industry_colours_top_nine_and_other(park_metrics, projects_joined):
    html = build_map(park_metrics, projects_joined, color_by="industry").get_root().render()
    data = _call_payload(html, "projectsLayer")
    assert data["colorBy"] == "industry"
    assert len(data["topIndustries"]) == 9
    grey = "#9e9e9e"
    top_colors = [
        c
        for name, c in zip(data["industries"], data["industryColors"], strict=True)
        if name in data["topIndustries"]
    ]
    assert len(set(top_colors)) == 9 and grey not in top_colors
    rest = [
        c
        for name, c in zip(data["industries"], data["industryColors"], strict=True)
        if name not in data["topIndustries"]
    ]
    assert rest and set(rest) == {grey}
    legend = _call_payload(html, "addLegend")
    labels = [e["label"] for e in legend["markers"]["entries"]]
    assert labels[:9] == data["topIndustries"] and labels[-1] == "其他"
    assert sum(e["count"] for e in legend["markers"]["entries"]) == 30


def test_park_payload_totals_and_breakdown(park_metrics, projects_joined, breakdown):
    html = build_map(park_metrics, projects_joined, breakdown=breakdown).get_root().render()
    data = _call_payload(html, "parksLayer")
    assert len(data["geojson"]["features"]) == 3
    for rec, (_, row) in zip(data["parks"], park_metrics.iterrows(), strict=True):
        assert rec["rank"] == row["rank"]
        assert rec["projects"] == row["projects"]
        assert rec["investment"] == pytest.approx(row["investment_100m_cny"], abs=1e-4)
        assert sum(pair[0] for pair in rec["status"]) == row["projects"]
        mine = breakdown[breakdown.park_id == row.park_id]
        best = mine.sort_values("investment_100m_cny", ascending=False).iloc[0]
        assert rec["top"][0][0] == best["category"]
        assert len(rec["top"]) == min(5, len(mine))


def test_data_note_lines(park_metrics, projects_joined):
    html = build_map(park_metrics, projects_joined, data_note="来源：演示").get_root().render()
    lines = _call_payload(html, "addNote")["lines"]
    synthetic = int((projects_joined["source"] == "synthetic").sum())
    assert synthetic == 10
    assert lines == ["来源：演示", "园区边界为示意", f"{synthetic} 个项目为合成数据"]
    surveyed = park_metrics.assign(accuracy="surveyed")
    real = projects_joined.assign(source="report")
    html = build_map(surveyed, real, lang="en").get_root().render()
    assert "parkmap.addNote(" not in html.split("</head>", 1)[1]


def test_density_overlay_png(full_map, density_surface):
    Image = pytest.importorskip("PIL.Image")

    html = full_map.get_root().render()
    data = _call_payload(html, "densityLayer")
    (south, west), (north, east) = density_surface.bounds
    assert data["bounds"] == [[south, west], [north, east]]
    assert data["unit"] == "亿元/km²"
    b64 = data["url"].split(",", 1)[1]
    image = Image.open(io.BytesIO(base64.b64decode(b64))).convert("RGBA")
    values = density_surface.values
    assert image.size == (values.shape[1], values.shape[0])
    pixels = np.asarray(image)
    vmax = values.max()
    top = np.unravel_index(np.argmax(values), values.shape)
    last = DENSITY_RAMP[-1]
    r, g, b = (int(last[1][i : i + 2], 16) for i in (1, 3, 5))
    assert tuple(pixels[top]) == (r, g, b, round(last[2] * 255))
    low = values < 0.02 * vmax
    assert low.any() and (pixels[..., 3][low] == 0).all()
    assert (pixels[..., 3][~low] > 0).all()
    legend = _call_payload(html, "addLegend")["density"]
    assert [s["value"] for s in legend["stops"]] == pytest.approx(
        [vmax * p for p, _, _ in DENSITY_RAMP]
    )


def test_density_rows_run_north_to_south(park_metrics, projects_joined, density_surface):
    Image = pytest.importorskip("PIL.Image")

    values = np.zeros((4, 3))
    values[0, 0] = 5.0  # north-west corner
    surface = replace(density_surface, values=values)
    html = build_map(park_metrics, projects_joined, density=surface).get_root().render()
    url = _call_payload(html, "densityLayer")["url"]
    pixels = np.asarray(Image.open(io.BytesIO(base64.b64decode(url.split(",")[1]))))
    assert pixels[0, 0, 3] > 0
    assert (pixels[..., 3] > 0).sum() == 1


def test_bad_options_raise(park_metrics, projects_joined):
    with pytest.raises(UsageError, match="language"):
        build_map(park_metrics, projects_joined, lang="fr")
    with pytest.raises(UsageError, match="color_by"):
        build_map(park_metrics, projects_joined, color_by="size")
    with pytest.raises(UsageError, match="quantiles"):
        build_map(park_metrics, projects_joined, scheme="kmeans")
    with pytest.raises(InputError, match="density_100m_cny_per_km2"):
        build_map(park_metrics.drop(columns="density_100m_cny_per_km2"), projects_joined)
    with pytest.raises(InputError, match="status"):
        build_map(park_metrics, projects_joined.drop(columns="status"))


def test_projects_without_coordinates_are_counted(park_metrics, projects_joined):
    projects = projects_joined.copy()
    projects.loc[projects.index[:2], "geometry"] = None
    html = build_map(park_metrics, projects).get_root().render()
    assert _call_payload(html, "projectsLayer")["n"] == 28
    assert "2 个项目缺少坐标，未显示" in _call_payload(html, "addNote")["lines"]


def test_save_map_is_atomic(tmp_path, park_metrics, projects_joined, monkeypatch):
    m = build_map(park_metrics, projects_joined)
    target = tmp_path / "out" / "map.html"
    written = save_map(m, target)
    assert written == target and isinstance(written, Path)
    first = target.read_text(encoding="utf-8")
    assert first.startswith("<!DOCTYPE html>")
    assert [p.name for p in target.parent.iterdir()] == ["map.html"]

    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        save_map(build_map(park_metrics, projects_joined, title="新标题"), target)
    assert target.read_text(encoding="utf-8") == first
    assert [p.name for p in target.parent.iterdir()] == ["map.html"]


def test_user_can_add_folium_layers(park_metrics, projects_joined):
    m = build_map(park_metrics, projects_joined)
    assert isinstance(m, OfflineMap) and isinstance(m, folium.Map)
    folium.TileLayer("https://tiles.example.org/{z}/{x}/{y}.png", attr="example").add_to(m)
    folium.Marker([36.7, 120.2], popup="hello").add_to(m)
    html = m.get_root().render()
    assert "tiles.example.org" in html  # inside the script only
    page = _parse(html)
    for _, attrs in page.tags:
        assert not (attrs.get("src") or "").startswith("http")
    # the layer control is rendered after every layer, including late ones
    assert html.index("L.control.layers(") > html.index("L.tileLayer(")


# ---------------------------------------------------------------- browser tests


class _Session(OfflinePage):
    """The map page with the network cut, plus a click at a coordinate."""

    def click_latlng(self, lat: float, lon: float, zoom: int | None = None):
        self.page.evaluate("parkmap.map.closePopup()")
        self.page.wait_for_function("!document.querySelector('.leaflet-popup')")
        if zoom is not None:
            self.page.evaluate(
                "([lat, lon, z]) => parkmap.map.setView([lat, lon], z, {animate: false})",
                [lat, lon, zoom],
            )
            self.page.wait_for_timeout(100)
        point = self.page.evaluate(
            "([lat, lon]) => parkmap.map.latLngToContainerPoint([lat, lon])", [lat, lon]
        )
        box = self.page.locator(".folium-map").bounding_box()
        self.page.mouse.move(box["x"] + point["x"], box["y"] + point["y"])
        self.page.mouse.click(box["x"] + point["x"], box["y"] + point["y"])
        self.page.wait_for_timeout(150)


@pytest.fixture
def open_map(browser, tmp_path):
    sessions = []

    def opener(m, name="map.html", **kwargs):
        path = save_map(m, tmp_path / name)
        session = _Session(with_test_hooks(browser), path, **kwargs)
        sessions.append(session)
        return session

    yield opener
    for session in sessions:
        session.close()


@pytest.mark.browser
def test_browser_loads_offline_and_draws_everything(open_map, full_map):
    s = open_map(full_map)
    s.assert_clean()
    page = s.page
    assert page.evaluate("typeof window.jQuery") == "undefined"
    assert page.evaluate("L.version") == "1.9.3"
    counts = page.evaluate(
        """() => {
            const st = parkmap.state();
            return {
                parks: st.layers.parks.getLayers().length,
                projects: st.layers.projects.n,
                drawn: parkmap.drawnCount(),
                context: st.layers.context.getLayers().length,
                density: parkmap.map.hasLayer(st.layers.density),
                images: document.querySelectorAll('.leaflet-image-layer').length,
                imageSrc: document.querySelector('.leaflet-image-layer').src.slice(0, 22),
            };
        }"""
    )
    # 1 district GeoJSON + 2 district labels + airport + seat
    assert counts == {
        "parks": 3,
        "projects": 30,
        "drawn": 30,
        "context": 5,
        "density": True,
        "images": 1,
        "imageSrc": "data:image/png;base64,",
    }
    # Leaflet's CSS loaded (the layer control is styled) and fonts render Chinese text
    title = page.locator(".pm-title h1").inner_text()
    assert title == "青岛重点产业园区投资项目"
    assert page.locator(".leaflet-control-scale-line").count() == 1
    assert page.locator(".pm-note").inner_text().splitlines() == [
        "演示数据",
        "园区边界为示意",
        "10 个项目为合成数据",
    ]


@pytest.mark.browser
def test_browser_layer_control_toggles_layers(open_map, full_map):
    s = open_map(full_map)
    page = s.page
    label = page.locator(".leaflet-control-layers-overlays label", has_text="投资项目")
    label.click()
    assert page.evaluate("parkmap.drawnCount()") == 0
    assert page.evaluate("parkmap.map.hasLayer(parkmap.state().layers.projects)") is False
    assert page.locator(".pm-legend [data-layer=projects]").first.is_hidden()
    label.click()
    assert page.evaluate("parkmap.drawnCount()") == 30
    assert page.locator(".pm-legend [data-layer=projects]").first.is_visible()

    density = page.locator(".leaflet-control-layers-overlays label", has_text="核密度")
    density.click()
    assert page.locator(".leaflet-image-layer").count() == 0
    density.click()
    assert page.locator(".leaflet-image-layer").count() == 1

    parks = page.locator(".leaflet-control-layers-overlays label", has_text="园区投资密度")
    parks.click()
    assert page.evaluate("parkmap.map.hasLayer(parkmap.state().layers.parks)") is False
    parks.click()
    # switched back on, parks stay on the shared canvas below the projects' own canvas
    order = page.evaluate(
        """() => {
            const m = parkmap.map;
            const r = parkmap.state().renderer;
            const parks = Object.values(r._layers).filter((l) => l.feature).length;
            const z = (name) => +getComputedStyle(m.getPane(name)).zIndex;
            return [parks, z('pmProjects') > z('overlayPane'), parkmap.drawnCount()];
        }"""
    )
    assert order == [3, True, 30]
    s.assert_clean()


@pytest.mark.browser
def test_browser_click_project_opens_its_popup(open_map, full_map, projects_joined):
    s = open_map(full_map)
    target = projects_joined.sort_values("investment_100m_cny", ascending=False).iloc[0]
    s.click_latlng(target["lat"], target["lon"], zoom=16)
    popup = s.page.locator(".leaflet-popup-content")
    assert popup.count() == 1
    text = popup.inner_text()
    assert target["name"] in text
    assert f"{target['investment_100m_cny']:.2f} 亿元" in text
    assert target["park_name"] in text
    assert target["project_id"] in text
    assert target["signed_date"].strftime("%Y-%m-%d") in text
    s.assert_clean()


@pytest.mark.browser
def test_browser_popup_gives_the_coordinates_as_the_file_had_them(
    open_map, park_metrics, projects_joined
):
    from parkmap.coords import wgs84_to_bd09, wgs84_to_gcj02

    projects = projects_joined.copy()
    projects["coord_sys"] = "wgs84"
    projects["lon_orig"], projects["lat_orig"] = projects["lon"], projects["lat"]
    gcj, bd, plain = projects.index[:3]
    for row, system, convert in ((gcj, "gcj02", wgs84_to_gcj02), (bd, "bd09", wgs84_to_bd09)):
        projects.loc[row, "coord_sys"] = system
        lon, lat = convert(projects.loc[row, "lon"], projects.loc[row, "lat"])
        projects.loc[row, ["lon_orig", "lat_orig"]] = [float(lon), float(lat)]
    s = open_map(build_map(park_metrics, projects))
    for row, label in ((gcj, "GCJ-02"), (bd, "BD-09")):
        target = projects.loc[row]
        s.click_latlng(target["lat"], target["lon"], zoom=17)
        text = s.page.locator(".leaflet-popup-content").inner_text()
        assert target["name"] in text
        assert f"原始坐标\t{target['lon_orig']:.6f}, {target['lat_orig']:.6f} ({label})" in text
    target = projects.loc[plain]
    s.click_latlng(target["lat"], target["lon"], zoom=17)
    text = s.page.locator(".leaflet-popup-content").inner_text()
    assert target["name"] in text and "原始坐标" not in text
    s.assert_clean()


@pytest.mark.browser
def test_browser_outside_and_unknown_investment(open_map, full_map, projects_joined):
    s = open_map(full_map)
    outside = projects_joined[projects_joined.outside_parks].iloc[0]
    s.click_latlng(outside["lat"], outside["lon"], zoom=16)
    text = s.page.locator(".leaflet-popup-content").inner_text()
    assert "园区外" in text and f"{outside['distance_km']:.1f} km" in text
    unknown = projects_joined[projects_joined["investment_100m_cny"].isna()].iloc[0]
    s.click_latlng(unknown["lat"], unknown["lon"], zoom=16)
    text = s.page.locator(".leaflet-popup-content").inner_text()
    assert unknown["name"] in text and "未知" in text
    s.assert_clean()


@pytest.mark.browser
def test_browser_popup_of_a_project_counted_in_its_declared_park(
    open_map, park_metrics, projects_joined, parks_raw
):
    # An outside project counted in its nearest park as its ledger declares (what the join's
    # declared-park rule gives): the popup names the park and how far outside it the point lies.
    projects = projects_joined.copy()
    row = projects.index[projects["outside_parks"]][0]
    park = projects.loc[row, "nearest_park_id"]
    name = parks_raw.set_index("park_id").loc[park, "name"]
    km = float(projects.loc[row, "distance_km"])
    projects.loc[row, ["park_id", "park_name", "outside_parks"]] = [park, name, False]
    projects["declared_km"] = np.nan
    projects.loc[row, "declared_km"] = km
    s = open_map(build_map(park_metrics, projects))
    target = projects.loc[row]
    s.click_latlng(target["lat"], target["lon"], zoom=16)
    text = s.page.locator(".leaflet-popup-content").inner_text()
    assert target["name"] in text
    assert f"{name}（按所属园区计入，点位在园区范围外 {km:.1f} km）" in text
    assert "园区外，距最近园区" not in text
    s.assert_clean()


@pytest.mark.browser
def test_browser_xss_names_show_as_text(open_map, xss_inputs):
    parks, projects, breakdown = xss_inputs
    m = build_map(parks, projects, breakdown=breakdown, title=XSS_TITLE, data_note=XSS_NOTE)
    s = open_map(m)
    page = s.page
    hostile = projects[projects["name"] == XSS_PROJECT].iloc[0]
    s.click_latlng(hostile["lat"], hostile["lon"], zoom=16)
    popup = page.locator(".leaflet-popup-content")
    assert XSS_PROJECT in popup.inner_text()
    assert XSS_PARK in popup.inner_text()  # its park's name, also hostile
    assert popup.locator("img").count() == 0
    tooltip = page.locator(".leaflet-tooltip")
    assert XSS_PROJECT in tooltip.inner_text()

    # a point inside the hostile park, away from its projects (they avoid the SW corner)
    park = parks.iloc[1]
    x0, y0, x1, y1 = park.geometry.bounds
    s.click_latlng(y0 + 0.1 * (y1 - y0), x0 + 0.1 * (x1 - x0), zoom=13)
    text = page.locator(".leaflet-popup-content").inner_text()
    assert XSS_PARK in text
    assert f"{int(park['rank'])} / 3" in text
    assert page.locator(".pm-title h1").inner_text() == XSS_TITLE
    assert XSS_NOTE in page.locator(".pm-note").inner_text()
    template_row = projects[projects["name"] == TEMPLATE_NAME].iloc[0]
    s.click_latlng(template_row["lat"], template_row["lon"], zoom=16)
    assert TEMPLATE_NAME in page.locator(".leaflet-popup-content").inner_text()
    assert page.evaluate("typeof window.__xss") == "undefined"
    s.assert_clean()


@pytest.mark.browser
def test_browser_park_popup_and_legend(open_map, full_map, park_metrics, breakdown):
    s = open_map(full_map)
    page = s.page
    labels = page.locator(".pm-legend [data-layer=parks] .pm-legend-label").all_inner_texts()
    assert labels == classify(park_metrics["density_100m_cny_per_km2"], "quantiles", 5).labels()
    park = park_metrics.iloc[0]
    x0, y0, x1, y1 = park.geometry.bounds
    s.click_latlng(y0 + 0.1 * (y1 - y0), x0 + 0.1 * (x1 - x0), zoom=13)
    text = page.locator(".leaflet-popup-content").inner_text()
    assert park["name"] in text
    assert f"{park['area_km2']:.2f} km²" in text
    assert f"{park['density_100m_cny_per_km2']:.2f} 亿元/km²" in text
    assert f"{int(park['rank'])} / 3" in text
    top = breakdown[breakdown.park_id == park.park_id].sort_values(
        "investment_100m_cny", ascending=False
    )
    assert top.iloc[0]["category"] in text
    assert "签约" in text and "按状态" in text
    s.assert_clean()


@pytest.mark.browser
def test_browser_screenshot_is_not_blank(open_map, full_map, park_metrics):
    Image = pytest.importorskip("PIL.Image")

    s = open_map(full_map)
    png = s.page.screenshot()
    image = Image.open(io.BytesIO(png)).convert("RGB")
    colours = image.getcolors(maxcolors=1 << 20)
    assert colours is not None and len(colours) > 200
    # inside a park (away from its markers) the fill is warm (YlOrRd) and differs from the
    # empty background in the top-left corner of the map below the controls
    park = park_metrics.iloc[2]
    x0, y0, x1, y1 = park.geometry.bounds
    point = s.page.evaluate(
        "([lat, lon]) => parkmap.map.latLngToContainerPoint([lat, lon])",
        [y0 + 0.1 * (y1 - y0), x0 + 0.1 * (x1 - x0)],
    )
    box = s.page.locator(".folium-map").bounding_box()
    inside = image.getpixel((round(box["x"] + point["x"]), round(box["y"] + point["y"])))
    background = image.getpixel((round(box["x"] + 300), round(box["y"] + 400)))
    assert inside != background
    assert inside[0] > inside[2] + 40
    s.assert_clean()


@pytest.mark.browser
def test_browser_english_and_industry_colours(open_map, park_metrics, projects_joined):
    m = build_map(park_metrics, projects_joined, lang="en", color_by="industry")
    s = open_map(m)
    page = s.page
    overlay_names = page.locator(".leaflet-control-layers-overlays label").all_inner_texts()
    assert [n.strip() for n in overlay_names] == ["Projects", "Park investment density"]
    colours = page.evaluate(
        """() => {
            const layer = parkmap.state().layers.projects;
            return Array.from({length: layer.n}, (_, i) => layer.colorOf(i));
        }"""
    )
    html = m.get_root().render()
    data = _call_payload(html, "projectsLayer")
    expected = [data["industryColors"][i] for i in project_columns(html)["ind"]]
    assert colours == expected
    assert page.locator(".pm-title h1").inner_text().startswith("Qingdao industrial parks")
    s.assert_clean()


@pytest.mark.browser
def test_browser_ordinary_folium_layers_still_work(open_map, park_metrics, projects_joined):
    m = build_map(park_metrics, projects_joined)
    folium.Marker([36.75, 120.12], popup="hello marker", tooltip="tip").add_to(m)
    folium.CircleMarker([36.75, 120.22], radius=6, color="black").add_to(m)
    point = {"type": "Point", "coordinates": [120.26, 36.75]}
    user_layer = folium.GeoJson(point, name="user geojson").add_to(m)
    m.keep_in_front(user_layer)  # folium does this with jQuery, the runtime without
    s = open_map(m)
    page = s.page
    icons = page.locator(".leaflet-marker-icon:not(.pm-place)")
    assert icons.count() == 2  # the folium marker and the GeoJSON point
    for i in range(icons.count()):
        assert icons.nth(i).get_attribute("src").startswith("data:image/png;base64,")
    icons.first.click()
    assert "hello marker" in page.locator(".leaflet-popup-content").inner_text()
    overlay_names = page.locator(".leaflet-control-layers-overlays label").all_inner_texts()
    assert "user geojson" in [n.strip() for n in overlay_names]
    s.assert_clean()


@pytest.mark.browser
def test_browser_fullscreen_button(open_map, full_map):
    s = open_map(full_map)
    page = s.page
    page.locator(".pm-fullscreen-button").click()
    page.wait_for_timeout(200)
    assert page.evaluate("document.fullscreenElement === parkmap.map.getContainer()")
    page.locator(".pm-fullscreen-button").click()
    page.wait_for_timeout(200)
    assert page.evaluate("document.fullscreenElement") is None
    s.assert_clean()


@pytest.mark.parametrize("shape", [(1, 1), (3, 5), (459, 512)])
def test_density_png_reads_back_as_the_same_pixels(shape):
    # An independent decoder (Pillow) reads every pixel of the image the page embeds.
    from PIL import Image

    from parkmap.webmap.assets import png_bytes

    rng = np.random.default_rng(sum(shape))
    rgba = rng.integers(0, 256, size=(*shape, 4), dtype=np.uint8)
    rgba[: shape[0] // 2] = (10, 20, 30, 0)  # runs that compress, beside noise that does not
    image = Image.open(io.BytesIO(png_bytes(rgba)))
    assert image.mode == "RGBA" and image.size == (shape[1], shape[0])
    np.testing.assert_array_equal(np.asarray(image), rgba)

"""The map at scale: compact project payload, 100,000 projects in a browser, filters, search,
the investment grid. Expected numbers come from pandas on the inputs, never from the page."""

from __future__ import annotations

import io
import json
import re

import numpy as np
import pandas as pd
import pytest
from conftest import join_like, make_many_projects, make_parks, make_projects, metrics_like
from pages import OfflinePage, with_test_hooks

from parkmap.density import hex_grid
from parkmap.webmap import build_map, save_map
from parkmap.webmap import payload_schema as schema
from parkmap.webmap.payloads import AGGREGATE_ABOVE, HEX_BREAKS, inline_blocks, unpack_raw

XSS_NAME = "<img src=x onerror=alert(1)>"
SEARCH_NAME = "青岛胶州湾示范检索目标智能工厂"
MAX_HTML_BYTES = 5_000_000


def _payload(html: str, function: str) -> dict:
    match = re.search(rf"parkmap\.{function}\(\s*map_\w+,\s*(.+?)\);\n", html)
    assert match, f"no parkmap.{function} call"
    return inline_blocks(json.loads(match.group(1)), html)


def decode_projects(payload: dict) -> pd.DataFrame:
    """Decode the packed sections (base64 → gunzip → typed sections, see payload_schema) and
    apply the offsets and scales of the payload schema."""
    raw = unpack_raw(payload)
    n = payload[schema.COUNT_KEY]
    km = raw.get(schema.KM.key, np.full(n, schema.MISSING))
    x0, y0 = payload[schema.LON.origin], payload[schema.LAT.origin]
    frame = pd.DataFrame(
        {
            "lon": (x0 + raw[schema.LON.key]) / schema.LON.scale,
            "lat": (y0 + raw[schema.LAT.key]) / schema.LAT.scale,
            "inv": [np.nan if v < 0 else v / schema.INV.scale for v in raw[schema.INV.key]],
            "status": [payload["statuses"][k] for k in raw[schema.ST.key]],
            "industry": [payload["industries"][k] for k in raw[schema.IND.key]],
            "park": [payload["parkNames"][k] if k >= 0 else "" for k in raw[schema.PARK.key]],
            "name": raw[schema.NAME.key],
            "project_id": raw.get(schema.ID.key, [""] * n),
            "day": raw.get(schema.DAY.key, [schema.MISSING] * n),
            "km": np.where(km >= 0, km / schema.KM.scale, np.nan),
            "warn": raw.get(schema.WARN.key, [""] * n),
        }
    )
    assert len(frame) == n
    return frame


@pytest.fixture(scope="module")
def small_parks():
    parks = make_parks()
    return parks, metrics_like(parks, join_like(make_projects(), parks))


@pytest.fixture(scope="module")
def many(small_parks):
    """100,000 projects (with a hostile and a unique searchable name) and their map page."""
    projects = make_many_projects(100_000)
    projects.loc[projects.index[123], "name"] = XSS_NAME
    projects.loc[projects.index[4567], "name"] = SEARCH_NAME
    html = build_map(small_parks[1], projects).get_root().render()
    return projects, html


# ---------------------------------------------------------------- payload and size


def test_html_size_100k(many):
    projects, html = many
    size = len(html.encode("utf-8"))
    print(f"\nmap.html with {len(projects):,} projects: {size / 1e6:.2f} MB")
    assert size <= MAX_HTML_BYTES


def test_html_size_10k(small_parks):
    projects = make_many_projects(10_000, seed=3)
    size = len(build_map(small_parks[1], projects).get_root().render().encode("utf-8"))
    print(f"\nmap.html with 10,000 projects: {size / 1e6:.2f} MB")
    assert size <= MAX_HTML_BYTES / 5


def test_payload_round_trip(small_parks):
    projects = make_many_projects(10_000, seed=11)
    projects.loc[projects.index[5], "warnings"] = "坐标为估计"
    html = build_map(small_parks[1], projects).get_root().render()
    payload = _payload(html, "projectsLayer")
    assert "columns" not in payload
    decoded = decode_projects(payload).set_index("project_id")
    source = projects.set_index("project_id")
    assert source.index.is_unique and decoded.index.is_unique
    assert sorted(decoded.index) == sorted(source.index)
    src = source.loc[decoded.index]
    np.testing.assert_allclose(decoded["lon"], src["lon"], rtol=0, atol=1e-6)
    np.testing.assert_allclose(decoded["lat"], src["lat"], rtol=0, atol=1e-6)
    np.testing.assert_allclose(decoded["inv"], src["investment_100m_cny"], rtol=0, atol=1e-4)
    assert (decoded["name"] == src["name"]).all()
    assert (decoded["status"] == src["status"]).all()
    assert (decoded["industry"] == src["industry"]).all()
    days = (src["signed_date"] - pd.Timestamp("1970-01-01")).dt.days.fillna(-1).astype(int)
    assert (decoded["day"] == days).all()
    outside = src["park_id"] == ""
    assert (decoded.loc[~outside.to_numpy(), "park"] != "").all()
    np.testing.assert_allclose(decoded.loc[outside.to_numpy(), "km"], 1.5)
    assert decoded["km"][~outside.to_numpy()].isna().all()
    assert decoded.loc[projects["project_id"].iloc[5], "warn"] == "坐标为估计"
    assert (decoded["warn"] != "").sum() == 1
    # largest investment first, unknown last
    inv = decoded["inv"].to_numpy()
    known = inv[np.isfinite(inv)]
    assert (np.diff(known) <= 0).all() and np.isnan(inv[len(known) :]).all()


def test_empty_columns_are_left_out(small_parks):
    projects = make_projects().drop(columns=["signed_date", "warnings", "project_id"])
    html = build_map(small_parks[1], projects).get_root().render()
    raw = unpack_raw(_payload(html, "projectsLayer"))
    assert {"day", "warn", "id", "osys", "km"}.isdisjoint(raw)


def test_hex_payload_fixed_classes(small_parks):
    parks, metrics = small_parks
    projects = join_like(make_projects(), parks)
    hexes = hex_grid(projects, cell_km=1.0, cover=parks)
    html = build_map(metrics, projects, hexes=hexes).get_root().render()
    data = _payload(html, "hexLayer")
    assert data["breaks"] == list(HEX_BREAKS)
    feats = data["geojson"]["features"]
    assert len(feats) == len(hexes)
    for f, (_, cell) in zip(feats, hexes.iterrows(), strict=True):
        inv = cell["investment_100m_cny"]
        expected = -1 if inv <= 0 else int(np.searchsorted(HEX_BREAKS, inv))
        assert f["properties"]["c"] == expected
        assert f["properties"]["n"] == cell["count"]
    block = re.search(r"overlays\s*:\s*\{(.*?)\}", html, flags=re.DOTALL).group(1)
    names = [json.loads(k) for k in re.findall(r'("(?:[^"\\]|\\.)*")\s*:', block)]
    assert names == ["投资项目", "园区投资密度", "投资网格 (1 km)"]
    legend = _payload(html, "addLegend")["hexes"]
    assert [e["label"] for e in legend["entries"]] == [
        "≤ 1",
        "1 – 5",
        "5 – 10",
        "10 – 50",
        "50 – 100",
        "> 100",
    ]
    assert "亿元/格" in legend["title"]


# ---------------------------------------------------------------- browser


class _Page(OfflinePage):
    """The map page with the network cut, plus the drawn-project count."""

    def drawn(self) -> int:
        return self.page.evaluate("parkmap.drawnCount()")


def _not_blank(png: bytes) -> None:
    Image = pytest.importorskip("PIL.Image")
    image = Image.open(io.BytesIO(png)).convert("RGB")
    colours = image.getcolors(maxcolors=1 << 20)
    assert colours is not None and len(colours) > 100


@pytest.fixture(scope="module")
def big_page(browser, many, tmp_path_factory):
    path = tmp_path_factory.mktemp("scale") / "map.html"
    path.write_text(many[1], encoding="utf-8")
    page = _Page(with_test_hooks(browser), path)
    yield page
    page.context.close()


@pytest.mark.browser
def test_browser_100k_renders(big_page, many):
    projects, _ = many
    s = big_page
    page = s.page
    # load and first paint: navigation start to the first frame after parkmap is ready
    page.wait_for_function("parkmap.timing && parkmap.timing.firstFrame !== null")
    timing = page.evaluate("parkmap.timing")
    state = page.evaluate(
        "() => ({n: parkmap.state().layers.projects.n, agg: parkmap.aggregated(),"
        " drawn: parkmap.drawnCount()})"
    )
    assert state["n"] == len(projects)
    # every project is in the initial view; that many are shown as bins, not points
    assert state["drawn"] == len(projects)
    assert state["agg"] is (len(projects) > AGGREGATE_ABOVE)
    _not_blank(page.screenshot())
    s.assert_clean()
    # zoomed into one park, points are drawn instead of bins
    page.evaluate("parkmap.map.setView([36.70, 120.13], 16, {animate: false})")
    assert page.evaluate("parkmap.aggregated()") is False
    assert 0 < s.drawn() <= AGGREGATE_ABOVE
    print(
        f"\n100k projects: ready after {timing['ready']:.0f} ms, "
        f"first frame after ready at {timing['firstFrame']:.0f} ms from navigation start"
    )


@pytest.mark.browser
def test_browser_100k_search_and_xss(big_page, many):
    projects, _ = many
    s = big_page
    page = s.page
    box = page.locator(".pm-search")
    box.fill("检索目标")
    assert page.locator(".pm-result").all_inner_texts() == [SEARCH_NAME]
    box.press("Enter")
    popup = page.locator(".leaflet-popup-content")
    assert popup.locator("h3").inner_text() == SEARCH_NAME
    target = projects[projects["name"] == SEARCH_NAME].iloc[0]
    assert target["project_id"] in popup.inner_text()
    centre = page.evaluate(
        "(() => { const c = parkmap.map.getCenter(); return [c.lat, c.lng]; })()"
    )
    assert centre == pytest.approx([target["lat"], target["lon"]], abs=1e-5)

    box.fill("<img src=x")
    results = page.locator(".pm-result")
    assert results.all_inner_texts() == [XSS_NAME]
    results.first.click()
    # the previous popup fades out for 200 ms
    page.wait_for_function("document.querySelectorAll('.leaflet-popup').length === 1")
    popup = page.locator(".leaflet-popup-content")
    assert popup.locator("h3").inner_text() == XSS_NAME
    assert page.locator(".leaflet-popup-content img, .pm-results img").count() == 0
    # hovering the project shows its name as text too
    point = page.evaluate(
        "([lat, lon]) => parkmap.map.latLngToContainerPoint([lat, lon])",
        [float(projects.iloc[123]["lat"]), float(projects.iloc[123]["lon"])],
    )
    frame = page.locator(".folium-map").bounding_box()
    page.mouse.move(frame["x"] + point["x"], frame["y"] + point["y"])
    page.wait_for_timeout(100)
    assert XSS_NAME in page.locator(".leaflet-tooltip").inner_text()
    assert page.locator(".leaflet-tooltip img").count() == 0
    s.assert_clean()


@pytest.mark.browser
def test_browser_100k_status_filter(big_page, many):
    projects, _ = many
    s = big_page
    page = s.page
    page.evaluate("parkmap.map.closePopup()")
    bounds = page.evaluate(
        "(() => { const b = parkmap.map.getBounds();"
        " return [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()]; })()"
    )
    page.locator(".pm-filters [data-filter=status] input").nth(0).uncheck()
    west, south, east, north = bounds
    # a margin of 16 px around the view counts as drawn; take points well inside instead
    inner = (
        (projects.lon > west)
        & (projects.lon < east)
        & (projects.lat > south)
        & (projects.lat < north)
    )
    margin = (
        (projects.lon > west - 0.01)
        & (projects.lon < east + 0.01)
        & (projects.lat > south - 0.01)
        & (projects.lat < north + 0.01)
    )
    keep = projects.status != "signed"
    drawn = s.drawn()
    assert int((inner & keep).sum()) <= drawn <= int((margin & keep).sum())
    page.locator(".pm-filters [data-filter=status] input").nth(0).check()
    s.assert_clean()


@pytest.fixture
def small_page(browser, tmp_path, small_parks):
    parks, metrics = small_parks
    projects = join_like(make_projects(), parks)
    hexes = hex_grid(projects, cell_km=1.0, cover=parks)
    path = save_map(build_map(metrics, projects, hexes=hexes), tmp_path / "map.html")
    page = _Page(with_test_hooks(browser), path)
    yield page, projects, hexes
    page.context.close()


def _set_range(page, selector: str, value) -> None:
    page.evaluate(
        """([sel, v]) => {
            const input = document.querySelector(sel);
            input.value = String(v);
            input.dispatchEvent(new Event('input', {bubbles: true}));
            input.dispatchEvent(new Event('change', {bubbles: true}));
        }""",
        [selector, value],
    )


@pytest.mark.browser
def test_browser_filters_change_drawn_count(small_page):
    s, projects, _ = small_page
    page = s.page
    n = len(projects)
    assert s.drawn() == n
    status = page.locator(".pm-filters [data-filter=status] input")
    status.nth(1).uncheck()  # under construction
    assert s.drawn() == int((projects.status != "under_construction").sum())
    status.nth(1).check()
    assert s.drawn() == n

    labels = page.locator(".pm-filters [data-filter=industry] label").all_inner_texts()
    first = labels[0].strip()
    page.locator(".pm-filters [data-filter=industry] input").nth(0).uncheck()
    assert s.drawn() == int((projects.industry.str.strip() != first).sum())
    other = page.locator(".pm-filters [data-filter=industry] input").last
    other.uncheck()
    top = [x.strip() for x in labels[:-1]]
    assert labels[-1].strip() == "其他"
    assert s.drawn() == int(projects.industry.str.strip().isin(top[1:]).sum())
    page.locator(".pm-filters [data-filter=industry] input").nth(0).check()
    other.check()
    assert s.drawn() == n

    page.locator(".pm-inv-min").fill("10")
    inv = projects.investment_100m_cny
    assert s.drawn() == int(((inv >= 10) | inv.isna()).sum())
    page.locator(".pm-inv-max").fill("30")
    assert s.drawn() == int(((inv >= 10) & (inv <= 30) | inv.isna()).sum())
    page.locator(".pm-inv-unknown").uncheck()
    assert s.drawn() == int(((inv >= 10) & (inv <= 30)).sum())
    page.locator(".pm-inv-min").fill("")
    page.locator(".pm-inv-max").fill("")
    page.locator(".pm-inv-unknown").check()
    assert s.drawn() == n
    s.assert_clean()


@pytest.mark.browser
def test_browser_year_slider_is_cumulative(small_page):
    s, projects, _ = small_page
    page = s.page
    years = projects.signed_date.dt.year
    inv = projects.investment_100m_cny
    assert page.evaluate("document.querySelector('.pm-year').min") == str(int(years.min()))
    assert page.evaluate("document.querySelector('.pm-year').max") == str(int(years.max()))
    previous = -1
    for year in range(int(years.min()), int(years.max()) + 1):
        _set_range(page, ".pm-year", year)
        shown = (years <= year) | years.isna()
        assert s.drawn() == int(shown.sum())
        assert s.drawn() >= previous
        previous = s.drawn()
        text = page.locator(".pm-shown").inner_text()
        assert f"{inv[shown].sum():,.2f} 亿元" in text
        assert page.locator(".pm-year-label").inner_text() == str(year)
    _set_range(page, ".pm-year", int(years.min()))
    page.locator(".pm-nodate").uncheck()
    assert s.drawn() == int((years <= years.min()).sum())
    s.assert_clean()


@pytest.mark.browser
def test_browser_year_slider_plays_the_years_in_order(small_page):
    s, projects, _ = small_page
    page = s.page
    years = projects.signed_date.dt.year
    first, last = int(years.min()), int(years.max())
    page.evaluate(
        """() => {
            parkmap.PLAY_STEP_MS = 40;
            window.__seen = [];
            const label = document.querySelector('.pm-year-label');
            new MutationObserver(() => window.__seen.push([+label.textContent,
                parkmap.drawnCount()])).observe(label, {childList: true, characterData: true,
                subtree: true});
        }"""
    )
    play = page.locator(".pm-play")
    assert play.get_attribute("aria-label") == "逐年播放"
    play.click()  # at the last year: starts again from the first
    page.wait_for_function("!document.querySelector('.pm-play.pm-playing')")
    seen = page.evaluate("window.__seen")
    expected = [[y, int(((years <= y) | years.isna()).sum())] for y in range(first, last + 1)]
    assert seen == expected
    assert page.locator(".pm-year").input_value() == str(last)
    # a hand on the slider stops the playing
    play.click()
    assert page.locator(".pm-play.pm-playing").count() == 1
    _set_range(page, ".pm-year", first)
    assert page.locator(".pm-play.pm-playing").count() == 0
    s.assert_clean()


@pytest.mark.browser
def test_browser_hex_layer_toggles_with_tooltip(small_page):
    s, _, hexes = small_page
    page = s.page
    label = page.locator(".leaflet-control-layers-overlays label", has_text="投资网格 (1 km)")
    assert page.evaluate("parkmap.map.hasLayer(parkmap.state().layers.hexes)") is False
    assert page.locator(".pm-legend [data-layer=hexes]").is_hidden()
    label.click()
    assert page.evaluate("parkmap.map.hasLayer(parkmap.state().layers.hexes)") is True
    assert page.locator(".pm-legend [data-layer=hexes]").is_visible()
    # projects off, so the pointer reaches the grid
    page.locator(".leaflet-control-layers-overlays label", has_text="投资项目").click()
    assert s.drawn() == 0
    cell = hexes.sort_values("investment_100m_cny", ascending=False).iloc[0]
    centre = cell.geometry.centroid
    point = page.evaluate(
        "([lat, lon]) => parkmap.map.latLngToContainerPoint([lat, lon])", [centre.y, centre.x]
    )
    frame = page.locator(".folium-map").bounding_box()
    page.mouse.move(frame["x"] + point["x"] - 1, frame["y"] + point["y"] - 1)
    page.mouse.move(frame["x"] + point["x"], frame["y"] + point["y"])
    page.wait_for_timeout(100)
    text = page.locator(".leaflet-tooltip").inner_text()
    assert f"项目数 {int(cell['count'])}" in text
    assert f"投资额 {cell['investment_100m_cny']:,.2f} 亿元" in text
    label.click()
    assert page.evaluate("parkmap.map.hasLayer(parkmap.state().layers.hexes)") is False
    s.assert_clean()


@pytest.mark.browser
def test_browser_small_set_is_points_and_screenshot(small_page):
    s = small_page[0]
    page = s.page
    assert page.evaluate("parkmap.aggregated()") is False
    assert page.locator(".pm-legend [data-layer=aggregate]").is_hidden()
    _not_blank(page.screenshot())
    s.assert_clean()


def test_numbers_cut_into_parts_each_whole_base64_and_read_back_joined(monkeypatch):
    import base64

    from parkmap.webmap import payloads

    blob = bytes(range(256)) * 40 + b"tail"  # 10,244 bytes: 13,660 base64 characters
    numbers = base64.b64encode(blob).decode("ascii")
    payload = {
        "n": 3,
        "x0": 1,
        "y0": 2,
        "layout": [],
        "packed": numbers,
        "textLayout": [],
        "textPacked": "dGV4dA==",
    }
    monkeypatch.setattr(payloads, "PART_CHARS", 4096)
    page, html, late = payloads.page_blocks(payload, "m")
    assert page["packed"] == {"block": "m_numbers", "parts": 4}  # 13,660 / 4,096 → 4
    assert page["textPacked"] == {"block": "m_texts"}
    texts = re.findall(r'id="(m_numbers(?:_\d)?)">([^<]*)<', "".join(html))
    assert [name for name, _ in texts] == ["m_numbers", "m_numbers_1", "m_numbers_2", "m_numbers_3"]
    # every part decodes on its own (whole groups of 4), and they join to the blob
    assert b"".join(base64.b64decode(text, validate=True) for _, text in texts) == blob
    # each part is followed by the script that hands it on
    assert "".join(html).count("parkmap.decodeBlock(") == 1 + 4
    # the texts come after the page script, with their own call
    assert 'id="m_texts"' in "".join(late) and 'id="m_texts"' not in "".join(html)
    assert "".join(late).count("parkmap.decodeBlock(") == 1
    back = payloads.inline_blocks(page, "".join(html + late))
    assert back["packed"] == numbers and back["textPacked"] == "dGV4dA=="

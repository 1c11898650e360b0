"""Legend truth in headless Chromium: what a reader sees on a park is its legend swatch.

The park colours are read from a screenshot (network cut) at each park's pole of
inaccessibility, with the projects, context, controls and tooltips out of the way and the
density surface left on. Expected classes and counts are worked out here with pandas and
mapclassify from ``analysis.projects`` and ``analysis.parks``, never read from the page.
"""

from __future__ import annotations

import io

import mapclassify
import numpy as np
import pandas as pd
import pytest
from pages import OfflinePage, with_test_hooks
from PIL import Image
from shapely.geometry import box
from shapely.ops import polylabel

from parkmap import settings
from parkmap.metrics import park_summary
from parkmap.pipeline import analyse
from parkmap.webmap import build_map, save_map
from parkmap.webmap.compose import make_map

#: Largest difference per RGB channel between a pixel and its swatch (antialiasing, PNG).
TOLERANCE = 3
NO_PROJECTS = -2

HIDE_CONTROLS = ".leaflet-control-container, .leaflet-tooltip-pane { display: none !important; }"


class _LegendPage(OfflinePage):
    def swatches(self) -> dict[int, tuple[int, int, int]]:
        """Legend swatch colour by park class (``data-cls``), as the legend shows it."""
        rows = self.page.evaluate(
            """() => Array.from(document.querySelectorAll('.pm-legend-row[data-cls]')).map(r =>
                [+r.getAttribute('data-cls'),
                 getComputedStyle(r.querySelector('.pm-swatch')).backgroundColor])"""
        )
        return {cls: _rgb(color) for cls, color in rows}

    def counts(self) -> dict[int, int]:
        """Legend count by park class."""
        rows = self.page.evaluate(
            """() => Array.from(document.querySelectorAll('.pm-legend-row[data-cls]')).map(r =>
                [+r.getAttribute('data-cls'), r.querySelector('.pm-legend-count').textContent])"""
        )
        return {cls: int(text.strip("()")) for cls, text in rows}

    def filter_status(self, status: str) -> None:
        """Keep only projects of one status, through the panel's checkboxes."""
        self.page.evaluate(
            """(k) => {
                const boxes = document.querySelectorAll('fieldset[data-filter=status] input');
                boxes.forEach((b, i) => {
                    b.checked = i === k;
                    b.dispatchEvent(new Event('change', {bubbles: true}));
                });
            }""",
            settings.STATUSES.index(status),
        )
        self.settle()

    def park_pixels(self, parks: pd.DataFrame) -> list[tuple[int, int, int]]:
        """The colour drawn at each park's pole of inaccessibility, the park zoomed to."""
        self.page.evaluate(
            """() => {
                const s = parkmap.state();
                for (const key of ['projects', 'context', 'hexes'])
                    if (s.layers[key]) s.map.removeLayer(s.layers[key]);
            }"""
        )
        self.page.add_style_tag(content=HIDE_CONTROLS)
        out = []
        frame = self.page.locator(".folium-map").bounding_box()
        for geom in parks.geometry:
            part = max(getattr(geom, "geoms", [geom]), key=lambda g: g.area)
            inner = polylabel(part, tolerance=1e-5)
            w, s_, e, n = part.bounds
            point = self.page.evaluate(
                """([w, s, e, n, lat, lon]) => {
                    parkmap.map.fitBounds([[s, w], [n, e]], {animate: false, padding: [40, 40]});
                    return parkmap.map.latLngToContainerPoint([lat, lon]);
                }""",
                [w, s_, e, n, inner.y, inner.x],
            )
            self.settle()
            shot = Image.open(io.BytesIO(self.page.screenshot())).convert("RGB")
            x = round(frame["x"] + point["x"])
            y = round(frame["y"] + point["y"])
            out.append(_rgb_median(shot, x, y))
        return out


def _rgb(css: str) -> tuple[int, int, int]:
    r, g, b = (int(float(v)) for v in css[css.index("(") + 1 : css.index(")")].split(",")[:3])
    return r, g, b


def _rgb_median(image: Image.Image, x: int, y: int) -> tuple[int, int, int]:
    """Median colour of the 5 × 5 pixels around (x, y)."""
    pixels = np.array(
        [[image.getpixel((x + dx, y + dy)) for dx in range(-2, 3)] for dy in range(-2, 3)]
    )
    r, g, b = np.median(pixels.reshape(-1, 3), axis=0).astype(int)
    return int(r), int(g), int(b)


def _close(a: tuple[int, int, int], b: tuple[int, int, int]) -> bool:
    return max(abs(x - y) for x, y in zip(a, b, strict=True)) <= TOLERANCE


def _classes(density: np.ndarray, projects: np.ndarray, bins: np.ndarray) -> np.ndarray:
    """Class per park: no projects → -2; else the first upper bound the density reaches."""
    cls = np.minimum(np.searchsorted(bins, density, side="left"), len(bins) - 1)
    return np.where(projects == 0, NO_PROJECTS, cls)


def _figures(analysis, status: str | None = None) -> pd.DataFrame:
    """Projects, investment and density per park, of one status (or all), with pandas."""
    projects = analysis.projects
    if status is not None:
        projects = projects[projects["status"] == status]
    inside = projects[projects["park_id"].astype(str) != ""]
    sums = inside.groupby("park_id").agg(
        n=("park_id", "size"), inv=("investment_100m_cny", lambda s: s.sum(skipna=True))
    )
    parks = analysis.parks.set_index("park_id")
    out = pd.DataFrame(index=parks.index)
    out["n"] = sums["n"].reindex(out.index).fillna(0).astype(int)
    out["inv"] = sums["inv"].reindex(out.index).fillna(0.0)
    out["density"] = out["inv"] / parks["area_km2"]
    return out


@pytest.fixture(scope="module")
def demo():
    return analyse()


@pytest.fixture
def open_page(browser, tmp_path):
    pages = []

    def opener(m, name="map.html"):
        page = _LegendPage(with_test_hooks(browser), save_map(m, tmp_path / name))
        pages.append(page)
        return page

    yield opener
    for page in pages:
        page.close()


def _all_bins(analysis) -> np.ndarray:
    """Quantile upper bounds (k = 5) of the densities of parks with projects, by mapclassify."""
    fig = _figures(analysis)
    y = fig.loc[fig["n"] > 0, "density"].to_numpy()
    return np.asarray(mapclassify.Quantiles(y, k=min(5, len(np.unique(y)))).bins)


@pytest.mark.browser
def test_park_pixels_are_their_legend_swatch(open_page, demo):
    page = open_page(make_map(demo))
    assert page.page.evaluate("!!parkmap.state().layers.density")  # the surface is on
    assert page.page.evaluate("parkmap.map.hasLayer(parkmap.state().layers.density)")
    fig = _figures(demo)
    expected = _classes(fig["density"].to_numpy(), fig["n"].to_numpy(), _all_bins(demo))
    swatches = page.swatches()
    pixels = page.park_pixels(demo.parks)
    for park_id, cls, pixel in zip(fig.index, expected, pixels, strict=True):
        assert _close(pixel, swatches[int(cls)]), (park_id, cls, pixel, swatches)
        assert any(_close(pixel, sw) for sw in swatches.values())
    page.assert_clean()


@pytest.mark.browser
@pytest.mark.parametrize("status", ["under_construction", "signed"])
def test_filter_to_one_status_reclasses_parks_and_legend(open_page, demo, status):
    fig = _figures(demo, status)
    assert 0 < fig["n"].sum() < len(demo.projects)  # the filter changes something
    bins = _all_bins(demo)  # the breaks of all projects, as the legend says
    expected = _classes(fig["density"].to_numpy(), fig["n"].to_numpy(), bins)
    page = open_page(make_map(demo))
    page.filter_status(status)
    state = page.page.evaluate(
        """() => { const f = parkmap.state().parkFigures;
                   return {filtered: f.filtered, cls: Array.from(f.cls),
                           n: Array.from(f.projects), inv: Array.from(f.investment)}; }"""
    )
    assert state["filtered"] is True
    assert state["cls"] == expected.tolist()
    assert state["n"] == fig["n"].tolist()
    np.testing.assert_allclose(state["inv"], fig["inv"].to_numpy(), atol=1e-3)
    counts = page.counts()
    for cls in set(counts) | set(expected.tolist()):
        assert counts.get(cls, 0) == int((expected == cls).sum()), (cls, counts)
    # the notes say what follows the filter and what does not
    assert page.page.locator(".pm-filtered-note").first.is_visible()
    # and the colours on screen are those classes' swatches
    swatches = page.swatches()
    for park_id, cls, pixel in zip(fig.index, expected, page.park_pixels(demo.parks), strict=True):
        assert _close(pixel, swatches[int(cls)]), (park_id, cls, pixel, swatches)
    page.assert_clean()


@pytest.mark.browser
def test_unchecking_then_rechecking_restores_all_projects(open_page, demo):
    page = open_page(make_map(demo))
    before = page.counts()
    page.filter_status("signed")
    assert page.counts() != before
    page.page.evaluate(
        """() => document.querySelectorAll('fieldset[data-filter=status] input').forEach(b => {
            b.checked = true; b.dispatchEvent(new Event('change', {bubbles: true})); })"""
    )
    page.settle()
    assert page.counts() == before
    assert page.page.evaluate("parkmap.state().parkFigures.filtered") is False
    assert not page.page.locator(".pm-filtered-note").first.is_visible()


def _small_with_empty_park():
    """Two parks with projects and one (far east) with none, through parkmap.metrics."""
    import geopandas as gpd

    parks = gpd.GeoDataFrame(
        {
            "park_id": ["a", "b", "empty"],
            "name": ["甲园", "乙园", "空园"],
            "geometry": [
                box(120.00, 36.00, 120.05, 36.04),
                box(120.10, 36.00, 120.14, 36.04),
                box(120.20, 36.00, 120.25, 36.04),
            ],
        },
        crs="EPSG:4326",
    )
    rows = [
        ("p1", "a", 120.01, 36.01, 5.0, "signed"),
        ("p2", "a", 120.02, 36.02, 3.0, "under_construction"),
        ("p3", "b", 120.11, 36.01, 1.0, "signed"),
        ("p4", "", 120.30, 36.10, 2.0, "signed"),
    ]
    projects = gpd.GeoDataFrame(
        {
            "project_id": [r[0] for r in rows],
            "name": [f"项目{r[0]}" for r in rows],
            "park_id": [r[1] for r in rows],
            "park_ids": [r[1] for r in rows],
            "park_name": ["甲园" if r[1] == "a" else "乙园" if r[1] == "b" else "" for r in rows],
            "nearest_park_id": [r[1] or "empty" for r in rows],
            "distance_km": [0.0, 0.0, 0.0, 9.0],
            "investment_100m_cny": [r[4] for r in rows],
            "status": [r[5] for r in rows],
            "industry": ["汽车"] * len(rows),
            "signed_date": pd.to_datetime(["2023-01-01"] * len(rows)),
            "geometry": gpd.points_from_xy([r[2] for r in rows], [r[3] for r in rows]),
        },
        crs="EPSG:4326",
    )
    return park_summary(parks, projects), projects


def test_no_project_park_has_its_own_legend_row():
    parks, projects = _small_with_empty_park()
    assert parks.set_index("park_id").loc["empty", "projects"] == 0
    m = build_map(parks, projects)
    html = m.get_root().render()
    assert "无项目" in html
    assert "0.00 – 0.00" not in html


@pytest.mark.browser
def test_no_project_park_shows_the_no_projects_swatch(open_page):
    parks, projects = _small_with_empty_park()
    page = open_page(build_map(parks, projects))
    counts = page.counts()
    assert counts[NO_PROJECTS] == 1  # only 空园
    assert sum(v for k, v in counts.items() if k >= 0) == 2
    swatches = page.swatches()
    pixels = page.park_pixels(parks)
    assert _close(pixels[2], swatches[NO_PROJECTS])
    assert not _close(pixels[0], swatches[NO_PROJECTS])
    assert not _close(pixels[1], swatches[NO_PROJECTS])
    page.assert_clean()


@pytest.mark.browser
def test_filter_empties_a_park_into_no_projects(open_page):
    parks, projects = _small_with_empty_park()
    page = open_page(build_map(parks, projects))
    page.filter_status("under_construction")  # only p2 (in 甲园) passes
    counts = page.counts()
    assert counts[NO_PROJECTS] == 2  # 乙园 and 空园
    assert sum(v for k, v in counts.items() if k >= 0) == 1
    swatches = page.swatches()
    pixels = page.park_pixels(parks)
    assert _close(pixels[1], swatches[NO_PROJECTS])
    assert _close(pixels[2], swatches[NO_PROJECTS])
    page.assert_clean()


@pytest.mark.browser
def test_marker_legend_counts_follow_the_filter(open_page, demo):
    status = "under_construction"
    located = demo.projects[~demo.projects.geometry.is_empty & demo.projects.geometry.notna()]
    # the other filters are open: every located project of that status passes
    expected = int((located["status"] == status).sum())
    page = open_page(make_map(demo))
    page.filter_status(status)
    rows = page.page.evaluate(
        """() => Array.from(document.querySelectorAll('.pm-legend-row[data-tally]')).map(r =>
            [JSON.parse(r.getAttribute('data-tally')),
             r.querySelector('.pm-legend-count').textContent])"""
    )
    k = settings.STATUSES.index(status)
    counts = {spec[1][0]: int(text.strip("()")) for spec, text in rows if spec[0] == "st"}
    assert counts[k] == expected
    assert all(n == 0 for s, n in counts.items() if s != k)


@pytest.mark.browser
def test_filter_resums_the_investment_grid(open_page, demo):
    """Cells summed again in the page equal a shapely point-in-cell count of that status."""
    import geopandas as gpd

    from parkmap.density import hex_grid
    from parkmap.settings import MapOptions

    status = "under_construction"
    located = demo.projects[~demo.projects.geometry.is_empty & demo.projects.geometry.notna()]
    grid = hex_grid(
        located[["investment_100m_cny", located.geometry.name]],
        cell_km=MapOptions().cell_km,
        cover=demo.parks,
    ).to_crs("EPSG:4326")
    chosen = located[located["status"] == status].to_crs("EPSG:4326")
    cells = gpd.GeoDataFrame(geometry=grid.geometry.reset_index(drop=True), crs=grid.crs)
    hits = gpd.sjoin(chosen, cells, predicate="within", how="inner")
    by_cell = hits.groupby("index_right").agg(
        n=("index_right", "size"), inv=("investment_100m_cny", "sum")
    )
    n = by_cell["n"].reindex(range(len(cells))).fillna(0).to_numpy()
    inv = by_cell["inv"].reindex(range(len(cells))).fillna(0.0).to_numpy()

    page = open_page(make_map(demo, grid=grid))
    page.filter_status(status)
    got = page.page.evaluate(
        """() => { const h = parkmap.state().hexFigures;
                   return {filtered: h.filtered, n: Array.from(h.n), inv: Array.from(h.inv)}; }"""
    )
    assert got["filtered"] is True
    assert got["n"] == n.tolist()
    np.testing.assert_allclose(got["inv"], inv, atol=1e-3)
    # legend rows: cells per fixed class (payloads.HEX_BREAKS), of the filtered sums
    from parkmap.webmap.payloads import HEX_BREAKS

    cls = np.where(inv > 0, np.searchsorted(HEX_BREAKS, inv, side="left"), -1)
    rows = page.page.evaluate(
        """() => Array.from(document.querySelectorAll('[data-hex-cls]')).map(r =>
            +r.querySelector('.pm-legend-count').textContent.slice(1, -1))"""
    )
    assert rows == [int((cls == k).sum()) for k in range(len(HEX_BREAKS) + 1)]
    page.assert_clean()

"""Parks the size of a county: the investment grid costs cells only where projects are.

The counties here are ten ~1,500 km² polygons (the size of Qingdao's districts); the real
district outlines in ``../shared/reference/`` (GCJ-02) are used too when that folder is present.
Every expectation is worked out with shapely or a k-d tree, not taken from a first run.
"""

from __future__ import annotations

import math
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
from click.testing import CliRunner
from pyproj import Transformer
from scipy.spatial import cKDTree

from parkmap.density import hex_grid

GK = "EPSG:4549"  # CGCS2000 Gauss–Krüger zone 40 (CM 120°E)
TO_GK = Transformer.from_crs("EPSG:4326", GK, always_xy=True)
TO_LONLAT = Transformer.from_crs(GK, "EPSG:4326", always_xy=True)
CENTRE_X, CENTRE_Y = TO_GK.transform(120.26, 36.66)  # the bundled parks' middle
SIDE_M = 39_000.0  # 39 km squares: 1,521 km², like a Qingdao district
REFERENCE = Path(__file__).resolve().parents[2] / "shared" / "reference"
DISTRICTS = REFERENCE / "qingdao_districts_gcj02.geojson"
PAGE_LIMIT = 5_000_000  # bytes: the page-size promise


def county_polygons(seed: int = 4) -> list[shapely.Polygon]:
    """Ten irregular county-sized polygons (GK metres) tiling a 5 × 2 block, 200 vertices each."""
    rng = np.random.default_rng(seed)
    polygons = []
    for row in range(2):
        for col in range(5):
            x0 = CENTRE_X + (col - 2.5) * SIDE_M
            y0 = CENTRE_Y + (row - 1.0) * SIDE_M
            t = np.linspace(0.0, 1.0, 50, endpoint=False)
            edges = [
                np.column_stack((x0 + t * SIDE_M, np.full(50, y0))),
                np.column_stack((np.full(50, x0 + SIDE_M), y0 + t * SIDE_M)),
                np.column_stack((x0 + SIDE_M - t * SIDE_M, np.full(50, y0 + SIDE_M))),
                np.column_stack((np.full(50, x0), y0 + SIDE_M - t * SIDE_M)),
            ]
            ring = np.vstack(edges)
            ring += rng.uniform(-300.0, 300.0, ring.shape)  # a ragged outline
            polygons.append(shapely.make_valid(shapely.Polygon(ring)))
    return polygons


def counties_lonlat() -> gpd.GeoDataFrame:
    polygons = county_polygons()
    return gpd.GeoDataFrame(
        {"park_id": [f"C{i}" for i in range(len(polygons))], "name": "县"},
        geometry=polygons,
        crs=GK,
    ).to_crs("EPSG:4326")


def clustered_projects(n: int, seed: int = 8) -> gpd.GeoDataFrame:
    """Projects in 40 tight clusters (σ 1.5 km) plus 2 % scattered over the whole block."""
    rng = np.random.default_rng(seed)
    half_w, half_h = 2.6 * SIDE_M, 1.1 * SIDE_M
    centres = rng.uniform((-half_w, -half_h), (half_w, half_h), size=(40, 2))
    n_scatter = n // 50
    pick = rng.integers(0, len(centres), n - n_scatter)
    xy = np.vstack(
        (
            centres[pick] + rng.normal(0.0, 1500.0, (n - n_scatter, 2)),
            rng.uniform((-half_w, -half_h), (half_w, half_h), size=(n_scatter, 2)),
        )
    )
    lon, lat = TO_LONLAT.transform(CENTRE_X + xy[:, 0], CENTRE_Y + xy[:, 1])
    return gpd.GeoDataFrame(
        {"investment_100m_cny": rng.lognormal(0.0, 1.0, n)},
        geometry=gpd.points_from_xy(lon, lat),
        crs="EPSG:4326",
    )


@pytest.fixture(scope="module")
def counties() -> gpd.GeoDataFrame:
    return counties_lonlat()


@pytest.fixture(scope="module")
def projects() -> gpd.GeoDataFrame:
    return clustered_projects(20_000)


def centres_gk(cells: gpd.GeoDataFrame) -> np.ndarray:
    metric = cells.to_crs(GK)
    return np.column_stack((metric.centroid.x, metric.centroid.y))


def test_county_polygons_are_county_sized(counties):
    area_km2 = counties.to_crs(GK).area.to_numpy() / 1e6
    assert len(area_km2) == 10
    assert ((area_km2 > 1400) & (area_km2 < 1650)).all()


def test_grid_without_cover_is_the_occupied_cells_and_all_their_neighbours(projects):
    cells = hex_grid(projects, cell_km=1.0, ring=1, metric_crs=GK)
    centres = centres_gk(cells)
    occupied = centres[cells["count"].to_numpy() > 0]
    # Every project is in a returned cell, and in no more than one.
    assert int(cells["count"].sum()) == len(projects)
    # Every cell is an occupied cell or one step (1 km between centres) from one ...
    gap, _ = cKDTree(occupied).query(centres)
    assert (gap < 1000.0 + 1e-3).all()
    # ... and every neighbour of an occupied cell is there: six centres 1 km away at 0°, 60°, …
    angles = np.radians(np.arange(6) * 60.0)
    ring = occupied[:, None, :] + 1000.0 * np.stack((np.cos(angles), np.sin(angles)), -1)
    found, _ = cKDTree(centres).query(ring.reshape(-1, 2))
    assert (found < 1.0).all()
    assert len(cells) <= 7 * len(occupied)


def test_grid_over_counties_keeps_the_cells_that_meet_them(projects, counties):
    cells = hex_grid(projects, cell_km=1.0, cover=counties, metric_crs=GK)
    free = hex_grid(projects, cell_km=1.0, metric_crs=GK).to_crs(GK)
    union = counties.to_crs(GK).union_all()
    # shapely: the cells of the free grid that share area with a county.
    meets = free.intersection(union).area.to_numpy() > 0
    assert set(cells["cell_id"]) == set(free.loc[meets, "cell_id"])
    # Far fewer cells than a grid over the whole of ten counties (about 17,500 cells).
    full_cover = union.area / 1e6 / (math.sqrt(3.0) / 2.0)
    assert full_cover > 17_000
    assert len(cells) < 0.75 * full_cover
    # The projects counted are exactly those whose cell was kept.
    px, py = TO_GK.transform(projects.geometry.x.to_numpy(), projects.geometry.y.to_numpy())
    kept = shapely.union_all(cells.to_crs(GK).geometry.to_numpy())
    inside = shapely.contains_xy(kept, px, py)
    assert int(cells["count"].sum()) == int(inside.sum())
    assert cells.attrs["projects_outside_cells"] == len(projects) - int(inside.sum())


def test_a_county_without_projects_gets_no_cells(projects, counties):
    far = counties.to_crs(GK)
    far["geometry"] = far.translate(xoff=400_000.0)  # 400 km east: no project near
    both = gpd.GeoDataFrame(
        {"park_id": [*counties["park_id"], *[f"F{i}" for i in range(len(far))]]},
        geometry=[*counties.geometry, *far.to_crs("EPSG:4326").geometry],
        crs="EPSG:4326",
    )
    cells = hex_grid(projects, cell_km=1.0, cover=both, metric_crs=GK)
    alone = hex_grid(projects, cell_km=1.0, cover=counties, metric_crs=GK)
    assert cells["cell_id"].tolist() == alone["cell_id"].tolist()


def test_hexagon_outlines_travel_as_integers_and_come_back_exactly(projects, counties):
    from parkmap.webmap.payloads import DECIMALS, hexes_payload

    cells = hex_grid(projects.iloc[:3000], cell_km=1.0, cover=counties, metric_crs=GK)
    data = hexes_payload(cells)
    shape = data["shape"]
    features = data["geojson"]["features"]
    assert len(features) == len(cells)
    assert all(f["geometry"] is None for f in features)
    # What the page does (layers.js hexShapes), in integers, against the rounded vertices.
    c = np.asarray(shape["c"]).reshape(-1, 2)
    t = np.asarray(shape["t"]).reshape(6, 2)
    v = np.asarray(shape["v"]).reshape(-1, 6, 2)
    origin = np.array([shape["x0"], shape["y0"]])
    assert shape["scale"] == 10**DECIMALS
    rebuilt = origin + c[:, None, :] + t[None, :, :] + v
    vertices = np.stack([np.asarray(p.exterior.coords)[:6] for p in cells.geometry])
    np.testing.assert_array_equal(rebuilt, np.rint(vertices * shape["scale"]).astype(np.int64))
    # So every vertex is within half a unit of the last decimal (≈ 5 cm) of the true one.
    np.testing.assert_allclose(rebuilt / shape["scale"], vertices, rtol=0, atol=0.5e-6 + 1e-12)
    # The corrections are small numbers: that is what keeps the page light.
    assert np.abs(v).max() < 100


def _synthetic_csv(path: Path, n: int) -> Path:
    """The benchmarks' synthetic ledger of ``n`` projects (around the bundled Qingdao parks)."""
    import sys

    root = str(Path(__file__).resolve().parents[1])
    if root not in sys.path:  # `pytest` alone does not put the repo root on sys.path
        sys.path.insert(0, root)
    from benchmarks.synthetic import write_projects_csv

    return write_projects_csv(path, n)


def _build(tmp_path: Path, parks_file: Path, *extra: str, n: int = 100_000) -> Path:
    from parkmap.cli import main

    csv = _synthetic_csv(tmp_path / "projects.csv", n)
    out = tmp_path / "out"
    args = ["build", str(csv), "--parks", str(parks_file), "--out", str(out), *extra]
    result = CliRunner().invoke(main, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return out / "map.html"


def _hex_cells_on_page(html: str) -> int:
    start = html.index("parkmap.hexLayer(")
    return html[start : html.index("parkmap.", start + 10)].count('"Feature"')


@pytest.mark.slow
def test_page_for_ten_county_sized_parks_and_100k_projects_stays_under_5_mb(tmp_path, counties):
    parks_file = tmp_path / "counties.geojson"
    counties.to_file(parks_file, driver="GeoJSON")
    page = _build(tmp_path, parks_file)
    html = page.read_text(encoding="utf-8")
    assert page.stat().st_size <= PAGE_LIMIT
    # Ten counties as a blanket grid would be ~17,500 cells; only those near projects are drawn.
    assert 0 < _hex_cells_on_page(html) < 12_000


@pytest.mark.slow
@pytest.mark.skipif(not DISTRICTS.exists(), reason="no ../shared/reference/ district outlines")
def test_page_for_the_real_qingdao_districts_stays_under_5_mb(tmp_path):
    page = _build(tmp_path, DISTRICTS, "--parks-coords", "gcj02")
    assert page.stat().st_size <= PAGE_LIMIT
    assert _hex_cells_on_page(page.read_text(encoding="utf-8")) > 0


def _cluster(tmp_path: Path, parks_file: Path, *extra: str, n: int = 100_000) -> Path:
    """``parkmap cluster`` on the synthetic ledger (few permutations: the page is measured)."""
    from parkmap.cli import main

    csv = _synthetic_csv(tmp_path / "projects.csv", n)
    out = tmp_path / "cluster"
    args = ["cluster", "--projects", str(csv), "--parks", str(parks_file), "--out", str(out)]
    args += ["--permutations", "99", "--simulations", "9", "--no-plots", *extra]
    result = CliRunner().invoke(main, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return out / "map.html"


@pytest.mark.slow
def test_cluster_page_for_ten_county_sized_parks_and_100k_projects_stays_under_5_mb(
    tmp_path, counties
):
    import json
    import re

    parks_file = tmp_path / "counties.geojson"
    counties.to_file(parks_file, driver="GeoJSON")
    page = _cluster(tmp_path, parks_file)
    assert page.stat().st_size <= PAGE_LIMIT
    html = page.read_text(encoding="utf-8")
    call = re.search(r"parkmap\.hotspotsLayer\(\s*map_\w+,\s*(.+?)\);\n", html)
    data = json.loads(call.group(1))
    # every hexagon travels as integers, none as GeoJSON
    assert data["outlines"] == [] and len(data["shape"]["c"]) == 2 * len(data["cells"]["n"]) > 0


@pytest.mark.browser
def test_the_page_draws_every_cell_where_python_put_it_and_the_density_legend(browser, tmp_path):
    import json
    import re
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from pages import OfflinePage, with_test_hooks

    parks_file = tmp_path / "counties.geojson"
    counties_lonlat().to_file(parks_file, driver="GeoJSON")
    path = _build(tmp_path, parks_file, n=3000)
    html = path.read_text(encoding="utf-8")
    call = re.search(r"parkmap\.hexLayer\(\s*map_\w+,\s*(.+?)\);\n", html)
    data = json.loads(call.group(1))
    shape = data["shape"]
    c = np.asarray(shape["c"]).reshape(-1, 2)
    t = np.asarray(shape["t"]).reshape(6, 2)
    v = np.asarray(shape["v"]).reshape(-1, 6, 2)
    origin = np.array([shape["x0"], shape["y0"]])
    expected = (origin + c[:, None, :] + t[None, :, :] + v) / shape["scale"]

    page = OfflinePage(with_test_hooks(browser), path)
    drawn = page.page.evaluate(
        """() => {
            const s = parkmap.state();
            s.map.addLayer(s.layers.hexes);
            const rings = [];
            s.layers.hexes.eachLayer(l => rings.push(l.toGeoJSON(15).geometry.coordinates[0]));
            return rings;
        }"""
    )
    assert len(drawn) == len(expected) > 0
    rings = np.asarray(drawn)
    assert rings.shape == (len(expected), 7, 2)
    np.testing.assert_allclose(rings[:, :6, :], expected, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(rings[:, 6, :], rings[:, 0, :])
    legend = page.page.locator(".pm-legend [data-layer=density]")
    text = legend.inner_text()
    assert "核密度（平滑）" in text and "带宽" in text
    ticks = legend.locator(".pm-ramp-ticks span").all_inner_texts()
    assert len(ticks) == 5 and len(set(ticks)) == 5
    page.assert_clean()
    page.close()

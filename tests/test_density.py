"""Tests for parkmap.density: numbers worked out by hand, or with pyproj and shapely directly."""

from __future__ import annotations

import dataclasses
import math

import geopandas as gpd
import numpy as np
import pytest
import shapely
from pyproj import CRS, Geod, Transformer

from parkmap import density
from parkmap.density import (
    DensitySurface,
    ProjectPoints,
    default_bandwidth_km,
    hex_grid,
    kde_surface,
    tick_labels,
)
from parkmap.errors import UsageError

GK = "EPSG:4549"  # CGCS2000 3-degree Gauss–Krüger zone 40 (CM 120°E), Qingdao
TO_GK = Transformer.from_crs("EPSG:4326", GK, always_xy=True)
TO_LONLAT = Transformer.from_crs(GK, "EPSG:4326", always_xy=True)
TO_MERC = Transformer.from_crs("EPSG:4326", "EPSG:3857", always_xy=True)
MERC_TO_GK = Transformer.from_crs("EPSG:3857", GK, always_xy=True)
X0, Y0 = TO_GK.transform(120.2, 36.7)


def projects_at(dx_km, dy_km, weights=None) -> gpd.GeoDataFrame:
    """Projects placed in EPSG:4549 at (dx, dy) km from 36.7 N 120.2 E, stored as lon/lat."""
    x = X0 + np.asarray(dx_km, dtype=float) * 1000.0
    y = Y0 + np.asarray(dy_km, dtype=float) * 1000.0
    lon, lat = TO_LONLAT.transform(x, y)
    if weights is None:
        weights = np.ones(x.size)
    return gpd.GeoDataFrame(
        {
            "project_id": [f"P{i}" for i in range(x.size)],
            "investment_100m_cny": np.asarray(weights, dtype=float),
        },
        geometry=gpd.points_from_xy(lon, lat),
        crs="EPSG:4326",
    )


def pixel_layout(surface: DensitySurface):
    """Pixel centres (km from the origin point, in EPSG:4549) and true pixel areas (km²).

    Worked out from ``bounds`` and the array shape alone, the way Leaflet draws an image overlay:
    a linear stretch in Web Mercator.
    """
    (south, west), (north, east) = surface.bounds
    rows, cols = surface.values.shape
    (mx0, mx1), (my0, my1) = TO_MERC.transform([west, east], [south, north])
    x_edges = np.linspace(mx0, mx1, cols + 1)
    y_edges = np.linspace(my1, my0, rows + 1)  # row 0 is north
    xc, yc = np.meshgrid((x_edges[:-1] + x_edges[1:]) / 2, (y_edges[:-1] + y_edges[1:]) / 2)
    gx, gy = MERC_TO_GK.transform(xc.ravel(), yc.ravel())
    centres_x = (np.reshape(gx, xc.shape) - X0) / 1000.0
    centres_y = (np.reshape(gy, yc.shape) - Y0) / 1000.0
    xe, ye = np.meshgrid(x_edges, y_edges)
    ex, ey = MERC_TO_GK.transform(xe.ravel(), ye.ravel())
    ex = np.reshape(ex, xe.shape) / 1000.0
    ey = np.reshape(ey, ye.shape) / 1000.0
    # Quadrilateral area = half the cross product of its diagonals.
    d1x, d1y = ex[1:, 1:] - ex[:-1, :-1], ey[1:, 1:] - ey[:-1, :-1]
    d2x, d2y = ex[1:, :-1] - ex[:-1, 1:], ey[1:, :-1] - ey[:-1, 1:]
    area = np.abs(d1x * d2y - d1y * d2x) / 2.0
    return centres_x, centres_y, area


def pixel_of(surface: DensitySurface, dx_km: float, dy_km: float) -> tuple[int, int]:
    """Row and column of the pixel that contains a place, from the bounds alone."""
    (south, west), (north, east) = surface.bounds
    rows, cols = surface.values.shape
    (mx0, mx1), (my0, my1) = TO_MERC.transform([west, east], [south, north])
    lon, lat = TO_LONLAT.transform(X0 + dx_km * 1000.0, Y0 + dy_km * 1000.0)
    mx, my = TO_MERC.transform(lon, lat)
    return int((my1 - my) / (my1 - my0) * rows), int((mx - mx0) / (mx1 - mx0) * cols)


def gaussian_sum(px, py, xs, ys, ws, h):
    """The analytic surface Σ w·exp(−d²/2h²)/(2πh²) at (px, py), everything in km."""
    total = np.zeros_like(np.asarray(px, dtype=float))
    for x, y, w in zip(xs, ys, ws, strict=True):
        total += w * np.exp(-((px - x) ** 2 + (py - y) ** 2) / (2 * h * h))
    return total / (2 * math.pi * h * h)


# -------------------------------------------------------------------------------------------------
# kde_surface
# -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["exact", "binned"])
def test_single_point_peak_is_weight_over_two_pi(method):
    projects = projects_at([0.0], [0.0], [10.0])
    surface = kde_surface(projects, bandwidth_km=1.0, max_pixels=511, metric_crs=GK, method=method)
    assert surface.method == method
    row, col = pixel_of(surface, 0.0, 0.0)
    # 10 亿元 under a 1 km Gaussian: 10 / (2π) 亿元/km² at the point.
    assert surface.values[row, col] == pytest.approx(10.0 / (2.0 * math.pi), rel=0.01)
    assert surface.values.max() == pytest.approx(10.0 / (2.0 * math.pi), rel=0.01)
    top = np.unravel_index(np.argmax(surface.values), surface.values.shape)
    if method == "exact":
        assert top == (row, col)
    else:
        # Bilinear lookup peaks on a binning node, at most h/6·√2/2 (< 120 m) from the point;
        # here a pixel is about 9 m.
        cx, cy, _ = pixel_layout(surface)
        assert math.hypot(cx[top], cy[top]) < 0.12
    assert surface.unit == "亿元/km²"
    assert surface.total == pytest.approx(10.0)
    assert surface.bandwidth_km == 1.0
    assert surface.metric_crs == "EPSG:4549"


def test_exact_surface_equals_analytic_value_at_every_pixel_centre():
    projects = projects_at([0.0], [0.0], [10.0])
    surface = kde_surface(projects, bandwidth_km=1.0, max_pixels=200, metric_crs=GK, method="exact")
    cx, cy, _ = pixel_layout(surface)
    expected = gaussian_sum(cx, cy, [0.0], [0.0], [10.0], 1.0)
    np.testing.assert_allclose(surface.values, expected, rtol=1e-9, atol=1e-300)


@pytest.mark.parametrize("method", ["exact", "binned"])
def test_surface_integrates_to_the_total_weight(method):
    projects = projects_at([0.0, 3.0, -2.0], [0.0, 1.0, 2.0], [2.0, 3.0, 5.0])
    surface = kde_surface(
        projects, bandwidth_km=1.0, pad_bandwidths=4.0, max_pixels=256, metric_crs=GK, method=method
    )
    _, _, area = pixel_layout(surface)
    assert float(np.sum(surface.values * area)) == pytest.approx(10.0, rel=0.02)

    counts = kde_surface(
        projects,
        weight=None,
        bandwidth_km=1.0,
        pad_bandwidths=4.0,
        max_pixels=256,
        metric_crs=GK,
        method=method,
    )
    assert counts.unit == "projects/km²"
    assert counts.weight is None
    assert counts.total == 3.0
    assert float(np.sum(counts.values * area)) == pytest.approx(3.0, rel=0.02)


def test_two_points_value_at_the_midpoint_is_the_analytic_sum():
    projects = projects_at([-1.0, 1.0], [0.0, 0.0], [3.0, 5.0])
    surface = kde_surface(projects, bandwidth_km=1.0, max_pixels=511, metric_crs=GK, method="exact")
    row, col = pixel_of(surface, 0.0, 0.0)
    cx, cy, _ = pixel_layout(surface)
    value = surface.values[row, col]
    at_centre = gaussian_sum(cx[row, col], cy[row, col], [-1.0, 1.0], [0.0, 0.0], [3.0, 5.0], 1.0)
    assert value == pytest.approx(at_centre, rel=1e-9)
    # Exactly at the midpoint both kernels are e^(−1/2): (3 + 5)·e^(−1/2)/(2π).
    assert value == pytest.approx(8.0 * math.exp(-0.5) / (2.0 * math.pi), rel=0.01)


def random_projects(n: int, seed: int = 7) -> gpd.GeoDataFrame:
    rng = np.random.default_rng(seed)
    centres = rng.uniform(-8.0, 8.0, size=(5, 2))
    which = rng.integers(0, 5, size=n)
    xy = centres[which] + rng.normal(0.0, 1.5, size=(n, 2))
    weights = rng.lognormal(0.0, 1.0, size=n)
    weights[rng.random(n) < 0.1] = np.nan
    return projects_at(xy[:, 0], xy[:, 1], weights)


def test_exact_and_binned_agree_within_one_percent_of_the_peak():
    projects = random_projects(2000)
    options = {"bandwidth_km": 1.0, "max_pixels": 128, "metric_crs": GK}
    exact = kde_surface(projects, method="exact", **options)
    binned = kde_surface(projects, method="binned", **options)
    assert exact.bounds == binned.bounds
    assert exact.values.shape == binned.values.shape
    peak = exact.values.max()
    assert np.max(np.abs(exact.values - binned.values)) <= 0.01 * peak
    weights = projects["investment_100m_cny"].to_numpy()
    assert exact.n_used == binned.n_used == int(np.isfinite(weights).sum())
    assert exact.total == pytest.approx(float(np.nansum(weights)))


def test_binned_sum_does_not_wrap_a_heavy_corner_onto_a_lone_project_at_the_far_corner():
    # The FFT convolution is circular: without enough zero padding the heavy corner's kernel
    # would reach round to the far edges. Near the lone project the binned sum must stay
    # within 1% of that project's own peak (1, in units of its weight) of the direct sum.
    h = 1.0
    x = np.array([0.0, 0.3, 40.0])
    y = np.array([0.0, -0.2, 30.0])
    w = np.array([600.0, 400.0, 1.0])
    # Pixels only over the points' own box: nothing but the padding keeps the corners apart.
    gx, gy = np.meshgrid(np.arange(0.0, 40.01, 0.1), np.arange(-0.2, 30.01, 0.1))
    px, py = gx.ravel(), gy.ravel()
    binned = density._binned_sum(px, py, x, y, w, h)
    exact = density._exact_sum(px, py, x, y, w, h)
    near_lone = np.hypot(px - 40.0, py - 30.0) <= 3.0 * h
    assert near_lone.sum() > 400
    assert np.max(np.abs(binned - exact)[near_lone]) <= 0.01
    # Elsewhere too the error is a small share of the heavy corner's peak (1000).
    assert np.max(np.abs(binned - exact)) <= 0.01 * 1000.0


def test_shared_points_give_the_same_grid_and_surface_as_reading_them_again():
    projects = random_projects(3000)
    projects.loc[projects.index[::97], "geometry"] = None  # rows without a point
    money = np.nan_to_num(projects["investment_100m_cny"].to_numpy()) > 1.0
    points = ProjectPoints.of(projects)
    shared_grid = hex_grid(projects, cell_km=1.0, points=points)
    shared = kde_surface(projects[money], max_pixels=96, points=points.subset(money))
    grid = hex_grid(projects, cell_km=1.0)
    alone = kde_surface(projects[money], max_pixels=96)
    assert shared_grid.drop(columns="geometry").equals(grid.drop(columns="geometry"))
    assert shared_grid.geometry.geom_equals_exact(grid.geometry, tolerance=0).all()
    assert shared.bounds == alone.bounds and shared.bandwidth_km == alone.bandwidth_km
    np.testing.assert_array_equal(shared.values, alone.values)
    # the subset's metres are the whole table's, row for row, and pyproj's own numbers
    subset = points.subset(money)
    crs = shared_grid.attrs["metric_crs"]
    x, y = subset.metric(CRS(crs))
    lon, lat = subset.lon[subset.ok], subset.lat[subset.ok]
    ex, ey = Transformer.from_crs("EPSG:4326", crs, always_xy=True).transform(lon, lat)
    np.testing.assert_allclose(x, ex, rtol=0, atol=1e-6)
    np.testing.assert_allclose(y, ey, rtol=0, atol=1e-6)
    assert len(x) == int((money & ~projects.geometry.isna().to_numpy()).sum())


def test_auto_method_sums_exactly_for_small_inputs_and_bins_large_ones():
    projects = random_projects(2000)
    # 2000 points × at most 128² pixels ≤ 5e7 pairs.
    assert kde_surface(projects, max_pixels=128, metric_crs=GK).method == "exact"
    # 2000 points × about 256² pixels > 5e7 pairs.
    assert kde_surface(projects, max_pixels=256, metric_crs=GK).method == "binned"


def test_bounds_contain_the_points_and_row_zero_is_north():
    # A heavy project in the north-west, a light one in the south-east.
    projects = projects_at([-10.0, 10.0], [10.0, -10.0], [100.0, 1.0])
    surface = kde_surface(projects, bandwidth_km=1.0, max_pixels=300, metric_crs=GK)
    (south, west), (north, east) = surface.bounds
    lon = projects.geometry.x.to_numpy()
    lat = projects.geometry.y.to_numpy()
    assert south < lat.min() and lat.max() < north
    assert west < lon.min() and lon.max() < east
    rows, cols = surface.values.shape
    assert max(rows, cols) == 300
    row, col = np.unravel_index(np.argmax(surface.values), surface.values.shape)
    assert row < rows / 2 and col < cols / 2  # lights the top-left
    assert (
        surface.values[rows // 2 :, cols // 2 :].max()
        < surface.values[: rows // 2, : cols // 2].max()
    )
    assert pixel_of(surface, -10.0, 10.0) == (row, col)


def test_padding_is_at_least_pad_bandwidths_true_km_and_pixels_are_square():
    projects = projects_at([0.0, 12.0], [0.0, 5.0], [1.0, 1.0])
    surface = kde_surface(projects, bandwidth_km=2.0, pad_bandwidths=3.0, metric_crs=GK)
    (south, west), (north, east) = surface.bounds
    geod = Geod(ellps="WGS84")
    lon = projects.geometry.x.to_numpy()
    lat = projects.geometry.y.to_numpy()
    i_w, i_e, i_s, i_n = lon.argmin(), lon.argmax(), lat.argmin(), lat.argmax()
    # Along a parallel, east-west distances; along a meridian, north-south distances.
    assert geod.inv(lon[i_w], lat[i_w], west, lat[i_w])[2] >= 6000.0
    assert geod.inv(lon[i_e], lat[i_e], east, lat[i_e])[2] >= 6000.0
    assert geod.inv(lon[i_s], lat[i_s], lon[i_s], south)[2] >= 6000.0
    assert geod.inv(lon[i_n], lat[i_n], lon[i_n], north)[2] >= 6000.0
    rows, cols = surface.values.shape
    (mx0, mx1), (my0, my1) = TO_MERC.transform([west, east], [south, north])
    assert (mx1 - mx0) / cols == pytest.approx((my1 - my0) / rows, rel=1e-9)
    assert cols == 512


def test_rows_without_a_weight_are_left_out():
    projects = projects_at([0.0, 1.0, 2.0], [0.0, 0.0, 0.0], [4.0, np.nan, 6.0])
    surface = kde_surface(projects, bandwidth_km=1.0, metric_crs=GK)
    assert surface.n_used == 2
    assert surface.total == 10.0
    counted = kde_surface(projects, weight=None, bandwidth_km=1.0, metric_crs=GK)
    assert counted.n_used == 3


def test_projects_in_another_crs_are_read_as_lon_lat():
    projects = projects_at([0.0, 2.0, -1.0], [0.0, 1.0, 3.0], [1.0, 2.0, 3.0])
    options = {"bandwidth_km": 1.0, "max_pixels": 64, "metric_crs": GK}
    a = kde_surface(projects, **options)
    b = kde_surface(projects.to_crs(GK), **options)
    np.testing.assert_allclose(a.values, b.values, rtol=1e-6)
    np.testing.assert_allclose(np.ravel(a.bounds), np.ravel(b.bounds), atol=1e-9)


def test_surface_is_read_only():
    surface = kde_surface(projects_at([0.0], [0.0], [1.0]), bandwidth_km=1.0, metric_crs=GK)
    with pytest.raises(dataclasses.FrozenInstanceError):
        surface.bandwidth_km = 2.0  # type: ignore[misc]
    with pytest.raises(ValueError):
        surface.values[0, 0] = 1.0


def test_metric_crs_is_chosen_from_the_longitudes_by_default():
    projects = projects_at([0.0, 2.0], [0.0, 1.0], [1.0, 2.0])
    assert kde_surface(projects, bandwidth_km=1.0).metric_crs == "EPSG:4549"
    assert hex_grid(projects, cell_km=1.0).attrs["metric_crs"] == "EPSG:4549"


# -------------------------------------------------------------------------------------------------
# default bandwidth
# -------------------------------------------------------------------------------------------------


def lattice(spacing_km: float, n: int = 5) -> gpd.GeoDataFrame:
    """An n × n square lattice: every place's nearest neighbour is ``spacing_km`` away."""
    gx, gy = np.meshgrid(np.arange(n) * spacing_km, np.arange(n) * spacing_km)
    return projects_at(gx.ravel(), gy.ravel())


def test_default_bandwidth_is_four_times_the_median_nearest_neighbour_distance():
    # Every nearest neighbour is 0.2 km away: h = 4 · 0.2 km.
    assert default_bandwidth_km(lattice(0.2), metric_crs=GK) == pytest.approx(0.8, rel=1e-6)
    surface = kde_surface(lattice(0.2), weight=None, metric_crs=GK)
    assert surface.bandwidth_km == pytest.approx(0.8, rel=1e-6)
    # Nearest-neighbour distances 0.1, 0.1, 0.25, 0.25, 0.3 km (by hand): median 0.25 km.
    line = projects_at([0.0, 0.1, 0.35, 0.6, 0.9], [0.0] * 5)
    assert default_bandwidth_km(line, metric_crs=GK) == pytest.approx(1.0, rel=1e-6)


def test_default_bandwidth_counts_projects_at_one_address_once():
    # Three projects at one place and two at another 0.15 km away: two places, h = 0.6 km.
    projects = projects_at([0.0, 0.0, 0.0, 0.15, 0.15], [0.0] * 5)
    assert default_bandwidth_km(projects, metric_crs=GK) == pytest.approx(0.6, rel=1e-6)


def test_default_bandwidth_special_cases_and_bounds():
    assert default_bandwidth_km(projects_at([0.0], [0.0]), metric_crs=GK) == 1.0
    assert default_bandwidth_km(projects_at([3.0] * 4, [1.0] * 4), metric_crs=GK) == 1.0
    # 50 m lattice: 4 · 0.05 km = 0.2 km, raised to 0.3 km.
    assert default_bandwidth_km(lattice(0.05), metric_crs=GK) == 0.3
    # 1 km lattice: 4 km, lowered to 2 km.
    assert default_bandwidth_km(lattice(1.0), metric_crs=GK) == 2.0
    # Spacing 0.1, 0.1 and 599.9 km (median 0.1: h 0.4 km), but 600 km wide: 600 / 400 km.
    wide = projects_at([0.0, 0.1, 600.0], [0.0, 0.0, 0.0])
    assert default_bandwidth_km(wide, metric_crs=GK) == pytest.approx(1.5, rel=1e-6)


def two_clusters() -> gpd.GeoDataFrame:
    """40 projects of 1 亿元 around (0, 0) and 40 of 3 亿元 around (9, 4) km, σ = 0.4 km."""
    rng = np.random.default_rng(21)
    a = rng.normal(0.0, 0.4, size=(40, 2))
    b = rng.normal(0.0, 0.4, size=(40, 2)) + np.array([9.0, 4.0])
    xy = np.vstack((a, b))
    return projects_at(xy[:, 0], xy[:, 1], [1.0] * 40 + [3.0] * 40)


def _peak_km(surface: DensitySurface) -> tuple[float, float]:
    cx, cy, _ = pixel_layout(surface)
    row, col = np.unravel_index(np.argmax(surface.values), surface.values.shape)
    return float(cx[row, col]), float(cy[row, col])


def _distance_to_nearest_project_km(projects: gpd.GeoDataFrame, x: float, y: float) -> float:
    lon, lat = projects.geometry.x.to_numpy(), projects.geometry.y.to_numpy()
    px, py = TO_GK.transform(lon, lat)
    return float(np.min(np.hypot((px - X0) / 1000.0 - x, (py - Y0) / 1000.0 - y)))


def test_the_surface_peaks_on_the_projects_of_two_clusters():
    projects = two_clusters()
    surface = kde_surface(projects, metric_crs=GK)
    h = surface.bandwidth_km
    assert 0.3 <= h <= 2.0
    x, y = _peak_km(surface)
    assert _distance_to_nearest_project_km(projects, x, y) <= h
    assert math.hypot(x - 9.0, y - 4.0) < 1.5  # in the heavier cluster, not between the two
    # The value there, from scikit-learn's KernelDensity (weights normalised to 1) · total.
    from sklearn.neighbors import KernelDensity

    px, py = TO_GK.transform(projects.geometry.x.to_numpy(), projects.geometry.y.to_numpy())
    xy_km = np.column_stack(((px - X0) / 1000.0, (py - Y0) / 1000.0))
    weights = projects["investment_100m_cny"].to_numpy()
    kde = KernelDensity(bandwidth=h, kernel="gaussian").fit(xy_km, sample_weight=weights)
    expected = float(np.exp(kde.score_samples([[x, y]]))[0]) * weights.sum()
    assert surface.values.max() == pytest.approx(expected, rel=1e-6)


def test_the_demo_surface_peaks_on_a_project():
    from parkmap.pipeline import analyse

    demo = analyse()
    inv = demo.projects["investment_100m_cny"].to_numpy(dtype=float, na_value=np.nan)
    projects = demo.projects[np.nan_to_num(inv) > 0]
    surface = kde_surface(projects, metric_crs=GK)
    h = surface.bandwidth_km
    assert 0.3 <= h <= 2.0
    x, y = _peak_km(surface)
    assert _distance_to_nearest_project_km(projects, x, y) <= h
    # The peak lies inside a park (shapely), not in the land between them.
    parks = demo.parks.to_crs(GK)
    peak = shapely.Point(X0 + x * 1000.0, Y0 + y * 1000.0)
    assert parks.distance(peak).min() <= h * 1000.0


# -------------------------------------------------------------------------------------------------
# legend ticks
# -------------------------------------------------------------------------------------------------


def test_tick_labels_use_significant_figures():
    assert tick_labels([0.0, 0.0025, 0.005, 0.0075, 0.01]) == [
        "0",
        "0.0025",
        "0.005",
        "0.0075",
        "0.01",
    ]
    assert tick_labels([0.0, 0.185, 0.37, 0.555, 0.74]) == ["0", "0.185", "0.37", "0.555", "0.74"]
    assert tick_labels([0.0, 0.012345]) == ["0", "0.0123"]
    assert tick_labels([15.4213, 1234.0, 98765.4]) == ["15.4", "1,234", "98,765"]


def test_tick_labels_never_repeat_for_different_values():
    assert tick_labels([1.0001, 1.0002, 1.0003]) == ["1.0001", "1.0002", "1.0003"]
    assert tick_labels([2.0, 2.0]) == ["2", "2"]  # equal values may read alike
    for top in (1e-5, 0.00731, 0.0123, 0.74, 15.42, 3.3e4):
        labels = tick_labels([top * k / 4 for k in range(5)])
        assert len(set(labels)) == 5


def test_small_ledger_legend_reads_in_significant_figures_and_shows_the_bandwidth():
    import json
    import re

    from parkmap.webmap import build_map

    projects = projects_at([0.0, 0.3, 5.0], [0.0, 0.2, 1.0], [0.01, 0.02, 0.015])
    surface = kde_surface(projects, bandwidth_km=0.8, metric_crs=GK)
    projects["name"] = ["甲", "乙", "丙"]
    projects["status"] = "signed"
    parks = as_cover(COVER_GK)
    parks["name_zh"] = "园区"
    parks["name"] = "park"
    parks["area_km2"] = 24.25
    parks["project_count"] = 3
    parks["investment_100m_cny"] = 0.045
    parks["density_100m_cny_per_km2"] = 0.045 / 24.25
    html = build_map(parks, projects, density=surface).get_root().render()
    match = re.search(r"parkmap\.addLegend\(\s*map_\w+,\s*(.+?)\);\n", html)
    legend = json.loads(match.group(1))["density"]
    vmax = float(surface.values.max())
    assert [s["label"] for s in legend["stops"]] == tick_labels([vmax * k / 4 for k in range(5)])
    assert len({s["label"] for s in legend["stops"]}) == 5
    assert "核密度（平滑）" in legend["title"]
    assert legend["note"].startswith("带宽 0.8 km")


# -------------------------------------------------------------------------------------------------
# hex_grid
# -------------------------------------------------------------------------------------------------


def gk_polygon(coords_km) -> shapely.Polygon:
    return shapely.Polygon([(X0 + x * 1000.0, Y0 + y * 1000.0) for x, y in coords_km])


def as_cover(*polygons_gk: shapely.Polygon) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"park_id": [f"p{i}" for i in range(len(polygons_gk))]}, geometry=list(polygons_gk), crs=GK
    ).to_crs("EPSG:4326")


COVER_GK = gk_polygon([(-3.0, -1.0), (2.5, -2.5), (4.0, 1.5), (-1.5, 3.0)])


def test_hexagons_have_the_promised_spacing_area_and_orientation():
    cell_km = 1.5
    cells = hex_grid(
        projects_at([0.0], [0.0]), cell_km=cell_km, cover=as_cover(COVER_GK), metric_crs=GK
    )
    metric = cells.to_crs(GK)
    area = (math.sqrt(3.0) / 2.0) * cell_km**2
    np.testing.assert_allclose(metric.area.to_numpy() / 1e6, area, rtol=1e-6)
    np.testing.assert_allclose(cells["area_km2"].to_numpy(), area, rtol=1e-9)
    centres = np.column_stack((metric.centroid.x, metric.centroid.y))
    gaps = np.hypot(*(centres[:, None, :] - centres[None, :, :]).transpose(2, 0, 1))
    np.fill_diagonal(gaps, np.inf)
    np.testing.assert_allclose(gaps.min(axis=1), cell_km * 1000.0, rtol=1e-6)
    assert ((np.abs(gaps - cell_km * 1000.0) < 1e-3).sum(axis=1) == 6).any()  # interior cells
    # Pointy-topped: the northernmost vertex sits straight above the centre.
    for polygon, (cx, _) in zip(metric.geometry, centres, strict=True):
        ring = np.asarray(polygon.exterior.coords)
        assert ring[np.argmax(ring[:, 1]), 0] == pytest.approx(cx, abs=1e-3)


def centre_km(q: int, r: int, cell_km: float = 1.0) -> tuple[float, float]:
    """Centre of axial cell (q, r), in km from (X0, Y0), by the formula of the docstring."""
    gx = cell_km * (q + r / 2.0) * 1000.0
    gy = cell_km * (math.sqrt(3.0) / 2.0) * r * 1000.0
    return (gx - X0) / 1000.0, (gy - Y0) / 1000.0


def cell_of(q: int, r: int) -> str:
    return f"{q},{r}"


# The six neighbours of a pointy-topped hexagon in axial coordinates.
NEIGHBOURS = ((1, 0), (-1, 0), (0, 1), (0, -1), (1, -1), (-1, 1))
Q0, R0 = (
    round(X0 / 1000.0 - Y0 / 1000.0 / math.sqrt(3.0)),
    round(Y0 / 1000.0 / 1.5 * math.sqrt(3.0)),
)


def test_the_grid_is_the_occupied_cell_and_its_rings_of_neighbours():
    x, y = centre_km(Q0, R0)
    one = projects_at([x + 0.1], [y - 0.05], [7.0])
    around = {cell_of(Q0 + dq, R0 + dr) for dq, dr in NEIGHBOURS}
    assert set(hex_grid(one, cell_km=1.0, ring=0, metric_crs=GK)["cell_id"]) == {cell_of(Q0, R0)}
    cells = hex_grid(one, cell_km=1.0, ring=1, metric_crs=GK)
    assert set(cells["cell_id"]) == {cell_of(Q0, R0)} | around
    by_id = cells.set_index("cell_id")
    assert by_id.loc[cell_of(Q0, R0), "count"] == 1
    assert by_id.loc[cell_of(Q0, R0), "investment_100m_cny"] == 7.0
    assert by_id.loc[list(around), "count"].sum() == 0
    # 1 + 6 + 12 cells within two steps, 1 + 6 + 12 + 18 within three (hexagonal numbers).
    assert len(hex_grid(one, cell_km=1.0, ring=2, metric_crs=GK)) == 19
    assert len(hex_grid(one, cell_km=1.0, metric_crs=GK)) == 19  # two rings by default
    assert len(hex_grid(one, cell_km=1.0, ring=3, metric_crs=GK)) == 37
    # The neighbours' centres lie one cell_km from the occupied cell's centre (shapely).
    metric = cells.to_crs(GK).set_index(cells["cell_id"]).geometry
    middle = metric[cell_of(Q0, R0)].centroid
    for cell in around:
        assert metric[cell].centroid.distance(middle) == pytest.approx(1000.0, abs=1e-6)


def test_two_adjacent_occupied_cells_share_four_cells_of_their_rings():
    a, b = centre_km(Q0, R0), centre_km(Q0 + 1, R0)
    cells = hex_grid(projects_at([a[0], b[0]], [a[1], b[1]]), cell_km=1.0, ring=1, metric_crs=GK)
    # 7 + 7 cells, of which both cells themselves and the two cells beside both are shared.
    assert len(cells) == 10
    assert cells["count"].sum() == 2


@pytest.mark.parametrize(("reach_km", "east_kept"), [(-0.001, False), (0.001, True)])
def test_cover_keeps_only_cells_whose_interior_meets_a_polygon(reach_km, east_kept):
    cx, cy = centre_km(Q0, R0)
    # A strip through cell (Q0, R0) and its west neighbour whose east end stops 1 m short of
    # the edge shared with the east neighbour (x = centre + 0.5 km), or reaches 1 m past it.
    end = cx + 0.5 + reach_km
    strip = gk_polygon(
        [(cx - 3.0, cy - 0.2), (end, cy - 0.2), (end, cy + 0.2), (cx - 3.0, cy + 0.2)]
    )
    east = centre_km(Q0 + 1, R0)
    projects = projects_at([cx, east[0]], [cy, east[1]], [2.0, 3.0])
    cells = hex_grid(projects, cell_km=1.0, ring=1, cover=as_cover(strip), metric_crs=GK)
    expected = {cell_of(Q0, R0), cell_of(Q0 - 1, R0)} | (
        {cell_of(Q0 + 1, R0)} if east_kept else set()
    )
    assert set(cells["cell_id"]) == expected
    assert cells["count"].sum() == 1 + east_kept
    assert cells["investment_100m_cny"].sum() == 2.0 + 3.0 * east_kept
    assert cells.attrs["projects_outside_cells"] == 1 - east_kept
    # The same rule with shapely: of the occupied cells and their rings, those sharing area.
    free = hex_grid(projects, cell_km=1.0, ring=1, metric_crs=GK).to_crs(GK)
    shared = free.intersection(strip).area > 0
    assert set(free.loc[shared.to_numpy(), "cell_id"]) == expected


def test_polygons_without_projects_get_no_cells():
    far = gk_polygon([(60.0, 60.0), (100.0, 60.0), (100.0, 100.0), (60.0, 100.0)])  # 1,600 km²
    cells = hex_grid(
        projects_at([0.0], [0.0], [7.0]),
        cell_km=1.0,
        cover=as_cover(COVER_GK, far),
        metric_crs=GK,
    )
    assert len(cells) == 19
    assert not cells.to_crs(GK).intersects(far).any()
    no_projects = projects_at([0.0], [0.0]).iloc[:0]
    assert len(hex_grid(no_projects, cell_km=1.0, cover=as_cover(COVER_GK), metric_crs=GK)) == 0
    assert len(hex_grid(no_projects, cell_km=1.0, metric_crs=GK)) == 0


def test_a_point_at_a_cell_centre_goes_to_that_cell():
    cells = hex_grid(
        projects_at([0.0], [0.0]), cell_km=1.0, cover=as_cover(COVER_GK), metric_crs=GK
    )
    metric = cells.to_crs(GK)
    for index in (0, len(cells) // 2, len(cells) - 1):
        centre = metric.geometry.iloc[index].centroid
        lon, lat = TO_LONLAT.transform(centre.x, centre.y)
        one = gpd.GeoDataFrame(
            {"investment_100m_cny": [2.0]},
            geometry=gpd.points_from_xy([lon], [lat]),
            crs="EPSG:4326",
        )
        found = hex_grid(one, cell_km=1.0, ring=0, metric_crs=GK)
        assert found["cell_id"].tolist() == [cells["cell_id"].iloc[index]]
        assert found["count"].tolist() == [1]


def test_every_point_goes_to_the_cell_whose_centre_is_nearest():
    projects = random_projects(600, seed=3)
    cells = hex_grid(projects, cell_km=0.7, metric_crs=GK)
    metric = cells.to_crs(GK)
    centres = np.column_stack((metric.centroid.x, metric.centroid.y))
    px, py = TO_GK.transform(projects.geometry.x.to_numpy(), projects.geometry.y.to_numpy())
    nearest = np.argmin(
        np.hypot(px[:, None] - centres[None, :, 0], py[:, None] - centres[None, :, 1]), axis=1
    )
    np.testing.assert_array_equal(np.bincount(nearest, minlength=len(cells)), cells["count"])
    # …which is also the hexagon that contains it.
    inside = shapely.contains_xy(metric.geometry.to_numpy()[nearest], px, py)
    assert inside.all()


def test_counts_and_sums_match_the_totals():
    projects = random_projects(600, seed=5)
    weights = projects["investment_100m_cny"].to_numpy()
    cells = hex_grid(projects, cell_km=2.0, ring=0, metric_crs=GK)
    assert (cells["count"] > 0).all()
    assert cells["count"].sum() == len(projects)
    assert cells["count_with_weight"].sum() == int(np.isfinite(weights).sum())
    assert cells["investment_100m_cny"].sum() == pytest.approx(float(np.nansum(weights)))
    np.testing.assert_allclose(
        cells["density_100m_cny_per_km2"], cells["investment_100m_cny"] / cells["area_km2"]
    )
    assert cells["cell_id"].is_unique
    assert cells.crs.to_epsg() == 4326


def test_cover_mode_counts_only_points_in_the_covered_cells():
    projects = random_projects(600, seed=9)
    cells = hex_grid(projects, cell_km=1.0, cover=as_cover(COVER_GK), metric_crs=GK)
    union = shapely.union_all(cells.to_crs(GK).geometry.to_numpy())
    px, py = TO_GK.transform(projects.geometry.x.to_numpy(), projects.geometry.y.to_numpy())
    inside = shapely.contains_xy(union, px, py)
    assert 0 < inside.sum() < len(projects)
    assert cells["count"].sum() == inside.sum()
    assert cells.attrs["projects_outside_cells"] == len(projects) - inside.sum()


def test_hex_ids_are_stable_across_datasets():
    a = hex_grid(projects_at([0.0, 5.0], [0.0, 0.0]), cell_km=1.0, ring=0, metric_crs=GK)
    b = hex_grid(projects_at([0.0, -30.0], [0.0, 9.0]), cell_km=1.0, ring=0, metric_crs=GK)
    shared = set(a["cell_id"]) & set(b["cell_id"])
    assert len(shared) == 1
    (cell_id,) = shared
    ga = a.set_index("cell_id").geometry[cell_id]
    gb = b.set_index("cell_id").geometry[cell_id]
    assert ga.equals_exact(gb, 1e-12)


# -------------------------------------------------------------------------------------------------
# errors
# -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("bandwidth", [0.0, -1.0, float("nan")])
def test_kde_rejects_a_bandwidth_that_is_not_positive(bandwidth):
    with pytest.raises(UsageError, match="bandwidth_km"):
        kde_surface(projects_at([0.0], [0.0]), bandwidth_km=bandwidth, metric_crs=GK)


def test_kde_rejects_bad_input():
    projects = projects_at([0.0], [0.0])
    with pytest.raises(UsageError, match="unknown weight column"):
        kde_surface(projects, weight="budget", metric_crs=GK)
    with pytest.raises(UsageError, match="no projects with coordinates"):
        kde_surface(projects.iloc[:0], metric_crs=GK)
    with pytest.raises(UsageError, match="no projects with a known"):
        kde_surface(projects_at([0.0], [0.0], [np.nan]), metric_crs=GK)
    with pytest.raises(UsageError, match="method"):
        kde_surface(projects, method="fast", metric_crs=GK)
    with pytest.raises(UsageError, match="projected CRS in metres"):
        kde_surface(projects, metric_crs="EPSG:4326")
    assert issubclass(UsageError, ValueError)


@pytest.mark.parametrize("cell_km", [0.0, -1.0, float("nan")])
def test_hex_grid_rejects_a_cell_size_that_is_not_positive(cell_km):
    with pytest.raises(UsageError, match="cell_km"):
        hex_grid(projects_at([0.0], [0.0]), cell_km=cell_km, metric_crs=GK)


def test_hex_grid_rejects_too_many_cells_bad_rings_and_unknown_weights():
    # 1 + 3·600·601 = 1,081,801 cells within 600 steps of one project.
    with pytest.raises(UsageError, match="1,000,000"):
        hex_grid(projects_at([0.0], [0.0]), cell_km=1.0, ring=600, metric_crs=GK)
    for ring in (-1, 1.5, True):
        with pytest.raises(UsageError, match="ring"):
            hex_grid(projects_at([0.0], [0.0]), cell_km=1.0, ring=ring, metric_crs=GK)
    with pytest.raises(UsageError, match="unknown weight column"):
        hex_grid(projects_at([0.0], [0.0]), cell_km=1.0, weight="budget", metric_crs=GK)


def test_bandwidth_of_many_places_from_a_sample_of_their_gaps(monkeypatch):
    """Past MAX_SPACING_SAMPLE places the median gap is taken over every k-th place: on an
    evenly spread pattern the bandwidth is the one of all places to a fraction of a percent,
    and the places are the distinct ones (repeats at one place count once)."""
    from parkmap import density

    rng = np.random.default_rng(3)
    # 8,000 places on 40 km × 30 km: median gap about 0.2 km, a bandwidth within the bounds
    x = rng.uniform(0, 4e4, 8_000)
    y = rng.uniform(0, 3e4, 8_000)
    x = np.concatenate([x, x[:2000]])  # 2,000 repeats at the same places
    y = np.concatenate([y, y[:2000]])
    full = density._spacing_bandwidth_km(x, y)
    monkeypatch.setattr(density, "MAX_SPACING_SAMPLE", 2_000)
    sampled = density._spacing_bandwidth_km(x, y)
    # independent: the median nearest-neighbour gap of the distinct places, by brute force
    from scipy.spatial import distance_matrix

    places = np.unique(np.column_stack([x, y]), axis=0)
    gaps = np.empty(len(places))
    for start in range(0, len(places), 2000):
        block = distance_matrix(places[start : start + 2000], places)
        block[block == 0] = np.inf
        gaps[start : start + 2000] = block.min(axis=1)
    expected = min(max(4 * np.median(gaps) / 1000, 0.3), 2.0)
    assert 0.3 < expected < 2.0
    assert full == pytest.approx(expected, rel=1e-9)
    assert sampled == pytest.approx(expected, rel=0.03)


def test_dense_places_get_the_lower_bound_without_a_nearest_neighbour_search(monkeypatch):
    """When more than half of the sampled places share a cell of side 0.3 km / (4·√2) with
    another place, the median gap is below the cell's diagonal and the bandwidth is the lower
    bound: decided without the search, with the answer the search gives."""
    from scipy.spatial import distance_matrix

    from parkmap import density

    rng = np.random.default_rng(11)
    centres = rng.uniform(0, 2e4, (5, 2))
    xy = centres[rng.integers(0, 5, 3_000)] + rng.normal(0, 150, (3_000, 2))
    places = np.unique(np.rint(xy), axis=0)
    assert density._median_gap_below_lower_bound(places, 1)
    gaps = distance_matrix(places, places)
    gaps[gaps == 0] = np.inf
    assert 4 * np.median(gaps.min(axis=1)) / 1000 < 0.3  # independent: the rule's own answer
    searches = []
    monkeypatch.setattr(density, "_median_gap_below_lower_bound", lambda p, s: searches.append(1))
    assert density._spacing_bandwidth_km(xy[:, 0], xy[:, 1]) == 0.3  # the search's answer
    monkeypatch.undo()
    assert density._spacing_bandwidth_km(xy[:, 0], xy[:, 1]) == 0.3
    assert searches == [1]
    # a lattice 200 m apart shares no cell: left to the search (which gives 0.8 km)
    lattice = np.array([(i * 200.0, j * 200.0) for i in range(30) for j in range(30)])
    assert not density._median_gap_below_lower_bound(lattice, 1)
    assert density._spacing_bandwidth_km(lattice[:, 0], lattice[:, 1]) == pytest.approx(0.8)


@pytest.mark.parametrize("spread", [30, 2**40])  # the second overflows the pair codes
def test_hexagon_cells_are_found_and_looked_up_as_sets_and_dicts_would(spread):
    rng = np.random.default_rng(11)
    for size in (0, 1, 7, 500):
        q = rng.integers(-spread, spread, size) // max(1, spread // 30)
        r = rng.integers(-spread, spread, size) // max(1, spread // 30)
        q, r = q * max(1, spread // 30), r * max(1, spread // 30)
        cell_q, cell_r = density._unique_pairs(q, r)
        pairs = list(zip(cell_q.tolist(), cell_r.tolist(), strict=True))
        assert pairs == sorted(set(zip(q.tolist(), r.tolist(), strict=True)))
        slot_of = {pair: i for i, pair in enumerate(pairs[: len(pairs) // 2])}
        half_q, half_r = cell_q[: len(pairs) // 2], cell_r[: len(pairs) // 2]
        slots = density._lookup_cells(half_q, half_r, q, r)
        want = [slot_of.get(pair, -1) for pair in zip(q.tolist(), r.tolist(), strict=True)]
        assert slots.dtype == np.int64 and slots.tolist() == want


def _qingdao_grid(cols: int, rows: int, size_m: float) -> density._MercatorGrid:
    west, north = TO_MERC.transform(119.6, 37.1)
    return density._MercatorGrid(west=west, north=north, size=size_m, rows=rows, cols=cols)


def _projected_one_by_one(grid: density._MercatorGrid) -> tuple[np.ndarray, np.ndarray]:
    """Every pixel centre projected by pyproj, in a loop of its own."""
    xs, ys = [], []
    for row in range(grid.rows):
        for col in range(grid.cols):
            x, y = MERC_TO_GK.transform(
                grid.west + (col + 0.5) * grid.size, grid.north - (row + 0.5) * grid.size
            )
            xs.append(x)
            ys.append(y)
    return np.array(xs), np.array(ys)


def test_pixel_centres_interpolated_within_the_tolerance_and_exact_on_the_lattice():
    grid = _qingdao_grid(cols=123, rows=97, size_m=217.0)  # 27 km × 21 km at 217 m
    want_x, want_y = _projected_one_by_one(grid)
    x, y = grid.centres(MERC_TO_GK, tolerance_m=0.015)
    off = np.maximum(np.abs(x - want_x), np.abs(y - want_y))
    assert 0 < off.max() <= 0.015  # interpolated (not all projected), within 1.5 cm
    on_lattice = np.zeros((grid.rows, grid.cols), dtype=bool)
    on_lattice[np.ix_([*range(0, 97, 4)], [*range(0, 123, 4), 122])] = True
    np.testing.assert_allclose(x[on_lattice.ravel()], want_x[on_lattice.ravel()], rtol=0, atol=1e-6)
    np.testing.assert_allclose(y[on_lattice.ravel()], want_y[on_lattice.ravel()], rtol=0, atol=1e-6)


@pytest.mark.parametrize("tolerance_m", [None, 1e-6])
def test_pixel_centres_all_projected_without_a_tolerance_or_past_it(tolerance_m):
    grid = _qingdao_grid(cols=64, rows=50, size_m=400.0)
    want_x, want_y = _projected_one_by_one(grid)
    x, y = grid.centres(MERC_TO_GK, tolerance_m=tolerance_m)
    np.testing.assert_allclose(x, want_x, rtol=0, atol=1e-6)
    np.testing.assert_allclose(y, want_y, rtol=0, atol=1e-6)
    assert np.max(np.abs(x - want_x)) < 1e-6  # no interpolation error at all


@pytest.mark.parametrize(("cols", "rows"), [(1, 1), (2, 1), (40, 1), (1, 40), (5, 5), (9, 2)])
def test_pixel_centres_of_thin_and_tiny_grids(cols, rows):
    grid = _qingdao_grid(cols=cols, rows=rows, size_m=300.0)
    want_x, want_y = _projected_one_by_one(grid)
    x, y = grid.centres(MERC_TO_GK, tolerance_m=0.015)
    assert x.shape == y.shape == (cols * rows,)
    assert np.max(np.abs(x - want_x)) <= 0.015 and np.max(np.abs(y - want_y)) <= 0.015


def test_binned_surface_of_interpolated_centres_matches_projected_ones():
    rng = np.random.default_rng(3)
    projects = projects_at(rng.uniform(-20, 20, 3000), rng.uniform(-15, 15, 3000), rng.random(3000))
    surface = kde_surface(projects, bandwidth_km=0.3, metric_crs=GK, method="binned")
    original = density._CENTRE_TOLERANCE_H
    try:
        density._CENTRE_TOLERANCE_H = 0.0  # every centre projected
        projected = kde_surface(projects, bandwidth_km=0.3, metric_crs=GK, method="binned")
    finally:
        density._CENTRE_TOLERANCE_H = original
    peak = 1.0 / (2 * math.pi * 0.3**2)  # a lone project of weight 1
    difference = np.max(np.abs(surface.values - projected.values))
    assert 0 < difference <= 1e-4 * peak  # 0 would mean the centres were not interpolated
    assert surface.bounds == projected.bounds

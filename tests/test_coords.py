"""Tests for parkmap.coords: WGS-84 ⇄ GCJ-02 ⇄ BD-09, CGCS2000, and metric CRS choice.

Expected values come from published test vectors (the coordTransform_py README and eviltransform's
tests), from a plain scalar evaluation of the published formulas written
here with ``math``, or from pyproj.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import shapely
from pyproj import CRS, Geod, Transformer

from parkmap import coords
from parkmap.errors import UsageError

GEOD = Geod(ellps="WGS84")

# --- a plain, one-point-at-a-time evaluation of the published GCJ-02 / BD-09 formulas ----------

A = 6378245.0
EE = 0.00669342162296594323
X_PI = math.pi * 3000.0 / 180.0


def _plain_gcj_offset(lon: float, lat: float) -> tuple[float, float]:
    x, y = lon - 105.0, lat - 35.0
    pi = math.pi
    common = (20 * math.sin(6 * pi * x) + 20 * math.sin(2 * pi * x)) * 2 / 3
    dlat = -100 + 2 * x + 3 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x)) + common
    dlat += (20 * math.sin(pi * y) + 40 * math.sin(pi * y / 3)) * 2 / 3
    dlat += (160 * math.sin(pi * y / 12) + 320 * math.sin(pi * y / 30)) * 2 / 3
    dlon = 300 + x + 2 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x)) + common
    dlon += (20 * math.sin(pi * x) + 40 * math.sin(pi * x / 3)) * 2 / 3
    dlon += (150 * math.sin(pi * x / 12) + 300 * math.sin(pi * x / 30)) * 2 / 3
    phi = math.radians(lat)
    w = math.sqrt(1 - EE * math.sin(phi) ** 2)
    dlat = dlat * 180 / (A * (1 - EE) / w**3 * pi)
    dlon = dlon * 180 / (A / w * math.cos(phi) * pi)
    return dlon, dlat


def _plain_gcj_to_bd(lon: float, lat: float) -> tuple[float, float]:
    r = math.hypot(lon, lat) + 2e-5 * math.sin(lat * X_PI)
    theta = math.atan2(lat, lon) + 3e-6 * math.cos(lon * X_PI)
    return r * math.cos(theta) + 0.0065, r * math.sin(theta) + 0.006


def _china_grid(n: int = 50) -> tuple[np.ndarray, np.ndarray]:
    lon, lat = np.meshgrid(np.linspace(74.0, 135.0, n), np.linspace(18.0, 53.0, n))
    lon, lat = lon.ravel(), lat.ravel()
    inside = ~coords.out_of_china(lon, lat)
    return lon[inside], lat[inside]


def _metres(lon1, lat1, lon2, lat2) -> np.ndarray:
    return np.asarray(GEOD.inv(lon1, lat1, lon2, lat2)[2])


# --- published vectors --------------------------------------------------------------------------

# coordTransform_py README, input (128.543, 37.065) in (lon, lat).
README_IN = (128.543, 37.065)


@pytest.mark.parametrize(
    ("func", "expected"),
    [
        (coords.wgs84_to_gcj02, (128.54820547949757, 37.065651049489816)),
        (coords.gcj02_to_wgs84_approx, (128.53779452050244, 37.06434895051018)),
        (coords.gcj02_to_bd09, (128.54944656269413, 37.07113427883019)),
        (coords.bd09_to_gcj02_approx, (128.5365893261212, 37.058754503281534)),
    ],
)
def test_coordtransform_readme_vectors(func, expected):
    lon, lat = func(*README_IN)
    assert float(lon) == pytest.approx(expected[0], abs=1e-9)
    assert float(lat) == pytest.approx(expected[1], abs=1e-9)


# eviltransform's tests give (lat, lon) pairs: WGS-84 in, GCJ-02 out.
@pytest.mark.parametrize(
    ("wgs_latlon", "gcj_latlon"),
    [
        ((31.1774276, 121.5272106), (31.17530398364597, 121.531541859215)),
        ((39.911954, 116.377817), (39.91334545536069, 116.38404722455657)),
    ],
)
def test_eviltransform_vectors(wgs_latlon, gcj_latlon):
    lon, lat = coords.wgs84_to_gcj02(wgs_latlon[1], wgs_latlon[0])
    assert float(lon) == pytest.approx(gcj_latlon[1], abs=1e-9)
    assert float(lat) == pytest.approx(gcj_latlon[0], abs=1e-9)


def test_forward_matches_plain_formulas_on_grid():
    lon, lat = _china_grid(40)
    expected = np.array([_plain_gcj_offset(x, y) for x, y in zip(lon, lat, strict=True)])
    g_lon, g_lat = coords.wgs84_to_gcj02(lon, lat)
    np.testing.assert_allclose(g_lon, lon + expected[:, 0], rtol=0, atol=1e-12)
    np.testing.assert_allclose(g_lat, lat + expected[:, 1], rtol=0, atol=1e-12)

    expected_bd = np.array([_plain_gcj_to_bd(x, y) for x, y in zip(lon, lat, strict=True)])
    b_lon, b_lat = coords.gcj02_to_bd09(lon, lat)
    np.testing.assert_allclose(b_lon, expected_bd[:, 0], rtol=0, atol=1e-12)
    np.testing.assert_allclose(b_lat, expected_bd[:, 1], rtol=0, atol=1e-12)


# --- exact inverses -----------------------------------------------------------------------------


def test_exact_inverses_reproduce_their_input():
    lon, lat = _china_grid()
    w_lon, w_lat = coords.gcj02_to_wgs84(lon, lat)
    f_lon, f_lat = coords.wgs84_to_gcj02(w_lon, w_lat)
    assert np.abs(f_lon - lon).max() < 1e-9
    assert np.abs(f_lat - lat).max() < 1e-9

    g_lon, g_lat = coords.bd09_to_gcj02(lon, lat)
    f_lon, f_lat = coords.gcj02_to_bd09(g_lon, g_lat)
    assert np.abs(f_lon - lon).max() < 1e-9
    assert np.abs(f_lat - lat).max() < 1e-9


def test_one_step_inverses_are_not_exact():
    lon, lat = _china_grid()
    a_lon, a_lat = coords.gcj02_to_wgs84_approx(lon, lat)
    e_lon, e_lat = coords.gcj02_to_wgs84(lon, lat)
    gap = _metres(a_lon, a_lat, e_lon, e_lat)
    # The offset (~5e-3°) changes by ~1e-3° per degree, so the one-step error is metre-sized.
    assert 0.1 < gap.max() < 10.0

    # README bd→gcj vector is the one-step result; the exact inverse lies within a few 1e-6°.
    lon, lat = coords.bd09_to_gcj02(*README_IN)
    assert abs(float(lon) - 128.5365893261212) < 5e-6
    assert abs(float(lat) - 37.058754503281534) < 5e-6
    assert abs(float(lon) - 128.5365893261212) + abs(float(lat) - 37.058754503281534) > 1e-9


def test_round_trips_below_one_centimetre():
    lon, lat = _china_grid()
    assert lon.size > 2000
    back = coords.gcj02_to_wgs84(*coords.wgs84_to_gcj02(lon, lat))
    assert _metres(lon, lat, *back).max() < 0.01
    back = coords.bd09_to_wgs84(*coords.wgs84_to_bd09(lon, lat))
    assert _metres(lon, lat, *back).max() < 0.01
    back = coords.bd09_to_gcj02(*coords.gcj02_to_bd09(lon, lat))
    assert _metres(lon, lat, *back).max() < 0.01


def test_identity_outside_china():
    lon = np.array([2.35, -74.0, 151.2, 100.0, 70.0, 140.0])
    lat = np.array([48.85, 40.7, -33.9, 60.0, 30.0, 35.0])
    assert coords.out_of_china(lon, lat).all()
    for func in (coords.wgs84_to_gcj02, coords.gcj02_to_wgs84, coords.gcj02_to_wgs84_approx):
        out_lon, out_lat = func(lon, lat)
        np.testing.assert_array_equal(out_lon, lon)
        np.testing.assert_array_equal(out_lat, lat)


def test_qingdao_offset_is_about_450_m_east():
    az, _, dist = GEOD.inv(120.2, 36.7, *(float(v) for v in coords.wgs84_to_gcj02(120.2, 36.7)))
    assert 430.0 <= dist <= 480.0
    assert 45.0 < az < 135.0


# --- shapes and NaN -----------------------------------------------------------------------------

ALL_PAIRS = [
    coords.wgs84_to_gcj02,
    coords.gcj02_to_wgs84,
    coords.gcj02_to_wgs84_approx,
    coords.gcj02_to_bd09,
    coords.bd09_to_gcj02,
    coords.bd09_to_gcj02_approx,
    coords.wgs84_to_bd09,
    coords.bd09_to_wgs84,
]


@pytest.mark.parametrize("func", ALL_PAIRS)
def test_nan_passes_through(func):
    lon = np.array([120.2, np.nan, 120.3, np.nan])
    lat = np.array([36.7, 36.7, np.nan, np.nan])
    out_lon, out_lat = func(lon, lat)
    assert np.isfinite(out_lon[0]) and np.isfinite(out_lat[0])
    assert np.isnan(out_lon[1:]).all()
    assert np.isnan(out_lat[1:]).all()


@pytest.mark.parametrize("func", ALL_PAIRS)
def test_shapes_and_dtypes(func):
    # Scalars give 0-d float64 arrays.
    lon, lat = func(120.2, 36.7)
    assert isinstance(lon, np.ndarray) and lon.shape == () and lon.dtype == np.float64
    assert isinstance(lat, np.ndarray) and lat.shape == ()
    # Lists give 1-d arrays; integers are accepted.
    lon, lat = func([120, 121], [36, 37])
    assert lon.shape == (2,) and lat.dtype == np.float64
    # 2-d arrays keep their shape and agree with the 1-d result; inputs are not modified.
    grid_lon = np.array([[120.1, 120.2], [120.3, 120.4]])
    grid_lat = np.array([[36.1, 36.2], [36.3, 36.4]])
    before = grid_lon.copy()
    lon2, lat2 = func(grid_lon, grid_lat)
    assert lon2.shape == (2, 2) and lat2.shape == (2, 2)
    lon1, lat1 = func(grid_lon.ravel(), grid_lat.ravel())
    np.testing.assert_array_equal(lon2.ravel(), lon1)
    np.testing.assert_array_equal(lat2.ravel(), lat1)
    np.testing.assert_array_equal(grid_lon, before)
    # A scalar latitude broadcasts against an array of longitudes.
    lon, lat = func(np.array([120.1, 120.2, 120.3]), 36.5)
    assert lon.shape == (3,) and lat.shape == (3,)


def test_empty_input():
    lon, lat = coords.gcj02_to_wgs84([], [])
    assert lon.shape == (0,) and lat.shape == (0,)


# --- named systems ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "canonical"),
    [
        ("wgs84", "wgs84"),
        ("WGS-84", "wgs84"),
        ("EPSG:4326", "wgs84"),
        ("gps", "wgs84"),
        ("CGCS2000", "cgcs2000"),
        ("epsg:4490", "cgcs2000"),
        ("cgcs", "cgcs2000"),
        ("国家2000", "cgcs2000"),
        ("2000", "cgcs2000"),
        ("GCJ02", "gcj02"),
        ("gcj", "gcj02"),
        ("GCJ-02", "gcj02"),
        ("Amap", "gcj02"),
        ("gaode", "gcj02"),
        ("Tencent", "gcj02"),
        ("火星", "gcj02"),
        ("高德", "gcj02"),
        ("bd09", "bd09"),
        ("BD", "bd09"),
        ("bd-09", "bd09"),
        (" Baidu ", "bd09"),
        ("百度", "bd09"),
    ],
)
def test_normalise_coord_system(name, canonical):
    assert coords.normalise_coord_system(name) == canonical


@pytest.mark.parametrize("name", ["utm", "", "gcj03", None])
def test_unknown_system_lists_choices(name):
    with pytest.raises(UsageError) as info:
        coords.normalise_coord_system(name)
    message = str(info.value)
    assert "\n" not in message
    for choice in ("wgs84", "cgcs2000", "gcj02", "bd09"):
        assert choice in message
    with pytest.raises(UsageError):
        coords.convert_to_wgs84(120.0, 36.0, name)


def test_convert_to_wgs84_dispatches():
    lon = np.array([120.2, 120.45, 119.9])
    lat = np.array([36.7, 36.1, 35.9])
    for system, func in (("gaode", coords.gcj02_to_wgs84), ("百度", coords.bd09_to_wgs84)):
        got = coords.convert_to_wgs84(lon, lat, system)
        want = func(lon, lat)
        np.testing.assert_array_equal(got[0], want[0])
        np.testing.assert_array_equal(got[1], want[1])
    out_lon, out_lat = coords.convert_to_wgs84(lon, lat, "gps")
    np.testing.assert_array_equal(out_lon, lon)
    np.testing.assert_array_equal(out_lat, lat)
    assert out_lon is not lon


def test_cgcs2000_matches_pyproj():
    lon = np.array([120.2, 120.45, 75.0, 135.0, np.nan])
    lat = np.array([36.7, 36.1, 40.0, 48.0, 36.0])
    transformer = Transformer.from_crs("EPSG:4490", "EPSG:4326", always_xy=True)
    want_lon, want_lat = transformer.transform(lon[:-1], lat[:-1])
    got_lon, got_lat = coords.convert_to_wgs84(lon, lat, "cgcs2000")
    np.testing.assert_allclose(got_lon[:-1], want_lon, rtol=0, atol=1e-12)
    np.testing.assert_allclose(got_lat[:-1], want_lat, rtol=0, atol=1e-12)
    assert np.isnan(got_lon[-1]) and np.isnan(got_lat[-1])
    # The two frames agree to centimetres: identity at map accuracy.
    assert _metres(lon[:-1], lat[:-1], got_lon[:-1], got_lat[:-1]).max() < 0.1

    back = coords.convert_from_wgs84(got_lon, got_lat, "epsg:4490")
    inverse = Transformer.from_crs("EPSG:4326", "EPSG:4490", always_xy=True)
    want_back = inverse.transform(got_lon[:-1], got_lat[:-1])
    np.testing.assert_allclose(back[0][:-1], want_back[0], rtol=0, atol=1e-12)
    np.testing.assert_allclose(back[1][:-1], want_back[1], rtol=0, atol=1e-12)


@pytest.mark.parametrize("system", ["wgs84", "cgcs2000", "gcj02", "bd09"])
def test_convert_from_wgs84_inverts_convert_to_wgs84(system):
    lon, lat = _china_grid(20)
    there = coords.convert_from_wgs84(lon, lat, system)
    back = coords.convert_to_wgs84(*there, system)
    assert _metres(lon, lat, *back).max() < 0.01
    if system == "gcj02":
        np.testing.assert_array_equal(there[0], coords.wgs84_to_gcj02(lon, lat)[0])


# --- Gauss–Krüger zones and metric CRS ----------------------------------------------------------


def _central_meridian(crs: CRS) -> float:
    for param in crs.coordinate_operation.params:
        if param.name == "Longitude of natural origin":
            return param.value
    raise AssertionError("no central meridian")


def test_epsg_4549_is_cm_120_with_northing_first():
    crs = CRS.from_epsg(4549)
    assert _central_meridian(crs) == 120.0
    assert crs.axis_info[0].direction == "north"
    assert crs.axis_info[1].direction == "east"
    # Without always_xy pyproj uses the authority order (lat, lon) → (northing, easting).
    north, east = Transformer.from_crs("EPSG:4326", "EPSG:4549").transform(36.7, 120.2)
    assert 4.0e6 < north < 4.1e6 and 500_000 < east < 520_000
    east_xy, north_xy = Transformer.from_crs("EPSG:4326", "EPSG:4549", always_xy=True).transform(
        120.2, 36.7
    )
    assert (east_xy, north_xy) == pytest.approx((east, north))


@pytest.mark.parametrize(
    ("lon", "code"),
    [
        (73.5, 4534),
        (75.0, 4534),
        (76.4, 4534),
        (76.6, 4535),
        (117.0, 4548),
        (118.4, 4548),
        (118.6, 4549),
        (120.2, 4549),
        (121.49, 4549),
        (121.51, 4550),
        (135.0, 4554),
        (136.5, 4554),
    ],
)
def test_gauss_kruger_epsg(lon, code):
    assert coords.gauss_kruger_epsg(lon) == code
    crs = CRS.from_epsg(code)
    assert "Gauss-Kruger" in crs.name
    assert crs.geodetic_crs.to_epsg() == 4490
    # pyproj's central meridian is the one nearest to the longitude.
    assert abs(_central_meridian(crs) - lon) <= 1.5
    assert coords.gauss_kruger_zone(lon) * 3 == _central_meridian(crs)


@pytest.mark.parametrize("lon", [73.4, 136.6, -120.0, float("nan"), "east"])
def test_gauss_kruger_epsg_outside_range(lon):
    with pytest.raises(UsageError):
        coords.gauss_kruger_epsg(lon)


def test_metric_crs_single_zone():
    qingdao = [119.6, 120.0, 120.5, 121.0, np.nan]
    crs, note = coords.choose_metric_crs(qingdao)
    assert crs.to_epsg() == 4549
    assert note == ""
    assert coords.metric_crs_for(qingdao) == CRS.from_epsg(4549)
    # Up to 0.2° past the zone edge (CM 120 ± 1.5) still counts as the zone.
    assert coords.metric_crs_for([118.35, 121.65]).to_epsg() == 4549


def test_metric_crs_falls_back_to_albers_across_zones():
    crs, note = coords.choose_metric_crs(np.array([117.2, 118.0, 120.3]))
    assert crs.is_projected
    assert crs.coordinate_operation.method_name == "Albers Equal Area"
    assert crs.to_epsg() is None
    assert note == (
        "projects span Gauss–Krüger zones 39 and 40; "
        "distances use an equal-area Albers projection for China"
    )
    assert coords.metric_crs_for([117.2, 120.3]) == crs

    _, note = coords.choose_metric_crs([114.0, 120.0], subject="parks")
    assert note.startswith("parks span Gauss–Krüger zones 38 to 40;")


def test_albers_preserves_area():
    # A 1° × 1° cell near Qingdao: planar area in the Albers CRS equals the geodesic area.
    lon = [120.0, 121.0, 121.0, 120.0, 120.0]
    lat = [36.0, 36.0, 37.0, 37.0, 36.0]
    dense_lon = np.concatenate([np.linspace(lon[i], lon[i + 1], 200) for i in range(4)])
    dense_lat = np.concatenate([np.linspace(lat[i], lat[i + 1], 200) for i in range(4)])
    geodesic = abs(Geod(ellps="GRS80").polygon_area_perimeter(dense_lon, dense_lat)[0])
    x, y = Transformer.from_crs("EPSG:4326", coords.albers_china_crs(), always_xy=True).transform(
        dense_lon, dense_lat
    )
    planar = 0.5 * abs(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1)))
    assert planar == pytest.approx(geodesic, rel=1e-4)


def test_metric_crs_needs_a_longitude():
    with pytest.raises(UsageError):
        coords.choose_metric_crs([np.nan])
    with pytest.raises(UsageError):
        coords.metric_crs_for([])


@pytest.mark.parametrize(
    ("source", "target"),
    [
        ("EPSG:4326", "EPSG:4549"),
        ("EPSG:4549", "EPSG:4326"),
        ("EPSG:4326", "EPSG:4534"),
        ("EPSG:3857", "EPSG:4549"),
        ("EPSG:4326", "EPSG:3857"),
        ("EPSG:3857", "EPSG:4326"),
        ("EPSG:4326", "EPSG:32651"),
        ("EPSG:4326", coords.ALBERS_CHINA_PROJ),
        ("EPSG:4490", "EPSG:4326"),
        ("EPSG:4326", "EPSG:2385"),  # Xi'an 1980: a real datum shift, left to from_crs
    ],
)
def test_fast_transformer_agrees_with_from_crs(source, target):
    rng = np.random.default_rng(3)
    lon, lat = rng.uniform(118.5, 121.5, 200), rng.uniform(35.5, 37.5, 200)
    start = Transformer.from_crs("EPSG:4326", source, always_xy=True).transform(lon, lat)
    expected = Transformer.from_crs(source, target, always_xy=True).transform(*start)
    got = coords.fast_transformer(source, target).transform(*start)
    # metres for projected targets, degrees (1e-9° ≈ 0.1 mm) for lon/lat ones
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-6)


def _records(lon: list[float], lat: list[float], system: str = "wgs84") -> pd.DataFrame:
    return pd.DataFrame({"lon": lon, "lat": lat, "coord_sys": [system] * len(lon)})


def test_the_points_coordinates_are_shared_only_within_a_build_and_only_for_its_points():
    from parkmap.webmap.payloads import _coordinates
    from parkmap.write import point_wkb

    lon, lat = [120.1, -0.0, 120.123456789], [36.5, 36.7, 0.0]
    outside = coords.records_to_wgs84(_records(lon, lat), [])
    assert coords.known_point_coordinates(outside.geometry.array) is None
    with coords.sharing_point_coordinates():
        inside = coords.records_to_wgs84(_records(lon, lat), [])
        geometry = np.asarray(inside.geometry.array)
        known = coords.known_point_coordinates(geometry)
        assert known is not None
        # The very numbers Shapely gives back, read-only.
        np.testing.assert_array_equal(known[0], shapely.get_x(geometry))
        np.testing.assert_array_equal(known[1], shapely.get_y(geometry))
        assert not known[0].flags.writeable
        # The readers give what they give without the shortcut: WKB as GEOS writes it.
        assert point_wkb(geometry).to_pylist() == list(shapely.to_wkb(geometry, output_dimension=2))
        np.testing.assert_array_equal(_coordinates(inside)[0], shapely.get_x(geometry))
        # A copy, a slice, another build's points: not the array made here.
        assert coords.known_point_coordinates(geometry.copy()) is None
        assert coords.known_point_coordinates(geometry[1:]) is None
        assert coords.known_point_coordinates(outside.geometry.array) is None
        # Points without coordinates everywhere are never shared (they may be empty).
        gappy = coords.records_to_wgs84(_records([120.1, np.nan], [36.5, np.nan]), [])
        assert coords.known_point_coordinates(gappy.geometry.array) is None
    assert coords.known_point_coordinates(geometry) is None  # forgotten after the block


def test_the_points_are_projected_once_per_crs_within_a_build():
    crs = coords.metric_crs_for([120.1])
    lon, lat = [120.1, 120.2, 119.9], [36.5, 36.7, 36.6]
    with coords.sharing_point_coordinates():
        points = coords.records_to_wgs84(_records(lon, lat), [])
        geometry = points.geometry.array
        # Nobody has projected them yet: a stage that only takes what exists gets nothing.
        assert coords.shared_metric_coordinates(geometry, crs, start=False) is None
        x, y = coords.shared_metric_coordinates(geometry, crs, start=True)
        want_x, want_y = coords.lonlat_transformer(crs).transform(lon, lat)
        np.testing.assert_array_equal(x, want_x)
        np.testing.assert_array_equal(y, want_y)
        again = coords.shared_metric_coordinates(geometry, crs, start=False)
        assert again is not None and again[0] is x  # the same arrays, not a second projection
        assert not x.flags.writeable
    assert coords.shared_metric_coordinates(geometry, crs, start=True) is None

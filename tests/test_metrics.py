"""Park figures: geodesic areas, counts, sums, density, breakdowns."""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import box

from parkmap.metrics import geodesic_area_km2, park_breakdown, park_summary, parks_table

A_WGS84 = 6378137.0
F_WGS84 = 1 / 298.257223563


def ellipsoidal_box_area_km2(west, south, east, north):
    """Exact area between two parallels and two meridians on the WGS-84 ellipsoid (by hand)."""
    e2 = F_WGS84 * (2 - F_WGS84)
    e = math.sqrt(e2)

    def q(phi):
        s = math.sin(math.radians(phi))
        return s / (1 - e2 * s * s) + math.log((1 + e * s) / (1 - e * s)) / (2 * e)

    return math.radians(east - west) * A_WGS84**2 * (1 - e2) / 2 * (q(north) - q(south)) / 1e6


def test_geodesic_area_matches_the_ellipsoid_formula():
    # Densified so the geodesic edges follow the parallels closely.
    cell = shapely.segmentize(box(120.0, 36.5, 120.1, 36.6), 0.001)
    area = geodesic_area_km2(gpd.GeoSeries([cell], crs="EPSG:4326")).iloc[0]
    assert area == pytest.approx(ellipsoidal_box_area_km2(120.0, 36.5, 120.1, 36.6), rel=1e-5)
    # And against an equal-area projection computed by pyproj/shapely independently.
    laea = gpd.GeoSeries([cell], crs="EPSG:4326").to_crs("+proj=laea +lat_0=36.55 +lon_0=120.05")
    assert area == pytest.approx(laea.area.iloc[0] / 1e6, rel=1e-4)
    # Web Mercator would be about 1/cos²(36.55°) ≈ 1.55 times too large.
    mercator = gpd.GeoSeries([cell], crs="EPSG:4326").to_crs("EPSG:3857").area.iloc[0] / 1e6
    assert mercator / area == pytest.approx(1 / math.cos(math.radians(36.55)) ** 2, rel=1e-2)


def test_area_of_multipolygon_and_hole():
    outer = box(120.0, 36.5, 120.2, 36.7)
    with_hole = outer.difference(box(120.05, 36.55, 120.15, 36.65))
    parts = shapely.MultiPolygon([box(120.0, 36.5, 120.1, 36.6), box(121.0, 36.5, 121.1, 36.6)])
    areas = geodesic_area_km2(gpd.GeoSeries([with_hole, parts], crs="EPSG:4326"))
    hole = ellipsoidal_box_area_km2(120.05, 36.55, 120.15, 36.65)
    assert areas.iloc[0] == pytest.approx(
        ellipsoidal_box_area_km2(120.0, 36.5, 120.2, 36.7) - hole, rel=1e-3
    )
    assert areas.iloc[1] == pytest.approx(
        2 * ellipsoidal_box_area_km2(120.0, 36.5, 120.1, 36.6), rel=1e-3
    )


@pytest.fixture
def parks():
    return gpd.GeoDataFrame(
        {"park_id": ["a", "b", "empty"], "name": ["A", "B", "E"], "name_en": ["", "", ""]},
        geometry=[
            box(120.0, 36.5, 120.1, 36.6),
            box(120.08, 36.5, 120.2, 36.6),
            box(121, 37, 121.1, 37.1),
        ],
        crs="EPSG:4326",
    )


@pytest.fixture
def joined():
    return pd.DataFrame(
        {
            "park_ids": ["a", "a", "a;b", "b", "", "b"],
            "investment_100m_cny": [1.0, np.nan, 2.0, 4.0, 8.0, 0.5],
            "status": [
                "signed",
                "signed",
                "under_construction",
                "in_production",
                "signed",
                "unknown",
            ],
            "industry": ["家电", "家电", "汽车", "汽车", "农业", ""],
        }
    )


def test_park_summary_counts_sums_density_and_rank(parks, joined):
    summary = park_summary(parks, joined).set_index("park_id")
    # a: 3 projects (one in the overlap), 1 + 2 = 3 亿元 (NaN counted, not summed).
    assert summary.loc["a", "projects"] == 3
    assert summary.loc["a", "investment_100m_cny"] == pytest.approx(3.0)
    assert summary.loc["b", "projects"] == 3
    assert summary.loc["b", "investment_100m_cny"] == pytest.approx(6.5)
    assert summary.loc["empty", "projects"] == 0
    assert summary.loc["empty", "investment_100m_cny"] == 0
    area_a = ellipsoidal_box_area_km2(120.0, 36.5, 120.1, 36.6)
    assert summary.loc["a", "area_km2"] == pytest.approx(area_a, rel=1e-4)
    assert summary.loc["a", "density_100m_cny_per_km2"] == pytest.approx(3.0 / area_a, rel=1e-4)
    area_b = ellipsoidal_box_area_km2(120.08, 36.5, 120.2, 36.6)
    assert summary.loc["b", "density_100m_cny_per_km2"] == pytest.approx(6.5 / area_b, rel=1e-4)
    assert summary["rank"].to_dict() == {"b": 1, "a": 2, "empty": 3}
    assert summary.loc["a", "projects_signed"] == 2
    assert summary.loc["a", "investment_signed_100m_cny"] == pytest.approx(1.0)
    assert summary.loc["b", "projects_in_production"] == 1
    assert summary.loc["b", "projects_unknown"] == 1


def test_breakdown_by_industry(parks, joined):
    table = park_breakdown(parks, joined, by="industry")
    rows = {
        (r.park_id, r.category): (r.projects, r.investment_100m_cny) for r in table.itertuples()
    }
    assert rows[("a", "家电")] == (2, 1.0)
    assert rows[("a", "汽车")] == (1, 2.0)
    assert rows[("b", "汽车")] == (2, 6.0)
    assert rows[("b", "—")] == (1, 0.5)
    assert table["park_id"].tolist()[:2] == ["a", "a"]
    assert table[table["park_id"] == "a"]["category"].tolist() == ["汽车", "家电"]


def test_parks_table_columns(parks, joined):
    table = parks_table(park_summary(parks, joined))
    assert table.columns[:7].tolist() == [
        "park_id",
        "name",
        "name_en",
        "area_km2",
        "projects",
        "investment_100m_cny",
        "density_100m_cny_per_km2",
    ]
    assert "geometry" not in table.columns


def _groupby_tally(pairs, by):
    """The pandas groupby that ``parkmap.metrics._tally`` stands in for."""
    return (
        pairs.groupby(["park_id", by])
        .agg(
            projects=(by, "size"),
            investment_100m_cny=("investment_100m_cny", lambda s: s.sum(min_count=0)),
        )
        .reset_index()
        .astype({"projects": "int64", "investment_100m_cny": float})
    )


@pytest.mark.parametrize("seed", range(20))
def test_tallies_equal_pandas_groupby_to_the_last_bit(seed):
    """Counts and sums per (park, key) against pandas' groupby on the same rows: keys in
    sorted order, rows with a missing key left out, missing amounts as 0, sums of values
    from 1e-9 to 1e12 that any other order of addition would round differently."""
    from parkmap.metrics import _tally

    rng = np.random.default_rng(seed)
    n = [0, 1, 2][seed] if seed < 3 else int(rng.integers(0, 4000))
    names = [f"P{i:03d}" for i in range(int(rng.integers(1, 40)))] + ["平度园区", "b"]
    status = rng.choice(np.array(["签约", "在建", "投产", "前期", "unknown"], dtype=object), n)
    status[rng.random(n) < 0.05] = None
    amounts = rng.lognormal(0, 3, n) * rng.choice([1.0, -1.0, 1e12, 1e-9], n)
    amounts[rng.random(n) < 0.1] = np.nan
    pairs = pd.DataFrame(
        {
            "park_id": pd.array(rng.choice(names, n), dtype="str"),
            "status": status,
            "investment_100m_cny": amounts,
        }
    )
    pd.testing.assert_frame_equal(
        _tally(pairs, "status"), _groupby_tally(pairs, "status"), check_exact=True
    )

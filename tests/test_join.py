"""Project ↔ park join: boundaries, overlaps, outside points, declared parks."""

from __future__ import annotations

import math

import geopandas as gpd
import pytest
from pyproj import Geod
from shapely.geometry import Point, box

from parkmap.join import join_projects_to_parks, match_park

# Two parks overlapping in lon 120.08–120.10, a third far away.
PARKS = gpd.GeoDataFrame(
    {
        "park_id": ["nancun", "edz", "far"],
        "name": ["平度南村智能家电产业集聚区", "平度经济开发区", "远园"],
        "name_zh": ["平度南村智能家电产业集聚区", "平度经济开发区", "远园"],
        "name_en": ["Nancun cluster", "Pingdu EDZ", "Far park"],
    },
    geometry=[
        box(120.0, 36.5, 120.1, 36.6),
        box(120.08, 36.5, 120.2, 36.6),
        box(121, 37, 121.1, 37.1),
    ],
    crs="EPSG:4326",
)


def projects(points, declared=None):
    n = len(points)
    return gpd.GeoDataFrame(
        {
            "project_id": [f"p{i}" for i in range(n)],
            "park_declared": declared or [""] * n,
            "warnings": [""] * n,
        },
        geometry=[Point(*p) for p in points],
        crs="EPSG:4326",
    )


def test_point_inside_and_on_boundary_belong_to_the_park():
    joined = join_projects_to_parks(
        projects([(120.05, 36.55), (120.0, 36.55), (120.03, 36.6)]), PARKS
    )
    assert joined["park_id"].tolist() == ["nancun"] * 3
    assert joined["outside_parks"].tolist() == [False] * 3
    assert joined["distance_km"].tolist() == [0.0] * 3
    assert joined["warnings"].tolist() == [""] * 3


def test_point_in_overlap_counts_in_both_and_is_flagged():
    joined = join_projects_to_parks(projects([(120.09, 36.55)]), PARKS)
    row = joined.iloc[0]
    assert row["park_ids"] == "nancun;edz"
    assert row["park_id"] == "nancun"
    assert "in 2 overlapping parks" in row["warnings"]


def test_declared_park_chooses_among_overlapping_parks():
    joined = join_projects_to_parks(projects([(120.09, 36.55)], ["开发区"]), PARKS)
    assert joined.iloc[0]["park_id"] == "edz"


def test_outside_point_keeps_distance_to_nearest_park():
    lon, lat = 120.3, 36.55  # due east of the EDZ's east edge at 120.2
    joined = join_projects_to_parks(projects([(lon, lat)]), PARKS)
    row = joined.iloc[0]
    assert row["park_id"] == "" and row["outside_parks"]
    assert row["nearest_park_id"] == "edz"
    _, _, metres = Geod(ellps="WGS84").inv(120.2, lat, lon, lat)
    assert row["distance_km"] == pytest.approx(metres / 1000, rel=1e-3)
    # By hand: 0.1° of longitude at 36.55° N on a 6371 km sphere ≈ 8.93 km.
    assert row["distance_km"] == pytest.approx(
        math.radians(0.1) * 6371 * math.cos(math.radians(lat)), rel=5e-3
    )


def test_declared_park_mismatch_is_a_warning():
    joined = join_projects_to_parks(
        projects(
            [(120.15, 36.55), (120.3, 36.55), (120.05, 36.55)], ["南村", "南村", "不存在园区"]
        ),
        PARKS,
    )
    warnings = joined["warnings"].tolist()
    assert "declared park '南村' but the point lies in '平度经济开发区'" in warnings[0]
    assert "lies outside every park" in warnings[1]
    assert "declared park '不存在园区' is not in the park layer" in warnings[2]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("平度南村智能家电产业集聚区", "nancun"),
        ("南村", "nancun"),
        ("Pingdu EDZ", "edz"),
        ("pingdu-edz", "edz"),  # spaces and dashes ignored
        ("edz", "edz"),
        ("平度", None),  # ambiguous: both Pingdu parks
        ("", None),
    ],
)
def test_match_park(text, expected):
    assert match_park(text, PARKS) == expected


def test_distance_across_gauss_krueger_zones_is_geodesic():
    # 117.4 E and 121.0 E lie in different 3-degree zones: the search falls back to an
    # equal-area projection and the gap is measured on the ellipsoid.
    parks = gpd.GeoDataFrame(
        {"park_id": ["w", "e"], "name": ["W", "E"]},
        geometry=[box(117.0, 36.0, 117.2, 36.2), box(121.0, 36.0, 121.2, 36.2)],
        crs="EPSG:4326",
    )
    joined = join_projects_to_parks(projects([(117.4, 36.1), (120.9, 36.1)]), parks)
    assert joined["nearest_park_id"].tolist() == ["w", "e"]
    geod = Geod(ellps="WGS84")
    assert joined["distance_km"].iloc[0] == pytest.approx(
        geod.inv(117.2, 36.1, 117.4, 36.1)[2] / 1000, rel=1e-3
    )
    assert joined["distance_km"].iloc[1] == pytest.approx(
        geod.inv(121.0, 36.1, 120.9, 36.1)[2] / 1000, rel=1e-3
    )

"""Project ↔ park join: boundaries, overlaps, outside points, declared parks."""

from __future__ import annotations

import itertools
import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
import shapely
from pyproj import Geod, Transformer
from shapely.geometry import MultiPolygon, Point, Polygon, box

from parkmap.join import _join_notes, join_projects_to_parks, match_park, nearest_parks

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


@pytest.mark.parametrize("said", ["园区外", "无", "-", " / ", "Outside", "N/A", "不在园区内"])
def test_declaring_no_park_is_not_a_park_name(said):
    points = [(120.3, 36.55), (120.05, 36.55)]  # outside every park; inside 南村
    joined = join_projects_to_parks(projects(points, [said, said]), PARKS)
    # outside, as the record says: nothing to warn about
    assert joined["warnings"].iloc[0] == "" and joined["outside_parks"].iloc[0]
    assert joined["nearest_park_id"].iloc[0] == "edz"
    # inside a park although the record says none: the project counts there, with a warning
    assert joined["park_id"].iloc[1] == "nancun"
    assert joined["warnings"].iloc[1] == (
        f"declared park {said!r} (no park) but the point lies in '平度南村智能家电产业集聚区'"
    )


def test_undecided_park_is_no_claim_at_all():
    points = [(120.3, 36.55), (120.05, 36.55)]
    joined = join_projects_to_parks(projects(points, ["待定", "TBD"]), PARKS)
    assert joined["warnings"].tolist() == ["", ""]
    assert joined["park_id"].tolist() == ["", "nancun"]


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


# A park with a hole, a two-part park, and two parks side by side along 120° E: a point due
# south of their shared corner is exactly as far from both. The search runs in CGCS2000
# Gauss–Krüger zone 40 (EPSG:4549).
HOLED = Polygon(
    [(120.1, 36.5), (120.3, 36.5), (120.3, 36.65), (120.1, 36.65)],
    [[(120.15, 36.55), (120.25, 36.55), (120.25, 36.6), (120.15, 36.6)]],
)
LAYER = gpd.GeoDataFrame(
    {"park_id": ["holed", "split", "west", "east"], "name": ["H", "S", "W", "E"]},
    geometry=[
        HOLED,
        MultiPolygon([box(120.35, 36.45, 120.4, 36.5), box(120.37, 36.7, 120.45, 36.75)]),
        box(119.95, 36.75, 120.0, 36.8),
        box(120.0, 36.75, 120.05, 36.8),
    ],
    crs="EPSG:4326",
)


def distance_to_each_park(lon, lat, parks):
    """Independent answer: shapely.distance in EPSG:4549 from each point to each park (km)."""
    metric = parks.to_crs("EPSG:4549").geometry.array
    x, y = Transformer.from_crs("EPSG:4326", "EPSG:4549", always_xy=True).transform(lon, lat)
    points = shapely.points(x, y)
    return np.column_stack([shapely.distance(points, g) for g in metric]) / 1000


def test_nearest_parks_agrees_with_the_distance_to_each_park():
    rng = np.random.default_rng(5)
    lon = rng.uniform(119.8, 120.6, 20_000)
    lat = rng.uniform(36.4, 36.9, 20_000)
    # Points due south of the corner "west" and "east" share; on vertices (outer ring, hole,
    # second part); on edges (which bend by centimetres between degrees and metres).
    lon = np.r_[lon, np.full(100, 120.0), 120.3, 120.1, 120.15, 120.35, 120.3, 120.2]
    lat = np.r_[lat, np.linspace(36.70, 36.745, 100), 36.65, 36.5, 36.55, 36.5, 36.6, 36.55]
    points = gpd.GeoSeries(shapely.points(lon, lat), crs="EPSG:4326")
    nearest, distance = nearest_parks(points, LAYER)
    each = distance_to_each_park(lon, lat, LAYER)
    assert (nearest == each.argmin(axis=1)).all()  # argmin: the first of equal minima
    np.testing.assert_allclose(distance, each.min(axis=1), rtol=1e-12, atol=1e-12)
    south = slice(20_000, 20_100)
    assert (each[south, 2] == each[south, 3]).all()  # the tie is real
    assert (nearest[south] == 2).all()  # and goes to "west", first in layer order
    assert distance[-6:-2].tolist() == [0.0, 0.0, 0.0, 0.0]  # vertices
    assert nearest[-6:].tolist() == [0, 0, 0, 1, 0, 0]
    assert (distance[-2:] < 1e-4).all()  # under 10 cm


def test_join_reports_nearest_park_and_distance_for_outside_points():
    lon = np.array([120.0, 120.2, 120.325, 120.2])
    lat = np.array([36.72, 36.575, 36.6, 36.4])
    joined = join_projects_to_parks(projects(list(zip(lon, lat, strict=True))), LAYER)
    each = distance_to_each_park(lon, lat, LAYER)
    assert joined["outside_parks"].tolist() == [True] * 4  # the second lies in the hole
    assert joined["nearest_park_id"].tolist() == ["west", "holed", "holed", "holed"]
    np.testing.assert_allclose(joined["distance_km"], each.min(axis=1), rtol=1e-12)


def test_long_edge_bends_between_degrees_and_metres():
    # A 70 km edge along 36.5° N drawn straight in degrees and straight in metres parts by
    # tens of metres: a point just north of it in degrees can be inside the metric polygon,
    # where its distance is 0, as shapely measures it in EPSG:4549.
    parks = gpd.GeoDataFrame(
        {"park_id": ["wide"], "name": ["Wide"]},
        geometry=[box(119.6, 36.0, 120.4, 36.5)],
        crs="EPSG:4326",
    )
    lon = np.linspace(119.61, 120.39, 200)
    lat = 36.5 + np.linspace(1e-6, 1e-3, 200)  # 0.1 to 111 m north of the edge in degrees
    points = gpd.GeoSeries(shapely.points(lon, lat), crs="EPSG:4326")
    nearest, distance = nearest_parks(points, parks, outside=True)
    want_km = distance_to_each_park(lon, lat, parks)[:, 0]
    assert (want_km == 0).any() and (want_km > 0).any()  # the case is real
    assert (nearest == 0).all()
    np.testing.assert_allclose(distance, want_km, rtol=1e-12, atol=1e-12)


def test_join_without_declared_or_warning_columns_leaves_the_input_alone():
    frame = projects([(120.05, 36.55), (120.09, 36.55), (120.3, 36.55)]).drop(
        columns=["park_declared", "warnings"]
    )
    before = list(frame.columns)
    joined = join_projects_to_parks(frame, PARKS)
    assert list(frame.columns) == before
    assert joined["park_id"].tolist() == ["nancun", "nancun", ""]
    assert joined["park_ids"].tolist() == ["nancun", "nancun;edz", ""]
    assert joined["warnings"].tolist() == [
        "",
        "in 2 overlapping parks: 平度南村智能家电产业集聚区, 平度经济开发区",
        "",
    ]


# --- the declared-park rule -------------------------------------------------------------------
# Distances below are worked out apart from parkmap: pyproj's geodesic from a point due east of
# a box to the box's edge on the same parallel, or shapely in EPSG:4549 (distance_to_each_park).


def _geodesic_km(lon1, lat1, lon2, lat2):
    return Geod(ellps="WGS84").inv(lon1, lat1, lon2, lat2)[2] / 1000


def test_a_point_near_its_declared_park_is_counted_there():
    lon, lat = 120.23, 36.55  # due east of the EDZ's east edge at 120.2: about 2.7 km
    joined = join_projects_to_parks(projects([(lon, lat)], ["平度经济开发区"]), PARKS)
    row = joined.iloc[0]
    want = _geodesic_km(120.2, lat, lon, lat)
    assert 2.6 < want < 2.8
    assert row["park_id"] == "edz" and row["park_name"] == "平度经济开发区"
    assert row["park_ids"] == "edz"
    assert not row["outside_parks"]  # not "outside" for counting …
    assert row["nearest_park_id"] == "edz"
    assert row["distance_km"] == pytest.approx(want, rel=1e-3)  # … but the true distance
    assert row["declared_km"] == pytest.approx(want, rel=1e-3)
    assert row["warnings"] == (
        f"declared park '平度经济开发区' but the point lies {want:.1f} km outside it; "
        "counted in it as the ledger declares"
    )


def test_the_warning_in_chinese():
    joined = join_projects_to_parks(projects([(120.23, 36.55)], ["开发区"]), PARKS, lang="zh")
    want = _geodesic_km(120.2, 36.55, 120.23, 36.55)
    assert joined["warnings"].iloc[0] == (
        f"所属园区 '开发区'：点位在该园区范围外 {want:.1f} km，按台账所属园区计入"
    )


def test_beyond_the_limit_or_with_the_rule_off_the_point_stays_outside():
    lon, lat = 120.3, 36.55  # 8.9 km east of the EDZ
    want = _geodesic_km(120.2, lat, lon, lat)
    for limit in (5.0, 0.0, want - 0.01):
        joined = join_projects_to_parks(
            projects([(lon, lat)], ["开发区"]), PARKS, declared_within_km=limit
        )
        row = joined.iloc[0]
        assert row["park_id"] == "" and row["outside_parks"], limit
        assert np.isnan(row["declared_km"])
        assert row["distance_km"] == pytest.approx(want, rel=1e-3)
        assert "lies outside every park" in row["warnings"]
    joined = join_projects_to_parks(
        projects([(lon, lat)], ["开发区"]), PARKS, declared_within_km=want + 0.01
    )
    assert joined["park_id"].iloc[0] == "edz"


def test_the_declared_park_need_not_be_the_nearest():
    # 8.9 km from the EDZ, about 17.9 km from 南村 (box 120.0–120.1): counted in 南村 with its
    # own distance when the limit allows; nearest park and distance_km still the EDZ's.
    lon, lat = 120.3, 36.55
    joined = join_projects_to_parks(projects([(lon, lat)], ["南村"]), PARKS, declared_within_km=20)
    row = joined.iloc[0]
    each = distance_to_each_park(np.array([lon]), np.array([lat]), PARKS)[0]
    assert row["park_id"] == "nancun" and not row["outside_parks"]
    assert row["declared_km"] == pytest.approx(each[0], rel=1e-9)
    assert row["nearest_park_id"] == "edz"
    assert row["distance_km"] == pytest.approx(each[1], rel=1e-9)
    assert f"lies {each[0]:.1f} km outside it" in row["warnings"]


def test_a_point_inside_another_park_keeps_that_park():
    joined = join_projects_to_parks(
        projects([(120.15, 36.55)], ["南村"]), PARKS, declared_within_km=50
    )
    row = joined.iloc[0]
    assert row["park_id"] == "edz" and np.isnan(row["declared_km"])
    assert row["warnings"] == "declared park '南村' but the point lies in '平度经济开发区'"


@pytest.mark.parametrize("said", ["", "园区外", "待定", "不存在园区", "平度"])
def test_only_a_park_of_the_layer_is_a_declaration_to_count(said):
    # nothing, "no park", undecided, a park not in the layer, an ambiguous name
    joined = join_projects_to_parks(projects([(120.23, 36.55)], [said]), PARKS)
    assert joined["park_id"].iloc[0] == "" and joined["outside_parks"].iloc[0]
    assert np.isnan(joined["declared_km"].iloc[0])


def test_counted_rows_among_many_and_across_gauss_krueger_zones():
    # Two parks in zones 39 and 40: distances fall back to the ellipsoid, and each counted
    # row carries its own park and distance (the rows interleave with others).
    parks = gpd.GeoDataFrame(
        {"park_id": ["w", "e"], "name": ["W园", "E园"]},
        geometry=[box(117.0, 36.0, 117.2, 36.2), box(121.0, 36.0, 121.2, 36.2)],
        crs="EPSG:4326",
    )
    points = [(117.23, 36.1), (121.1, 36.1), (120.96, 36.1), (117.5, 36.1), (120.97, 36.1)]
    declared = ["W园", "E园", "E园", "W园", "W园"]
    joined = join_projects_to_parks(projects(points, declared), parks)
    assert joined["park_id"].tolist() == ["w", "e", "e", "", ""]
    assert joined["outside_parks"].tolist() == [False, False, False, True, True]
    want = [
        _geodesic_km(117.2, 36.1, 117.23, 36.1),
        0.0,
        _geodesic_km(121.0, 36.1, 120.96, 36.1),
    ]
    assert joined["declared_km"].iloc[0] == pytest.approx(want[0], rel=1e-3)
    assert np.isnan(joined["declared_km"].iloc[1])  # inside: no rule needed
    assert joined["declared_km"].iloc[2] == pytest.approx(want[2], rel=1e-3)
    assert np.isnan(joined["declared_km"].iloc[3:]).all()  # 26 km; 335 km away


@pytest.mark.parametrize("limit", [-1.0, float("nan")])
def test_a_negative_limit_is_a_usage_error(limit):
    from parkmap.errors import UsageError

    with pytest.raises(UsageError, match="declared-within"):
        join_projects_to_parks(projects([(120.23, 36.55)]), PARKS, declared_within_km=limit)


def test_one_decimal_writes_what_python_writes():
    """The array-wide ``.1f`` gives Python's text for every value, halves and their binary
    neighbours (0.35 is a hair below), signs, zeros, huge and non-finite values included."""
    from parkmap.join import one_decimal

    rng = np.random.default_rng(16)
    values = np.concatenate(
        [
            rng.uniform(-60, 60, 50_000),
            np.round(rng.uniform(0, 30, 50_000), 2),
            np.arange(-20, 20, 0.05),
            [0.0, -0.0, -0.04, 0.05, 0.15, 0.25, 0.35, 0.45, 9.95, 99.95, 1e-300],
            [1e15, 1e16, 2.5e20, np.inf, -np.inf, np.nan, 123456789.05],
        ]
    )
    assert one_decimal(values).to_pylist() == [f"{v:.1f}" for v in values.tolist()]
    assert one_decimal(np.array([])).to_pylist() == []


def test_declared_park_notes_are_the_templates_filled_row_by_row():
    """The "counted in its declared park" warning is each language's template with the
    declared name (as repr) and the distance filled in, as str.format would."""
    import pyarrow as pa

    from parkmap.i18n import texts
    from parkmap.join import _filled

    names = pa.array(["'平度经济开发区'", "'Laixi EDZ'"])
    km = pa.array(["1.6", "0.0"])
    for lang in ("zh", "en"):
        template = texts(lang, "row")["declared_counted"]
        assert _filled(template, declared=names, km=km).to_pylist() == [
            template.format(declared="'平度经济开发区'", km="1.6"),
            template.format(declared="'Laixi EDZ'", km="0.0"),
        ]


def test_row_notes_are_joined_only_where_present():
    # Every mix of null, "" and text in one to four notes, against the rule written out by hand.
    values = [None, "", "a", "b; c", "中文"]
    for width in range(1, 5):
        rows = list(itertools.product(values, repeat=width))
        notes = [pa.array([row[k] for row in rows], type=pa.string()) for k in range(width)]
        want = ["; ".join(v for v in row if v) for row in rows]
        assert _join_notes(*notes).to_pylist() == want
    # No later note at all: the first comes back as it was, nulls as "".
    first = pa.array(["x", None, ""], type=pa.string())
    empty = pa.nulls(3, type=pa.string())
    assert _join_notes(first, empty, empty).to_pylist() == ["x", "", ""]


def test_a_join_within_a_build_measures_what_it_measures_alone(monkeypatch):
    # Points in, near and far from the parks; within a build the nearest-park search takes
    # the coordinates the points were made of and the projection the density surface made.
    from parkmap import coords

    taken = []
    share = coords.shared_metric_coordinates

    def spy(geometry, crs, *, start):
        found = share(geometry, crs, start=start)
        taken.append((start, found is not None))
        return found

    monkeypatch.setattr(coords, "shared_metric_coordinates", spy)

    rng = np.random.default_rng(3)
    lon = np.concatenate([rng.uniform(119.9, 121.2, 300), [120.05, 120.09, 121.05]])
    lat = np.concatenate([rng.uniform(36.4, 37.2, 300), [36.55, 36.55, 37.05]])
    frame = pd.DataFrame({"lon": lon, "lat": lat, "coord_sys": "wgs84", "warnings": ""})
    alone = join_projects_to_parks(coords.records_to_wgs84(frame, []), PARKS)
    with coords.sharing_point_coordinates():
        points = coords.records_to_wgs84(frame, [])
        crs, _ = coords.choose_metric_crs(
            np.concatenate([lon, shapely.get_x(shapely.centroid(PARKS.geometry.array))])
        )
        assert coords.shared_metric_coordinates(points.geometry.array, crs, start=True)
        shared = join_projects_to_parks(points, PARKS)
    pd.testing.assert_frame_equal(
        shared.drop(columns="geometry"), alone.drop(columns="geometry"), check_exact=True
    )
    assert (False, True) in taken  # the join took the projection made before it
    assert (shared["distance_km"] > 0).sum() > 250  # most of them measured from outside

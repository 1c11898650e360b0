"""Nearest polygon edge in whole-array steps, checked against shapely one point at a time."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from shapely.geometry import LineString, MultiPolygon, Point, Polygon, box

from parkmap.nearest import nearest_edges, point_segment_distance, polygon_edges

# Metric coordinates (metres). A park with a hole, a two-part park, a plain box.
WITH_HOLE = Polygon(
    [(0, 0), (4000, 0), (4000, 3000), (0, 3000)],
    [[(1000, 1000), (3000, 1000), (3000, 2000), (1000, 2000)]],
)
TWO_PARTS = MultiPolygon([box(6000, 0, 7000, 1000), box(6500, 2500, 8000, 4000)])
PLAIN = box(-3000, 5000, -1000, 6000)
LAYER = np.array([WITH_HOLE, TWO_PARTS, PLAIN], dtype=object)


def brute_force(points: np.ndarray, polygons: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Nearest polygon by shapely.distance to each one; ties go to the first polygon."""
    dist = np.column_stack([shapely.distance(points, poly) for poly in polygons])
    return dist.argmin(axis=1), dist.min(axis=1)


def outside_points(rng: np.random.Generator, n: int, polygons: np.ndarray) -> np.ndarray:
    """Random points around the polygons (and in the hole), none inside a polygon."""
    xy = rng.uniform([-5000, -2000], [10000, 8000], (n, 2))
    points = shapely.points(xy)
    inside = np.zeros(n, dtype=bool)
    inside[shapely.STRtree(polygons).query(points, predicate="intersects")[0]] = True
    return points[~inside]


def test_point_segment_distance_matches_shapely():
    rng = np.random.default_rng(3)
    ends = rng.uniform(-100, 100, (500, 4))
    ends[:20, 2:] = ends[:20, :2]  # zero-length segments: distance to their one point
    xy = rng.uniform(-150, 150, (500, 2))
    ours = point_segment_distance(xy[:, 0], xy[:, 1], *ends.T)
    lines = [LineString([(a, b), (c, d)]) for a, b, c, d in ends]
    theirs = [Point(p).distance(line) for p, line in zip(xy, lines, strict=True)]
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-9)


def test_polygon_edges_cover_every_ring_of_every_part():
    edges = polygon_edges(LAYER)
    # 5 closed rings with 4 sides each in the hole park, 2 × 4 sides, 4 sides.
    assert len(edges) == 8 + 8 + 4
    assert np.bincount(edges.owner).tolist() == [8, 8, 4]
    assert polygon_edges(np.array([LineString([(0, 0), (1, 1)])], dtype=object)) is None
    edges = polygon_edges(np.array([None, Polygon(), PLAIN], dtype=object))
    assert edges.owner.tolist() == [2, 2, 2, 2]


@pytest.mark.parametrize(
    ("points_per_cell", "max_candidates"),
    [(128, 64), (4, 1), (1_000_000, 1)],  # grid; mostly STRtree; one cell, all STRtree
)
def test_nearest_edges_agree_with_distance_to_each_polygon(points_per_cell, max_candidates):
    rng = np.random.default_rng(11)
    points = outside_points(rng, 20_000, LAYER)
    owner, distance = nearest_edges(
        shapely.get_x(points),
        shapely.get_y(points),
        polygon_edges(LAYER),
        points_per_cell=points_per_cell,
        max_candidates=max_candidates,
    )
    expected_owner, expected_distance = brute_force(points, LAYER)
    assert (owner == expected_owner).all()
    np.testing.assert_allclose(distance, expected_distance, rtol=1e-12, atol=1e-9)


@pytest.mark.parametrize("max_candidates", [64, 1])  # grid; STRtree
def test_equally_near_parks_go_to_the_first_in_layer_order(max_candidates):
    left, right = box(0, 0, 100, 100), box(300, 0, 400, 100)
    # On the mid line x = 200 every point is equally far from both boxes.
    x = np.full(50, 200.0)
    y = np.linspace(-500, 600, 50)
    for layer, first in (([left, right], 0), ([right, left], 0)):
        edges = polygon_edges(np.array(layer, dtype=object))
        owner, distance = nearest_edges(x, y, edges, max_candidates=max_candidates)
        assert (owner == first).all()
        _, expected = brute_force(shapely.points(x, y), np.array(layer, dtype=object))
        np.testing.assert_allclose(distance, expected, rtol=1e-12)
    # Off the mid line the nearer box wins whatever the order.
    owner, _ = nearest_edges(
        np.array([150.0, 250.0]), np.array([50.0, 50.0]), polygon_edges(np.array([right, left]))
    )
    assert owner.tolist() == [1, 0]


def test_point_on_an_edge_is_zero_from_it():
    x = np.array([4000.0, 2000.0, 6000.0])  # east side, hole's edge, part's corner
    y = np.array([1500.0, 1000.0, 1000.0])
    owner, distance = nearest_edges(x, y, polygon_edges(LAYER))
    assert owner.tolist() == [0, 0, 1]
    assert distance.tolist() == [0.0, 0.0, 0.0]


def test_non_finite_points_are_left_undecided():
    owner, distance = nearest_edges(
        np.array([np.nan, 5000.0, np.inf]), np.array([0.0, 0.0, 1.0]), polygon_edges(LAYER)
    )
    assert owner.tolist() == [-1, 0, -1]
    assert distance[1] == pytest.approx(1000.0)
    assert np.isnan(distance[[0, 2]]).all()


@pytest.mark.parametrize(
    "xy",
    [
        [(5000.0, 500.0)],  # one point
        [(5000.0, 500.0)] * 300,  # many at one place
        [(x, -1000.0) for x in np.linspace(-4000, 9000, 300)],  # along a horizontal line
    ],
)
def test_degenerate_point_sets(xy):
    xy = np.array(xy)
    owner, distance = nearest_edges(xy[:, 0], xy[:, 1], polygon_edges(LAYER))
    expected_owner, expected_distance = brute_force(shapely.points(xy), LAYER)
    assert (owner == expected_owner).all()
    np.testing.assert_allclose(distance, expected_distance, rtol=1e-12)

"""Exact nearest polygon edge for many points in a plane, in whole-array steps.

For a point outside a polygon, its distance to the polygon is its distance to the nearest
segment of the polygon's rings (the outer ring, the holes, every part). This module finds that
segment for a million points without a shapely call per point:

1. the points are put in square grid cells;
2. for each cell, the distance from its centre to the nearest segment plus half the cell's
   diagonal bounds how far any of its points can be from its nearest segment, so only the
   segments within that reach of the cell can be nearest (a short list, found with an STRtree);
3. every point is measured against its cell's list, one list position at a time for all points
   at once.

A point-to-segment distance is worked out the way GEOS does it (the position ``r`` of the foot
of the perpendicular along the segment; an end point's distance when the foot falls outside,
else ``|cross| / length² × length``), in the same order of operations, so the distances equal
``shapely.distance`` to the last bit. Cells with a long list (points among many equally far
segments, as near a finely drawn coast) go to shapely's ``STRtree.query_nearest`` over the
segments instead, which is exact too.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely

#: Points per occupied grid cell aimed at.
POINTS_PER_CELL = 128

#: Candidate segments per cell above which its points go to the STRtree (a point costs about
#: as much either way there). Below 65,535: the sort key is 16 bits.
MAX_CANDIDATES = 64

#: Points measured together (their scratch arrays stay in the processor's cache).
CHUNK = 1 << 16


@dataclass(frozen=True)
class Edges:
    """The ring segments of a set of polygons, as coordinate arrays.

    Attributes
    ----------
    ax, ay, bx, by
        Start and end of each segment.
    owner
        Position of the polygon (in the array given to :func:`polygon_edges`) the segment
        belongs to.
    """

    ax: np.ndarray
    ay: np.ndarray
    bx: np.ndarray
    by: np.ndarray
    owner: np.ndarray

    def __len__(self) -> int:
        return len(self.owner)


def polygon_edges(polygons: np.ndarray) -> Edges | None:
    """Every ring segment of every polygon, tagged with the polygon's position.

    Parameters
    ----------
    polygons
        Array of shapely Polygons and MultiPolygons (``None`` and empty ones have no segments).

    Returns
    -------
    Edges or None
        ``None`` when a geometry is neither a Polygon nor a MultiPolygon, or there is no
        segment with finite ends at all. Segments with a non-finite end (a polygon projected
        from coordinates out of range) are left out: no distance to them can be measured.
    """
    geoms = np.asarray(polygons, dtype=object)
    present = ~shapely.is_missing(geoms) & ~shapely.is_empty(geoms)
    if not np.isin(shapely.get_type_id(geoms[present]), (3, 6)).all():
        return None
    parts, part_of = shapely.get_parts(geoms, return_index=True)
    rings, ring_of = shapely.get_rings(parts, return_index=True)
    xy, vertex_of = shapely.get_coordinates(rings, return_index=True)
    finite = np.isfinite(xy).all(axis=1)
    same_ring = (vertex_of[1:] == vertex_of[:-1]) & finite[1:] & finite[:-1]
    if not same_ring.any():
        return None
    start = xy[:-1][same_ring]
    end = xy[1:][same_ring]
    owner = part_of[ring_of[vertex_of[:-1][same_ring]]]
    return Edges(
        ax=np.ascontiguousarray(start[:, 0]),
        ay=np.ascontiguousarray(start[:, 1]),
        bx=np.ascontiguousarray(end[:, 0]),
        by=np.ascontiguousarray(end[:, 1]),
        owner=owner.astype(np.int64),
    )


def point_segment_distance(
    x: np.ndarray, y: np.ndarray, ax: np.ndarray, ay: np.ndarray, bx: np.ndarray, by: np.ndarray
) -> np.ndarray:
    """Distance from each point to the matching segment (1-D arrays of one length)."""
    x, y, ax, ay, bx, by = (np.asarray(v, dtype=float) for v in (x, y, ax, ay, bx, by))
    work = _Work(len(x))
    return _distance(x, y, _segment_terms(ax, ay, bx, by), np.arange(len(x)), work)


def _segment_terms(
    ax: np.ndarray, ay: np.ndarray, bx: np.ndarray, by: np.ndarray
) -> list[np.ndarray]:
    """Ends, direction, squared length and length of each segment.

    A zero-length segment gets an infinite squared length, so that ``r = 0`` and its
    distance is the distance to its one point.
    """
    dx, dy = bx - ax, by - ay
    length2 = dx * dx + dy * dy
    length2 = np.where(length2 == 0, np.inf, length2)
    return [ax, ay, bx, by, dx, dy, length2, np.sqrt(length2)]


class _Work:
    """Scratch arrays made once and sliced at every step: fresh memory costs more than the
    arithmetic done in it (the first touch of each page)."""

    def __init__(self, n: int) -> None:
        self.terms = [np.empty(n) for _ in range(8)]
        self.f = [np.empty(n) for _ in range(4)]
        self.b = [np.empty(n, dtype=bool) for _ in range(2)]
        self.best = np.empty(n)
        self.owner = np.empty(n, dtype=np.int64)
        self.index = np.empty(n, dtype=np.int64)
        self.seg = np.empty(n, dtype=np.int64)
        self.closer = np.empty(n, dtype=bool)


def _dot_into(
    out: np.ndarray,
    first: tuple[np.ndarray, np.ndarray],
    second: tuple[np.ndarray, np.ndarray],
    *,
    scratch: np.ndarray,
) -> None:
    """``out = first[0] * first[1] + second[0] * second[1]`` without allocating (``scratch`` is
    overwritten; it may be one of the second pair)."""
    np.multiply(*first, out=out)
    np.multiply(*second, out=scratch)
    np.add(out, scratch, out=out)


def _distance(
    x: np.ndarray, y: np.ndarray, terms: list[np.ndarray], seg: np.ndarray, work: _Work
) -> np.ndarray:
    """Distance from point ``i`` to segment ``seg[i]``, worked out as GEOS does.

    ``r`` places the foot of the perpendicular along the segment; outside ``(0, 1)`` the
    distance is to the nearer end, inside it is ``|cross| / length² × length``. The result is
    a view of ``work``, valid until the next call.
    """
    m = len(seg)
    ax, ay, bx, by, dx, dy, length2, length = (
        np.take(term, seg, out=buf[:m]) for term, buf in zip(terms, work.terms, strict=True)
    )
    ux, uy, r, end = (buf[:m] for buf in work.f)
    beyond, inside = (buf[:m] for buf in work.b)
    with np.errstate(invalid="ignore", divide="ignore"):
        np.subtract(x, ax, out=ux)
        np.subtract(y, ay, out=uy)
        _dot_into(r, (ux, dx), (uy, dy), scratch=end)
        np.divide(r, length2, out=r)
        # Distance to the end beyond the foot: A where r <= 0, else B (overwriting B's terms).
        np.less_equal(r, 0, out=beyond)
        np.subtract(x, bx, out=bx)
        np.subtract(y, by, out=by)
        np.copyto(bx, ux, where=beyond)
        np.copyto(by, uy, where=beyond)
        _dot_into(end, (bx, bx), (by, by), scratch=by)
        np.sqrt(end, out=end)
        # Distance across, where the foot falls inside the segment.
        np.greater(r, 0, out=inside)
        np.less(r, 1, out=beyond)
        np.logical_and(inside, beyond, out=inside)
        np.multiply(ux, dy, out=ux)
        np.multiply(uy, dx, out=uy)
        np.subtract(ux, uy, out=ux)
        np.abs(ux, out=ux)
        np.divide(ux, length2, out=ux)
        np.multiply(ux, length, out=ux)
        np.copyto(end, ux, where=inside)
    return end


def nearest_edges(
    x: np.ndarray,
    y: np.ndarray,
    edges: Edges,
    *,
    points_per_cell: int = POINTS_PER_CELL,
    max_candidates: int = MAX_CANDIDATES,
) -> tuple[np.ndarray, np.ndarray]:
    """The owner of the nearest segment to each point, and the distance to it.

    Parameters
    ----------
    x, y
        Point coordinates, in the units of ``edges`` (metres in a projected CRS).
    edges
        Segments from :func:`polygon_edges`.
    points_per_cell, max_candidates
        Tuning of the grid search (see the module constants); results never depend on them,
        only the time taken.

    Returns
    -------
    owner : ndarray of int
        Owner of the nearest segment; when several segments are equally near, the smallest
        owner. ``-1`` for points with a non-finite coordinate.
    distance : ndarray of float
        Distance to that segment (NaN with owner ``-1``). For a point outside every polygon
        this is its distance to the nearest polygon.
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    n = len(x)
    owner = np.full(n, -1, dtype=np.int64)
    distance = np.full(n, np.nan)
    todo = np.flatnonzero(np.isfinite(x) & np.isfinite(y))
    if len(todo) == 0 or len(edges) == 0:
        return owner, distance
    search = _Search(edges, owner, distance)
    xs, ys = (x, y) if len(todo) == n else (x[todo], y[todo])
    cell = _cell_size(xs, ys, points_per_cell)
    crowded = search.by_grid(xs, ys, todo, cell, max_candidates)
    if len(crowded):
        search.by_tree(x, y, crowded)
    return owner, distance


def _cell_size(x: np.ndarray, y: np.ndarray, points_per_cell: int) -> float:
    """Side of a square cell holding about ``points_per_cell`` points if spread evenly."""
    width, height = float(x.max() - x.min()), float(y.max() - y.min())
    share = points_per_cell / len(x)
    if width > 0 and height > 0:
        size = float(np.sqrt(width * height * share))
    else:  # all points on one vertical or horizontal line, or at one place
        size = max(width, height) * share
    return max(size, 1e-3)


class _Search:
    """The segments, their STRtree, the per-segment terms, and the arrays to fill."""

    def __init__(self, edges: Edges, owner: np.ndarray, distance: np.ndarray) -> None:
        ends = np.stack(
            [np.column_stack([edges.ax, edges.ay]), np.column_stack([edges.bx, edges.by])], axis=1
        )
        self.tree = shapely.STRtree(shapely.linestrings(ends))
        self.terms = _segment_terms(edges.ax, edges.ay, edges.bx, edges.by)
        self.edge_owner = edges.owner
        self.owner = owner
        self.distance = distance

    def by_tree(self, x: np.ndarray, y: np.ndarray, todo: np.ndarray) -> None:
        """Fill ``owner`` and ``distance`` for the points ``todo`` with shapely's STRtree."""
        (point, seg), gap = self.tree.query_nearest(
            shapely.points(x[todo], y[todo]), return_distance=True
        )
        if len(point) == 0:  # no segment the tree can measure to: the points stay at -1
            return
        # Every equally near segment comes back: keep the smallest owner of each point.
        owner = self.edge_owner[seg]
        order = np.lexsort((owner, point))
        point, owner, gap = point[order], owner[order], gap[order]
        first = np.r_[True, point[1:] != point[:-1]]
        self.owner[todo[point[first]]] = owner[first]
        self.distance[todo[point[first]]] = gap[first]

    def by_grid(
        self, x: np.ndarray, y: np.ndarray, todo: np.ndarray, cell: float, max_candidates: int
    ) -> np.ndarray:
        """Grid search of ``cell``-sized squares for the points at ``x, y``, which are the
        points ``todo`` of the output arrays.

        Fills ``owner`` and ``distance`` for the points of cells with at most
        ``max_candidates`` candidate segments; returns the (``todo``) points of the others.
        """
        x0, y0 = float(x.min()), float(y.min())
        columns = int((float(x.max()) - x0) // cell) + 1
        rows = int((float(y.max()) - y0) // cell) + 1
        # Offsets are never negative, so truncation is the floor; a point within rounding of a
        # cell's edge may land in the next cell, which the margin on ``reach`` below covers.
        col = np.minimum(((x - x0) / cell).astype(np.int64), columns - 1)
        key = np.minimum(((y - y0) / cell).astype(np.int64), rows - 1)
        key *= columns
        key += col
        occupied = np.flatnonzero(np.bincount(key, minlength=rows * columns))
        cell_of = np.zeros(rows * columns, dtype=np.int64)
        cell_of[occupied] = np.arange(len(occupied))
        cell_of = cell_of[key]  # each point's occupied cell
        cx = x0 + (occupied % columns + 0.5) * cell
        cy = y0 + (occupied // columns + 0.5) * cell

        # How far a point of each cell can be from its nearest segment, at most; a little
        # extra covers rounding (a longer list is harmless, a shorter one would not be).
        (which, _), gap = self.tree.query_nearest(
            shapely.points(cx, cy), return_distance=True, all_matches=False
        )
        reach = np.full(len(occupied), np.inf)  # a cell the tree cannot answer gets every segment
        reach[which] = gap
        reach = (reach + cell * np.sqrt(0.5)) * (1 + 1e-9) + 1e-6 * cell
        half = cell / 2
        boxes = shapely.box(cx - half, cy - half, cx + half, cy + half)
        cand_cell, cand_seg = self.tree.query(boxes, predicate="dwithin", distance=reach)
        # Within a cell, candidates by owner: the first of equally near segments wins below.
        order = np.lexsort((cand_seg, self.edge_owner[cand_seg], cand_cell))
        cand_cell, cand_seg = cand_cell[order], cand_seg[order]
        per_cell = np.bincount(cand_cell, minlength=len(occupied))
        first_cand = np.cumsum(per_cell) - per_cell

        # Points of the uncrowded cells, the longest candidate lists first (a stable radix
        # sort on a small integer), so that list position j concerns a leading run of them.
        crowded = (per_cell > max_candidates) | (per_cell == 0)  # none: only if rounding misled
        shortfall = np.where(crowded, max_candidates + 1, max_candidates - per_cell)
        points = np.argsort(shortfall.astype(np.uint16)[cell_of], kind="stable")
        decided = len(points) - int(np.count_nonzero(crowded[cell_of]))
        work = _Work(min(CHUNK, decided))
        for start in range(0, decided, CHUNK):
            chunk = points[start : min(start + CHUNK, decided)]
            cells = cell_of[chunk]
            best, owner = self._nearest_in_lists(
                x[chunk], y[chunk], first_cand[cells], per_cell[cells], cand_seg, work
            )
            self.owner[todo[chunk]] = owner
            self.distance[todo[chunk]] = best
        return todo[points[decided:]]

    def _nearest_in_lists(
        self,
        x: np.ndarray,
        y: np.ndarray,
        lists: np.ndarray,
        runs: np.ndarray,
        cand_seg: np.ndarray,
        work: _Work,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Nearest candidate of each point: ``runs[i]`` candidates from ``cand_seg[lists[i]]``
        on, ``runs`` in descending order. Returns views of ``work``."""
        n = len(x)
        best, owner, closer = work.best[:n], work.owner[:n], work.closer[:n]
        index, seg = work.index[:n], work.seg[:n]
        best.fill(np.inf)
        owner.fill(-1)
        lead = np.searchsorted(-runs, -np.arange(int(runs[0])), side="left")  # runs > j
        for j, m in enumerate(lead):
            np.add(lists[:m], j, out=index[:m])
            np.take(cand_seg, index[:m], out=seg[:m], mode="clip")  # in range; "clip" is quicker
            d = _distance(x[:m], y[:m], self.terms, seg[:m], work)
            np.less(d, best[:m], out=closer[:m])
            np.copyto(best[:m], d, where=closer[:m])
            np.copyto(owner[:m], np.take(self.edge_owner, seg[:m]), where=closer[:m])
        return best, owner

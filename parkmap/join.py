"""Which park each project lies in.

A point on a park's boundary belongs to the park; a point in two overlapping parks counts in both
and is flagged; a point outside every park stays on the map as "outside parks", with the
geodesic distance to the nearest park.

**Declared parks.** A ledger says which park a project belongs to (所属园区), and a planner
counts it there. A point geocoded to the village or road beside a park — or into its planned
extension, beyond the approved outline a park layer draws — would otherwise drop out of the
park's figures. So a project whose point lies in no park, but which declares a park of the layer
and lies at most ``declared_within_km`` from that park's outline, is counted in its declared park,
with a row warning that says how far outside it lies. A point inside another park keeps that park
(with a warning, as before); a point farther away stays outside every park.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import shapely
from pyproj import CRS, Geod, Transformer

from parkmap.errors import UsageError
from parkmap.i18n import texts as words
from parkmap.nearest import Edges, nearest_edges, point_segment_distance, polygon_edges
from parkmap.settings import DECLARED_WITHIN_KM, ELLIPSOID

_GEOD = Geod(ellps=ELLIPSOID)


def join_projects_to_parks(
    projects: gpd.GeoDataFrame,
    parks: gpd.GeoDataFrame,
    *,
    declared_within_km: float = DECLARED_WITHIN_KM,
    lang: str = "en",
) -> gpd.GeoDataFrame:
    """Attach park membership to every project.

    Parameters
    ----------
    projects
        Project points (WGS-84) with ``park_declared`` and ``warnings`` columns, as returned by
        :func:`parkmap.load.projects_from_file`.
    parks
        Park polygons (WGS-84) with ``park_id`` and ``name``.
    declared_within_km
        A point in no park that declares a park of the layer (所属园区) and lies at most this
        far (km) from its outline is counted in that park, with a warning; 0 turns this off.
    lang
        Language of that warning (``"en"``, like validation's warnings, or ``"zh"``).

    Returns
    -------
    GeoDataFrame
        ``projects`` plus ``park_id`` (the park the point is counted in, ``""`` when none),
        ``park_name``, ``park_ids`` (every park containing the point, ``;``-joined, or the
        declared park it is counted in), ``outside_parks`` (false for a point counted in its
        declared park), ``nearest_park_id`` and ``distance_km`` (0 inside a park; else the
        true distance to the nearest park's outline), and ``declared_km``: for a point counted
        in its declared park from outside it, the distance to that park (NaN for every other
        row). Warnings are added for points in overlapping parks, for a declared park that
        differs from the one found, and for a point counted in its declared park from outside.

    Raises
    ------
    UsageError
        If ``declared_within_km`` is negative or not a number.
    """
    if not declared_within_km >= 0:  # also NaN
        raise UsageError(
            f"--declared-within must be 0 or more km (0 turns it off), got {declared_within_km}"
        )
    notes_text = words(lang, "row")  # an unknown language is a UsageError
    out = projects.copy(deep=False)  # new columns only; the caller's frame is left alone
    n = len(out)
    park_ids = parks["park_id"].astype(str).to_numpy(dtype=object)
    park_names = parks["name"].astype(str).to_numpy(dtype=object)

    # Point-in-polygon with boundaries included: "intersects", not "within". Pairs come back
    # as index arrays; everything below works on them whole, so a million points stay fast.
    tree = shapely.STRtree(parks.geometry.array)
    pt_idx, park_idx = tree.query(out.geometry.array, predicate="intersects")
    order = np.lexsort((park_idx, pt_idx))  # by point, then by the park's order in the layer
    pt_idx, park_idx = pt_idx[order], park_idx[order]
    n_members = np.bincount(pt_idx, minlength=n)
    pairs_from = np.cumsum(n_members) - n_members  # point i's parks: park_idx[pairs_from[i]:]
    first_of = np.full(n, -1)
    first_of[n_members > 0] = park_idx[pairs_from[n_members > 0]]  # first in layer order

    # Declared parks (所属园区) are matched once per distinct text, not once per row.
    texts = out["park_declared"].astype(str) if "park_declared" in out else pd.Series([""] * n)
    codes, distinct, wanted_of = match_declared(texts, parks)
    wanted = wanted_of[codes] if n else np.full(0, -1)
    # "园区外", "无", "-": the record says the project is in no park; that is not a park name.
    says_none = np.array([declares_no_park(d) for d in distinct], dtype=bool)
    # "待定", "不详": nothing declared yet; no claim to check either way.
    undecided = np.array([_loose(d) in UNDECIDED_WORDS for d in distinct], dtype=bool)
    declared_any = (distinct != "") & ~says_none & ~undecided
    declares = declared_any[codes] if n else np.zeros(0, dtype=bool)
    claims_none = says_none[codes] if n else np.zeros(0, dtype=bool)
    # The declared park wins among the parks containing the point.
    declared_hit = np.zeros(n, dtype=bool)
    declared_hit[pt_idx[wanted[pt_idx] == park_idx]] = True
    primary = np.where(declared_hit, wanted, first_of)

    inside = n_members > 0
    # Only points outside every park need the nearest-park search.
    nearest = np.where(inside, primary, -1)
    distance = np.zeros(n)
    if (~inside).any():
        nearest[~inside], distance[~inside] = _nearest_parks_outside(out.geometry, ~inside, parks)

    # The declared-park rule: outside every park, declaring a park of the layer, near enough.
    declared_km = np.full(n, np.nan)
    counted = np.zeros(0, dtype=np.intp)
    if declared_within_km > 0:
        candidates = np.flatnonzero(declares & ~inside & (wanted >= 0))
        km = distance[candidates]  # right where the declared park is the nearest one
        other = np.flatnonzero(nearest[candidates] != wanted[candidates])
        if len(other):
            rows = candidates[other]
            km[other] = distances_to_parks(out.geometry.iloc[rows], parks, wanted[rows])
        near_enough = km <= declared_within_km
        counted = candidates[near_enough]
        declared_km[counted] = km[near_enough]
    by_declaration = np.zeros(n, dtype=bool)
    by_declaration[counted] = True
    primary[counted] = wanted[counted]
    in_a_park = inside | by_declaration

    overlaps = np.flatnonzero(n_members > 1)  # rare: list every park
    listed = [
        ";".join(park_ids[park_idx[pairs_from[i] : pairs_from[i] + n_members[i]]]) for i in overlaps
    ]
    which = np.where(in_a_park, primary + 1, 0)  # 0 = "" (outside), 1 + k = park k
    out["park_id"] = _strings(["", *park_ids], which)
    out["park_name"] = _strings(["", *park_names], which)
    which[overlaps] = 1 + len(park_ids) + np.arange(len(overlaps))
    out["park_ids"] = _strings(["", *park_ids, *listed], which)
    out["outside_parks"] = ~in_a_park
    out["nearest_park_id"] = _strings(["", *park_ids], nearest + 1)  # "" if none (no parks)
    out["distance_km"] = distance
    out["declared_km"] = declared_km

    # Warnings: the loader's, then overlaps, then a declared park that was not found.
    before = out["warnings"].astype(str) if "warnings" in out else pd.Series([""] * n)
    overlap_notes = [
        f"in {n_members[i]} overlapping parks: "
        + ", ".join(park_names[park_idx[pairs_from[i] : pairs_from[i] + n_members[i]]])
        for i in overlaps
    ]
    claims = pa.array([f"declared park {d!r}" for d in distinct], type=pa.string())
    quoted = pa.array([repr(name) for name in park_names], type=pa.string())
    wrong = declares & ~declared_hit & ~by_declaration
    unknown = np.flatnonzero(wrong & (wanted < 0))
    elsewhere = np.flatnonzero(wrong & (wanted >= 0) & inside)
    outside = np.flatnonzero(wrong & (wanted >= 0) & ~inside)
    inside_after_all = np.flatnonzero(claims_none & inside)

    def note(rows: np.ndarray, *parts: object) -> pa.Array:
        """``declared park 'X'`` of each row, followed by ``parts`` (text or arrays)."""
        return pc.binary_join_element_wise(claims.take(codes[rows]), *parts, "")

    km = one_decimal(distance[outside])
    declared_reprs = pa.array([repr(d) for d in distinct], type=pa.string())
    counted_notes = _filled(
        notes_text["declared_counted"],
        declared=declared_reprs.take(codes[counted]),
        km=one_decimal(declared_km[counted]),
    )
    declared_notes = pa.concat_arrays(
        [
            note(
                inside_after_all,
                " (no park) but the point lies in ",
                quoted.take(primary[inside_after_all]),
            ),
            note(unknown, " is not in the park layer"),
            note(elsewhere, " but the point lies in ", quoted.take(primary[elsewhere])),
            note(
                outside,
                " but the point lies outside every park (",
                km,
                " km from ",
                quoted.take(nearest[outside]),
                ")",
            ),
            counted_notes,
        ]
    )
    out["warnings"] = _column(
        _join_notes(
            pa.array(before, type=pa.string()),
            _sparse_strings(n, overlaps, pa.array(overlap_notes, type=pa.string())),
            _sparse_strings(
                n,
                np.concatenate([inside_after_all, unknown, elsewhere, outside, counted]),
                declared_notes,
            ),
        )
    )
    return out


#: The type pandas gives a column of Python strings ("str", Arrow-backed, in pandas 3).
_TEXT = pd.Series(np.array([""], dtype=object)).dtype
_ARROW_TEXT = isinstance(_TEXT, pd.StringDtype) and _TEXT.storage == "pyarrow"


def _column(values: pa.Array) -> pd.api.extensions.ExtensionArray | np.ndarray:
    """An Arrow string array as a column of type :data:`_TEXT` (no copy in pandas 3)."""
    if _ARROW_TEXT:
        return pd.array(values, dtype=_TEXT)
    return np.asarray(values.to_pylist(), dtype=object)


def _strings(
    choices: list[str] | np.ndarray, which: np.ndarray
) -> pd.api.extensions.ExtensionArray | np.ndarray:
    """``choices[which]`` as a column of type :data:`_TEXT`; in pandas 3 an Arrow ``take``, for
    a million rows many times quicker than letting pandas convert a million Python strings."""
    if _ARROW_TEXT:
        return _column(pa.array(list(choices), type=pa.string()).take(which))
    column: np.ndarray = np.asarray(choices, dtype=object)[which]
    return column


def _sparse_strings(n: int, rows: np.ndarray, texts: pa.Array) -> pa.Array:
    """``n`` strings, ``texts`` at ``rows`` and null elsewhere."""
    which = np.zeros(n, dtype=np.int64)
    which[rows] = np.arange(1, len(rows) + 1)
    return pa.concat_arrays([pa.nulls(1, type=pa.string()), texts]).take(which)


def one_decimal(values: np.ndarray) -> pa.Array:
    """Each value as ``f"{value:.1f}"`` writes it, worked out on the whole array at once.

    Ten times the value, rounded half to even, is the number of tenths Python shows, except
    where that product lies within a hair of a half (the product may have rounded across it):
    those few values, and any too large for exact tenths or not finite, are formatted by Python.
    """
    values = np.asarray(values, dtype=np.float64)
    scaled = values * 10.0
    with np.errstate(invalid="ignore"):
        fraction = np.abs(scaled - np.trunc(scaled))
        by_python = ~(np.abs(values) < 1e15) | (np.abs(fraction - 0.5) < 1e-6)
    tenths = np.abs(np.round(np.where(by_python, 0.0, scaled))).astype(np.int64)
    text = pc.binary_join_element_wise(
        pa.array(np.where(np.signbit(values), "-", "")),
        pc.cast(pa.array(tenths // 10), pa.string()),
        ".",
        pc.cast(pa.array(tenths % 10), pa.string()),
        "",
    )
    rows = np.flatnonzero(by_python)
    if len(rows) == 0:
        return text
    exact = pa.array([f"{v:.1f}" for v in values[rows].tolist()], type=pa.string())
    return pc.coalesce(_sparse_strings(len(values), rows, exact), text)


def _filled(template: str, **fields: pa.Array) -> pa.Array:
    """``template.format(**row)`` for each row of the equally long ``fields``."""
    parts = re.split(r"\{(\w+)\}", template)  # text, field, text, field, …, text
    pieces = [fields[part] if i % 2 else part for i, part in enumerate(parts)]
    return pc.binary_join_element_wise(*pieces, "")


def _join_notes(first: pa.Array, *later: pa.Array) -> pa.Array:
    """Row by row, the non-empty notes (neither null nor ``""``) joined with ``"; "``.

    Only the rows with a later note are joined; every other row keeps ``first`` as it is (a
    million rows with no note, the usual case, then cost one scan of each later note).
    """
    first = pc.fill_null(first, "")
    if not later:
        return first
    has_later = np.zeros(len(first), dtype=bool)
    for note in later:
        has_later |= pc.fill_null(pc.not_equal(note, ""), False).to_numpy(zero_copy_only=False)
    if not has_later.any():
        return first
    rows = pa.array(np.flatnonzero(has_later))
    pieces: list[pa.Array] = []
    seen = None  # rows with a note so far
    for note in (first, *later):
        note = pc.fill_null(note.take(rows), "")
        has = pc.not_equal(note, "")
        if seen is not None:
            pieces.append(pc.if_else(pc.and_(has, seen), "; ", ""))
            seen = pc.or_(seen, has)
        else:
            seen = has
        pieces.append(note)
    joined = pc.binary_join_element_wise(*pieces, "")
    return pc.replace_with_mask(first, pa.array(has_later), joined)


def nearest_parks(
    points: gpd.GeoSeries, parks: gpd.GeoDataFrame, *, outside: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """Nearest park (its position in ``parks``) and distance in km to that park's edge.

    Measured in the data's CGCS2000 Gauss–Krüger zone, where a distance is true to 0.03% (the
    scale error 1.5° from the central meridian at Qingdao's latitude). When the data span
    several zones the search runs in an equal-area projection and the distance is measured on
    the ellipsoid between the point and the nearest point of the edge. Equally near parks go to
    the first in layer order; a point inside a park is 0 km from it.

    Points outside every park, nearly all of them in a big file, are measured against the parks'
    ring segments in whole-array steps (:mod:`parkmap.nearest`). The few others go to shapely's
    ``STRtree.query_nearest`` against the polygons, as all points once did: points inside a
    park, points nearer an edge than the edge bends between a straight line in degrees and one
    in metres (where they may lie inside the metric polygon; with the margin, about 2 m for
    5 km edges, 10 m for 20 km ones), and empty points. Both ways give the same park and
    distance. ``outside=True`` says the caller has checked that no point lies in a park.
    """
    if len(points) == 0:
        return np.array([], dtype=int), np.array([], dtype=float)
    geoms = points.array
    lon, lat = shapely.get_x(geoms), shapely.get_y(geoms)
    return _nearest_parks(lon, lat, parks, None if outside else geoms)


def _nearest_parks_outside(
    points: gpd.GeoSeries, rows: np.ndarray, parks: gpd.GeoDataFrame
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`nearest_parks` of ``points[rows]`` (a mask), which lie in no park; within a
    build, from the coordinates the points were made of and, when the density surface has
    projected them into the same CRS, its projection."""
    from parkmap.coords import known_point_coordinates, shared_metric_coordinates

    known = known_point_coordinates(points.array)
    if known is None:
        return nearest_parks(points[rows], parks, outside=True)

    def projected(crs: CRS) -> tuple[np.ndarray, np.ndarray] | None:
        shared = shared_metric_coordinates(points.array, crs, start=False)
        return None if shared is None else (shared[0][rows], shared[1][rows])

    return _nearest_parks(known[0][rows], known[1][rows], parks, None, projected)


def _nearest_parks(
    lon: np.ndarray,
    lat: np.ndarray,
    parks: gpd.GeoDataFrame,
    geoms: np.ndarray | None,
    projected: Callable[[CRS], tuple[np.ndarray, np.ndarray] | None] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`nearest_parks` of the points at ``lon``, ``lat`` (arrays of their own, which
    this may overwrite); ``geoms`` are the points, ``None`` when none lies in a park;
    ``projected(crs)`` may give their x and y in ``crs`` already worked out."""
    from parkmap.coords import choose_metric_crs, lonlat_transformer

    n = len(lon)
    # Representative longitudes only pick the Gauss–Krüger zone; planar centroids suffice.
    lons = np.concatenate([lon, shapely.get_x(shapely.centroid(parks.geometry.array))])
    crs, fallback_note = choose_metric_crs(lons)
    to_m = lonlat_transformer(crs)
    given = projected(crs) if projected is not None else None
    # lon, lat are not needed after this
    x, y = given if given is not None else to_m.transform(lon, lat, inplace=True)
    parks_m = shapely.transform(
        parks.geometry.array, lambda xy: np.column_stack(to_m.transform(*xy.T))
    )
    nearest = np.full(n, -1)
    distance = np.full(n, np.nan)
    edges = polygon_edges(parks_m)
    if edges is not None:
        nearest, distance = nearest_edges(x, y, edges)
        # The edge distance is the park distance only for points outside the metric polygon.
        # Points inside a park (tested in degrees) are 0 km from it, and a point outside in
        # degrees but nearer an edge than the edge's bend between the two drawings may be
        # inside in metres: leave both to the polygon search.
        if geoms is not None:
            tree = shapely.STRtree(parks.geometry.array)
            nearest[tree.query(geoms, predicate="intersects")[0]] = -1
        nearest[~(distance >= _edge_bend_m(parks, edges, to_m))] = -1
    redo = np.flatnonzero(nearest < 0)
    if len(redo):
        nearest[redo], distance[redo] = _nearest_polygons(shapely.points(x[redo], y[redo]), parks_m)
    found = np.flatnonzero(nearest >= 0)
    if fallback_note and len(found):  # not a conformal zone: measure the gap on the ellipsoid
        to_deg = lonlat_transformer(crs, inverse=True)
        lines = shapely.shortest_line(shapely.points(x[found], y[found]), parks_m[nearest[found]])
        coords = shapely.get_coordinates(lines).reshape(len(found), 2, 2)
        lon1, lat1 = to_deg.transform(coords[:, 0, 0], coords[:, 0, 1])
        lon2, lat2 = to_deg.transform(coords[:, 1, 0], coords[:, 1, 1])
        distance = distance.astype(float)
        distance[found] = np.asarray(_GEOD.inv(lon1, lat1, lon2, lat2)[2], dtype=float)
    return nearest, distance / 1000.0


def distances_to_parks(
    points: gpd.GeoSeries, parks: gpd.GeoDataFrame, which: np.ndarray
) -> np.ndarray:
    """Distance in km from each point to the outline of one given park each.

    ``which`` holds, for each point, the position of its park in ``parks``. Measured as
    :func:`nearest_parks` measures: in the data's CGCS2000 Gauss–Krüger zone, or on the
    ellipsoid between the point and the nearest point of the park when the data span zones.
    A point inside its park is 0 km from it.
    """
    from parkmap.coords import choose_metric_crs, lonlat_transformer

    if len(points) == 0:
        return np.array([], dtype=float)
    geoms = points.array
    lon, lat = shapely.get_x(geoms), shapely.get_y(geoms)
    lons = np.concatenate([lon, shapely.get_x(shapely.centroid(parks.geometry.array))])
    crs, fallback_note = choose_metric_crs(lons)
    to_m = lonlat_transformer(crs)
    x, y = to_m.transform(lon, lat)
    targets = np.unique(which)
    shapes = np.empty(len(parks), dtype=object)
    shapes[targets] = shapely.transform(
        parks.geometry.array[targets], lambda xy: np.column_stack(to_m.transform(*xy.T))
    )
    points_m = shapely.points(x, y)
    distance = np.asarray(shapely.distance(points_m, shapes[which]), dtype=float)
    if fallback_note:  # not a conformal zone: measure the gap on the ellipsoid
        to_deg = lonlat_transformer(crs, inverse=True)
        lines = shapely.shortest_line(points_m, shapes[which])
        coords = shapely.get_coordinates(lines).reshape(len(which), 2, 2)
        lon1, lat1 = to_deg.transform(coords[:, 0, 0], coords[:, 0, 1])
        lon2, lat2 = to_deg.transform(coords[:, 1, 0], coords[:, 1, 1])
        distance = np.asarray(_GEOD.inv(lon1, lat1, lon2, lat2)[2], dtype=float)
    return distance / 1000.0


def _nearest_polygons(points_m: np.ndarray, parks_m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Nearest park and distance (m) by shapely's STRtree; ties go to the first park."""
    n = len(points_m)
    (pt_idx, park_idx), dist_m = shapely.STRtree(parks_m).query_nearest(
        points_m, return_distance=True
    )
    if len(pt_idx) == 0:  # no park the tree can measure to (none, or none with finite vertices)
        return np.full(n, -1), np.full(n, np.nan)
    # Ties (equidistant parks) return several pairs: keep the first park in layer order.
    order = np.lexsort((park_idx, pt_idx))
    pt_idx, park_idx, dist_m = pt_idx[order], park_idx[order], dist_m[order]
    first = np.r_[True, pt_idx[1:] != pt_idx[:-1]]
    nearest = np.full(n, -1)
    distance = np.full(n, np.nan)
    nearest[pt_idx[first]] = park_idx[first]
    distance[pt_idx[first]] = dist_m[first]
    return nearest, distance


def _edge_bend_m(parks: gpd.GeoDataFrame, edges_m: Edges, to_m: Transformer) -> float:
    """How far a park edge drawn straight in degrees strays from the same edge drawn straight
    in metres, at most (with a margin): sampled at a quarter, half and three quarters of every
    edge, doubled, plus 1 m."""
    edges = polygon_edges(parks.geometry.array)
    # The same polygons in metres have edges (``edges_m``), so they have edges in degrees too.
    assert edges is not None
    t = np.array([[0.25], [0.5], [0.75]])
    lon = edges.ax + t * (edges.bx - edges.ax)
    lat = edges.ay + t * (edges.by - edges.ay)
    x, y = to_m.transform(lon.ravel(), lat.ravel())
    ends = [np.tile(c, 3) for c in (edges_m.ax, edges_m.ay, edges_m.bx, edges_m.by)]
    bend = point_segment_distance(np.asarray(x), np.asarray(y), *ends)
    return 2.0 * float(np.nanmax(bend, initial=0.0)) + 1.0


def _loose(text: str) -> str:
    text = unicodedata.normalize("NFKC", str(text)).lower()
    return re.sub(r"[\s\-_·()（）]", "", text)


#: What planners write in 所属园区 for a project in no park (compared after :func:`_loose`).
NO_PARK_WORDS = frozenset(
    {
        "园区外", "园外", "区外", "不在园区", "不在园区内", "非园区", "园区以外", "无", "无园区",
        "outside", "outsideparks", "none", "nopark", "n/a", "na",
    }
)  # fmt: skip
#: What planners write in 所属园区 while the park is not decided yet.
UNDECIDED_WORDS = frozenset({"待定", "未定", "待确定", "未确定", "不详", "未知", "tbd", "unknown"})
#: Placeholders that mean "nothing" (they vanish under :func:`_loose`).
_PLACEHOLDERS = frozenset({"-", "--", "—", "–", "/", "－", "／", "\\"})


def declares_no_park(declared: str) -> bool:
    """Whether a 所属园区 cell says the project lies in no park (``园区外``, ``无``, ``-``)."""
    text = str(declared).strip()
    return text in _PLACEHOLDERS or _loose(text) in NO_PARK_WORDS


def match_declared(
    declared: pd.Series, parks: gpd.GeoDataFrame
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Match a column of declared parks (所属园区) once per distinct text.

    Returns
    -------
    codes, distinct, position
        Each row's index into ``distinct`` (the distinct texts), and for each distinct text
        the position of the park it names in ``parks`` (``-1`` for none, see
        :func:`match_park`).
    """
    codes, labels = pd.factorize(declared.astype(str), use_na_sentinel=False)
    distinct = np.asarray(labels, dtype=object)
    where = {pid: i for i, pid in enumerate(parks["park_id"].astype(str))}
    names = _park_names(parks)  # once, not once per distinct text
    matched = [_matched_park(d, names) if d else None for d in distinct]
    position = np.array([-1 if m is None else where[str(m)] for m in matched], dtype=int)
    return codes, distinct, position


def match_park(declared: str, parks: gpd.GeoDataFrame) -> str | None:
    """The park id a declared park name (所属园区) refers to, or ``None``.

    Matches the id, Chinese or English name exactly (ignoring case, spaces and punctuation),
    then a unique park whose name contains the declared text or is contained in it
    (``南村`` → 平度南村智能家电产业集聚区).
    """
    return _matched_park(declared, _park_names(parks))


def _park_names(parks: gpd.GeoDataFrame) -> dict[str, list[str]]:
    """Each park's id and names as :func:`_loose` keys, by park id."""
    fields = [c for c in ("park_id", "name", "name_zh", "name_en") if c in parks.columns]
    columns = [parks[field].to_numpy(dtype=object) for field in fields]
    return {
        pid: [_loose(v) for v in row if isinstance(v, str) and v]
        for pid, row in zip(parks["park_id"], zip(*columns, strict=True), strict=True)
    }


def _matched_park(declared: str, candidates: dict[str, list[str]]) -> str | None:
    key = _loose(declared)
    if not key:
        return None
    exact = [pid for pid, names in candidates.items() if key in names]
    if len(exact) == 1:
        return exact[0]
    partial = [
        pid for pid, names in candidates.items() if any(key in n or n in key for n in names if n)
    ]
    if len(partial) == 1:
        return partial[0]
    return None

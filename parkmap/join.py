"""Which park each project lies in.

A point on a park's boundary belongs to the park; a point in two overlapping parks counts in both
and is flagged; a point outside every park stays on the map as "outside parks", with the
geodesic distance to the nearest park.
"""

from __future__ import annotations

import re
import unicodedata

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Geod, Transformer

from parkmap.settings import ELLIPSOID, WGS84

_GEOD = Geod(ellps=ELLIPSOID)


def join_projects_to_parks(projects: gpd.GeoDataFrame, parks: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Attach park membership to every project.

    Parameters
    ----------
    projects
        Project points (WGS-84) with ``park_declared`` and ``warnings`` columns, as returned by
        :func:`parkmap.io.projects_from_file`.
    parks
        Park polygons (WGS-84) with ``park_id`` and ``name``.

    Returns
    -------
    GeoDataFrame
        ``projects`` plus ``park_id`` (the park the point is in, ``""`` when outside),
        ``park_name``, ``park_ids`` (every park containing the point, ``;``-joined),
        ``outside_parks``, ``nearest_park_id`` and ``distance_km`` (0 inside a park). Warnings
        are added for points in overlapping parks and for a declared park (所属园区) that
        differs from the one found.
    """
    out = projects.copy()
    n = len(out)
    park_ids = parks["park_id"].astype(str).to_numpy()
    park_names = dict(zip(park_ids, parks["name"].astype(str), strict=True))

    # Point-in-polygon with boundaries included: "intersects", not "within".
    pts = out.geometry.array
    tree = shapely.STRtree(parks.geometry.array)
    pt_idx, park_idx = tree.query(pts, predicate="intersects")
    members: list[list[str]] = [[] for _ in range(n)]
    for p, k in zip(pt_idx, park_idx, strict=True):
        members[p].append(park_ids[k])
    order = {pid: i for i, pid in enumerate(park_ids)}
    members = [sorted(m, key=order.__getitem__) for m in members]

    declared = (
        out["park_declared"].astype(str) if "park_declared" in out else pd.Series([""] * n)
    ).to_numpy()
    lookup = {d: match_park(d, parks) for d in pd.unique(declared) if d}
    declared_ids = [lookup.get(d) for d in declared]

    primary = []
    for found, wanted in zip(members, declared_ids, strict=True):
        if wanted in found:
            primary.append(wanted)
        else:
            primary.append(found[0] if found else "")
    out["park_id"] = primary
    out["park_name"] = [park_names.get(pid, "") for pid in primary]
    out["park_ids"] = [";".join(m) for m in members]
    out["outside_parks"] = [not m for m in members]

    inside = ~out["outside_parks"].to_numpy()
    # Only points outside every park need the nearest-park search.
    nearest_id = out["park_id"].to_numpy(dtype=object).copy()
    distance = np.zeros(n)
    if (~inside).any():
        nearest_id[~inside], distance[~inside] = nearest_parks(out.geometry[~inside], parks)
    out["nearest_park_id"] = nearest_id
    out["distance_km"] = distance

    warnings = [[w] if w else [] for w in out.get("warnings", pd.Series([""] * n)).astype(str)]
    for i in range(n):
        if len(members[i]) > 1:
            names = ", ".join(park_names[m] for m in members[i])
            warnings[i].append(f"in {len(members[i])} overlapping parks: {names}")
        if declared[i]:
            wanted = declared_ids[i]
            if wanted is None:
                warnings[i].append(f"declared park {declared[i]!r} is not in the park layer")
            elif wanted not in members[i]:
                if members[i]:
                    where = f"lies in {park_names[primary[i]]!r}"
                else:
                    where = (
                        f"lies outside every park ({distance[i]:.1f} km from "
                        f"{park_names[nearest_id[i]]!r})"
                    )
                warnings[i].append(f"declared park {declared[i]!r} but the point {where}")
    out["warnings"] = ["; ".join(w) for w in warnings]
    return out


def nearest_parks(points: gpd.GeoSeries, parks: gpd.GeoDataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Nearest park and geodesic distance (km) from each point to that park's edge.

    The nearest park is found in the data's Gauss–Krüger zone; the distance is then measured
    on the ellipsoid between the point and the nearest point of the park's boundary.
    """
    from parkmap.coords import metric_crs_for

    n = len(points)
    if n == 0:
        return np.array([], dtype=object), np.array([], dtype=float)
    # Representative longitudes only pick the Gauss–Krüger zone; planar centroids suffice.
    lons = np.concatenate(
        [points.x.to_numpy(), shapely.get_x(shapely.centroid(parks.geometry.array))]
    )
    crs = metric_crs_for(lons)
    to_m = Transformer.from_crs(WGS84, crs, always_xy=True)
    to_deg = Transformer.from_crs(crs, WGS84, always_xy=True)
    pts_m = shapely.transform(points.array, lambda xy: np.column_stack(to_m.transform(*xy.T)))
    parks_m = shapely.transform(
        parks.geometry.array, lambda xy: np.column_stack(to_m.transform(*xy.T))
    )
    tree = shapely.STRtree(parks_m)
    nearest = tree.nearest(pts_m)
    lines = shapely.shortest_line(pts_m, parks_m[nearest])
    coords = shapely.get_coordinates(lines).reshape(n, 2, 2)
    lon1, lat1 = to_deg.transform(coords[:, 0, 0], coords[:, 0, 1])
    lon2, lat2 = to_deg.transform(coords[:, 1, 0], coords[:, 1, 1])
    _, _, dist_m = _GEOD.inv(lon1, lat1, lon2, lat2)
    ids = parks["park_id"].astype(str).to_numpy()[nearest]
    return ids, np.asarray(dist_m, dtype=float) / 1000.0


def _loose(text: str) -> str:
    text = unicodedata.normalize("NFKC", str(text)).lower()
    return re.sub(r"[\s\-_·()（）]", "", text)


def match_park(declared: str, parks: gpd.GeoDataFrame) -> str | None:
    """The park id a declared park name (所属园区) refers to, or ``None``.

    Matches the id, Chinese or English name exactly (ignoring case, spaces and punctuation),
    then a unique park whose name contains the declared text or is contained in it
    (``南村`` → 平度南村智能家电产业集聚区).
    """
    key = _loose(declared)
    if not key:
        return None
    fields = [c for c in ("park_id", "name", "name_zh", "name_en") if c in parks.columns]
    candidates = {
        pid: [_loose(v) for v in row if isinstance(v, str) and v]
        for pid, row in zip(
            parks["park_id"], parks[fields].itertuples(index=False, name=None), strict=True
        )
    }
    exact = [pid for pid, names in candidates.items() if key in names]
    if len(exact) == 1:
        return exact[0]
    partial = [
        pid for pid, names in candidates.items() if any(key in n or n in key for n in names if n)
    ]
    if len(partial) == 1:
        return partial[0]
    return None

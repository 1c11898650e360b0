"""Clusters of projects: DBSCAN and HDBSCAN in metres, optionally weighted by investment.

Distances are Euclidean in the Gauss–Krüger zone of the data (:mod:`parkmap.cluster._geo`).

Weighting (``weighted=True``)
-----------------------------
* **DBSCAN** takes the investment (亿元) as ``sample_weight``: a point is a core point when the
  investment within ``eps_m`` (itself included) reaches ``min_samples`` 亿元 rather than when
  ``min_samples`` projects lie there. A project of unknown investment weighs 0: it can join a
  cluster but never make one.
* **HDBSCAN** (``sklearn.cluster.HDBSCAN``) has no ``sample_weight``, so each project is
  **repeated** ``ceil(investment / weight_unit)`` times (``weight_unit`` = 1 亿元 by default;
  unknown or zero investment: once) before clustering, and a project takes the label of its copies.
  A 12亿元 project then counts like 12 projects stacked at one spot when densities and
  ``min_cluster_size`` are judged. At most :data:`MAX_REPEATED_POINTS` copies in all (the unit
  grows when more would be needed; the unit used is returned).

Too few to cluster
------------------
Fewer projects than one cluster needs (:func:`parkmap.cluster.minimums.cluster_minimum`:
``min_samples`` for DBSCAN, ``max(2, min_samples)`` for HDBSCAN; for weighted DBSCAN fewer
亿元 of known investment than ``min_samples``) are not clustered at all: ``params["result"]`` is
``"too_few_points"`` with ``needs``, and the report says so instead of "0 clusters".
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Final

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from parkmap.cluster._geo import (
    LONLAT,
    FloatArray,
    geometry_to_lonlat,
    geometry_to_metric,
    lonlat,
    to_lonlat,
    to_metric,
)
from parkmap.cluster.minimums import cluster_minimum
from parkmap.errors import UsageError

METHODS: Final = ("dbscan", "hdbscan")
#: Most points HDBSCAN sees after repeating projects by investment.
MAX_REPEATED_POINTS: Final = 50_000
#: Columns of ``clusters.csv``, in order.
CLUSTER_COLUMNS: Final = [
    "cluster_id",
    "projects",
    "investment_100m_cny",
    "projects_unknown_investment",
    "hull_area_km2",
    "centroid_lon",
    "centroid_lat",
    "dominant_industry",
    "dominant_industry_projects",
    "parks",
    "members",
]


@dataclass
class ClusterResult:
    """Clusters of projects.

    Attributes
    ----------
    labels
        Cluster id of every project (index of the projects; -1 noise or no coordinates).
    clusters
        One row per cluster (columns :data:`CLUSTER_COLUMNS`), hull polygons (EPSG:4326).
    params
        Method and parameters, for ``stats.json``.
    """

    labels: pd.Series
    clusters: gpd.GeoDataFrame
    params: dict[str, Any]


def _weights(projects: pd.DataFrame) -> FloatArray:
    values = pd.to_numeric(projects["investment_100m_cny"], errors="coerce").to_numpy(float)
    return np.where(np.isfinite(values) & (values > 0), values, 0.0)


def _labels_dbscan(
    xy: FloatArray, weights: FloatArray | None, eps_m: float, min_samples: int
) -> np.ndarray:
    from sklearn.cluster import DBSCAN

    if weights is not None and not np.any(weights > 0):
        return np.full(len(xy), -1)  # no known investment: nothing can reach min_samples 亿元
    model = DBSCAN(eps=eps_m, min_samples=min_samples, metric="euclidean")
    labels: np.ndarray = model.fit_predict(xy, sample_weight=weights)
    return labels


def _labels_hdbscan(
    xy: FloatArray, weights: FloatArray | None, min_samples: int, weight_unit: float
) -> tuple[np.ndarray, float]:
    from sklearn.cluster import HDBSCAN

    if len(xy) < 2:
        return np.full(len(xy), -1), weight_unit
    repeats = np.ones(len(xy), dtype=np.int64)
    if weights is not None:
        unit = weight_unit
        while True:
            repeats = np.maximum(1, np.ceil(weights / unit - 1e-9)).astype(np.int64)
            if repeats.sum() <= MAX_REPEATED_POINTS:
                break
            unit *= 2.0
        weight_unit = unit
    points = np.repeat(xy, repeats, axis=0)
    size = max(2, min_samples)
    model = HDBSCAN(min_cluster_size=size, min_samples=min(min_samples, len(points)), copy=True)
    labels = model.fit_predict(points)
    first = np.concatenate(([0], np.cumsum(repeats)[:-1]))
    return labels[first], weight_unit


def _renumber(labels: np.ndarray, xy: FloatArray) -> np.ndarray:
    """Cluster ids 1, 2, … ordered west to east by the cluster's first member; -1 stays -1.

    sklearn's ids depend on the order of the input; this makes them depend on the points.
    """
    out = np.full(labels.size, -1, dtype=np.int64)
    found = [lab for lab in np.unique(labels) if lab >= 0]
    keys = []
    for lab in found:
        members = np.flatnonzero(labels == lab)
        keys.append((float(xy[members, 0].mean()), float(xy[members, 1].mean()), lab))
    for new, (_, _, lab) in enumerate(sorted(keys), start=1):
        out[labels == lab] = new
    return out


def find_clusters(
    projects: gpd.GeoDataFrame,
    *,
    crs: CRS,
    parks: gpd.GeoDataFrame | None = None,
    method: str = "dbscan",
    eps_m: float = 1000.0,
    min_samples: int = 5,
    weighted: bool = False,
    weight_unit: float = 1.0,
) -> ClusterResult:
    """Find clusters of projects with DBSCAN or HDBSCAN.

    Parameters
    ----------
    projects
        Joined projects (``project_id``, ``industry``, ``investment_100m_cny``, ``park_ids``,
        Point geometries in EPSG:4326); rows without coordinates are noise (-1).
    crs
        Metric CRS (metres) the distances are measured in.
    parks
        Park polygons; a cluster "touches" a park its hull (or a member) intersects.
    method
        ``"dbscan"`` or ``"hdbscan"``.
    eps_m
        DBSCAN neighbourhood radius in metres (ignored by HDBSCAN).
    min_samples
        DBSCAN: projects (or 亿元 when weighted) within ``eps_m`` that make a core point.
        HDBSCAN: ``min_cluster_size`` and ``min_samples``.
    weighted
        Weight by investment (see the module docstring).
    weight_unit
        亿元 per copy when HDBSCAN repeats projects.

    Returns
    -------
    ClusterResult
    """
    method = method.lower()
    if method not in METHODS:
        raise UsageError(f"unknown cluster method {method!r}; choose one of {', '.join(METHODS)}")
    if not (math.isfinite(eps_m) and eps_m > 0):
        raise UsageError(f"eps_m must be a positive number of metres, got {eps_m!r}")
    if min_samples < 1:
        raise UsageError(f"min_samples must be at least 1, got {min_samples!r}")
    lon, lat = lonlat(projects)
    ok = np.isfinite(lon) & np.isfinite(lat)
    x, y = to_metric(crs, lon[ok], lat[ok])
    xy = np.column_stack((x, y))
    weights = _weights(projects)[ok] if weighted else None
    params: dict[str, Any] = {
        "method": method,
        "min_samples": int(min_samples),
        "weighted": bool(weighted),
        "projects_used": int(ok.sum()),
    }
    labels_ok = np.full(len(xy), -1)
    needs = cluster_minimum(method, min_samples)
    weighed = weighted and method == "dbscan"
    have = float(weights.sum()) if weighed and weights is not None else len(xy)
    params["result"] = "too_few_points" if have < needs else "tested"
    params["needs"] = needs
    if weighed:
        params["investment_used_100m_cny"] = round(have, 6)
    if params["result"] == "too_few_points":
        if method == "dbscan":
            params["eps_m"] = float(eps_m)
        else:
            params["min_cluster_size"] = needs
    elif method == "dbscan":
        params["eps_m"] = float(eps_m)
        labels_ok = _labels_dbscan(xy, weights, eps_m, min_samples)
        if weighted:
            params["weighting"] = "sample_weight = investment (亿元); unknown investment = 0"
    else:
        params["min_cluster_size"] = max(2, int(min_samples))
        labels_ok, unit = _labels_hdbscan(xy, weights, min_samples, weight_unit)
        if weighted:
            params["weighting"] = (
                f"each project repeated ceil(investment / {unit:g} 亿元) times (at least once)"
            )
            params["weight_unit_100m_cny"] = unit
    labels_ok = _renumber(np.asarray(labels_ok), xy) if len(xy) else labels_ok
    labels = np.full(len(projects), -1, dtype=np.int64)
    labels[ok] = labels_ok
    label_series = pd.Series(labels, index=projects.index, name="cluster_id")
    clusters = _cluster_table(projects[ok], labels_ok, xy, crs, parks)
    params["clusters"] = len(clusters)
    params["noise_projects"] = int((labels_ok < 0).sum())
    return ClusterResult(labels=label_series, clusters=clusters, params=params)


def _dominant(industries: pd.Series, money: pd.Series) -> tuple[str, int]:
    """Industry with most members; ties go to more investment, then to the name."""
    table = pd.DataFrame({"industry": industries.fillna("").astype(str), "money": money})
    table = table[table["industry"] != ""]
    if table.empty:
        return "", 0
    grouped = table.groupby("industry").agg(n=("money", "size"), money=("money", "sum"))
    grouped = grouped.reset_index().sort_values(
        ["n", "money", "industry"], ascending=[False, False, True]
    )
    return str(grouped.iloc[0]["industry"]), int(grouped.iloc[0]["n"])


def _cluster_table(
    members_frame: gpd.GeoDataFrame,
    labels: np.ndarray,
    xy: FloatArray,
    crs: CRS,
    parks: gpd.GeoDataFrame | None,
) -> gpd.GeoDataFrame:
    park_ids: list[str] = []
    park_geoms: list[shapely.Geometry] = []
    if parks is not None and len(parks):
        park_ids = parks["park_id"].astype(str).tolist()
        park_geoms = [geometry_to_metric(crs, g) for g in parks.to_crs(LONLAT).geometry]
    rows = []
    geoms = []
    money_all = pd.to_numeric(members_frame["investment_100m_cny"], errors="coerce")
    for cid in sorted(int(c) for c in np.unique(labels) if c >= 0):
        idx = np.flatnonzero(labels == cid)
        pts = shapely.multipoints(xy[idx])
        hull = shapely.convex_hull(pts)
        sub = members_frame.iloc[idx]
        money = money_all.iloc[idx]
        cx, cy = xy[idx, 0].mean(), xy[idx, 1].mean()
        clon, clat = to_lonlat(crs, np.array([cx]), np.array([cy]))
        touched = [pid for pid, g in zip(park_ids, park_geoms, strict=True) if g.intersects(hull)]
        industry, industry_n = _dominant(sub.get("industry", pd.Series(dtype=str)), money)
        ids = sub["project_id"].astype(str) if "project_id" in sub else sub.index.astype(str)
        rows.append(
            {
                "cluster_id": cid,
                "projects": len(idx),
                "investment_100m_cny": round(float(money.sum(min_count=0)), 6),
                "projects_unknown_investment": int(money.isna().sum()),
                "hull_area_km2": round(float(hull.area) / 1e6, 6),
                "centroid_lon": round(float(clon[0]), 7),
                "centroid_lat": round(float(clat[0]), 7),
                "dominant_industry": industry,
                "dominant_industry_projects": industry_n,
                "parks": ";".join(touched),
                "members": ";".join(ids.tolist()),
            }
        )
        geoms.append(geometry_to_lonlat(crs, hull))
    frame = pd.DataFrame(rows, columns=CLUSTER_COLUMNS)
    return gpd.GeoDataFrame(frame, geometry=geoms if geoms else [], crs=LONLAT)

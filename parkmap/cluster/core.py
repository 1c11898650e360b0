"""One call from projects and parks to every cluster statistic (nothing written)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from parkmap.cluster._geo import (
    LONLAT,
    crs_label,
    geometry_to_metric,
    lonlat,
    metric_crs,
    to_metric,
)
from parkmap.cluster.areal import HexStatistics, hex_statistics
from parkmap.cluster.pattern import nearest_neighbour_index, ripley_l
from parkmap.cluster.points import ClusterResult, find_clusters
from parkmap.settings import CLUSTER_DEFAULTS


@dataclass
class ClusterAnalysis:
    """Everything :func:`cluster_analysis` computes.

    Attributes
    ----------
    clusters
        Project clusters (:class:`parkmap.cluster.points.ClusterResult`).
    hexes
        Hexagon statistics (:class:`parkmap.cluster.areal.HexStatistics`).
    nni
        Nearest-neighbour statistics: ``{"citywide": {...}, "parks": {park_id: {...}}}``.
    ripley
        Ripley's L with envelopes, same layout.
    parks
        Park ids, names and areas, in order: ``[{park_id, name, name_en, area_km2}, …]``.
    settings
        Options used (metric CRS, seed, …).
    """

    clusters: ClusterResult
    hexes: HexStatistics
    nni: dict[str, Any]
    ripley: dict[str, Any]
    parks: list[dict[str, Any]]
    settings: dict[str, Any] = field(default_factory=dict)


def _memberships(projects: gpd.GeoDataFrame) -> dict[str, np.ndarray]:
    """Park id → which projects lie in it (``park_ids`` is ``;``-joined: parks may overlap).

    One split and one grouping for all parks, instead of a scan of every project per park.
    A project counted in its declared park from outside the outline (``declared_km`` set by
    :func:`parkmap.join.join_projects_to_parks`) counts in the park's figures, but not here:
    the point-pattern tests measure points inside the park's area.
    """
    ids = projects["park_ids"].fillna("").astype(str).str.split(";").explode()
    position = np.repeat(
        np.arange(len(projects)),
        projects["park_ids"].fillna("").astype(str).str.count(";").to_numpy() + 1,
    )
    outside = np.zeros(len(projects), dtype=bool)
    if "declared_km" in projects:
        declared_km = pd.to_numeric(projects["declared_km"], errors="coerce")
        outside = declared_km.notna().to_numpy(dtype=bool)
    found: dict[str, np.ndarray] = {}
    for park_id, where in pd.Series(position, index=ids.to_numpy()).groupby(level=0):
        members = np.zeros(len(projects), dtype=bool)
        members[where.to_numpy()] = True
        found[str(park_id)] = members & ~outside
    return found


def cluster_analysis(
    projects: gpd.GeoDataFrame,
    parks: gpd.GeoDataFrame,
    *,
    method: str = CLUSTER_DEFAULTS.method,
    eps_m: float = CLUSTER_DEFAULTS.eps_m,
    min_samples: int = CLUSTER_DEFAULTS.min_samples,
    weighted: bool = CLUSTER_DEFAULTS.weighted,
    cell_km: float = CLUSTER_DEFAULTS.cell_km,
    permutations: int = CLUSTER_DEFAULTS.permutations,
    simulations: int = CLUSTER_DEFAULTS.simulations,
    seed: int = CLUSTER_DEFAULTS.seed,
    fdr: bool = CLUSTER_DEFAULTS.fdr,
) -> ClusterAnalysis:
    """Clusters, nearest-neighbour index, Ripley's L and hexagon statistics.

    Parameters
    ----------
    projects
        Joined projects (:func:`parkmap.join.join_projects_to_parks`).
    parks
        Parks with ``park_id``, ``name`` and the geodesic ``area_km2``
        (:func:`parkmap.metrics.park_summary`); ``area_km2`` is computed when missing.
    method, eps_m, min_samples, weighted
        See :func:`parkmap.cluster.points.find_clusters`.
    cell_km, permutations, fdr
        See :func:`parkmap.cluster.areal.hex_statistics`.
    simulations
        Simulated patterns in Ripley's envelopes.
    seed
        Seed of every random step (permutations and simulations).

    Returns
    -------
    ClusterAnalysis
    """
    from parkmap.metrics import geodesic_area_km2

    parks = (
        parks.to_crs(LONLAT) if parks.crs is not None and not parks.crs.equals(LONLAT) else parks
    )
    if "area_km2" not in parks.columns:
        parks = parks.assign(area_km2=geodesic_area_km2(parks.geometry).to_numpy())
    crs = metric_crs(projects, parks)
    grouping: dict[str, Any] = {
        "method": method,
        "eps_m": eps_m,
        "min_samples": min_samples,
        "weighted": weighted,
    }
    clusters = find_clusters(projects, crs=crs, parks=parks, **grouping)
    lon, lat = lonlat(projects)
    ok = np.isfinite(lon) & np.isfinite(lat)
    x, y = to_metric(crs, lon, lat)

    hull = (
        shapely.convex_hull(shapely.multipoints(np.column_stack((x[ok], y[ok]))))
        if ok.any()
        else None
    )
    hull_area = float(hull.area) if hull is not None else 0.0
    nni = {"citywide": nearest_neighbour_index(x[ok], y[ok], hull_area), "parks": {}}
    nni["citywide"]["study_area"] = "convex hull of all projects (planar, metric CRS)"
    # ripley_l checks the sample size first, then the area (a hull of 1–2 points has none).
    ripley = {
        "citywide": ripley_l(x[ok], y[ok], hull, simulations=simulations, seed=seed),
        "parks": {},
    }
    park_rows = []
    memberships = _memberships(projects)
    nobody = np.zeros(len(projects), dtype=bool)
    for _, park in parks.iterrows():
        pid = str(park["park_id"])
        inside = memberships.get(pid, nobody) & ok
        area_m2 = float(park["area_km2"]) * 1e6
        result = nearest_neighbour_index(x[inside], y[inside], area_m2)
        result["study_area"] = "park area_km2 (geodesic)"
        nni["parks"][pid] = result
        polygon = geometry_to_metric(crs, park.geometry)
        ripley["parks"][pid] = ripley_l(
            x[inside], y[inside], polygon, simulations=simulations, seed=seed, area_m2=area_m2
        )
        park_rows.append(
            {
                "park_id": pid,
                "name": str(park.get("name", pid)),
                "name_en": str(park.get("name_en", "") or ""),
                "area_km2": float(park["area_km2"]),
            }
        )
    hexes = hex_statistics(
        projects, parks, crs=crs, cell_km=cell_km, permutations=permutations, seed=seed, fdr=fdr
    )
    settings = {
        "metric_crs": crs_label(crs),
        "seed": int(seed),
        "permutations": int(permutations),
        "simulations": int(simulations),
        "cell_km": float(cell_km),
        "fdr": bool(fdr),
        "projects": len(projects),
        "projects_with_coordinates": int(ok.sum()),
    }
    return ClusterAnalysis(
        clusters=clusters, hexes=hexes, nni=nni, ripley=ripley, parks=park_rows, settings=settings
    )

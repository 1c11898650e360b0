"""Per-park figures: geodesic area, project counts, investment and investment density."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
from pyproj import Geod

from parkmap.settings import ELLIPSOID, STATUSES, WGS84

_GEOD = Geod(ellps=ELLIPSOID)


def geodesic_area_km2(geometries: gpd.GeoSeries) -> pd.Series:
    """Area of each polygon on the WGS-84 ellipsoid, in km².

    Never computed in degrees or Web Mercator: a Web Mercator area at 36.7° N is about 56% too
    large.
    """
    series = (
        geometries.to_crs(WGS84)
        if geometries.crs and not geometries.crs.equals(WGS84)
        else (geometries)
    )
    areas = [
        abs(_GEOD.geometry_area_perimeter(g)[0]) / 1e6 if g is not None and not g.is_empty else 0.0
        for g in series
    ]
    return pd.Series(areas, index=geometries.index, name="area_km2", dtype=float)


def _memberships(projects: pd.DataFrame) -> pd.DataFrame:
    """One line per (project, park) pair: a project in two overlapping parks counts in both."""
    if projects.empty:
        return pd.DataFrame(
            {"park_id": [], "investment_100m_cny": [], "status": [], "industry": []}
        )
    cols = ["investment_100m_cny", "status", "industry"]
    ids = projects["park_ids"].astype(str)
    multi = ids.str.contains(";", regex=False)
    single = projects.loc[~multi & (ids != ""), cols].assign(park_id=ids[~multi & (ids != "")])
    if not multi.any():
        return single
    # Points in overlapping parks (rare) become one line per park.
    shared = projects.loc[multi, cols].assign(park_id=ids[multi].str.split(";")).explode("park_id")
    return pd.concat([single, shared])


def park_summary(parks: gpd.GeoDataFrame, projects: pd.DataFrame) -> gpd.GeoDataFrame:
    """Figures for every park, including parks with no projects.

    Parameters
    ----------
    parks
        Park polygons with ``park_id``.
    projects
        Joined projects (with ``park_ids``, ``investment_100m_cny``, ``status``).

    Returns
    -------
    GeoDataFrame
        ``parks`` plus ``area_km2`` (geodesic), ``projects``, ``investment_100m_cny`` (projects
        with unknown investment are counted but not summed), ``density_100m_cny_per_km2``,
        ``rank`` (1 = densest; ties share the better rank), and per status ``s``:
        ``projects_<s>`` and ``investment_<s>_100m_cny``.
    """
    return summary_from_tallies(parks, status_tallies(projects))


def status_tallies(projects: pd.DataFrame) -> pd.DataFrame:
    """Projects and investment per (park, status): the additive core of :func:`park_summary`.

    Tallies of separate chunks of projects add up (``pd.concat`` then sum by park and status),
    which is how the Dask engine computes the same figures partition by partition.
    """
    pairs = _memberships(projects)
    tallies = (
        pairs.groupby(["park_id", "status"])
        .agg(
            projects=("status", "size"),
            investment_100m_cny=("investment_100m_cny", lambda s: s.sum(min_count=0)),
        )
        .reset_index()
    )
    return tallies.astype({"projects": "int64", "investment_100m_cny": float})


def summary_from_tallies(parks: gpd.GeoDataFrame, tallies: pd.DataFrame) -> gpd.GeoDataFrame:
    """Park figures from (park, status) tallies; see :func:`park_summary` for the columns."""
    tallies = tallies.groupby(["park_id", "status"], as_index=False)[
        ["projects", "investment_100m_cny"]
    ].sum()
    out = parks.copy()
    out["area_km2"] = geodesic_area_km2(out.geometry).to_numpy()
    by_park = tallies.groupby("park_id")[["projects", "investment_100m_cny"]].sum()
    ids = out["park_id"]
    out["projects"] = ids.map(by_park["projects"]).fillna(0).astype("int64").to_numpy()
    out["investment_100m_cny"] = (
        ids.map(by_park["investment_100m_cny"]).fillna(0.0).astype(float).to_numpy()
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        density = out["investment_100m_cny"] / out["area_km2"]
    out["density_100m_cny_per_km2"] = density.where(out["area_km2"] > 0)
    out["rank"] = (
        out["density_100m_cny_per_km2"].rank(ascending=False, method="min").fillna(0).astype(int)
    )
    for status in STATUSES:
        sub = tallies[tallies["status"] == status].set_index("park_id")
        out[f"projects_{status}"] = ids.map(sub["projects"]).fillna(0).astype("int64").to_numpy()
        out[f"investment_{status}_100m_cny"] = (
            ids.map(sub["investment_100m_cny"]).fillna(0.0).astype(float).to_numpy()
        )
    return out


def park_breakdown(
    parks: pd.DataFrame, projects: pd.DataFrame, *, by: str = "industry"
) -> pd.DataFrame:
    """Project counts and investment per park and category (``by`` = "industry" or "status").

    Returns
    -------
    DataFrame
        ``park_id, category, projects, investment_100m_cny``, largest investment first within
        each park, parks in the order of ``parks``.
    """
    pairs = _memberships(projects)
    columns = ["park_id", "category", "projects", "investment_100m_cny"]
    if pairs.empty:
        return pd.DataFrame(columns=columns)
    pairs = pairs.assign(category=pairs[by].astype(str).replace("", "—"))
    table = (
        pairs.groupby(["park_id", "category"])
        .agg(
            projects=("category", "size"),
            investment_100m_cny=("investment_100m_cny", lambda s: s.sum(min_count=0)),
        )
        .reset_index()
    )
    order = {pid: i for i, pid in enumerate(parks["park_id"])}
    table = table[table["park_id"].isin(order)]
    table = table.assign(_order=table["park_id"].map(order)).sort_values(
        ["_order", "investment_100m_cny", "projects"], ascending=[True, False, False]
    )
    return table.drop(columns="_order").reset_index(drop=True)[columns]


def citywide_totals(projects: pd.DataFrame) -> dict[str, float | int]:
    """Totals over all mapped projects, counting each project once (also outside parks)."""
    inv = projects["investment_100m_cny"] if len(projects) else pd.Series(dtype=float)
    outside = projects["outside_parks"] if "outside_parks" in projects else pd.Series(dtype=bool)
    return {
        "projects": len(projects),
        "investment_100m_cny": float(inv.sum()),
        "projects_unknown_investment": int(inv.isna().sum()),
        "projects_outside_parks": int(outside.sum()),
    }


#: Columns of ``parks.csv``, in order; status columns follow.
PARKS_CSV_COLUMNS = [
    "park_id",
    "name",
    "name_en",
    "area_km2",
    "projects",
    "investment_100m_cny",
    "density_100m_cny_per_km2",
    "rank",
]


def parks_table(summary: gpd.GeoDataFrame) -> pd.DataFrame:
    """The park summary as a plain table for ``parks.csv`` (no geometry)."""
    status_cols = [c for s in STATUSES for c in (f"projects_{s}", f"investment_{s}_100m_cny")]
    cols = [c for c in PARKS_CSV_COLUMNS + status_cols if c in summary.columns]
    table = pd.DataFrame(summary[cols]).copy()
    # Six decimals: 1 元 is 1e-8 亿元, so amounts keep 0.01 万元; sums lose their float noise.
    for col in table.columns:
        if col == "area_km2" or col.startswith(("investment", "density")):
            table[col] = table[col].round(6)
    return table

"""Metric coordinates for the cluster statistics: the Gauss–Krüger zone of the data."""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import shapely
from pyproj import CRS

from parkmap.coords import choose_metric_crs, fast_transformer
from parkmap.errors import UsageError

FloatArray = npt.NDArray[np.float64]
LONLAT = "EPSG:4326"


#: Cached lon/lat-ordered transformer (see :func:`parkmap.coords.fast_transformer`).
_transformer = fast_transformer


def metric_crs(projects: gpd.GeoDataFrame, parks: gpd.GeoDataFrame | None = None) -> CRS:
    """The metric CRS of the data: the Gauss–Krüger zone (or Albers) of the projects' longitudes.

    When no project has coordinates the parks' longitudes decide.
    """
    lon = lonlat(projects)[0]
    if not np.isfinite(lon).any() and parks is not None and len(parks):
        bounds = parks.to_crs(LONLAT).total_bounds
        lon = np.array([bounds[0], bounds[2]])
    if not np.isfinite(lon).any():
        raise UsageError("no projects or parks with coordinates to measure distances in")
    return choose_metric_crs(lon)[0]


def lonlat(frame: gpd.GeoDataFrame) -> tuple[FloatArray, FloatArray]:
    """Longitude and latitude (EPSG:4326) of point geometries; NaN where missing."""
    geoms = frame.geometry
    if geoms.crs is not None and not geoms.crs.equals(LONLAT):
        geoms = geoms.to_crs(LONLAT)
    values = np.asarray(geoms.array, dtype=object)
    present = ~(shapely.is_missing(values) | shapely.is_empty(values))
    lon = np.full(len(values), np.nan)
    lat = np.full(len(values), np.nan)
    if present.any():
        lon[present] = shapely.get_x(values[present])
        lat[present] = shapely.get_y(values[present])
    return lon, lat


def to_metric(crs: CRS, lon: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Project lon/lat (degrees) to x/y metres in ``crs``."""
    x, y = _transformer(LONLAT, crs.to_wkt()).transform(
        np.asarray(lon, float), np.asarray(lat, float)
    )
    return np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)


def to_lonlat(crs: CRS, x: FloatArray, y: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Project x/y metres in ``crs`` back to lon/lat (degrees)."""
    lon, lat = _transformer(crs.to_wkt(), LONLAT).transform(
        np.asarray(x, float), np.asarray(y, float)
    )
    return np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64)


def geometry_to_metric(crs: CRS, geom: shapely.Geometry) -> shapely.Geometry:
    """A lon/lat geometry in metres."""
    transformer = _transformer(LONLAT, crs.to_wkt())
    return shapely.transform(
        geom, lambda c: np.column_stack(transformer.transform(c[:, 0], c[:, 1]))
    )


def geometry_to_lonlat(crs: CRS, geom: shapely.Geometry) -> shapely.Geometry:
    """A metric geometry in lon/lat."""
    transformer = _transformer(crs.to_wkt(), LONLAT)
    return shapely.transform(
        geom, lambda c: np.column_stack(transformer.transform(c[:, 0], c[:, 1]))
    )


def crs_label(crs: CRS) -> str:
    """``"EPSG:4549"`` when the CRS has a code, else its PROJ string."""
    code = crs.to_epsg()
    return f"EPSG:{code}" if code else crs.to_proj4()


def untested(
    count: tuple[str, int],
    outcome: tuple[str, str],
    reason: str,
    *,
    needs: int | float | None = None,
) -> dict[str, Any]:
    """The result of a test that was not run: its sample size, the outcome, the floor and why.

    It carries no statistic and no p-value, so nothing downstream can word it as a finding.

    ``untested(("n", 4), ("pattern", "too_few_points"), "needs at least 10 points", needs=10)``
    """
    result = {count[0]: count[1], outcome[0]: outcome[1]}
    if needs is not None:
        result["needs"] = needs
    return {**result, "reason": reason}

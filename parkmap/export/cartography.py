"""Scale bar, north arrow and marker sizes for maps drawn in a projected (metric) CRS."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from pyproj import CRS, Geod, Transformer

from parkmap.coords import lonlat_transformer
from parkmap.settings import ELLIPSOID

_GEOD = Geod(ellps=ELLIPSOID)

#: The web map's marker radius in CSS pixels is ``3 + 13 * sqrt(inv / max)``; one CSS pixel is
#: 0.75 pt, so printed markers have the size they have on screen at 100 %.
MIN_RADIUS_PX = 3.0
SPAN_RADIUS_PX = 13.0
UNKNOWN_RADIUS_PX = 4.0
PT_PER_PX = 0.75


def _transformers(crs: CRS) -> tuple[Transformer, Transformer]:
    """WGS-84 → map and map → WGS-84 (cached in :func:`parkmap.coords.lonlat_transformer`)."""
    return lonlat_transformer(crs), lonlat_transformer(crs, inverse=True)


def nice_floor(x: float) -> float:
    """Round down to 1, 2 or 5 times a power of ten (0 for x ≤ 0)."""
    if not x > 0:
        return 0.0
    power = 10 ** math.floor(math.log10(x))
    return max(m * power for m in (1, 2, 5) if m * power <= x * (1 + 1e-12))


@dataclass(frozen=True)
class ScaleBar:
    """A horizontal scale bar in map coordinates.

    Attributes
    ----------
    x0, y0
        Left end of the bar, map units.
    length_map
        Length along the map's x axis, map units.
    km
        Ground distance the bar stands for, kilometres (geodesic, on the WGS-84 ellipsoid).
    """

    x0: float
    y0: float
    length_map: float
    km: float


def scale_bar(crs: CRS, x0: float, y0: float, km: float) -> ScaleBar:
    """A bar starting at (``x0``, ``y0``) whose ends are ``km`` apart on the ground.

    The ends are projected back to longitude and latitude and their geodesic distance is
    measured with :class:`pyproj.Geod`; the map length is corrected until it matches, so the bar
    is true at the map's latitude in any projected CRS (Gauss–Krüger scale error is then
    irrelevant too).
    """
    _, to_geo = _transformers(crs)
    target = km * 1000.0
    length = target
    for _ in range(4):
        lon, lat = to_geo.transform([x0, x0 + length], [y0, y0])
        _, _, dist = _GEOD.inv(lon[0], lat[0], lon[1], lat[1])
        if dist <= 0:
            break
        length *= target / dist
    return ScaleBar(x0, y0, length, km)


def bar_km_for(width_map: float, share: float = 0.2) -> float:
    """A round bar length (1/2/5 × 10ⁿ km), at most ``share`` of a map ``width_map`` m wide."""
    return nice_floor(width_map * share / 1000.0) or 0.1


def true_north_angle(crs: CRS, x: float, y: float) -> float:
    """Angle of true north at (``x``, ``y``), degrees clockwise from the map's grid north.

    In a Gauss–Krüger projection meridians east of the central meridian lean towards it near
    the pole, so true north lies counter-clockwise (negative) from grid north there; the size
    is the meridian convergence, about Δλ·sin φ.
    """
    to_map, to_geo = _transformers(crs)
    lon, lat = to_geo.transform(x, y)
    step = 0.01
    xn, yn = to_map.transform(lon, lat + step)
    return math.degrees(math.atan2(xn - x, yn - y))


def marker_radius_pt(
    investment: np.ndarray, inv_max: float | None, scale: float = 1.0
) -> np.ndarray:
    """Marker radius in points: the web map's square-root scale (``3 + 13·√(inv/max)`` px).

    Unknown (NaN) investments get :data:`UNKNOWN_RADIUS_PX`; the caller draws them hollow.
    """
    inv = np.asarray(investment, dtype=float)
    px = np.full(inv.shape, UNKNOWN_RADIUS_PX)
    if inv_max and inv_max > 0:
        known = np.isfinite(inv)
        px[known] = MIN_RADIUS_PX + SPAN_RADIUS_PX * np.sqrt(np.clip(inv[known], 0, None) / inv_max)
    return px * PT_PER_PX * scale


def legend_sizes(inv_max: float | None) -> list[float]:
    """Investments (亿元) for the size legend: round values near max, max/4 and max/16."""
    if not inv_max or inv_max <= 0:
        return []
    values = {nice_floor(inv_max), nice_floor(inv_max / 4), nice_floor(inv_max / 16)}
    return sorted((v for v in values if v > 0), reverse=True)

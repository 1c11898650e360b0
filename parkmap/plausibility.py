"""Plausibility checks after the join: points far from everything, and amounts in the wrong unit.

Validation (:mod:`parkmap.validate`) judges each row on its own; these checks compare a row with
the parks and with the rest of the file, so they run after the join. They never reject a row.
They add a warning to it (the run's summary counts it and :func:`parkmap.validate.problems`
lists it), and an amount too large to add up is left out of every sum, as an unreadable one is.

- **Far points.** A point more than :data:`FAR_KM` from every park *and* from the middle of the
  file's projects (the coordinate-wise median of the mapped points) is most likely a failed
  geocode or a typo. Both conditions are needed: a ledger of projects outside the parks layer's
  city lies far from every park but close to its own middle.
- **Units.** An amount more than :data:`UNIT_RATIO` times the median of the file's amounts, or
  above :data:`IMPLAUSIBLE_100M_CNY` 亿元 (about ten years of China's GDP), was most likely
  typed in 元 or 万元 under a 亿元 header.
- **Overflow.** An amount above :data:`SUM_LIMIT_100M_CNY` 亿元 (or infinite) would turn park
  totals into nonsense or ``inf``; it is set to unknown (NaN) and left out of sums.

Everything is vectorised: on a clean file of a million rows the checks cost a few comparisons
and two medians; messages are formatted only for the rows they flag.
"""

from __future__ import annotations

from typing import Final

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Geod

from parkmap.settings import ELLIPSOID

#: A point farther than this (km) from every park and from the file's middle gets a warning.
FAR_KM: Final = 50.0
#: An amount more than this many times the file's median amount gets a units warning.
UNIT_RATIO: Final = 1000.0
#: An amount above this (亿元) gets a units warning whatever the median.
IMPLAUSIBLE_100M_CNY: Final = 1e5
#: An amount above this (亿元), or an infinite one, is left out of sums.
SUM_LIMIT_100M_CNY: Final = 1e8

_GEOD = Geod(ellps=ELLIPSOID)

INVESTMENT: Final = "investment_100m_cny"


def check_plausibility(projects: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Warn about far-off points and implausible amounts; leave unsummable amounts out.

    Parameters
    ----------
    projects
        Mapped projects joined to the parks (:func:`parkmap.join.join_projects_to_parks`):
        point geometry in WGS-84, ``distance_km`` to the nearest park (0 inside one; NaN or
        missing when there are no parks), ``investment_100m_cny`` and ``warnings``.

    Returns
    -------
    GeoDataFrame
        ``projects`` itself when nothing is flagged; otherwise a shallow copy with new
        ``warnings`` (messages appended with ``"; "``) and, for amounts above
        :data:`SUM_LIMIT_100M_CNY`, ``investment_100m_cny`` set to NaN.
    """
    n = len(projects)
    if n == 0:
        return projects
    messages: dict[int, list[str]] = {}
    far = far_point_messages(projects)
    amounts, investment = amount_messages(projects)
    for found in (far, amounts):
        for pos, text in found.items():
            messages.setdefault(pos, []).append(text)
    if not messages and investment is None:
        return projects
    out = projects.copy(deep=False)
    if investment is not None:
        out[INVESTMENT] = investment
    if messages:
        texts = out["warnings"].to_numpy(dtype=object, na_value="").copy()
        for pos, extra in messages.items():
            before = str(texts[pos]) if texts[pos] is not None else ""
            texts[pos] = "; ".join([before, *extra] if before else extra)
        out["warnings"] = texts
    return out


def robust_centre(lon: np.ndarray, lat: np.ndarray) -> tuple[float, float]:
    """The coordinate-wise median of the points (NaN ignored): the middle of the file's mass,
    which a few far-off points cannot drag away."""
    return float(np.nanmedian(lon)), float(np.nanmedian(lat))


def far_point_messages(projects: gpd.GeoDataFrame) -> dict[int, str]:
    """Warnings for points more than :data:`FAR_KM` from every park and from the file's middle.

    Returns
    -------
    dict
        Row position → message, for the flagged rows only.
    """
    n = len(projects)
    if "distance_km" in projects:
        park_km = pd.to_numeric(projects["distance_km"], errors="coerce").to_numpy(dtype=float)
    else:
        park_km = np.full(n, np.nan)
    # No park to measure against (no parks layer) counts as far from every park.
    candidates = np.flatnonzero(~(park_km <= FAR_KM))
    if not len(candidates):
        return {}
    points = np.asarray(projects.geometry.array)
    located = ~(shapely.is_missing(points) | shapely.is_empty(points))
    lon = np.full(n, np.nan)
    lat = np.full(n, np.nan)
    lon[located] = shapely.get_x(points[located])
    lat[located] = shapely.get_y(points[located])
    candidates = candidates[located[candidates]]
    if not len(candidates):
        return {}
    centre_lon, centre_lat = robust_centre(lon[located], lat[located])
    k = len(candidates)
    _, _, metres = _GEOD.inv(
        lon[candidates], lat[candidates], np.full(k, centre_lon), np.full(k, centre_lat)
    )
    centre_km = np.asarray(metres, dtype=float) / 1000.0
    hit = centre_km > FAR_KM
    out: dict[int, str] = {}
    for pos, to_park, to_centre in zip(
        candidates[hit].tolist(),
        park_km[candidates[hit]].tolist(),
        centre_km[hit].tolist(),
        strict=True,
    ):
        out[int(pos)] = far_message(to_park, to_centre)
    return out


def far_message(park_km: float, centre_km: float) -> str:
    """``"lies 812 km from the nearest park and 790 km from the middle of the other projects;
    check the coordinates (a failed geocode?)"``."""
    if np.isfinite(park_km):
        where = f"lies {park_km:,.0f} km from the nearest park and {centre_km:,.0f} km"
    else:
        where = f"lies {centre_km:,.0f} km"
    return (
        f"{where} from the middle of the other projects; check the coordinates (a failed geocode?)"
    )


def amount_messages(projects: pd.DataFrame) -> tuple[dict[int, str], np.ndarray | None]:
    """Warnings for amounts that look typed in the wrong unit or are too large to add up.

    Returns
    -------
    messages, investment
        Row position → message for the flagged rows; and the investment column with the
        amounts above :data:`SUM_LIMIT_100M_CNY` (or infinite) set to NaN, or ``None`` when
        no amount is left out.
    """
    if INVESTMENT not in projects:
        return {}, None
    inv = pd.to_numeric(projects[INVESTMENT], errors="coerce").to_numpy(dtype=float)
    huge = _unsummable(inv)
    with np.errstate(invalid="ignore"):
        usable = np.isfinite(inv) & ~huge
        median = float(np.median(inv[usable])) if usable.any() else float("nan")
        ratio_limit = UNIT_RATIO * median if median > 0 else np.inf
        suspicious = usable & ((inv > IMPLAUSIBLE_100M_CNY) | (inv > ratio_limit))
    messages: dict[int, str] = {}
    for pos in np.flatnonzero(suspicious).tolist():
        messages[pos] = unit_message(float(inv[pos]), median)
    for pos in np.flatnonzero(huge).tolist():
        messages[pos] = (
            f"investment {_amount(float(inv[pos]))} 亿元 is too large to be real; "
            "left out of sums (was it typed in 元 or 万元?)"
        )
    if not huge.any():
        return messages, None
    return messages, np.where(huge, np.nan, inv)


def summable_amounts(projects: pd.DataFrame) -> np.ndarray:
    """The investment column as :func:`check_plausibility` leaves it (float, 亿元): amounts
    above :data:`SUM_LIMIT_100M_CNY` or infinite become NaN; all NaN without the column."""
    if INVESTMENT not in projects:
        return np.full(len(projects), np.nan)
    inv = pd.to_numeric(projects[INVESTMENT], errors="coerce").to_numpy(dtype=float)
    return np.where(_unsummable(inv), np.nan, inv)


def _unsummable(inv: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        return np.isinf(inv) | (inv > SUM_LIMIT_100M_CNY)


def unit_message(amount: float, median: float) -> str:
    """``"investment 3,815,800 亿元 is 1,000× the median; was it typed in 元 or 万元?"``."""
    if median > 0 and amount > UNIT_RATIO * median:
        size = f"is {amount / median:,.0f}× the median ({_amount(median)} 亿元)"
    else:
        size = f"is above {IMPLAUSIBLE_100M_CNY:,.0f} 亿元"
    return f"investment {_amount(amount)} 亿元 {size}; was it typed in 元 or 万元?"


def _amount(x: float) -> str:
    """An amount for a message: thousands separators, two decimals below 100, ``inf`` as is."""
    if not np.isfinite(x):
        return str(x)
    if abs(x) >= 1e15:
        return f"{x:.3g}"
    return f"{x:,.2f}" if abs(x) < 100 else f"{x:,.0f}"


__all__ = [
    "FAR_KM",
    "IMPLAUSIBLE_100M_CNY",
    "SUM_LIMIT_100M_CNY",
    "UNIT_RATIO",
    "check_plausibility",
    "robust_centre",
]

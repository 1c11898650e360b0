"""Point-pattern statistics: average nearest-neighbour index and Ripley's K/L.

Average nearest neighbour (the formulas of ArcGIS's Average Nearest Neighbor tool), for ``n``
points in a study area ``A`` (m²), with ``d_i`` the distance from point ``i`` to its nearest
other point (Euclidean, metres, in the Gauss–Krüger zone of the data)::

    D_O  = Σ d_i / n                 observed mean distance
    D_E  = 0.5 / √(n / A)            expected mean distance under complete spatial randomness
    NNI  = D_O / D_E
    SE   = 0.26136 / √(n² / A)
    z    = (D_O − D_E) / SE,         p = 2·(1 − Φ(|z|))   (two-sided, normal)

NNI < 1 with p < α: clustered; NNI > 1 with p < α: dispersed; otherwise random. Run only on
n ≥ :data:`~parkmap.cluster.minimums.MIN_POINTS_NNI` (10) points, Ripley's L on n ≥
:data:`~parkmap.cluster.minimums.MIN_POINTS_RIPLEY` (10); below that the result has no statistic
and no p-value (:mod:`parkmap.cluster.minimums`), and no points at all is ``"no_projects"``.

Ripley's L (``L(d) = √(K(d)/π)``, ``K(d) = A · 2·#{pairs closer than d} / (n·(n−1))``, no edge
correction) is compared with an envelope of ``simulations`` patterns of ``n`` points drawn
uniformly in the same study polygon (``pointpats.random.poisson`` with a seeded generator): L
above the envelope at a distance means clustering at that scale, below means dispersion.
"""

from __future__ import annotations

import math
from typing import Any, Final

import numpy as np
import shapely
from scipy.spatial import cKDTree
from scipy.spatial.distance import pdist
from scipy.stats import norm

from parkmap.cluster._geo import FloatArray, untested
from parkmap.cluster.minimums import MIN_POINTS_NNI, MIN_POINTS_RIPLEY

#: ArcGIS's constant for the standard error of the mean nearest-neighbour distance.
SE_CONSTANT: Final = 0.26136
#: Most points for Ripley's L: every simulation measures all n·(n−1)/2 pairs.
MAX_POINTS_RIPLEY: Final = 5000
#: Distances at which L is evaluated.
RIPLEY_STEPS: Final = 20


def classify(index: float, p: float, alpha: float, *, above: str, below: str) -> str:
    """``below`` / ``above`` when significant at ``alpha``, else ``"random"``."""
    if not (math.isfinite(p) and p < alpha):
        return "random"
    return below if index < 1 else above


def nearest_neighbour_index(
    x: FloatArray, y: FloatArray, area_m2: float, *, alpha: float = 0.05
) -> dict[str, Any]:
    """Average nearest-neighbour statistics of points (metres) in a study area (m²).

    Returns
    -------
    dict
        ``n, area_km2, observed_mean_m, expected_mean_m, nni, z, p, pattern`` (``"clustered"``,
        ``"dispersed"``, ``"random"``); without a statistic or p-value, ``n, area_km2, pattern``
        with a ``reason``: ``"no_projects"`` (n = 0), ``"too_few_points"`` (n <
        :data:`MIN_POINTS_NNI`, with ``needs``) or ``"no_area"``.
    """
    n = len(x)
    result: dict[str, Any] = {"n": n, "area_km2": area_m2 / 1e6}
    if n == 0:
        return {**result, "pattern": "no_projects", "reason": "no projects"}
    if n < MIN_POINTS_NNI:
        reason = f"needs at least {MIN_POINTS_NNI} points"
        few = untested(("n", n), ("pattern", "too_few_points"), reason, needs=MIN_POINTS_NNI)
        return {**result, **few}
    if not (math.isfinite(area_m2) and area_m2 > 0):
        return {**result, "pattern": "no_area", "reason": "the study area is zero"}
    xy = np.column_stack((x, y))
    distances, _ = cKDTree(xy).query(xy, k=2)
    observed = float(distances[:, 1].mean())
    expected = 0.5 / math.sqrt(n / area_m2)
    se = SE_CONSTANT / math.sqrt(n * n / area_m2)
    z = (observed - expected) / se
    p = float(2.0 * norm.sf(abs(z)))
    nni = observed / expected
    return {
        **result,
        "observed_mean_m": observed,
        "expected_mean_m": expected,
        "nni": nni,
        "standard_error_m": se,
        "z": z,
        "p": p,
        "pattern": classify(nni, p, alpha, above="dispersed", below="clustered"),
    }


def _l_function(xy: FloatArray, area_m2: float, support: FloatArray) -> FloatArray:
    n = len(xy)
    pairs = np.sort(pdist(xy))
    closer = np.searchsorted(pairs, support, side="left")
    k = area_m2 * 2.0 * closer / (n * (n - 1))
    return np.sqrt(k / math.pi)


def ripley_l(
    x: FloatArray,
    y: FloatArray,
    polygon_m: shapely.Geometry | None,
    *,
    simulations: int = 99,
    seed: int = 0,
    area_m2: float | None = None,
) -> dict[str, Any]:
    """Ripley's L of points in a study polygon (metres), with a Monte-Carlo envelope.

    Parameters
    ----------
    x, y
        Point coordinates in metres.
    polygon_m
        Study area in the same metric CRS; simulated patterns are drawn inside it (``None`` or
        no area: ``pattern="no_area"``).
    simulations
        Number of simulated CSR patterns (seeded with ``seed``).
    area_m2
        Study area for K; the polygon's area when ``None``.

    Returns
    -------
    dict
        ``n, support_m, l_m, lower_m, upper_m, simulations, seed, clustered_at_m,
        dispersed_at_m, pattern`` (``clustered``/``dispersed``/``mixed``/``random``), or, with a
        ``reason`` and no L, ``pattern="no_projects"`` (n = 0), ``"too_few_points"`` (n <
        :data:`MIN_POINTS_RIPLEY`, with ``needs``) or ``"too_many_points"`` (n > 5000).
    """
    from pointpats.random import poisson

    n = len(x)
    if n == 0:
        return {"n": 0, "pattern": "no_projects", "reason": "no projects"}
    if n < MIN_POINTS_RIPLEY:
        reason = f"needs at least {MIN_POINTS_RIPLEY} points"
        return untested(("n", n), ("pattern", "too_few_points"), reason, needs=MIN_POINTS_RIPLEY)
    if n > MAX_POINTS_RIPLEY:
        reason = f"more than {MAX_POINTS_RIPLEY} points (all pairs are measured)"
        return untested(("n", n), ("pattern", "too_many_points"), reason)
    if polygon_m is None or polygon_m.is_empty or polygon_m.area <= 0:
        return {"n": n, "pattern": "no_area", "reason": "the study area is zero"}
    area = float(polygon_m.area if area_m2 is None else area_m2)
    minx, miny, maxx, maxy = polygon_m.bounds
    reach = 0.25 * min(maxx - minx, maxy - miny)
    support = np.linspace(reach / RIPLEY_STEPS, reach, RIPLEY_STEPS)
    xy = np.column_stack((x, y))
    observed = _l_function(xy, area, support)
    rng = np.random.default_rng(seed)
    simulated = np.empty((simulations, support.size))
    for i in range(simulations):
        sample = np.asarray(poisson(polygon_m, size=(n, 1), rng=rng)).reshape(n, 2)
        simulated[i] = _l_function(sample, area, support)
    lower = simulated.min(axis=0) if simulations else np.full(support.size, np.nan)
    upper = simulated.max(axis=0) if simulations else np.full(support.size, np.nan)
    above = support[observed > upper]
    below = support[observed < lower]
    if above.size and below.size:
        pattern = "mixed"
    elif above.size:
        pattern = "clustered"
    elif below.size:
        pattern = "dispersed"
    else:
        pattern = "random"
    return {
        "n": n,
        "area_km2": area / 1e6,
        "support_m": support.tolist(),
        "l_m": observed.tolist(),
        "lower_m": lower.tolist(),
        "upper_m": upper.tolist(),
        "simulations": int(simulations),
        "seed": int(seed),
        "clustered_at_m": above.tolist(),
        "dispersed_at_m": below.tolist(),
        "pattern": pattern,
    }

"""The smallest samples each test is run on; below them a result says "too few projects to test".

A test run on a handful of projects returns a statistic and a p-value all the same, and a
permutation p-value of 0.03 from four projects reads like a finding. So every test has a floor,
applied to each park and to all parks (or all projects) together:

=============================  ================================================================
test                           runs only when
=============================  ================================================================
Moran's I, Getis–Ord Gi*,      at least :data:`MIN_AREAL_UNITS` (30) hexagon cells in the grid
local Moran                    (an empty cell is data: investment 0) **and** at least
                               :data:`MIN_NONZERO_UNITS` (5) of them holding investment
nearest-neighbour index (NNI)  at least :data:`MIN_POINTS_NNI` (10) projects with coordinates
Ripley's K / L                 at least :data:`MIN_POINTS_RIPLEY` (10) projects
DBSCAN                         at least ``min_samples`` projects (weighted: ``min_samples`` 亿元
                               of known investment), the fewest that can make one cluster
HDBSCAN                        at least ``max(2, min_samples)`` projects (its
                               ``min_cluster_size``)
=============================  ================================================================

Thirty areal units is the usual rule of thumb for the normal approximation of Moran's I and for
a permutation distribution with enough distinct arrangements; with fewer than five cells holding
investment every "hot spot" is one or two projects. Ten points is where the nearest-neighbour
z-score (a normal approximation) and an envelope of simulated patterns begin to say something.

Below a floor the result holds the sample size, the floor and a reason, and **no** statistic or
p-value (``{"n": 4, "pattern": "too_few_points", "needs": 10, "reason": …}``); a park with no
projects at all says so (``"no_projects"``) instead of "too few".
"""

from __future__ import annotations

from typing import Final

#: Fewest hexagon cells (with or without projects) for Moran's I, Gi* and local Moran.
MIN_AREAL_UNITS: Final = 30
#: Fewest cells that hold investment (value > 0) for Moran's I, Gi* and local Moran.
MIN_NONZERO_UNITS: Final = 5
#: Fewest projects for the average nearest-neighbour index.
MIN_POINTS_NNI: Final = 10
#: Fewest projects for Ripley's K / L.
MIN_POINTS_RIPLEY: Final = 10


def cluster_minimum(method: str, min_samples: int) -> int:
    """Fewest projects (or 亿元 for weighted DBSCAN) that can make one cluster.

    ``min_samples`` for DBSCAN, ``max(2, min_samples)`` (``min_cluster_size``) for HDBSCAN.

    >>> cluster_minimum("dbscan", 5), cluster_minimum("hdbscan", 1)
    (5, 2)
    """
    return max(2, int(min_samples)) if method.lower() == "hdbscan" else int(min_samples)

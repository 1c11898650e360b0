"""Where projects cluster, which parks are hot or cold, and whether that is more than chance.

* :func:`parkmap.cluster.points.find_clusters` — DBSCAN / HDBSCAN clusters of projects;
* :func:`parkmap.cluster.pattern.nearest_neighbour_index` and
  :func:`~parkmap.cluster.pattern.ripley_l`;
* :func:`parkmap.cluster.areal.hex_statistics` — Moran's I, Gi*, local Moran on hexagons;
* :mod:`parkmap.cluster.minimums` — the smallest sample each test runs on (below it: "too few
  projects to test", no statistic, no p-value);
* :func:`cluster_analysis` runs them all; :func:`parkmap.cluster.report.write_cluster_report`
  writes the files, and :func:`parkmap.pipeline.cluster` does everything ``parkmap cluster``
  does.
"""

from __future__ import annotations

from parkmap.cluster.core import ClusterAnalysis, cluster_analysis

__all__ = ["ClusterAnalysis", "cluster_analysis"]

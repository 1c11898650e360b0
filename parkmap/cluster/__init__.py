"""Where projects cluster, which parks are hot or cold, and whether that is more than chance.

* :func:`parkmap.cluster.points.find_clusters` — DBSCAN / HDBSCAN clusters of projects;
* :func:`parkmap.cluster.pattern.nearest_neighbour_index` and
  :func:`~parkmap.cluster.pattern.ripley_l`;
* :func:`parkmap.cluster.areal.hex_statistics` — Moran's I, Gi*, local Moran on hexagons;
* :func:`cluster_analysis` runs them all; :func:`run_cluster_analysis` also writes the files
  (:mod:`parkmap.cluster.report`, :mod:`parkmap.cluster.plots`).
"""

from __future__ import annotations

import os
from pathlib import Path

from parkmap.cluster.core import ClusterAnalysis, cluster_analysis

__all__ = ["ClusterAnalysis", "cluster_analysis", "run_cluster_analysis"]


def run_cluster_analysis(
    analysis,
    out: str | os.PathLike[str],
    *,
    lang: str = "zh",
    plots: bool = True,
    font: str | os.PathLike[str] | None = None,
    **options,
) -> tuple[ClusterAnalysis, dict[str, Path]]:
    """Compute the cluster statistics of an analysis and write them into ``out``.

    Parameters
    ----------
    analysis
        A :class:`parkmap.analysis.Analysis` (its ``projects`` and ``parks`` are used).
    out
        Output folder.
    lang
        ``"zh"`` or ``"en"`` for ``summary.md`` and the plots.
    plots
        Write the Ripley plots (PNG).
    font
        A font file (TTF, OTF or TTC) for the plots, used first; default: as for the exports
        (:func:`parkmap.fonts.font_setup`). Checked before the statistics are computed.
    **options
        Passed to :func:`cluster_analysis` (method, eps_m, min_samples, weighted, cell_km,
        permutations, simulations, seed, fdr).

    Returns
    -------
    tuple
        The :class:`ClusterAnalysis` and the paths written, by name.
    """
    from parkmap.cluster.report import write_outputs
    from parkmap.fonts import font_setup

    setup = font_setup(lang, font) if plots else None  # a bad font fails before the work
    result = cluster_analysis(analysis.projects, analysis.parks, **options)
    return result, write_outputs(result, out, lang=lang, plots=plots, font=setup)

"""What :func:`parkmap.pipeline.analyse` returns: every figure of one set of inputs.

It sits below the pipeline so that the stages after it (web map, exports, clustering) can
name it without importing the pipeline.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import geopandas as gpd
import pandas as pd

from parkmap.metrics import ALL_FIGURES
from parkmap.validate import Summary


@dataclass
class Analysis:
    """Everything computed from one set of inputs, before anything is written.

    Attributes
    ----------
    parks
        Park polygons with their figures (:func:`parkmap.metrics.park_summary`).
    projects
        Mapped projects joined to the parks, with warnings.
    rejected
        Rejected rows with reasons.
    breakdown
        Projects and investment per park and industry.
    summary
        Row outcome counts.
    problems
        One line per rejected row or warning, naming file, row and column.
    notes
        File-level remarks (units assumed, layers repaired, reprojected or converted).
    alerts
        Warnings about the whole file, such as coordinates that look like another system.
    context
        Context features for the map (district outlines, airport), or ``None``.
    known_figures
        The figures the file tells anything about, of ``"investment"`` and ``"status"``
        (:func:`parkmap.metrics.known_figures`); the park figures of the others are unknown
        (NaN), not 0.
    """

    parks: gpd.GeoDataFrame
    projects: gpd.GeoDataFrame
    rejected: pd.DataFrame
    breakdown: pd.DataFrame
    summary: Summary
    problems: Sequence[str]
    notes: list[str] = field(default_factory=list)
    alerts: list[str] = field(default_factory=list)
    context: gpd.GeoDataFrame | None = None
    known_figures: frozenset[str] = ALL_FIGURES

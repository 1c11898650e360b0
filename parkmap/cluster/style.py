"""Colours of the Gi* hot-spot bins, shared by every map that draws them.

Diverging, as ArcGIS draws a hot-spot analysis: hot spots in reds (darker = more confident),
cold spots in blues, cells that are not significant in light grey. The reds and blues are
ColorBrewer's RdBu steps, which stay apart from each other in print and for most colour-blind
readers.

=====  ==========  ================================
bin    colour      meaning
=====  ==========  ================================
 3     ``#b2182b``  hot spot, 99 % confidence
 2     ``#d6604d``  hot spot, 95 % confidence
 1     ``#f4a582``  hot spot, 90 % confidence
 0     ``#e0e0e0``  not significant
−1     ``#92c5de``  cold spot, 90 % confidence
−2     ``#4393c3``  cold spot, 95 % confidence
−3     ``#2166ac``  cold spot, 99 % confidence
=====  ==========  ================================
"""

from __future__ import annotations

from typing import Final

from parkmap.cluster.areal import GI_LEVELS

#: Fill colour of each Gi* bin (−3…3).
GI_BIN_COLORS: Final[dict[int, str]] = {
    3: "#b2182b",
    2: "#d6604d",
    1: "#f4a582",
    0: "#e0e0e0",
    -1: "#92c5de",
    -2: "#4393c3",
    -3: "#2166ac",
}

#: Confidence (per cent) of each bin level: {3: 99, 2: 95, 1: 90}.
GI_CONFIDENCE: Final[dict[int, int]] = {
    level: round((1.0 - alpha) * 100) for level, alpha in GI_LEVELS
}

#: Bins in legend order: hottest first.
GI_BIN_ORDER: Final[tuple[int, ...]] = (3, 2, 1, 0, -1, -2, -3)


def gi_bin_color(value: int) -> str:
    """Fill colour of a Gi* bin; anything outside −3…3 counts as not significant."""
    return GI_BIN_COLORS.get(int(value), GI_BIN_COLORS[0])

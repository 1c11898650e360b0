"""Interactive, self-contained HTML map of parks and investment projects (folium + Leaflet).

Example:
    >>> from parkmap.webmap import build_map, save_map
    >>> m = build_map(parks, projects, context=context, lang="zh")  # doctest: +SKIP
    >>> save_map(m, "maps/map.html")  # doctest: +SKIP
"""

from __future__ import annotations

from parkmap.webmap.build import build_map, save_map
from parkmap.webmap.offline import OfflineMap

__all__ = ["OfflineMap", "build_map", "save_map"]

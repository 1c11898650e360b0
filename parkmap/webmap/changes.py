"""The change layer of ``parkmap compare``'s map: new, stepped-up, stepped-back, removed projects.

:func:`add_change_layer` puts one layer, "项目变化" / "Project changes", on a map made by
:func:`parkmap.webmap.compose.make_map`. The runtime (``parkmap.changesLayer``, ``js/changes.js``)
draws each change with the symbol and colour of :data:`parkmap.style.CHANGE_SYMBOLS` (removed
projects where they were), and adds a legend section with one row per kind — its symbol, label
and count, and a check box that shows or hides that kind. Names reach the page only as JSON
data and are escaped in the browser.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from parkmap.compare import map_changes
from parkmap.i18n import texts
from parkmap.settings import MapOptions
from parkmap.style import CHANGE_SYMBOLS
from parkmap.webmap import basemaps
from parkmap.webmap.elements import RuntimeLayer
from parkmap.webmap.payloads import DECIMALS, number_or_none, text_or_empty

if TYPE_CHECKING:
    import folium

    from parkmap.analysis import Analysis
    from parkmap.compare import Comparison
    from parkmap.webmap.offline import OfflineMap


def changes_payload(comparison: Comparison, lang: str, system: str = "wgs84") -> dict[str, Any]:
    """Payload for ``parkmap.changesLayer``.

    ``kinds`` lists each kind (``key``, ``label``, ``color``, ``symbol``, ``count``) in legend
    order; ``items`` one change each: ``k`` (index into ``kinds``), ``id``, ``name``, ``park``,
    ``before``, ``after`` (status labels in ``lang``), ``inv`` (亿元 or ``None``) and ``at``
    ([lat, lon] in ``system``). Changes without coordinates are counted but not drawn.
    """
    t = texts(lang)
    drawn = basemaps.to_display(map_changes(comparison.changes), system)
    keys = list(CHANGE_SYMBOLS)
    counts = dict.fromkeys(keys, 0)

    def status(value: Any) -> str:
        text = text_or_empty(value)
        return t.get(f"status_{text}", text) if text else ""

    items = []
    for row in drawn.itertuples(index=False):
        kind = str(row.kind)
        counts[kind] += 1
        lon, lat = float(row.lon), float(row.lat)  # type: ignore[arg-type]
        if not (np.isfinite(lon) and np.isfinite(lat)):
            continue
        items.append(
            {
                "k": keys.index(kind),
                "id": text_or_empty(row.project_id),
                "name": text_or_empty(row.name),
                "park": text_or_empty(row.park_id),
                "before": status(row.before),
                "after": status(row.after),
                "inv": number_or_none(row.investment_100m_cny),
                "at": [round(lat, DECIMALS), round(lon, DECIMALS)],
            }
        )
    return {
        "title": t["chg_legend"],
        "kinds": [
            {
                "key": key,
                "label": t[f"chg_{key}"],
                "color": CHANGE_SYMBOLS[key][0],
                "symbol": CHANGE_SYMBOLS[key][1],
                "count": counts[key],
            }
            for key in keys
        ],
        "items": items,
    }


def add_change_layer(
    m: folium.Map, comparison: Comparison, *, lang: str = "zh", basemap: str = "none"
) -> None:
    """Add the change layer (on when the page opens) and its legend section to ``m``."""
    system = basemaps.display_system(basemap)
    payload = changes_payload(comparison, lang, system)
    m.add_child(RuntimeLayer("changesLayer", payload, texts(lang)["chg_layer"], show=True))


def change_map(
    analysis: Analysis,
    comparison: Comparison,
    options: MapOptions | None = None,
    *,
    by_added: bool = False,
) -> OfflineMap:
    """The usual map of the new snapshot with the change layer on top.

    Parameters
    ----------
    analysis
        The new snapshot's analysis.
    comparison
        :func:`parkmap.compare.compare_snapshots` of the two snapshots.
    options
        How the map is drawn, as for :func:`parkmap.webmap.compose.make_map`.
    by_added
        Not drawn yet: the parks keep their density colours (reserved for colouring them by
        investment added).
    """
    from parkmap.webmap.compose import make_map

    options = options or MapOptions()
    del by_added
    m = make_map(analysis, options)
    add_change_layer(m, comparison, lang=options.lang, basemap=options.basemap)
    return m

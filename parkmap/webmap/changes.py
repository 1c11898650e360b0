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
from parkmap.i18n import fmt_number, park_name, texts
from parkmap.settings import MapOptions
from parkmap.style import ADDED_COLORS, CHANGE_SYMBOLS, NO_DATA_COLOR
from parkmap.webmap import basemaps
from parkmap.webmap.elements import RuntimeLayer
from parkmap.webmap.payloads import DECIMALS, geometry_json, number_or_none, text_or_empty

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


def added_classes(added: np.ndarray) -> tuple[np.ndarray, list[float]]:
    """Classes of the investment added per park: ``-1`` for nothing added (0, less, or
    unknown), else 0… by quantiles of the positive amounts (at most four classes; equal
    breaks merge). Returns the class of each park and the classes' upper bounds."""
    added = np.asarray(added, dtype=float)
    gained = np.isfinite(added) & (added > 0)
    if not gained.any():
        return np.full(len(added), -1), []
    positive = added[gained]
    k = min(len(ADDED_COLORS), len(positive))
    tops = [float(x) for x in np.unique(np.quantile(positive, np.arange(1, k + 1) / k))]
    classes = np.full(len(added), -1)
    classes[gained] = np.searchsorted(np.array(tops), positive, side="left")
    return classes, tops


def added_payload(
    parks: Any, comparison: Comparison, lang: str, system: str = "wgs84"
) -> dict[str, Any]:
    """Payload for ``parkmap.parksAddedLayer``: the parks filled by investment added.

    ``geojson`` features have ``i`` (index into ``parks``); ``parks`` one record each
    (``name``, ``added`` in 亿元 or ``None``, ``color``); ``entries`` the legend rows
    (``label``, ``color``, ``count``), nothing added last.
    """
    t = texts(lang)
    shown = basemaps.to_display(parks, system)
    change = comparison.parks.set_index("park_id")["investment_change_100m_cny"]
    ids = shown["park_id"].astype(str)
    added = ids.map(change).to_numpy(dtype=float, na_value=np.nan)
    classes, tops = added_classes(added)
    colors = list(ADDED_COLORS[len(ADDED_COLORS) - len(tops) :])
    features, records = [], []
    for i, (geom, (_, row)) in enumerate(zip(shown.geometry, shown.iterrows(), strict=True)):
        color = colors[classes[i]] if classes[i] >= 0 else NO_DATA_COLOR
        geometry = geometry_json(geom)
        if geometry is not None:
            features.append({"type": "Feature", "properties": {"i": i}, "geometry": geometry})
        records.append(
            {"name": park_name(row, lang), "added": number_or_none(added[i]), "color": color}
        )
    entries = []
    low = 0.0
    for c, top in enumerate(tops):
        entries.append(
            {
                "label": f"{fmt_number(low)} – {fmt_number(top)}",
                "color": colors[c],
                "count": int((classes == c).sum()),
            }
        )
        low = top
    entries.append(
        {"label": t["chg_no_gain"], "color": NO_DATA_COLOR, "count": int((classes < 0).sum())}
    )
    return {
        "geojson": {"type": "FeatureCollection", "features": features},
        "parks": records,
        "title": t["chg_legend_added"],
        "entries": entries,
    }


def add_change_layer(
    m: folium.Map,
    comparison: Comparison,
    *,
    lang: str = "zh",
    basemap: str = "none",
    parks: Any = None,
) -> None:
    """Add the change layer (on when the page opens) and its legend section to ``m``; with
    ``parks`` (the new snapshot's park layer) also the parks filled by investment added."""
    system = basemaps.display_system(basemap)
    t = texts(lang)
    if parks is not None:
        added = added_payload(parks, comparison, lang, system)
        m.add_child(RuntimeLayer("parksAddedLayer", added, t["chg_layer_added"], show=True))
    payload = changes_payload(comparison, lang, system)
    m.add_child(RuntimeLayer("changesLayer", payload, t["chg_layer"], show=True))


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
        Also a layer of the parks filled by investment added (on when the page opens, above
        the density colours; switch it off to see those).
    """
    from parkmap.webmap.compose import make_map

    options = options or MapOptions()
    m = make_map(analysis, options)
    add_change_layer(
        m,
        comparison,
        lang=options.lang,
        basemap=options.basemap,
        parks=analysis.parks if by_added else None,
    )
    return m

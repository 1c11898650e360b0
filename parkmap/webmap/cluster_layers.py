"""The cluster analysis on the interactive map: Gi* hot spots and project cluster hulls.

:func:`add_cluster_layers` puts two layers of a :class:`parkmap.cluster.ClusterAnalysis` on a map
made by :func:`parkmap.webmap.build_map`:

* "投资热点 (Gi*)" — the hexagon cells coloured by their Gi* bin (−3…3), off when the page
  opens; tooltip and popup give count, investment, z, p, confidence and the LISA quadrant.
  When Gi* was not run (:data:`UNTESTED`: too few cells, too few with investment, no
  projects) the legend has one row "未检验 / Not tested" with the reason as its note
  (:func:`parkmap.cluster.summary.hot_spots_untested`), and the popups leave out z and p;
* "项目集群" — the convex hull of each project cluster, dashed, with a label at its centre;
  on when the page opens.

Both are drawn by the runtime (``parkmap.hotspotsLayer`` / ``parkmap.clustersLayer``) from JSON
payloads, so user strings (industries, park names) never pass through a template and are
escaped in the browser. Their legend rows are added to the page's legend.

Example:
    >>> from parkmap import pipeline
    >>> from parkmap.cluster import cluster_analysis
    >>> from parkmap.webmap.cluster_layers import cluster_map
    >>> analysis = pipeline.analyse()  # doctest: +SKIP
    >>> result = cluster_analysis(analysis.projects, analysis.parks)  # doctest: +SKIP
    >>> m = cluster_map(analysis, result, MapOptions(lang="zh"))  # doctest: +SKIP
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

import pandas as pd

from parkmap.cluster.style import GI_BIN_COLORS, GI_BIN_ORDER, GI_CONFIDENCE
from parkmap.errors import UsageError
from parkmap.i18n import park_name, texts
from parkmap.settings import LANGUAGES, MapOptions
from parkmap.webmap import basemaps
from parkmap.webmap.elements import RuntimeCall, RuntimeLayer
from parkmap.webmap.payloads import (
    DECIMALS,
    geometry_json,
    number_or_none,
    require_columns,
    text_or_empty,
    to_wgs84,
)

if TYPE_CHECKING:
    import folium

    from parkmap.analysis import Analysis
    from parkmap.cluster import ClusterAnalysis
    from parkmap.webmap.offline import OfflineMap

#: Fill colour of each Gi* bin, ArcGIS's hot-spot ramp: hot 99/95/90 %, not significant,
#: cold 90/95/99 %.
# One set of colours for the web map and the atlas (parkmap.cluster.style).
GI_COLORS: Final[dict[int, str]] = GI_BIN_COLORS
GI_ORDER: Final[tuple[int, ...]] = GI_BIN_ORDER
#: LISA quadrants as the cluster analysis writes them; anything else counts as "ns".
QUADRANTS: Final[tuple[str, ...]] = ("HH", "HL", "LH", "LL", "ns")
#: Outcomes of ``result.hexes.stats["gi"]["result"]`` for which Gi* was not run: the cells are
#: drawn "not tested", without z or p.
UNTESTED: Final[frozenset[str]] = frozenset(
    {"too_few_cells", "too_few_nonzero_cells", "no_projects"}
)
#: Outline colour of the cluster hulls (apart from the parks' brown, the districts' grey and
#: the red/blue hot spots).
CLUSTER_COLOR: Final = "#c51b7d"


def bin_label(t: dict[str, str], b: int) -> str:
    """Legend / popup label of a Gi* bin in the language of ``t``."""
    if b == 0:
        return t["gi_ns"]
    key = "gi_hot" if b > 0 else "gi_cold"
    return t[key].format(conf=GI_CONFIDENCE[abs(b)])


def _bin(value: Any) -> int:
    try:
        b = int(value)
    except (TypeError, ValueError):
        return 0
    return b if b in GI_COLORS else 0


def hotspots_payload(cells: pd.DataFrame) -> dict[str, Any]:
    """Payload for ``parkmap.hotspotsLayer`` from ``ClusterAnalysis.hexes.cells``.

    Every cell becomes a GeoJSON feature with properties ``id`` (cell id), ``n`` (projects),
    ``inv`` (亿元), ``z`` and ``p`` (Gi*; ``None`` when not finite), ``b`` (bin −3…3) and
    ``q`` (LISA quadrant: HH, HL, LH, LL or ns). ``colors`` and ``confidence`` are indexed by
    ``b + 3``; ``counts`` is the number of cells per bin in the same order.
    """
    require_columns(
        cells, ["count", "investment_100m_cny", "gi_z", "gi_p", "gi_bin"], "hot-spot cells"
    )
    cells = to_wgs84(cells)
    features = []
    counts = [0] * len(GI_COLORS)
    quadrants = cells["lisa_quadrant"] if "lisa_quadrant" in cells.columns else None
    ids = cells["cell_id"] if "cell_id" in cells.columns else pd.Series(cells.index.astype(str))
    for k, (geom, n, inv, z, p, b, cell) in enumerate(
        zip(
            cells.geometry,
            cells["count"],
            cells["investment_100m_cny"],
            cells["gi_z"],
            cells["gi_p"],
            cells["gi_bin"],
            ids,
            strict=True,
        )
    ):
        geometry = geometry_json(geom)
        if geometry is None:
            continue
        b = _bin(b)
        q = text_or_empty(quadrants.iloc[k]) if quadrants is not None else "ns"
        counts[b + 3] += 1
        features.append(
            {
                "type": "Feature",
                "properties": {
                    "id": text_or_empty(cell),
                    "n": int(n),
                    "inv": number_or_none(inv),
                    "z": number_or_none(z),
                    "p": number_or_none(p, 6),
                    "b": b,
                    "q": q if q in QUADRANTS else "ns",
                },
                "geometry": geometry,
            }
        )
    return {
        "geojson": {"type": "FeatureCollection", "features": features},
        "colors": [GI_COLORS[b] for b in range(-3, 4)],
        "confidence": [GI_CONFIDENCE.get(abs(b), 0) for b in range(-3, 4)],
        "counts": counts,
    }


def _park_names(result: ClusterAnalysis, lang: str) -> dict[str, str]:
    return {text_or_empty(park.get("park_id")): park_name(park, lang) for park in result.parks}


def clusters_payload(clusters: pd.DataFrame, park_names: dict[str, str]) -> dict[str, Any]:
    """Payload for ``parkmap.clustersLayer`` from ``ClusterAnalysis.clusters.clusters``.

    ``geojson`` holds the hulls (property ``i``: index into ``clusters``); each record has
    ``id``, ``n`` (projects), ``inv`` (亿元), ``unknown`` (projects of unknown investment),
    ``area`` (hull km²), ``industry``, ``industryN``, ``parks`` (display names) and ``at``
    ([lat, lon] of the centroid, where the label goes); ``color`` is the outline colour.
    """
    require_columns(clusters, ["cluster_id", "projects", "investment_100m_cny"], "clusters")
    clusters = to_wgs84(clusters)
    features, records = [], []
    for i, (_, row) in enumerate(clusters.iterrows()):
        geom = row.geometry
        geometry = geometry_json(geom)
        if geometry is not None:
            features.append({"type": "Feature", "properties": {"i": i}, "geometry": geometry})
        at = None
        if geom is not None and not geom.is_empty:
            centre = geom.centroid if geom.geom_type == "Polygon" else geom.representative_point()
            at = [round(centre.y, DECIMALS), round(centre.x, DECIMALS)]
        parks = [p for p in text_or_empty(row.get("parks")).split(";") if p]
        records.append(
            {
                "id": int(row["cluster_id"]),
                "n": int(row["projects"]),
                "inv": number_or_none(row["investment_100m_cny"]),
                "unknown": int(number_or_none(row.get("projects_unknown_investment"), 0) or 0),
                "area": number_or_none(row.get("hull_area_km2")),
                "industry": text_or_empty(row.get("dominant_industry")),
                "industryN": int(number_or_none(row.get("dominant_industry_projects"), 0) or 0),
                "parks": [park_names.get(p, p) for p in parks],
                "at": at,
            }
        )
    return {
        "geojson": {"type": "FeatureCollection", "features": features},
        "clusters": records,
        "color": CLUSTER_COLOR,
    }


def is_untested(result: ClusterAnalysis) -> bool:
    """Whether Gi* was not run on the cells (too few cells, too few with investment, or no
    projects): then the map shows them "not tested", without z or p."""
    gi: dict[str, Any] = result.hexes.stats.get("gi", {}) or {}
    return gi.get("result") in UNTESTED


def untested_payload(hot: dict[str, Any], label: str, note: str | None) -> dict[str, Any]:
    """``hot`` (:func:`hotspots_payload`) for cells Gi* was not run on: every cell in the
    not-significant bin with no z, p or quadrant; ``untested`` is the label the popups show,
    ``note`` why (the legend note)."""
    features = [
        {**f, "properties": {**f["properties"], "z": None, "p": None, "b": 0, "q": "ns"}}
        for f in hot["geojson"]["features"]
    ]
    counts = [0] * len(hot["counts"])
    counts[3] = len(features)
    return {
        **hot,
        "geojson": {**hot["geojson"], "features": features},
        "counts": counts,
        "untested": label,
        "note": note or "",
    }


def _legend(
    t: dict[str, str], hot: dict[str, Any], clusters: dict[str, Any], cell_km: Any
) -> dict[str, Any]:
    km = number_or_none(cell_km)
    title = t["legend_hotspots"].format(km="?" if km is None else f"{km:g}")
    if hot.get("untested"):
        # One row: the cells were not tested, so no bin of them means anything.
        rows = [{"label": hot["untested"], "color": GI_COLORS[0], "count": hot["counts"][3]}]
    else:
        rows = [
            {"label": bin_label(t, b), "color": GI_COLORS[b], "count": hot["counts"][b + 3]}
            for b in GI_ORDER
        ]
    return {
        "sections": [
            {
                "key": "hotspots",
                "title": title,
                "entries": rows,
                "note": hot.get("note", ""),
            },
            {
                "key": "clusters",
                "title": t["legend_clusters"],
                "entries": [
                    {
                        "label": t["layer_clusters"],
                        "color": CLUSTER_COLOR,
                        "count": len(clusters["clusters"]),
                        "dashed": True,
                    }
                ],
            },
        ]
    }


def add_cluster_layers(
    m: folium.Map, result: ClusterAnalysis, *, lang: str = "zh", basemap: str = "none"
) -> None:
    """Add the Gi* hot-spot cells and the project cluster hulls to a parkmap map.

    Parameters
    ----------
    m
        A map from :func:`parkmap.webmap.build_map` (its runtime set-up must come first).
    result
        The output of :func:`parkmap.cluster.cluster_analysis`.
    lang
        ``"zh"`` or ``"en"``; should match the map's language.
    basemap
        The map's basemap: on an Amap basemap the layers are shifted into GCJ-02, as
        :func:`parkmap.webmap.compose.make_map` shifts the others.

    Raises
    ------
    UsageError
        For an unknown ``lang`` or ``basemap``.
    InputError
        When the cells or the cluster table lack a needed column.
    """
    if lang not in LANGUAGES:
        raise UsageError(f"unknown language {lang!r}; choose one of: {', '.join(LANGUAGES)}")
    system = basemaps.display_system(basemap)
    t = texts(lang)
    cells = basemaps.to_display(result.hexes.cells, system)
    hulls = basemaps.to_display(result.clusters.clusters, system)
    hot = hotspots_payload(cells)
    if is_untested(result):
        from parkmap.cluster.summary import hot_spots_untested

        label = texts(lang, "sheet")["hot_bin_untested"]
        hot = untested_payload(hot, label, hot_spots_untested(result, lang=lang))
    groups = clusters_payload(hulls, _park_names(result, lang))
    m.add_child(RuntimeLayer("hotspotsLayer", hot, t["layer_hotspots"], show=False))
    m.add_child(RuntimeLayer("clustersLayer", groups, t["layer_clusters"], show=True))
    cell_km = result.settings.get("cell_km")
    if cell_km is None:
        cell_km = getattr(result.hexes.cells, "attrs", {}).get("cell_km")
    m.add_child(RuntimeCall("addLegendSections", _legend(t, hot, groups, cell_km)))


def cluster_map(
    analysis: Analysis, result: ClusterAnalysis, options: MapOptions | None = None
) -> OfflineMap:
    """The interactive map of an analysis with the hot-spot and cluster layers added.

    Parameters
    ----------
    analysis
        A :class:`parkmap.analysis.Analysis`.
    result
        :func:`parkmap.cluster.cluster_analysis` of the same projects and parks.
    options
        How the map is drawn (:class:`parkmap.settings.MapOptions`), as for
        :func:`parkmap.webmap.compose.make_map`.

    Returns
    -------
    OfflineMap
        The map (a ``folium.Map``); save it with :func:`parkmap.webmap.save_map`.
    """
    from parkmap.webmap.compose import make_map

    options = options or MapOptions()
    # The statistics' grid, when it has the map's cell size: the cells are built once.
    grid = result.hexes.grid
    same_cells = grid is not None and grid.attrs.get("cell_km") == options.cell_km
    m = make_map(analysis, options, grid=grid if same_cells else None)
    add_cluster_layers(m, result, lang=options.lang, basemap=options.basemap)
    return m

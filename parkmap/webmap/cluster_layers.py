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
escaped in the browser. Their legend rows are added to the page's legend. The hexagons travel
as integers and the cells' figures as columns (:func:`hotspots_payload`), as the investment grid
does: for county-sized parks that keeps the page within its 5 MB.

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

import numpy as np
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
    hex_shapes,
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
#: Index of "ns" in :data:`QUADRANTS`.
NOT_SIGNIFICANT: Final = QUADRANTS.index("ns")
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


def _rounded(values: Any, digits: int) -> list[float | None]:
    """``values`` rounded to ``digits`` decimals; ``None`` where not a finite number."""
    return [number_or_none(v, digits) for v in values]


def _significant(values: Any, digits: int) -> list[float | None]:
    """``values`` to ``digits`` significant digits; ``None`` where not a finite number.

    Used for p-values: 4 significant digits keep the page's "< 0.001" and its three decimals
    right, also next to 0.001, while 0.849176 travels as 0.8492.
    """
    out: list[float | None] = []
    for v in values:
        x = number_or_none(v, 17)
        out.append(None if x is None else float(f"{x:.{digits}g}"))
    return out


def hotspots_payload(cells: pd.DataFrame) -> dict[str, Any]:
    """Payload for ``parkmap.hotspotsLayer`` from ``ClusterAnalysis.hexes.cells``.

    The cells travel as columns in ``cells``: ``id`` (cell id), ``n`` (projects), ``inv``
    (亿元, 4 decimals), ``z`` (Gi*, 2 decimals) and ``p`` (4 significant digits), ``None``
    when not finite, ``b`` (bin −3…3) and ``q`` (LISA quadrant as its index in
    ``quadrants``: HH, HL, LH, LL, ns). Hexagons travel as integers in ``shape``
    (:func:`parkmap.webmap.payloads.hex_shapes`, unpacked by the runtime's ``hexShapes`` like
    the investment grid); any other outline as GeoJSON in ``outlines``, ``[index, geometry]``.
    Cells without a geometry are left out. ``colors`` and ``confidence`` are indexed by
    ``b + 3``; ``counts`` is the number of cells per bin in the same order.
    :func:`hotspot_features` turns the payload back into GeoJSON features.
    """
    require_columns(
        cells, ["count", "investment_100m_cny", "gi_z", "gi_p", "gi_bin"], "hot-spot cells"
    )
    cells = to_wgs84(cells)
    shape, packed = hex_shapes(cells.geometry.values)
    keep: list[int] = []
    outlines: list[list[Any]] = []
    for k, (geom, is_packed) in enumerate(zip(cells.geometry, packed, strict=True)):
        if not is_packed:
            geometry = geometry_json(geom)
            if geometry is None:
                continue
            outlines.append([len(keep), geometry])
        keep.append(k)
    kept = cells.iloc[keep]
    bins = [_bin(b) for b in kept["gi_bin"]]
    counts = [bins.count(b) for b in range(-3, 4)]
    if "lisa_quadrant" in kept.columns:
        quadrants = [text_or_empty(q) for q in kept["lisa_quadrant"]]
    else:
        quadrants = ["ns"] * len(kept)
    ids = kept["cell_id"] if "cell_id" in kept.columns else pd.Series(kept.index.astype(str))
    columns = {
        "id": [text_or_empty(i) for i in ids],
        "n": [int(n) for n in kept["count"]],
        "inv": _rounded(kept["investment_100m_cny"], 4),
        "z": _rounded(kept["gi_z"], 2),
        "p": _significant(kept["gi_p"], 4),
        "b": bins,
        "q": [QUADRANTS.index(q) if q in QUADRANTS else NOT_SIGNIFICANT for q in quadrants],
    }
    return {
        "cells": columns,
        "quadrants": list(QUADRANTS),
        "shape": shape,
        "outlines": outlines,
        "colors": [GI_COLORS[b] for b in range(-3, 4)],
        "confidence": [GI_CONFIDENCE.get(abs(b), 0) for b in range(-3, 4)],
        "counts": counts,
    }


def hotspot_features(payload: dict[str, Any]) -> list[dict[str, Any]]:
    """The cells of a :func:`hotspots_payload` as GeoJSON features, as the runtime builds them.

    Properties are ``id``, ``n``, ``inv``, ``z``, ``p`` (``None`` for untested cells), ``b``
    and ``q`` (the quadrant's name). For tests and tools.
    """
    cells = payload["cells"]
    n = len(cells["n"])
    shape = payload["shape"]
    other = {int(k): g for k, g in payload.get("outlines", [])}
    c = np.asarray(shape["c"], dtype=np.int64).reshape(-1, 2)
    t = np.asarray(shape["t"], dtype=np.int64).reshape(6, 2)
    v = np.asarray(shape["v"], dtype=np.int64).reshape(-1, 6, 2)
    origin = np.array([shape["x0"], shape["y0"]], dtype=np.int64)
    vertices = (origin + c[:, None, :] + t[None, :, :] + v) / shape["scale"]
    features, j = [], 0
    for k in range(n):
        geometry = other.get(k)
        if geometry is None:
            ring = [*vertices[j].tolist(), vertices[j][0].tolist()]
            geometry = {"type": "Polygon", "coordinates": [ring]}
            j += 1
        properties = {key: cells[key][k] if key in cells else None for key in ("z", "p")}
        properties.update(
            id=cells["id"][k],
            n=cells["n"][k],
            inv=cells["inv"][k],
            b=cells["b"][k],
            q=payload["quadrants"][cells["q"][k]],
        )
        features.append({"type": "Feature", "properties": properties, "geometry": geometry})
    return features


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
    not-significant bin with no z, p (the columns are left out) or quadrant; ``untested`` is
    the label the popups show, ``note`` why (the legend note)."""
    cells = {k: v for k, v in hot["cells"].items() if k not in ("z", "p")}
    n = len(cells["n"])
    cells.update(b=[0] * n, q=[NOT_SIGNIFICANT] * n)
    counts = [0] * len(hot["counts"])
    counts[3] = n
    return {**hot, "cells": cells, "counts": counts, "untested": label, "note": note or ""}


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

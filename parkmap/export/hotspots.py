"""The atlas page "投资热点与项目集群 / Investment hot spots and project clusters".

It draws what :func:`parkmap.cluster.cluster_analysis` found: the hexagon cells coloured by
their Getis–Ord Gi* bin (colours of :mod:`parkmap.cluster.style`), the project clusters as
numbered convex hulls, the parks as outlines, with a legend in real terms, a true scale bar, a
north arrow, the largest clusters in a table and Moran's I of all parks together, worded as in
``summary.md``.

The page keeps to what the sample allows (:mod:`parkmap.cluster.minimums`): when Gi* was not run
the cells are drawn grey as "not tested", with the reason, and no hot or cold bin appears; every
word on it, the projection line included, is in the sheet's language.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from shapely.geometry.base import BaseGeometry

from parkmap.cluster.style import GI_BIN_ORDER, GI_CONFIDENCE, gi_bin_color
from parkmap.export.labels import LabelPlacer, LabelRequest
from parkmap.export.static_map import (
    PARK_EDGE,
    Extent,
    LabelStyle,
    MapData,
    Rect,
    Sheet,
    data_bounds,
    draw_context,
    draw_north_arrow,
    draw_scale_bar,
    draw_table,
    fit_extent,
    frame_axes,
    header_footer,
    park_label,
    sheet_inches,
)
from parkmap.fonts import FontSetup
from parkmap.i18n import fmt_number, texts

if TYPE_CHECKING:
    from parkmap.cluster import ClusterAnalysis

#: Clusters listed in the page's table.
TOP_CLUSTERS = 8
HULL_EDGE = "#1a1a1a"
HULL_STYLE = (0, (5, 2))
CELL_EDGE = "white"
#: Park names, small and below each park, so they leave the cells and cluster numbers free.
PARK_LABEL_BELOW = LabelStyle(7, PARK_EDGE, 5, va="top", clip=True)


@dataclass
class HotspotLayers:
    """The cluster results in the map's metric CRS.

    Attributes
    ----------
    cells
        Hexagons with ``gi_bin`` (and the other cell columns).
    hulls
        One row per cluster with ``cluster_id`` and its hull (Polygon, LineString or Point).
    """

    cells: gpd.GeoDataFrame
    hulls: gpd.GeoDataFrame


def hotspot_layers(clusters: ClusterAnalysis, data: MapData) -> HotspotLayers:
    """Reproject the hexagons and cluster hulls to the map's CRS."""
    cells = clusters.hexes.cells
    hulls = clusters.clusters.clusters
    return HotspotLayers(cells=cells.to_crs(data.crs), hulls=hulls.to_crs(data.crs))


def cell_colors(cells: pd.DataFrame) -> list[str]:
    """Fill colour of each cell from its ``gi_bin``."""
    return [gi_bin_color(int(b)) for b in cells["gi_bin"]]


def _bounds(data: MapData, layers: HotspotLayers) -> tuple[float, ...]:
    """Bounds of the analysed area: parks, cells and hulls (projects far outside left out)."""
    boxes = []
    for frame in (data.parks, layers.cells, layers.hulls):
        if len(frame):
            boxes.append(np.asarray(frame.total_bounds, dtype=float))
    box = np.array([b for b in boxes if np.isfinite(b).all()])
    if not len(box):
        return data_bounds(data)
    minx, miny, maxx, maxy = box[:, 0].min(), box[:, 1].min(), box[:, 2].max(), box[:, 3].max()
    # Room for the scale bar below and the north arrow above, off the cells.
    h = maxy - miny
    return minx, miny - 0.12 * h, maxx, maxy + 0.06 * h


def draw_hotspot_map(
    ax: Axes,
    data: MapData,
    layers: HotspotLayers,
    setup: FontSetup,
    *,
    extent: Extent,
    scale: float = 1.0,
) -> None:
    """Cells by Gi* bin, park outlines, numbered cluster hulls, scale bar and north arrow."""
    frame_axes(ax, extent, scale)
    draw_context(ax, data, setup, scale, label_districts=False)
    cells = layers.cells
    if len(cells):
        cells.plot(
            ax=ax,
            color=cell_colors(cells),
            edgecolor=CELL_EDGE,
            linewidth=0.3 * scale,
            zorder=2,
        )
    parks = data.parks[~(data.parks.geometry.isna() | data.parks.geometry.is_empty)]
    if len(parks):
        parks.boundary.plot(ax=ax, color=PARK_EDGE, linewidth=0.9 * scale, zorder=3)
    ax.set_xlabel("")
    ax.set_ylabel("")
    # Scale bar and north arrow first: the names are then placed clear of them, of each other
    # and of the frame (parkmap.export.labels), cluster numbers before park names.
    placer = LabelPlacer(ax, scale)
    draw_scale_bar(ax, data.crs, extent, scale, placer=placer)
    draw_north_arrow(ax, data.crs, extent, setup, scale, placer=placer)
    minx, miny, maxx, maxy = extent
    style = PARK_LABEL_BELOW
    for _, row in parks.iterrows():
        p = row.geometry.representative_point()
        if minx <= p.x <= maxx and miny <= p.y <= maxy:
            placer.request(
                LabelRequest(
                    park_label(row, setup),
                    placer.geometry_box(row.geometry),
                    fontsize=style.size * scale,
                    color=style.color,
                    zorder=style.zorder,
                    halo=style.halo,
                    priority=10,
                    geometry=row.geometry,
                )
            )
    _draw_hulls(ax, layers.hulls, scale, placer)
    placer.place()


def _draw_hulls(
    ax: Axes, hulls: gpd.GeoDataFrame, scale: float, placer: LabelPlacer | None = None
) -> None:
    """Draw the cluster hulls and queue their numbers on ``placer`` (placed at once without
    one): just above the hull's top vertex where there is room, else beside it."""
    own = placer is None
    placer = placer if placer is not None else LabelPlacer(ax, scale)
    for _, row in hulls.iterrows():
        geom = row.geometry
        if geom is None or geom.is_empty:
            continue
        if geom.geom_type == "Point":
            ax.scatter(
                [geom.x],
                [geom.y],
                s=(9 * scale) ** 2,
                facecolors="none",
                edgecolors=HULL_EDGE,
                linewidths=1.3 * scale,
                linestyle="--",
                zorder=6,
            )
        else:
            line = geom.boundary if geom.geom_type == "Polygon" else geom
            xs, ys = line.xy
            ax.plot(xs, ys, color=HULL_EDGE, lw=1.4 * scale, ls=HULL_STYLE, zorder=6)
        x, y = label_anchor(geom)
        cluster = int(row["cluster_id"])
        placer.request(
            LabelRequest(
                str(cluster),
                placer.point_box(x, y, 1.0),
                fontsize=10 * scale,
                weight="bold",
                color=HULL_EDGE,
                zorder=7,
                halo=3.0,
                priority=cluster / 1000,
                order="above",
                gaps=(1.0, 4.0, 8.0),
            )
        )
    if own:
        placer.place()


def label_anchor(geom: BaseGeometry) -> tuple[float, float]:
    """Where a cluster's number goes: just above the hull's northernmost vertex, so the number
    never hides the cells inside the hull."""
    coords = shapely.get_coordinates(geom)
    top = coords[int(np.argmax(coords[:, 1]))]
    return float(top[0]), float(top[1])


# ---------------------------------------------------------------------------------------------
# Legend and table


def legend_rows(clusters: ClusterAnalysis, lang: str) -> list[tuple[str, str | None, str]]:
    """Legend rows as (kind, colour, label).

    Kinds are ``title``, ``cell``, ``hull``, ``park`` and ``note``; cell labels carry the number
    of cells in each bin. When Gi* was not run (too few cells or projects) one grey row says
    "not tested" and a note says why.
    """
    from parkmap.cluster.summary import hot_spots_untested

    t = texts(lang, "sheet")
    settings = clusters.settings
    params = clusters.clusters.params
    bins = clusters.hexes.cells["gi_bin"].astype(int)
    rows: list[tuple[str, str | None, str]] = [("title", None, t["hot_legend"])]
    untested = hot_spots_untested(clusters, lang=lang)
    if untested is not None:
        label = f"{t['hot_bin_untested']}  ({len(bins)})"
        rows += [("cell", gi_bin_color(0), label), ("note", None, untested)]
    for value in GI_BIN_ORDER if untested is None else ():
        if value == 0:
            label = t["hot_bin_ns"]
        else:
            key = "hot_bin_hot" if value > 0 else "hot_bin_cold"
            label = t[key].format(conf=GI_CONFIDENCE[abs(value)])
        rows.append(("cell", gi_bin_color(value), f"{label}  ({int((bins == value).sum())})"))
    rows.append(("note", None, t["hot_grid"].format(cell=float(settings.get("cell_km", 1.0)))))
    fdr = t["hot_fdr_on"] if settings.get("fdr") else t["hot_fdr_off"]
    perm = t["hot_perm"].format(perm=settings.get("permutations"), seed=settings.get("seed"))
    rows.append(("note", None, t["hot_note"].format(fdr=fdr, perm=perm)))
    rows.append(("title", None, t["hot_clusters"]))
    rows.append(("hull", HULL_EDGE, t["cluster_hull"]))
    rows.append(("note", None, cluster_rule(params, lang)))
    rows.append(("park", PARK_EDGE, t["park_outline"]))
    return rows


def cluster_rule(params: dict, lang: str) -> str:
    """How clusters were found, in words: method, radius, minimum size."""
    t = texts(lang, "sheet")
    if params.get("method") == "hdbscan":
        return t["cluster_hdbscan"].format(min=params.get("min_cluster_size", "?"))
    key = "cluster_dbscan_weighted" if params.get("weighted") else "cluster_dbscan"
    return t[key].format(eps=float(params.get("eps_m", 0.0)), min=params.get("min_samples", "?"))


def draw_hotspot_legend(
    ax: Axes, rows: list[tuple[str, str | None, str]], *, scale: float = 1.0
) -> float:
    """Draw the legend rows from the top of ``ax``; return the height (axes fraction) left."""
    ax.set_axis_off()
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    box = ax.get_position()
    fig_w, fig_h = sheet_inches(ax)
    line = 13 * scale / (box.height * fig_h * 72)
    key_w = 20 * scale / (box.width * fig_w * 72)
    text_x = key_w * 1.5
    y = 1.0 - 0.5 * line
    for kind, color, label in rows:
        if kind == "title":
            if y < 1.0 - line:
                y -= 0.4 * line
            ax.text(0, y, label, fontsize=9 * scale, fontweight="bold", va="center")
            y -= 1.15 * line
            continue
        if kind == "note":
            ax.text(0, y, label, fontsize=7 * scale, color="#555555", va="center")
            y -= line
            continue
        if kind in ("cell", "hull"):
            hull = kind == "hull"
            ax.add_patch(
                Rectangle(
                    (0, y - 0.36 * line),
                    key_w,
                    0.72 * line,
                    facecolor="none" if hull else color,
                    edgecolor=color if hull else "#999999",
                    linewidth=(1.4 if hull else 0.4) * scale,
                    linestyle=HULL_STYLE if hull else "solid",
                )
            )
        elif kind == "park":
            ax.plot([0, key_w], [y, y], color=color, lw=0.9 * scale)
        ax.text(text_x, y, label, fontsize=7.5 * scale, va="center")
        y -= line
    return y


def cluster_table_rows(
    clusters: ClusterAnalysis, setup: FontSetup, n: int = TOP_CLUSTERS
) -> list[list[str]]:
    """Rows of the largest clusters by investment (then by projects): number, projects,
    investment (亿元), hull area (km²), dominant industry."""
    table = clusters.clusters.clusters
    if not len(table):
        return []
    ordered = table.sort_values(
        ["investment_100m_cny", "projects", "cluster_id"],
        ascending=[False, False, True],
        kind="stable",
    ).head(n)
    return [
        [
            str(int(r["cluster_id"])),
            str(int(r["projects"])),
            fmt_number(float(r["investment_100m_cny"])),
            fmt_number(float(r["hull_area_km2"])),
            # Whole: the table wraps or shortens a cell only when its column is too narrow.
            setup.safe(r.get("dominant_industry"), "") or "–",
        ]
        for _, r in ordered.iterrows()
    ]


def _lisa_line(clusters: ClusterAnalysis, lang: str) -> str:
    from parkmap.cluster.summary import hot_spots_untested

    if hot_spots_untested(clusters, lang=lang) is not None:
        return texts(lang, "sheet")["lisa_untested"]
    quads = clusters.hexes.cells["lisa_quadrant"].value_counts()
    return texts(lang, "sheet")["lisa_counts"].format(
        **{q.lower(): int(quads.get(q, 0)) for q in ("HH", "LL", "HL", "LH")}
    )


# ---------------------------------------------------------------------------------------------
# The page


def hotspot_page(
    data: MapData,
    clusters: ClusterAnalysis,
    setup: FontSetup,
    *,
    sheet: Sheet,
    caption: str | None,
) -> Figure:
    """The hot-spot and cluster page of the atlas.

    Parameters
    ----------
    data
        The prepared map layers (:func:`parkmap.export.static_map.prepare`).
    clusters
        From :func:`parkmap.cluster.cluster_analysis` on the same projects and parks.
    setup
        Font and label language.
    sheet
        Paper and orientation.
    caption
        Line under the map (审图号, source), or ``None``.

    Returns
    -------
    matplotlib.figure.Figure
        The page; its first axes is the map.
    """
    from parkmap.cluster.summary import clusters_sentence, moran_sentence

    lang = setup.lang
    t = texts(lang, "map", "sheet")
    scale = sheet.scale
    width_in, height_in = sheet.inches
    map_box: Rect
    legend_box: Rect
    table_box: Rect
    if sheet.orientation == "landscape":
        map_box = (0.03, 0.085, 0.58, 0.80)
        legend_box = (0.64, 0.50, 0.34, 0.385)
        table_box = (0.64, 0.085, 0.34, 0.40)
    else:
        map_box = (0.05, 0.40, 0.90, 0.49)
        legend_box = (0.05, 0.075, 0.43, 0.30)
        table_box = (0.52, 0.075, 0.45, 0.30)
    layers = hotspot_layers(clusters, data)
    fig = Figure(figsize=sheet.inches)
    ax = fig.add_axes(map_box)
    extent = fit_extent(
        _bounds(data, layers), map_box[2] * width_in, map_box[3] * height_in, pad=0.1
    )
    draw_hotspot_map(ax, data, layers, setup, extent=extent, scale=scale)
    draw_hotspot_legend(fig.add_axes(legend_box), legend_rows(clusters, lang), scale=scale)
    subtitle = moran_sentence(clusters, lang=lang)
    header_footer(
        fig, setup, data, title=t["hot_title"], subtitle=subtitle, caption=caption, scale=scale
    )
    info = fig.add_axes(table_box)
    info.set_axis_off()
    params = clusters.clusters.params
    counted = t["clusters_count"].format(
        n=int(params.get("clusters", 0)), noise=int(params.get("noise_projects", 0))
    )
    too_few = params.get("result") == "too_few_points"
    lines = [
        (_lisa_line(clusters, lang), "normal"),
        (clusters_sentence(clusters, lang=lang) if too_few else counted, "normal"),
        (t["top_clusters"].format(n=TOP_CLUSTERS), "bold"),
    ]
    y = 1.0
    for text, weight in lines:
        info.text(
            0.0, y, text, fontsize=8 * scale, fontweight=weight, va="top", transform=info.transAxes
        )
        y -= 0.075
    body = cluster_table_rows(clusters, setup)
    if not body:
        if not too_few:  # "no clusters found" only when they were looked for
            info.text(
                0.0, y, t["no_clusters"], fontsize=8 * scale, va="top", transform=info.transAxes
            )
        return fig
    table_ax = fig.add_axes((table_box[0], table_box[1], table_box[2], table_box[3] * (y - 0.01)))
    table_ax.set_axis_off()
    header = [
        t["col_cluster"],
        t["projects"],
        t["col_investment"],
        t["col_hull"],
        t["col_dominant"],
    ]
    draw_table(table_ax, header, body, [0.12, 0.14, 0.24, 0.22, 0.28], scale)
    return fig

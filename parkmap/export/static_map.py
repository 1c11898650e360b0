"""Static maps for print: parks by density class, projects sized by investment, legend in real
units, a true scale bar and a north arrow, drawn with matplotlib in the data's metric CRS.

The map is drawn in the Gauss–Krüger CRS :func:`parkmap.coords.metric_crs_for` picks, so one map
unit is one metre on the grid; the scale bar is still measured geodesically
(:func:`parkmap.export.cartography.scale_bar`).
"""

from __future__ import annotations

import datetime as _dt
import io as _io
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeAlias

import geopandas as gpd
import matplotlib.patheffects as pe
import numpy as np
import pandas as pd
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from pyproj import CRS

from parkmap.classes import NO_DATA, NO_PROJECTS, Classes, classify
from parkmap.coords import metric_crs_for
from parkmap.errors import InputError, UsageError
from parkmap.export.cartography import (
    bar_km_for,
    legend_sizes,
    marker_radius_pt,
    scale_bar,
    true_north_angle,
)
from parkmap.export.labels import (
    FittedTable,
    LabelPlacer,
    LabelRequest,
    emptiest_corners,
    fit_table,
)
from parkmap.export.paper import paper_inches, paper_mm, pixel_size, raster_inches
from parkmap.fonts import FontSetup
from parkmap.i18n import crs_words, fmt_number, park_name, scheme_label, texts, with_unit
from parkmap.metrics import INVESTMENT, STATUS, unknown_figures
from parkmap.settings import STATUSES, WGS84
from parkmap.style import NO_DATA_COLOR, NO_PROJECTS_COLOR, STATUS_COLORS
from parkmap.write import atomic_write

DENSITY_COLUMN = "density_100m_cny_per_km2"
FORMATS = ("png", "svg", "pdf")
CONTEXT_GREY = "#8c8c8c"
PARK_EDGE = "#5a3d2b"

#: (minx, miny, maxx, maxy) of a map panel, in map units.
Extent: TypeAlias = tuple[float, float, float, float]
#: (left, bottom, width, height) of an axes, as fractions of the sheet.
Rect: TypeAlias = tuple[float, float, float, float]
#: One legend row: kind, colour (for a ``size`` row: its investment, 亿元), label, and a count
#: (for a ``size`` row: the top of the size scale) or ``None``.
LegendRow: TypeAlias = tuple[str, str | float | None, str, float | None]


@dataclass
class MapData:
    """Everything a static map draws, projected to one metric CRS.

    Attributes
    ----------
    crs
        The metric CRS of the drawing (CGCS2000 Gauss–Krüger for Qingdao, EPSG:4549).
    parks, projects, context
        Layers in ``crs``; ``context`` may be empty.
    classes
        Park density classes from :func:`parkmap.classes.classify`.
    inv_max
        Largest known investment (亿元), the top of the marker size scale.
    notes
        Data notes (schematic boundaries, synthetic projects) in the map's language.
    unknown
        Figures the file says nothing about (:func:`parkmap.metrics.unknown_figures`): the
        legend says so instead of showing zeros.
    """

    crs: CRS
    parks: gpd.GeoDataFrame
    projects: gpd.GeoDataFrame
    context: gpd.GeoDataFrame
    classes: Classes
    inv_max: float | None
    notes: list[str] = field(default_factory=list)
    unknown: frozenset[str] = frozenset()
    #: The context layer is the user's (``--context``), not the bundled district outlines.
    users_context: bool = False

    @property
    def park_colors(self) -> list[str]:
        """Fill of each park: class colour, grey without data, light grey without projects."""
        return [
            self.classes.color_of(int(c), NO_DATA_COLOR, NO_PROJECTS_COLOR) for c in self.classes.yb
        ]


def prepare(
    parks: gpd.GeoDataFrame,
    projects: gpd.GeoDataFrame,
    context: gpd.GeoDataFrame | None,
    *,
    scheme: str,
    k: int,
    lang: str,
) -> MapData:
    """Project the layers to the metric CRS and classify park density.

    Raises
    ------
    InputError
        When there are neither parks nor projects to draw.
    """
    if DENSITY_COLUMN not in parks.columns:
        raise InputError(f"parks lacks column {DENSITY_COLUMN}")
    lons = []
    if len(parks):
        west, _, east, _ = _wgs84(parks).total_bounds
        lons += [west, east]
    if len(projects):
        lons += list(pd.to_numeric(projects.get("lon"), errors="coerce").dropna())
    if not lons or not np.isfinite(lons).any():
        raise InputError("nothing to map: no park outlines and no project coordinates")
    crs = metric_crs_for(lons)
    located = projects[~(projects.geometry.isna() | projects.geometry.is_empty)]
    inv = pd.to_numeric(located["investment_100m_cny"], errors="coerce")
    finite = inv[np.isfinite(inv)]
    inv_max = float(finite.max()) if len(finite) and finite.max() > 0 else None
    ctx = context if context is not None else gpd.GeoDataFrame(geometry=[], crs=WGS84)
    unknown = unknown_figures(parks)
    density = parks[DENSITY_COLUMN].to_numpy(dtype=float)
    if INVESTMENT in unknown:
        density = np.full(len(parks), np.nan)  # no amounts: every park is "no data"
    # A park without projects is "no projects", as on the web map, not the lowest class.
    no_projects = None
    if "projects" in parks.columns:
        no_projects = (pd.to_numeric(parks["projects"], errors="coerce").fillna(0) == 0).to_numpy()
    return MapData(
        crs=crs,
        parks=_wgs84(parks).to_crs(crs),
        projects=_wgs84(located).to_crs(crs),
        context=_wgs84(ctx).to_crs(crs),
        classes=classify(density, scheme, k, exclude=no_projects),
        inv_max=inv_max,
        notes=data_notes(parks, projects, lang),
        unknown=unknown,
        users_context=bool(ctx.attrs.get("user")),
    )


def _wgs84(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    if frame.crs is None:
        return frame.set_crs(WGS84)
    return frame if frame.crs.equals(WGS84) else frame.to_crs(WGS84)


def data_notes(parks: pd.DataFrame, projects: pd.DataFrame, lang: str) -> list[str]:
    """The web map's data notes: schematic boundaries, synthetic projects."""
    t = texts(lang)
    notes = []
    if "accuracy" in parks.columns and (parks["accuracy"].astype(str) == "schematic").any():
        notes.append(t["note_schematic"])
    if "source" in projects.columns:
        source = projects["source"].astype(str).str.strip().str.lower()
        synthetic = int((source == "synthetic").sum())
        if synthetic:
            notes.append(t["note_synthetic"].format(n=synthetic))
    return notes


# ---------------------------------------------------------------------------------------------
# Labels


def park_label(row: pd.Series, setup: FontSetup) -> str:
    """The park's name in the sheet's language (:func:`parkmap.i18n.park_name`), or its id where
    the font cannot draw the name."""
    return setup.safe(park_name(row, setup.lang), row["park_id"])


def status_label(status: str, lang: str) -> str:
    """Display label of a status."""
    return texts(lang).get(f"status_{status}", status)


# ---------------------------------------------------------------------------------------------
# Drawing


def fit_extent(bounds: Sequence[float], box_w: float, box_h: float, pad: float = 0.06) -> Extent:
    """Grow ``bounds`` (minx, miny, maxx, maxy) by ``pad`` and to the aspect of a ``box_w`` ×
    ``box_h`` box, so one map unit is as long across as up."""
    minx, miny, maxx, maxy = (float(v) for v in bounds)
    w, h = max(maxx - minx, 1.0), max(maxy - miny, 1.0)
    cx, cy = (minx + maxx) / 2, (miny + maxy) / 2
    w, h = w * (1 + 2 * pad), h * (1 + 2 * pad)
    if w / h < box_w / box_h:
        w = h * box_w / box_h
    else:
        h = w * box_h / box_w
    return cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2


def data_bounds(data: MapData, park_ids: Sequence[str] | None = None) -> tuple[float, ...]:
    """Bounds of the parks and projects (of ``park_ids`` only, when given)."""
    parks, projects = data.parks, data.projects
    if park_ids is not None:
        ids = set(park_ids)
        parks = parks[parks["park_id"].isin(ids)]
        member = projects["park_ids"].astype(str).str.split(";")
        projects = projects[member.map(lambda xs: bool(ids.intersection(xs)))]
    boxes = [f.total_bounds for f in (parks, projects) if len(f)]
    box = np.array([b for b in boxes if np.isfinite(b).all()])
    if not len(box):
        raise InputError("nothing to map: no park outlines and no project coordinates")
    return box[:, 0].min(), box[:, 1].min(), box[:, 2].max(), box[:, 3].max()


def halo_text(make, *args: object, width: float, zorder: float, **kwargs: object):
    """Draw text with a white outline that keeps it readable over fills and markers.

    Two artists: a white copy drawn as stroked outlines underneath (matplotlib renders text with
    path effects as paths), then the plain text on top, so PDF text stays extractable.
    ``make`` is ``ax.text`` or ``ax.annotate``.
    """
    under = {**kwargs, "color": "white", "zorder": zorder - 0.01}
    under["path_effects"] = [pe.Stroke(linewidth=width, foreground="white")]
    make(*args, **under)
    return make(*args, **kwargs, zorder=zorder)


@dataclass(frozen=True)
class LabelStyle:
    """How a name centred on a map point looks; sizes are for A4 and grow with the sheet.

    Attributes
    ----------
    size, halo
        Font size and width of the white halo, in points.
    weight
        Font weight.
    va
        Vertical alignment to the point.
    clip
        Whether the label is cut at the map frame.
    """

    size: float
    color: str
    zorder: float
    halo: float = 2.0
    weight: str = "normal"
    va: str = "center"
    clip: bool = False


#: Park names on the map sheets: the park in focus (or every park on the overview), the others.
PARK_LABEL = LabelStyle(8.5, "#222222", 6, halo=2.5, weight="bold", clip=True)
PARK_LABEL_FAINT = LabelStyle(7, "#555555", 6, halo=2.5, clip=True)
#: District names, large and light, under everything else.
DISTRICT_LABEL = LabelStyle(11, "#a0a0a0", 1)


def halo_label(ax: Axes, x: float, y: float, text: str, style: LabelStyle, scale: float) -> None:
    """Draw ``text`` centred at (x, y) in map units, with a white halo (:func:`halo_text`)."""
    halo_text(
        ax.text,
        x,
        y,
        text,
        fontsize=style.size * scale,
        fontweight=style.weight,
        color=style.color,
        ha="center",
        va=style.va,
        zorder=style.zorder,
        width=style.halo * scale,
        clip_on=style.clip,
    )


def frame_axes(ax: Axes, extent: Extent, scale: float) -> None:
    """Set a map panel's extent (equal aspect), hide ticks, draw a thin frame."""
    minx, miny, maxx, maxy = extent
    ax.set_xlim(minx, maxx)
    ax.set_ylim(miny, maxy)
    ax.set_aspect("equal", adjustable="box")
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_linewidth(0.6 * scale)
        spine.set_color("#444444")
    ax.set_facecolor("#fbfbf8")


def sheet_inches(ax: Axes) -> tuple[float, float]:
    """Width and height (inches) of the sheet (the root figure) that ``ax`` is drawn on.

    Raises
    ------
    ValueError
        When ``ax`` is not on a figure.
    """
    fig = ax.get_figure(root=True)
    if fig is None:
        raise ValueError("the axes are not on a figure")
    width, height = fig.get_size_inches()
    return float(width), float(height)


def draw_map(
    ax: Axes,
    data: MapData,
    setup: FontSetup,
    *,
    extent: Extent,
    scale: float = 1.0,
    focus: str | None = None,
    label_parks: bool = True,
) -> LabelPlacer:
    """Draw context, parks, projects, scale bar and north arrow into ``ax``.

    Parameters
    ----------
    extent
        (minx, miny, maxx, maxy) in map units, already at the axes' aspect (:func:`fit_extent`).
    scale
        Multiplier for marker sizes, line widths and text (1 on A4).
    focus
        A park id to emphasise (atlas pages): the other parks are drawn fainter.

    Returns
    -------
    LabelPlacer
        The placement pass that drew the labels (:mod:`parkmap.export.labels`): the labels
        placed, those left off, and the boxes of the north arrow and scale bar.

    Notes
    -----
    Park fills lie under the project markers, and the park outlines above them (zorder
    :data:`PARK_OUTLINE_Z` > :data:`MARKER_Z`); a small park crowded with markers gets its fill
    again over them, translucent (:data:`CROWDED_SHARE`), so no park disappears. The scale bar
    and north arrow go to the corners emptiest of data (:func:`furniture_corners`); the labels
    are then placed around them.
    """
    minx, miny, maxx, maxy = extent
    frame_axes(ax, extent, scale)
    placer = LabelPlacer(ax, scale)
    draw_context(ax, data, setup, scale, label_districts=focus is None, placer=placer)
    colors = np.array(data.park_colors, dtype=object)
    geoms = data.parks.geometry
    drawn = ~(geoms.isna() | geoms.is_empty).to_numpy()
    ids = data.parks["park_id"].astype(str).to_numpy()
    faint = (ids != focus) if focus is not None else np.zeros(len(ids), dtype=bool)
    for group, fill, line, width in ((~faint, 0.85, 1.0, 1.2), (faint, 0.45, 0.6, 0.6)):
        chosen = drawn & group
        if not chosen.any():
            continue
        parks = data.parks.geometry[chosen]  # one call per group: quicker than one per park
        parks.plot(ax=ax, color=list(colors[chosen]), edgecolor="none", alpha=fill, zorder=2)
        parks.boundary.plot(
            ax=ax, color=PARK_EDGE, linewidth=width * scale, alpha=line, zorder=PARK_OUTLINE_Z
        )
    for pid, geom in zip(ids[drawn], geoms[drawn], strict=True):
        placer.add_area(placer.geometry_box(geom), pid)
    crowded = _draw_projects(ax, data, scale, placer)
    veiled = drawn & ~faint & np.isin(ids, list(crowded))
    if veiled.any():
        data.parks.geometry[veiled].plot(
            ax=ax,
            color=list(colors[veiled]),
            edgecolor="none",
            alpha=CROWDED_FILL_ALPHA,
            zorder=CROWDED_FILL_Z,
        )
    ax.set_xlabel("")
    ax.set_ylabel("")
    bar_corner, arrow_corner = furniture_corners(ax, data, extent, scale)
    draw_scale_bar(ax, data.crs, extent, scale, corner=bar_corner, placer=placer)
    draw_north_arrow(ax, data.crs, extent, setup, scale, corner=arrow_corner, placer=placer)
    if label_parks:
        rank_column = data.parks["rank"] if "rank" in data.parks.columns else None
        ranks = (
            pd.to_numeric(rank_column, errors="coerce").astype(float).to_numpy()
            if rank_column is not None
            else np.full(len(data.parks), np.nan)
        )
        for i, (_, row) in enumerate(data.parks.iterrows()):
            geom = row.geometry
            if geom is None or geom.is_empty:
                continue
            p = geom.representative_point()
            if not (minx <= p.x <= maxx and miny <= p.y <= maxy):
                continue
            emphasis = focus is None or row["park_id"] == focus
            style = PARK_LABEL if emphasis else PARK_LABEL_FAINT
            rank = float(ranks[i])
            placer.request(
                LabelRequest(
                    park_label(row, setup),
                    placer.geometry_box(geom),
                    fontsize=style.size * scale,
                    weight=style.weight,
                    color=style.color,
                    zorder=style.zorder,
                    halo=style.halo,
                    priority=(0 if emphasis else 50) + (rank if math.isfinite(rank) else 40),
                    inside_ok=None,
                    inside_at=placer.to_display(p.x, p.y),
                    owner=str(row["park_id"]),
                    geometry=geom,
                )
            )
    placer.place()
    dropped = [r.text for r in placer.dropped if r.required]
    if dropped:
        t = texts(setup.lang, "sheet")
        note = t["labels_dropped"].format(names=t["list_sep"].join(dropped))
        ax.text(
            1.0,
            -0.008,
            note,
            transform=ax.transAxes,
            ha="right",
            va="top",
            fontsize=6.5 * scale,
            color="#555555",
        )
    return placer


#: Park outlines lie above the project markers, which lie above the park fills.
MARKER_Z = 4.0
PARK_OUTLINE_Z = 4.8
#: ``gid`` of the scale bar's and north arrow's artists (kept free of labels).
SCALE_BAR_GID = "scale-bar"
NORTH_ARROW_GID = "north-arrow"
#: A park is crowded when its markers' area on the sheet exceeds this share of its own; its fill
#: is then laid again over its markers at :data:`CROWDED_FILL_ALPHA` (zorder
#: :data:`CROWDED_FILL_Z`), so its class colour reads and the markers show through.
CROWDED_SHARE = 0.5
CROWDED_FILL_ALPHA = 0.7
CROWDED_FILL_Z = 4.7


def _crowded_parks(ax: Axes, data: MapData, owners: np.ndarray, radius_pt: np.ndarray) -> set[str]:
    """Parks whose projects' markers cover more than :data:`CROWDED_SHARE` of their area."""
    fig = ax.get_figure(root=True)
    if fig is None or not len(data.parks):
        return set()
    (x0, _), (x1, _) = ax.transData.transform([(0.0, 0.0), (1.0, 0.0)])
    pt_per_unit = abs(x1 - x0) * 72.0 / float(fig.dpi)  # points per map metre
    marker_area = pd.Series(np.pi * radius_pt**2).groupby(owners).sum()
    crowded = set()
    for _, row in data.parks.iterrows():
        geom, pid = row.geometry, str(row["park_id"])
        if geom is None or geom.is_empty or pid not in marker_area.index:
            continue
        if marker_area[pid] > CROWDED_SHARE * geom.area * pt_per_unit**2:
            crowded.add(pid)
    return crowded


def furniture_corners(ax: Axes, data: MapData, extent: Extent, scale: float) -> tuple[str, str]:
    """Corners for the scale bar and the north arrow: those with the least data under them.

    Occupancy of a corner box: park area in it (as a share of the box, weighted 50), projects in
    it, and context points (city seats, airport) with their names, weighted 3.
    """
    minx, miny, maxx, maxy = extent
    w, h = maxx - minx, maxy - miny
    ax_h_pt = ax.get_position().height * sheet_inches(ax)[1] * 72
    bar_len = bar_km_for(w) * 1000 / w
    bar_size = (bar_len + 0.1, 0.13)
    arrow_size = (0.1, (40 * scale) / ax_h_pt + 0.12)
    parks = data.parks.geometry[~(data.parks.geometry.isna() | data.parks.geometry.is_empty)]
    park_union = parks.union_all() if len(parks) else None
    px = data.projects.geometry.x.to_numpy() if len(data.projects) else np.array([])
    py = data.projects.geometry.y.to_numpy() if len(data.projects) else np.array([])
    ctx = data.context
    points = ctx[ctx.geometry.geom_type == "Point"] if len(ctx) else ctx
    cx = points.geometry.x.to_numpy() if len(points) else np.array([])
    cy = points.geometry.y.to_numpy() if len(points) else np.array([])

    def occupancy(frac: tuple[float, float, float, float]) -> float:
        x0, y0 = minx + frac[0] * w, miny + frac[1] * h
        x1, y1 = minx + frac[2] * w, miny + frac[3] * h
        score = float(np.sum((px >= x0) & (px <= x1) & (py >= y0) & (py <= y1)))
        # a city seat's name runs to its right: count the point a little further left too
        score += 3.0 * float(
            np.sum((cx >= x0 - 0.12 * w) & (cx <= x1) & (cy >= y0 - 0.02 * h) & (cy <= y1))
        )
        if park_union is not None:
            corner = gpd.GeoSeries.from_xy([x0, x1], [y0, y1]).union_all().envelope
            score += 50.0 * park_union.intersection(corner).area / max(corner.area, 1.0)
        return score

    return emptiest_corners(occupancy, bar_size, arrow_size)


def draw_context(
    ax: Axes,
    data: MapData,
    setup: FontSetup,
    scale: float,
    *,
    label_districts: bool = True,
    placer: LabelPlacer | None = None,
) -> None:
    """Draw the context layer (district outlines, city seats, airport) under the parks.

    The names are queued on ``placer`` (placed after the parks' names, which come first);
    without one they are placed at once.
    """
    ctx = data.context
    if not len(ctx):
        return
    own = placer is None
    placer = placer if placer is not None else LabelPlacer(ax, scale)
    polys = ctx[ctx.geometry.geom_type.isin(["Polygon", "MultiPolygon"])]
    if len(polys):
        polys.boundary.plot(
            ax=ax, color=CONTEXT_GREY, linewidth=0.8 * scale, linestyle=(0, (4, 2)), zorder=1
        )
    (minx, maxx), (miny, maxy) = ax.get_xlim(), ax.get_ylim()
    for _, row in ctx.iterrows():
        geom = row.geometry
        if geom is None or geom.is_empty:
            continue
        label = setup.safe(park_name(row, setup.lang))
        if geom.geom_type == "Point":
            if not (minx <= geom.x <= maxx and miny <= geom.y <= maxy):
                continue
            marker = "^" if row.get("kind") == "airport" else "s"
            ax.plot(geom.x, geom.y, marker=marker, ms=4 * scale, color=CONTEXT_GREY, zorder=1.5)
            symbol = placer.point_box(geom.x, geom.y, 2.5 * scale)
            placer.add_markers(
                np.array([geom.x]), np.array([geom.y]), np.array([2.5 * scale]), np.array([None])
            )
            if label:
                placer.request(
                    LabelRequest(
                        label,
                        symbol,
                        fontsize=6.5 * scale,
                        color="#666666",
                        zorder=1.5,
                        halo=2.0,
                        priority=100,
                        inside_ok=False,
                        required=False,
                        order="point",
                        gaps=(1.0, 4.0, 8.0),
                    )
                )
        elif row.get("kind") == "district" and label_districts and label:
            inside = geom.intersection(
                gpd.GeoSeries.from_xy([minx, maxx], [miny, maxy]).union_all().envelope
            )
            if inside.is_empty:
                continue
            p = inside.representative_point()
            style = DISTRICT_LABEL
            placer.request(
                LabelRequest(
                    label,
                    placer.point_box(p.x, p.y, 0.5),
                    fontsize=style.size * scale,
                    weight=style.weight,
                    color=style.color,
                    zorder=style.zorder,
                    halo=style.halo,
                    priority=200,
                    inside_ok=True,
                    required=False,
                    gaps=(10.0, 25.0, 40.0),
                )
            )
    if own:
        placer.place()


def _draw_projects(
    ax: Axes, data: MapData, scale: float, placer: LabelPlacer | None = None
) -> set[str]:
    """Project markers, largest first; return the ids of the parks they crowd
    (:func:`_crowded_parks`)."""
    projects = data.projects
    if not len(projects):
        return set()
    inv = pd.to_numeric(projects["investment_100m_cny"], errors="coerce").to_numpy(dtype=float)
    order = np.argsort(-np.nan_to_num(inv, nan=-1.0), kind="stable")
    xs = projects.geometry.x.to_numpy()[order]
    ys = projects.geometry.y.to_numpy()[order]
    inv = inv[order]
    colors = np.array(
        [STATUS_COLORS.get(str(s), STATUS_COLORS["unknown"]) for s in projects["status"]]
    )[order]
    owners = (
        projects["park_ids"].fillna("").astype(str).str.split(";").str[0].to_numpy(dtype=object)
        if "park_ids" in projects.columns
        else np.full(len(projects), "", dtype=object)
    )[order]
    radius = marker_radius_pt(inv, data.inv_max, scale)
    known = np.isfinite(inv)
    ax.scatter(
        xs[known],
        ys[known],
        s=(2 * radius[known]) ** 2,
        c=colors[known],
        edgecolors="white",
        linewidths=0.5 * scale,
        alpha=0.88,
        zorder=MARKER_Z,
    )
    if (~known).any():
        ax.scatter(
            xs[~known],
            ys[~known],
            s=(2 * radius[~known]) ** 2,
            facecolors="none",
            edgecolors=colors[~known],
            linewidths=1.5 * scale,
            zorder=MARKER_Z + 0.5,
        )
    if placer is not None:
        placer.add_markers(xs, ys, radius, owners)
    return _crowded_parks(ax, data, owners, radius)


def draw_scale_bar(
    ax: Axes,
    crs: CRS,
    extent: Extent,
    scale: float = 1.0,
    *,
    corner: str = "lower left",
    placer: LabelPlacer | None = None,
) -> list[Artist]:
    """A two-part bar in km in a ``corner`` of the map (lower left by default) on a white
    ground; its length is geodesic (true on the ground).

    Returns
    -------
    list of Artist
        What was drawn; with ``placer`` those become boxes no label may touch.
    """
    minx, miny, maxx, maxy = extent
    w, h = maxx - minx, maxy - miny
    km = bar_km_for(w)
    right, upper = "right" in corner, "upper" in corner
    length = scale_bar(crs, minx + 0.04 * w, miny + 0.05 * h, km).length_map
    ground_w, ground_h = length + 0.05 * w, 0.085 * h
    gx = maxx - 0.025 * w - ground_w if right else minx + 0.025 * w
    gy = maxy - 0.02 * h - ground_h if upper else miny + 0.02 * h
    bar = scale_bar(crs, gx + 0.015 * w, gy + 0.03 * h, km)
    height = 0.009 * h
    half = bar.length_map / 2
    drawn: list[Artist] = [
        ax.add_patch(
            Rectangle(
                (gx, gy),
                bar.length_map + 0.05 * w,
                ground_h,
                facecolor="white",
                edgecolor="none",
                alpha=0.8,
                zorder=7,
            )
        )
    ]
    for i, color in enumerate(("#222222", "white")):
        drawn.append(
            ax.add_patch(
                Rectangle(
                    (bar.x0 + i * half, bar.y0),
                    half,
                    height,
                    facecolor=color,
                    edgecolor="#222222",
                    linewidth=0.6 * scale,
                    zorder=8,
                )
            )
        )
    for frac in (0.0, 0.5, 1.0):
        value = km * frac
        text = f"{value:g}" + (" km" if frac == 1.0 else "")
        drawn.append(
            ax.text(
                bar.x0 + frac * bar.length_map,
                bar.y0 + height * 1.8,
                text,
                fontsize=7 * scale,
                ha="center",
                va="bottom",
                zorder=8,
            )
        )
    for artist in drawn:
        artist.set_gid(SCALE_BAR_GID)
    if placer is not None:
        placer.add_obstacles(drawn)
    return drawn


def draw_north_arrow(
    ax: Axes,
    crs: CRS,
    extent: Extent,
    setup: FontSetup,
    scale: float = 1.0,
    *,
    corner: str = "upper right",
    placer: LabelPlacer | None = None,
) -> float:
    """An arrow in a ``corner`` of the map (upper right by default) pointing to true north
    (meridian convergence applied); with ``placer`` its box is kept free of labels.

    Returns
    -------
    float
        The arrow's angle, degrees clockwise from grid north (up).
    """
    minx, miny, maxx, maxy = extent
    angle = true_north_angle(crs, (minx + maxx) / 2, (miny + maxy) / 2)
    t = texts(setup.lang, "sheet")
    length = 22 * scale
    a = math.radians(angle)
    if "upper" in corner:
        tip_y = 0.90
    else:
        box = ax.get_position()
        ax_h_pt = box.height * sheet_inches(ax)[1] * 72
        tip_y = 0.04 + (length + 4 * scale) / ax_h_pt
    tip = (0.955 if "right" in corner else 0.045, tip_y)
    arrow = ax.annotate(
        "",
        xy=tip,
        xycoords="axes fraction",
        xytext=(-length * math.sin(a), -length * math.cos(a)),
        textcoords="offset points",
        arrowprops={
            "arrowstyle": "-|>,head_width=0.45,head_length=0.9",
            "color": "#222222",
            "lw": 1.6 * scale,
        },
        zorder=9,
    )
    letter = halo_text(
        ax.annotate,
        t["north"],
        xy=tip,
        xycoords="axes fraction",
        xytext=(4 * scale * math.sin(a), 4 * scale * math.cos(a)),
        textcoords="offset points",
        ha="center",
        va="bottom",
        fontsize=10 * scale,
        fontweight="bold",
        zorder=9,
        width=2 * scale,
    )
    parts = [letter, *([arrow.arrow_patch] if arrow.arrow_patch else [])]
    for artist in parts:
        artist.set_gid(NORTH_ARROW_GID)
    if placer is not None:
        placer.add_obstacles(parts)
    return angle


# ---------------------------------------------------------------------------------------------
# Legend


def draw_legend(
    ax: Axes,
    data: MapData,
    setup: FontSetup,
    *,
    scale: float = 1.0,
    columns: int = 1,
) -> None:
    """Legend in real units: density classes (亿元/km²), statuses, marker sizes (亿元)."""
    lang = setup.lang
    t = texts(lang, "map", "sheet")
    ax.set_axis_off()
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    bbox = ax.get_position()
    fig_h = sheet_inches(ax)[1]
    line = 14 * scale / (bbox.height * fig_h * 72)
    blocks = _legend_blocks(data, lang, t)
    # One block per column; the blocks left over share the last column.
    for col in range(columns):
        x0 = col / columns
        y = 1.0 - 0.5 * line
        chosen = blocks[col : col + 1] if col < columns - 1 else blocks[col:]
        for title, rows in chosen:
            if columns > 1:
                # A narrow column breaks a title before its unit where the language puts a
                # space there ("Investment (100M CNY)"; "投资额（亿元）" stays one line).
                title = title.replace(" (", "\n(")
            n_lines = title.count("\n") + 1
            y -= 0.6 * line * (n_lines - 1)
            ax.text(x0, y, title, fontsize=9 * scale, fontweight="bold", va="center")
            y -= 1.15 * line + 0.6 * line * (n_lines - 1)
            for kind, color, label, extra in rows:
                y = _legend_row(ax, x0, y, line, kind, color, label, extra, scale)
            y -= 0.6 * line


def _legend_blocks(
    data: MapData, lang: str, t: dict[str, str]
) -> list[tuple[str, list[LegendRow]]]:
    classes = data.classes
    parks_rows: list[LegendRow] = [
        ("patch", color, label, count)
        for color, label, count in zip(
            classes.colors, classes.labels(lambda v: fmt_number(v)), classes.counts, strict=True
        )
    ]
    missing = int((classes.yb == NO_DATA).sum())
    if missing:
        label = t["no_investment_data" if INVESTMENT in data.unknown else "no_data"]
        parks_rows.append(("patch", NO_DATA_COLOR, label, missing))
    empty = int((classes.yb == NO_PROJECTS).sum())
    if empty:
        parks_rows.append(("patch", NO_PROJECTS_COLOR, t["legend_no_projects"], empty))
    if classes.k:
        parks_rows.append(("note", None, scheme_label(lang, classes.scheme_name, classes.k), None))
    status = data.projects["status"].astype(str) if len(data.projects) else pd.Series([], dtype=str)
    status_rows: list[LegendRow] = [
        ("dot", STATUS_COLORS[s], t[f"status_{s}"], int((status == s).sum()))
        for s in STATUSES
        if (status == s).any()
    ]
    if STATUS in data.unknown and len(status):
        status_rows = [("dot", STATUS_COLORS["unknown"], t["no_status_data"], len(status))]
    sizes: list[LegendRow] = [
        ("size", v, f"{v:g}", data.inv_max) for v in legend_sizes(data.inv_max)
    ]
    inv = pd.to_numeric(data.projects.get("investment_100m_cny"), errors="coerce")
    if len(data.projects) and inv.isna().any():
        sizes.append(("hollow", None, t["unknown_size"], int(inv.isna().sum())))
    blocks: list[tuple[str, list[LegendRow]]] = [
        (with_unit(lang, t["legend_parks"], t["unit_density"]), parks_rows),
        (t["legend_status"], status_rows),
        (with_unit(lang, t["legend_size"], t["unit_100m"]), sizes),
    ]
    if len(data.context):
        label = t["context_user"] if data.users_context else t["context"]
        blocks.append((t["layer_context"], [("line", CONTEXT_GREY, label, None)]))
    return [b for b in blocks if b[1]]


def _legend_row(
    ax: Axes,
    x0: float,
    y: float,
    line: float,
    kind: str,
    color: str | float | None,
    label: str,
    extra: float | None,
    scale: float,
) -> float:
    """Draw one legend row at height ``y`` (axes fraction); return the next row's height."""
    box = ax.get_position()
    fig_w, fig_h = sheet_inches(ax)
    paint = color if isinstance(color, str) else None  # a size row holds a number there
    # Wide enough for the largest marker: (3 + 13) px × 0.75 pt/px radius = 24 pt across.
    key = 26 * scale / (fig_w * box.width * 72)
    text_x = x0 + key * 1.4
    if kind == "note":
        ax.text(x0, y, label, fontsize=7 * scale, color="#555555", va="center")
        return y - line
    if kind in ("size", "hollow"):
        value, top = float("nan"), None
        if kind == "size" and isinstance(color, (int, float)) and extra is not None:
            value, top = float(color), float(extra)
        r = float(marker_radius_pt(np.array([value]), top, scale)[0])
        step = max(line, (2 * r + 3 * scale) / (fig_h * box.height * 72))
        y -= (step - line) / 2
        ax.scatter(
            [x0 + key / 2],
            [y],
            s=(2 * r) ** 2,
            c="none" if kind == "hollow" else "#bbbbbb",
            edgecolors="#555555" if kind == "hollow" else "white",
            linewidths=(1.5 if kind == "hollow" else 0.5) * scale,
            clip_on=False,
        )
        suffix = f"  ({extra})" if kind == "hollow" else ""
        ax.text(text_x, y, f"{label}{suffix}", fontsize=7.5 * scale, va="center")
        return y - (step + line) / 2
    if kind == "patch":
        ax.add_patch(
            Rectangle(
                (x0, y - 0.35 * line),
                key,
                0.7 * line,
                facecolor=paint,
                edgecolor=PARK_EDGE,
                linewidth=0.6 * scale,
                alpha=0.85,
            )
        )
    elif kind == "dot" and paint is not None:
        ax.scatter(
            [x0 + key / 2],
            [y],
            s=(2 * 4.5 * scale) ** 2,
            c=[paint],
            edgecolors="white",
            clip_on=False,
        )
    elif kind == "line":
        ax.plot([x0, x0 + key], [y, y], color=paint, lw=0.8 * scale, ls=(0, (4, 2)))
    suffix = f"  ({extra})" if isinstance(extra, int) else ""
    ax.text(text_x, y, f"{label}{suffix}", fontsize=7.5 * scale, va="center")
    return y - line


def draw_table(
    ax: Axes, header: list[str], body: list[list[str]], widths: list[float], scale: float
) -> FittedTable | None:
    """A plain table at the top left of ``ax``: grey header row, thin grey rules.

    Column widths come from the measured text (:func:`parkmap.export.labels.fit_table`), never
    wider than ``ax``; ``widths`` only shares out the room left over.
    """
    if not body:
        return None
    return fit_table(ax, header, body, fontsize=7.5 * scale, weights=widths)


# ---------------------------------------------------------------------------------------------
# The map sheet


@dataclass(frozen=True)
class Sheet:
    """A sheet of paper: size and the scale of text and symbols on it."""

    paper: str = "a4"
    orientation: str = "landscape"

    @property
    def inches(self) -> tuple[float, float]:
        """Figure size in inches (exact paper size)."""
        return paper_inches(self.paper, self.orientation)

    @property
    def scale(self) -> float:
        """Text and symbol scale: 1 on A4, √2 on A3."""
        return min(paper_mm(self.paper, self.orientation)) / 210.0


def header_footer(
    fig: Figure,
    setup: FontSetup,
    data: MapData,
    *,
    title: str,
    subtitle: str,
    caption: str | None,
    scale: float,
    on_map: bool = True,
) -> None:
    """Title and subtitle at the top; caption and data notes at the bottom left; the date at the
    bottom right, after the CRS and the north arrow's note on a page with a map (``on_map``)."""
    t = texts(setup.lang, "sheet")
    fig.text(0.03, 0.965, title, fontsize=17 * scale, fontweight="bold", va="top")
    fig.text(0.03, 0.915, subtitle, fontsize=9.5 * scale, color="#444444", va="top")
    left = [setup.safe(caption)] if caption else []
    left += list(data.notes)
    if left:
        fig.text(0.03, 0.045, " · ".join(left), fontsize=7.5 * scale, color="#333333", va="bottom")
    right = []
    if on_map:
        right += [t["crs"].format(crs=crs_words(data.crs, setup.lang)), t["north_note"]]
    right.append(t["date"].format(date=_dt.date.today().isoformat()))
    fig.text(0.97, 0.02, " · ".join(right), fontsize=6.5 * scale, color="#666666", ha="right")


def summary_line(parks: pd.DataFrame, projects: pd.DataFrame, lang: str) -> str:
    """``"5 个园区 · 160 个项目 · 合计 812 亿元"``; ``"… · 投资额未知"`` when the file has no
    amounts."""
    if INVESTMENT in unknown_figures(parks):
        return texts(lang)["summary_unknown_inv"].format(parks=len(parks), projects=len(projects))
    column = projects.get("investment_100m_cny")
    total = 0.0 if column is None else float(np.nansum(pd.to_numeric(column, errors="coerce")))
    return texts(lang)["summary"].format(
        parks=len(parks), projects=len(projects), investment=fmt_number(total)
    )


def map_figure(
    data: MapData,
    setup: FontSetup,
    *,
    sheet: Sheet,
    title: str,
    subtitle: str,
    caption: str | None = None,
) -> Figure:
    """The whole map sheet: map, legend, title, caption, notes, date."""
    fig = Figure(figsize=sheet.inches)
    scale = sheet.scale
    width_in, height_in = sheet.inches
    map_box: Rect
    legend_box: Rect
    if sheet.orientation == "landscape":
        map_box = (0.03, 0.085, 0.70, 0.80)
        legend_box = (0.755, 0.085, 0.225, 0.80)
        columns = 1
    else:
        map_box = (0.04, 0.30, 0.92, 0.585)
        legend_box = (0.04, 0.075, 0.92, 0.20)
        columns = 3
    ax = fig.add_axes(map_box)
    extent = fit_extent(data_bounds(data), map_box[2] * width_in, map_box[3] * height_in, pad=0.05)
    draw_map(ax, data, setup, extent=extent, scale=scale)
    draw_legend(fig.add_axes(legend_box), data, setup, scale=scale, columns=columns)
    header_footer(fig, setup, data, title=title, subtitle=subtitle, caption=caption, scale=scale)
    return fig


def figure_bytes(
    fig: Figure, fmt: str, *, dpi: float, pixels: tuple[int, int] | None = None
) -> bytes:
    """Render ``fig`` as ``png``, ``svg`` or ``pdf``.

    For PNG, ``pixels`` (from :func:`parkmap.export.paper.pixel_size`) fixes the raster size
    exactly; the figure keeps its layout because every position is a fraction of the sheet.
    """
    if fmt not in FORMATS:
        raise UsageError(f"unknown format {fmt!r}; choose from: {', '.join(FORMATS)}")
    buffer = _io.BytesIO()
    if fmt == "png" and pixels is not None:
        width, height = (float(v) for v in fig.get_size_inches())
        fig.set_size_inches(raster_inches(pixels[0], dpi), raster_inches(pixels[1], dpi))
        try:
            fig.savefig(buffer, format="png", dpi=dpi, facecolor="white")
        finally:
            fig.set_size_inches(width, height)
    else:
        meta = {"Creator": "parkmap"} if fmt == "pdf" else None
        fig.savefig(buffer, format=fmt, dpi=dpi, facecolor="white", metadata=meta)
    return buffer.getvalue()


def save_map_sheets(
    fig: Figure,
    out: Path,
    formats: Sequence[str],
    *,
    dpi: float,
    sheet: Sheet,
    stem: str = "map",
) -> dict[str, Path]:
    """Write the map sheet as ``<stem>.<fmt>`` (``map.png``, ``map.svg``, ``map.pdf``) for each
    format, atomically; return the paths by format."""
    written = {}
    pixels = pixel_size(sheet.paper, sheet.orientation, dpi)
    for fmt in formats:
        data = figure_bytes(fig, fmt, dpi=dpi, pixels=pixels)
        written[fmt] = atomic_write(Path(out) / f"{stem}.{fmt}", data)
    return written

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
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from pyproj import CRS

from parkmap.classes import Classes, classify
from parkmap.coords import metric_crs_for
from parkmap.errors import InputError, UsageError
from parkmap.export.cartography import (
    bar_km_for,
    legend_sizes,
    marker_radius_pt,
    scale_bar,
    true_north_angle,
)
from parkmap.export.paper import paper_inches, paper_mm, pixel_size, raster_inches
from parkmap.fonts import FontSetup
from parkmap.i18n import crs_words, fmt_number, park_name, scheme_label, texts, with_unit
from parkmap.metrics import INVESTMENT, STATUS, unknown_figures
from parkmap.settings import STATUSES, WGS84
from parkmap.style import NO_DATA_COLOR, STATUS_COLORS
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

    @property
    def park_colors(self) -> list[str]:
        """Fill colour of each park (class colour, grey without data)."""
        return [self.classes.color_of(int(c), NO_DATA_COLOR) for c in self.classes.yb]


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
    return MapData(
        crs=crs,
        parks=_wgs84(parks).to_crs(crs),
        projects=_wgs84(located).to_crs(crs),
        context=_wgs84(ctx).to_crs(crs),
        classes=classify(density, scheme, k),
        inv_max=inv_max,
        notes=data_notes(parks, projects, lang),
        unknown=unknown,
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
) -> None:
    """Draw context, parks, projects, scale bar and north arrow into ``ax``.

    Parameters
    ----------
    extent
        (minx, miny, maxx, maxy) in map units, already at the axes' aspect (:func:`fit_extent`).
    scale
        Multiplier for marker sizes, line widths and text (1 on A4).
    focus
        A park id to emphasise (atlas pages): the other parks are drawn fainter.
    """
    minx, miny, maxx, maxy = extent
    frame_axes(ax, extent, scale)
    draw_context(ax, data, setup, scale, label_districts=focus is None)
    colors = data.park_colors
    for i, (_, row) in enumerate(data.parks.iterrows()):
        if row.geometry is None or row.geometry.is_empty:
            continue
        faint = focus is not None and row["park_id"] != focus
        gpd.GeoSeries([row.geometry], crs=data.crs).plot(
            ax=ax,
            facecolor=colors[i],
            edgecolor=PARK_EDGE,
            linewidth=(0.6 if faint else 1.2) * scale,
            alpha=0.45 if faint else 0.85,
            zorder=2,
        )
    _draw_projects(ax, data, scale)
    ax.set_xlabel("")
    ax.set_ylabel("")
    if label_parks:
        for _, row in data.parks.iterrows():
            if row.geometry is None or row.geometry.is_empty:
                continue
            p = row.geometry.representative_point()
            if not (minx <= p.x <= maxx and miny <= p.y <= maxy):
                continue
            emphasis = focus is None or row["park_id"] == focus
            style = PARK_LABEL if emphasis else PARK_LABEL_FAINT
            halo_label(ax, p.x, p.y, park_label(row, setup), style, scale)
    draw_scale_bar(ax, data.crs, extent, scale)
    draw_north_arrow(ax, data.crs, extent, setup, scale)


def draw_context(
    ax: Axes, data: MapData, setup: FontSetup, scale: float, *, label_districts: bool = True
) -> None:
    """Draw the context layer (district outlines, city seats, airport) under the parks."""
    ctx = data.context
    if not len(ctx):
        return
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
            halo_text(
                ax.annotate,
                label,
                (geom.x, geom.y),
                xytext=(4 * scale, 3 * scale),
                textcoords="offset points",
                fontsize=6.5 * scale,
                color="#666666",
                zorder=1.5,
                width=2 * scale,
                annotation_clip=True,
            )
        elif row.get("kind") == "district" and label_districts:
            inside = geom.intersection(
                gpd.GeoSeries.from_xy([minx, maxx], [miny, maxy]).union_all().envelope
            )
            if inside.is_empty:
                continue
            p = inside.representative_point()
            halo_label(ax, p.x, p.y, label, DISTRICT_LABEL, scale)


def _draw_projects(ax: Axes, data: MapData, scale: float) -> None:
    projects = data.projects
    if not len(projects):
        return
    inv = pd.to_numeric(projects["investment_100m_cny"], errors="coerce").to_numpy(dtype=float)
    order = np.argsort(-np.nan_to_num(inv, nan=-1.0), kind="stable")
    xs = projects.geometry.x.to_numpy()[order]
    ys = projects.geometry.y.to_numpy()[order]
    inv = inv[order]
    colors = np.array(
        [STATUS_COLORS.get(str(s), STATUS_COLORS["unknown"]) for s in projects["status"]]
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
        zorder=4,
    )
    if (~known).any():
        ax.scatter(
            xs[~known],
            ys[~known],
            s=(2 * radius[~known]) ** 2,
            facecolors="none",
            edgecolors=colors[~known],
            linewidths=1.5 * scale,
            zorder=4.5,
        )


def draw_scale_bar(ax: Axes, crs: CRS, extent: Extent, scale: float = 1.0) -> None:
    """A two-part bar in km at the lower left; its length is geodesic (true on the ground)."""
    minx, miny, maxx, maxy = extent
    w, h = maxx - minx, maxy - miny
    km = bar_km_for(w)
    bar = scale_bar(crs, minx + 0.04 * w, miny + 0.05 * h, km)
    height = 0.009 * h
    half = bar.length_map / 2
    ax.add_patch(
        Rectangle(
            (minx + 0.025 * w, miny + 0.02 * h),
            bar.length_map + 0.05 * w,
            0.085 * h,
            facecolor="white",
            edgecolor="none",
            alpha=0.8,
            zorder=7,
        )
    )
    for i, color in enumerate(("#222222", "white")):
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
    for frac in (0.0, 0.5, 1.0):
        value = km * frac
        text = f"{value:g}" + (" km" if frac == 1.0 else "")
        ax.text(
            bar.x0 + frac * bar.length_map,
            bar.y0 + height * 1.8,
            text,
            fontsize=7 * scale,
            ha="center",
            va="bottom",
            zorder=8,
        )


def draw_north_arrow(
    ax: Axes, crs: CRS, extent: Extent, setup: FontSetup, scale: float = 1.0
) -> float:
    """An arrow at the upper right pointing to true north (meridian convergence applied).

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
    tip = (0.955, 0.90)
    ax.annotate(
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
    halo_text(
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
    missing = int((classes.yb < 0).sum())
    if missing:
        label = t["no_investment_data" if INVESTMENT in data.unknown else "no_data"]
        parks_rows.append(("patch", NO_DATA_COLOR, label, missing))
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
        blocks.append((t["layer_context"], [("line", CONTEXT_GREY, t["context"], None)]))
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
) -> None:
    """A plain table at the top left of ``ax``: grey header row, thin grey rules."""
    if not body:
        return
    table = ax.table(
        cellText=body, colLabels=header, colWidths=widths, loc="upper left", cellLoc="left"
    )
    table.auto_set_font_size(False)
    table.set_fontsize(7.5 * scale)
    table.scale(1, 1.45)
    for (row, _col), cell in table.get_celld().items():
        cell.set_edgecolor("#cccccc")
        cell.set_linewidth(0.4)
        if row == 0:
            cell.set_facecolor("#eeeeee")
            cell.get_text().set_fontweight("bold")


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

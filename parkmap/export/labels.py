"""Label placement and text fitting for print, measured with matplotlib's own renderer.

Two jobs, both about making text fit where it is drawn:

* :class:`LabelPlacer` — a greedy placement pass for map labels. Each label is tried at
  candidate positions around its anchor (inside a large park first, then below, above, right,
  left and the four corners, at growing gaps). A position is *refused* when the label's box
  leaves the map frame or touches a label already placed or the map furniture (north arrow,
  scale bar); among the others the first that covers no marker and hides no park wins, else the
  one covering least. Labels are placed most important first; one that fits nowhere is tried
  smaller, then left off and reported (:attr:`LabelPlacer.dropped`). A label moved away from its
  park gets a thin leader line.

  Why not ``adjustText`` (MIT, on PyPI)? It moves labels iteratively by repulsion and stops
  after a number of steps; it does not promise that no two boxes overlap, nor that a label stays
  inside the frame, which is exactly what a printed sheet needs and what the tests check. A
  greedy pass over a few candidates is deterministic, guarantees both, and costs a few
  milliseconds for the handful of labels a park map has.

* :func:`fit_table` — a table whose column widths come from its measured text: headers wrap at
  spaces, long cells wrap onto a second line, the font shrinks a little if needed, and only as a
  last resort a cell is shortened with "…". Every cell's text lies inside its cell.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import matplotlib.patheffects as pe
import numpy as np
import shapely
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.backend_bases import RendererBase
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.patches import Rectangle
from matplotlib.text import Text
from shapely.geometry.base import BaseGeometry

#: A box in display pixels: (x0, y0, x1, y1).
Box = tuple[float, float, float, float]

#: Gaps (points, times the sheet's scale) between an anchor and its label, nearest first.
GAPS_PT = (2.0, 6.0, 12.0, 20.0, 30.0)
#: Font size factors tried when a label fits nowhere at its own size.
SHRINK = (1.0, 0.85, 0.72)
#: A label further than this (points × scale) from its anchor gets a leader line.
LEADER_PT = 7.0
LEADER_COLOR = "#666666"
#: ``gid`` of the artists this module draws (SVG ids; tests find them by it): placed labels,
#: leader lines, table cells and their texts (``-row-column`` appended).
LABEL_GID = "map-label"
LEADER_GID = "label-leader"
CELL_GID = "table-cell"
CELL_TEXT_GID = "table-text"
#: Height of a one-line table row, in font sizes; each further line adds 1.4.
ROW_HEIGHT = 2.0


def renderer_of(fig: Figure) -> RendererBase:
    """The renderer that measures text on ``fig`` (an Agg canvas is attached if it has none)."""
    root = fig.get_figure(root=True) or fig
    get = getattr(root.canvas, "get_renderer", None)
    if get is None:
        FigureCanvasAgg(root)
        get = root.canvas.get_renderer  # type: ignore[attr-defined]
    return get()


def box_of(artist: Artist, renderer: RendererBase) -> Box:
    """``artist``'s window extent as a :data:`Box`."""
    b = artist.get_window_extent(renderer)
    return float(b.x0), float(b.y0), float(b.x1), float(b.y1)


def overlaps(a: Box, b: Box, tol: float = 0.0) -> bool:
    """Whether boxes ``a`` and ``b`` share more than a ``tol``-pixel sliver."""
    return min(a[2], b[2]) - max(a[0], b[0]) > tol and min(a[3], b[3]) - max(a[1], b[1]) > tol


def inside(a: Box, frame: Box, tol: float = 0.0) -> bool:
    """Whether box ``a`` lies within ``frame`` (``tol`` pixels of slack)."""
    return (
        a[0] >= frame[0] - tol
        and a[1] >= frame[1] - tol
        and a[2] <= frame[2] + tol
        and a[3] <= frame[3] + tol
    )


def _area(a: Box) -> float:
    return max(a[2] - a[0], 0.0) * max(a[3] - a[1], 0.0)


def _shared(a: Box, b: Box) -> float:
    return max(min(a[2], b[2]) - max(a[0], b[0]), 0.0) * max(min(a[3], b[3]) - max(a[1], b[1]), 0.0)


@dataclass
class LabelRequest:
    """One label waiting for a place.

    Attributes
    ----------
    text
        The words.
    anchor
        Display box (pixels) the label belongs to: a park's outline box, or a small box around a
        point.
    fontsize, weight, color, zorder, halo
        Look of the text; ``halo`` is the width (points) of its white outline, 0 for none.
    priority
        Smaller is placed first.
    inside_ok
        Try positions inside the anchor box first; ``None``: when the anchor box is at least
        eight times the label's (a park much larger than its name).
    inside_at
        Display point the inside positions centre on (a park's representative point); default
        the anchor box's centre.
    owner
        Markers with this owner count ten times when a position covers them (a label never
        sits on its own park's projects if it can help it).
    geometry
        Where a leader line ends, in data coordinates (the park's outline); ``None`` for the
        anchor box's centre.
    required
        Reported in :attr:`LabelPlacer.dropped` when it fits nowhere.
    order
        ``"area"`` (below, above, right, left, corners), ``"point"`` (upper right first, as
        names next to a town symbol usually are) or ``"above"`` (above, then the upper corners).
    gaps
        Gaps (points, before the sheet's scale) to try; default :data:`GAPS_PT`.
    """

    text: str
    anchor: Box
    fontsize: float
    weight: str = "normal"
    color: str = "#222222"
    zorder: float = 6.0
    halo: float = 2.0
    priority: float = 0.0
    inside_ok: bool | None = False
    inside_at: tuple[float, float] | None = None
    owner: object = None
    geometry: BaseGeometry | None = None
    required: bool = True
    order: str = "area"
    gaps: Sequence[float] = GAPS_PT


@dataclass
class PlacedLabel:
    """A label drawn by :meth:`LabelPlacer.place`: its text artist, box and leader line."""

    request: LabelRequest
    text: Text
    box: Box
    leader: Artist | None = None


@dataclass
class LabelPlacer:
    """Greedy, collision-free placement of labels on one map axes (see the module docstring).

    Parameters
    ----------
    ax
        The map axes, with its extent already set.
    scale
        The sheet's text scale (1 on A4).
    """

    ax: Axes
    scale: float = 1.0
    requests: list[LabelRequest] = field(default_factory=list)
    placed: list[PlacedLabel] = field(default_factory=list)
    dropped: list[LabelRequest] = field(default_factory=list)
    #: Boxes no label may touch: north arrow, scale bar, labels already placed.
    hard: list[Box] = field(default_factory=list)
    #: Boxes of parks a label should not hide: (box, owner).
    areas: list[tuple[Box, object]] = field(default_factory=list)
    _marker_xy: list[np.ndarray] = field(default_factory=list)
    _marker_r: list[np.ndarray] = field(default_factory=list)
    _marker_owner: list[np.ndarray] = field(default_factory=list)

    def __post_init__(self) -> None:
        fig = self.ax.get_figure(root=True)
        if fig is None:
            raise ValueError("the axes are not on a figure")
        self.figure: Figure = fig
        self.ax.apply_aspect()
        self.renderer = renderer_of(fig)
        self.frame: Box = box_of(self.ax, self.renderer)

    # -- what is already on the map ---------------------------------------------------------

    @property
    def px_per_pt(self) -> float:
        """Display pixels per point at the figure's current dpi."""
        return float(self.figure.dpi) / 72.0

    def to_display(self, x: float, y: float) -> tuple[float, float]:
        """Data coordinates to display pixels."""
        dx, dy = self.ax.transData.transform((x, y))
        return float(dx), float(dy)

    def geometry_box(self, geom: BaseGeometry) -> Box:
        """Display box of a geometry's bounds (data coordinates)."""
        minx, miny, maxx, maxy = geom.bounds
        x0, y0 = self.to_display(minx, miny)
        x1, y1 = self.to_display(maxx, maxy)
        return min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)

    def point_box(self, x: float, y: float, radius_pt: float) -> Box:
        """Display box of a symbol of ``radius_pt`` at data point (x, y)."""
        cx, cy = self.to_display(x, y)
        r = radius_pt * self.px_per_pt
        return cx - r, cy - r, cx + r, cy + r

    def add_obstacles(self, artists: Sequence[Artist], pad_pt: float = 1.5) -> None:
        """Make the boxes of drawn ``artists`` (north arrow, scale bar) off limits to labels."""
        pad = pad_pt * self.px_per_pt
        for artist in artists:
            b = box_of(artist, self.renderer)
            if all(math.isfinite(v) for v in b) and _area(b) > 0:
                self.hard.append((b[0] - pad, b[1] - pad, b[2] + pad, b[3] + pad))

    def add_markers(
        self, xs: np.ndarray, ys: np.ndarray, radius_pt: np.ndarray, owners: np.ndarray
    ) -> None:
        """Markers (data coordinates, radius in points) a label should not cover."""
        if not len(xs):
            return
        xy = self.ax.transData.transform(np.column_stack([xs, ys]))
        self._marker_xy.append(np.asarray(xy, dtype=float))
        self._marker_r.append(np.asarray(radius_pt, dtype=float) * self.px_per_pt)
        self._marker_owner.append(np.asarray(owners, dtype=object))

    def add_area(self, box: Box, owner: object) -> None:
        """A park's box: a label should not cover most of it (so the park stays visible)."""
        self.areas.append((box, owner))

    def request(self, req: LabelRequest) -> None:
        """Queue a label for :meth:`place`."""
        self.requests.append(req)

    # -- placement ---------------------------------------------------------------------------

    def _size(self, req: LabelRequest, fontsize: float) -> tuple[float, float]:
        probe = Text(0, 0, req.text, fontsize=fontsize, fontweight=req.weight)
        probe.set_figure(self.figure)
        b = probe.get_window_extent(self.renderer)
        halo = req.halo * self.scale * self.px_per_pt / 2
        return b.width + 2 * halo, b.height + 2 * halo

    def _candidates(self, req: LabelRequest, w: float, h: float) -> list[tuple[Box, float]]:
        """Candidate boxes with their gap (pixels) from the anchor, in order of preference."""
        x0, y0, x1, y1 = req.anchor
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
        out: list[tuple[Box, float]] = []
        inside_ok = req.inside_ok
        if inside_ok is None:
            inside_ok = _area(req.anchor) >= 8 * w * h
        if inside_ok:
            ix, iy = req.inside_at if req.inside_at is not None else (cx, cy)
            for k in (0, 1, -1, 2, -2, 3, -3):
                by = iy - h / 2 + k * 1.1 * h
                out.append(((ix - w / 2, by, ix + w / 2, by + h), 0.0))
        for gap_pt in req.gaps:
            g = gap_pt * self.scale * self.px_per_pt
            d = g * 0.7
            area = [
                (cx - w / 2, y0 - g - h),  # below
                (cx - w / 2, y1 + g),  # above
                (x1 + g, cy - h / 2),  # right
                (x0 - g - w, cy - h / 2),  # left
                (x1 + d, y0 - d - h),  # lower right
                (x1 + d, y1 + d),  # upper right
                (x0 - d - w, y0 - d - h),  # lower left
                (x0 - d - w, y1 + d),  # upper left
            ]
            if req.order == "point":
                area = [area[5], area[2], area[4], area[7], area[3], area[6], area[1], area[0]]
            elif req.order == "above":
                area = [area[1], area[5], area[7], area[2], area[3], area[4], area[6], area[0]]
            out += [((bx, by, bx + w, by + h), g) for bx, by in area]
        return out

    def _soft_cost(self, box: Box, req: LabelRequest) -> float:
        cost = 0.0
        for xy, r, owner in zip(self._marker_xy, self._marker_r, self._marker_owner, strict=True):
            dx = np.maximum(np.maximum(box[0] - xy[:, 0], xy[:, 0] - box[2]), 0.0)
            dy = np.maximum(np.maximum(box[1] - xy[:, 1], xy[:, 1] - box[3]), 0.0)
            hit = dx * dx + dy * dy < (r * 0.8) ** 2
            if hit.any():
                own = int(np.sum(owner[hit] == req.owner)) if req.owner is not None else 0
                cost += float(hit.sum()) + 9.0 * own
        for area, area_owner in self.areas:
            a = _area(area)
            if a <= 0:
                continue
            covered = _shared(box, area) / a
            limit = 0.25 if area_owner == req.owner else 0.15
            if covered > limit:
                cost += 20.0 * covered
        return cost

    def _choose(self, req: LabelRequest, w: float, h: float) -> tuple[Box, float] | None:
        best: tuple[float, Box, float] | None = None
        frame = self.frame
        pad = 1.0
        for box, gap in self._candidates(req, w, h):
            if not inside(box, (frame[0] + pad, frame[1] + pad, frame[2] - pad, frame[3] - pad)):
                continue
            if any(overlaps(box, other) for other in self.hard):
                continue
            cost = self._soft_cost(box, req)
            if cost == 0:
                return box, gap
            if best is None or cost < best[0]:
                best = (cost, box, gap)
        return None if best is None else (best[1], best[2])

    def place(self) -> list[PlacedLabel]:
        """Place and draw every queued label, most important first; return those drawn."""
        queue = sorted(self.requests, key=lambda r: r.priority)
        self.requests = []
        for req in queue:
            chosen = None
            for factor in SHRINK:
                size = req.fontsize * factor
                w, h = self._size(req, size)
                chosen = self._choose(req, w, h)
                if chosen is not None:
                    break
            if chosen is None:
                self.dropped.append(req)
                continue
            self.placed.append(self._draw(req, size, *chosen))
        return self.placed

    def _draw(self, req: LabelRequest, size: float, box: Box, gap: float) -> PlacedLabel:
        inv = self.ax.transData.inverted()
        cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
        x, y = inv.transform((cx, cy))
        kwargs: dict[str, Any] = {
            "fontsize": size,
            "fontweight": req.weight,
            "ha": "center",
            "va": "center",
            "clip_on": False,
        }
        if req.halo > 0:
            self.ax.text(
                x,
                y,
                req.text,
                color="white",
                zorder=req.zorder - 0.01,
                path_effects=[pe.Stroke(linewidth=req.halo * self.scale, foreground="white")],
                **kwargs,
            )
        text = self.ax.text(x, y, req.text, color=req.color, zorder=req.zorder, **kwargs)
        text.set_gid(LABEL_GID)
        drawn = box_of(text, self.renderer)
        halo = req.halo * self.scale * self.px_per_pt / 2
        drawn = (drawn[0] - halo, drawn[1] - halo, drawn[2] + halo, drawn[3] + halo)
        self.hard.append(drawn)
        leader = None
        if gap > LEADER_PT * self.scale * self.px_per_pt:
            leader = self._leader(req, drawn)
        return PlacedLabel(req, text, drawn, leader)

    def _leader(self, req: LabelRequest, box: Box) -> Artist:
        inv = self.ax.transData.inverted()
        (bx0, by0), (bx1, by1) = inv.transform([(box[0], box[1]), (box[2], box[3])])
        label = shapely.box(min(bx0, bx1), min(by0, by1), max(bx0, bx1), max(by0, by1))
        if req.geometry is not None and not req.geometry.is_empty:
            target = req.geometry
        else:
            ax0, ay0, ax1, ay1 = req.anchor
            target = shapely.Point(inv.transform(((ax0 + ax1) / 2, (ay0 + ay1) / 2)))
        a, b = shapely.ops.nearest_points(target, label)
        (line,) = self.ax.plot(
            [a.x, b.x],
            [a.y, b.y],
            color=LEADER_COLOR,
            lw=0.6 * self.scale,
            zorder=req.zorder - 0.02,
            solid_capstyle="round",
        )
        line.set_gid(LEADER_GID)
        return line


# ---------------------------------------------------------------------------------------------
# Corners for the north arrow and scale bar

CORNERS = ("lower left", "lower right", "upper left", "upper right")


def emptiest_corners(
    occupancy: Callable[[tuple[float, float, float, float]], float],
    bar_size: tuple[float, float],
    arrow_size: tuple[float, float],
) -> tuple[str, str]:
    """Corners (of :data:`CORNERS`) for the scale bar and the north arrow.

    Parameters
    ----------
    occupancy
        How much data lies in a box given in axes fractions (x0, y0, x1, y1); 0 for none.
    bar_size, arrow_size
        Width and height (axes fractions) of each item with its margin.

    Returns
    -------
    tuple of str
        The scale bar's corner (ties go to lower left, the convention) and the north arrow's,
        a different one (ties go to upper right).
    """

    def box(corner: str, size: tuple[float, float]) -> tuple[float, float, float, float]:
        w, h = size
        x0 = 0.0 if "left" in corner else 1.0 - w
        y0 = 0.0 if "lower" in corner else 1.0 - h
        return x0, y0, x0 + w, y0 + h

    bar_corner = min(CORNERS, key=lambda c: (occupancy(box(c, bar_size)), CORNERS.index(c)))
    arrow_order = ("upper right", "upper left", "lower right", "lower left")
    arrow_corner = min(
        (c for c in arrow_order if c != bar_corner),
        key=lambda c: (occupancy(box(c, arrow_size)), arrow_order.index(c)),
    )
    return bar_corner, arrow_corner


# ---------------------------------------------------------------------------------------------
# Tables


@dataclass
class FittedTable:
    """A table drawn by :func:`fit_table`: each cell's rectangle and text by (row, column);
    row 0 is the header."""

    cells: dict[tuple[int, int], tuple[Rectangle, Text]]
    fontsize: float
    shortened: int = 0


def _wrap_to(
    text: str, limit: float, measure: Callable[[str], float], max_lines: int
) -> str | None:
    """``text`` broken into at most ``max_lines`` lines each ≤ ``limit`` px, or ``None``.

    Text with spaces breaks between words, and before an opening bracket; text without
    (Chinese) between characters.
    """
    flat = " ".join(text.split("\n"))
    if measure(flat) <= limit:
        return flat
    flat = flat.replace("（", " （") if " " in flat else flat
    words = flat.split(" ") if " " in flat else list(flat)
    sep = " " if " " in flat else ""
    lines: list[str] = []
    current = ""
    for word in words:
        if not word:
            continue
        trial = f"{current}{sep}{word}" if current else word
        if measure(trial) <= limit:
            current = trial
            continue
        if not current or measure(word) > limit:  # one word wider than the cell
            return None
        lines.append(current)
        current = word
    lines.append(current)
    return "\n".join(lines) if len(lines) <= max_lines else None


def _shorten(text: str, limit: float, measure: Callable[[str], float]) -> str:
    """``text`` cut to fit ``limit`` px, ending in "…"."""
    while len(text) > 1 and measure(text + "…") > limit:
        text = text[:-1]
    return text.rstrip() + "…"


class _Measure:
    """Widths (px) of one- or many-line cell text at one font size, cached."""

    def __init__(self, fig: Figure, renderer: RendererBase, size: float) -> None:
        self.renderer = renderer
        # The font Text would use (rcParams now), at the size; the renderer measures in pixels
        # at the figure's dpi, as Text.get_window_extent does line by line.
        self.props = {
            bold: FontProperties(size=size, weight="bold" if bold else "normal")
            for bold in (False, True)
        }
        self.cache: dict[tuple[str, bool], float] = {}

    def line(self, text: str, bold: bool) -> float:
        key = (text, bold)
        if key not in self.cache:
            width = 0.0
            if text:
                width, _, _ = self.renderer.get_text_width_height_descent(
                    text, self.props[bold], ismath=False
                )
            self.cache[key] = float(width)
        return self.cache[key]

    def __call__(self, text: str, bold: bool = False) -> float:
        return max(self.line(line, bold) for line in text.split("\n"))

    def of(self, bold: bool) -> Callable[[str], float]:
        return lambda text: self(text, bold)


def _wrap_column(
    column: list[str], target: float, measure: _Measure, max_lines: int
) -> list[str] | None:
    """Every cell of a column (row 0 the header, allowed one line more) within ``target`` px,
    or ``None`` when one cannot be."""
    out = []
    for r, text in enumerate(column):
        if measure(text, r == 0) <= target:
            out.append(text)
            continue
        wrapped = _wrap_to(text, target, measure.of(r == 0), max_lines + (r == 0))
        if wrapped is None:
            return None
        out.append(wrapped)
    return out


def _layout(
    rows: list[list[str]], measure: _Measure, avail: float, pad: float, max_lines: int
) -> tuple[list[list[str]], list[float]]:
    """Cells (wrapped where needed) and the width each column needs.

    The widest column is wrapped first, to the width that removes the excess or else to the
    narrowest width at which its cells still take at most ``max_lines`` lines (found by
    bisection); then the next widest, until the table fits ``avail`` px or no column can
    give more.
    """
    columns = [[row[c] for row in rows] for c in range(len(rows[0]))]

    def need_of(column: list[str]) -> float:
        return max(measure(text, r == 0) for r, text in enumerate(column)) + 2 * pad

    need = [need_of(col) for col in columns]
    for c in sorted(range(len(columns)), key=lambda c: -need[c]):
        excess = sum(need) - avail
        if excess <= 0:
            break
        natural = need[c] - 2 * pad
        target = max(natural - excess, 1.0)
        wrapped = _wrap_column(columns[c], target, measure, max_lines)
        if wrapped is None:  # bisect for the narrowest width that wraps
            lo, hi = target, natural
            best = None
            for _ in range(10):
                mid = (lo + hi) / 2
                trial = _wrap_column(columns[c], mid, measure, max_lines)
                if trial is None:
                    lo = mid
                else:
                    hi, best = mid, trial
            wrapped = best
        if wrapped is not None:
            columns[c] = wrapped
            need[c] = need_of(wrapped)
    cells = [[columns[c][r] for c in range(len(columns))] for r in range(len(rows))]
    return cells, need


def fit_table(
    ax: Axes,
    header: Sequence[str],
    body: Sequence[Sequence[str]],
    *,
    fontsize: float,
    weights: Sequence[float] | None = None,
    min_fontsize: float | None = None,
    max_lines: int = 2,
) -> FittedTable:
    """Draw a table at the top left of ``ax``, its columns as wide as their measured text.

    The table spans at most the axes' width. Columns get their widest text's width plus padding;
    spare width goes to the columns in proportion to ``weights`` (default: to their widths).
    When the natural widths do not fit, the widest columns wrap (headers at spaces or before a
    bracket; body cells onto at most ``max_lines`` lines), then the font shrinks down to
    ``min_fontsize`` (default 80 %), and only then are the widest cells shortened with "…".

    Returns
    -------
    FittedTable
        The drawn cells, for callers and tests that check each text lies in its cell.
    """
    fig = ax.get_figure(root=True)
    if fig is None:
        raise ValueError("the axes are not on a figure")
    renderer = renderer_of(fig)
    ax.set_axis_off()
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    frame = box_of(ax, renderer)
    avail = frame[2] - frame[0]
    ncol = len(header)
    rows = [list(header)] + [[str(c) for c in row] for row in body]
    min_size = min_fontsize if min_fontsize is not None else fontsize * 0.8
    size = fontsize
    while True:
        measure = _Measure(fig, renderer, size)
        pad = 3.0 * fig.dpi / 72.0 * size / 7.5
        cells, need = _layout(rows, measure, avail, pad, max_lines)
        if sum(need) <= avail or size <= min_size + 1e-9:
            break
        size = max(size * 0.92, min_size)
    shortened = 0
    for c in sorted(range(ncol), key=lambda c: -need[c]):  # last resort: "…"
        excess = sum(need) - avail
        if excess <= 0:
            break
        limit = max(need[c] - excess - 2 * pad, 2 * pad)
        for r in range(len(cells)):
            lines = cells[r][c].split("\n")
            if any(measure(line, r == 0) > limit for line in lines):
                cells[r][c] = "\n".join(
                    _shorten(line, limit, measure.of(r == 0))
                    if measure(line, r == 0) > limit
                    else line
                    for line in lines
                )
                shortened += 1
        need[c] = max(measure(cells[r][c], r == 0) for r in range(len(cells))) + 2 * pad
    spare = max(avail - sum(need), 0.0)
    share = np.asarray(weights if weights is not None else need, dtype=float)
    share = share / share.sum() if share.sum() > 0 else np.full(ncol, 1.0 / ncol)
    widths = [n + spare * s for n, s in zip(need, share, strict=True)]
    px_per_size = size * fig.dpi / 72.0
    extra = [max(cell.count("\n") for cell in row) * 1.4 * px_per_size for row in cells]
    # Rows as tall as ROW_HEIGHT, less (down to 1.5) where the axes are too short for them.
    room = (frame[3] - frame[1] - sum(extra)) / (len(cells) * px_per_size)
    line_h = max(min(ROW_HEIGHT, room), 1.5) * px_per_size
    drawn: dict[tuple[int, int], tuple[Rectangle, Text]] = {}
    to_axes = ax.transAxes.inverted()
    y_top = frame[3]
    for r, row in enumerate(cells):
        h = line_h + extra[r]
        x = frame[0]
        for c, cell in enumerate(row):
            (ax0, ay0), (ax1, ay1) = to_axes.transform([(x, y_top - h), (x + widths[c], y_top)])
            rect = Rectangle(
                (ax0, ay0),
                ax1 - ax0,
                ay1 - ay0,
                transform=ax.transAxes,
                facecolor="#eeeeee" if r == 0 else "white",
                edgecolor="#cccccc",
                linewidth=0.4,
                clip_on=False,
            )
            ax.add_patch(rect)
            tx, ty = to_axes.transform((x + pad, y_top - h / 2))
            text = ax.text(
                tx,
                ty,
                cell,
                transform=ax.transAxes,
                fontsize=size,
                fontweight="bold" if r == 0 else "normal",
                ha="left",
                va="center",
                linespacing=1.15,
                clip_on=False,
            )
            rect.set_gid(f"{CELL_GID}-{r}-{c}")
            text.set_gid(f"{CELL_TEXT_GID}-{r}-{c}")
            drawn[(r, c)] = (rect, text)
            x += widths[c]
        y_top -= h
    return FittedTable(cells=drawn, fontsize=size, shortened=shortened)

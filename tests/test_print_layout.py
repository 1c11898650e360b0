"""Print layout of the demo map and atlas pages, checked from matplotlib's renderer.

Map labels must not overlap each other, the north arrow or the scale bar, and must lie inside
the map frame; table texts must lie inside their cells (no "…" where there is room); every
park must stay visible under its projects (its outline above the markers, its fill colour
showing at points no marker covers).
"""

from __future__ import annotations

import io
import itertools

import matplotlib
import numpy as np
import pytest
import shapely
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection, PathCollection
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure
from PIL import Image

from parkmap.cluster import cluster_analysis
from parkmap.export.atlas import cover_page, park_page
from parkmap.export.cartography import marker_radius_pt
from parkmap.export.hotspots import hotspot_page
from parkmap.export.labels import (
    CELL_GID,
    CELL_TEXT_GID,
    LABEL_GID,
    LabelPlacer,
    LabelRequest,
    emptiest_corners,
    fit_table,
)
from parkmap.export.static_map import (
    CROWDED_FILL_ALPHA,
    MARKER_Z,
    NORTH_ARROW_GID,
    PARK_EDGE,
    SCALE_BAR_GID,
    Sheet,
    map_figure,
    prepare,
)
from parkmap.fonts import font_setup
from parkmap.pipeline import analyse
from parkmap.style import STATUS_COLORS

LANGS = ("zh", "en")


@pytest.fixture(scope="module")
def analysis():
    return analyse()


@pytest.fixture(scope="module")
def clusters(analysis):
    return cluster_analysis(analysis.projects, analysis.parks, permutations=99, simulations=19)


@pytest.fixture(scope="module")
def pages(analysis, clusters):
    """Every kind of sheet, drawn, in both languages: {(lang, name): figure}."""
    out = {}
    for lang in LANGS:
        setup = font_setup(lang)
        with matplotlib.rc_context(setup.rc()):
            data = prepare(
                analysis.parks,
                analysis.projects,
                analysis.context,
                scheme="quantiles",
                k=5,
                lang=lang,
            )
            sheet = Sheet()
            figs = {
                "map": map_figure(data, setup, sheet=sheet, title="T", subtitle="S"),
                "map-portrait": map_figure(
                    data, setup, sheet=Sheet(orientation="portrait"), title="T", subtitle="S"
                ),
                "cover": cover_page(
                    data, analysis.projects, setup, sheet=sheet, title="T", caption=None
                ),
                "hotspots": hotspot_page(data, clusters, setup, sheet=sheet, caption=None),
            }
            for i in range(len(data.parks)):
                figs[f"park-{i}"] = park_page(
                    data, i, analysis.projects, setup, sheet=sheet, caption=None
                )
            for name, fig in figs.items():
                FigureCanvasAgg(fig).draw()
                out[(lang, name)] = (fig, data)
    return out


def _boxes(fig: Figure, gid: str, renderer) -> list[tuple[str, np.ndarray]]:
    found = []
    for artist in fig.findobj(lambda a: (a.get_gid() or "") == gid):
        b = artist.get_window_extent(renderer)
        label = artist.get_text() if hasattr(artist, "get_text") else gid
        found.append((label, np.array([b.x0, b.y0, b.x1, b.y1])))
    return found


def _overlap(a: np.ndarray, b: np.ndarray, tol: float = 0.5) -> bool:
    return min(a[2], b[2]) - max(a[0], b[0]) > tol and min(a[3], b[3]) - max(a[1], b[1]) > tol


MAP_PAGES = ["map", "map-portrait", "hotspots", *[f"park-{i}" for i in range(5)]]


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("name", MAP_PAGES)
def test_map_labels_do_not_collide_and_stay_inside_the_frame(pages, lang, name):
    if (lang, name) not in pages:
        pytest.skip("the demo has fewer parks")
    fig, _ = pages[(lang, name)]
    renderer = fig.canvas.get_renderer()
    ax = fig.axes[0]
    frame = ax.get_window_extent(renderer)
    labels = _boxes(fig, LABEL_GID, renderer)
    assert labels, "no labels placed"
    furniture = _boxes(fig, NORTH_ARROW_GID, renderer) + _boxes(fig, SCALE_BAR_GID, renderer)
    assert len(furniture) >= 2
    for text, box in labels:
        assert text.strip()
        assert frame.x0 <= box[0] and box[2] <= frame.x1, (text, box, frame)
        assert frame.y0 <= box[1] and box[3] <= frame.y1, (text, box, frame)
        for what, other in furniture:
            assert not _overlap(box, other), (text, what)
    for (t1, b1), (t2, b2) in itertools.combinations(labels, 2):
        assert not _overlap(b1, b2), (t1, t2)


@pytest.mark.parametrize("lang", LANGS)
def test_every_park_and_cluster_is_named_on_the_map(pages, analysis, clusters, lang):
    fig, _ = pages[(lang, "map")]
    names = {t for t, _ in _boxes(fig, LABEL_GID, fig.canvas.get_renderer())}
    key = "name_zh" if lang == "zh" else "name_en"
    assert set(analysis.parks[key]) <= names
    fig, _ = pages[(lang, "hotspots")]
    names = {t for t, _ in _boxes(fig, LABEL_GID, fig.canvas.get_renderer())}
    ids = {str(int(c)) for c in clusters.clusters.clusters["cluster_id"]}
    assert ids <= names


def _cells(fig: Figure, renderer):
    rects = {a.get_gid(): a for a in fig.findobj(lambda a: str(a.get_gid()).startswith(CELL_GID))}
    texts = {
        a.get_gid(): a for a in fig.findobj(lambda a: str(a.get_gid()).startswith(CELL_TEXT_GID))
    }
    pairs = []
    for gid, text in texts.items():
        rect = rects[gid.replace(CELL_TEXT_GID, CELL_GID)]
        pairs.append((text, rect.get_window_extent(renderer), text.get_window_extent(renderer)))
    return pairs


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("name", ["cover", "hotspots", "park-0", "park-1"])
def test_table_texts_fit_their_cells(pages, lang, name):
    fig, _ = pages[(lang, name)]
    renderer = fig.canvas.get_renderer()
    pairs = _cells(fig, renderer)
    assert pairs
    page_w = fig.bbox.width
    for text, cell, box in pairs:
        assert cell.x0 - 0.5 <= box.x0 and box.x1 <= cell.x1 + 0.5, text.get_text()
        assert cell.y0 - 0.5 <= box.y0 and box.y1 <= cell.y1 + 0.5, text.get_text()
        assert cell.x0 >= 0 and cell.x1 <= page_w * 0.985  # off the page edge
        assert "…" not in text.get_text(), text.get_text()  # room for every word


@pytest.mark.parametrize("lang", LANGS)
def test_table_columns_do_not_overlap(pages, lang):
    fig, _ = pages[(lang, "cover")]
    renderer = fig.canvas.get_renderer()
    header = [
        (t, b)
        for t, _, b in _cells(fig, renderer)
        if t.get_gid().endswith(tuple(f"-0-{c}" for c in range(6)))
    ]
    for (t1, b1), (t2, b2) in itertools.combinations(header, 2):
        assert not _overlap(np.array(b1.extents), np.array(b2.extents)), (
            t1.get_text(),
            t2.get_text(),
        )


def test_park_outlines_are_drawn_above_the_markers(pages, analysis):
    fig, _ = pages[("zh", "map")]
    ax = fig.axes[0]
    markers = [c for c in ax.collections if isinstance(c, PathCollection)]
    edge = np.array(to_rgb(PARK_EDGE))
    outlines = [
        c
        for c in ax.collections
        if isinstance(c, LineCollection)
        and len(c.get_edgecolor())
        and np.allclose(c.get_edgecolor()[0][:3], edge)
    ]
    assert markers and outlines
    assert sum(len(c.get_segments()) for c in outlines) >= len(analysis.parks)
    assert max(c.get_zorder() for c in markers) == pytest.approx(MARKER_Z + 0.5)
    assert min(c.get_zorder() for c in outlines) > max(c.get_zorder() for c in markers)


def test_every_park_shows_its_fill_colour_on_the_printed_map(pages, analysis):
    """Rasterise the map sheet and sample each park's interior away from its outline and the
    labels. Its typical pixel is nearer its own legend swatch than any other swatch or status
    colour (so no park is hidden under its markers); where no marker lies, the pixel is the
    swatch at 85 % over the map's ground (or that again under the crowded-park veil)."""
    fig, data = pages[("zh", "map")]
    renderer = fig.canvas.get_renderer()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=fig.dpi, facecolor="white")
    pixels = np.asarray(Image.open(buffer).convert("RGB"), dtype=float)
    height = pixels.shape[0]
    ax = fig.axes[0]
    to_px = ax.transData.transform
    ground = np.array(to_rgb("#fbfbf8"))
    projects = data.projects
    inv = projects["investment_100m_cny"].astype(float).to_numpy()
    radius_px = marker_radius_pt(inv, data.inv_max) * fig.dpi / 72 + 2.0
    markers = to_px(np.column_stack([projects.geometry.x, projects.geometry.y]))
    labels = [b for _, b in _boxes(fig, LABEL_GID, renderer)]
    swatches = {c: np.array(to_rgb(c)) * 255 for c in data.classes.colors}
    others = [np.array(to_rgb(c)) * 255 for c in STATUS_COLORS.values()]
    for i, (_, park) in enumerate(data.parks.iterrows()):
        own = data.park_colors[i]
        fill = np.array(to_rgb(own))
        inner = park.geometry.buffer(-0.1 * np.sqrt(park.geometry.area))
        minx, miny, maxx, maxy = inner.bounds
        grid = np.array(
            [(x, y) for x in np.linspace(minx, maxx, 40) for y in np.linspace(miny, maxy, 40)]
        )
        grid = grid[shapely.contains_xy(inner, grid[:, 0], grid[:, 1])]
        px = to_px(grid)
        free = np.ones(len(px), dtype=bool)
        for b in labels:
            free &= ~(
                (px[:, 0] > b[0] - 3)
                & (px[:, 0] < b[2] + 3)
                & (px[:, 1] > b[1] - 3)
                & (px[:, 1] < b[3] + 3)
            )
        assert free.sum() >= 10, park["park_id"]  # the label leaves most of the park free
        clear = free.copy()
        for (mx, my), r in zip(markers, radius_px, strict=True):
            clear &= np.hypot(px[:, 0] - mx, px[:, 1] - my) > r

        def sample(mask, px=px):
            cols = px[mask, 0].round().astype(int)
            rows = (height - px[mask, 1]).round().astype(int)
            return pixels[rows, cols]

        typical = np.median(sample(free), axis=0)
        nearest = min(
            [*swatches.items(), *(("status", c) for c in others)],
            key=lambda kv: np.abs(typical - kv[1]).sum(),
        )
        assert nearest[0] == own, (park["park_id"], typical, own)
        if clear.sum() >= 3:
            base = 0.85 * fill + 0.15 * ground
            veiled = CROWDED_FILL_ALPHA * fill + (1 - CROWDED_FILL_ALPHA) * base
            got = sample(clear)
            close = np.minimum(
                np.abs(got - 255 * base).max(axis=1), np.abs(got - 255 * veiled).max(axis=1)
            )
            assert (close <= 8).mean() >= 0.8, (park["park_id"], got[:5])


# --- the placement pass on its own -------------------------------------------------------------


def _axes() -> tuple[Figure, object]:
    fig = Figure(figsize=(4, 3))
    ax = fig.add_axes((0.1, 0.1, 0.8, 0.8))
    ax.set_xlim(0, 100)
    ax.set_ylim(0, 100)
    return fig, ax


def test_placer_moves_a_label_off_a_taken_place_and_keeps_it_in_the_frame():
    _, ax = _axes()
    placer = LabelPlacer(ax)
    anchor = placer.point_box(99, 50, 2)  # at the right edge: right-hand places are out
    for text in ("first label", "second label", "third label"):
        placer.request(LabelRequest(text, anchor, fontsize=9))
    placed = placer.place()
    assert len(placed) == 3 and not placer.dropped
    frame = ax.get_window_extent(placer.renderer)
    for p in placed:
        assert frame.x0 <= p.box[0] and p.box[2] <= frame.x1
    for a, b in itertools.combinations(placed, 2):
        assert not _overlap(np.array(a.box), np.array(b.box), tol=0)


def test_placer_drops_a_label_that_fits_nowhere_and_says_so():
    _, ax = _axes()
    placer = LabelPlacer(ax)
    frame = ax.get_window_extent(placer.renderer)
    placer.hard.append((frame.x0, frame.y0, frame.x1, frame.y1))  # the whole map is taken
    placer.request(LabelRequest("no room", placer.point_box(50, 50, 2), fontsize=9))
    assert placer.place() == []
    assert [r.text for r in placer.dropped] == ["no room"]


def test_emptiest_corners_avoid_the_data():
    # data in the lower left and upper right: bar goes lower right, arrow upper left
    def occupancy(box):
        x0, y0, x1, y1 = box
        return float((x0 < 0.5 and y0 < 0.5) or (x1 > 0.5 and y1 > 0.5))

    assert emptiest_corners(occupancy, (0.3, 0.1), (0.1, 0.2)) == ("lower right", "upper left")
    assert emptiest_corners(lambda box: 0.0, (0.3, 0.1), (0.1, 0.2)) == (
        "lower left",
        "upper right",
    )


def test_fit_table_wraps_before_it_shortens():
    fig = Figure(figsize=(3, 2))
    ax = fig.add_axes((0.05, 0.05, 0.9, 0.9))
    header = ["Park", "Investment (100M CNY)"]
    body = [["Qingdao–Weifang Airport-Linked Industry Collaboration Zone", "34.22"]]
    table = fit_table(ax, header, body, fontsize=8)
    assert table.shortened == 0
    name = table.cells[(1, 0)][1].get_text()
    assert "\n" in name and name.replace("\n", " ") == body[0][0]
    renderer = fig.canvas.get_renderer()
    for rect, text in table.cells.values():
        cell, box = rect.get_window_extent(renderer), text.get_window_extent(renderer)
        assert cell.x0 <= box.x0 and box.x1 <= cell.x1

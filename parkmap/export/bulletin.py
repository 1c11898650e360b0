"""The weekly bulletin of ``parkmap compare``: ``bulletin.pdf`` and ``bulletin.md``.

Both say the same, in the language asked (Chinese by default):

1. the headline figures (projects and investment before → after, new projects and their
   investment, projects removed, status steps up and back, parks with no progress);
2. a table of every park (:data:`parkmap.compare.PARK_CHANGE_COLUMNS`);
3. the change map (the PDF only; ``map.html`` has the interactive one) — parks of the new
   snapshot and the changes with the symbols of :data:`parkmap.style.CHANGE_SYMBOLS`;
4. the largest new projects (:data:`TOP_NEW`) and the parks with no progress.

The PDF is A4 landscape and follows the atlas' rules: fonts from :class:`parkmap.fonts.FontSetup`
(embedded, text extractable), tables fitted to their measured text
(:func:`parkmap.export.labels.fit_table`), the map drawn by
:func:`parkmap.export.static_map.draw_map`, page numbers in the footer.
"""

from __future__ import annotations

import io as _io
import re
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Final

import numpy as np
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from parkmap.compare import map_changes, no_progress
from parkmap.export.static_map import (
    Sheet,
    data_bounds,
    draw_map,
    draw_table,
    fit_extent,
    header_footer,
    prepare,
)
from parkmap.i18n import fmt_number, texts
from parkmap.style import CHANGE_SYMBOLS
from parkmap.write import atomic_write

if TYPE_CHECKING:
    from parkmap.analysis import Analysis
    from parkmap.compare import Comparison
    from parkmap.fonts import FontSetup

#: New projects listed, largest investment first.
TOP_NEW: Final = 10
#: matplotlib markers of the symbols in :data:`parkmap.style.CHANGE_SYMBOLS`.
MARKERS: Final = {"circle": "o", "triangle-up": "^", "triangle-down": "v", "cross": "X"}


def _amount(value: object, t: dict[str, str]) -> str:
    try:
        x = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return t["unknown"]
    return t["unknown"] if np.isnan(x) else fmt_number(x)


def _signed(value: object, t: dict[str, str]) -> str:
    text = _amount(value, t)
    try:
        positive = float(value) > 0  # type: ignore[arg-type]
    except (TypeError, ValueError):
        positive = False
    return "+" + text if positive else text


def _rank(value: object) -> str:
    try:
        return str(int(value))  # type: ignore[call-overload]
    except (TypeError, ValueError):  # no rank: pd.NA, None
        return "–"


def headline_rows(comparison: Comparison, lang: str) -> list[tuple[str, str]]:
    """The headline figures as (label, value) pairs, in ``lang``."""
    t = texts(lang, "map", "bulletin")
    h = comparison.headline

    def arrow(a: str, b: str) -> str:
        return t["bu_arrow"].format(before=a, after=b)

    return [
        (t["bu_h_projects"], arrow(str(h["projects_before"]), str(h["projects_after"]))),
        (
            t["bu_h_investment"],
            arrow(_amount(h["investment_before"], t), _amount(h["investment_after"], t)),
        ),
        (t["bu_h_new"], str(h["new_projects"])),
        (t["bu_h_new_inv"], _amount(h["new_investment"], t)),
        (t["bu_h_removed"], str(h["removed_projects"])),
        (t["bu_h_ups"], str(h["step_ups"])),
        (t["bu_h_backs"], str(h["step_backs"])),
        (t["bu_h_stalled"], str(h["parks_without_progress"])),
    ]


def park_rows(comparison: Comparison, lang: str) -> tuple[list[str], list[list[str]]]:
    """Header and body of the per-park table."""
    t = texts(lang, "map", "bulletin")
    header = [
        t["bu_c_park"],
        t["bu_c_projects"],
        t["bu_c_investment"],
        t["bu_c_change"],
        t["bu_c_new"],
        t["bu_c_new_inv"],
        t["bu_c_removed"],
        t["bu_c_ups"],
        t["bu_c_backs"],
        t["bu_c_rank"],
    ]

    def arrow(a: str, b: str) -> str:
        return t["bu_arrow"].format(before=a, after=b)

    body = [
        [
            str(r["name"]),
            arrow(str(r["projects_before"]), str(r["projects_after"])),
            arrow(
                _amount(r["investment_before_100m_cny"], t),
                _amount(r["investment_after_100m_cny"], t),
            ),
            _signed(r["investment_change_100m_cny"], t),
            str(r["new_projects"]),
            _amount(r["new_investment_100m_cny"], t),
            str(r["removed_projects"]),
            str(r["step_ups"]),
            str(r["step_backs"]),
            arrow(_rank(r["rank_before"]), _rank(r["rank_after"])),
        ]
        for _, r in comparison.parks.iterrows()
    ]
    return header, body


def largest_new(comparison: Comparison, lang: str, n: int = TOP_NEW) -> list[list[str]]:
    """The ``n`` largest new projects: name, park, status, investment (unknown last)."""
    t = texts(lang, "map", "bulletin")
    new = comparison.changes[comparison.changes["change"] == "new"]
    new = new.sort_values(
        ["investment_100m_cny", "project_id"], ascending=[False, True], na_position="last"
    ).head(n)
    names = dict(zip(comparison.parks["park_id"], comparison.parks["name"], strict=False))
    return [
        [
            str(r["name"]),
            names.get(r["park_id"], str(r["park_id"])) or "–",
            t.get(f"status_{r['after']}", str(r["after"])),
            _amount(r["investment_100m_cny"], t),
        ]
        for _, r in new.iterrows()
    ]


def stalled_parks(comparison: Comparison) -> list[str]:
    """Names of the parks with no progress (:func:`parkmap.compare.no_progress`)."""
    parks = comparison.parks
    return parks.loc[no_progress(parks).to_numpy(), "name"].astype(str).tolist()


# ---------------------------------------------------------------------------------------------
# Markdown

_MD_SPECIAL = re.compile(r"([\\`*_\[\]{}()#+\-!|~>])")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def md_text(value: object) -> str:
    """A user's text as Markdown shows it literally: specials backslash-escaped, ``<`` and
    ``&`` as entities (no HTML), line breaks and control characters as spaces."""
    text = _CONTROL.sub(" ", str(value)).replace("\n", " ").replace("\r", " ")
    text = text.replace("&", "&amp;").replace("<", "&lt;")
    return _MD_SPECIAL.sub(r"\\\1", text)


def _md_table(header: list[str], body: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(md_text(h) for h in header) + " |"]
    lines.append("|" + "---|" * len(header))
    lines += ["| " + " | ".join(md_text(c) for c in row) + " |" for row in body]
    return lines


def bulletin_markdown(
    comparison: Comparison, new: Analysis, *, labels: tuple[str, str], lang: str = "zh"
) -> str:
    """``bulletin.md``: the bulletin's text and tables (the map is in ``map.html``)."""
    del new
    t = texts(lang, "map", "bulletin")
    match = comparison.match
    lines = [
        f"# {md_text(t['bu_title'])}",
        "",
        md_text(t["bu_period"].format(old=labels[0], new=labels[1])),
        "",
        f"## {md_text(t['bu_headline'])}",
        "",
    ]
    lines += [
        f"- {md_text(label)}: {md_text(value)}" for label, value in headline_rows(comparison, lang)
    ]
    lines += ["", f"## {md_text(t['bu_parks'])}", ""]
    lines += _md_table(*park_rows(comparison, lang))
    lines += ["", md_text(t["bu_rank_note"]), ""]
    lines += [f"## {md_text(t['bu_largest'])}", ""]
    top = largest_new(comparison, lang)
    header = [t["bu_c_project"], t["bu_c_park"], t["bu_c_status"], t["bu_c_investment"]]
    lines += _md_table(header, top) if top else [md_text(t["bu_none"])]
    lines += ["", f"## {md_text(t['bu_h_stalled'])}", ""]
    stalled = stalled_parks(comparison)
    lines += [f"- {md_text(name)}" for name in stalled] if stalled else [md_text(t["bu_none"])]
    lines += [
        "",
        md_text(t["bu_stalled_rule"]),
        "",
        md_text(t["bu_match"].format(by_id=match.by_id, by_name=match.by_name_park)),
        "",
    ]
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# PDF


def _footer(fig: Figure, setup: FontSetup, page: int, pages: int, scale: float) -> None:
    text = texts(setup.lang, "sheet")["page"].format(page=page, pages=pages)
    fig.text(0.03, 0.02, text, ha="left", fontsize=7 * scale, color="#666666")


def _title(fig: Figure, setup: FontSetup, title: str, subtitle: str, scale: float) -> None:
    fig.text(0.03, 0.965, title, fontsize=17 * scale, fontweight="bold", va="top")
    fig.text(0.03, 0.915, subtitle, fontsize=9.5 * scale, color="#444444", va="top")


def figures_page(
    comparison: Comparison, setup: FontSetup, *, sheet: Sheet, labels: tuple[str, str]
) -> Figure:
    """Page 1: headline figures on the left, the table of parks on the right."""
    t = texts(setup.lang, "map", "bulletin")
    scale = sheet.scale
    fig = Figure(figsize=sheet.inches)
    _title(fig, setup, t["bu_title"], t["bu_period"].format(old=labels[0], new=labels[1]), scale)
    fig.text(0.03, 0.83, t["bu_headline"], fontsize=12 * scale, fontweight="bold", va="top")
    y = 0.77
    for label, value in headline_rows(comparison, setup.lang):
        fig.text(0.03, y, label, fontsize=9.5 * scale, va="top")
        fig.text(0.30, y, value, fontsize=9.5 * scale, va="top", ha="right")
        y -= 0.05
    fig.text(0.34, 0.83, t["bu_parks"], fontsize=12 * scale, fontweight="bold", va="top")
    header, body = park_rows(comparison, setup.lang)
    body = [[setup.safe(row[0], "–"), *row[1:]] for row in body]
    ax = fig.add_axes((0.34, 0.14, 0.63, 0.66))
    draw_table(
        ax, header, body, [0.22, 0.08, 0.14, 0.08, 0.07, 0.09, 0.06, 0.06, 0.06, 0.08], scale
    )
    note = (
        t["bu_rank_note"]
        + " · "
        + t["bu_match"].format(by_id=comparison.match.by_id, by_name=comparison.match.by_name_park)
    )
    fig.text(0.03, 0.06, note, fontsize=7.5 * scale, color="#333333", va="bottom")
    return fig


def change_map_page(
    comparison: Comparison,
    new: Analysis,
    setup: FontSetup,
    *,
    sheet: Sheet,
    labels: tuple[str, str],
) -> Figure:
    """Page 2: the parks of the new snapshot and the changes, with a legend of the kinds."""
    import geopandas as gpd

    t = texts(setup.lang, "map", "bulletin")
    scale = sheet.scale
    fig = Figure(figsize=sheet.inches)
    data = prepare(new.parks, new.projects, new.context, scheme="quantiles", k=5, lang=setup.lang)
    # the projects themselves are not drawn: the page is about what changed
    data = replace(data, projects=data.projects.iloc[:0])
    drawn = map_changes(comparison.changes)
    located = drawn[np.isfinite(drawn["lon"]) & np.isfinite(drawn["lat"])]
    points = gpd.GeoDataFrame(
        located, geometry=gpd.points_from_xy(located["lon"], located["lat"]), crs="EPSG:4326"
    ).to_crs(data.crs)
    width_in, height_in = sheet.inches
    box = (0.03, 0.085, 0.72, 0.80)
    ax = fig.add_axes(box)
    bounds = list(data_bounds(data))
    if len(points):
        x0, y0, x1, y1 = points.total_bounds
        bounds = [min(bounds[0], x0), min(bounds[1], y0), max(bounds[2], x1), max(bounds[3], y1)]
    extent = fit_extent(bounds, box[2] * width_in, box[3] * height_in, pad=0.05)
    draw_map(ax, data, setup, extent=extent, scale=scale)
    handles = []
    for key, (color, symbol) in CHANGE_SYMBOLS.items():
        mine = points[points["kind"] == key]
        marker = MARKERS[symbol]
        if len(mine):
            ax.scatter(
                mine.geometry.x,
                mine.geometry.y,
                s=60 * scale**2,
                marker=marker,
                c=color,
                edgecolors="white",
                linewidths=0.8,
                zorder=100,  # above the park labels: a change is what the page is about
            )
        count = int((drawn["kind"] == key).sum())
        handles.append(
            Line2D(
                [],
                [],
                marker=marker,
                linestyle="none",
                markersize=8 * scale,
                markerfacecolor=color,
                markeredgecolor="white",
                label=f"{t[f'chg_{key}']} ({count})",
            )
        )
    legend_ax = fig.add_axes((0.77, 0.085, 0.21, 0.80))
    legend_ax.set_axis_off()
    legend_ax.legend(
        handles=handles,
        title=t["chg_legend"],
        loc="upper left",
        frameon=False,
        fontsize=9 * scale,
        title_fontsize=10 * scale,
    )
    header_footer(
        fig,
        setup,
        data,
        title=t["bu_map"],
        subtitle=t["bu_period"].format(old=labels[0], new=labels[1]),
        caption=None,
        scale=scale,
    )
    return fig


def lists_page(comparison: Comparison, setup: FontSetup, *, sheet: Sheet) -> Figure:
    """Page 3: the largest new projects, and the parks with no progress."""
    t = texts(setup.lang, "map", "bulletin")
    scale = sheet.scale
    fig = Figure(figsize=sheet.inches)
    _title(fig, setup, t["bu_largest"], "", scale)
    top = [
        [setup.safe(r[0], "–"), setup.safe(r[1], "–"), *r[2:]]
        for r in largest_new(comparison, setup.lang)
    ]
    header = [t["bu_c_project"], t["bu_c_park"], t["bu_c_status"], t["bu_c_investment"]]
    ax = fig.add_axes((0.03, 0.40, 0.94, 0.50))
    if top:
        draw_table(ax, header, top, [0.45, 0.30, 0.12, 0.13], scale)
    else:
        ax.set_axis_off()
        ax.text(0, 1, t["bu_none"], va="top", fontsize=9.5 * scale, transform=ax.transAxes)
    fig.text(0.03, 0.34, t["bu_h_stalled"], fontsize=12 * scale, fontweight="bold", va="top")
    stalled = [setup.safe(name, "–") for name in stalled_parks(comparison)]
    listed = t["bu_sep"].join(stalled) or t["bu_none"]
    fig.text(0.03, 0.29, listed, fontsize=9.5 * scale, va="top", wrap=True)
    fig.text(0.03, 0.06, t["bu_stalled_rule"], fontsize=7.5 * scale, color="#333333")
    return fig


def bulletin_bytes(
    comparison: Comparison,
    new: Analysis,
    setup: FontSetup,
    *,
    labels: tuple[str, str],
    sheet: Sheet | None = None,
) -> bytes:
    """The bulletin as PDF bytes: figures and parks, the change map, the lists."""
    sheet = sheet or Sheet()
    t = texts(setup.lang, "bulletin")
    buffer = _io.BytesIO()
    with setup.use():
        pages = [
            figures_page(comparison, setup, sheet=sheet, labels=labels),
            change_map_page(comparison, new, setup, sheet=sheet, labels=labels),
            lists_page(comparison, setup, sheet=sheet),
        ]
        with PdfPages(buffer, metadata={"Title": t["bu_title"], "Creator": "parkmap"}) as pdf:
            for number, fig in enumerate(pages, start=1):
                _footer(fig, setup, number, len(pages), sheet.scale)
                pdf.savefig(fig)
    return buffer.getvalue()


def save_bulletin_pdf(
    path: Path,
    comparison: Comparison,
    new: Analysis,
    setup: FontSetup,
    *,
    labels: tuple[str, str],
) -> Path:
    """Write ``bulletin.pdf`` atomically (arguments as :func:`bulletin_bytes`)."""
    return atomic_write(path, bulletin_bytes(comparison, new, setup, labels=labels))

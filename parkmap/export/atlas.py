"""``atlas.pdf``: a cover with citywide totals, an overview map, then one page per park.

Given the cluster results, a page of investment hot spots and project clusters
(:mod:`parkmap.export.hotspots`) follows the overview. Page count is ``2 + number of parks``,
``3 + number of parks`` with that page.
"""

from __future__ import annotations

import io as _io
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure

from parkmap.export.static_map import (
    MapData,
    Rect,
    Sheet,
    data_bounds,
    draw_map,
    draw_table,
    fit_extent,
    header_footer,
    map_figure,
    park_label,
    status_label,
)
from parkmap.fonts import FontSetup
from parkmap.i18n import fmt_number, other_language, park_name, texts, with_unit
from parkmap.metrics import STATUS, citywide_totals
from parkmap.settings import STATUSES
from parkmap.write import atomic_write

if TYPE_CHECKING:
    from parkmap.cluster import ClusterAnalysis

#: Projects listed on each park's page.
TOP_N = 10


def park_projects(projects: pd.DataFrame, park_id: str) -> pd.DataFrame:
    """Projects inside a park (also those in two overlapping parks), largest investment first."""
    if not len(projects):
        return projects
    member = projects["park_ids"].astype(str).str.split(";").map(lambda ids: park_id in ids)
    inside = projects[member.to_numpy(dtype=bool)]
    inv = pd.to_numeric(inside["investment_100m_cny"], errors="coerce")
    return (
        inside.assign(_inv=inv)
        .sort_values("_inv", ascending=False, na_position="last", kind="stable")
        .drop(columns="_inv")
    )


def top_projects(projects: pd.DataFrame, park_id: str, n: int = TOP_N) -> pd.DataFrame:
    """The ``n`` largest projects of a park by investment (unknown investment last)."""
    return park_projects(projects, park_id).head(n)


def _figure(value: object, t: dict[str, str]) -> str:
    """A figure for a page: :func:`parkmap.i18n.fmt_number`, or the word "unknown" for NaN
    (an amount the file does not give is not 0 and not a dash)."""
    try:
        x = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):  # None, pd.NA, text
        return t["unknown"]
    return t["unknown"] if np.isnan(x) else fmt_number(x)


def _ranks(parks: pd.DataFrame) -> pd.Series:
    """Each park's rank as a float, NaN where the park has none."""
    rank = pd.to_numeric(parks["rank"], errors="coerce").astype(float)
    return rank.where(rank > 0)


def _footer_page(fig: Figure, setup: FontSetup, page: int, pages: int, scale: float) -> None:
    text = texts(setup.lang, "sheet")["page"].format(page=page, pages=pages)
    fig.text(0.03, 0.02, text, ha="left", fontsize=7 * scale, color="#666666")


def cover_page(
    data: MapData,
    projects: pd.DataFrame,
    setup: FontSetup,
    *,
    sheet: Sheet,
    title: str,
    caption: str | None,
) -> Figure:
    """Cover: title, citywide totals and the park table ranked by density."""
    t = texts(setup.lang, "map", "sheet")
    scale = sheet.scale
    fig = Figure(figsize=sheet.inches)
    fig.text(0.06, 0.88, title, fontsize=24 * scale, fontweight="bold", va="top")
    fig.text(0.06, 0.80, t["cover_title"], fontsize=15 * scale, color="#444444", va="top")
    totals = citywide_totals(projects)
    rows = [
        (t["total_parks"], f"{len(data.parks)}"),
        (t["total_projects"], f"{totals['projects']}"),
        (t["total_investment"], _figure(totals["investment_100m_cny"], t)),
        (t["total_unknown"], f"{totals['projects_unknown_investment']}"),
        (t["total_outside"], f"{totals['projects_outside_parks']}"),
    ]
    fig.text(0.06, 0.70, t["totals"], fontsize=12 * scale, fontweight="bold", va="top")
    y = 0.645
    for label, value in rows:
        fig.text(0.06, y, label, fontsize=10 * scale, va="top")
        fig.text(0.36, y, value, fontsize=10 * scale, va="top", ha="right")
        y -= 0.045
    ax = fig.add_axes((0.42, 0.16, 0.54, 0.56))
    _park_table(ax, data, setup, scale)
    header_footer(
        fig, setup, data, title="", subtitle="", caption=caption, scale=scale, on_map=False
    )
    return fig


def _park_table(ax: Axes, data: MapData, setup: FontSetup, scale: float) -> None:
    t = texts(setup.lang)
    lang = setup.lang
    ax.set_axis_off()
    parks = data.parks.assign(_rank=_ranks(data.parks).fillna(np.inf))
    parks = parks.sort_values(["_rank", "park_id"])
    header = [
        t["rank"],
        t["park"],
        with_unit(lang, t["area"], t["unit_area"]),
        t["projects"],
        with_unit(lang, t["investment"], t["unit_100m"]),
        with_unit(lang, t["density"], t["unit_density"]),
    ]
    body = [
        [
            str(int(r["_rank"])) if np.isfinite(r["_rank"]) else "–",
            park_label(r, setup),
            fmt_number(float(r["area_km2"])),
            str(int(r["projects"])),
            _figure(r["investment_100m_cny"], t),
            _figure(r["density_100m_cny_per_km2"], t),
        ]
        for _, r in parks.iterrows()
    ]
    draw_table(ax, header, body, [0.08, 0.37, 0.12, 0.09, 0.17, 0.17], scale)


def overview_page(
    data: MapData, setup: FontSetup, *, sheet: Sheet, title: str, subtitle: str, caption: str | None
) -> Figure:
    """The overview: the same sheet as ``map.pdf``."""
    return map_figure(data, setup, sheet=sheet, title=title, subtitle=subtitle, caption=caption)


def park_page(
    data: MapData,
    index: int,
    projects: pd.DataFrame,
    setup: FontSetup,
    *,
    sheet: Sheet,
    caption: str | None,
) -> Figure:
    """One park: zoomed map with its projects, its figures, rank, and its largest projects."""
    lang = setup.lang
    t = texts(lang, "map", "sheet", "form")
    scale = sheet.scale
    row = data.parks.iloc[index]
    park_id = str(row["park_id"])
    fig = Figure(figsize=sheet.inches)
    width_in, height_in = sheet.inches
    map_box: Rect
    info_box: Rect
    if sheet.orientation == "landscape":
        map_box, info_box, legend_box = (0.03, 0.085, 0.5, 0.8), (0.56, 0.085, 0.41, 0.8), None
    else:
        map_box, info_box, legend_box = (0.05, 0.43, 0.9, 0.46), (0.05, 0.06, 0.9, 0.33), None
    ax = fig.add_axes(map_box)
    extent = fit_extent(
        data_bounds(data, [park_id]), map_box[2] * width_in, map_box[3] * height_in, pad=0.12
    )
    draw_map(ax, data, setup, extent=extent, scale=scale, focus=park_id)
    del legend_box
    names = [park_label(row, setup)]
    other = setup.safe(park_name(row, other_language(lang)))
    if other and other not in names:
        names.append(other)
    ranks = _ranks(data.parks)
    ranked = int(ranks.notna().sum())
    rank = ranks.iloc[index]
    subtitle = " · ".join(
        [
            *names[1:],
            t["rank"]
            + " "
            + (t["rank_of"].format(rank=int(rank), n=ranked) if np.isfinite(rank) else "–"),
        ]
    )
    header_footer(fig, setup, data, title=names[0], subtitle=subtitle, caption=caption, scale=scale)
    info = fig.add_axes(info_box)
    info.set_axis_off()
    counts = {s: pd.to_numeric(row.get(f"projects_{s}", 0), errors="coerce") for s in STATUSES}
    by_status = ", ".join(
        f"{status_label(s, lang)} {int(n)}" for s, n in counts.items() if pd.notna(n) and n
    )
    if STATUS in data.unknown and int(row["projects"]):
        by_status = t["no_status_data"]
    facts = [
        (with_unit(lang, t["area"], t["unit_area"]), fmt_number(float(row["area_km2"]))),
        (t["projects"], int(row["projects"])),
        (
            with_unit(lang, t["investment"], t["unit_100m"]),
            _figure(row["investment_100m_cny"], t),
        ),
        (
            with_unit(lang, t["density"], t["unit_density"]),
            _figure(row["density_100m_cny_per_km2"], t),
        ),
        (t["by_status"], by_status),
    ]
    lines = [t["label_value"].format(label=label, value=value) for label, value in facts]
    y = 1.0
    for line in lines:
        info.text(0.0, y, line, fontsize=9.5 * scale, va="top", transform=info.transAxes)
        y -= 0.055
    y -= 0.02
    top = top_projects(projects, park_id)
    info.text(
        0.0,
        y,
        t["top_projects"].format(n=TOP_N),
        fontsize=10 * scale,
        fontweight="bold",
        va="top",
        transform=info.transAxes,
    )
    if not len(top):
        info.text(
            0.0, y - 0.06, t["no_projects"], fontsize=9 * scale, va="top", transform=info.transAxes
        )
        return fig
    table_ax = fig.add_axes((info_box[0], info_box[1], info_box[2], info_box[3] * (y - 0.05)))
    table_ax.set_axis_off()
    header = [
        "#",
        t["col_name"],
        t["col_industry"],
        t["col_status"],
        t["col_investment"],
        t["col_date"],
    ]
    body = []
    for i, (_, p) in enumerate(top.iterrows(), start=1):
        date = p.get("signed_date")
        body.append(
            [
                str(i),
                setup.safe(p.get("name"), p.get("project_id")),
                setup.safe(p.get("industry"), ""),
                status_label(str(p.get("status")), lang),
                _figure(p["investment_100m_cny"], t),
                "" if pd.isna(date) else pd.Timestamp(date).strftime("%Y-%m-%d"),
            ]
        )
    draw_table(table_ax, header, body, [0.05, 0.33, 0.13, 0.17, 0.16, 0.16], scale)
    return fig


def atlas_bytes(
    data: MapData,
    projects: pd.DataFrame,
    setup: FontSetup,
    *,
    sheet: Sheet,
    title: str,
    subtitle: str,
    caption: str | None,
    clusters: ClusterAnalysis | None = None,
) -> bytes:
    """The atlas as PDF bytes: cover, overview, the hot-spot page when ``clusters`` is given
    (from :func:`parkmap.cluster.cluster_analysis`), then one page per park (in the parks'
    order)."""
    figures: list[Figure] = [
        cover_page(data, projects, setup, sheet=sheet, title=title, caption=caption),
        overview_page(data, setup, sheet=sheet, title=title, subtitle=subtitle, caption=caption),
    ]
    if clusters is not None:
        from parkmap.export.hotspots import hotspot_page

        figures.append(hotspot_page(data, clusters, setup, sheet=sheet, caption=caption))
    pages = len(figures) + len(data.parks)
    buffer = _io.BytesIO()
    with PdfPages(buffer, metadata={"Title": title, "Creator": "parkmap"}) as pdf:
        for number, fig in enumerate(figures, start=1):
            _footer_page(fig, setup, number, pages, sheet.scale)
            pdf.savefig(fig)
        first = len(figures) + 1
        for i in range(len(data.parks)):
            fig = park_page(data, i, projects, setup, sheet=sheet, caption=caption)
            _footer_page(fig, setup, first + i, pages, sheet.scale)
            pdf.savefig(fig)
    return buffer.getvalue()


def save_atlas(path: Path, **kwargs: object) -> Path:
    """Write ``atlas.pdf`` atomically (arguments as :func:`atlas_bytes`)."""
    return atomic_write(path, atlas_bytes(**kwargs))  # type: ignore[arg-type]

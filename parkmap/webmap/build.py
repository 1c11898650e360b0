"""``build_map()``: parks, projects and context into one self-contained folium map."""

from __future__ import annotations

import functools
import html
import itertools
import math
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from folium.map import FitBounds, LayerControl

from parkmap.classes import NO_DATA, NO_PROJECTS, Classes, classify
from parkmap.errors import InputError, UsageError
from parkmap.i18n import fmt_number, scheme_label, texts, with_unit
from parkmap.metrics import INVESTMENT, STATUS, unknown_figures
from parkmap.settings import COLOR_BY, LANGUAGES, STATUSES
from parkmap.style import NO_PROJECTS_COLOR
from parkmap.webmap import basemaps, payloads
from parkmap.webmap.elements import RuntimeCall, RuntimeLayer, root_figure
from parkmap.webmap.offline import OfflineMap
from parkmap.write import open_descriptor

DENSITY_COLUMN = "density_100m_cny_per_km2"


def build_map(
    parks: pd.DataFrame,
    projects: pd.DataFrame,
    *,
    context: pd.DataFrame | None = None,
    density: Any = None,
    hexes: pd.DataFrame | None = None,
    totals: tuple[int, float] | None = None,
    breakdown: pd.DataFrame | None = None,
    scheme: str = "quantiles",
    k: int = 5,
    lang: str = "zh",
    color_by: str = "status",
    title: str | None = None,
    data_note: str | None = None,
    basemap: str = "none",
    tianditu_key: str | None = None,
    project_data: dict[str, Any] | None = None,
    packed_projects: dict[str, Any] | None = None,
) -> OfflineMap:
    """Build the interactive map of parks and investment projects.

    The page works without a network: Leaflet is inlined and there are no background tiles
    (add a ``folium.TileLayer`` to the returned map if an intranet tile server exists).

    Parameters
    ----------
    parks
        Park metrics (``parkmap.metrics.park_summary``): outlines with ``park_id``, ``name``,
        ``density_100m_cny_per_km2`` and, when present, the totals shown in the park popup.
    projects
        Projects joined to parks (``parkmap.join.join_projects_to_parks``).
    context
        Optional districts (``kind == "district"`` polygons) and landmarks (``"airport"``,
        ``"seat"`` points), with ``name_zh`` / ``name_en``.
    density
        Optional density surface (``parkmap.density.DensitySurface`` or any object with
        ``values``, ``bounds``, ``unit``), drawn as an image below the projects.
    totals
        ``(projects, investment in 亿元)`` for the title line when ``projects`` is a subset of
        all projects (a very large set drawn in part); counted from ``projects`` by default.
    hexes
        Optional hexagon grid (``parkmap.density.hex_grid``: ``count``,
        ``investment_100m_cny``, ``density_100m_cny_per_km2``, geometry; ``attrs["cell_km"]``),
        drawn as the layer "投资网格 (N km)", off when the page opens, coloured by investment
        per cell with the fixed breaks :data:`parkmap.webmap.payloads.HEX_BREAKS`.
    breakdown
        Optional long table (``park_id``, ``category``, ``projects``, ``investment_100m_cny``)
        whose top categories are listed in each park's popup.
    scheme, k
        Classification of park density (see :func:`parkmap.classes.classify`).
    lang
        ``"zh"`` or ``"en"``: language of every label.
    color_by
        ``"status"`` or ``"industry"``: what the project marker colour shows.
    title
        Title box text; a default title in ``lang`` when omitted.
    data_note
        Extra text for the data note (bottom left).
    basemap
        ``none`` (default: no tiles, no requests), ``osm``, ``amap``, ``amap-satellite`` or
        ``tianditu``. On an Amap basemap the layers must already be in GCJ-02
        (:func:`parkmap.webmap.basemaps.to_display`; :func:`parkmap.webmap.compose.make_map`
        does it).
    tianditu_key
        Key for the Tianditu basemap; ``TIANDITU_KEY`` from the environment when omitted.
    project_data
        The payload of ``projects`` (:func:`parkmap.webmap.payloads.projects_payload` with the
        same ``parks``, ``lang`` and ``color_by``) when the caller already made it; made here
        when omitted.
    packed_projects
        ``pack_projects(project_data)`` when the caller already packed it (while another
        thread worked out the density surface); packed when the page is rendered otherwise.

    Returns
    -------
    OfflineMap
        A ``folium.Map``; ordinary folium layers can still be added to it.

    Raises
    ------
    UsageError
        For an unknown ``lang``, ``color_by`` or ``scheme``.
    InputError
        When a table lacks a needed column.
    """
    check_choices(lang, color_by)
    tiles = basemaps.tile_layers(basemap, lang=lang, key=tianditu_key)
    for column in ("park_id", "geometry", DENSITY_COLUMN):
        if column not in parks.columns:
            raise InputError(f"parks lacks column {column}")
    t = texts(lang)
    unknown = unknown_figures(parks)
    density_values = parks[DENSITY_COLUMN].to_numpy(dtype=float)
    if INVESTMENT in unknown:
        # The file has no amounts: every park is "no data", even one whose 0 is a true 0.
        density_values = np.full(len(parks), np.nan)
    # Parks without projects are "no projects", not the lowest class (classes.NO_PROJECTS).
    no_projects = None
    if "projects" in parks.columns:
        counts = pd.to_numeric(parks["projects"], errors="coerce")
        no_projects = (counts.fillna(0) == 0).to_numpy()
    classes = classify(density_values, scheme, k, exclude=no_projects)

    park_data = payloads.parks_payload(parks, classes, breakdown, lang)
    park_data["unknown"] = sorted(unknown)
    if project_data is None:
        project_data = payloads.projects_payload(projects, parks, lang, color_by)
    south, west, north, east = _bounds(parks, project_data["columns"])

    m = OfflineMap(location=[(south + north) / 2, (west + east) / 2], zoom_start=10)
    root_figure(m).title = html.escape(title or t["title"])
    m.add_child(RuntimeCall("setup", {"lang": lang, "t": t}))
    # Listed in the layer control in this order. Stacking does not depend on it: panes put
    # density below and context above the shared canvas, where parks keep to the back.
    # The layer keeps the plain columns (for Python callers); the page gets them packed.
    m.add_child(
        RuntimeLayer(
            "projectsLayer",
            project_data,
            t["layer_projects"],
            encode=payloads.pack_projects
            if packed_projects is None
            else functools.partial(_already_packed, packed_projects),
            blocks=payloads.page_blocks,
        )
    )
    m.add_child(RuntimeLayer("parksLayer", park_data, t["layer_parks"]))
    density_data = payloads.density_payload(density) if density is not None else None
    if density_data is not None:
        m.add_child(RuntimeLayer("densityLayer", density_data, t["layer_density"]))
    hex_data = payloads.hexes_payload(hexes) if hexes is not None else None
    if hex_data is not None:
        name = t["layer_hexes"].format(km=_fmt_km(hex_data["cellKm"]))
        m.add_child(RuntimeLayer("hexLayer", hex_data, name, show=False))
    if context is not None and len(context):
        context_data = payloads.context_payload(context, lang)
        m.add_child(RuntimeLayer("contextLayer", context_data, t["layer_context"]))

    m.add_child(
        RuntimeCall(
            "addTitle",
            {
                "title": title or t["title"],
                "summary": _summary(t, parks, projects, totals, INVESTMENT not in unknown),
            },
        )
    )
    m.add_child(RuntimeCall("addFullscreen", {}))
    legend = _legend(t, lang, classes, project_data, density_data, unknown)
    legend["hexes"] = None if hex_data is None else _hex_legend(t, lang, hex_data)
    m.add_child(RuntimeCall("addLegend", legend))
    m.add_child(RuntimeCall("addFilters", _filters(project_data)))
    notes = _notes(t, parks, projects, data_note, project_data["missing"])
    if notes:
        m.add_child(RuntimeCall("addNote", {"lines": notes}))
    basemaps.add_tiles(m, tiles)
    m.add_child(LayerControl(collapsed=False))
    # at once, not animated: a zoom animation ending after the projects are painted would
    # paint them all again (a million projects: a second full redraw before the page settles)
    fit = FitBounds([[south, west], [north, east]], padding=(24, 24))
    fit.options["animate"] = False
    m.add_child(fit)
    return m


def check_choices(lang: str, color_by: str) -> None:
    """Refuse an unknown ``lang`` or ``color_by`` of :func:`build_map` (``UsageError``)."""
    if lang not in LANGUAGES:
        raise UsageError(f"unknown language {lang!r}; choose one of: {', '.join(LANGUAGES)}")
    if color_by not in COLOR_BY:
        raise UsageError(f"unknown color_by {color_by!r}; choose one of: {', '.join(COLOR_BY)}")


def _already_packed(packed: dict[str, Any], _data: dict[str, Any]) -> dict[str, Any]:
    return packed


def _bounds(parks: pd.DataFrame, columns: dict[str, Any]) -> tuple[float, ...]:
    boxes = []
    if len(parks):
        frame = payloads.to_wgs84(parks)
        west, south, east, north = (float(v) for v in frame.total_bounds)
        if all(math.isfinite(v) for v in (west, south, east, north)):
            boxes.append((south, west, north, east))
    lon = np.asarray(columns["lon"], dtype=float)
    lat = np.asarray(columns["lat"], dtype=float)
    if lon.size:
        boxes.append((lat.min(), lon.min(), lat.max(), lon.max()))
    if not boxes:
        raise InputError("nothing to map: no park outlines and no project coordinates")
    box = np.array(boxes)
    return box[:, 0].min(), box[:, 1].min(), box[:, 2].max(), box[:, 3].max()


def _summary(
    t: dict[str, str],
    parks: pd.DataFrame,
    projects: pd.DataFrame,
    totals: tuple[int, float] | None = None,
    investment_known: bool = True,
) -> str:
    if not investment_known:
        count = totals[0] if totals is not None else len(projects)
        return t["summary_unknown_inv"].format(parks=len(parks), projects=f"{count:,}")
    if totals is None:
        column = projects.get("investment_100m_cny")
        investment = 0.0 if column is None else np.nansum(pd.to_numeric(column, errors="coerce"))
        totals = (len(projects), float(investment))
    count, total = totals
    return t["summary"].format(
        parks=len(parks), projects=f"{count:,}", investment=fmt_number(total)
    )


def _legend(
    t: dict[str, str],
    lang: str,
    classes: Classes,
    projects: dict[str, Any],
    density: dict[str, Any] | None,
    unknown: frozenset[str] = frozenset(),
) -> dict[str, Any]:
    """Everything the legend shows; the runtime only lays it out.

    Figures the file says nothing about (``unknown``, :func:`parkmap.metrics.unknown_figures`)
    get one row saying so: parks in the no-data colour for investment, markers in the
    unknown-status colour for status.
    """
    # "cls" ties a row to the park classes of parksLayer, whose counts follow the filters.
    entries = [
        {"label": label, "color": color, "count": count, "cls": cls}
        for cls, (label, color, count) in enumerate(
            zip(classes.labels(), classes.colors, classes.counts, strict=True)
        )
    ]
    if (classes.yb == NO_DATA).any():
        entries.append(
            {
                "label": t["no_investment_data" if INVESTMENT in unknown else "no_data"],
                "color": payloads.NO_DATA_COLOR,
                "count": int((classes.yb == NO_DATA).sum()),
                "cls": NO_DATA,
            }
        )
    # Listed when a park has no project; the page adds the row when a filter empties one.
    no_projects = {
        "label": t["legend_no_projects"],
        "color": NO_PROJECTS_COLOR,
        "count": int((classes.yb == NO_PROJECTS).sum()),
        "cls": NO_PROJECTS,
    }
    if no_projects["count"]:
        entries.append(no_projects)
    scheme = scheme_label(lang, classes.scheme_name, classes.k) if classes.k else ""
    cols = projects["columns"]
    if projects["colorBy"] == "status" and STATUS in unknown:
        markers = [
            {
                "label": t["no_status_data"],
                "color": payloads.STATUS_COLORS["unknown"],
                "count": len(cols["st"]),
                # what the page counts for the row when the filters change (legend.js)
                "tally": ["all", []],
            }
        ]
        marker_title = t["legend_status"]
    elif projects["colorBy"] == "status":
        counts = np.bincount(np.asarray(cols["st"], dtype=np.intp), minlength=len(STATUSES))
        markers = [
            {
                "label": t[f"status_{s}"],
                "color": payloads.STATUS_COLORS[s],
                "count": int(n),
                "tally": ["st", [k]],
            }
            for k, (s, n) in enumerate(zip(STATUSES, counts, strict=True))
            if n
        ]
        marker_title = t["legend_status"]
    else:
        markers = _industry_entries(t, projects)
        marker_title = t["legend_industry"]
    return {
        "parks": {
            "title": with_unit(lang, t["legend_parks"], t["unit_density"]),
            "scheme": scheme,
            "entries": entries,
            "noProjects": no_projects,
        },
        "markers": {"title": marker_title, "entries": markers},
        "sizes": {
            "title": with_unit(lang, t["legend_size"], t["unit_100m"]),
            **_size_entries(projects["invMax"], _has_unknown(cols["inv"])),
        },
        "density": None
        if density is None
        else {
            "title": with_unit(lang, t["legend_density"], _density_unit(t, density["unit"])),
            "stops": density["stops"],
            "note": _bandwidth_note(t, density.get("bandwidthKm")),
        },
    }


def _density_unit(t: dict[str, str], unit: str) -> str:
    """The density surface's unit (:data:`parkmap.density.UNIT_WEIGHTED` / ``UNIT_COUNT``) in
    the page's language; any other unit as it is."""
    from parkmap.density import UNIT_COUNT, UNIT_WEIGHTED

    words = {UNIT_WEIGHTED: t["unit_density"], UNIT_COUNT: t["unit_count_density"]}
    return words.get(unit, unit)


def _bandwidth_note(t: dict[str, str], km: float | None) -> str:
    """``"带宽 0.78 km；…"``: the kernel's bandwidth in two significant figures."""
    if km is None:
        return ""
    from parkmap.density import tick_labels

    return t["density_bandwidth"].format(km=tick_labels([km], 2)[0])


def _fmt_km(km: float | None) -> str:
    if km is None:
        return "?"
    return f"{km:g}"


def _hex_legend(t: dict[str, str], lang: str, hex_data: dict[str, Any]) -> dict[str, Any]:
    """Legend rows of the investment grid: one per fixed class, with the number of cells."""
    breaks = hex_data["breaks"]
    labels = [f"≤ {breaks[0]:g}"]
    labels += [f"{a:g} – {b:g}" for a, b in itertools.pairwise(breaks)]
    labels.append(f"> {breaks[-1]:g}")
    title = t["legend_hexes"].format(km=_fmt_km(hex_data["cellKm"]))
    return {
        "title": with_unit(lang, title, t["unit_100m_cell"]),
        "entries": [
            {"label": label, "color": color, "count": n}
            for label, color, n in zip(labels, hex_data["colors"], hex_data["counts"], strict=True)
        ],
    }


def _filters(projects: dict[str, Any]) -> dict[str, Any]:
    """What the filter panel offers: years with dates and the investment range."""
    cols = projects["columns"]
    days = np.asarray(cols["day"], dtype=np.int64)
    dated = days[days >= 0]
    ends = (dated.min(), dated.max()) if dated.size else ()
    return {
        "years": [int(pd.Timestamp(int(d), unit="D").year) for d in ends],
        "hasUndated": bool((days < 0).any()),
        "hasUnknownInvestment": _has_unknown(cols["inv"]),
    }


def _has_unknown(investment: Any) -> bool:
    """Whether some project's investment is unknown (NaN, or ``None`` in a plain list)."""
    return bool(np.isnan(np.asarray(investment, dtype=float)).any())


def _industry_entries(t: dict[str, str], projects: dict[str, Any]) -> list[dict[str, Any]]:
    ind = np.asarray(projects["columns"]["ind"], dtype=np.intp)
    counts = np.bincount(ind, minlength=len(projects["industries"]))
    entries = []
    other = 0
    others: list[int] = []
    for k, (name, color, n) in enumerate(
        zip(projects["industries"], projects["industryColors"], counts, strict=False)
    ):
        if name in projects["topIndustries"]:
            entries.append({"label": name, "color": color, "count": int(n), "tally": ["ind", [k]]})
        else:
            other += int(n)
            others.append(k)
    if other:
        entries.append(
            {
                "label": t["other"],
                "color": payloads.OTHER_COLOR,
                "count": other,
                "tally": ["ind", others],
            }
        )
    return entries


def _nice(x: float) -> float:
    """Round down to 1, 2 or 5 times a power of ten."""
    if x <= 0:
        return 0.0
    power = 10 ** math.floor(math.log10(x))
    return max(m * power for m in (1, 2, 5) if m * power <= x)


def _size_entries(inv_max: float | None, has_unknown: bool) -> dict[str, Any]:
    values: list[float] = []
    if inv_max:
        values = sorted({_nice(inv_max), _nice(inv_max / 4), _nice(inv_max / 16)}, reverse=True)
        values = [v for v in values if v > 0]
    return {"max": inv_max, "values": values, "unknown": has_unknown}


def _notes(
    t: dict[str, str],
    parks: pd.DataFrame,
    projects: pd.DataFrame,
    data_note: str | None,
    missing: int,
) -> list[str]:
    notes = [data_note] if data_note else []
    if "accuracy" in parks.columns and (parks["accuracy"].astype(str) == "schematic").any():
        notes.append(t["note_schematic"])
    if "source" in projects.columns:
        synthetic = int(
            (projects["source"].astype(str).str.strip().str.lower() == "synthetic").sum()
        )
        if synthetic:
            notes.append(t["note_synthetic"].format(n=synthetic))
    if missing:
        notes.append(t["note_missing"].format(n=missing))
    return notes


def save_map(m: OfflineMap, path: str | os.PathLike[str]) -> Path:
    """Write the map's HTML atomically (temporary file in the same folder, then rename).

    Parameters
    ----------
    m
        The map from :func:`build_map` (or any folium map).
    path
        Target ``.html`` file; its folder is created when missing.

    Returns
    -------
    pathlib.Path
        The written file.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    text = m.get_root().render()
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with open_descriptor(fd, "w") as handle:
            handle.write(text)
        os.chmod(tmp, 0o644)  # mkstemp creates 0600; the map is meant to be shared
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target

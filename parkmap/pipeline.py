"""The whole path from files to outputs, as library calls the CLI and notebooks share.

``load → join → metrics → map → files``; each step lives in its own module, this one only
strings them together and decides where the outputs go.
"""

from __future__ import annotations

import importlib
import os
import sys
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from parkmap import metrics, parse, read, validate, write
from parkmap.coords import records_to_wgs84
from parkmap.errors import UsageError
from parkmap.join import join_projects_to_parks
from parkmap.settings import (
    OUTPUT_MAP,
    OUTPUT_PARKS,
    OUTPUT_PROJECTS,
    OUTPUT_REJECTED,
    BuildOptions,
    InputOptions,
    MapOptions,
    PathLike,
)

#: Most projects drawn as points on one page (about 3.5 MB of HTML per 100,000).
MAX_MAP_POINTS = 120_000


@dataclass
class Analysis:
    """Everything computed from one set of inputs, before anything is written.

    Attributes
    ----------
    parks
        Park polygons with their figures (:func:`parkmap.metrics.park_summary`).
    projects
        Mapped projects joined to the parks, with warnings.
    rejected
        Rejected rows with reasons.
    breakdown
        Projects and investment per park and industry.
    summary
        Row outcome counts.
    problems
        One line per rejected row or warning, naming file, row and column.
    notes
        File-level remarks (units assumed, layers repaired, reprojected or converted).
    alerts
        Warnings about the whole file, such as coordinates that look like another system.
    context
        Context features for the map (district outlines, airport), or ``None``.
    """

    parks: gpd.GeoDataFrame
    projects: gpd.GeoDataFrame
    rejected: pd.DataFrame
    breakdown: pd.DataFrame
    summary: validate.Summary
    problems: list[str]
    notes: list[str] = field(default_factory=list)
    alerts: list[str] = field(default_factory=list)
    context: gpd.GeoDataFrame | None = None


def analyse(inputs: InputOptions | PathLike | None = None) -> Analysis:
    """Load project records and park layers, join them and compute the park figures.

    The stages run in order: read → validate → to WGS-84 → join → check coordinates →
    metrics.

    Parameters
    ----------
    inputs
        Where the data comes from (:class:`parkmap.settings.InputOptions`); a path alone
        means ``InputOptions(projects=path)``; ``None`` the bundled Qingdao demo.
    """
    if inputs is None or isinstance(inputs, (str, os.PathLike)):
        inputs = InputOptions(projects=inputs)
    from parkmap.coord_check import check_coordinate_system
    from parkmap.coords import choose_metric_crs

    if inputs.investment_unit is not None:
        parse.canonical_unit(inputs.investment_unit)  # a bad option fails before any reading
    # read
    park_paths = list(inputs.parks) or [read.bundled_path("parks.geojson")]
    park_layer = read.parks_from_files(
        park_paths,
        id_field=inputs.park_id_field,
        name_field=inputs.park_name_field,
        coords=inputs.parks_coords,
    )
    projects = inputs.projects
    raw = read.project_table(
        projects if projects is not None else read.bundled_path("projects.csv"),
        sheet=inputs.sheet,
    )
    # validate: every row kept (perhaps with warnings) or rejected with a reason
    loaded = validate.validate_records(
        raw.table,
        path=raw.path,
        encoding=raw.encoding,
        row_label=raw.row_label,
        first_row=raw.first_row,
        investment_unit=inputs.investment_unit,
        coords=inputs.coords,
    )
    # to WGS-84
    loaded.projects = records_to_wgs84(loaded.projects, loaded.notes)
    # join, then check the coordinate system against the parks, then the park figures
    joined = join_projects_to_parks(loaded.projects, park_layer)
    alerts = []
    check = check_coordinate_system(loaded.projects, park_layer)
    if check is not None and check.suspicious:
        alerts.append(check.message())
    _, metric_note = choose_metric_crs(joined["lon"].to_numpy())
    notes = [*park_layer.attrs.get("notes", []), *loaded.notes]
    if metric_note:
        notes.append(metric_note)
    summary = metrics.park_summary(park_layer, joined)
    breakdown = metrics.park_breakdown(park_layer, joined, by="industry")
    return Analysis(
        parks=summary,
        projects=joined,
        rejected=loaded.rejected,
        breakdown=breakdown,
        summary=validate.summarise(joined, loaded.rejected),
        problems=validate.problems(
            joined, loaded.rejected, path=loaded.path, row_label=loaded.row_label
        ),
        notes=notes,
        alerts=alerts,
        context=_context_near(park_layer),
    )


def _context_near(parks: gpd.GeoDataFrame) -> gpd.GeoDataFrame | None:
    """The bundled Qingdao context layer, when the parks lie in or near Qingdao."""
    context = read.context_from_file()
    area = shapely.box(*context.total_bounds).buffer(0.5)
    return context if shapely.intersects(area, shapely.box(*parks.total_bounds)) else None


def make_map(analysis: Analysis, options: MapOptions | None = None) -> Any:
    """The interactive map (a ``folium.Map``) of an analysis.

    The investment density surface is added when at least one project has a known, positive
    investment. The hexagon grid (``cell_km`` between cell centres) covers the parks. On an
    Amap basemap every layer is shifted into GCJ-02 first, so it lines up with Amap's roads.
    """
    options = options or MapOptions()
    lang = options.lang
    from parkmap.density import hex_grid, kde_surface
    from parkmap.webmap import build_map
    from parkmap.webmap.basemaps import display_system, to_display
    from parkmap.webmap.payloads import largest_first

    system = display_system(options.basemap)
    parks = to_display(analysis.parks, system)
    all_projects = analysis.projects
    investment = all_projects["investment_100m_cny"].to_numpy(dtype=float, na_value=np.nan)
    # The density surface and the grid need positions and amounts only: a two-column frame
    # keeps a million-project map from copying every column.
    located = to_display(all_projects[["investment_100m_cny", all_projects.geometry.name]], system)
    with_money = located[np.nan_to_num(investment) > 0]
    surface = None
    if len(with_money):
        surface = kde_surface(with_money, bandwidth_km=options.bandwidth_km)
    hexes = hex_grid(located, cell_km=options.cell_km, cover=parks) if len(located) else None
    # Past MAX_MAP_POINTS the page would outgrow its size and load targets: it draws the
    # largest projects as points, while the density surface and the grid count them all.
    note, totals, drawn = None, None, all_projects
    if len(all_projects) > MAX_MAP_POINTS:
        order = largest_first(investment, np.arange(len(all_projects)))
        drawn = all_projects.iloc[order[:MAX_MAP_POINTS]]
        totals = (len(all_projects), float(np.nansum(investment)))
        note = (
            f"图上标出投资额最大的 {MAX_MAP_POINTS:,} 个项目（共 {len(all_projects):,} 个）；"
            "核密度与投资网格包含全部项目"
            if lang == "zh"
            else f"Points show the {MAX_MAP_POINTS:,} largest of {len(all_projects):,} projects; "
            "the density surface and the grid count all of them"
        )
    drawn = to_display(drawn, system)
    return build_map(
        parks,
        drawn,
        context=to_display(analysis.context, system),
        density=surface,
        breakdown=analysis.breakdown,
        scheme=options.scheme,
        k=options.k,
        lang=lang,
        color_by=options.color_by,
        title=options.title,
        basemap=options.basemap,
        tianditu_key=options.tianditu_key,
        hexes=hexes,
        totals=totals,
        data_note=note,
    )


def write_outputs(analysis: Analysis, out: PathLike, *, folium_map=None) -> dict[str, Path]:
    """Write ``map.html`` (when a map is given), ``parks.csv``, ``projects.geojson``,
    ``rejected.csv`` into ``out``; return their paths by name."""
    from parkmap.webmap import save_map

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    if folium_map is not None:
        written["map"] = save_map(folium_map, out / OUTPUT_MAP)
    written.update(write_tables(analysis, out))
    return written


def write_tables(analysis: Analysis, out: PathLike) -> dict[str, Path]:
    """Write ``parks.csv``, ``projects.geojson`` and ``rejected.csv`` into ``out``."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    return {
        "parks": write.save_table_csv(metrics.parks_table(analysis.parks), out / OUTPUT_PARKS),
        "projects": write.save_projects_geojson(analysis.projects, out / OUTPUT_PROJECTS),
        "rejected": write.save_rejected(analysis.rejected, out / OUTPUT_REJECTED),
    }


def _import_in_background(module: str) -> None:
    """Import ``module`` on a daemon thread while the data loads.

    Folium takes about 0.3 s to import (it compiles its templates at import), mostly time the
    loading step leaves a second core idle. Only third-party packages the loading step never
    imports are preloaded this way, so the two threads cannot wait on each other's imports.
    """
    if module not in sys.modules:
        threading.Thread(
            target=importlib.import_module, args=(module,), name=f"import-{module}", daemon=True
        ).start()


def build(
    options: BuildOptions | None = None, *, progress: Callable[..., None] | None = None
) -> tuple[Analysis, dict[str, Path]]:
    """Analyse the inputs, build the map and write every output of ``parkmap build``.

    Parameters
    ----------
    options
        Inputs, map, output folder and engine (:class:`parkmap.settings.BuildOptions`);
        ``None`` builds the bundled demo into ``maps``.
    progress
        Optional ``progress(done, total, label)`` called as each step starts.

    Returns
    -------
    analysis, written
        The analysis and the paths written, by name (``map``, ``parks``, ``projects``,
        ``rejected``).
    """
    options = options or BuildOptions()
    if options.engine == "dask":
        return _build_dask(options, progress)
    if options.engine != "memory":
        raise UsageError(f"unknown engine {options.engine!r}; choose memory or dask")
    out = options.out
    report = progress or (lambda done, total=None, label=None: None)
    _import_in_background("folium")
    report(0, 3, "loading and joining")
    analysis = analyse(options.inputs)
    report(1, 3, "drawing the map")
    # The tables are written on a second thread while the map is drawn: the GeoJSON encoder
    # runs in Arrow's C++ kernels without the GIL, so on two cores the two overlap.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="parkmap-tables") as pool:
        tables = pool.submit(write_tables, analysis, out)
        folium_map = make_map(analysis, options.map)
        report(2, 3, "writing")
        from parkmap.webmap import save_map

        written = {"map": save_map(folium_map, Path(out) / OUTPUT_MAP)}
        written.update(tables.result())
    report(3, 3, "done")
    return analysis, written


def _build_dask(
    options: BuildOptions, progress: Callable[..., None] | None
) -> tuple[Any, dict[str, Path]]:
    """The Dask engine: park figures and row outcomes of a partitioned Parquet file."""
    from parkmap.dask_engine import analyse_dask, write_dask_outputs

    inputs = options.inputs
    if inputs.projects is None:
        raise UsageError("the dask engine needs project records (a Parquet file or folder)")
    result = analyse_dask(
        inputs.projects,
        inputs.parks,
        scheduler=options.scheduler,
        progress=progress,
        investment_unit=inputs.investment_unit,
        coords=inputs.coords,
        parks_coords=inputs.parks_coords,
        park_id_field=inputs.park_id_field,
        park_name_field=inputs.park_name_field,
    )
    return result, write_dask_outputs(result, options.out)

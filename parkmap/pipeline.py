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
from pathlib import Path
from typing import Any

import geopandas as gpd
import shapely

from parkmap import metrics, parse, read, validate, write
from parkmap.analysis import Analysis
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
    PathLike,
)


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
        from parkmap.webmap.compose import make_map

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

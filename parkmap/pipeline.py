"""The whole path from files to outputs, as library calls the CLI and notebooks share.

``load → join → metrics → map → files``; each step lives in its own module, this one only
strings them together and decides where the outputs go.
"""

from __future__ import annotations

import dataclasses
import gc
import importlib
import os
import sys
import threading
import warnings
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from parkmap import cell_values, density, metrics, read, validate, write
from parkmap.analysis import Analysis
from parkmap.coords import records_to_wgs84, sharing_point_coordinates
from parkmap.errors import InputError, NothingMappedError, UsageError
from parkmap.join import join_projects_to_parks
from parkmap.plausibility import check_plausibility, summable_amounts
from parkmap.settings import (
    GEOJSON_AUTO_MAX_PROJECTS,
    GEOJSON_CHOICES,
    OUTPUT_MAP,
    OUTPUT_PARKS,
    OUTPUT_PROJECTS,
    OUTPUT_PROJECTS_PARQUET,
    OUTPUT_REJECTED,
    WGS84,
    BuildOptions,
    ClusterOptions,
    CompareOptions,
    ExportOptions,
    InputOptions,
    MapOptions,
    PathLike,
    display_system,
)

if TYPE_CHECKING:
    from parkmap.compare import Comparison
    from parkmap.fonts import FontSetup


def analyse(
    inputs: InputOptions | PathLike | None = None,
    *,
    on_points: Callable[[gpd.GeoDataFrame, gpd.GeoDataFrame], None] | None = None,
) -> Analysis:
    """Load project records and park layers, join them and compute the park figures.

    The stages run in order: read → validate → to WGS-84 → join → check coordinates →
    metrics.

    Parameters
    ----------
    inputs
        Where the data comes from (:class:`parkmap.settings.InputOptions`); a path alone
        means ``InputOptions(projects=path)``; ``None`` the bundled Qingdao demo.
    on_points
        Called with the mapped projects' WGS-84 points (and their validated columns) and the
        park layer as soon as the points exist, before the join, when there are any:
        ``parkmap build`` starts the density surface and the hexagon grid there. The frames
        are the ones the join and the park figures start from; they must not be changed.
    """
    if inputs is None or isinstance(inputs, (str, os.PathLike)):
        inputs = InputOptions(projects=inputs)
    from parkmap.coord_check import check_coordinate_system, park_layer_hint
    from parkmap.coords import choose_metric_crs

    if inputs.investment_unit is not None:
        cell_values.canonical_unit(inputs.investment_unit)  # a bad option fails before any reading
    # read: the park layer on a second thread while the projects load (GDAL and Arrow read
    # outside the GIL); a park layer that cannot be read is reported first, as if read first.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="parkmap-parks") as pool:
        parks_read = pool.submit(_park_layer, inputs)
        try:
            raw = _project_records(inputs)
        except BaseException:
            parks_read.result()
            raise
        park_layer = parks_read.result()
    # validate: every row kept (perhaps with warnings) or rejected with a reason
    loaded = validate.validate_records(
        raw, investment_unit=inputs.investment_unit, coords=inputs.coords
    )
    if loaded.read == 0:
        raise InputError(_no_rows_message(loaded.path, loaded.row_label))
    # to WGS-84
    loaded.projects = records_to_wgs84(loaded.projects, loaded.notes)
    if on_points is not None and len(loaded.projects):
        on_points(loaded.projects, park_layer)
    # join, plausibility, the park figures
    figures = _join_and_measure(loaded.projects, park_layer, inputs)
    joined = figures.projects
    # check the coordinate system against the parks
    alerts = []
    check = check_coordinate_system(loaded.projects, park_layer)
    if check is not None and check.suspicious:
        alerts.append(check.message())
    alerts.extend(park_layer_hint(park_layer, inputs.parks_coords))
    # with no project mapped, the parks decide (the note then speaks of the parks)
    west, _, east, _ = (
        park_layer.geometry.to_crs(WGS84).total_bounds if len(park_layer) else [np.nan] * 4
    )
    _, metric_note = choose_metric_crs(
        joined["lon"].to_numpy(dtype=float, na_value=np.nan), fallback=[west, east]
    )
    notes = [*park_layer.attrs.get("notes", []), *loaded.notes]
    if metric_note:
        notes.append(metric_note)
    notes.extend(metrics.unknown_notes(figures.known))  # "no investment column" is unknown
    notes.extend(figures.context_notes)
    return Analysis(
        known_figures=figures.known,
        parks=figures.parks,
        projects=joined,
        rejected=loaded.rejected,
        breakdown=figures.breakdown,
        summary=validate.summarise(joined, loaded.rejected, blank=len(loaded.blank_rows)),
        problems=validate.problems(
            joined, loaded.rejected, path=loaded.path, row_label=loaded.row_label
        ),
        notes=notes,
        alerts=alerts,
        context=figures.context,
    )


def _park_layer(inputs: InputOptions) -> gpd.GeoDataFrame:
    """The park layers of ``inputs`` (the bundled parks when it names none), in one layer."""
    return read.parks_from_files(
        list(inputs.parks) or [read.bundled_path("parks.geojson")],
        id_field=inputs.park_id_field,
        name_field=inputs.park_name_field,
        coords=inputs.parks_coords,
        encoding=inputs.parks_encoding,
    )


def _project_records(inputs: InputOptions) -> read.RawTable:
    """The project records of ``inputs`` as read (the bundled ledger when it names none)."""
    projects = inputs.projects
    if projects is None and (inputs.table is not None or inputs.query is not None):
        raise UsageError(
            "--table and --query need --projects: a database URL (postgresql://…) or a "
            ".gpkg/.sqlite file"
        )
    return read.project_table(
        projects if projects is not None else read.bundled_path("projects.csv"),
        sheet=inputs.sheet,
        header_row=inputs.header_row,
        table=inputs.table,
        query=inputs.query,
        snapshot=_snapshot(inputs),
    )


def _snapshot(inputs: InputOptions) -> tuple[str, Any] | None:
    """``(column, day)`` of a snapshot table's rows to read, or ``None`` for every row."""
    if inputs.snapshot_column is None and inputs.snapshot_date is None:
        return None
    if inputs.snapshot_column is None or inputs.snapshot_date is None:
        raise UsageError("a snapshot column and a snapshot date go together")
    from parkmap.history import parse_date

    return inputs.snapshot_column, parse_date(inputs.snapshot_date, "snapshot_date")


@dataclass
class _Figures:
    """What the join and metrics stages make of mapped records (:func:`_join_and_measure`)."""

    projects: gpd.GeoDataFrame
    known: frozenset[str]
    parks: gpd.GeoDataFrame
    breakdown: pd.DataFrame
    context: gpd.GeoDataFrame | None
    context_notes: list[str]


def _join_and_measure(
    points: gpd.GeoDataFrame, park_layer: gpd.GeoDataFrame, inputs: InputOptions
) -> _Figures:
    """Join WGS-84 project points to the parks, flag implausible rows and compute the park
    figures, the industry breakdown and the context layer: the steps :func:`analyse` and
    :func:`analyse_records` share."""
    joined = join_projects_to_parks(
        points, park_layer, declared_within_km=inputs.declared_within_km
    )
    # plausibility: far-off points and amounts in the wrong unit get row warnings
    joined = check_plausibility(joined)
    known = metrics.known_figures(joined)  # "no investment column" is unknown, not 0
    summary = metrics.park_summary(park_layer, joined, known=known)
    # What a default title is made of (parkmap.webmap.compose.default_title).
    summary.attrs["layer"] = {
        "demo": not inputs.parks,
        "name": Path(inputs.parks[0]).stem if len(inputs.parks) == 1 else "",
    }
    context_notes: list[str] = []
    if inputs.context is not None:
        context, context_notes = _user_context(inputs.context)
    else:
        context = _context_near(park_layer, joined)
    breakdown = metrics.park_breakdown(park_layer, joined, by="industry", known=known)
    return _Figures(joined, known, summary, breakdown, context, context_notes)


def _no_rows_message(path: PathLike, row_label: str) -> str:
    """ "ledger.csv: no data rows below the header" (or no features / records)."""
    if row_label == "row":
        return f"{Path(path).name}: no data rows below the header"
    if row_label not in ("feature", "record"):
        row_label = "record"  # a database table whose rows are named by their primary key
    return f"{Path(path).name}: no {row_label}s to read"


#: Margin (degrees, about 15 km) around the data's extent within which a bundled context
#: feature is drawn: the demo's airport lies some 10 km south of its parks.
CONTEXT_MARGIN_DEG = 0.15


def _context_near(
    parks: gpd.GeoDataFrame, projects: gpd.GeoDataFrame | None = None
) -> gpd.GeoDataFrame | None:
    """The features of the bundled Qingdao context layer that meet the data's extent.

    The extent is the box around the parks and the mapped projects, widened by
    :data:`CONTEXT_MARGIN_DEG`; a feature (district, seat, airport) is kept when it meets it.
    ``None`` when none does (data elsewhere than Qingdao).
    """
    boxes = []
    for layer in (parks, projects):
        if layer is None or not len(layer):
            continue
        if layer is projects and {"lon", "lat"} <= set(projects.columns):
            # The points' WGS-84 columns: 3 ms at a million projects, where shapely's bounds
            # of every point take 50 ms.
            lon = projects["lon"].to_numpy(dtype=float, na_value=np.nan)
            lat = projects["lat"].to_numpy(dtype=float, na_value=np.nan)
            with warnings.catch_warnings():  # all NaN: no box, as below
                warnings.simplefilter("ignore", RuntimeWarning)
                bounds = np.array([np.nanmin(lon), np.nanmin(lat), np.nanmax(lon), np.nanmax(lat)])
        else:
            # the geometry alone: a GeoDataFrame's to_crs copies every column, even to its
            # own CRS
            bounds = layer.geometry.to_crs(WGS84).total_bounds if layer.crs else layer.total_bounds
        if np.isfinite(bounds).all():
            boxes.append(shapely.box(*bounds))
    if not boxes:
        return None
    area = shapely.box(*shapely.union_all(boxes).bounds).buffer(CONTEXT_MARGIN_DEG)
    context = read.context_from_file()
    near = context[shapely.intersects(context.geometry.to_numpy(), area)]
    return near if len(near) else None


def _user_context(path: PathLike) -> tuple[gpd.GeoDataFrame, list[str]]:
    """The user's context layer (``--context``) as the map draws it, and notes on it.

    Polygons become outlines (``kind`` "district"), points labelled places (``kind`` "point")
    unless the layer has a ``kind`` field; a ``名称`` / ``NAME`` field names them when there
    is no ``name``, ``name_zh`` or ``name_en``. Lines and empty geometries are not drawn; a
    note says how many.
    """
    layer = read.context_from_file(path).explode(index_parts=False).reset_index(drop=True)
    kinds = layer.geometry.geom_type.to_numpy(dtype=object)
    drawable = np.isin(kinds, ["Polygon", "MultiPolygon", "Point"]) & ~layer.geometry.is_empty
    notes = []
    if not drawable.all():
        notes.append(
            f"{Path(path).name}: {int((~drawable).sum())} context features that are not "
            "polygons or points are not drawn"
        )
    layer = layer[drawable].reset_index(drop=True)
    if "kind" not in layer.columns:
        is_point = layer.geometry.geom_type.to_numpy(dtype=object) == "Point"
        layer["kind"] = np.where(is_point, "point", "district")
    if not {"name", "name_zh", "name_en"} & set(layer.columns):
        named = [c for c in layer.columns if str(c).lower() in ("名称", "name", "title", "label")]
        if named:
            layer["name"] = layer[named[0]]
    layer.attrs["user"] = True  # legends name it as the user's layer, not our district outlines
    return layer, notes


def source_name(inputs: InputOptions | PathLike | None) -> str:
    """The name of the project file the inputs read (``ledger.csv``), as messages show it.

    Parameters
    ----------
    inputs
        As for :func:`analyse`.
    """
    if inputs is None or isinstance(inputs, (str, os.PathLike)):
        inputs = InputOptions(projects=inputs)
    projects = inputs.projects
    if projects is not None and read.is_database_source(
        projects, table=inputs.table, query=inputs.query
    ):
        return read.database_label(projects, table=inputs.table, query=inputs.query)
    return Path(projects if projects is not None else read.bundled_path("projects.csv")).name


def nothing_mapped_message(
    analysis: Any, inputs: InputOptions | PathLike | None, files: dict[str, Path]
) -> str:
    """The one-line error when no row could be mapped, pointing to ``rejected.csv`` if written.

    Parameters
    ----------
    analysis
        From :func:`analyse` (or the Dask engine's
        :class:`~parkmap.dask_engine.DaskAnalysis`), with no mapped project.
    inputs
        As for :func:`analyse`: the file is named after them.
    files
        Paths written, by name; ``files["rejected"]`` is named when present.

    Returns
    -------
    str
        E.g. "ledger.csv: no row could be mapped (3 rejected); see out/rejected.csv".
    """
    message = f"{source_name(inputs)}: no row could be mapped ({len(analysis.rejected)} rejected)"
    if "rejected" in files:
        message += f"; see {files['rejected']}"
    return message


def _nothing_mapped(
    analysis: Analysis, inputs: InputOptions, files: dict[str, Path]
) -> NothingMappedError:
    return NothingMappedError(
        nothing_mapped_message(analysis, inputs, files), analysis=analysis, files=files
    )


def write_rejected(analysis: Analysis, out: PathLike) -> dict[str, Path]:
    """Write ``rejected.csv`` (:func:`parkmap.write.save_rejected`) into ``out``, atomically.

    Parameters
    ----------
    analysis
        From :func:`analyse`.
    out
        Output folder (created when missing).

    Returns
    -------
    dict
        ``{"rejected": out / "rejected.csv"}``.

    Raises
    ------
    OutputError
        When ``out`` cannot be written to.
    """
    with write.staged_outputs(out) as stage:
        staged = {"rejected": write.save_rejected(analysis.rejected, stage.path / OUTPUT_REJECTED)}
    return stage.finals(staged)


def write_tables(analysis: Analysis, out: PathLike, *, geojson: str = "auto") -> dict[str, Path]:
    """Write ``parks.csv``, ``projects.parquet``, ``projects.geojson`` and ``rejected.csv``.

    Parameters
    ----------
    analysis
        From :func:`analyse`.
    out
        Output folder (created when missing).
    geojson
        When ``projects.geojson`` is written (:func:`wants_geojson`).

    Returns
    -------
    dict
        Paths written by name: ``parks``, ``projects`` (the Parquet file), ``geojson`` (when
        written) and ``rejected``.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    parks = write.save_table_csv(metrics.parks_table(analysis.parks), out / OUTPUT_PARKS)
    # The GeoJSON last: its encoder runs on two threads, which then have both cores once the
    # map (drawn meanwhile on the other thread) is done. 100k: 2.09 s against 2.21 s and
    # 1.79 s against 1.83 s (medians of 10 and 12 alternating builds), 30 MB more at the peak
    # than with the GeoJSON first.
    files = {
        "parks": parks,
        "projects": write.save_projects_parquet(analysis.projects, out / OUTPUT_PROJECTS_PARQUET),
    }
    if wants_geojson(geojson, len(analysis.projects)):
        files["geojson"] = write.save_projects_geojson(analysis.projects, out / OUTPUT_PROJECTS)
    files["rejected"] = write.save_rejected(analysis.rejected, out / OUTPUT_REJECTED)
    return files


def wants_geojson(choice: str, projects: int) -> bool:
    """Whether ``projects.geojson`` is written for ``projects`` mapped projects.

    Parameters
    ----------
    choice
        ``auto`` (up to :data:`~parkmap.settings.GEOJSON_AUTO_MAX_PROJECTS`), ``always`` or
        ``never``.
    projects
        Number of mapped projects.

    Raises
    ------
    UsageError
        For another ``choice``.
    """
    if choice not in GEOJSON_CHOICES:
        raise UsageError(f"unknown geojson {choice!r}; choose one of: {', '.join(GEOJSON_CHOICES)}")
    return choice == "always" or (choice == "auto" and projects <= GEOJSON_AUTO_MAX_PROJECTS)


def geojson_skipped_note(choice: str, projects: int) -> str | None:
    """The note telling the user ``projects.geojson`` was left out, or ``None`` when it was
    written (or ``--geojson never`` asked for none)."""
    if choice != "auto" or wants_geojson(choice, projects):
        return None
    return (
        f"{OUTPUT_PROJECTS} not written: {projects:,} projects are more than "
        f"{GEOJSON_AUTO_MAX_PROJECTS:,}; {OUTPUT_PROJECTS_PARQUET} holds every project "
        "(--geojson always writes the GeoJSON too)"
    )


def _import_in_background(module: str) -> None:
    """Import ``module`` on a daemon thread while the data loads.

    Folium takes about 0.3 s to import (it compiles its templates at import), mostly time the
    loading step leaves a second core idle. Only third-party packages the loading step never
    imports are preloaded this way, so the two threads cannot wait on each other's imports.

    Folium imports ``requests``, which adds a filter that hides urllib3's warning that SOCKS
    support is missing. Python's warning filters are not thread-safe: a ``catch_warnings``
    block on this thread (pandas opens many) that ends after that filter was added drops it,
    and the warning then reached the terminal (two builds in six at a million rows). The same
    filter, added here first, stays.
    """
    if module not in sys.modules:
        warnings.filterwarnings("ignore", message="SOCKS support in urllib3")
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
        The analysis and the paths written, by name (``map``, ``parks``, ``projects`` (the
        GeoParquet file), ``geojson`` (when written, see ``options.geojson``) and
        ``rejected``). When ``projects.geojson`` was left out for size, a note in
        ``analysis.notes`` says so.

    Raises
    ------
    NothingMappedError
        When not one row could be mapped; raised after every output was written (the map of
        the parks alone, ``parks.csv`` with no projects, ``rejected.csv`` with every row).
    OutputError
        When ``options.out`` cannot be written to; then no output there has changed.
    """
    options = options or BuildOptions()
    wants_geojson(options.geojson, 0)  # a bad choice fails before any reading
    if options.engine == "dask":
        inputs = options.inputs
        if inputs.projects is not None and read.is_database_source(
            inputs.projects, table=inputs.table, query=inputs.query
        ):
            raise UsageError(
                "--engine dask reads a Parquet file or folder, not a database; "
                "use --engine memory (the default)"
            )
        if options.history is not None:
            raise UsageError("--history works with --engine memory only")
        return _build_dask(options, progress)
    if options.engine != "memory":
        raise UsageError(f"unknown engine {options.engine!r}; choose memory or dask")
    with (
        collector_paused(),
        numpy_huge_pages_off(),
        arrow_pool_without_huge_pages(),
        sharing_point_coordinates(),
    ):
        return _build_memory(options, progress)


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector for the block, then restore its state.

    Mapping a million projects creates a few million container objects in bursts (Shapely
    points, pandas indexes, Arrow wrappers), and each burst sets off full collections that
    walk every object alive, the imported modules' included: nine of them took 0.66 s of a
    7 s build at 1M, 0.14 s at 100k, holding the GIL so no other thread ran either. The
    build makes few reference cycles; the ones it does are freed by the first collection
    after the block.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


#: The kernel's setting for how it finds huge pages (Linux), active value in brackets.
THP_DEFRAG = Path("/sys/kernel/mm/transparent_hugepage/defrag")
#: Settings under which a fault in a region advised for huge pages compacts memory on the spot.
_COMPACTING_DEFRAG = frozenset({"always", "madvise", "defer+madvise"})


def _faults_compact_memory() -> bool:
    """Whether the kernel compacts memory during the page fault that gives a region advised
    for huge pages its first huge page (Linux's ``transparent_hugepage/defrag``)."""
    return _bracketed(THP_DEFRAG) in _COMPACTING_DEFRAG


@contextmanager
def numpy_huge_pages_off() -> Iterator[None]:
    """Stop NumPy advising the kernel to back its large arrays with huge pages, for the block,
    where the kernel compacts memory to serve that advice (:func:`_faults_compact_memory`;
    ``madvise`` is Debian's default).

    A build allocates and frees some hundreds of MB of arrays that live a second or less; on
    such a kernel their huge-page faults cost more than the huge pages save. On the 2-core test
    machine a 1M build spent 1.9–2.5 s in the kernel with the advice and 1.2–1.4 s without, and
    took 5.4–5.6 s against 5.7–6.7 s (four runs each, alternating); at 100k it made no
    difference.
    NumPy's own switch (``NUMPY_MADVISE_HUGEPAGE``) is read once at import, too late here.
    """
    from numpy._core import multiarray

    switch = getattr(multiarray, "_set_madvise_hugepage", None)
    if switch is None or not _faults_compact_memory():
        yield
        return
    was_on = switch(False)
    try:
        yield
    finally:
        switch(was_on)


#: Whether the kernel backs memory advised for huge pages with them (Linux), value in brackets.
THP_ENABLED = Path("/sys/kernel/mm/transparent_hugepage/enabled")


def _bracketed(setting_file: Path) -> str:
    """The active value of a kernel setting listed as ``a [b] c``; "" when unreadable."""
    try:
        setting = setting_file.read_text(encoding="ascii")
    except OSError:
        return ""
    return setting[setting.find("[") + 1 : setting.find("]")] if "[" in setting else ""


@contextmanager
def arrow_pool_without_huge_pages() -> Iterator[None]:
    """Have Arrow allocate from the C library's ``malloc`` for the block, instead of its
    default mimalloc, where the kernel gives huge pages to memory advised for them.

    Arrow's mimalloc reserves a 1 GiB arena advised for huge pages, then returns freed
    stretches of it to the kernel 64 KB at a time: each return splits a 2 MB page the kernel
    has just zeroed, and the next allocation there faults again. A build's Arrow work (reading,
    the GeoJSON and Parquet writers, the payload's text kernels) allocates and frees hundreds
    of MB this way: on the 2-core test machine (THP ``madvise``; six alternating runs) the
    kernel time of a 100k build went from 1.28 s to 0.81 s (mean) and its wall time from
    2.94 s to 2.55 s (median); at 1M (four runs), 1.93 s to 1.42 s and 6.07 s to 5.6 s. Arrays
    made inside keep the pool they came from, so leaving it is safe. A pool chosen with
    ``ARROW_DEFAULT_MEMORY_POOL`` is left alone.
    """
    import pyarrow as pa

    previous = pa.default_memory_pool()
    chosen = os.environ.get("ARROW_DEFAULT_MEMORY_POOL")
    if chosen or previous.backend_name != "mimalloc" or _bracketed(THP_ENABLED) in ("", "never"):
        yield
        return
    pa.set_memory_pool(pa.system_memory_pool())
    try:
        yield
    finally:
        pa.set_memory_pool(previous)


def _build_memory(
    options: BuildOptions, progress: Callable[..., None] | None
) -> tuple[Analysis, dict[str, Path]]:
    """The in-memory engine of :func:`build`."""
    out = options.out
    if options.history is not None:
        from parkmap.history import parse_date

        parse_date(options.as_of, "--as-of")  # a bad date fails before any reading
    report = progress or (lambda done, total=None, label=None: None)
    _import_in_background("folium")
    report(0, 3, "loading and joining")
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="parkmap-surface") as early:
        # The density surface and the grid need only the points, their amounts and the
        # parks: they are started as soon as the points exist and worked out (mostly outside
        # the GIL) while the join, the park figures and the projects' payload are.
        started: list[density.SurfaceJob] = []

        def start_surface(points: gpd.GeoDataFrame, parks: gpd.GeoDataFrame) -> None:
            if display_system(options.map.basemap) == "wgs84":
                started.append(
                    density.SurfaceJob(
                        points,
                        summable_amounts(points),
                        bandwidth_km=options.map.bandwidth_km,
                        pool=early,
                        cell_km=options.map.cell_km,
                        cover=parks,
                    )
                )

        analysis = analyse(options.inputs, on_points=start_surface)
        report(1, 3, "drawing the map")
        # Every file goes to a staging folder and moves into `out` once all are written. The
        # tables are written on a second thread while the map is drawn: the GeoJSON encoder
        # runs in Arrow's C++ kernels without the GIL, so on two cores the two overlap.
        with (
            write.staged_outputs(out) as stage,
            ThreadPoolExecutor(max_workers=1, thread_name_prefix="parkmap-tables") as pool,
        ):
            tables = pool.submit(write_tables, analysis, stage.path, geojson=options.geojson)
            from parkmap.webmap.compose import make_map

            folium_map = make_map(analysis, options.map, started=started[0] if started else None)
            report(2, 3, "writing")
            from parkmap.webmap import save_map

            staged = {"map": save_map(folium_map, stage.path / OUTPUT_MAP)}
            staged.update(tables.result())
    written = stage.finals(staged)
    if options.history is not None and len(analysis.projects):
        from parkmap.history import append_snapshot

        append_snapshot(options.history, analysis.projects, options.as_of)
    skipped = geojson_skipped_note(options.geojson, len(analysis.projects))
    if skipped:
        analysis.notes.append(skipped)
    report(3, 3, "done")
    if not len(analysis.projects):
        raise _nothing_mapped(analysis, options.inputs, written)
    return analysis, written


def _build_dask(
    options: BuildOptions, progress: Callable[..., None] | None
) -> tuple[Any, dict[str, Path]]:
    """The Dask engine: the same files as the in-memory engine, from a partitioned Parquet file.

    The workers validate, convert, join and tally each partition; the joined partitions are
    appended to ``projects.parquet`` one at a time, in order. The map is then drawn from the
    park figures (summed from the tallies) and the columns of ``projects.parquet`` the page
    shows (:data:`parkmap.webmap.compose.MAP_PROJECT_COLUMNS`), never the whole table;
    ``projects.geojson`` is converted from the Parquet file row group by row group.
    """
    from parkmap.dask_engine import analyse_partitions, write_dask_outputs

    with write.staged_outputs(options.out) as stage:
        parquet = stage.path / OUTPUT_PROJECTS_PARQUET
        result = analyse_partitions(
            options.inputs, scheduler=options.scheduler, progress=progress, projects_file=parquet
        )
        staged = write_dask_outputs(result, stage.path)
        staged["projects"] = parquet
        mapped = result.summary.mapped
        if wants_geojson(options.geojson, mapped):
            staged["geojson"] = write.geojson_from_parquet(parquet, stage.path / OUTPUT_PROJECTS)
        from parkmap.webmap import save_map
        from parkmap.webmap.compose import make_map

        analysis = _map_analysis(result, options.inputs, parquet)
        staged["map"] = save_map(make_map(analysis, options.map), stage.path / OUTPUT_MAP)
    written = stage.finals({name: staged[name] for name in _OUTPUT_ORDER if name in staged})
    skipped = geojson_skipped_note(options.geojson, mapped)
    if skipped:
        result.notes.append(skipped)
    if not mapped:  # as the in-memory engine: every file written, then the error
        message = nothing_mapped_message(result, options.inputs, written)
        raise NothingMappedError(message, analysis=result, files=written)
    return result, written


#: The order the written files are listed in (as the in-memory engine lists them).
_OUTPUT_ORDER = ("map", "parks", "projects", "geojson", "rejected")


def _map_analysis(result: Any, inputs: InputOptions, parquet: Path) -> Analysis:
    """What the map of a Dask analysis is drawn from: the park figures, and the columns of
    ``projects.parquet`` the page shows."""
    import pyarrow.parquet as pq

    from parkmap.webmap.compose import MAP_PROJECT_COLUMNS

    names = pq.ParquetFile(parquet).schema_arrow.names
    columns = [c for c in MAP_PROJECT_COLUMNS if c in names]
    projects = gpd.read_parquet(parquet, columns=[*columns, write.GEOMETRY_COLUMN])
    parks = result.parks
    parks.attrs["layer"] = {
        "demo": not inputs.parks,
        "name": Path(inputs.parks[0]).stem if len(inputs.parks) == 1 else "",
    }
    layer = result.park_layer
    if inputs.context is not None:
        context, notes = _user_context(inputs.context)
        result.notes.extend(notes)
    else:
        context = _context_near(layer, projects)
    breakdown = metrics.park_breakdown(layer, projects, by="industry", known=result.known_figures)
    return Analysis(
        parks=parks,
        projects=projects,
        rejected=result.rejected,
        breakdown=breakdown,
        summary=result.summary,
        problems=result.problems,
        notes=result.notes,
        context=context,
        known_figures=result.known_figures,
    )


@dataclass
class Outcome:
    """What ``parkmap export`` or ``parkmap cluster`` did.

    Attributes
    ----------
    analysis
        The analysis the outputs were made from.
    files
        Paths written, by name.
    warnings
        Things the user should know about the outputs (fonts, pages left out).
    clusters
        The cluster statistics, when computed.
    """

    analysis: Analysis
    files: dict[str, Path]
    warnings: list[str] = field(default_factory=list)
    clusters: Any = None


def _fonts(lang: str, font: PathLike | None) -> FontSetup:
    """The fonts of a command, chosen once; a missing-font warning stays in the setup, and
    the command's outcome reports it."""
    from parkmap.fonts import MissingFontWarning, font_setup

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MissingFontWarning)
        return font_setup(lang, font)


def export(options: ExportOptions | None = None) -> Outcome:
    """Write the print-ready maps, the atlas and the tables of ``parkmap export``.

    The font is chosen (and a bad ``font`` refused) before any data is read. With
    ``options.clusters`` the cluster statistics are computed and the atlas gets their page.
    Every file is written, or none: they go to a staging folder and move into
    ``options.out`` once all are finished.

    Raises
    ------
    NothingMappedError
        When not one row could be mapped; only ``rejected.csv`` is written then.
    OutputError
        When ``options.out`` cannot be written to; then no output there has changed.
    """
    from parkmap.cluster import cluster_analysis
    from parkmap.export import export_all

    options = options or ExportOptions()
    setup = _fonts(options.lang, options.font)  # a bad font fails before the data is read
    analysis = analyse(options.inputs)
    if not len(analysis.projects):
        raise _nothing_mapped(analysis, options.inputs, write_rejected(analysis, options.out))
    clusters = None
    if options.clusters is not None:
        clusters = cluster_analysis(
            analysis.projects, analysis.parks, **dataclasses.asdict(options.clusters)
        )
    # every field but the inputs, the folder, the font and the cluster parameters is export_all's
    sheet = {
        f.name: getattr(options, f.name)
        for f in dataclasses.fields(options)
        if f.name not in ("inputs", "out", "font", "clusters")
    }
    if not sheet["title"]:
        from parkmap.webmap.compose import default_title

        sheet["title"] = default_title(analysis.parks, options.lang)  # the demo's, or the data's
    with write.staged_outputs(options.out) as stage:
        result = export_all(analysis, stage.path, clusters=clusters, font=setup, **sheet)
    return Outcome(analysis, stage.finals(result.files), list(result.warnings), clusters)


def cluster(options: ClusterOptions | None = None) -> Outcome:
    """Compute the cluster statistics and write everything ``parkmap cluster`` writes.

    ``clusters.csv``, ``clusters.geojson``, ``hotspots.geojson``, ``stats.json``,
    ``summary.md``, the Ripley plots, ``map.html`` with the hot-spot and cluster layers, and
    with ``options.atlas`` an ``atlas.pdf`` with their page. Every file is written, or none.

    Raises
    ------
    NothingMappedError
        When not one row could be mapped; only ``rejected.csv`` is written then.
    OutputError
        When ``options.out`` cannot be written to; then no output there has changed.
    """
    from parkmap.cluster import cluster_analysis
    from parkmap.cluster.report import write_cluster_report
    from parkmap.export import export_all
    from parkmap.webmap import save_map
    from parkmap.webmap.cluster_layers import cluster_map

    options = options or ClusterOptions()
    setup = None
    if options.plots or options.atlas:
        setup = _fonts(options.lang, options.font)  # a bad font fails before the data is read
    analysis = analyse(options.inputs)
    if not len(analysis.projects):
        raise _nothing_mapped(analysis, options.inputs, write_rejected(analysis, options.out))
    params = options.params
    result = cluster_analysis(analysis.projects, analysis.parks, **dataclasses.asdict(params))
    # The interactive map with the hot-spot and cluster layers on top of the usual ones.
    page = cluster_map(analysis, result, MapOptions(lang=options.lang, cell_km=params.cell_km))
    messages: list[str] = []
    with write.staged_outputs(options.out) as stage:
        files = write_cluster_report(
            result, stage.path, lang=options.lang, plots=options.plots, font=setup
        )
        files["map"] = save_map(page, stage.path / OUTPUT_MAP)
        if options.atlas:
            exported = export_all(
                analysis,
                stage.path,
                formats=None,
                lang=options.lang,
                tables=False,
                clusters=result,
                font=setup,
            )
            files.update(exported.files)
            messages = list(exported.warnings)
    return Outcome(analysis, stage.finals(files), messages, result)


def analyse_records(records: pd.DataFrame, inputs: InputOptions | None = None) -> Analysis:
    """The analysis of project records already read, validated and in WGS-84 (a snapshot of
    the history store): the join, coordinate and metrics stages of :func:`analyse` against
    the park layers of ``inputs``.

    Parameters
    ----------
    records
        Columns as :func:`parkmap.validate.validate_records` gives them, with ``lon``/``lat``
        in WGS-84 (``park_id``/``park_ids`` are found again against the parks).
    inputs
        The park layers (``inputs.projects`` is not read); ``None``: the bundled parks.
    """
    inputs = inputs or InputOptions()
    park_layer = _park_layer(inputs)
    located = records.drop(
        columns=[c for c in ("park_id", "park_ids", "geometry") if c in records.columns]
    )
    points = gpd.GeoDataFrame(
        located,
        geometry=gpd.points_from_xy(located["lon"], located["lat"]),
        crs=WGS84,
    )
    figures = _join_and_measure(points, park_layer, inputs)
    return Analysis(
        known_figures=figures.known,
        parks=figures.parks,
        projects=figures.projects,
        rejected=_no_rejections(),
        breakdown=figures.breakdown,
        summary=validate.summarise(figures.projects, _no_rejections(), blank=0),
        problems=[],
        notes=[*park_layer.attrs.get("notes", []), *figures.context_notes],
        context=figures.context,
    )


def _no_rejections() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in validate.REJECTED_COLUMNS})


@dataclass
class CompareOutcome:
    """What ``parkmap compare`` did.

    Attributes
    ----------
    comparison
        The changes, the park table, the headline figures and how projects were matched.
    old, new
        The analyses of the two snapshots.
    labels
        What the snapshots are called in the outputs (file names, or history dates).
    files
        Paths written, by name.
    warnings
        Things the user should know (matching, fonts).
    """

    comparison: Comparison
    old: Analysis
    new: Analysis
    labels: tuple[str, str]
    files: dict[str, Path]
    warnings: list[str] = field(default_factory=list)


def _compare_sides(
    options: CompareOptions,
) -> tuple[list[InputOptions], tuple[str, str], list[str]]:
    """The inputs of the old and the new snapshot, what the outputs call them, and notes.

    ``options.inputs.table``/``.query`` apply to both sides; ``old_table``/``old_query`` and
    ``new_table``/``new_query`` replace them for one. With one source (``new`` ``None``) the
    sides must differ by table, query or snapshot date.
    """
    shared = options.inputs
    old_source = options.old
    new_source = options.new if options.new is not None else options.old
    sides = []
    for table, query, source in (
        (options.old_table, options.old_query, old_source),
        (options.new_table, options.new_query, new_source),
    ):
        if table is None and query is None:
            table, query = shared.table, shared.query
        sides.append(dataclasses.replace(shared, projects=source, table=table, query=query))
    one_source = options.new is None
    if options.snapshot_column is not None:
        return _snapshot_sides(options, sides)
    if options.since is not None or options.until is not None:
        raise UsageError("--since and --until choose snapshots of --history or --snapshot-column")
    own = any(
        v is not None
        for v in (options.old_table, options.new_table, options.old_query, options.new_query)
    )
    if old_source is None or (one_source and not own):
        raise UsageError(
            "compare needs two snapshots: OLD and NEW, one database with --old-table and "
            "--new-table (or --old-query and --new-query), one table with --snapshot-column "
            "and --since, or --history STORE --since DATE"
        )
    return sides, (source_name(sides[0]), source_name(sides[1])), []


def _snapshot_sides(
    options: CompareOptions, sides: list[InputOptions]
) -> tuple[list[InputOptions], tuple[str, str], list[str]]:
    """Two days of one table's (or query's) snapshot-date column, chosen as the history
    store's dates are: the last on or before ``since``, the last on or before ``until``."""
    from parkmap.history import choose_dates, parse_date
    from parkmap.read.database import snapshot_days

    old, new = sides
    if (old.projects, old.table, old.query) != (new.projects, new.table, new.query):
        raise UsageError(
            "--snapshot-column reads both snapshots from one table: give one source and "
            "--table or --query, not OLD NEW or --old-/--new- options"
        )
    if old.projects is None or (old.table is None and old.query is None):
        raise UsageError("--snapshot-column needs a database source with --table or --query")
    if options.since is None:
        raise UsageError("--snapshot-column needs --since DATE (the old snapshot)")
    since = parse_date(options.since, "--since")
    until = parse_date(options.until, "--until") if options.until is not None else None
    column = options.snapshot_column
    assert column is not None
    days, undated = snapshot_days(old.projects, table=old.table, query=old.query, column=column)
    label = f"{source_name(old)} ({column})"
    day0, day1 = choose_dates(days, since, until, label, kind="")
    chosen = [
        dataclasses.replace(side, snapshot_column=column, snapshot_date=day.isoformat())
        for side, day in zip(sides, (day0, day1), strict=True)
    ]
    notes = []
    if undated:
        notes.append(f"{label}: {undated} rows have no snapshot date and are in neither snapshot")
    return chosen, (day0.isoformat(), day1.isoformat()), notes


def compare(options: CompareOptions) -> CompareOutcome:
    """Compare two snapshots and write ``changes.csv``, ``park_changes.csv``, ``map.html``
    (the new snapshot with a layer of changes), ``bulletin.md`` and ``bulletin.pdf``.

    The snapshots are two inputs read as :func:`analyse` reads ``--projects`` (each is
    ``dataclasses.replace(options.inputs, projects=…)``, with its own table or query when
    given), two days of a table's snapshot-date column (``options.snapshot_column``,
    ``options.since``), or two dates of the history store (``options.history``,
    ``options.since``). Every file is written, or none.

    Raises
    ------
    UsageError
        When neither two snapshots nor a history store and ``since`` are given.
    NothingMappedError
        When a snapshot has no mapped project.
    OutputError
        When ``options.out`` cannot be written to; then no output there has changed.
    """
    from parkmap.compare import compare_snapshots

    setup = _fonts(options.lang, options.font)  # a bad font fails before the data is read
    if options.history is not None:
        if options.old is not None or options.new is not None or options.snapshot_column:
            raise UsageError(
                "give two snapshots (OLD NEW) or --history STORE --since DATE, not both"
            )
        # The store holds whole snapshots: a table or query would be silently unused.
        chosen = (
            options.inputs.table,
            options.inputs.query,
            options.old_table,
            options.new_table,
            options.old_query,
            options.new_query,
        )
        if any(v is not None for v in chosen):
            raise UsageError(
                "--history STORE reads the snapshots kept in the store; --table and --query "
                "choose records of OLD and NEW, so leave them out"
            )
        from parkmap.history import history_pair

        (day0, records0), (day1, records1) = history_pair(
            options.history, options.since, options.until
        )
        old = analyse_records(records0, options.inputs)
        new = analyse_records(records1, options.inputs)
        labels = (day0.isoformat(), day1.isoformat())
        side_notes: list[str] = []
    else:
        sides, labels, side_notes = _compare_sides(options)
        old, new = (analyse(inputs) for inputs in sides)
        for analysis, inputs in zip((old, new), sides, strict=True):
            if not len(analysis.projects):
                raise NothingMappedError(
                    nothing_mapped_message(analysis, inputs, {}), analysis=analysis, files={}
                )
    comparison = compare_snapshots(old.projects, new.projects, new.parks, lang=options.lang)
    messages = [comparison.match.line(), *comparison.match.warnings, *side_notes]
    if setup.warning:
        messages.append(setup.warning)
    from parkmap.export.bulletin import bulletin_markdown, save_bulletin_pdf
    from parkmap.settings import (
        OUTPUT_BULLETIN_MD,
        OUTPUT_BULLETIN_PDF,
        OUTPUT_CHANGES,
        OUTPUT_PARK_CHANGES,
    )
    from parkmap.webmap import save_map
    from parkmap.webmap.changes import change_map

    with write.staged_outputs(options.out) as stage:
        folder = stage.path
        files = {
            "changes": write.save_table_csv(comparison.changes, folder / OUTPUT_CHANGES),
            "park_changes": write.save_table_csv(comparison.parks, folder / OUTPUT_PARK_CHANGES),
        }
        page = change_map(
            new, comparison, MapOptions(lang=options.lang), by_added=options.color_by_added
        )
        files["map"] = save_map(page, folder / OUTPUT_MAP)
        files["bulletin_md"] = write.atomic_write(
            folder / OUTPUT_BULLETIN_MD,
            bulletin_markdown(comparison, new, labels=labels, lang=options.lang),
        )
        files["bulletin_pdf"] = save_bulletin_pdf(
            folder / OUTPUT_BULLETIN_PDF, comparison, new, setup, labels=labels
        )
    return CompareOutcome(comparison, old, new, labels, stage.finals(files), messages)

"""Command line: ``parkmap build``, ``parkmap validate``, ``parkmap serve``.

Thin on purpose: every command calls the library and prints what it returns. Errors a user
can cause become one ``Error: …`` line with exit status 2, never a traceback.
"""

from __future__ import annotations

import functools
import gc
import importlib
import importlib.util
import os
import sys
import threading
import types
from collections.abc import Callable
from typing import Any, Final

import click

from parkmap import __version__
from parkmap.errors import NothingMappedError, ParkmapError
from parkmap.settings import (
    BUILD_DEFAULTS,
    CLUSTER_COMMAND_DEFAULTS,
    CLUSTER_DEFAULTS,
    COLOR_BY,
    COMPARE_DEFAULTS,
    EXPORT_DEFAULTS,
    GEOJSON_AUTO_MAX_PROJECTS,
    GEOJSON_CHOICES,
    LANGUAGES,
    MAP_DEFAULTS,
    BuildOptions,
    ClusterOptions,
    ClusterParameters,
    CompareOptions,
    ExportOptions,
    InputOptions,
    MapOptions,
)

#: How many problems the CLI lists before saying how many more there are.
SHOW_PROBLEMS = 8

#: Set by :func:`run`: the process ends as soon as the command returns (no heap teardown).
_PROCESS_ENDS_WITH_COMMAND = False

#: What a command made, held by :func:`_keep_until_exit` until the process ends.
_KEPT_UNTIL_EXIT: list[Any] = []


def _keep_until_exit(result: Any) -> None:
    """Hold a command's ``result`` (its analysis) until the process ends, when :func:`run`
    ends it without tearing down the heap.

    Otherwise the analysis is freed when the command function returns, one object at a
    time: 0.2 s after a 1,000,000-project build (its points are a million shapely objects),
    spent just before the process ends. Called from Python (tests, notebooks), nothing is
    kept.
    """
    if _PROCESS_ENDS_WITH_COMMAND:
        _KEPT_UNTIL_EXIT.append(result)


class _InputFailure(click.ClickException):
    exit_code = 2


def _friendly_errors(func: Callable[..., Any]) -> Callable[..., Any]:
    """Turn library errors into one-line messages with exit status 2."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except NothingMappedError as exc:
            # the reasons first (the planner needs them most now), then the one error line
            if exc.analysis is not None:
                _print_outcomes(exc.analysis, files=exc.files)
            for path in exc.files.values():
                click.echo(f"wrote {path}")
            raise _InputFailure(str(exc)) from None
        except ParkmapError as exc:
            raise _InputFailure(str(exc)) from None

    return wrapper


class _ProjectsSource(click.ParamType):
    """An existing file or folder, or a database URL (``postgresql://…``) taken as written.

    A URL is never echoed back in a click error: it may carry a password.
    """

    name = "file|url"
    _path = click.Path(exists=True)

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        from parkmap.read.database import is_database_url

        if is_database_url(value):
            return value
        return self._path.convert(value, param, ctx)


def _reading_option_list() -> list[Any]:
    """How to read the records and parks, whatever the records are (every reading command)."""
    return [
        click.option(
            "--parks",
            "parks",
            type=click.Path(exists=True, dir_okay=False),
            multiple=True,
            help="Park layer (GeoJSON, Shapefile, GeoPackage, KML); repeat for several. "
            "Default: the bundled Qingdao parks.",
        ),
        click.option(
            "--park-id-field", help="Field with the park id (default: park_id, id, adcode, code)."
        ),
        click.option(
            "--park-name-field", help="Field with the park name (default: name_zh, name, 名称)."
        ),
        click.option(
            "--investment-unit",
            help="Unit of an investment column whose header names none: 元, 万元 or 亿元 "
            "(default 亿元).",
        ),
        click.option("--sheet", help="Worksheet of an Excel file (default: the first)."),
        click.option(
            "--coords",
            default=InputOptions.coords,
            show_default=True,
            help="Coordinate system of the project records: wgs84, cgcs2000, gcj02 (Amap/Gaode, "
            "Tencent) or bd09 (Baidu). A 坐标系/coord_sys column wins for its row.",
        ),
        click.option(
            "--parks-coords",
            default=InputOptions.coords,
            show_default=True,
            help="Coordinate system of lon/lat park layers: wgs84, cgcs2000, gcj02 or bd09.",
        ),
        click.option(
            "--header-row",
            type=click.IntRange(min=1),
            help="Spreadsheet row holding the column headers (as Excel numbers rows). "
            "Default: found below any title and 单位 lines.",
        ),
        click.option(
            "--parks-encoding",
            help="Text encoding of park-layer attributes, e.g. gbk for a shapefile without "
            ".cpg. Default: detected (UTF-8, then GB18030).",
        ),
        click.option(
            "--context",
            type=click.Path(exists=True, dir_okay=False),
            help="Your own context layer (district outlines, landmarks; GeoJSON, Shapefile, "
            "GeoPackage …) drawn under the parks. Default: the bundled Qingdao districts, "
            "only where they meet the data.",
        ),
        click.option(
            "--declared-within",
            "declared_within_km",
            type=click.FloatRange(min=0.0),
            default=InputOptions.declared_within_km,
            show_default=True,
            metavar="KM",
            help="Count a project that lies outside every park, but at most KM km from the park "
            "its 所属园区 declares, in that park (with a warning); 0 turns this off.",
        ),
    ]


def _reading_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """:func:`_reading_option_list` on a command that takes its records some other way."""
    for option in reversed(_reading_option_list()):
        func = option(func)
    return func


def _input_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """Options shared by every command that reads projects and parks."""
    options = [
        click.argument("projects_file", required=False, type=_ProjectsSource()),
        click.option(
            "--projects",
            "projects",
            type=_ProjectsSource(),
            help="Project records: CSV (UTF-8 or GBK), XLSX, Parquet/GeoParquet (a file or a "
            "folder of parts), GeoJSON or GeoPackage points; or a database: "
            "postgresql://user@host:5432/db or a .gpkg/.sqlite file, with --table or --query. "
            "Default: the bundled Qingdao demo records.",
        ),
        click.option(
            "--table",
            help="Database table holding the records (SCHEMA.TABLE allowed; double-quote a "
            "name with a dot, as in SQL).",
        ),
        click.option(
            "--query",
            help="SELECT giving the records, run read-only (instead of --table).",
        ),
        *_reading_option_list(),
    ]

    @functools.wraps(func)
    def wrapper(**kwargs: Any) -> Any:
        # `parkmap build FILE` and `parkmap build --projects FILE` mean the same
        positional = kwargs.pop("projects_file")
        if positional is not None:
            if kwargs["projects"] is not None:
                raise click.UsageError("give the project records once: FILE or --projects FILE")
            kwargs["projects"] = positional
        inputs = InputOptions(**{name: kwargs.pop(name) for name in INPUT_NAMES})
        return func(inputs=inputs, **kwargs)

    for option in reversed(options):
        wrapper = option(wrapper)
    return wrapper


#: Parameters of the shared input options, in the order of :func:`_input_options`.
INPUT_NAMES = (
    "projects",
    "table",
    "query",
    "parks",
    "park_id_field",
    "park_name_field",
    "investment_unit",
    "sheet",
    "coords",
    "parks_coords",
    "header_row",
    "parks_encoding",
    "context",
    "declared_within_km",
)


def _analyse(inputs: InputOptions) -> Any:
    from parkmap.pipeline import analyse

    return analyse(inputs)


def _print_outcomes(
    analysis: Any,
    *,
    limit: int = SHOW_PROBLEMS,
    files: dict[str, Any] | None = None,
    hint: str | None = None,
) -> None:
    """Print the summary line, alerts, notes and the first ``limit`` problems.

    Past ``limit`` one line says how many more there are and where they are listed: ``hint``,
    else the ``rejected.csv``/``projects.geojson`` among ``files`` (the paths written), else
    the command that lists them. It never points to a file that was not written.
    """
    click.echo(analysis.summary.line())
    for alert in analysis.alerts:
        click.echo(f"warning: {alert}", err=True)
    for note in analysis.notes:
        click.echo(f"note: {note}", err=True)
    for line in analysis.problems[:limit]:
        click.echo(line, err=True)
    more = len(analysis.problems) - limit
    if more > 0:
        click.echo(f"… and {more} more ({hint or _where_listed(files or {})})", err=True)


def _where_listed(files: dict[str, Any]) -> str:
    """Where the problems are listed: the ``rejected.csv`` and project table written."""
    # The warnings are in projects.geojson when it was written, else in projects.parquet.
    table = "geojson" if "geojson" in files else "projects"
    listed = [str(files[name]) for name in ("rejected", table) if name in files]
    if listed:
        return "see " + " and ".join(listed)
    return "parkmap validate --all lists them"


def _report(outcome: Any) -> None:
    """Print a command's row outcomes, warnings and the files it wrote."""
    _keep_until_exit(outcome)
    _print_outcomes(outcome.analysis, files=outcome.files)
    for message in outcome.warnings:
        click.echo(f"warning: {message}", err=True)
    for path in outcome.files.values():
        click.echo(f"wrote {path}")


def _out_option(default: object, contents: str) -> Callable[..., Any]:
    return click.option(
        "--out",
        type=click.Path(file_okay=False),
        default=str(default),
        show_default=True,
        help=f"Folder for {contents}.",
    )


def _lang_option() -> Callable[..., Any]:
    return click.option(
        "--lang", type=click.Choice(LANGUAGES), default=MAP_DEFAULTS.lang, show_default=True
    )


def _classes_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """``--scheme`` and ``--k``: the classification of park density."""
    func = click.option(
        "--k", default=MAP_DEFAULTS.k, show_default=True, help="Number of classes."
    )(func)
    return click.option(
        "--scheme",
        default=MAP_DEFAULTS.scheme,
        show_default=True,
        help="Classification of park density: quantiles, natural_breaks, equal_interval, "
        "fisher_jenks, jenks_caspall, max_breaks, box_plot, headtail_breaks, percentiles, "
        "std_mean.",
    )(func)


def _font_option(texts: str) -> Callable[..., Any]:
    return click.option(
        "--font",
        "font",
        type=click.Path(),
        help=f"Font file (TTF, OTF or TTC) for {texts}, used first. Default: an installed "
        "Chinese font, else the bundled Noto Sans CJK (noto-cjk-sans-otc).",
    )


def _statistic_option(name: str, kind: Any, text: str) -> Callable[..., Any]:
    """An option of the cluster statistics, its default from :data:`CLUSTER_DEFAULTS`."""
    default = getattr(CLUSTER_DEFAULTS, name.lstrip("-").replace("-", "_"))
    return click.option(name, type=kind, default=default, show_default=True, help=text)


_TITLE_OPTION = click.option(
    "--title",
    help="Map title (default: the demo's own title for the bundled data, else one from the "
    "park layer's file name and the number of parks).",
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="parkmap")
def main() -> None:
    """Map industrial parks and the investment projects in them."""


@main.command()
@_input_options
@_out_option(
    BUILD_DEFAULTS.out, "map.html, parks.csv, projects.parquet, projects.geojson and rejected.csv"
)
@_classes_options
@_lang_option()
@click.option(
    "--color-by", type=click.Choice(COLOR_BY), default=MAP_DEFAULTS.color_by, show_default=True
)
@_TITLE_OPTION
@click.option(
    "--bandwidth-km",
    type=click.FloatRange(min=0, min_open=True),
    help="Bandwidth of the investment density surface in km (default: a rule from the data).",
)
@click.option(
    "--cell-km",
    type=click.FloatRange(min=0, min_open=True),
    default=MAP_DEFAULTS.cell_km,
    show_default=True,
    help="Distance between the centres of the investment grid's hexagons, in km.",
)
@click.option(
    "--basemap",
    type=click.Choice(["none", "osm", "amap", "amap-satellite", "tianditu"]),
    default=MAP_DEFAULTS.basemap,
    show_default=True,
    help="Background tiles. none works offline; on amap/amap-satellite every layer is drawn "
    "in GCJ-02 to line up with Amap's roads.",
)
@click.option(
    "--tianditu-key",
    envvar="TIANDITU_KEY",
    help="Key for --basemap tianditu (or set TIANDITU_KEY).",
)
@click.option(
    "--engine",
    type=click.Choice(["memory", "dask"]),
    default=BUILD_DEFAULTS.engine,
    show_default=True,
    help="memory: everything on this machine. dask: load, convert, join and tally a "
    "(partitioned) Parquet file on a Dask cluster; writes the same files.",
)
@click.option(
    "--geojson",
    type=click.Choice(GEOJSON_CHOICES),
    default=BUILD_DEFAULTS.geojson,
    show_default=True,
    help=f"When to write projects.geojson besides projects.parquet: auto (up to "
    f"{GEOJSON_AUTO_MAX_PROJECTS:,} projects), always or never.",
)
@click.option(
    "--scheduler",
    help="Address of a running Dask scheduler (e.g. tcp://10.0.0.5:8786); default: a "
    "LocalCluster on this machine.",
)
@click.option(
    "--history",
    metavar="STORE",
    help="Also append this snapshot to a history store: a GeoPackage/SQLite file (made when "
    "missing) or a database URL. parkmap compare --history STORE --since DATE reads it.",
)
@click.option(
    "--as-of",
    metavar="DATE",
    help="Date of the snapshot in the history store, YYYY-MM-DD (default: today). A second "
    "build with the same date replaces that date's snapshot.",
)
@_friendly_errors
def build(
    inputs: InputOptions,
    out: str,
    engine: str,
    scheduler: str | None,
    history: str | None,
    as_of: str | None,
    geojson: str,
    **map_options: Any,
) -> None:
    """Build the interactive map and tables from project records and park layers.

    With no options it builds the bundled Qingdao demo into maps/.

    Example:

        parkmap build --projects 项目台账.csv --parks parks.geojson --out maps

        parkmap build 项目台账.csv          (the same as --projects 项目台账.csv)

        parkmap build --projects postgresql://planner@db/ledger --table projects
        parkmap build 项目台账.xlsx --history 历史.gpkg      (and keep this week's snapshot)
    """
    from parkmap.pipeline import build as run_build
    from parkmap.progress import progress_bar

    if _PROCESS_ENDS_WITH_COMMAND:
        # The build pauses the garbage collector and turns it back on at the end, when its
        # first collection walks the whole analysis (0.05 s at 1M); a process about to end
        # has no use for it. Called from Python (tests, notebooks) the collector is left be.
        gc.disable()

    if engine == "dask" and inputs.projects is None:
        raise click.UsageError("--engine dask needs --projects (a Parquet file or folder)")
    if as_of is not None and history is None:
        raise click.UsageError("--as-of dates a snapshot in --history STORE; give --history too")
    options = BuildOptions(
        inputs=inputs,
        map=MapOptions(**map_options),
        out=out,
        engine=engine,
        scheduler=scheduler,
        history=history,
        as_of=as_of,
        geojson=geojson,
    )
    with progress_bar("partitions" if engine == "dask" else "parkmap build") as update:
        analysis, written = run_build(options, progress=update)
    _keep_until_exit(analysis)
    _print_outcomes(analysis, files=written)
    for path in written.values():
        click.echo(f"wrote {path}")
    if history is not None:
        from parkmap.history import parse_date, store_label

        day = parse_date(as_of, "--as-of").isoformat()
        click.echo(f"added the snapshot of {day} to {store_label(history)}")


@main.command()
@_input_options
@click.option("--all", "show_all", is_flag=True, help="List every problem, not only the first.")
@click.option(
    "--out",
    type=click.Path(file_okay=False),
    help="Folder to write rejected.csv into (every rejected row with its reason). "
    "Default: write nothing.",
)
@_friendly_errors
def validate(inputs: InputOptions, show_all: bool, out: str | None) -> None:
    """Check project records and report every row's outcome; with --out, write rejected.csv.

    Exit status 2 when no row can be mapped.

    Example:

        parkmap validate --projects 项目台账.xlsx --out 检查
    """
    from parkmap.pipeline import nothing_mapped_message, write_rejected

    analysis = _analyse(inputs)
    files = write_rejected(analysis, out) if out is not None else {}
    if files:
        hint = f"use --all to list them; rejected rows are in {files['rejected']}"
    else:
        hint = "use --all to list them, or --out DIR to write rejected.csv"
    _print_outcomes(analysis, limit=sys.maxsize if show_all else SHOW_PROBLEMS, hint=hint)
    for path in files.values():
        click.echo(f"wrote {path}")
    if not len(analysis.projects):
        raise _InputFailure(nothing_mapped_message(analysis, inputs, files))


@main.command()
@click.argument("directory", default="maps", type=click.Path(file_okay=False))
@click.option(
    "--port", type=click.IntRange(0, 65535), default=8000, show_default=True, help="Port."
)
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on; requests must name it (or localhost).",
)
@click.option("--no-browser", is_flag=True, help="Do not open a browser.")
@_friendly_errors
def serve(directory: str, port: int, host: str, no_browser: bool) -> None:
    """Serve the maps in DIRECTORY on this machine and open map.html in a browser.

    Only files inside DIRECTORY are served, without folder listings, and only to requests
    addressed to this machine (or to --host).

    Example:

        parkmap serve maps --port 8080
    """
    from parkmap.serve import serve as run_server

    run_server(directory, host=host, port=port, open_browser=not no_browser)


@main.command()
@_input_options
@_out_option(
    EXPORT_DEFAULTS.out, "map.png/svg/pdf, atlas.pdf, parks.csv, parks.xlsx and projects.gpkg"
)
@click.option(
    "--format",
    "formats",
    default=EXPORT_DEFAULTS.formats,
    show_default=True,
    help="Formats of the static map, comma-separated: any of png, svg, pdf.",
)
@click.option(
    "--paper", type=click.Choice(["a4", "a3"]), default=EXPORT_DEFAULTS.paper, show_default=True
)
@click.option(
    "--orientation",
    type=click.Choice(["landscape", "portrait"]),
    default=EXPORT_DEFAULTS.orientation,
    show_default=True,
)
@click.option(
    "--dpi",
    type=click.FloatRange(min=10, max=1200),
    default=EXPORT_DEFAULTS.dpi,
    show_default=True,
    help="Resolution of map.png (A4 landscape at 300 dpi is 3508 × 2480 px).",
)
@_TITLE_OPTION
@click.option(
    "--caption", help="Line under the map, e.g. a map-approval number (审图号) or a source."
)
@_lang_option()
@_classes_options
@click.option(
    "--clusters",
    "with_clusters",
    is_flag=True,
    help="Run the cluster analysis (its defaults) and add a page of investment hot spots and "
    "project clusters to atlas.pdf.",
)
@click.option(
    "--seed",
    type=int,
    default=CLUSTER_DEFAULTS.seed,
    show_default=True,
    help="Seed of the cluster analysis (with --clusters).",
)
@_font_option("every text")
@_friendly_errors
def export(inputs: InputOptions, with_clusters: bool, seed: int, **sheet_options: Any) -> None:
    """Write print-ready maps, an atlas PDF and tables for reports (no browser needed).

    Writes map.png/map.svg/map.pdf, atlas.pdf (cover, overview, one page per park),
    parks.csv, parks.xlsx and projects.gpkg. With --clusters the atlas also has a page of
    investment hot spots and project clusters after the overview.

    Example:

        parkmap export --out 简报 --paper a4 --dpi 300 --caption "审图号：青S(2026)001号"
    """
    from parkmap.pipeline import export as run_export

    clusters = ClusterParameters(seed=seed) if with_clusters else None
    options = ExportOptions(inputs=inputs, clusters=clusters, **sheet_options)
    _report(run_export(options))


@main.command()
@_input_options
@_out_option(
    CLUSTER_COMMAND_DEFAULTS.out,
    "clusters.csv/.geojson, hotspots.geojson, stats.json, summary.md, plots/",
)
@_statistic_option("--method", click.Choice(["dbscan", "hdbscan"]), "How clusters are found.")
@_statistic_option("--eps-m", click.FloatRange(min=0, min_open=True), "DBSCAN radius in metres.")
@_statistic_option(
    "--min-samples",
    click.IntRange(min=1),
    "DBSCAN: projects within --eps-m that make a core (亿元 with --weighted); "
    "HDBSCAN: smallest cluster.",
)
@click.option(
    "--weighted", is_flag=True, help="Weight projects by investment (see the README section)."
)
@_statistic_option(
    "--cell-km",
    click.FloatRange(min=0, min_open=True),
    "Hexagon size (distance between centres) for Moran's I, Gi* and local Moran.",
)
@_statistic_option(
    "--permutations", click.IntRange(min=0), "Permutations of Moran's I, Gi* and local Moran."
)
@_statistic_option(
    "--simulations", click.IntRange(min=1), "Simulated random patterns in the Ripley envelopes."
)
@_statistic_option("--seed", int, "Seed of every random step.")
@click.option("--fdr", is_flag=True, help="False-discovery-rate correction of Gi* and LISA.")
@_lang_option()
@click.option("--no-plots", is_flag=True, help="Skip the Ripley PNG plots.")
@click.option(
    "--atlas",
    "with_atlas",
    is_flag=True,
    help="Also write atlas.pdf (A4 landscape) with the page of hot spots and clusters.",
)
@_font_option("the plots and the atlas")
@_friendly_errors
def cluster(
    inputs: InputOptions,
    out: str,
    lang: str,
    no_plots: bool,
    with_atlas: bool,
    font: str | None,
    **statistics: Any,
) -> None:
    """Find clusters of projects, hot and cold spots, and test them against chance.

    DBSCAN/HDBSCAN clusters, average nearest-neighbour index and Ripley's L per park and
    citywide, Moran's I, Getis–Ord Gi* and local Moran on a hexagon grid over the parks.
    Writes clusters.csv, clusters.geojson, hotspots.geojson, stats.json, summary.md, the
    Ripley plots and map.html (the interactive map with hot-spot and cluster layers).

    Example:

        parkmap cluster --projects 项目台账.csv --out maps/cluster --eps-m 800 --seed 1
    """
    from parkmap.pipeline import cluster as run_cluster

    options = ClusterOptions(
        inputs=inputs,
        out=out,
        params=ClusterParameters(**statistics),
        lang=lang,
        plots=not no_plots,
        atlas=with_atlas,
        font=font,
    )
    _report(run_cluster(options))


@main.command()
@click.argument("old", required=False, metavar="[OLD]")
@click.argument("new", required=False, metavar="[NEW]")
@click.option(
    "--table",
    help="Database table of both snapshots, when OLD and NEW are databases (SCHEMA.TABLE "
    "allowed), or of every snapshot with --snapshot-column.",
)
@click.option("--query", help="SELECT giving the records of both snapshots (instead of --table).")
@click.option("--old-table", metavar="TABLE", help="Table of the old snapshot (replaces --table).")
@click.option("--new-table", metavar="TABLE", help="Table of the new snapshot (replaces --table).")
@click.option("--old-query", metavar="SQL", help="SELECT giving the old snapshot.")
@click.option("--new-query", metavar="SQL", help="SELECT giving the new snapshot.")
@click.option(
    "--snapshot-column",
    metavar="COLUMN",
    help="One table holding every snapshot: the column with each row's snapshot date; "
    "--since and --until choose the two days.",
)
@_reading_options
@click.option(
    "--history",
    metavar="STORE",
    help="Compare two snapshots of a history store (parkmap build --history) instead of two "
    "files: a GeoPackage/SQLite file or a database URL.",
)
@click.option(
    "--since",
    metavar="DATE",
    help="With --history or --snapshot-column: the old snapshot is the last one taken on or "
    "before DATE (YYYY-MM-DD).",
)
@click.option(
    "--until",
    metavar="DATE",
    help="With --history or --snapshot-column: the new snapshot is the last one taken on or "
    "before DATE (default: the latest).",
)
@_out_option(
    COMPARE_DEFAULTS.out,
    "changes.csv, park_changes.csv, map.html, bulletin.pdf and bulletin.md",
)
@_lang_option()
@click.option(
    "--color-by-added",
    is_flag=True,
    help="On the map, fill the parks by the investment added between the snapshots instead "
    "of by density (a layer you can switch off).",
)
@_font_option("the bulletin")
@_friendly_errors
def compare(
    old: str | None,
    new: str | None,
    old_table: str | None,
    new_table: str | None,
    old_query: str | None,
    new_query: str | None,
    snapshot_column: str | None,
    history: str | None,
    since: str | None,
    until: str | None,
    out: str,
    lang: str,
    color_by_added: bool,
    font: str | None,
    **reading: Any,
) -> None:
    """Compare two snapshots of the project ledger and write the weekly bulletin.

    OLD and NEW are anything --projects accepts: two files of the ledger, or two
    databases (a postgresql:// URL or a .gpkg/.sqlite file) with --table or --query for
    both. Two tables or queries of one database: give it once, with --old-table and
    --new-table (or --old-query and --new-query). One table holding every week's rows:
    --snapshot-column COLUMN with --since (and --until). Projects are matched by
    project_id, or by name and park where the ledger gives no id. Writes changes.csv (one
    row per change), park_changes.csv (per park, before and after), map.html (the new
    snapshot with a layer of changes), bulletin.pdf and bulletin.md.

    Example:

    \b
        parkmap compare 台账-0601.xlsx 台账-0608.xlsx --out 周报
        parkmap compare postgresql://planner@db/ledger --old-table w0601 --new-table w0608
        parkmap compare 台账.gpkg --table projects --snapshot-column 日期 --since 2020-06-01
        parkmap compare --history 历史.gpkg --since 2020-06-01 --out 周报
    """
    from parkmap.pipeline import compare as run_compare

    for name in (old, new):
        if name is not None and "://" not in name and not os.path.exists(name):
            raise click.BadParameter(f"{name}: no such file", param_hint="OLD/NEW")
    inputs = InputOptions(**reading)
    options = CompareOptions(
        old=old,
        new=new,
        inputs=inputs,
        old_table=old_table,
        new_table=new_table,
        old_query=old_query,
        new_query=new_query,
        snapshot_column=snapshot_column,
        history=history,
        since=since,
        until=until,
        out=out,
        lang=lang,
        font=font,
        color_by_added=color_by_added,
    )
    outcome = run_compare(options)
    _keep_until_exit(outcome)
    for message in outcome.warnings:
        click.echo(f"note: {message}", err=True)
    headline = outcome.comparison.headline
    click.echo(
        f"{outcome.labels[0]} → {outcome.labels[1]}: {headline['new_projects']} new, "
        f"{headline['removed_projects']} removed, {headline['step_ups']} stepped up, "
        f"{headline['step_backs']} stepped back; {len(outcome.comparison.changes)} changes"
    )
    for path in outcome.files.values():
        click.echo(f"wrote {path}")


#: Packages a library imports at start-up for something no command does: each is imported
#: when code first reads one of its attributes instead (:func:`_import_on_first_use`).
#: ``folium.features`` imports ``requests`` (and with it urllib3, charset_normalizer, idna,
#: ``http.client`` and ``email``) to fetch ``GeoJson`` data given as a URL, which parkmap never
#: gives it; importing them took 0.07–0.09 s of the 0.25 s folium takes, on the thread that
#: imports it while the build reads the projects.
IMPORTED_ON_FIRST_USE: Final = ("requests",)

_FIRST_USE_LOCK = threading.Lock()


class _ImportedOnFirstUse(types.ModuleType):
    """Stands in ``sys.modules`` for a package until code reads an attribute of it that it
    lacks (any but its name and spec); then imports the package and answers from it."""

    def __getattr__(self, attribute: str) -> Any:
        with _FIRST_USE_LOCK:
            if sys.modules.get(self.__name__) is self:
                del sys.modules[self.__name__]
            package = importlib.import_module(self.__name__)
        return getattr(package, attribute)


def _import_on_first_use(name: str) -> None:
    """Have ``import name`` give a stand-in that imports the package on first use; nothing
    happens when the package is already imported or not installed."""
    if name in sys.modules:
        return
    spec = importlib.util.find_spec(name)
    if spec is not None:
        stand_in = _ImportedOnFirstUse(name)
        # `import` reads the spec of a module it finds in sys.modules (to wait for one still
        # being imported): a real attribute, so reading it imports nothing.
        stand_in.__spec__ = spec
        sys.modules[name] = stand_in


def _import_libraries() -> None:
    """Import the pipeline and the libraries under it (pandas, GeoPandas, Arrow, shapely,
    pyproj) with the cyclic garbage collector off, then restore it; the packages of
    :data:`IMPORTED_ON_FIRST_USE` are left for when they are used.

    The imports leave some 130,000 objects the collector tracks and under a thousand it could
    free; the passes it would make over them as they grow cost 0.07 s of the 0.8 s the imports
    take. They stay for the life of the process, so they are then moved out of the
    collector's sight (``gc.freeze``): otherwise its first pass after the imports walked them
    all, 0.04 s at the start of every build.
    """
    for name in IMPORTED_ON_FIRST_USE:
        _import_on_first_use(name)
    collecting = gc.isenabled()
    gc.disable()
    try:
        import parkmap.pipeline  # noqa: F401
    finally:
        gc.freeze()
        if collecting:
            gc.enable()


#: glibc ``mallopt`` parameters and values for a command's process (:func:`_keep_freed_memory`):
#: M_TOP_PAD 64 MiB, M_MMAP_THRESHOLD 32 MiB, M_TRIM_THRESHOLD 1 GiB.
_MALLOC_SETTINGS: Final = ((-2, 64 << 20), (-3, 32 << 20), (-1, 1 << 30))


def _keep_freed_memory() -> None:
    """Have glibc's ``malloc`` keep the memory a command frees for its next allocations.

    A build allocates and frees hundreds of MB in blocks of one to some tens of MB (columns,
    Arrow buffers, the GeoJSON text). By default glibc gives blocks past an adaptive size back
    to the kernel as soon as they are freed, and trims the top of its heap, so the next block
    is faulted in again page by page. Kept instead (blocks under 32 MiB from the heap, which
    grows in 64 MiB steps and is trimmed only past 1 GiB free): on the 2-core test machine a
    100,000-project build made 112,000 page faults instead of 135,000 and spent 0.39 s in the
    kernel instead of 0.65 s (medians of six alternating builds), with 33 MB more at its peak;
    a million-project build 365,000 instead of 467,000 and 0.99 s instead of 1.29 s, with
    225 MB more. The process ends with its command, so the memory is not held for long.
    Nothing changes where the C library is not glibc, or where ``MALLOC_…`` or
    ``GLIBC_TUNABLES`` variables choose its settings.
    """
    if not sys.platform.startswith("linux") or any(
        name.startswith("MALLOC_") or name == "GLIBC_TUNABLES" for name in os.environ
    ):
        return
    import ctypes

    try:
        libc = ctypes.CDLL(None)
        libc.gnu_get_libc_version  # noqa: B018 - only glibc has it
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    for parameter, value in _MALLOC_SETTINGS:
        mallopt(parameter, value)


def prepare_process() -> None:
    """Set up the process for a command as ``parkmap`` does: ``malloc`` set to keep freed
    memory (:func:`_keep_freed_memory`), then the libraries imported
    (:func:`_import_libraries`). For scripts that time the library as the command runs it."""
    _keep_freed_memory()
    _import_libraries()


def run() -> None:
    """The ``parkmap`` command: :func:`main`, then an exit that skips tearing down the heap.

    By the time a command returns, every output is written, closed and moved into place.
    What Python would still do at exit is free each object of the analysis one by one: a
    quarter to half a second after a 100,000-project build, longer at a million. The exit
    status and the flushed streams are the same either way. The ordinary exit is kept when
    anything could still need it: a worker process (a Dask cluster not yet shut down) or a
    thread that is not a daemon. Before the command, :func:`prepare_process` sets the process
    up.
    """
    import contextlib

    global _PROCESS_ENDS_WITH_COMMAND
    _PROCESS_ENDS_WITH_COMMAND = True
    if not {"--help", "-h", "--version"} & set(sys.argv[1:]):
        prepare_process()  # help and the version need none of it
    try:
        main()
    except SystemExit as done:
        code = done.code
    else:  # pragma: no cover - click's standalone mode always raises SystemExit
        code = 0
    if not isinstance(code, int):
        if code is not None:
            print(code, file=sys.stderr)
        code = 0 if code is None else 1
    others = [t for t in threading.enumerate() if t is not threading.main_thread()]
    # A process that never loaded multiprocessing started no worker (and loading it costs 6 ms).
    multiprocessing = sys.modules.get("multiprocessing")
    workers = multiprocessing is not None and multiprocessing.active_children()
    if workers or any(not t.daemon for t in others):
        sys.exit(code)
    for stream in (sys.stdout, sys.stderr):
        # a closed pipe (`parkmap … | head`) or stream
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    os._exit(code)


if __name__ == "__main__":  # pragma: no cover
    run()

"""Typed defaults shared by every step: coordinate systems, units, statuses, output names."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Final

#: Geographic CRS everything is converted to at load time (RFC 7946 GeoJSON uses it too).
WGS84: Final = "EPSG:4326"

#: Ellipsoid used for geodesic areas and distances.
ELLIPSOID: Final = "WGS84"

#: Plausible coordinates for a project in China, used to reject typos (lon, lat ranges).
CHINA_LON_RANGE: Final = (73.0, 136.0)
CHINA_LAT_RANGE: Final = (3.0, 54.0)

#: Multipliers from a currency unit to 亿元 (100 million CNY), keyed by canonical unit.
UNIT_TO_100M_CNY: Final[dict[str, float]] = {"yuan": 1e-8, "wan": 1e-4, "yi": 1.0}

#: Canonical project statuses, in the order legends and tables list them: the stages of a
#: project from talks (前期/在谈) to production, then what no stage could be read for.
STATUSES: Final = ("planned", "signed", "under_construction", "in_production", "unknown")

#: Background maps of the interactive map. Overlays on an Amap basemap are drawn in GCJ-02.
BASEMAPS: Final = ("none", "osm", "amap", "amap-satellite", "tianditu")


def check_basemap(basemap: str) -> str:
    """Return the basemap name, or raise :class:`~parkmap.errors.UsageError` listing the
    choices."""
    if basemap not in BASEMAPS:
        from parkmap.errors import UsageError

        raise UsageError(f"unknown basemap {basemap!r}; choose one of: {', '.join(BASEMAPS)}")
    return basemap


def display_system(basemap: str) -> str:
    """The coordinate system overlays are drawn in on ``basemap``: ``gcj02`` or ``wgs84``."""
    return "gcj02" if check_basemap(basemap).startswith("amap") else "wgs84"


#: Fixed names of the files ``parkmap build`` writes (other tools and reports rely on them).
OUTPUT_MAP: Final = "map.html"
OUTPUT_PARKS: Final = "parks.csv"
OUTPUT_PROJECTS: Final = "projects.geojson"
#: Every mapped project as GeoParquet, always written (GeoJSON only up to a size, below).
OUTPUT_PROJECTS_PARQUET: Final = "projects.parquet"

#: When ``projects.geojson`` is written: ``auto`` (up to :data:`GEOJSON_AUTO_MAX_PROJECTS`
#: projects), ``always`` or ``never``.
GEOJSON_CHOICES: Final = ("auto", "always", "never")
#: Most projects ``--geojson auto`` writes as GeoJSON. A project takes about 0.7 kB of GeoJSON
#: text, so 200,000 make some 140 MB, about what QGIS or a browser still open without a long
#: wait; above it ``projects.parquet`` (several times smaller, read in a second) is the table.
GEOJSON_AUTO_MAX_PROJECTS: Final = 200_000
OUTPUT_REJECTED: Final = "rejected.csv"
#: Fixed names of the files ``parkmap compare`` writes (``map.html`` too).
OUTPUT_CHANGES: Final = "changes.csv"
OUTPUT_PARK_CHANGES: Final = "park_changes.csv"
OUTPUT_BULLETIN_PDF: Final = "bulletin.pdf"
OUTPUT_BULLETIN_MD: Final = "bulletin.md"
#: Table of the history store that ``parkmap build --history`` appends each snapshot to.
HISTORY_TABLE: Final = "parkmap_history"

LANGUAGES: Final = ("zh", "en")
COLOR_BY: Final = ("status", "industry")


PathLike = str | os.PathLike[str]

#: Distance between hexagon centres of the investment grid (km): about 0.87 km² a cell, so a
#: 15 km² park spans some twenty cells.
DEFAULT_CELL_KM: Final = 1.0

#: How far outside its declared park (所属园区) a project may lie and still be counted in it (km).
#: Ledgers geocode a project to the nearest village, road or gate, and a zone's planned area
#: reaches well beyond its approved core: 40.5 km² planned around Pingdu EDZ's approved 7.65 km²
#: (a circle's radius grows from 1.6 to 3.6 km), 62 km² planned around Jiangshan's 3.4 km² NEV
#: park (1.0 to 4.4 km). 5 km covers that growth; the next park or town centre lies farther.
DECLARED_WITHIN_KM: Final = 5.0


@dataclass(frozen=True)
class InputOptions:
    """Where the project records and park layers come from, and how to read them.

    Every command that reads data takes one. ``None``/empty means the bundled Qingdao demo.

    Attributes
    ----------
    projects
        Record file (CSV, XLSX, Parquet file or folder, point layer), or a database: a URL
        (``postgresql://user@host:5432/db``) or a SQLite/GeoPackage file, with ``table`` or
        ``query``.
    parks
        Park layers; their park ids must be unique across them.
    investment_unit
        Unit of an investment column whose header names none (元, 万元, 亿元; default 亿元).
    sheet
        Worksheet of an Excel file (default: the first).
    park_id_field, park_name_field
        Fields of the park layers with the id and the name (default: detected).
    coords, parks_coords
        Coordinate systems of the records and of lon/lat park layers: ``wgs84``,
        ``cgcs2000``, ``gcj02`` (Amap, Tencent) or ``bd09`` (Baidu).
    header_row
        Spreadsheet row (1-based, as Excel shows it) that holds the column headers; default:
        found among the first rows, below any title and 单位 lines.
    parks_encoding
        Text encoding of park-layer attributes (a shapefile without ``.cpg``); default:
        detected (UTF-8, then GB18030).
    context
        The user's own context layer (district outlines, landmarks; any file geopandas reads)
        drawn under the parks instead of the bundled Qingdao one; default: the bundled
        features that lie where the data lies, if any.
    table, query
        The database table (``schema.table`` allowed) or ``SELECT`` that holds the records,
        when ``projects`` is a database (:mod:`parkmap.read.database`).
    snapshot_column, snapshot_date
        Of a database table or query holding many snapshots of the ledger: the column with
        each row's snapshot date, and the day (``YYYY-MM-DD``) whose rows are read. ``parkmap
        compare --snapshot-column`` chooses the days; ``None``: every row.
    declared_within_km
        A project outside every park that declares one (所属园区) within this many km of its
        outline is counted in it, with a warning (:data:`DECLARED_WITHIN_KM`); 0 turns the
        rule off.
    """

    projects: PathLike | None = None
    parks: tuple[PathLike, ...] = ()
    investment_unit: str | None = None
    sheet: str | int | None = None
    park_id_field: str | None = None
    park_name_field: str | None = None
    coords: str = "wgs84"
    parks_coords: str = "wgs84"
    header_row: int | None = None
    parks_encoding: str | None = None
    context: PathLike | None = None
    table: str | None = None
    query: str | None = None
    declared_within_km: float = DECLARED_WITHIN_KM
    snapshot_column: str | None = None
    snapshot_date: str | None = None


@dataclass(frozen=True)
class MapOptions:
    """How the interactive map is drawn.

    Attributes
    ----------
    scheme, k
        Classification of park density (a mapclassify scheme) and number of classes.
    lang
        Language of the page, ``zh`` or ``en``.
    color_by
        Project colours by ``status`` or ``industry``.
    title
        Page title (default: one in ``lang``).
    bandwidth_km
        Bandwidth of the density surface (default: a rule from the data).
    basemap, tianditu_key
        Background tiles (``none`` works offline) and the key Tianditu needs.
    cell_km
        Distance between the centres of the investment grid's hexagons.
    """

    scheme: str = "quantiles"
    k: int = 5
    lang: str = "zh"
    color_by: str = "status"
    title: str | None = None
    bandwidth_km: float | None = None
    basemap: str = "none"
    tianditu_key: str | None = None
    cell_km: float = DEFAULT_CELL_KM


@dataclass(frozen=True)
class BuildOptions:
    """Everything ``parkmap build`` takes: inputs, map, output folder and engine."""

    inputs: InputOptions = field(default_factory=InputOptions)
    map: MapOptions = field(default_factory=MapOptions)
    out: PathLike = "maps"
    #: ``memory`` (this machine) or ``dask`` (a partitioned Parquet file on a Dask cluster).
    engine: str = "memory"
    #: Address of a running Dask scheduler; ``None`` starts a LocalCluster.
    scheduler: str | None = None
    #: History store (SQLite/GeoPackage file or database URL) the snapshot is appended to.
    history: str | None = None
    #: Date of the snapshot in the history store (ISO ``YYYY-MM-DD``); ``None``: today.
    as_of: str | None = None
    #: When ``projects.geojson`` is written (:data:`GEOJSON_CHOICES`); ``projects.parquet``
    #: always is.
    geojson: str = "auto"


@dataclass(frozen=True)
class ClusterParameters:
    """The parameters of the cluster statistics (:func:`parkmap.cluster.cluster_statistics`).

    Attributes
    ----------
    method
        ``dbscan`` or ``hdbscan``.
    eps_m, min_samples
        DBSCAN radius (metres) and the projects within it that make a core (亿元 when
        ``weighted``); HDBSCAN's smallest cluster.
    weighted
        Weight projects by investment.
    cell_km
        Hexagon size for Moran's I, Gi* and local Moran.
    permutations, simulations
        Permutations of the hexagon statistics; simulated patterns of the Ripley envelopes.
    seed
        Seed of every random step.
    fdr
        False-discovery-rate correction of Gi* and local Moran.
    """

    method: str = "dbscan"
    eps_m: float = 1000.0
    min_samples: int = 5
    weighted: bool = False
    cell_km: float = DEFAULT_CELL_KM
    permutations: int = 999
    simulations: int = 99
    seed: int = 0
    fdr: bool = False


@dataclass(frozen=True)
class ClusterOptions:
    """Everything ``parkmap cluster`` takes.

    Attributes
    ----------
    inputs, out
        The data, and the folder for the statistics, plots and map.
    params
        The statistics' parameters.
    lang
        Language of ``summary.md``, the plots, the map and the atlas.
    plots
        Write the Ripley plots (PNG).
    atlas
        Also write ``atlas.pdf`` with the page of hot spots and clusters.
    font
        Font file for the plots and the atlas, used first.
    """

    inputs: InputOptions = field(default_factory=InputOptions)
    out: PathLike = "maps/cluster"
    params: ClusterParameters = field(default_factory=ClusterParameters)
    lang: str = "zh"
    plots: bool = True
    atlas: bool = False
    font: PathLike | None = None


@dataclass(frozen=True)
class ExportOptions:
    """Everything ``parkmap export`` takes: ``inputs`` (the data), ``out`` (the folder for the
    maps, atlas and tables) and how the sheets look.

    Attributes
    ----------
    formats
        Static map formats, comma-separated (``png,svg,pdf``), or empty for none.
    paper, orientation, dpi
        Sheet (``a4``/``a3``, ``landscape``/``portrait``) and PNG resolution.
    title, caption
        Map title (default: one in ``lang``) and the line under the map.
    lang, scheme, k
        Label language and the classification of park density.
    font
        Font file for every text, used first.
    clusters
        With parameters, the atlas gets a page of hot spots and clusters.
    """

    inputs: InputOptions = field(default_factory=InputOptions)
    out: PathLike = "maps"
    formats: str = "png,svg,pdf"
    paper: str = "a4"
    orientation: str = "landscape"
    dpi: float = 300.0
    title: str | None = None
    caption: str | None = None
    lang: str = "zh"
    scheme: str = "quantiles"
    k: int = 5
    font: PathLike | None = None
    clusters: ClusterParameters | None = None


@dataclass(frozen=True)
class CompareOptions:
    """Everything ``parkmap compare`` takes.

    Attributes
    ----------
    old, new
        The two snapshots: anything ``--projects`` accepts. Both ``None`` with ``history``;
        ``new`` ``None`` (the same source as ``old``) when the two are told apart by their
        tables, queries or snapshot dates.
    inputs
        The park layers and how to read the snapshots (its ``projects`` is ignored: each
        snapshot is read as ``dataclasses.replace(inputs, projects=old)``). Its ``table`` or
        ``query`` applies to both snapshots.
    old_table, new_table, old_query, new_query
        The table or query of one snapshot, in place of ``inputs.table``/``inputs.query``.
    snapshot_column
        One table (or query) holding every snapshot: the column with each row's snapshot
        date; the old snapshot is the last day on or before ``since``, the new one the last
        on or before ``until`` (default: the latest).
    history, since, until
        Instead of two snapshots: the history store, the old snapshot (the last one taken on
        or before ``since``) and the new one (the last taken on or before ``until``; default:
        the latest). ``since`` and ``until`` also choose the days of ``snapshot_column``.
    out
        Folder for ``changes.csv``, ``park_changes.csv``, ``map.html`` and the bulletin.
    lang, font
        Language of the bulletin and the map, and a font file for the bulletin.
    color_by_added
        Colour the parks on the map by investment added instead of density.
    """

    old: PathLike | None = None
    new: PathLike | None = None
    inputs: InputOptions = field(default_factory=InputOptions)
    old_table: str | None = None
    new_table: str | None = None
    old_query: str | None = None
    new_query: str | None = None
    snapshot_column: str | None = None
    history: str | None = None
    since: str | None = None
    until: str | None = None
    out: PathLike = "maps/compare"
    lang: str = "zh"
    font: PathLike | None = None
    color_by_added: bool = False


#: The map's defaults, for options of other commands that share them.
MAP_DEFAULTS: Final = MapOptions()
#: The cluster statistics' defaults, for the CLI's option defaults.
CLUSTER_DEFAULTS: Final = ClusterParameters()
#: The export's defaults, for the CLI's option defaults.
EXPORT_DEFAULTS: Final = ExportOptions()
#: The build's and the cluster command's defaults (output folders, engine).
BUILD_DEFAULTS: Final = BuildOptions()
CLUSTER_COMMAND_DEFAULTS: Final = ClusterOptions()
COMPARE_DEFAULTS: Final = CompareOptions()

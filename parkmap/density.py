"""Investment density in real units: a kernel density surface and a hexagon grid.

Both work in true metres in a metric CRS (the CGCS2000 3-degree Gauss–Krüger zone of the data,
chosen by :func:`parkmap.coords.metric_crs_for`, unless a CRS is given), so a value reads in
亿元/km² (or projects/km² for counts) whatever the latitude.

:func:`kde_surface` returns a :class:`DensitySurface`: an image whose pixels form a regular grid
in Web Mercator, ready for Leaflet's ``L.imageOverlay`` (which stretches an image linearly in Web
Mercator), so every pixel is drawn exactly where its value was computed.

:func:`hex_grid` counts projects and sums investment in regular hexagons built in the metric CRS:
the cells that hold projects and two rings of neighbours around them (within the parks when a cover
is given), never a blanket over the polygons, so county-sized parks cost no more than small ones.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError

from parkmap.coords import (
    fast_transformer,
    known_point_coordinates,
    shared_metric_coordinates,
)
from parkmap.errors import InputError, UsageError

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from concurrent.futures import Executor, Future

    import geopandas as gpd

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
ObjectArray = npt.NDArray[np.object_]

#: Default weight column (亿元).
DEFAULT_WEIGHT: Final = "investment_100m_cny"
#: Unit of a surface weighted by investment, and of a surface of counts.
UNIT_WEIGHTED: Final = "亿元/km²"
UNIT_COUNT: Final = "projects/km²"
#: Methods :func:`kde_surface` accepts.
KDE_METHODS: Final = ("auto", "exact", "binned")

#: The default bandwidth is this many times the median nearest-neighbour distance …
SPACING_FACTOR: Final = 4.0
#: … bounded to the scale of a park (km), …
MIN_DEFAULT_BANDWIDTH_KM: Final = 0.3
MAX_DEFAULT_BANDWIDTH_KM: Final = 2.0
#: … and at least the projects' extent over this, so the 512-pixel image can draw the kernel.
EXTENT_PER_BANDWIDTH: Final = 400.0
#: Bandwidth (km) when fewer than two distinct places are left.
FALLBACK_BANDWIDTH_KM: Final = 1.0
#: Most places whose nearest-neighbour gaps the default bandwidth's median is taken over.
MAX_SPACING_SAMPLE: Final = 100_000
#: Places closer than this (metres) count as one place when spacing is measured.
_SAME_PLACE_M: Final = 1.0
#: Significant figures of the legend ticks of a surface.
TICK_SIGNIFICANT: Final = 3

#: ``method="auto"`` sums exactly when points × pixels is at most this.
EXACT_PAIR_LIMIT: Final = 5e7
#: Point–pixel pairs evaluated at once by the exact sum (3 float64 temporaries of 16 MB each).
_PAIR_CHUNK: Final = 2_000_000
#: Largest zero-padded FFT grid of the binned method (a few float64/complex arrays of 32 MB).
_MAX_FFT_CELLS: Final = 1 << 22
#: The Gaussian is cut at this many bandwidths in the binned method (exp(-18) < 2e-8 of the peak).
_KERNEL_CUTOFF_H: Final = 6.0
#: Preferred and largest binning cell, as fractions of the bandwidth.
_BIN_FINE: Final = 1.0 / 6.0
_BIN_COARSEST: Final = 1.0 / 4.0

#: Most hexagons :func:`hex_grid` builds.
MAX_HEX_CELLS: Final = 1_000_000
#: Rings of neighbours :func:`hex_grid` keeps around the cells that hold projects: with two,
#: every cell next to a project's cell has its whole neighbourhood in the grid (Gi* sees no edge).
GRID_RING: Final = 2

_SQRT3: Final = math.sqrt(3.0)
_WEB_MERCATOR: Final = "EPSG:3857"
_LONLAT: Final = "EPSG:4326"
_WGS84_E2: Final = 0.00669437999014  # first eccentricity squared of the WGS 84 ellipsoid


# =================================================================================================
# shared helpers
# =================================================================================================


def _resolve_metric_crs(lon: FloatArray, metric_crs: object) -> CRS:
    """Return the metric CRS to measure in: the given one, or the one the longitudes call for."""
    if metric_crs is None:
        from parkmap.coords import metric_crs_for

        return metric_crs_for(lon)
    try:
        crs = CRS.from_user_input(metric_crs)
    except CRSError:
        raise UsageError(f"metric_crs {metric_crs!r} is not a coordinate system") from None
    units = {axis.unit_name for axis in crs.axis_info}
    if not crs.is_projected or units != {"metre"}:
        raise UsageError(f"metric_crs {metric_crs!r} must be a projected CRS in metres")
    return crs


def _crs_label(crs: CRS) -> str:
    """Short name of a CRS: ``"EPSG:4549"`` when it has one, else its PROJ/WKT string."""
    return crs.to_string()


def _points_lonlat(projects: gpd.GeoDataFrame) -> tuple[FloatArray, FloatArray, BoolArray]:
    """Longitude, latitude and a has-coordinates mask of point geometries, in EPSG:4326."""
    try:
        geoms = projects.geometry
    except AttributeError:
        raise UsageError("projects must be a GeoDataFrame with a geometry column") from None
    if geoms.crs is not None and not geoms.crs.equals(_LONLAT):
        geoms = geoms.to_crs(_LONLAT)
    values = np.asarray(geoms.array, dtype=object)
    present = ~(shapely.is_missing(values) | shapely.is_empty(values))
    if not present.all():  # a ledger's points are usually all there: no copies then
        values = values[present]
    kinds = shapely.get_type_id(values)
    if np.any(kinds != shapely.GeometryType.POINT):
        raise UsageError("projects must have Point geometries to build a density from")
    lon = np.full(len(present), np.nan)
    lat = np.full(len(present), np.nan)
    lon[present] = shapely.get_x(values)
    lat[present] = shapely.get_y(values)
    ok = np.isfinite(lon) & np.isfinite(lat)
    return lon, lat, ok


class ProjectPoints:
    """The positions of a table of projects, read once for several layers of them.

    :func:`kde_surface` and :func:`hex_grid` both need every project's longitude and latitude
    and their coordinates in metres; a map that draws both from the same projects reads the
    points once (:meth:`of`) and projects them once per metric CRS (:meth:`metric`). A row
    subset (:meth:`subset`, e.g. the projects with a known investment) takes its metric
    coordinates from the whole table's when those were already made in the same CRS: the
    projection works point by point, so the numbers are the same.

    Attributes
    ----------
    lon, lat
        Degrees (EPSG:4326), one per row; NaN where a row has no point.
    ok
        True where a row has finite coordinates.
    """

    def __init__(
        self,
        lon: FloatArray,
        lat: FloatArray,
        ok: BoolArray,
        parent: tuple[ProjectPoints, BoolArray] | None = None,
        shared: ObjectArray | None = None,
    ) -> None:
        self.lon, self.lat, self.ok = lon, lat, ok
        self._parent = parent
        self._shared = shared  # the build's point array these are of (every point finite)
        self._metric: dict[str, tuple[FloatArray, FloatArray]] = {}

    @classmethod
    def of(cls, projects: gpd.GeoDataFrame) -> ProjectPoints:
        """The points of ``projects`` (Point geometries in any CRS).

        Raises
        ------
        UsageError
            If ``projects`` has no geometry column or a geometry that is not a point.
        """
        return cls(*_points_lonlat(projects))

    def subset(self, rows: BoolArray) -> ProjectPoints:
        """The points of the rows where ``rows`` is true (a boolean mask over these rows)."""
        rows = np.asarray(rows, dtype=bool)
        return ProjectPoints(self.lon[rows], self.lat[rows], self.ok[rows], (self, rows))

    def metric_crs(self) -> CRS:
        """The metric CRS :func:`kde_surface` and :func:`hex_grid` choose for these points
        when given none (:func:`parkmap.coords.metric_crs_for` of their longitudes)."""
        return _resolve_metric_crs(self.lon[self.ok], None)

    def metric(self, crs: CRS) -> tuple[FloatArray, FloatArray]:
        """Metric x, y (metres in ``crs``) of the rows with coordinates (``ok``), in order."""
        key = crs.to_wkt()
        if key not in self._metric:
            parent = self._parent
            if parent is not None and key in parent[0]._metric:
                whole, rows = parent
                x, y = whole._metric[key]
                keep = rows[whole.ok]  # the whole's rows with coordinates that are ours
                self._metric[key] = (x[keep], y[keep])
            else:
                # Within a build, projected once for this and the nearest-park search.
                shared = None
                if self._shared is not None:
                    shared = shared_metric_coordinates(self._shared, crs, start=True)
                self._metric[key] = shared or _to_metric(crs, self.lon[self.ok], self.lat[self.ok])
        return self._metric[key]


def _weights(projects: gpd.GeoDataFrame, weight: str | None) -> FloatArray:
    """Weights as float64 (NaN when unknown); ones for counts."""
    if weight is None:
        return np.ones(len(projects))
    if weight not in projects.columns:
        raise UsageError(f"unknown weight column {weight!r}")
    try:
        numeric = pd.to_numeric(projects[weight], errors="raise")
    except (TypeError, ValueError):
        raise UsageError(f"weight column {weight!r} is not numeric") from None
    values = pd.Series(numeric).to_numpy(dtype=np.float64, na_value=np.nan)
    if np.any(np.isinf(values)) or np.any(values < 0):
        raise InputError(f"weight column {weight!r} has negative or infinite values")
    return values


#: Cached lon/lat-ordered transformer (see :func:`parkmap.coords.fast_transformer`).
_transformer = fast_transformer


def _to_metric(crs: CRS, lon: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
    transformer = _transformer(_LONLAT, crs)
    x, y = transformer.transform(lon, lat)
    return np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)


# =================================================================================================
# bandwidth
# =================================================================================================


def _spacing_bandwidth_km(x_m: FloatArray, y_m: FloatArray) -> float:
    """Default bandwidth (km) from metric coordinates (metres): see :func:`default_bandwidth_km`."""
    # pykdtree rather than scipy's cKDTree: the same exact queries, but scipy.spatial takes
    # 0.3 s to import (mostly its array-API layer), a tenth of a 100,000-project build, and
    # the build needs nothing else from scipy; pykdtree imports in a millisecond.
    from pykdtree.kdtree import KDTree

    if x_m.size == 0:
        raise UsageError("no projects with coordinates to choose a bandwidth from")
    xy = np.column_stack((x_m, y_m))
    # First project of each place, in file order. One hashed pass over a pair of integers:
    # np.unique(axis=0) sorts the rows as opaque bytes, some ten seconds for a million.
    cells = np.rint(xy / _SAME_PLACE_M)
    fits = np.isfinite(cells).all() and np.abs(cells).max(initial=0) < 2**31
    if fits:
        kx, ky = cells[:, 0].astype(np.int64), cells[:, 1].astype(np.int64)
        first = ~pd.Series((kx << 32) + (ky + 2**31)).duplicated().to_numpy()
        places = xy[first]
    else:
        _, index = np.unique(cells, axis=0, return_index=True)
        places = xy[np.sort(index)]
    if len(places) < 2:
        return FALLBACK_BANDWIDTH_KM
    extent_km = float(np.max(np.ptp(places, axis=0))) / 1000.0
    # Past MAX_SPACING_SAMPLE places the median gap is taken over every k-th place (each gap
    # still to its nearest neighbour among all places): the median of 100,000 gaps is within
    # a fraction of a percent of the median of them all, in a tenth of the time.
    step = -(-len(places) // MAX_SPACING_SAMPLE)
    if _median_gap_below_lower_bound(places, step):
        h = MIN_DEFAULT_BANDWIDTH_KM
    else:
        tree = KDTree(places)
        gaps, _ = tree.query(np.ascontiguousarray(places[::step]), k=2)
        spacing_km = float(np.median(gaps[:, 1])) / 1000.0
        h = min(
            max(SPACING_FACTOR * spacing_km, MIN_DEFAULT_BANDWIDTH_KM), MAX_DEFAULT_BANDWIDTH_KM
        )
    return max(h, extent_km / EXTENT_PER_BANDWIDTH)


def _median_gap_below_lower_bound(places: FloatArray, step: int) -> bool:
    """Whether the median gap of every ``step``-th place is surely small enough that the
    bandwidth is the lower bound, found without a nearest-neighbour search.

    Two places in one square cell of side ``c`` are less than ``c·√2`` apart. With ``c`` such
    that ``SPACING_FACTOR · c·√2`` is the lower bound, if more than half of the sampled places
    share their cell with another place, more than half of the sampled gaps are below
    ``c·√2``, so is their median, and the rule gives the lower bound: the same answer the
    search would give. Dense data (a million projects in a city) is decided here in a tenth of
    the search's time; sparser data falls through to the search.
    """
    cell_m = 1000.0 * MIN_DEFAULT_BANDWIDTH_KM / (SPACING_FACTOR * np.sqrt(2.0)) * 0.999
    cells = np.floor(places / cell_m)
    if not (np.isfinite(cells).all() and np.abs(cells).max(initial=0) < 2**31):
        return False
    keys = (cells[:, 0].astype(np.int64) << 32) + (cells[:, 1].astype(np.int64) + 2**31)
    codes, _ = pd.factorize(keys)
    shared = np.bincount(codes)[codes[::step]] >= 2
    sampled = len(shared)
    return int(shared.sum()) >= sampled // 2 + 1


def default_bandwidth_km(projects: gpd.GeoDataFrame, *, metric_crs: object = None) -> float:
    """Return the default kernel bandwidth for these projects, in km: from their own spacing.

    The rule::

        h = clamp(4 · median nearest-neighbour distance, 0.3 km, 2 km)
        h = max(h, extent / 400)

    The nearest-neighbour distance of each distinct place (projects within 1 m of each other
    are one place: a ledger often lists several projects at one address) is measured in metres
    in the metric CRS, unweighted. Where projects are scattered evenly (a Poisson pattern of
    intensity λ, whose median nearest-neighbour distance m has λπm² = ln 2), a disc of radius
    4m holds 16 · ln 2 ≈ 11 projects: the kernel blends about ten neighbouring projects and no
    more, so the surface follows the spacing inside the parks and keeps its peaks on the
    projects instead of in the land between parks (a rule from the whole extent, like the
    Silverman-type rule used before, gave ~7 km on the demo). The bounds are the scale
    of a park: under 0.3 km the surface breaks into dots around single plots, over 2 km it
    smears neighbouring parks together. ``extent`` is the longer side of the places' bounding
    box; the last line only matters for data over ~120 km wide (a province), where the 512-pixel
    image could not draw a narrower kernel. Fewer than two distinct places get 1 km.

    Parameters
    ----------
    projects
        Projects with Point geometries (EPSG:4326); rows without coordinates are left out.
    metric_crs
        CRS to measure distances in (anything :class:`pyproj.CRS` accepts, in metres); ``None``
        chooses it with :func:`parkmap.coords.metric_crs_for`.

    Returns
    -------
    float
        Bandwidth in km.

    Raises
    ------
    UsageError
        If no project has coordinates, or ``metric_crs`` is not a metric CRS.
    """
    lon, lat, ok = _points_lonlat(projects)
    if not ok.any():
        raise UsageError("no projects with coordinates to choose a bandwidth from")
    crs = _resolve_metric_crs(lon[ok], metric_crs)
    x, y = _to_metric(crs, lon[ok], lat[ok])
    return _spacing_bandwidth_km(x, y)


def tick_labels(values: Sequence[float], significant: int = TICK_SIGNIFICANT) -> list[str]:
    """Legend ticks with ``significant`` significant figures, more where two would read alike.

    ``0`` is written ``0``; other values are rounded to ``significant`` significant figures
    and written without an exponent (``0.00308``, ``0.74``, ``15.4``; whole numbers keep all
    their digits, ``1,234``), trailing zeros dropped. Whenever two different values would get
    the same text, every tick gets one more figure (up to 15), so a legend never reads
    ``0.01 0.01``.

    Parameters
    ----------
    values
        Tick values, e.g. the stops of a colour ramp.
    significant
        Significant figures (at least 1).

    Returns
    -------
    list of str
        One label per value.
    """
    numbers = [float(v) for v in values]
    labels = [_significant(v, max(1, significant)) for v in numbers]
    for digits in range(max(1, significant) + 1, 16):
        seen: dict[str, float] = {}
        if all(seen.setdefault(label, v) == v for label, v in zip(labels, numbers, strict=True)):
            break
        labels = [_significant(v, digits) for v in numbers]
    return labels


def _significant(value: float, digits: int) -> str:
    if not math.isfinite(value):
        return ""
    if value == 0:
        return "0"
    decimals = max(0, digits - 1 - math.floor(math.log10(abs(value))))
    text = f"{value:,.{decimals}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


# =================================================================================================
# kernel density surface
# =================================================================================================


@dataclass(frozen=True, eq=False)
class DensitySurface:
    """A kernel density surface sampled on a grid that is regular in Web Mercator.

    Attributes
    ----------
    values
        2-D float64 array (read-only) of densities in :attr:`unit`; row 0 is the NORTH edge,
        column 0 the WEST edge. Pixels are squares in Web Mercator.
    bounds
        ``((south, west), (north, east))`` of the image's outer edges in degrees, exactly what
        Leaflet's ``L.imageOverlay(url, bounds)`` takes.
    bandwidth_km
        Gaussian bandwidth (standard deviation) in km.
    weight
        Weight column summed, or ``None`` when projects were counted.
    unit
        ``"亿元/km²"`` for a weight column, ``"projects/km²"`` for counts.
    total
        Sum of the weights used (亿元, or the number of projects): the integral of the surface
        over the whole plane.
    metric_crs
        CRS the distances were measured in, e.g. ``"EPSG:4549"``.
    method
        ``"exact"`` (direct sum) or ``"binned"`` (linear binning and FFT convolution).
    n_used
        Number of projects in the surface: those with coordinates and a known weight.
    """

    values: FloatArray
    bounds: tuple[tuple[float, float], tuple[float, float]]
    bandwidth_km: float
    weight: str | None
    unit: str
    total: float
    metric_crs: str
    method: str
    n_used: int

    @property
    def shape(self) -> tuple[int, int]:
        """``(rows, columns)`` of :attr:`values`."""
        rows, cols = self.values.shape
        return rows, cols


#: Pixels between the rows and columns whose centres a surface projects exactly (see
#: :meth:`_MercatorGrid.centres`).
_CENTRE_LATTICE_STEP: Final = 4
#: Largest error of an interpolated pixel centre, in bandwidths. A kernel's value changes by
#: at most 0.61 of its peak per bandwidth moved (its steepest slope), so an error of 5e-5 h
#: changes a pixel by under 0.004 % of a lone project's peak: at 0.3 km, 1.5 cm. Around
#: Qingdao a 512-pixel image is off by about 7 mm in its worst place.
_CENTRE_TOLERANCE_H: Final = 5e-5


def _lattice(count: int, step: int) -> FloatArray:
    """Every ``step``-th position of ``count`` and the last one, as floats."""
    at = np.arange(0, count, step, dtype=float)
    return at if at[-1] == count - 1 else np.append(at, float(count - 1))


def _cell_means(nodes: FloatArray) -> FloatArray:
    """Mean of the four corners of each cell of a lattice: bilinear at the cell's middle."""
    return (nodes[:-1, :-1] + nodes[:-1, 1:] + nodes[1:, :-1] + nodes[1:, 1:]) / 4.0


def _bilinear(
    nodes: FloatArray, rows: FloatArray, cols: FloatArray, n_rows: int, n_cols: int
) -> FloatArray:
    """Values at every integer (row, col) position, interpolated bilinearly between ``nodes``
    given at lattice positions ``rows`` × ``cols`` (the first 0, the last the final one)."""

    def weights(at: FloatArray, count: int) -> tuple[np.ndarray, FloatArray]:
        positions = np.arange(count, dtype=float)
        below = np.clip(np.searchsorted(at, positions, side="right") - 1, 0, at.size - 2)
        return below, (positions - at[below]) / (at[below + 1] - at[below])

    col_below, u = weights(cols, n_cols)
    across = nodes[:, col_below] * (1.0 - u) + nodes[:, col_below + 1] * u
    row_below, v = weights(rows, n_rows)
    v = v[:, None]
    return across[row_below] * (1.0 - v) + across[row_below + 1] * v


@dataclass(frozen=True)
class _MercatorGrid:
    """Pixel layout of a surface: square pixels of ``size`` metres in Web Mercator."""

    west: float
    north: float
    size: float
    rows: int
    cols: int

    def centres(
        self, to_metric: Transformer, tolerance_m: float | None = None
    ) -> tuple[FloatArray, FloatArray]:
        """Every pixel centre in the CRS ``to_metric`` projects Web Mercator into, row by row.

        With ``tolerance_m`` (metres), centres may be interpolated: projecting each centre of
        a 512-pixel image (260,000 of them) takes 0.07 s, most of a binned surface's time
        outside the FFTs, and the projection bends so little across a few pixels that every
        fourth row and column (and the last) are projected and the centres between them
        interpolated bilinearly. The interpolation is checked where it is worst, at the
        middle of each cell of that lattice, against the projection itself; when it is off
        there by more than ``tolerance_m``, every centre is projected. Without it, every
        centre is.
        """
        rows = _lattice(self.rows, _CENTRE_LATTICE_STEP)
        cols = _lattice(self.cols, _CENTRE_LATTICE_STEP)
        if (
            tolerance_m is not None
            and min(rows.size, cols.size) >= 2
            and 2 * rows.size * cols.size < self.rows * self.cols
        ):
            node_x, node_y = self._projected(to_metric, rows, cols)
            mid_x, mid_y = self._projected(
                to_metric, (rows[:-1] + rows[1:]) / 2.0, (cols[:-1] + cols[1:]) / 2.0
            )
            off = max(
                float(np.max(np.abs(_cell_means(node_x) - mid_x))),
                float(np.max(np.abs(_cell_means(node_y) - mid_y))),
            )
            if off <= tolerance_m:
                return (
                    _bilinear(node_x, rows, cols, self.rows, self.cols).ravel(),
                    _bilinear(node_y, rows, cols, self.rows, self.cols).ravel(),
                )
        px, py = self._projected(
            to_metric, np.arange(self.rows, dtype=float), np.arange(self.cols, dtype=float)
        )
        return px.ravel(), py.ravel()

    def _projected(
        self, to_metric: Transformer, rows: FloatArray, cols: FloatArray
    ) -> tuple[FloatArray, FloatArray]:
        """The points at (possibly fractional) pixel ``rows`` × ``cols``, projected."""
        x = self.west + (cols + 0.5) * self.size
        y = self.north - (rows + 0.5) * self.size
        merc_x, merc_y = np.meshgrid(x, y)
        px, py = to_metric.transform(merc_x, merc_y)
        return np.asarray(px, dtype=np.float64), np.asarray(py, dtype=np.float64)

    def bounds_lonlat(self) -> tuple[tuple[float, float], tuple[float, float]]:
        to_lonlat = _transformer(_WEB_MERCATOR, _LONLAT)
        east = self.west + self.cols * self.size
        south = self.north - self.rows * self.size
        lon, lat = to_lonlat.transform([self.west, east], [south, self.north])
        return (float(lat[0]), float(lon[0])), (float(lat[1]), float(lon[1]))


def _mercator_grid(
    lon: FloatArray, lat: FloatArray, pad_km: float, min_half_km: float, max_pixels: int
) -> _MercatorGrid:
    """Square-pixel grid over the points' Web Mercator bbox, padded by ``pad_km`` true km."""
    # Web Mercator's x grows with longitude alone and its y with latitude alone, so the
    # corners of the lon/lat box are the Mercator box: two points projected, not a million.
    to_merc = _transformer(_LONLAT, _WEB_MERCATOR)
    mx, my = to_merc.transform(
        [float(np.min(lon)), float(np.max(lon))], [float(np.min(lat)), float(np.max(lat))]
    )
    # Web Mercator stretches true distances by up to sec(latitude) / (1 − e²) (the 1 − e² for
    # north–south distances on the ellipsoid); pad with the largest stretch in the padded box so
    # the padding is at least pad_km everywhere.
    extreme_lat = min(float(np.max(np.abs(lat))) + pad_km / 110.0, 85.0)
    stretch = 1.0 / (math.cos(math.radians(extreme_lat)) * (1.0 - _WGS84_E2))
    pad = pad_km * 1000.0 * stretch
    min_half = min_half_km * 1000.0 * stretch
    spans = []
    for values in (mx, my):
        low, high = float(np.min(values)) - pad, float(np.max(values)) + pad
        middle = (low + high) / 2.0
        half = max((high - low) / 2.0, min_half)
        spans.append((middle - half, middle + half))
    (x0, x1), (y0, y1) = spans
    size = max(x1 - x0, y1 - y0) / max_pixels
    cols = max(1, math.ceil((x1 - x0) / size - 1e-9))
    rows = max(1, math.ceil((y1 - y0) / size - 1e-9))
    # Grow the shorter side to a whole number of square pixels, keeping it centred.
    west = (x0 + x1) / 2.0 - cols * size / 2.0
    north = (y0 + y1) / 2.0 + rows * size / 2.0
    return _MercatorGrid(west=west, north=north, size=size, rows=rows, cols=cols)


def _exact_sum(
    px: FloatArray, py: FloatArray, x: FloatArray, y: FloatArray, w: FloatArray, h: float
) -> FloatArray:
    """Σ w·exp(−d²/2h²) at every (px, py); all in km. Chunked to bound memory."""
    out = np.empty(px.size)
    n = x.size
    step_points = min(n, _PAIR_CHUNK)
    step_pixels = max(1, _PAIR_CHUNK // step_points)
    scale = -0.5 / (h * h)
    for start in range(0, px.size, step_pixels):
        stop = min(start + step_pixels, px.size)
        acc = np.zeros(stop - start)
        for first in range(0, n, step_points):
            last = min(first + step_points, n)
            d2 = px[start:stop, None] - x[None, first:last]
            d2 *= d2
            dy = py[start:stop, None] - y[None, first:last]
            dy *= dy
            d2 += dy
            d2 *= scale
            np.exp(d2, out=d2)
            acc += d2 @ w[first:last]
        out[start:stop] = acc
    return out


def _smooth_size(n: int) -> int:
    """Smallest integer ≥ n whose only prime factors are 2, 3 and 5 (fast FFT lengths)."""
    candidate = max(1, n)
    while True:
        rest = candidate
        for p in (2, 3, 5):
            while rest % p == 0:
                rest //= p
        if rest == 1:
            return candidate
        candidate += 1


def _gaussian_taps(length: int, radius: int, delta: float, h: float) -> FloatArray:
    """1-D Gaussian exp(−(kδ)²/2h²) for |k| ≤ radius, laid out for circular convolution."""
    taps = np.zeros(length)
    k = np.arange(radius + 1)
    g = np.exp(-0.5 * (k * delta / h) ** 2)
    taps[: radius + 1] = g
    if radius:
        taps[length - radius :] = g[:0:-1]
    return taps


def _binned_cell(h: float, span_x: float, span_y: float) -> float:
    """Binning cell (km): h/6 when the grid fits in memory, coarser up to h/4, else an error."""
    delta = h * _BIN_FINE
    while True:
        radius = math.ceil(_KERNEL_CUTOFF_H * h / delta)
        cells = (span_x / delta + 3 + radius) * (span_y / delta + 3 + radius)
        if cells <= _MAX_FFT_CELLS:
            return delta
        if delta >= h * _BIN_COARSEST:
            # The grid is about (span / (h/4))² cells, so h must be ≳ span / 500.
            lower = max(span_x, span_y) / 500.0
            raise UsageError(
                f"bandwidth_km={h:g} is too small for an area {span_x:.0f} × {span_y:.0f} km "
                f"wide with method='binned'; use bandwidth_km ≥ {lower:.2g} or method='exact'"
            )
        delta = min(delta * 1.1, h * _BIN_COARSEST)


def _binned_sum(
    px: FloatArray, py: FloatArray, x: FloatArray, y: FloatArray, w: FloatArray, h: float
) -> FloatArray:
    """Σ w·exp(−d²/2h²) at (px, py) by linear binning, FFT convolution and bilinear lookup (km)."""
    x0 = min(float(x.min()), float(px.min()))
    y0 = min(float(y.min()), float(py.min()))
    span_x = max(float(x.max()), float(px.max())) - x0
    span_y = max(float(y.max()), float(py.max())) - y0
    delta = _binned_cell(h, span_x, span_y)
    # One empty cell of margin on each side keeps every binning and lookup stencil inside.
    x0 -= delta
    y0 -= delta
    nx = math.ceil(span_x / delta) + 3
    ny = math.ceil(span_y / delta) + 3
    radius = math.ceil(_KERNEL_CUTOFF_H * h / delta)
    # Zero padding by the kernel radius: circular convolution then equals linear convolution.
    lx = _smooth_size(nx + radius)
    ly = _smooth_size(ny + radius)

    fx = (x - x0) / delta
    fy = (y - y0) / delta
    ix = np.floor(fx).astype(np.int64)
    iy = np.floor(fy).astype(np.int64)
    tx = fx - ix
    ty = fy - iy
    # The weights are binned straight into the zero-padded FFT layout (rows of lx cells), and
    # the transforms run axis by axis in place: a third of the memory of binning four times
    # and letting rfft2/irfft2 pad and copy. Fresh memory is costly where page faults are (a
    # virtual machine: 3 µs per 4 KiB page, 0.2 s at 100,000 projects).
    base = iy * lx + ix
    cells = np.concatenate((base, base + 1, base + lx, base + lx + 1))
    shares = np.concatenate(
        (w * (1 - tx) * (1 - ty), w * tx * (1 - ty), w * (1 - tx) * ty, w * tx * ty)
    )
    grid = np.bincount(cells, weights=shares, minlength=ly * lx).reshape(ly, lx)
    del cells, shares
    spectrum = np.fft.rfft(grid, axis=1)
    del grid
    np.fft.fft(spectrum, axis=0, out=spectrum)
    kernel_y = np.fft.fft(_gaussian_taps(ly, radius, delta, h))
    kernel_x = np.fft.rfft(_gaussian_taps(lx, radius, delta, h))
    spectrum *= kernel_y[:, None]
    spectrum *= kernel_x[None, :]
    np.fft.ifft(spectrum, axis=0, out=spectrum)
    smooth = np.fft.irfft(spectrum, n=lx, axis=1)[:ny, :nx]
    del spectrum
    np.maximum(smooth, 0.0, out=smooth)  # round-off of the FFT can dip just below zero

    gx = (px - x0) / delta
    gy = (py - y0) / delta
    jx = np.clip(np.floor(gx).astype(np.int64), 0, nx - 2)
    jy = np.clip(np.floor(gy).astype(np.int64), 0, ny - 2)
    ux = gx - jx
    uy = gy - jy
    return (
        smooth[jy, jx] * (1 - ux) * (1 - uy)
        + smooth[jy, jx + 1] * ux * (1 - uy)
        + smooth[jy + 1, jx] * (1 - ux) * uy
        + smooth[jy + 1, jx + 1] * ux * uy
    )


def _check_kde_options(
    bandwidth_km: float | None, max_pixels: int, pad_bandwidths: float, method: str
) -> None:
    if method not in KDE_METHODS:
        raise UsageError(f"unknown method {method!r}; choose one of {', '.join(KDE_METHODS)}")
    if bandwidth_km is not None and not (math.isfinite(bandwidth_km) and bandwidth_km > 0):
        raise UsageError(f"bandwidth_km must be a positive number of km, got {bandwidth_km!r}")
    if isinstance(max_pixels, bool) or not isinstance(max_pixels, int | np.integer):
        raise UsageError(f"max_pixels must be an integer, got {max_pixels!r}")
    if not 2 <= max_pixels <= 8192:
        raise UsageError(f"max_pixels must be between 2 and 8192, got {max_pixels}")
    if not (math.isfinite(pad_bandwidths) and pad_bandwidths >= 0):
        raise UsageError(f"pad_bandwidths must be ≥ 0, got {pad_bandwidths!r}")


def kde_surface(
    projects: gpd.GeoDataFrame,
    *,
    weight: str | None = DEFAULT_WEIGHT,
    bandwidth_km: float | None = None,
    max_pixels: int = 512,
    pad_bandwidths: float = 3.0,
    metric_crs: object = None,
    method: str = "auto",
    points: ProjectPoints | None = None,
) -> DensitySurface:
    """Build a Gaussian kernel density surface of investment (or of project counts).

    The density at a place x is ``Σ w_i · exp(−d_i² / 2h²) / (2π h²)`` with ``d_i`` the distance
    from x to project i and ``h`` the bandwidth, both in km measured in the metric CRS; the
    surface integrates to ``Σ w_i`` and reads in 亿元/km² (projects/km² when ``weight`` is None).

    The image covers the projects' bounding box padded by ``pad_bandwidths · h`` on every side.
    Its pixels are squares of a grid that is regular in Web Mercator (EPSG:3857), with
    ``max_pixels`` along the longer side, because Leaflet stretches an image overlay linearly in
    Web Mercator; each pixel centre is projected into the metric CRS and the density is evaluated
    there, in metres.

    Parameters
    ----------
    projects
        Projects with Point geometries (EPSG:4326). Rows without coordinates, and rows whose
        weight is NaN, are left out (see :attr:`DensitySurface.n_used`).
    weight
        Column of non-negative weights, 亿元 by default; ``None`` counts projects.
    bandwidth_km
        Gaussian standard deviation in km. ``None`` uses :func:`default_bandwidth_km` on every
        project with coordinates (whether or not its weight is known): four times the median
        nearest-neighbour distance between distinct places, bounded to [0.3 km, 2 km] (and at
        least the extent / 400), or 1 km for fewer than two distinct places.
    max_pixels
        Pixels along the longer side of the image (2–8192).
    pad_bandwidths
        Padding around the projects' bounding box, in bandwidths (true distance, at least).
    metric_crs
        CRS to measure distances in (in metres); ``None`` chooses it with
        :func:`parkmap.coords.metric_crs_for`.
    method
        ``"exact"`` sums every project's kernel at every pixel (in chunks of bounded memory).
        ``"binned"`` spreads the weights over a regular metric grid with cells of h/6 (up to h/4
        for very large areas) by linear (cloud-in-cell) binning, convolves it with the Gaussian
        by FFT (zero-padded, kernel cut at 6h) and reads the pixel centres by bilinear
        interpolation; it differs from the exact sum by less than 1% of a lone project's peak
        (3% where h/4 cells are needed), and it refuses (``UsageError``) a bandwidth under
        about 1/500 of the area's width. ``"auto"`` sums exactly when projects × pixels ≤ 5e7
        and bins otherwise.
    points
        The positions of ``projects`` already read (:meth:`ProjectPoints.of`), e.g. shared
        with a :func:`hex_grid` of the same projects; ``None`` reads them.

    Returns
    -------
    DensitySurface

    Raises
    ------
    UsageError
        If no project with coordinates (and a known weight) is left, ``weight`` is not a column,
        ``bandwidth_km`` ≤ 0, or another option has a value it cannot take.
    InputError
        If the weight column has negative or infinite values.
    """
    _check_kde_options(bandwidth_km, max_pixels, pad_bandwidths, method)
    points = points or ProjectPoints.of(projects)
    lon, lat, ok = points.lon, points.lat, points.ok
    weights = _weights(projects, weight)
    used = ok & np.isfinite(weights)
    if not used.any():
        if weight is not None and ok.any():
            raise UsageError(f"no projects with a known {weight!r} to build a density surface from")
        raise UsageError("no projects with coordinates to build a density surface from")

    crs = _resolve_metric_crs(lon[ok], metric_crs)
    x, y = points.metric(crs)
    h = _spacing_bandwidth_km(x, y) if bandwidth_km is None else float(bandwidth_km)
    keep = used[ok]
    lon, lat, w = lon[used], lat[used], weights[used]
    x, y = x[keep], y[keep]

    grid = _mercator_grid(lon, lat, pad_bandwidths * h, h, max_pixels)
    if method == "auto":
        method = "exact" if x.size * grid.rows * grid.cols <= EXACT_PAIR_LIMIT else "binned"
    # The binned sum is an approximation within 1% of a peak: its pixel centres may be
    # interpolated within a far smaller error. The exact sum is evaluated where they are.
    px, py = grid.centres(
        _transformer(_WEB_MERCATOR, crs),
        tolerance_m=h * 1000.0 * _CENTRE_TOLERANCE_H if method == "binned" else None,
    )
    # Work in km around the mean centre (smaller numbers, no loss of precision).
    cx, cy = float(x.mean()), float(y.mean())
    px = (np.asarray(px) - cx) / 1000.0
    py = (np.asarray(py) - cy) / 1000.0
    x = (x - cx) / 1000.0
    y = (y - cy) / 1000.0

    summed = (
        _exact_sum(px, py, x, y, w, h) if method == "exact" else _binned_sum(px, py, x, y, w, h)
    )
    values = (summed / (2.0 * math.pi * h * h)).reshape(grid.rows, grid.cols)
    values.flags.writeable = False
    return DensitySurface(
        values=values,
        bounds=grid.bounds_lonlat(),
        bandwidth_km=h,
        weight=weight,
        unit=UNIT_COUNT if weight is None else UNIT_WEIGHTED,
        total=float(w.sum()),
        metric_crs=_crs_label(crs),
        method=method,
        n_used=int(used.sum()),
    )


class SurfaceJob:
    """The density surface and hexagon grid of a map, started on another thread early.

    ``parkmap build`` starts one as soon as the projects' WGS-84 points exist, so the surface
    (a k-d tree and FFTs, mostly outside the GIL) and the grid are worked out while the join,
    the park figures and the projects' payload are, instead of after them.
    :func:`parkmap.webmap.compose.make_map` takes them only when they fit the projects it
    draws (:meth:`fits`: same points, same amounts, same bandwidth) and, for the grid, the
    same cells over the same parks (:meth:`fits_grid`); otherwise it starts one of its own.

    Parameters
    ----------
    projects
        Project points in WGS-84 with their amounts (``investment_100m_cny``).
    investment
        The amounts as the map weighs them (NaN for none or an amount left out of sums).
    bandwidth_km
        Kernel bandwidth; ``None`` for the default from the projects' spacing.
    pool
        Executor the work is submitted to (the positions, the surface, then the grid).
    cell_km, cover
        The grid's :func:`hex_grid` arguments; no grid is made without ``cell_km``.
    """

    def __init__(
        self,
        projects: gpd.GeoDataFrame,
        investment: FloatArray,
        *,
        bandwidth_km: float | None,
        pool: Executor,
        cell_km: float | None = None,
        cover: gpd.GeoDataFrame | None = None,
    ) -> None:
        import geopandas as gpd

        self._geometry = np.asarray(projects.geometry.array)
        self.investment = np.asarray(investment, dtype=np.float64)
        self.bandwidth_km = bandwidth_km
        money = np.nan_to_num(self.investment) > 0
        weighed = gpd.GeoDataFrame(
            {DEFAULT_WEIGHT: self.investment}, geometry=projects.geometry.array, crs=projects.crs
        )
        # The frame above holds a copy of the point array: the coordinates are looked up by
        # the array the build made (known only within a build).
        self.points: Future[ProjectPoints] = pool.submit(self._positions, weighed, self._geometry)

        def surface() -> DensitySurface | None:
            if not money.any():
                return None
            points = self.points.result()
            return kde_surface(
                weighed[money], bandwidth_km=bandwidth_km, points=points.subset(money)
            )

        self.surface: Future[DensitySurface | None] = pool.submit(surface)
        self.cell_km = cell_km
        self._cover = None if cover is None else _polygons_key(cover)
        self.grid: Future[gpd.GeoDataFrame] | None = None
        if cell_km is not None:

            def grid() -> gpd.GeoDataFrame:
                return hex_grid(weighed, cell_km=cell_km, cover=cover, points=self.points.result())

            self.grid = pool.submit(grid)

    @staticmethod
    def _positions(projects: gpd.GeoDataFrame, geometry: ObjectArray) -> ProjectPoints:
        known = known_point_coordinates(geometry)
        if known is not None:  # finite coordinates, every one
            lon, lat = known
            points = ProjectPoints(lon, lat, np.ones(len(lon), dtype=bool), shared=geometry)
        else:
            points = ProjectPoints.of(projects)
        if points.ok.any():
            points.metric(points.metric_crs())
        return points

    def fits(
        self, projects: gpd.GeoDataFrame, investment: FloatArray, bandwidth_km: float | None
    ) -> bool:
        """Whether this surface is the one of ``projects`` (WGS-84) weighed by ``investment``
        with ``bandwidth_km``: the very same point objects in the same order (the join adds
        columns to the frame the job started from, it never moves a point), equal amounts and
        the same bandwidth asked for."""
        if bandwidth_km != self.bandwidth_km:
            return False
        geometry = np.asarray(projects.geometry.array)
        same_points = (
            geometry.shape == self._geometry.shape
            and geometry.strides == self._geometry.strides
            and geometry.ctypes.data == self._geometry.ctypes.data
        )
        return same_points and np.array_equal(
            np.asarray(investment, dtype=np.float64), self.investment, equal_nan=True
        )

    def fits_grid(self, cell_km: float, cover: gpd.GeoDataFrame | None) -> bool:
        """Whether the grid was made with these cells over these polygons (same CRS, same
        geometries, compared as WKB); :meth:`fits` must hold too."""
        if self.grid is None or cell_km != self.cell_km:
            return False
        if cover is None or self._cover is None:
            return cover is None and self._cover is None
        crs, wkb = self._cover
        theirs_crs, theirs = _polygons_key(cover)
        return crs == theirs_crs and np.array_equal(wkb, theirs)


def _polygons_key(layer: gpd.GeoDataFrame) -> tuple[object, ObjectArray]:
    return layer.crs, shapely.to_wkb(np.asarray(layer.geometry.array))


# =================================================================================================
# hexagon grid
# =================================================================================================


def _axial_round(x: FloatArray, y: FloatArray, size: float) -> tuple[IntArray, IntArray]:
    """Axial (q, r) of the pointy-topped hexagon of circumradius ``size`` containing (x, y).

    Centres sit at ``x = size·√3·(q + r/2)``, ``y = size·1.5·r``. The fractional axial position
    is rounded in cube coordinates (q, −q−r, r), and the component that moved most is recomputed
    from the other two so that they still sum to zero; the result is the nearest centre.
    """
    qf = (x * (_SQRT3 / 3.0) - y / 3.0) / size
    rf = y * (2.0 / 3.0) / size
    sf = -qf - rf
    q, r, s = np.rint(qf), np.rint(rf), np.rint(sf)
    dq, dr, ds = np.abs(q - qf), np.abs(r - rf), np.abs(s - sf)
    fix_q = (dq > dr) & (dq > ds)
    fix_r = ~fix_q & (dr > ds)
    q = np.where(fix_q, -r - s, q)
    r = np.where(fix_r, -q - s, r)
    return q.astype(np.int64), r.astype(np.int64)


def _hex_centres(q: IntArray, r: IntArray, size: float) -> tuple[FloatArray, FloatArray]:
    # float × int64 array is float64; the stubs only say floating.
    return size * _SQRT3 * (q + r / 2.0), np.asarray(size * 1.5 * r, dtype=np.float64)


def _hex_polygons(q: IntArray, r: IntArray, size: float) -> FloatArray:
    """Vertices (n, 6, 2) of pointy-topped hexagons, counter-clockwise from the east-north-east."""
    cx, cy = _hex_centres(q, r, size)
    angles = np.radians(30.0 + 60.0 * np.arange(6))
    coords = np.empty((q.size, 6, 2))
    coords[:, :, 0] = cx[:, None] + size * np.cos(angles)[None, :]
    coords[:, :, 1] = cy[:, None] + size * np.sin(angles)[None, :]
    return coords


def _shoelace_area(coords: FloatArray) -> FloatArray:
    """Planar area of each polygon given as vertices (n, k, 2)."""
    x, y = coords[..., 0], coords[..., 1]
    # Centre each polygon first so the cross products stay small.
    x = x - x.mean(axis=1, keepdims=True)
    y = y - y.mean(axis=1, keepdims=True)
    cross = x * np.roll(y, -1, axis=1) - np.roll(x, -1, axis=1) * y
    area: FloatArray = np.abs(cross.sum(axis=1)) / 2.0
    return area


def _pair_codes(
    q: IntArray, r: IntArray, others: tuple[IntArray, IntArray] | None = None
) -> tuple[IntArray, IntArray] | None:
    """One int64 code per (q, r) pair (and per pair of ``others``), or None if they overflow."""
    all_q = q if others is None else np.concatenate((q, others[0]))
    all_r = r if others is None else np.concatenate((r, others[1]))
    if all_q.size == 0:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    q0, r0 = int(all_q.min()), int(all_r.min())
    span_r = int(all_r.max()) - r0 + 1
    if (int(all_q.max()) - q0 + 1) * span_r >= 2**62:
        return None
    codes = (all_q - q0) * span_r + (all_r - r0)
    return codes[: q.size], codes[q.size :]


def _unique_pairs(q: IntArray, r: IntArray) -> tuple[IntArray, IntArray]:
    """Distinct (q, r) pairs, by q then r."""
    codes = _pair_codes(q, r)
    if codes is None:
        pairs = np.unique(np.column_stack((q, r)), axis=0)
        return pairs[:, 0], pairs[:, 1]
    # First occurrences by hashing, then only those sorted by code: a million points in some
    # 20 ms, where np.unique sorts them all (0.1-0.15 s).
    first = np.flatnonzero(~pd.Series(codes[0]).duplicated().to_numpy())
    first = first[np.argsort(codes[0][first])]
    return q[first], r[first]


def _lookup_cells(
    cell_q: IntArray, cell_r: IntArray, point_q: IntArray, point_r: IntArray
) -> IntArray:
    """Index of each point's (q, r) among the cells, −1 when it is not one of them."""
    codes = _pair_codes(cell_q, cell_r, (point_q, point_r))
    if codes is None:
        keys = np.vstack((np.column_stack((cell_q, cell_r)), np.column_stack((point_q, point_r))))
        _, inverse = np.unique(keys, axis=0, return_inverse=True)
        inverse = inverse.ravel()
        cell_codes, point_codes = inverse[: cell_q.size], inverse[cell_q.size :]
    else:
        cell_codes, point_codes = codes
    if cell_codes.size == 0 or point_codes.size == 0:
        return np.full(point_q.size, -1, dtype=np.int64)
    # The cells are distinct: one hashed lookup per point (a sorted search took 4 times as long).
    return pd.Index(cell_codes).get_indexer(pd.Index(point_codes)).astype(np.int64, copy=False)


def _too_many_cells(count: int) -> UsageError:
    return UsageError(
        f"the hexagon grid would need about {count:,} cells (at most {MAX_HEX_CELLS:,}); "
        "use a larger cell_km"
    )


def _disk_offsets(ring: int) -> tuple[IntArray, IntArray]:
    """Axial offsets (dq, dr) of the cells within ``ring`` steps of a cell, itself included."""
    steps = np.arange(-ring, ring + 1)
    dq, dr = (a.ravel() for a in np.meshgrid(steps, steps))
    near = np.abs(dq + dr) <= ring
    return dq[near].astype(np.int64), dr[near].astype(np.int64)


def _with_rings(q: IntArray, r: IntArray, ring: int) -> tuple[IntArray, IntArray]:
    """Distinct cells (q, r) and every cell within ``ring`` steps of one of them."""
    if ring == 0 or q.size == 0:
        return q, r
    dq, dr = _disk_offsets(ring)
    if q.size * dq.size > 4 * MAX_HEX_CELLS:
        raise _too_many_cells(q.size * dq.size)
    return _unique_pairs((q[:, None] + dq[None, :]).ravel(), (r[:, None] + dr[None, :]).ravel())


def _cells_meeting(cover_parts: ObjectArray, q: IntArray, r: IntArray, size: float) -> BoolArray:
    """Whether the interior of each hexagon (q, r) meets a cover polygon (metric CRS)."""
    keep = np.zeros(q.size, dtype=bool)
    if q.size == 0 or cover_parts.size == 0:
        return keep
    hexes = shapely.polygons(_hex_polygons(q, r, size))
    shapely.prepare(cover_parts)
    part_index, hex_index = shapely.STRtree(hexes).query(cover_parts, predicate="intersects")
    # A hexagon whose centre lies in a polygon (boundary included) meets its interior: the centre
    # is an interior point of the hexagon, and a valid polygon is the closure of its interior.
    cx, cy = _hex_centres(q[hex_index], r[hex_index], size)
    sure = shapely.intersects_xy(cover_parts[part_index], cx, cy)
    keep[hex_index[sure]] = True
    # The others: drop cells that only touch a polygon along an edge or at a vertex.
    rest_part, rest_hex = part_index[~sure], hex_index[~sure]
    meets = ~shapely.touches(cover_parts[rest_part], hexes[rest_hex])
    keep[rest_hex[meets]] = True
    return keep


def _density_column(weight: str) -> str:
    if weight == DEFAULT_WEIGHT:
        return "density_100m_cny_per_km2"
    return f"{weight}_per_km2"


def hex_grid(
    projects: gpd.GeoDataFrame,
    *,
    cell_km: float,
    cover: gpd.GeoDataFrame | None = None,
    ring: int = GRID_RING,
    weight: str = DEFAULT_WEIGHT,
    metric_crs: object = None,
    points: ProjectPoints | None = None,
) -> gpd.GeoDataFrame:
    """Count projects and sum investment in the hexagons that hold projects, and their neighbours.

    The hexagons are **pointy-topped** (a vertex points north) and built in the metric CRS.
    ``cell_km`` is the distance between the centres of adjacent cells, so a hexagon's side (and
    circumradius) is ``cell_km / √3`` and its area ``(√3/2) · cell_km²``. The grid is anchored at
    the metric CRS's origin, so a cell's axial id ``"q,r"`` depends only on the CRS and
    ``cell_km``, not on the data: cell (q, r) is centred at ``x = cell_km·(q + r/2)``,
    ``y = cell_km·(√3/2)·r`` (km): q grows east, r towards 60° north of east.

    Each project goes to exactly one cell, the one with the nearest centre (vectorised axial
    rounding; a project on a shared edge goes to one of the two).

    **Which cells.** The grid is built around the projects, never over empty land: the cells
    that hold at least one project, plus ``ring`` rings of neighbours around each (the empty
    cells near the projects, which the hot-spot statistics need as the "cold" side; with the
    default two rings every cell beside a project's cell has all six of its own neighbours in
    the grid, so its Gi* is not cut short at the grid's edge), and, with ``cover``, only those
    of them whose interior meets a cover polygon. So a park the size
    of a county costs cells only where its projects are: the number of cells is at most
    ``(1 + 3·ring·(ring + 1))`` times the number of projects, whatever the polygons' area. A
    cover polygon without projects nearby gets no cells.

    Parameters
    ----------
    projects
        Projects with Point geometries (EPSG:4326); rows without coordinates are left out.
    cell_km
        Distance between the centres of adjacent cells, in km.
    cover
        Polygons (e.g. the parks): only cells whose interior meets one of them are returned,
        and projects in other cells are left out (``projects_outside_cells``). ``None`` keeps
        every cell the rule above gives.
    ring
        Rings of neighbours kept around every cell that holds a project: 0 keeps the occupied
        cells only, 1 adds the six cells around each, 2 (the default) the next twelve, and so on.
    weight
        Column summed per cell; NaN values are skipped.
    metric_crs
        CRS to build the grid in (in metres); ``None`` chooses it with
        :func:`parkmap.coords.metric_crs_for` from the projects' (or the cover's) longitudes.
    points
        The positions of ``projects`` already read (:meth:`ProjectPoints.of`), e.g. shared
        with a :func:`kde_surface` of the same projects; ``None`` reads them.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per cell, north row first, then west to east: ``cell_id`` (str ``"q,r"``),
        ``count`` (int), ``count_with_weight`` (int, projects whose weight is known), the weight
        sum (column named ``weight``; 0 when no weight is known), ``area_km2`` (planar in the
        metric CRS), ``density_100m_cny_per_km2`` (``<weight>_per_km2`` for another weight),
        geometry (EPSG:4326). ``attrs`` hold ``metric_crs``, ``cell_km``,
        ``projects_outside_cells`` (projects with coordinates not in any returned cell) and
        ``projects_without_coordinates``.

    Raises
    ------
    UsageError
        If ``cell_km`` ≤ 0, ``ring`` is not a whole number ≥ 0, ``weight`` is not a column, or
        the grid would exceed 1,000,000 cells.
    InputError
        If the weight column has negative or infinite values.
    """
    try:
        valid = not isinstance(cell_km, bool) and math.isfinite(cell_km) and cell_km > 0
    except TypeError:
        valid = False
    if not valid:
        raise UsageError(f"cell_km must be a positive number of km, got {cell_km!r}")
    if isinstance(ring, bool) or not isinstance(ring, int | np.integer) or ring < 0:
        raise UsageError(f"ring must be a whole number ≥ 0, got {ring!r}")
    ring = int(ring)
    points = points or ProjectPoints.of(projects)
    lon, ok = points.lon, points.ok
    weights = _weights(projects, weight)

    cover_geoms = np.empty(0, dtype=object)
    if cover is not None:
        cover_series = cover.geometry
        if cover_series.crs is not None and not cover_series.crs.equals(_LONLAT):
            cover_series = cover_series.to_crs(_LONLAT)
        cover_geoms = np.asarray(cover_series.array, dtype=object)
        cover_geoms = cover_geoms[
            ~(shapely.is_missing(cover_geoms) | shapely.is_empty(cover_geoms))
        ]

    if ok.any():
        crs_lon = lon[ok]
    elif cover_geoms.size:
        box = shapely.bounds(cover_geoms)
        crs_lon = np.concatenate((box[:, 0], box[:, 2]))
    else:
        crs_lon = None
    if crs_lon is None:
        # No project and nothing to cover: no cells, and no longitudes to choose a CRS from.
        no_cells = np.empty(0, dtype=np.int64)
        nothing = np.empty(0)
        frame = _cells_frame(no_cells, no_cells, no_cells, no_cells, nothing, nothing, [], weight)
        crs_name = "" if metric_crs is None else _crs_label(_resolve_metric_crs(lon, metric_crs))
        frame.attrs.update(
            metric_crs=crs_name,
            cell_km=float(cell_km),
            projects_outside_cells=0,
            projects_without_coordinates=int((~ok).sum()),
        )
        return frame

    crs = _resolve_metric_crs(crs_lon, metric_crs)
    size = cell_km * 1000.0 / _SQRT3
    x, y = points.metric(crs)
    point_q, point_r = _axial_round(x, y, size)
    w = weights[ok]

    cell_q, cell_r = _with_rings(*_unique_pairs(point_q, point_r), ring)
    if cell_q.size > MAX_HEX_CELLS:
        raise _too_many_cells(cell_q.size)
    if cover is not None:
        if cover_geoms.size:
            to_metric = _transformer(_LONLAT, crs)
            parts = shapely.get_parts(shapely.transform(cover_geoms, _xy_transform(to_metric)))
            parts = parts[shapely.get_dimensions(parts) == 2]
        else:
            parts = np.empty(0, dtype=object)
        meets = _cells_meeting(parts, cell_q, cell_r, size)
        cell_q, cell_r = cell_q[meets], cell_r[meets]

    # North row first, then west to east.
    order = np.lexsort((cell_q, -cell_r))
    cell_q, cell_r = cell_q[order], cell_r[order]

    # Match projects to cells on the (q, r) pair.
    slot = _lookup_cells(cell_q, cell_r, point_q, point_r)
    inside = slot >= 0
    known = inside & np.isfinite(w)
    n_cells = cell_q.size
    count = np.bincount(slot[inside], minlength=n_cells).astype(np.int64)
    count_known = np.bincount(slot[known], minlength=n_cells).astype(np.int64)
    total = np.bincount(slot[known], weights=w[known], minlength=n_cells).astype(np.float64)

    metric_coords = _hex_polygons(cell_q, cell_r, size)
    area_km2 = _shoelace_area(metric_coords) / 1e6
    to_lonlat = _transformer(crs, _LONLAT)
    vx, vy = to_lonlat.transform(metric_coords[..., 0].ravel(), metric_coords[..., 1].ravel())
    lonlat_coords = np.stack((vx, vy), axis=-1).reshape(metric_coords.shape)
    geometry = shapely.polygons(lonlat_coords) if n_cells else []

    frame = _cells_frame(cell_q, cell_r, count, count_known, total, area_km2, geometry, weight)
    frame.attrs.update(
        metric_crs=_crs_label(crs),
        cell_km=float(cell_km),
        projects_outside_cells=int((~inside).sum()),
        projects_without_coordinates=int((~ok).sum()),
    )
    return frame


def _cells_frame(
    q: IntArray,
    r: IntArray,
    count: IntArray,
    count_known: IntArray,
    total: FloatArray,
    area_km2: FloatArray,
    geometry: object,
    weight: str,
) -> gpd.GeoDataFrame:
    """The table :func:`hex_grid` returns, from per-cell numbers and EPSG:4326 hexagons."""
    import geopandas as gpd

    cell_id = [f"{a},{b}" for a, b in zip(q.tolist(), r.tolist(), strict=True)]
    return gpd.GeoDataFrame(
        {
            "cell_id": pd.Series(cell_id, dtype=str),
            "count": np.asarray(count, dtype=np.int64),
            "count_with_weight": np.asarray(count_known, dtype=np.int64),
            weight: np.asarray(total, dtype=np.float64),
            "area_km2": np.asarray(area_km2, dtype=np.float64),
            _density_column(weight): np.asarray(total, dtype=np.float64) / area_km2,
        },
        geometry=geometry,
        crs=_LONLAT,
    )


def _xy_transform(transformer: Transformer) -> Callable[[FloatArray], FloatArray]:
    """Adapter for :func:`shapely.transform`: (n, 2) coordinates through a pyproj transformer."""

    def apply(coords: FloatArray) -> FloatArray:
        x, y = transformer.transform(coords[:, 0], coords[:, 1])
        return np.column_stack((x, y))

    return apply

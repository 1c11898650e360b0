"""The write stage: every output file, written atomically, and a command's files as a set.

A file is written to a temporary name in its folder and renamed when complete, so a reader (or
a planner opening it in Excel) never sees half an output. A command writes its whole set into a
staging folder beside the outputs and moves the files into place only when every one is
finished (:func:`staged_outputs`), so a failure midway never leaves new files next to old ones.
"""

from __future__ import annotations

import errno
import io
import json
import os
import re
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from pathlib import Path
from types import TracebackType
from typing import Any, BinaryIO, Final, Literal, TextIO, overload

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import shapely
from pandas.api.types import is_bool_dtype, is_datetime64_any_dtype, is_numeric_dtype

from parkmap.coords import known_point_coordinates
from parkmap.errors import OutputError
from parkmap.geojson_out import write_feature_batches, write_point_features
from parkmap.settings import WGS84
from parkmap.validate import REJECTED_COLUMNS

#: Projects encoded per chunk when writing GeoJSON.
GEOJSON_CHUNK: Final = 50_000


#: Most bytes handed to the kernel in one ``write()``; the buffered layer writes the rest.
WRITE_PIECE: Final = 1 << 20


class _PiecewiseFile(io.FileIO):
    """A file whose ``write`` takes at most :data:`WRITE_PIECE` bytes at a time.

    Linux (6.x, ext4) fills the page cache of a single large ``write()`` with large folios. On
    a virtual machine that hands free memory back to its host (free page reporting) those come
    cold, each a fault in the host: writing a 72 MB GeoJSON in one call took 0.3–0.7 s on the
    2-core test machine, in 1 MiB pieces 0.04 s. :class:`io.BufferedWriter` loops over the
    short writes, so callers still see every byte written.
    """

    def write(self, data: Any, /) -> int:
        view = memoryview(data).cast("B")
        return super().write(view[:WRITE_PIECE] if view.nbytes > WRITE_PIECE else view)


@overload
def open_descriptor(fd: int, mode: Literal["wb"]) -> BinaryIO: ...
@overload
def open_descriptor(fd: int, mode: Literal["w"]) -> TextIO: ...
def open_descriptor(fd: int, mode: Literal["w", "wb"]) -> BinaryIO | TextIO:
    """``os.fdopen(fd, mode)`` for writing (text: UTF-8 with ``\n`` line ends) that hands the
    kernel large writes in pieces (:class:`_PiecewiseFile`); closing it closes ``fd``."""
    buffered = io.BufferedWriter(_PiecewiseFile(fd, "wb"))
    if mode == "wb":
        return buffered
    return io.TextIOWrapper(buffered, encoding="utf-8", newline="\n")


@contextmanager
def _replacing(path: str | os.PathLike[str]) -> Iterator[int]:
    """A descriptor of a new temporary file beside ``path`` that replaces it when the block
    succeeds, and is removed when it fails; readers never see a half-written output."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        yield fd
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp creates 0600; give the usual file mode
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@contextmanager
def atomic_writer(path: str | os.PathLike[str]) -> Iterator[TextIO]:
    """A text handle (UTF-8, ``\n`` line ends) whose content replaces ``path`` only when the
    block succeeds."""
    with _replacing(path) as fd, open_descriptor(fd, "w") as fh:
        yield fh


@contextmanager
def atomic_binary_writer(path: str | os.PathLike[str]) -> Iterator[BinaryIO]:
    """A binary handle whose content replaces ``path`` only when the block succeeds."""
    with _replacing(path) as fd, open_descriptor(fd, "wb") as fh:
        yield fh


def atomic_write(path: str | os.PathLike[str], data: str | bytes) -> Path:
    """Write a file atomically: a temporary file in the same folder, then a rename."""
    if isinstance(data, str):
        with atomic_writer(path) as text:
            text.write(data)
    else:
        with atomic_binary_writer(path) as binary:
            binary.write(data)
    return Path(path)


#: Prefix of the staging folder :func:`staged_outputs` makes inside the output folder.
STAGING_PREFIX: Final = ".parkmap-tmp-"


class Staging:
    """The staging folder of one command's outputs, and where its files end up.

    Attributes
    ----------
    path
        The staging folder (``out/.parkmap-tmp-XXXX``): write every output here.
    out
        The output folder the files move to when all of them are written.
    """

    def __init__(self, path: Path, out: Path) -> None:
        self.path = path
        self.out = out

    def final(self, path: str | os.PathLike[str]) -> Path:
        """Where a file written under :attr:`path` will be once moved into :attr:`out`."""
        return self.out / Path(path).relative_to(self.path)

    def finals(self, files: Mapping[str, Path]) -> dict[str, Path]:
        """:meth:`final` of every path of a ``{name: path}`` mapping."""
        return {name: self.final(path) for name, path in files.items()}


def cannot_write(out: str | os.PathLike[str], exc: OSError) -> OutputError:
    """The one-line error for an output folder that refuses a write.

    Parameters
    ----------
    out
        The output folder.
    exc
        The error the system gave, such as ``PermissionError`` or ``OSError(ENOSPC)``.

    Returns
    -------
    OutputError
        "cannot write to out/: Permission denied" (``strerror``, or the error's text).
    """
    reason = exc.strerror or (errno.errorcode.get(exc.errno or 0) if exc.errno else None)
    return OutputError(f"cannot write to {Path(out)}{os.sep}: {reason or exc}")


@contextmanager
def staged_outputs(out: str | os.PathLike[str]) -> Iterator[Staging]:
    """Write a set of outputs all at once: into a staging folder, then moved into ``out``.

    ``out`` is created when missing; the staging folder is made inside it (the same file
    system, so each move is a rename, never a copy). When the block succeeds every file under
    the staging folder replaces its namesake in ``out`` (subfolders such as ``plots/`` kept);
    files in ``out`` the block did not write are left alone. When the block fails nothing in
    ``out`` changes and the staging folder is removed (and ``out`` too, if it was created here
    and is still empty).

    Parameters
    ----------
    out
        The output folder.

    Yields
    ------
    Staging
        The staging folder to write into; :meth:`Staging.finals` maps the paths written to
        their places in ``out``.

    Raises
    ------
    OutputError
        When ``out`` cannot be created or written to (permissions, a file in the way, a full
        disk): one line naming the folder.
    """
    out = Path(out)
    created = not out.exists()
    try:
        out.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(dir=out, prefix=STAGING_PREFIX))
    except OSError as exc:
        raise cannot_write(out, exc) from None
    try:
        try:
            yield Staging(staging, out)
            _move_into(staging, out)
        except OutputError:
            raise  # already one line (a staging folder inside this one)
        except OSError as exc:
            raise cannot_write(out, exc) from None
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        if created:
            _remove_if_empty(out)
        raise
    shutil.rmtree(staging, ignore_errors=True)


def _move_into(staging: Path, out: Path) -> None:
    """Rename every file under ``staging`` to the same place under ``out``."""
    for folder, _, names in os.walk(staging):
        target = out / Path(folder).relative_to(staging)
        target.mkdir(exist_ok=True)
        for name in sorted(names):
            os.replace(Path(folder) / name, target / name)


def _remove_if_empty(folder: Path) -> None:
    with suppress(OSError):
        folder.rmdir()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


#: First characters that make a spreadsheet read a cell as a formula (OWASP's CSV-injection
#: list): ``=``, ``+``, ``-``, ``@``, tab and carriage return.
FORMULA_STARTS: Final = ("=", "+", "-", "@", "\t", "\r")
#: A cell that is a plain number: safe to leave as it is even when it starts with ``-`` or ``+``.
_PLAIN_NUMBER: Final = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")
#: Byte-order mark: Excel on Chinese Windows reads a CSV as UTF-8 only when it starts with one.
CSV_BOM: Final = "\ufeff"


def neutralise_text(value: str) -> str:
    """``value`` as text a spreadsheet will not evaluate: a cell that starts like a formula gets
    a leading ``'`` (which Excel, LibreOffice and WPS show as text); plain numbers stay."""
    if value.startswith(FORMULA_STARTS) and not _PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value


def spreadsheet_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with every text cell neutralised (:func:`neutralise_text`); number, date and
    boolean columns are left as they are, so they stay numbers in the spreadsheet."""
    out = frame.copy()
    for column in out.columns:
        series = out[column]
        if is_numeric_dtype(series) or is_datetime64_any_dtype(series) or is_bool_dtype(series):
            continue
        out[column] = series.map(lambda v: neutralise_text(v) if isinstance(v, str) else v)
    return out


def _csv_text(frame: pd.DataFrame) -> str:
    return CSV_BOM + spreadsheet_safe(frame).to_csv(index=False, lineterminator="\n")


def save_table_csv(frame: pd.DataFrame, path: str | os.PathLike[str]) -> Path:
    """Write a table as CSV for spreadsheets: UTF-8 with a byte-order mark (so Excel on Chinese
    Windows reads it as UTF-8), text cells that would start a formula neutralised."""
    return atomic_write(path, _csv_text(frame))


def save_rejected(rejected: pd.DataFrame, path: str | os.PathLike[str]) -> Path:
    """Write ``rejected.csv``: ``row, column, reason, project_id, name`` (header only if none)."""
    return atomic_write(path, _csv_text(rejected.reindex(columns=REJECTED_COLUMNS)))


def save_projects_geojson(projects: gpd.GeoDataFrame, path: str | os.PathLike[str]) -> Path:
    """Write the mapped projects as RFC 7946 GeoJSON (WGS-84, dates as ISO strings)."""
    frame = projects.to_crs(WGS84) if projects.crs and not projects.crs.equals(WGS84) else projects
    props = pd.DataFrame(frame.drop(columns=frame.geometry.name))
    with atomic_binary_writer(path) as fh:
        write_point_features(fh, props, np.asarray(frame.geometry.array), chunk_rows=GEOJSON_CHUNK)
    return Path(path)


def _wgs84_points(projects: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    if projects.crs and not projects.crs.equals(WGS84):
        return projects.to_crs(WGS84)
    return projects


#: Name of the geometry column of ``projects.parquet`` (WKB, per GeoParquet 1.0).
GEOMETRY_COLUMN: Final = "geometry"

#: Rows per row group of ``projects.parquet``: a reader can stream the file in such steps.
PARQUET_ROW_GROUP: Final = 250_000
#: Columns of ``projects.parquet`` stored without a dictionary: one value per project (ids,
#: coordinates, amounts, the point), where a dictionary only costs time before Arrow gives
#: up on it (a million projects: 0.7 s instead of 1.8 s, and a smaller file). Readers see
#: the same values either way.
PLAIN_COLUMNS: Final = frozenset(
    {
        "row",
        "project_id",
        "investment_100m_cny",
        "lon",
        "lat",
        "lon_orig",
        "lat_orig",
        "distance_km",
        GEOMETRY_COLUMN,
    }
)


def _arrow_values(column: pd.Series) -> pa.Array | pa.ChunkedArray:
    """A column as Arrow; a column of mixed objects (numbers and text) as text, as the
    GeoJSON writer writes it."""
    try:
        return pa.array(column, from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        texts = [None if _missing(v) else str(v) for v in column]
        return pa.array(texts, type=pa.large_string())


def _missing(value: Any) -> bool:
    return value is None or value is pd.NaT or (isinstance(value, float) and value != value)


def projects_table(projects: gpd.GeoDataFrame) -> pa.Table:
    """The mapped projects as an Arrow table: the columns of ``projects.geojson``'s
    properties in order, then ``geometry`` as WKB (WGS-84; null where a point is missing).

    Parameters
    ----------
    projects
        Projects joined to the parks (any CRS; converted to WGS-84).
    """
    frame = _wgs84_points(projects)
    names = [c for c in frame.columns if c != frame.geometry.name]
    arrays = [_arrow_values(frame[c]) for c in names]
    arrays.append(point_wkb(np.asarray(frame.geometry.array)))
    return pa.Table.from_arrays(arrays, names=[*map(str, names), GEOMETRY_COLUMN])


#: One little-endian 2-D WKB point: byte order, geometry type, x, y (21 bytes, unaligned).
_WKB_POINT = np.dtype([("order", "u1"), ("type", "<u4"), ("x", "<f8"), ("y", "<f8")])


def point_wkb(geometry: np.ndarray) -> pa.Array:
    """Shapely geometries as an Arrow column of WKB (null where missing), the bytes
    ``shapely.to_wkb(output_dimension=2)`` writes.

    Points (all a project table holds) are written with NumPy, a million in some 50 ms
    against over a second through GEOS; an empty point is ``POINT (NaN NaN)``, as GEOS
    writes it. Any other geometry goes through shapely.
    """
    geometry = np.asarray(geometry, dtype=object)
    known = known_point_coordinates(geometry)
    if known is not None:  # points with finite coordinates: none is missing or empty
        missing = np.zeros(len(geometry), dtype=bool)
        present = geometry
    else:
        missing = shapely.is_missing(geometry)
        present = geometry[~missing]
    n, m = len(geometry), len(present)
    if m * _WKB_POINT.itemsize >= 2**31 or (
        known is None and not (shapely.get_type_id(present) == 0).all()
    ):
        wkb = shapely.to_wkb(geometry, output_dimension=2)
        return pa.array(wkb, type=pa.large_binary(), mask=missing)
    records = np.empty(m, dtype=_WKB_POINT)
    records["order"] = 1
    records["type"] = 1
    if known is not None:
        records["x"], records["y"] = known
    else:
        empty = shapely.is_empty(present)
        records["x"] = np.nan
        records["y"] = np.nan
        records["x"][~empty] = shapely.get_x(present[~empty])
        records["y"][~empty] = shapely.get_y(present[~empty])
    lengths = np.where(missing, 0, _WKB_POINT.itemsize).astype(np.int32)
    offsets = np.zeros(n + 1, dtype=np.int32)
    np.cumsum(lengths, out=offsets[1:])
    validity = None
    if m < n:
        validity = pa.py_buffer(np.packbits(~missing, bitorder="little"))
    return pa.Array.from_buffers(
        pa.binary(),
        n,
        [validity, pa.py_buffer(offsets), pa.py_buffer(records.view(np.uint8))],
        null_count=n - m,
    )


def geoparquet_metadata(bbox: tuple[float, float, float, float] | None = None) -> bytes:
    """The ``geo`` key of a GeoParquet 1.0 file of WGS-84 points in :data:`GEOMETRY_COLUMN`.

    The CRS is EPSG:4326 as PROJJSON, as geopandas writes it; GeoParquet coordinates are
    always longitude first, whatever the CRS's axis order.
    """
    from pyproj import CRS

    column: dict[str, Any] = {
        "encoding": "WKB",
        "geometry_types": ["Point"],
        "crs": CRS.from_user_input(WGS84).to_json_dict(),
    }
    if bbox is not None and all(np.isfinite(bbox)):
        column["bbox"] = [float(v) for v in bbox]
    meta = {
        "version": "1.0.0",
        "primary_column": GEOMETRY_COLUMN,
        "columns": {GEOMETRY_COLUMN: column},
    }
    return json.dumps(meta).encode("utf-8")


def unify_schemas(schemas: list[pa.Schema]) -> pa.Schema:
    """One schema every table of ``schemas`` can be cast to.

    Null columns take the type of the others, integers widen to floats, strings to large
    strings; a column whose types cannot be reconciled (numbers in one part, text in
    another) becomes text.
    """
    try:
        return pa.unify_schemas(schemas, promote_options="permissive")
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        pass
    names = list(dict.fromkeys(name for schema in schemas for name in schema.names))
    fields = []
    for name in names:
        types = [s.field(name).type for s in schemas if name in s.names]
        try:
            merged = pa.unify_schemas(
                [pa.schema([pa.field(name, t)]) for t in types], promote_options="permissive"
            ).field(name)
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            merged = pa.field(name, pa.large_string())
        fields.append(merged)
    return pa.schema(fields)


def conform(table: pa.Table, schema: pa.Schema) -> pa.Table:
    """``table`` with the columns of ``schema`` in its order and types (a column it lacks is
    all null; text stands in for values that cannot be cast)."""
    arrays = []
    for field in schema:
        if field.name not in table.column_names:
            arrays.append(pa.nulls(len(table), type=field.type))
            continue
        column = table.column(field.name)
        try:
            arrays.append(column.cast(field.type))
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
            texts = [None if v is None else str(v) for v in column.to_pylist()]
            arrays.append(pa.array(texts, type=field.type))
    return pa.Table.from_arrays(arrays, schema=schema.remove_metadata())


def wkb_point_coordinates(column: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """``(n, 2)`` coordinates of a column of WKB points (NaN for nulls and empty points).

    Points written by :func:`projects_table` are 21 bytes each (byte order, type, x, y): their
    coordinates are read straight from the buffer, a million in a few milliseconds and
    without making a million shapely objects; anything else goes through shapely.
    """
    array = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    n = len(array)
    if n == 0:
        return np.empty((0, 2))
    wide = pa.types.is_large_binary(array.type)
    array = array.cast(pa.large_binary() if wide else pa.binary())
    offsets = np.frombuffer(array.buffers()[1], dtype=np.int64 if wide else np.int32)
    offsets = offsets[array.offset : array.offset + n + 1]
    data = np.frombuffer(array.buffers()[2], dtype=np.uint8) if array.buffers()[2] else None
    lengths = np.diff(offsets)
    valid = (lengths > 0) & array.is_valid().to_numpy(zero_copy_only=False)
    starts = offsets[:-1][valid]
    out = np.full((n, 2), np.nan)
    size = _WKB_POINT.itemsize
    if data is not None and len(starts) and (lengths[valid] == size).all():
        # The points lie back to back (as point_wkb writes them): one view of the buffer as
        # records, with no (n, 16) index arrays to gather through.
        first, last = int(starts[0]), int(starts[-1]) + size
        if last - first == len(starts) * size and last <= len(data):
            records = data[first:last].view(_WKB_POINT)
            if ((records["order"] == 1) & (records["type"] == 1)).all():
                out[valid, 0] = records["x"]
                out[valid, 1] = records["y"]
                return out
        head = data[starts[:, None] + np.arange(5)]
        if (head == np.array([1, 1, 0, 0, 0], dtype=np.uint8)).all():  # little-endian Point
            raw = data[starts[:, None] + 5 + np.arange(16)]
            out[valid] = np.ascontiguousarray(raw).view("<f8").reshape(-1, 2)
            return out
    if valid.any():
        points = shapely.from_wkb(array.to_numpy(zero_copy_only=False))
        out[:, 0] = shapely.get_x(points)
        out[:, 1] = shapely.get_y(points)
    return out


class ProjectsParquet:
    """``projects.parquet`` written one table at a time (partitions of the Dask engine).

    Every table is cast to ``schema`` (:func:`conform`); the file gets the GeoParquet
    ``geo`` metadata with the bounding box of all points written, and appears at ``path``
    (atomically) when the writer is closed without an error.

    Parameters
    ----------
    path
        Target file.
    schema
        The columns (:func:`projects_table`'s, unified with :func:`unify_schemas`).
    """

    def __init__(self, path: str | os.PathLike[str], schema: pa.Schema) -> None:
        self.path = Path(path)
        self.schema = schema.remove_metadata()
        self._replace = _replacing(self.path)
        fd = self._replace.__enter__()
        self._file = open_descriptor(fd, "wb")
        dictionary = [name for name in self.schema.names if name not in PLAIN_COLUMNS]
        # Minimum and maximum per row group for numbers, dates and flags only, which readers
        # use to skip row groups (DuckDB, Arrow datasets); those of names, ids and WKB serve
        # no query and took a quarter of the writer's time (0.13–0.18 s for a million rows).
        statistics = [
            f.name
            for f in self.schema
            if not (pa.types.is_string(f.type) or pa.types.is_large_string(f.type))
            and not (pa.types.is_binary(f.type) or pa.types.is_large_binary(f.type))
        ]
        self._writer = pq.ParquetWriter(
            self._file,
            self.schema,
            compression="snappy",
            use_dictionary=dictionary,
            write_statistics=statistics,
        )
        self._bounds = np.array([np.inf, np.inf, -np.inf, -np.inf])

    def write(self, table: pa.Table) -> None:
        """Append the rows of ``table`` (as :func:`projects_table` makes them)."""
        table = conform(table, self.schema)
        xy = wkb_point_coordinates(table.column(GEOMETRY_COLUMN))
        xy = xy[np.isfinite(xy).all(axis=1)]
        if len(xy):
            self._bounds = np.concatenate(
                [
                    np.minimum(self._bounds[:2], xy.min(axis=0)),
                    np.maximum(self._bounds[2:], xy.max(axis=0)),
                ]
            )
        self._writer.write_table(table, row_group_size=PARQUET_ROW_GROUP)

    def close(self, failed: BaseException | None = None) -> Path:
        """Finish the file (or drop it when ``failed``)."""
        try:
            if failed is None:
                bbox = tuple(self._bounds) if np.isfinite(self._bounds).all() else None
                self._writer.add_key_value_metadata({"geo": geoparquet_metadata(bbox)})
            self._writer.close()
            self._file.close()
        except BaseException as exc:
            self._replace.__exit__(type(exc), exc, exc.__traceback__)
            raise
        if failed is None:
            self._replace.__exit__(None, None, None)
        else:
            self._replace.__exit__(type(failed), failed, failed.__traceback__)
        return self.path

    def __enter__(self) -> ProjectsParquet:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close(exc)


def save_projects_parquet(projects: gpd.GeoDataFrame, path: str | os.PathLike[str]) -> Path:
    """Write the mapped projects as GeoParquet 1.0 (``projects.parquet``): the columns of
    ``projects.geojson``, dates as dates, the point as WKB in WGS-84.

    ``geopandas.read_parquet`` reads it back as a GeoDataFrame; so do QGIS, DuckDB and GDAL.
    """
    table = projects_table(projects)
    with ProjectsParquet(path, table.schema) as writer:
        writer.write(table)
    return Path(path)


def geojson_from_parquet(parquet: str | os.PathLike[str], path: str | os.PathLike[str]) -> Path:
    """Write ``projects.geojson`` from a ``projects.parquet``, one row group at a time, so a
    file of any size is converted in flat memory."""
    source = pq.ParquetFile(parquet)

    def batches() -> Iterator[tuple[pd.DataFrame, np.ndarray]]:
        for batch in source.iter_batches(batch_size=GEOJSON_CHUNK):
            frame = batch.to_pandas()
            wkb = frame.pop(GEOMETRY_COLUMN).to_numpy(dtype=object)
            yield frame, shapely.from_wkb(wkb)

    with atomic_binary_writer(path) as fh:
        write_feature_batches(fh, batches())
    return Path(path)

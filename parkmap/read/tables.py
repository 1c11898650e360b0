"""Raw tables from record files: CSV (any encoding Chinese offices use), Excel, Parquet, points.

Cells come back as read (text, numbers, datetimes); the row rules in :mod:`parkmap.validate`
decide what they mean.
"""

from __future__ import annotations

import codecs
import csv
import io as _io
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from parkmap import cell_values
from parkmap.errors import InputError
from parkmap.schema import header_key, match_headers
from parkmap.settings import WGS84

TABLE_SUFFIXES: Final = {".csv", ".txt", ".tsv", ".xlsx", ".xlsm"}
PARQUET_SUFFIXES: Final = {".parquet", ".geoparquet", ".pq"}
VECTOR_SUFFIXES: Final = {".geojson", ".json", ".gpkg", ".shp", ".kml", ".zip", ".fgb"}
#: Bytes Arrow's CSV reader parses per block (``None``: Arrow's default, 1 MiB). A file larger
#: than one block becomes a table in several chunks; tests set it small to get many chunks from
#: a small file, since code that assumes one chunk passes every test made of small files.
CSV_BLOCK_BYTES: int | None = None


@dataclass
class RawTable:
    """The cells of a record file and how its rows are numbered.

    Attributes
    ----------
    table
        One column per header, cells as read.
    path
        The file.
    encoding
        Text encoding detected (``None`` for binary formats).
    row_label
        ``"row"`` (spreadsheets: header = row 1), ``"record"`` (Parquet) or ``"feature"``.
    first_row
        Number of the first data row as the file shows it.
    """

    table: pd.DataFrame
    path: Path
    encoding: str | None
    row_label: str
    first_row: int


def existing_path(path: str | os.PathLike[str]) -> Path:
    """``path`` as a :class:`~pathlib.Path`, or an :class:`InputError` when nothing is there."""
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: no such file")
    return path


def read_vector_layer(path: Path) -> gpd.GeoDataFrame:
    """A vector layer read by GDAL, or an :class:`InputError` naming the file."""
    try:
        return gpd.read_file(path)
    except Exception as exc:  # pyogrio raises several types for unreadable files
        raise InputError(f"{path}: cannot read it as a vector layer: {exc}") from exc


def project_table(path: str | os.PathLike[str], *, sheet: str | int | None = None) -> RawTable:
    """Read the cells of a project record file of any supported kind.

    Raises
    ------
    InputError
        If the file does not exist, is of an unsupported kind, or cannot be read.
    """
    path = existing_path(path)
    suffix = path.suffix.lower()
    if suffix in VECTOR_SUFFIXES:
        return RawTable(points_table(path), path, None, "feature", 1)
    if suffix in PARQUET_SUFFIXES or path.is_dir():
        return RawTable(read_parquet_columns(path), path, None, "record", 1)
    if suffix in TABLE_SUFFIXES or suffix == ".xls":
        table, encoding = read_table(path, sheet=sheet)
        return RawTable(table, path, encoding, "row", 2)
    raise InputError(
        f"{path}: unsupported file type {suffix or '(none)'}; "
        "use .csv, .xlsx, .parquet, .geojson, .gpkg or .shp"
    )


def decode_text(data: bytes, *, path: Path | str = "<bytes>") -> tuple[str, str]:
    """Decode a text file without asking: UTF-8 (with or without BOM), UTF-16, GBK/GB18030.

    GB18030 is tried after UTF-8 because it is a superset of GBK and GB2312, the encodings Excel
    writes for "CSV" on Chinese Windows; UTF-8 text almost never decodes as valid GB18030 and
    vice versa. Anything else goes to charset-normalizer.

    Returns
    -------
    text, encoding
    """
    if data.startswith(codecs.BOM_UTF8):
        return data[len(codecs.BOM_UTF8) :].decode("utf-8"), "utf-8-sig"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16"), "utf-16"
    for encoding in ("utf-8", "gb18030"):
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None:
        raise InputError(f"{path}: cannot tell the text encoding; save the file as UTF-8 or GBK")
    return str(best), best.encoding


def _sniff_delimiter(text: str) -> str:
    sample = "\n".join(text[:65536].splitlines()[:20])
    try:
        return csv.Sniffer().sniff(sample, delimiters=",\t;|").delimiter
    except csv.Error:
        return ","


def read_table(path: Path, *, sheet: str | int | None = None) -> tuple[pd.DataFrame, str | None]:
    """Read a CSV or Excel file as raw cells (strings, numbers, datetimes), header = row 1.

    Returns
    -------
    table, encoding
        ``encoding`` is ``None`` for Excel files.
    """
    suffix = path.suffix.lower()
    if suffix in {".xlsx", ".xlsm"}:
        return _read_workbook(path, sheet), None
    if suffix == ".xls":
        raise InputError(f"{path}: old .xls workbooks are not read; save it as .xlsx")
    data = path.read_bytes()
    text, encoding = decode_text(data, path=path)
    if not text.strip():
        raise InputError(f"{path}: the file is empty")
    delimiter = _sniff_delimiter(text)
    fast = _read_csv_arrow(data if encoding == "utf-8" else text.encode("utf-8"), delimiter, text)
    if fast is not None:
        return fast, encoding
    try:
        table = pd.read_csv(
            _io.StringIO(text),
            sep=delimiter,
            dtype=str,
            keep_default_na=False,
            skip_blank_lines=True,
        )
    except (pd.errors.ParserError, ValueError) as exc:
        raise InputError(f"{path}: cannot read it as CSV: {exc}") from exc
    return table, encoding


def _plain_header(header: list[str]) -> bool:
    """A header row the fast readers take as it is: no blank and no repeated names (pandas
    names those itself, ``Unnamed: 3`` and ``名称.1``)."""
    return bool(header) and all(h.strip() for h in header) and len(set(header)) == len(header)


def _read_workbook(path: Path, sheet: str | int | None) -> pd.DataFrame:
    """One worksheet as raw cells, header = row 1.

    calamine (Rust) reads a 100,000-row sheet about 7× faster than openpyxl with the same cell
    values. Its rows are turned into columns here rather than by ``pandas.read_excel``, whose
    per-cell conversion costs more than the reading itself; workbooks with blank or repeated
    headers go through pandas, which names those columns.
    """
    from python_calamine import CalamineError, CalamineWorkbook

    try:
        book = CalamineWorkbook.from_path(str(path))
        if sheet is None or isinstance(sheet, int):
            grid = book.get_sheet_by_index(sheet or 0).to_python()
        else:
            grid = book.get_sheet_by_name(str(sheet)).to_python()
    except (CalamineError, ValueError, KeyError, IndexError, OSError) as exc:
        raise InputError(f"{path}: cannot read the workbook: {exc}") from exc
    header = [str(h).strip() if h is not None else "" for h in (grid[0] if grid else [])]
    if not _plain_header(header):
        try:
            return pd.read_excel(
                path, sheet_name=0 if sheet is None else sheet, dtype=object, engine="calamine"
            )
        except (ValueError, KeyError, OSError) as exc:
            raise InputError(f"{path}: cannot read the workbook: {exc}") from exc
    rows = grid[1:]
    width = len(header)
    columns = zip(*(row[:width] + [""] * (width - len(row)) for row in rows), strict=True)
    # Empty cells come back as ""; as missing values, pandas infers numeric columns in C.
    data = {
        name: pd.Series([None if v == "" else v for v in cells], dtype=None)
        for name, cells in zip(header, columns, strict=False)
    }
    if not rows:
        data = {name: pd.Series([], dtype=object) for name in header}
    return pd.DataFrame(data)


def _read_csv_arrow(data: bytes, delimiter: str, text: str) -> pd.DataFrame | None:
    """Read CSV cells as text with Arrow's multi-threaded reader (about 4× pandas' C parser).

    Returns ``None`` for what Arrow reads differently from pandas (ragged rows, repeated or
    blank headers), so the caller falls back to ``pandas.read_csv``.
    """
    import pyarrow as pa
    from pyarrow import csv as pa_csv

    first_line = text.lstrip("\ufeff").split("\n", 1)[0].rstrip("\r")
    header = next(csv.reader([first_line], delimiter=delimiter), [])
    if not _plain_header(header):
        return None
    try:
        table = pa_csv.read_csv(
            _io.BytesIO(data),
            read_options=pa_csv.ReadOptions(block_size=CSV_BLOCK_BYTES),
            parse_options=pa_csv.ParseOptions(delimiter=delimiter),
            convert_options=pa_csv.ConvertOptions(
                column_types=dict.fromkeys(header, pa.string()),
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return None
    if table.column_names != header:
        return None
    frame: pd.DataFrame = table.to_pandas(types_mapper={pa.string(): cell_values.TEXT}.get)
    return frame


def parquet_project_columns(path: Path) -> tuple[list[str], str | None]:
    """The project columns of a Parquet file or folder, and the geometry column to read.

    Returns
    -------
    columns, geometry
        Headers that match a project column; the GeoParquet geometry column when the table
        has no longitude/latitude columns of its own, else ``None``.
    """
    import pyarrow.parquet as pq

    try:
        schema = pq.read_schema(path) if path.is_file() else pq.ParquetDataset(path).schema
    except Exception as exc:  # pyarrow raises several types for unreadable files
        raise InputError(f"{path}: cannot read it as Parquet: {exc}") from exc
    names = [n for n in schema.names if not n.startswith("__")]
    wanted = [header for header, _ in match_headers(names).values()]
    geo = (schema.metadata or {}).get(b"geo")
    if geo and not {"lon", "lat"} <= set(match_headers(wanted)):
        return wanted, str(json.loads(geo)["primary_column"])
    return wanted, None


def read_parquet_columns(path: Path) -> pd.DataFrame:
    """Read only the project columns of a Parquet or GeoParquet file (or partitioned folder).

    A GeoParquet point geometry gives ``lon``/``lat`` when the table has no coordinate columns.
    """
    wanted, column = parquet_project_columns(path)
    if column is not None:
        layer = gpd.read_parquet(path, columns=[*wanted, column])
        layer = layer.to_crs(WGS84) if layer.crs and not layer.crs.equals(WGS84) else layer
        table = pd.DataFrame(layer.drop(columns=layer.geometry.name))
        points = layer.geometry.array
        table["lon"], table["lat"] = shapely.get_x(points), shapely.get_y(points)
        return table
    return pd.read_parquet(path, columns=wanted)


def points_table(path: Path) -> pd.DataFrame:
    """Attributes of a point layer plus ``lon``/``lat`` taken from the geometry."""
    layer = read_vector_layer(path)
    if layer.crs is None:
        layer = layer.set_crs(WGS84)
    elif not layer.crs.equals(WGS84):
        layer = layer.to_crs(WGS84)
    geoms = layer.geometry
    is_point = geoms.geom_type.eq("Point") & ~geoms.is_empty
    table = pd.DataFrame(layer.drop(columns=layer.geometry.name))
    table = table.drop(columns=[c for c in table.columns if header_key(c)[0] in ("lon", "lat")])
    xy = np.where(is_point.to_numpy(), geoms.array, None)
    table["lon"] = shapely.get_x(xy)
    table["lat"] = shapely.get_y(xy)
    table["__geom_type"] = geoms.geom_type.fillna("missing").where(~geoms.is_empty, "empty")
    return table

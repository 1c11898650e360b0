"""Raw tables from record files: CSV (any encoding Chinese offices use), Excel, Parquet, points.

Cells come back as read (text, numbers, datetimes); the row rules in :mod:`parkmap.validate`
decide what they mean.
"""

from __future__ import annotations

import codecs
import csv
import datetime
import io as _io
import itertools
import json
import os
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, AnyStr, Final

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from parkmap import cell_values
from parkmap.errors import InputError, UsageError
from parkmap.schema import header_key, match_headers
from parkmap.settings import WGS84

if TYPE_CHECKING:
    import pyarrow as pa

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
        ``"row"`` (spreadsheets: numbered as Excel shows them), ``"record"`` (Parquet) or
        ``"feature"``.
    first_row
        Number of the first data row as the file shows it (when ``row_numbers`` is ``None``,
        rows are numbered on from it).
    row_numbers
        Number of every row of ``table`` as the file shows it, when blank rows were taken out.
    blank_rows
        Rows (as the file numbers them) that were empty and left out of ``table``.
    unit
        Investment unit stated above the table (``单位：万元`` → ``"wan"``), if any.
    notes
        File-level remarks on how the table was found (title rows skipped, unit line).
    """

    table: pd.DataFrame
    path: Path
    encoding: str | None
    row_label: str
    first_row: int
    row_numbers: np.ndarray | None = None
    blank_rows: tuple[int, ...] = ()
    unit: str | None = None
    notes: list[str] = field(default_factory=list)

    def numbers(self) -> np.ndarray:
        """The number of every row of :attr:`table` as the file shows it."""
        if self.row_numbers is not None:
            return self.row_numbers
        return np.arange(self.first_row, self.first_row + len(self.table), dtype=np.int64)


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


def project_table(
    path: str | os.PathLike[str],
    *,
    sheet: str | int | None = None,
    header_row: int | None = None,
    table: str | None = None,
    query: str | None = None,
    snapshot: tuple[str, datetime.date] | None = None,
) -> RawTable:
    """Read the cells of a project record file or database table of any supported kind.

    Parameters
    ----------
    path
        CSV/XLSX ledger, Parquet file or folder, point layer; or a database URL
        (``postgresql://user@host:5432/db``) or SQLite/GeoPackage file with ``table`` or
        ``query`` (:func:`parkmap.read.database.database_table`).
    sheet
        Worksheet of an Excel file (default: the first).
    header_row
        Spreadsheet row of the column headers (1-based); default: found (:func:`read_table`).
    table, query
        Table (``schema.table`` allowed) or ``SELECT`` of a database.
    snapshot
        ``(column, day)``: of a database table holding many snapshots, the rows of ``day``
        in that snapshot-date column.

    Raises
    ------
    InputError
        If the file does not exist, is of an unsupported kind, or cannot be read.
    """
    from parkmap.read import database

    if database.is_database_source(path, table=table, query=query):
        return _database_table(
            path, sheet=sheet, header_row=header_row, table=table, query=query, snapshot=snapshot
        )
    if snapshot is not None:
        raise UsageError("a snapshot column applies to a database table or query (--table/--query)")
    path = existing_path(path)
    suffix = path.suffix.lower()
    if suffix in VECTOR_SUFFIXES:
        return RawTable(points_table(path), path, None, "feature", 1)
    if suffix in PARQUET_SUFFIXES or path.is_dir():
        return RawTable(read_parquet_columns(path), path, None, "record", 1)
    if suffix in TABLE_SUFFIXES or suffix == ".xls":
        cells = read_table(path, sheet=sheet, header_row=header_row)
        return RawTable(
            cells.table,
            path,
            cells.encoding,
            "row",
            cells.header_row + 1,
            row_numbers=cells.row_numbers,
            blank_rows=cells.blank_rows,
            unit=cells.unit,
            notes=cells.notes,
        )
    raise InputError(
        f"{path}: unsupported file type {suffix or '(none)'}; "
        "use .csv, .xlsx, .parquet, .geojson, .gpkg or .shp"
    )


def _database_table(
    source: str | os.PathLike[str],
    *,
    sheet: str | int | None,
    header_row: int | None,
    table: str | None,
    query: str | None,
    snapshot: tuple[str, datetime.date] | None = None,
) -> RawTable:
    """A database table or query; spreadsheet options do not apply to it."""
    from parkmap.read import database

    if not database.is_database_url(source):
        suffix = Path(source).suffix.lower()
        if suffix not in database.DATABASE_SUFFIXES:
            raise UsageError(
                f"{Path(source).name}: --table and --query read a database (a postgresql:// URL, "
                f"or a .gpkg, .sqlite or .db file), not a {suffix or 'folder'} file"
            )
    for name, value in (("--sheet", sheet), ("--header-row", header_row)):
        if value is not None:
            raise UsageError(f"{name} applies to spreadsheets, not to a database table")
    return database.database_table(source, table=table, query=query, snapshot=snapshot)


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


#: Rows searched for the header: offices put titles, 单位 lines and notes above it.
HEADER_SEARCH_ROWS: Final = 30

#: ``单位：万元`` (or 金额单位, 单位:人民币亿元) on a line above the table.
_UNIT_LINE = re.compile(r"单位\s*[:：]?\s*(?:人民币)?\s*(亿元|万元|元)")

#: Extra cells of a row longer than its header (CSV), as text; validate rejects such rows.
EXTRA_CELLS: Final = "__extra_cells"


@dataclass
class SheetCells:
    """A ledger's table found below any title rows, with spreadsheet row numbers.

    Attributes
    ----------
    table
        One column per header, cells as read; blank rows left out.
    encoding
        Text encoding detected (``None`` for workbooks).
    header_row
        Row of the headers as a spreadsheet numbers it (1-based).
    row_numbers
        Row number of each row of ``table``.
    blank_rows
        Rows below the header with no value in any cell.
    unit
        Investment unit of a ``单位：…`` line above the header (``"yuan"``, ``"wan"``, ``"yi"``).
    notes
        What was skipped or assumed, for the run's notes.
    """

    table: pd.DataFrame
    encoding: str | None
    header_row: int
    row_numbers: np.ndarray
    blank_rows: tuple[int, ...]
    unit: str | None
    notes: list[str]


def find_header_row(rows: Sequence[Sequence[object]]) -> int:
    """Position (0-based) of the header among a sheet's first rows.

    The header is the row that names the most project columns (at least two, by
    :func:`parkmap.schema.match_headers`); the first such row wins a tie. A title, a
    ``单位`` line or a blank row names none. When no row names two, the first row is the
    header, and the missing columns are reported by name later.
    """
    best, best_score = 0, 1
    for position, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        cells = [c for c in row if c is not None and str(c).strip()]
        score = len(match_headers(cells))
        if score > best_score:
            best, best_score = position, score
    return best


def unit_above(rows: Sequence[Sequence[object]]) -> tuple[str, int, str] | None:
    """The unit stated on a line above the header: (canonical unit, row number, cell text)."""
    for position, row in enumerate(rows):
        for cell in row:
            if not isinstance(cell, str) or "单位" not in cell:
                continue
            match = _UNIT_LINE.search(unicodedata.normalize("NFKC", cell))
            if match:
                return cell_values.UNIT_ALIASES[match[1]], position + 1, cell.strip()
    return None


def column_names(header: Sequence[object]) -> list[str]:
    """Header cells as unique column names: a blank header is named by its spreadsheet
    letter (``column H``); a repeated one gets ``.1``, ``.2`` as pandas names them."""
    names: list[str] = []
    seen: dict[str, int] = {}
    for position, cell in enumerate(header):
        name = cell_values.cell_text(cell) if cell is not None else ""
        name = name or f"column {_column_letter(position)}"
        if name in seen:
            seen[name] += 1
            name = f"{name}.{seen[name]}"
        seen.setdefault(name, 0)
        names.append(name)
    return names


def _column_letter(position: int) -> str:
    letters = ""
    position += 1
    while position:
        position, rest = divmod(position - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def _header_index(rows: Sequence[Sequence[object]], header_row: int | None, path: Path) -> int:
    if header_row is None:
        return find_header_row(rows)
    if header_row > len(rows):
        raise InputError(f"{path}: --header-row {header_row} is past the last row ({len(rows)})")
    return header_row - 1


def _found_notes(
    rows: Sequence[Sequence[object]], index: int, unit: tuple[str, int, str] | None
) -> list[str]:
    notes = []
    if index:
        title = next(
            (cell_values.cell_text(c) for row in rows[:index] for c in row if c not in (None, "")),
            "",
        )
        above = f"row 1 ({title!s:.40})" if index == 1 else f"rows 1–{index}"
        notes.append(f"header in row {index + 1}; {above} above it skipped")
    if unit is not None:
        notes.append(f"investment unit from row {unit[1]}: {unit[2]}")
    return notes


def read_table(
    path: Path, *, sheet: str | int | None = None, header_row: int | None = None
) -> SheetCells:
    """Read a CSV or Excel ledger as raw cells (strings, numbers, datetimes).

    The header is found below any title rows (:func:`find_header_row`) unless ``header_row``
    names it; a ``单位：万元`` line above it gives the investment unit; blank rows are left out
    and listed. Rows keep the numbers a spreadsheet shows, blank lines included.

    Raises
    ------
    InputError
        If the file is empty, not a table, or ``header_row`` lies past its end.
    """
    suffix = path.suffix.lower()
    if suffix in {".xlsx", ".xlsm"}:
        return _read_workbook(path, sheet, header_row)
    if suffix == ".xls":
        raise InputError(f"{path}: old .xls workbooks are not read; save it as .xlsx")
    data = path.read_bytes()
    text, encoding = decode_text(data, path=path)
    if not text or text.isspace():  # as `not text.strip()`, without copying the text
        raise InputError(f"{path}: the file is empty")
    delimiter = _sniff_delimiter(text)
    try:
        head = _first_records(text, delimiter, HEADER_SEARCH_ROWS)
    except csv.Error as exc:
        raise InputError(f"{path}: cannot read it as CSV: {exc}") from exc
    index = _header_index(head, header_row, path)
    unit = unit_above(head[:index])
    notes = _found_notes(head, index, unit)
    fast = _read_csv_arrow(data, text, encoding, delimiter, head, index)
    if fast is None:
        fast = _read_csv_records(path, text, delimiter, index)
    table, numbers, blank = fast
    return SheetCells(table, encoding, index + 1, numbers, blank, unit[0] if unit else None, notes)


#: Characters of a CSV text parsed at first when looking for its first records.
_HEAD_CHARS: Final = 1 << 16


def _first_records(text: str, delimiter: str, count: int) -> list[list[str]]:
    """The first ``count`` CSV records of ``text`` (fewer if it has fewer).

    Parsed from a prefix of the text, grown until it holds one record more than asked for:
    ``io.StringIO`` keeps its whole text as four bytes a character (32 MB for the benchmark's
    100,000-row ledger) even when only the first lines are read. The records before the last
    one of a prefix are the ones the whole text gives, since a record ends only at a line end.
    """
    size = _HEAD_CHARS
    while True:
        prefix = text[:size]
        whole = len(prefix) == len(text)
        try:
            records = list(
                itertools.islice(
                    csv.reader(_io.StringIO(prefix, newline=""), delimiter=delimiter), count + 1
                )
            )
        except csv.Error:
            if whole:
                raise
            records = []  # a cut inside the first records: read a longer prefix
        if whole or len(records) > count:
            return records[:count]
        size *= 4


def _plain_header(header: list[str]) -> bool:
    """A header row Arrow takes as it is: no blank and no repeated names."""
    return bool(header) and all(h.strip() for h in header) and len(set(header)) == len(header)


def _blank_cells(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _read_workbook(path: Path, sheet: str | int | None, header_row: int | None) -> SheetCells:
    """One worksheet as raw cells, rows numbered as Excel numbers them.

    calamine (Rust) reads a 100,000-row sheet about 7× faster than openpyxl with the same cell
    values. Its rows are turned into columns here rather than by ``pandas.read_excel``, whose
    per-cell conversion costs more than the reading itself. ``skip_empty_area=False`` keeps
    blank rows and columns at the top and left, so row numbers stay Excel's.
    """
    from python_calamine import CalamineError, CalamineWorkbook

    try:
        book = CalamineWorkbook.from_path(str(path))
        if sheet is None or isinstance(sheet, int):
            found = book.get_sheet_by_index(sheet or 0)
        else:
            found = book.get_sheet_by_name(str(sheet))
        grid: Sequence[Sequence[object]] = found.to_python(skip_empty_area=False)
    except (CalamineError, ValueError, KeyError, IndexError, OSError) as exc:
        raise InputError(f"{path}: cannot read the workbook: {exc}") from exc
    if not any(not _blank_cells(v) and v != "" for row in grid[:HEADER_SEARCH_ROWS] for v in row):
        raise InputError(f"{path}: the sheet is empty")
    index = _header_index(grid, header_row, path)
    unit = unit_above(grid[:index])
    notes = _found_notes(grid, index, unit)
    names = column_names(grid[index])
    rows = grid[index + 1 :]
    blank = np.fromiter((all(_blank_cells(v) for v in row) for row in rows), bool, len(rows))
    numbers = np.arange(index + 2, index + 2 + len(rows), dtype=np.int64)
    kept = [row for row, empty in zip(rows, blank, strict=True) if not empty]
    width = len(names)
    columns = zip(*(list(row[:width]) + [""] * (width - len(row)) for row in kept), strict=True)
    # Empty cells come back as ""; as missing values, pandas infers numeric columns in C.
    data = {
        name: pd.Series([None if v == "" else v for v in cells], dtype=None)
        for name, cells in zip(names, columns, strict=False)
    }
    if not kept:
        data = {name: pd.Series([], dtype=object) for name in names}
    table = _drop_unnamed_empty(pd.DataFrame(data), names, grid[index])
    return SheetCells(
        table,
        None,
        index + 1,
        numbers[~blank],
        tuple(numbers[blank].tolist()),
        unit[0] if unit else None,
        notes,
    )


def _drop_unnamed_empty(
    table: pd.DataFrame, names: list[str], header: Sequence[object]
) -> pd.DataFrame:
    """Leave out columns with neither a header nor a value (a sheet's used range runs wider)."""
    unnamed = [
        name
        for name, cell in zip(names, header, strict=True)
        if _blank_cells(cell) and table[name].map(_blank_cells).all()
    ]
    return table.drop(columns=unnamed) if unnamed else table


def _read_csv_records(
    path: Path, text: str, delimiter: str, index: int
) -> tuple[pd.DataFrame, np.ndarray, tuple[int, ...]]:
    """Read CSV cells with Python's csv module, which keeps every record: empty lines (rows
    a spreadsheet shows, so later row numbers stay right), lines ended by CR alone, rows
    longer or shorter than the header.

    A row longer than the header keeps its extra cells in :data:`EXTRA_CELLS` so the row is
    rejected with the reason, instead of shifting every column as pandas would.
    """
    try:
        records = list(csv.reader(_io.StringIO(text, newline=""), delimiter=delimiter))
    except csv.Error as exc:
        raise InputError(f"{path}: cannot read it as CSV: {exc}") from exc
    header: list[object] = list(records[index]) if index < len(records) else []
    while (
        header
        and _blank_cells(header[-1])
        and all(
            len(r) < len(header) or _blank_cells(r[len(header) - 1]) for r in records[index + 1 :]
        )
    ):
        header.pop()  # trailing delimiters on the header line: no column there
    names = column_names(header)
    width = len(names)
    rows = records[index + 1 :]
    blank = np.fromiter((all(_blank_cells(v) for v in row) for row in rows), bool, len(rows))
    numbers = np.arange(index + 2, index + 2 + len(rows), dtype=np.int64)
    kept = [row for row, empty in zip(rows, blank, strict=True) if not empty]
    cells = [(row + [""] * (width - len(row)))[:width] for row in kept]
    extra = [
        delimiter.join(row[width:]) if any(not _blank_cells(v) for v in row[width:]) else ""
        for row in kept
    ]
    data = {
        name: pd.Series(list(column), dtype=cell_values.TEXT)
        for name, column in zip(
            names, zip(*cells, strict=True) if cells else [()] * width, strict=True
        )
    }
    table = pd.DataFrame(data, index=pd.RangeIndex(len(kept)))
    if any(extra):
        table[EXTRA_CELLS] = pd.Series(extra, dtype=cell_values.TEXT)
    return table, numbers[~blank], tuple(numbers[blank].tolist())


def _read_csv_arrow(
    data: bytes,
    text: str,
    encoding: str,
    delimiter: str,
    head: list[list[str]],
    index: int,
) -> tuple[pd.DataFrame, np.ndarray, tuple[int, ...]] | None:
    """Read CSV cells as text with Arrow's multi-threaded reader (about 4× pandas' C parser).

    Returns ``None`` for what it would number or split differently from a spreadsheet: empty
    lines (Arrow skips them), lines ended by CR alone, quotes above the header, ragged rows,
    repeated or blank headers; :func:`_read_csv_records` reads those.
    """
    import pyarrow as pa
    from pyarrow import csv as pa_csv

    if index >= len(head) or not _plain_header(head[index]):
        return None
    # The checks look at the text up to its last line end without copying it.
    end = len(text)
    while end and text[end - 1] in "\r\n":
        end -= 1
    if text.startswith(("\n", "\r"), 0, end) or text.find("\n\n", 0, end) >= 0:
        return None
    # A text with no CR (Unix line ends) needs none of the CR checks: one scan, not three.
    if text.find("\r", 0, end) >= 0 and (
        text.find("\n\r\n", 0, end) >= 0 or text.count("\r", 0, end) != text.count("\r\n", 0, end)
    ):
        return None
    payload = _table_bytes(data, text, encoding, index)
    if payload is None:
        return None
    header = head[index]
    try:
        table = pa_csv.read_csv(
            pa.BufferReader(payload),
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
    numbers = np.arange(index + 2, index + 2 + table.num_rows, dtype=np.int64)
    blank = np.zeros(table.num_rows, dtype=bool)
    if table.num_rows:
        blank = _blank_rows(table)
        if blank.any():
            table = table.filter(pa.array(~blank))
    frame: pd.DataFrame = table.to_pandas(types_mapper={pa.string(): cell_values.TEXT}.get)
    return frame, numbers[~blank], tuple(numbers[blank].tolist())


def _blank_rows(table: pa.Table) -> np.ndarray:
    """Rows with nothing but whitespace in every cell.

    Column by column among the rows still blank: after the first column or two almost none
    are, so most cells are never trimmed (trimming copies every string).
    """
    import pyarrow.compute as pc

    rows = np.arange(table.num_rows)
    for column in table.columns:
        if not rows.size:
            break
        cells = column if rows.size == table.num_rows else column.take(rows)
        empty = pc.equal(pc.utf8_trim_whitespace(cells), "")
        rows = rows[np.asarray(empty.to_numpy(zero_copy_only=False), dtype=bool)]
    blank = np.zeros(table.num_rows, dtype=bool)
    blank[rows] = True
    return blank


def _table_bytes(data: bytes, text: str, encoding: str, index: int) -> memoryview | bytes | None:
    """UTF-8 bytes of the CSV from its header line (line ``index``, 0-based) to the end.

    A UTF-8 file gives a view of its own bytes, not a copy (a line end is a byte no
    multi-byte character contains); other encodings are encoded again. ``None`` if the file has
    fewer lines, or a quote above the header (its lines might then not be its records).
    """
    if encoding in ("utf-8", "utf-8-sig"):
        skip = len(codecs.BOM_UTF8) if encoding == "utf-8-sig" else 0
        start = _line_start(data, index, b"\n", skip)
        if start is None or data.find(b'"', skip, start) >= 0:
            return None
        return memoryview(data)[start:]
    start = _line_start(text, index, "\n")
    if start is None or text.find('"', 0, start) >= 0:
        return None
    return text[start:].encode("utf-8")


def _line_start(text: AnyStr, index: int, newline: AnyStr, start: int = 0) -> int | None:
    """Offset of line ``index`` (0-based) of ``text[start:]``; ``None`` if it has fewer lines."""
    for _ in range(index):
        found = text.find(newline, start)
        if found < 0:
            return None
        start = found + 1
    return start


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

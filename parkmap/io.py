"""Read park layers and project records; write the outputs of a build.

Project records come as CSV (UTF-8, UTF-8 with BOM, GBK/GB18030: detected), Excel (.xlsx) or
GeoJSON/GeoPackage/Shapefile points, with headers in Chinese or English. Park layers come as
GeoJSON, Shapefile, GeoPackage or KML.
"""

from __future__ import annotations

import codecs
import csv
import functools
import io as _io
import json
import os
import re
import tempfile
import unicodedata
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import Final, TextIO

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from parkmap import parse
from parkmap.errors import InputError, UsageError
from parkmap.settings import CHINA_LAT_RANGE, CHINA_LON_RANGE, WGS84
from parkmap.validate import LoadResult, RowIssues

TABLE_SUFFIXES: Final = {".csv", ".txt", ".tsv", ".xlsx", ".xlsm"}
PARQUET_SUFFIXES: Final = {".parquet", ".geoparquet", ".pq"}
#: Bytes Arrow's CSV reader parses per block (``None``: Arrow's default, 1 MiB). A file larger
#: than one block becomes a table in several chunks; tests set it small to get many chunks from
#: a small file, since code that assumes one chunk passes every test made of small files.
CSV_BLOCK_BYTES: int | None = None
VECTOR_SUFFIXES: Final = {".geojson", ".json", ".gpkg", ".shp", ".kml", ".zip", ".fgb"}

#: Header spellings for each canonical project column, compared after :func:`header_key`.
PROJECT_ALIASES: Final[dict[str, list[str]]] = {
    "project_id": [
        "项目编号",
        "项目代码",
        "项目id",
        "编号",
        "序号id",
        "project_id",
        "projectid",
        "id",
    ],
    "name": ["项目名称", "名称", "项目", "name", "project_name", "projectname", "project", "title"],
    "park": ["所属园区", "园区", "园区名称", "park", "park_name", "parkname"],
    "district": ["所属区市", "区市", "区县", "所属区县", "district", "county", "city"],
    "industry": ["产业类别", "产业", "行业", "产业类型", "industry", "sector"],
    "status": ["项目状态", "状态", "进展", "status", "stage"],
    "investment": ["总投资", "投资额", "计划总投资", "投资总额", "investment", "total_investment"],
    "signed_date": [
        "签约日期",
        "签约时间",
        "签约日",
        "signed_date",
        "signeddate",
        "date",
        "signed",
    ],
    "lon": ["经度", "lon", "lng", "long", "longitude", "x"],
    "lat": ["纬度", "lat", "latitude", "y"],
    "source": ["来源", "数据来源", "source"],
    "coord_sys": ["坐标系", "坐标系统", "coord_sys", "coordsys", "coordinate_system", "crs"],
}

#: English investment headers that carry their unit in the name.
UNIT_IN_NAME: Final[dict[str, str]] = {
    "investment_100m_cny": "yi",
    "investment_yi": "yi",
    "investment_10k_cny": "wan",
    "investment_wan": "wan",
    "investment_cny": "yuan",
    "investment_yuan": "yuan",
}

#: Projects encoded per chunk when writing GeoJSON.
GEOJSON_CHUNK: Final = 50_000

PARK_ID_FIELDS: Final = ("park_id", "id", "adcode", "code")
PARK_NAME_FIELDS: Final = ("name_zh", "name", "名称", "园区名称", "park_name")

_BRACKETED = re.compile(r"^(?P<key>.*?)\s*[\(\[【](?P<inner>[^\)\]】]*)[\)\]】]\s*$")


# ---------------------------------------------------------------------------------------------
# Bundled data


def bundled_path(name: str) -> Path:
    """Path of a file bundled in ``geodata/`` (works from a checkout and from a wheel)."""
    return Path(str(resources.files("parkmap.geodata").joinpath(name)))


# ---------------------------------------------------------------------------------------------
# Reading text and tables


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
    return table.to_pandas(types_mapper={pa.string(): parse.TEXT}.get)


def header_key(header: object) -> tuple[str, str | None, str]:
    """Split a header into a matching key, a unit (if it names one) and a bracketed note.

    ``总投资（万元）`` → ``("总投资", "wan", "万元")``; ``Longitude`` → ``("longitude", None, "")``.
    """
    text = unicodedata.normalize("NFKC", str(header)).strip()
    unit = None
    note = ""
    match = _BRACKETED.match(text)
    if match:
        text, note = match["key"], match["inner"].strip()
        unit = parse.UNIT_ALIASES.get(note.lower().replace(" ", "").replace("人民币", ""))
    key = re.sub(r"[\s\-]+", "_", text.lower()).strip("_")
    if key in UNIT_IN_NAME:
        unit = UNIT_IN_NAME[key]
    return key, unit, note


def match_headers(columns: Iterable[object]) -> dict[str, tuple[str, str | None]]:
    """Map canonical project columns to the file's headers.

    Returns
    -------
    dict
        canonical name → (header as written, unit found in the header or ``None``). When two
        headers match the same column, the one whose alias comes first in the table wins.
    """
    found: dict[str, tuple[int, str, str | None]] = {}
    for header in columns:
        key, unit, _ = header_key(header)
        squashed = key.replace("_", "")
        for canonical, aliases in PROJECT_ALIASES.items():
            for rank, alias in enumerate(aliases):
                if key == alias or squashed == alias.replace("_", ""):
                    if canonical not in found or rank < found[canonical][0]:
                        found[canonical] = (rank, str(header), unit)
                    break
        if key in UNIT_IN_NAME and "investment" not in found:
            found["investment"] = (0, str(header), unit)
    return {name: (header, unit) for name, (_, header, unit) in found.items()}


# ---------------------------------------------------------------------------------------------
# Project records


def projects_from_file(
    path: str | os.PathLike[str],
    *,
    investment_unit: str | None = None,
    sheet: str | int | None = None,
    coords: str = "wgs84",
) -> LoadResult:
    """Read project records and sort every row into mapped, mapped with warnings, or rejected.

    Parameters
    ----------
    path
        CSV/XLSX table with a header row, or a GeoJSON/GeoPackage/Shapefile of points.
    investment_unit
        Unit of an investment column whose header names none (``元``, ``万元``, ``亿元``);
        default 亿元. A unit in the header (``总投资(万元)``) or the cell (``5000万元``) wins.
    sheet
        Worksheet name or index for Excel files (default: the first).
    coords
        Coordinate system of the file: ``wgs84``, ``cgcs2000``, ``gcj02`` (Amap/Gaode, Tencent)
        or ``bd09`` (Baidu). A per-row column (坐标系 / ``coord_sys``) wins for its row. Points
        are converted to WGS-84 here, once; ``lon_orig``, ``lat_orig`` and ``coord_sys`` keep
        what the file said.

    Returns
    -------
    LoadResult
        Accepted rows as a GeoDataFrame (columns in ``CONTRACTS``: ``row, project_id, name, …,
        investment_100m_cny, signed_date, lon, lat, warnings``), the rejected rows, and counts.

    Raises
    ------
    InputError
        If the file cannot be read or has no longitude/latitude.
    """
    path = Path(path)
    if investment_unit is not None:
        parse.canonical_unit(investment_unit)  # a bad option fails before any reading
    if not path.exists():
        raise InputError(f"{path}: no such file")
    suffix = path.suffix.lower()
    encoding = None
    if suffix in VECTOR_SUFFIXES:
        table, row_label = _points_table(path), "feature"
        first_row = 1
    elif suffix in PARQUET_SUFFIXES or path.is_dir():
        table, row_label, first_row = read_parquet_columns(path), "record", 1
    elif suffix in TABLE_SUFFIXES or suffix == ".xls":
        table, encoding = read_table(path, sheet=sheet)
        row_label, first_row = "row", 2
    else:
        raise InputError(
            f"{path}: unsupported file type {suffix or '(none)'}; "
            "use .csv, .xlsx, .parquet, .geojson, .gpkg or .shp"
        )
    return _records_from_table(
        table,
        path=path,
        encoding=encoding,
        row_label=row_label,
        first_row=first_row,
        investment_unit=investment_unit,
        coords=coords,
    )


def read_parquet_columns(path: Path) -> pd.DataFrame:
    """Read only the project columns of a Parquet or GeoParquet file (or partitioned folder).

    A GeoParquet point geometry gives ``lon``/``lat`` when the table has no coordinate columns.
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
        column = json.loads(geo)["primary_column"]
        layer = gpd.read_parquet(path, columns=[*wanted, column])
        layer = layer.to_crs(WGS84) if layer.crs and not layer.crs.equals(WGS84) else layer
        table = pd.DataFrame(layer.drop(columns=layer.geometry.name))
        points = layer.geometry.array
        table["lon"], table["lat"] = shapely.get_x(points), shapely.get_y(points)
        return table
    return pd.read_parquet(path, columns=wanted)


def _points_table(path: Path) -> pd.DataFrame:
    """Attributes of a point layer plus ``lon``/``lat`` taken from the geometry."""
    try:
        layer = gpd.read_file(path)
    except Exception as exc:  # pyogrio raises several types for unreadable files
        raise InputError(f"{path}: cannot read it as a vector layer: {exc}") from exc
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


def _records_from_table(
    table: pd.DataFrame,
    *,
    path: Path,
    encoding: str | None,
    row_label: str,
    first_row: int,
    investment_unit: str | None,
    coords: str,
    first_rows: Mapping[str, int] | None = None,
) -> LoadResult:
    """Sort the rows of one table into outcomes (see :func:`projects_from_file`).

    ``first_rows`` maps repeated project ids to the row of their first occurrence when the
    table is one chunk of a larger file (the Dask engine); by default duplicates are found
    within the table.
    """
    table = table.reset_index(drop=True)
    n = len(table)
    geom_types = table.pop("__geom_type") if "__geom_type" in table else None
    columns = match_headers(table.columns)
    notes: list[str] = []
    for needed in ("lon", "lat"):
        if needed not in columns:
            aliases = ", ".join(PROJECT_ALIASES[needed][:4])
            raise InputError(
                f"{path}: row 1: no {'longitude' if needed == 'lon' else 'latitude'} column "
                f"(looked for {aliases}); columns are: {', '.join(map(str, table.columns))}"
            )

    def raw(canonical: str) -> pd.Series:
        if canonical in columns:
            return table[columns[canonical][0]]
        return pd.Series("", index=table.index, dtype=parse.TEXT)

    def header(canonical: str) -> str:
        return columns[canonical][0] if canonical in columns else canonical

    issues = RowIssues(n)
    rows = pd.Series(np.arange(first_row, first_row + n), index=table.index)

    project_ids = parse.as_text(raw("project_id"))
    names = parse.as_text(raw("name"))

    # Coordinates: missing or unreadable → rejected; outside China → rejected (say if swapped).
    lon, lon_bad = parse.parse_number(raw("lon"))
    lat, lat_bad = parse.parse_number(raw("lat"))
    if geom_types is not None:
        not_point = ~geom_types.isin(["Point", "missing", "empty"])
        kinds = _ByPosition(geom_types)
        issues.reject(not_point, "geometry", lambda i: f"geometry is a {kinds[i]}, not a point")
        lon_missing = lon.isna() & ~not_point
        issues.reject(lon_missing, "geometry", "coordinates missing (no point geometry)")
    else:
        for col, number, bad in (("lon", lon, lon_bad), ("lat", lat, lat_bad)):
            h, cells = header(col), _ByPosition(raw(col))
            issues.reject(number.isna() & ~bad, h, f"coordinates missing: {h} is empty")
            issues.reject(
                bad,
                h,
                lambda i, h=h, cells=cells: f"{h} {parse.cell_text(cells[i])!r} is not a number",
            )
    both = lon.notna() & lat.notna()
    lon_lo, lon_hi = CHINA_LON_RANGE
    lat_lo, lat_hi = CHINA_LAT_RANGE
    in_china = lon.between(lon_lo, lon_hi) & lat.between(lat_lo, lat_hi)
    swapped_ok = lat.between(lon_lo, lon_hi) & lon.between(lat_lo, lat_hi)
    outside = both & ~in_china
    where = f"outside China (lon {lon_lo:g}–{lon_hi:g}, lat {lat_lo:g}–{lat_hi:g})"
    issues.reject(
        outside,
        f"{header('lon')}/{header('lat')}",
        lambda i: (
            f"lon {lon.iloc[i]:g}, lat {lat.iloc[i]:g} {where}"
            + ("; lon/lat look swapped" if swapped_ok.iloc[i] else "")
        ),
    )

    # Duplicate project ids: every later occurrence is rejected.
    has_id = project_ids != ""
    if first_rows is None:
        duplicated = has_id & project_ids.duplicated(keep="first")
        first_at = rows.groupby(project_ids).transform("min") if duplicated.any() else rows
    else:
        first_at = project_ids.map(first_rows)
        duplicated = has_id & first_at.notna() & (first_at != rows)
    if duplicated.any():
        issues.reject(
            duplicated,
            header("project_id"),
            lambda i: (
                f"duplicate project_id {project_ids.iloc[i]!r} "
                f"(first at {row_label} {int(first_at.iloc[i])})"
            ),
        )
    if "project_id" in columns:
        row_of = _ByPosition(rows)
        issues.warn(~has_id, lambda i: f"project_id missing; using 'R{row_of[i]}'")
    else:
        notes.append(f"no project id column; rows are numbered R2, R3, … ({row_label} numbers)")
    if not has_id.all():
        project_ids = project_ids.where(has_id, "R" + rows.astype(str))

    # Investment: the header's unit, else the option's, else 亿元; a unit in the cell wins.
    header_unit = columns.get("investment", ("", None))[1]
    if header_unit is None:
        header_unit = parse.canonical_unit(investment_unit) if investment_unit else "yi"
        if "investment" in columns:
            notes.append(
                f"column {header('investment')!r} names no unit; read as "
                f"{ {'yi': '亿元', 'wan': '万元', 'yuan': '元'}[header_unit] }"
                + ("" if investment_unit else " (set --investment-unit to change)")
            )
    amounts, amount_bad = parse.parse_investment(raw("investment"), header_unit=header_unit)
    inv_cells = _ByPosition(raw("investment"))
    if "investment" in columns:
        issues.reject(
            amounts < 0,
            header("investment"),
            lambda i: (
                f"negative investment {parse.cell_text(inv_cells[i])!r} in {header('investment')}"
            ),
        )
        issues.warn(
            amounts.isna() & ~amount_bad,
            f"investment missing ({header('investment')}); counted, left out of sums",
        )
        issues.warn(
            amount_bad,
            lambda i: (
                f"investment {parse.cell_text(inv_cells[i])!r} is not a number; "
                "counted, left out of sums"
            ),
        )

    statuses, status_bad = parse.parse_status(raw("status"))
    status_text = parse.as_text(raw("status"))
    status_of = _ByPosition(status_text)
    # A column repeats a few unknown statuses (前期, 储备): one message per distinct text.
    status_message = functools.lru_cache(maxsize=256)(lambda t: f"status {t!r} not recognised")
    issues.warn(status_bad, lambda i: status_message(status_of[i]))

    dates, date_bad = parse.parse_date(raw("signed_date"))
    date_cells = _ByPosition(raw("signed_date"))
    issues.warn(
        date_bad,
        lambda i: f"signed date {parse.cell_text(date_cells[i])!r} not understood",
    )

    systems = _row_coord_systems(raw("coord_sys"), header("coord_sys"), coords, issues)

    rejected = issues.rejected_table(rows, project_ids, names)
    keep = ~issues.rejected_mask()
    lon_wgs, lat_wgs = _to_wgs84(lon, lat, systems, keep, notes)

    canonical_headers = {columns[c][0] for c in columns}
    extras = [c for c in table.columns if c not in canonical_headers]
    records = pd.DataFrame(
        {
            "row": rows,
            "project_id": project_ids,
            "name": names.where(names != "", project_ids),
            "park_declared": parse.as_text(raw("park")),
            "district": parse.as_text(raw("district")),
            "industry": parse.as_text(raw("industry")),
            "status": statuses,
            "status_raw": status_text,
            "investment_100m_cny": amounts.where(amounts >= 0),
            "signed_date": dates,
            "lon": lon_wgs,
            "lat": lat_wgs,
            "lon_orig": lon,
            "lat_orig": lat,
            "coord_sys": systems,
            "source": parse.as_text(raw("source")),
            "warnings": issues.warning_texts(),
        },
        index=table.index,
    )
    for extra in extras:
        name = str(extra)
        if name not in records.columns:
            records[name] = table[extra].astype(object).where(table[extra].notna(), None)
    records = records[keep].reset_index(drop=True)
    projects = gpd.GeoDataFrame(
        records,
        geometry=gpd.points_from_xy(records["lon"], records["lat"]),
        crs=WGS84,
    )
    return LoadResult(
        projects=projects,
        rejected=rejected,
        path=path,
        read=n,
        encoding=encoding,
        notes=notes,
        row_label=row_label,
    )


class _ByPosition:
    """A column indexed by position for per-row messages.

    It becomes an object array on first use (far faster to index than ``.iloc`` when thousands
    of rows get a message) and costs nothing when no row does.
    """

    def __init__(self, series: pd.Series) -> None:
        self._series = series
        self._values: np.ndarray | None = None

    def __getitem__(self, pos: int) -> object:
        if self._values is None:
            self._values = self._series.to_numpy(dtype=object)
        return self._values[pos]


def _row_coord_systems(cells: pd.Series, column: str, default: str, issues: RowIssues) -> pd.Series:
    """Each row's coordinate system: its own 坐标系 cell when filled, else the file's."""
    from parkmap.coords import normalise_coord_system

    file_system = normalise_coord_system(default)
    text = parse.as_text(cells)
    systems = pd.Series(file_system, index=cells.index, dtype=object)
    for value in text[text != ""].unique():
        try:
            systems[text == value] = normalise_coord_system(value)
        except UsageError:
            issues.reject(
                text == value,
                column,
                f"coordinate system {value!r} not recognised (use wgs84, cgcs2000, gcj02 or bd09)",
            )
    return systems


def _to_wgs84(
    lon: pd.Series, lat: pd.Series, systems: pd.Series, keep: np.ndarray, notes: list[str]
) -> tuple[pd.Series, pd.Series]:
    """Convert the kept rows to WGS-84, one vectorised call per coordinate system."""
    from parkmap.coords import convert_to_wgs84

    out_lon, out_lat = lon.copy(), lat.copy()
    for system in systems[keep].unique():
        if system == "wgs84":
            continue
        mask = keep & (systems == system).to_numpy()
        x, y = convert_to_wgs84(lon[mask].to_numpy(), lat[mask].to_numpy(), system)
        out_lon[mask], out_lat[mask] = x, y
        notes.append(f"{int(mask.sum())} rows converted from {SYSTEM_NAMES[system]} to WGS-84")
    return out_lon, out_lat


#: Names of the coordinate systems for messages.
SYSTEM_NAMES: Final = {
    "wgs84": "WGS-84",
    "cgcs2000": "CGCS2000",
    "gcj02": "GCJ-02 (Amap/Gaode, Tencent)",
    "bd09": "BD-09 (Baidu)",
}


# ---------------------------------------------------------------------------------------------
# Park layers


def parks_from_file(
    path: str | os.PathLike[str],
    *,
    id_field: str | None = None,
    name_field: str | None = None,
    coords: str = "wgs84",
) -> gpd.GeoDataFrame:
    """Read a park layer (GeoJSON, Shapefile, GeoPackage, KML) into WGS-84 polygons.

    Parameters
    ----------
    path
        The layer.
    id_field, name_field
        Fields holding the park id and name; detected when not given (id: ``park_id``, ``id``,
        ``adcode``, ``code``; name: ``name_zh``, ``name``, ``名称``).
    coords
        Coordinate system of a lon/lat layer: ``wgs84``, ``cgcs2000``, ``gcj02`` or ``bd09``;
        polygons are converted to WGS-84 vertex by vertex.

    Returns
    -------
    GeoDataFrame
        ``park_id``, ``name``, ``name_zh``, ``name_en`` and the layer's other fields. Repairs
        and dropped features are listed in ``.attrs["notes"]``. A layer without a CRS is read
        as EPSG:4326 (GeoJSON's rule); any other CRS is reprojected.

    Raises
    ------
    InputError
        If the file cannot be read, a named field is missing, or no polygon remains.
    """
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: no such file")
    try:
        layer = gpd.read_file(path)
    except Exception as exc:  # pyogrio raises several types for unreadable files
        raise InputError(f"{path}: cannot read it as a vector layer: {exc}") from exc
    notes: list[str] = []
    if layer.crs is None:
        layer = layer.set_crs(WGS84)
        notes.append(f"{path.name}: no CRS given; read as EPSG:4326 (lon/lat)")
    elif not layer.crs.equals(WGS84):
        notes.append(f"{path.name}: reprojected from {layer.crs.to_string()} to EPSG:4326")
        layer = layer.to_crs(WGS84)

    layer = _layer_to_wgs84(layer, coords, notes, path)
    id_col = _pick_field(layer, id_field, PARK_ID_FIELDS, path=path, what="--park-id-field")
    name_col = _pick_field(layer, name_field, PARK_NAME_FIELDS, path=path, what="--park-name-field")

    keep = np.ones(len(layer), dtype=bool)
    geoms = layer.geometry.array
    for pos, geom in enumerate(geoms):
        label = f"{path.name}: feature {pos + 1}"
        if geom is None or geom.is_empty:
            notes.append(f"{label}: no geometry; dropped")
            keep[pos] = False
            continue
        if not geom.is_valid:
            reason = shapely.is_valid_reason(geom)
            geom = shapely.make_valid(geom)
            notes.append(f"{label}: invalid geometry repaired ({reason})")
        polygonal = _polygonal_part(geom)
        if polygonal is None:
            notes.append(f"{label}: a {geom.geom_type} is not an area; dropped")
            keep[pos] = False
            continue
        geoms[pos] = polygonal
    layer = layer.set_geometry(gpd.GeoSeries(geoms, crs=WGS84, index=layer.index))
    layer = layer[keep].reset_index(drop=True)
    if layer.empty:
        raise InputError(f"{path}: no park polygons in the layer")

    names = (
        layer[name_col].astype(object).where(layer[name_col].notna(), "").map(str).str.strip()
        if name_col
        else pd.Series([""] * len(layer))
    )
    if id_col:
        ids = layer[id_col].astype(object).map(parse._cell_to_text).str.strip()
    else:
        ids = pd.Series([f"park-{i + 1}" for i in range(len(layer))])
        notes.append(f"{path.name}: no id field; parks numbered park-1, park-2, …")
    ids = ids.where(ids != "", pd.Series([f"park-{i + 1}" for i in range(len(layer))]))
    names = names.where(names != "", ids)

    out = layer.drop(columns=[c for c in ("park_id", "name") if c in layer.columns])
    out.insert(0, "park_id", ids.to_numpy())
    out.insert(1, "name", names.to_numpy())
    out["name_zh"] = (
        out["name_zh"].fillna("").astype(str) if "name_zh" in out.columns else out["name"]
    )
    out["name_en"] = out["name_en"].fillna("").astype(str) if "name_en" in out.columns else ""
    out = _merge_repeated_ids(out, notes, path)
    out.attrs["notes"] = notes
    return out


def _layer_to_wgs84(
    layer: gpd.GeoDataFrame, coords: str, notes: list[str], path: Path
) -> gpd.GeoDataFrame:
    from parkmap.coords import convert_to_wgs84, normalise_coord_system

    system = normalise_coord_system(coords)
    if system == "wgs84":
        return layer

    def convert(xy: np.ndarray) -> np.ndarray:
        return np.column_stack(convert_to_wgs84(xy[:, 0], xy[:, 1], system))

    notes.append(f"{path.name}: converted from {SYSTEM_NAMES[system]} to WGS-84")
    return layer.set_geometry(
        gpd.GeoSeries(
            shapely.transform(layer.geometry.array, convert), crs=WGS84, index=layer.index
        )
    )


def _pick_field(
    layer: gpd.GeoDataFrame,
    given: str | None,
    candidates: Sequence[str],
    *,
    path: Path,
    what: str,
) -> str | None:
    fields = [c for c in layer.columns if c != layer.geometry.name]
    if given:
        if given not in fields:
            raise InputError(f"{path}: no field {given!r} for {what}; fields: {', '.join(fields)}")
        return given
    lowered = {str(f).lower(): f for f in fields}
    for cand in candidates:
        if cand.lower() in lowered:
            return lowered[cand.lower()]
    return None


def _polygonal_part(geom: shapely.Geometry) -> shapely.Geometry | None:
    if geom.geom_type in ("Polygon", "MultiPolygon"):
        return geom
    if geom.geom_type == "GeometryCollection":
        parts = [g for g in geom.geoms if g.geom_type in ("Polygon", "MultiPolygon")]
        if parts:
            return shapely.union_all(parts)
    return None


def _merge_repeated_ids(parks: gpd.GeoDataFrame, notes: list[str], path: Path) -> gpd.GeoDataFrame:
    """Features sharing a park id are parts of one park: merge them into one (multi)polygon."""
    repeated = parks["park_id"].duplicated(keep=False)
    if not repeated.any():
        return parks
    for pid in parks.loc[repeated, "park_id"].unique():
        count = int((parks["park_id"] == pid).sum())
        notes.append(f"{path.name}: {count} features share park id {pid!r}; merged into one park")
    merged = parks.dissolve(by="park_id", sort=False, as_index=False)
    return merged[parks.columns]


def parks_from_files(
    paths: Sequence[str | os.PathLike[str]],
    *,
    id_field: str | None = None,
    name_field: str | None = None,
    coords: str = "wgs84",
) -> gpd.GeoDataFrame:
    """Read and stack several park layers; a park id may appear in only one of them."""
    layers = [
        parks_from_file(p, id_field=id_field, name_field=name_field, coords=coords) for p in paths
    ]
    if len(layers) == 1:
        return layers[0]
    seen: dict[str, str] = {}
    for path, layer in zip(paths, layers, strict=True):
        for pid in layer["park_id"]:
            if pid in seen:
                raise InputError(
                    f"{path}: park id {pid!r} is also in {seen[pid]}; park ids must be unique"
                )
            seen[pid] = Path(path).name
    stacked = gpd.GeoDataFrame(pd.concat(layers, ignore_index=True), crs=WGS84)
    stacked.attrs["notes"] = [n for layer in layers for n in layer.attrs.get("notes", [])]
    return stacked


def context_from_file(path: str | os.PathLike[str] | None = None) -> gpd.GeoDataFrame:
    """Context features (district outlines, airport) for the map; bundled Qingdao by default."""
    layer = gpd.read_file(path or bundled_path("context.geojson"))
    return layer.set_crs(WGS84) if layer.crs is None else layer.to_crs(WGS84)


# ---------------------------------------------------------------------------------------------
# Writing outputs


@contextmanager
def atomic_writer(path: str | os.PathLike[str], *, binary: bool = False) -> Iterator[TextIO]:
    """A file handle whose content replaces ``path`` only when the block succeeds.

    UTF-8 text with ``\\n`` line ends, or bytes when ``binary``.

    It writes a temporary file in the same folder, then renames it, so readers never see a
    half-written output.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        mode = {"mode": "wb"} if binary else {"mode": "w", "encoding": "utf-8", "newline": "\n"}
        with os.fdopen(fd, **mode) as fh:
            yield fh
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp creates 0600; give the usual file mode
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write(path: str | os.PathLike[str], data: str | bytes) -> Path:
    """Write a file atomically: a temporary file in the same folder, then a rename."""
    path = Path(path)
    if isinstance(data, str):
        with atomic_writer(path) as fh:
            fh.write(data)
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _csv_text(frame: pd.DataFrame) -> str:
    return frame.to_csv(index=False, lineterminator="\n")


def save_table_csv(frame: pd.DataFrame, path: str | os.PathLike[str]) -> Path:
    """Write a table as UTF-8 CSV (no BOM, so every CSV reader gets clean headers)."""
    return atomic_write(path, _csv_text(frame))


def save_rejected(rejected: pd.DataFrame, path: str | os.PathLike[str]) -> Path:
    """Write ``rejected.csv``: ``row, column, reason, project_id, name`` (header only if none)."""
    from parkmap.validate import REJECTED_COLUMNS

    return atomic_write(path, _csv_text(rejected.reindex(columns=REJECTED_COLUMNS)))


def save_projects_geojson(projects: gpd.GeoDataFrame, path: str | os.PathLike[str]) -> Path:
    """Write the mapped projects as RFC 7946 GeoJSON (WGS-84, dates as ISO strings)."""
    from parkmap.geojson_out import write_point_features

    frame = projects.to_crs(WGS84) if projects.crs and not projects.crs.equals(WGS84) else projects
    props = pd.DataFrame(frame.drop(columns=frame.geometry.name))
    with atomic_writer(path, binary=True) as fh:
        write_point_features(fh, props, np.asarray(frame.geometry.array), chunk_rows=GEOJSON_CHUNK)
    return Path(path)

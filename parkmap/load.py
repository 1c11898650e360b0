"""Project records from a file in one call: the read, validate and WGS-84 stages.

:func:`parkmap.pipeline.analyse` runs the same stages one by one; this is the shortcut for a
notebook that only needs the projects.
"""

from __future__ import annotations

import os

from parkmap import cell_values
from parkmap.coords import records_to_wgs84
from parkmap.read import project_table
from parkmap.validate import LoadResult, validate_records


def projects_from_file(
    path: str | os.PathLike[str],
    *,
    investment_unit: str | None = None,
    sheet: str | int | None = None,
    coords: str = "wgs84",
    header_row: int | None = None,
    table: str | None = None,
    query: str | None = None,
) -> LoadResult:
    """Read project records and sort every row into mapped, mapped with warnings, or rejected.

    Parameters
    ----------
    path
        CSV/XLSX table with a header row, or a GeoJSON/GeoPackage/Shapefile of points; or a
        database URL (``postgresql://user@host:5432/db``) or SQLite/GeoPackage file with
        ``table`` or ``query``.
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
    header_row
        Spreadsheet row of the column headers (1-based); default: found below any title rows.
    table, query
        Database table (``schema.table`` allowed) or ``SELECT`` holding the records.

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
    if investment_unit is not None:
        cell_values.canonical_unit(investment_unit)  # a bad option fails before any reading
    raw = project_table(path, sheet=sheet, header_row=header_row, table=table, query=query)
    loaded = validate_records(raw, investment_unit=investment_unit, coords=coords)
    loaded.projects = records_to_wgs84(loaded.projects, loaded.notes)
    return loaded

"""Tables for reports: ``parks.xlsx`` beside ``parks.csv``, and ``projects.gpkg`` for QGIS."""

from __future__ import annotations

import io as _io
import json
import os
import tempfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from parkmap.i18n import texts, with_unit
from parkmap.metrics import parks_table
from parkmap.settings import STATUSES, WGS84
from parkmap.write import atomic_write, neutralise_text, save_table_csv

#: Number formats of the workbook, by column kind.
NUMBER_FORMATS = {"area": "#,##0.00", "money": "#,##0.00", "count": "#,##0", "rank": "0"}

#: Columns summed in the totals row (a project in two parks counts in both, like the column).
SUMMED_PREFIXES = ("area_km2", "projects", "investment")


def column_header(column: str, lang: str) -> str:
    """Header with its unit, e.g. ``面积（km²）`` / ``Area (km²)``, ``投资额（亿元）``."""
    t = texts(lang, "map", "sheet")
    status = {s: t[f"status_{s}"] for s in STATUSES}
    fixed = {
        "park_id": t["col_park_id"],
        "name": t["col_park"],
        "name_en": t["col_name_en"],
        "area_km2": with_unit(lang, t["area"], t["unit_area"]),
        "projects": t["projects"],
        "investment_100m_cny": with_unit(lang, t["investment"], t["unit_100m"]),
        "density_100m_cny_per_km2": with_unit(lang, t["density"], t["unit_density"]),
        "rank": t["rank"],
    }
    if column in fixed:
        return fixed[column]
    for s in STATUSES:
        if column == f"projects_{s}":
            return f"{t['projects']} · {status[s]}"
        if column == f"investment_{s}_100m_cny":
            return f"{with_unit(lang, t['investment'], t['unit_100m'])} · {status[s]}"
    return column


def _kind(column: str) -> str | None:
    if column == "area_km2":
        return "area"
    if column == "rank":
        return "rank"
    if column.startswith("projects"):
        return "count"
    if column.startswith(("investment", "density")):
        return "money"
    return None


def totals_row(table: pd.DataFrame) -> dict[str, float | int | None]:
    """Totals of the park table: sums of area, counts and investments; density = total
    investment / total area; no rank."""
    out: dict[str, float | int | None] = {}
    for col in table.columns:
        if col.startswith(SUMMED_PREFIXES):
            values = pd.to_numeric(table[col], errors="coerce")
            total = values.sum(min_count=1)
            if pd.isna(total):
                out[col] = None  # every park's figure unknown: so is the total
            else:
                out[col] = int(total) if col.startswith("projects") else round(float(total), 6)
    area = out.get("area_km2")
    inv = out.get("investment_100m_cny")
    if "density_100m_cny_per_km2" in table.columns:
        out["density_100m_cny_per_km2"] = (
            round(float(inv) / float(area), 6) if area and inv is not None else None
        )
    return out


def parks_workbook_bytes(parks: gpd.GeoDataFrame, lang: str) -> bytes:
    """``parks.xlsx``: the ``parks.csv`` table with unit headers, a totals row, number formats,
    a frozen header row and fitted column widths."""
    from openpyxl import Workbook
    from openpyxl.comments import Comment
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
    from openpyxl.utils import get_column_letter

    t = texts(lang, "sheet")
    table = parks_table(parks)
    wb = Workbook()
    ws = wb.active
    ws.title = t["sheet_parks"]
    headers = [column_header(c, lang) for c in table.columns]
    ws.append([_cell(h) for h in headers])
    for record in table.itertuples(index=False):
        ws.append([_cell(v) for v in record])
    totals = totals_row(table)
    label_col = "name" if "name" in table.columns else table.columns[0]
    ws.append([t["total_row"] if c == label_col else _cell(totals.get(c)) for c in table.columns])
    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="EEEEEE")
    line = Side(style="thin", color="888888")
    for cell in ws[1]:
        cell.font = bold
        cell.fill = fill
        cell.alignment = Alignment(wrap_text=True, vertical="center")
    last = ws.max_row
    for cell in ws[last]:
        cell.font = bold
        cell.border = Border(top=line)
    for j, col in enumerate(table.columns, start=1):
        kind = _kind(col)
        if kind:
            for (cell,) in ws.iter_rows(min_row=2, max_row=last, min_col=j, max_col=j):
                cell.number_format = NUMBER_FORMATS[kind]
        width = max(
            [_display_width(headers[j - 1]) / 1.6 + 2]
            + [_display_width(str(v)) + 2 for v in table[col].tolist()]
        )
        ws.column_dimensions[get_column_letter(j)].width = min(max(width, 8), 48)
    ws.row_dimensions[1].height = 32
    ws.freeze_panes = "A2"
    # The note goes on its own sheet, so the totals row stays the last row of the table.
    label_cell = ws.cell(row=last, column=list(table.columns).index(label_col) + 1)
    label_cell.comment = Comment(t["xlsx_total_note"], "parkmap")
    notes = wb.create_sheet(t["sheet_notes"])
    notes.append([t["xlsx_total_note"]])
    notes.column_dimensions["A"].width = 100
    buffer = _io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def _cell(value: object) -> object:
    """A workbook cell: numbers stay numbers; text is text (never a formula), without the
    control characters the XLSX format cannot hold."""
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    if value is None or value is pd.NA:
        return None
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return None if np.isnan(value) else float(value)
    if isinstance(value, str):
        return neutralise_text(ILLEGAL_CHARACTERS_RE.sub("", value))
    return value


def _display_width(text: str) -> int:
    """Width in Excel's character units: CJK characters count double."""
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


def save_parks_tables(parks: gpd.GeoDataFrame, out: Path, lang: str) -> dict[str, Path]:
    """Write ``parks.csv`` (as ``parkmap build`` does) and ``parks.xlsx`` beside it."""
    out = Path(out)
    return {
        "parks_csv": save_table_csv(parks_table(parks), out / "parks.csv"),
        "parks_xlsx": atomic_write(out / "parks.xlsx", parks_workbook_bytes(parks, lang)),
    }


def _gpkg_text(value: object) -> str | None:
    """A GeoPackage text cell: lists, tuples, arrays and dicts as JSON (Chinese kept readable),
    missing values as ``None``, anything else as ``str``."""
    if isinstance(value, (list, tuple, dict, np.ndarray)):

        def plain(item: object) -> object:
            if isinstance(item, np.ndarray):
                return item.tolist()
            if isinstance(item, np.generic):
                return item.item()
            return str(item)

        return json.dumps(value, ensure_ascii=False, default=plain)
    if value is None or value is pd.NaT or value is pd.NA:
        return None
    if isinstance(value, float | np.floating) and np.isnan(value):
        return None
    return str(value)


def _gpkg_frame(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Dates as ISO text, text columns as plain strings (lists and dicts as JSON text),
    geometry in WGS-84."""
    out = frame.to_crs(WGS84) if frame.crs and not frame.crs.equals(WGS84) else frame.copy()
    if out.crs is None:
        out = out.set_crs(WGS84)
    for col in out.columns:
        if col == out.geometry.name:
            continue
        series = out[col]
        if pd.api.types.is_datetime64_any_dtype(series):
            out[col] = series.dt.strftime("%Y-%m-%d").astype(object).where(series.notna(), None)
        elif pd.api.types.is_bool_dtype(series):
            out[col] = series.astype(bool)
        elif not pd.api.types.is_numeric_dtype(series):
            out[col] = series.astype(object).map(_gpkg_text)
    return out


def save_geopackage(parks: gpd.GeoDataFrame, projects: gpd.GeoDataFrame, path: Path) -> Path:
    """Write ``projects.gpkg`` with layers ``parks`` and ``projects`` (WGS-84), atomically."""
    import pyogrio

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".gpkg")
    os.close(fd)
    os.unlink(tmp)  # GDAL creates the file itself
    try:
        pyogrio.write_dataframe(_gpkg_frame(parks), tmp, layer="parks", driver="GPKG")
        pyogrio.write_dataframe(
            _gpkg_frame(projects), tmp, layer="projects", driver="GPKG", append=False
        )
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path

"""Row outcomes: every data row is mapped, mapped with a warning, or rejected with a reason.

Problems are collected for the whole file first and reported once, so a planner fixes a
spreadsheet in one pass instead of one error per run.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from parkmap import cell_values
from parkmap.coords import normalise_coord_system
from parkmap.errors import InputError, UsageError
from parkmap.read.tables import RawTable
from parkmap.schema import PROJECT_ALIASES, match_headers
from parkmap.settings import CHINA_LAT_RANGE, CHINA_LON_RANGE

REJECTED_COLUMNS = ["row", "column", "reason", "project_id", "name"]

#: A row message: one text for every flagged row, or a function of the row's position.
Message = str | Callable[[int], str]


class RowIssues:
    """Collects rejections and warnings per row position (0-based position in the table)."""

    def __init__(self, n_rows: int) -> None:
        self.n_rows = n_rows
        self.rejections: dict[int, list[tuple[str, str]]] = defaultdict(list)
        self.warnings: dict[int, list[str]] = defaultdict(list)

    def reject(self, mask: pd.Series | np.ndarray, column: str, reasons: Message) -> None:
        """Reject the rows where ``mask`` is true, with a reason.

        ``reasons`` is one string, or a function of the row position called only for the
        flagged rows (so a clean file of 100,000 rows formats no messages at all).
        """
        for pos in np.flatnonzero(np.asarray(mask, dtype=bool)):
            reason = reasons if isinstance(reasons, str) else reasons(int(pos))
            self.rejections[int(pos)].append((column, reason))

    def warn(self, mask: pd.Series | np.ndarray, messages: Message) -> None:
        """Add a warning to the rows where ``mask`` is true (a string or a function of position)."""
        for pos in np.flatnonzero(np.asarray(mask, dtype=bool)):
            message = messages if isinstance(messages, str) else messages(int(pos))
            self.warnings[int(pos)].append(message)

    def rejected_mask(self) -> np.ndarray:
        """Boolean array, true for rejected rows."""
        mask = np.zeros(self.n_rows, dtype=bool)
        mask[list(self.rejections)] = True
        return mask

    def warning_texts(self) -> np.ndarray:
        """One ``"; "``-joined warning string per row ("" where none)."""
        texts = np.full(self.n_rows, "", dtype=object)
        for pos, messages in self.warnings.items():
            texts[pos] = "; ".join(messages)
        return texts

    def rejected_table(
        self, rows: pd.Series, project_ids: pd.Series, names: pd.Series
    ) -> pd.DataFrame:
        """The rejected rows, one line each, reasons joined with ``"; "``."""
        records = []
        for pos in sorted(self.rejections):
            problems = self.rejections[pos]
            records.append(
                {
                    "row": int(rows.iloc[pos]),
                    "column": "; ".join(dict.fromkeys(col for col, _ in problems)),
                    "reason": "; ".join(reason for _, reason in problems),
                    "project_id": project_ids.iloc[pos],
                    "name": names.iloc[pos],
                }
            )
        return pd.DataFrame(records, columns=REJECTED_COLUMNS).astype({"row": "int64"})


@dataclass
class LoadResult:
    """Project records read from one file, split into mapped rows and rejected rows.

    Attributes
    ----------
    projects
        Accepted rows as points in WGS-84, with a ``warnings`` column.
    rejected
        Rejected rows: ``row, column, reason, project_id, name``.
    path
        The file read.
    read
        Number of data rows read.
    encoding
        Text encoding detected (``None`` for binary formats).
    notes
        File-level remarks, such as the unit assumed for an investment column.
    row_label
        ``"row"`` for spreadsheets (header = row 1) or ``"feature"`` for GeoJSON/GeoPackage.
    """

    projects: gpd.GeoDataFrame
    rejected: pd.DataFrame
    path: Path
    read: int
    encoding: str | None = None
    notes: list[str] = field(default_factory=list)
    row_label: str = "row"


@dataclass(frozen=True)
class Summary:
    """Counts of row outcomes; ``read == mapped + warnings + rejected``."""

    read: int
    mapped: int
    warnings: int
    rejected: int

    def line(self) -> str:
        """The one-line summary the CLI prints."""
        return (
            f"read {self.read} · mapped {self.mapped} · warnings {self.warnings} · "
            f"rejected {self.rejected}"
        )


def summarise(projects: pd.DataFrame, rejected: pd.DataFrame) -> Summary:
    """Count outcomes once every step that can add warnings (load, join) has run."""
    with_warning = int((projects["warnings"].astype(str) != "").sum()) if len(projects) else 0
    return Summary(
        read=len(projects) + len(rejected),
        mapped=len(projects) - with_warning,
        warnings=with_warning,
        rejected=len(rejected),
    )


def problems(
    projects: pd.DataFrame, rejected: pd.DataFrame, *, path: Path | str, row_label: str = "row"
) -> list[str]:
    """Every problem as a one-line message naming the file, row and column, in row order."""
    lines: list[tuple[int, str]] = []
    name = Path(path).name
    for row, col, reason in zip(
        rejected["row"].tolist(),
        rejected["column"].tolist(),
        rejected["reason"].tolist(),
        strict=True,
    ):
        column = f", column {col}" if col else ""
        lines.append((int(row), f"{name}: {row_label} {row}{column}: rejected: {reason}"))
    if len(projects):
        mask = (projects["warnings"].astype(str) != "").to_numpy(dtype=bool)
        rows = projects["row"].to_numpy()[mask].tolist()
        texts = projects["warnings"].to_numpy(dtype=object)[mask].tolist()
        for row, text in zip(rows, texts, strict=True):
            lines.append((int(row), f"{name}: {row_label} {row}: warning: {text}"))
    return [text for _, text in sorted(lines, key=lambda item: item[0])]


def validate_records(
    raw_table: RawTable,
    *,
    investment_unit: str | None = None,
    coords: str = "wgs84",
    first_rows: Mapping[str, int] | None = None,
) -> LoadResult:
    """Sort the rows of one table into outcomes: rejected with a reason, or kept (with warnings).

    Parameters
    ----------
    raw_table
        Cells as read, where they came from and how their rows are numbered
        (:func:`parkmap.read.project_table`).
    investment_unit
        Unit of an investment column whose header names none (``元``, ``万元``, ``亿元``);
        default 亿元. A unit in the header (``总投资(万元)``) or the cell (``5000万元``) wins.
    coords
        Coordinate system of the file; a per-row column (坐标系 / ``coord_sys``) wins for its
        row. Coordinates are kept as read: :func:`parkmap.coords.records_to_wgs84` converts
        them.

    first_rows
        Repeated project ids → the row of their first occurrence, when the table is one
        part of a larger file (the Dask engine); by default duplicates are found within it.

    Returns
    -------
    LoadResult
        Kept rows as a plain table (``lon``/``lat`` as read, ``coord_sys`` per row), rejected
        rows, counts and file-level notes.
    """
    path, encoding = raw_table.path, raw_table.encoding
    row_label, first_row = raw_table.row_label, raw_table.first_row
    table = raw_table.table.reset_index(drop=True)
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
        return pd.Series("", index=table.index, dtype=cell_values.TEXT)

    def header(canonical: str) -> str:
        return columns[canonical][0] if canonical in columns else canonical

    issues = RowIssues(n)
    rows = pd.Series(np.arange(first_row, first_row + n), index=table.index)

    project_ids = cell_values.as_text(raw("project_id"))
    names = cell_values.as_text(raw("name"))

    # Coordinates: missing or unreadable → rejected; outside China → rejected (say if swapped).
    lon, lon_bad = cell_values.parse_number(raw("lon"))
    lat, lat_bad = cell_values.parse_number(raw("lat"))
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
            issues.reject(bad, h, _not_a_number(h, cells))
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
        header_unit = cell_values.canonical_unit(investment_unit) if investment_unit else "yi"
        if "investment" in columns:
            notes.append(
                f"column {header('investment')!r} names no unit; read as "
                f"{ {'yi': '亿元', 'wan': '万元', 'yuan': '元'}[header_unit] }"
                + ("" if investment_unit else " (set --investment-unit to change)")
            )
    amounts, amount_bad = cell_values.parse_investment(raw("investment"), header_unit=header_unit)
    inv_cells = _ByPosition(raw("investment"))
    if "investment" in columns:
        issues.reject(
            amounts < 0,
            header("investment"),
            lambda i: (
                f"negative investment {cell_values.cell_text(inv_cells[i])!r} "
                f"in {header('investment')}"
            ),
        )
        issues.warn(
            amounts.isna() & ~amount_bad,
            f"investment missing ({header('investment')}); counted, left out of sums",
        )
        issues.warn(
            amount_bad,
            lambda i: (
                f"investment {cell_values.cell_text(inv_cells[i])!r} is not a number; "
                "counted, left out of sums"
            ),
        )

    statuses, status_bad = cell_values.parse_status(raw("status"))
    status_text = cell_values.as_text(raw("status"))
    status_of = _ByPosition(status_text)
    # A column repeats a few unknown statuses (前期, 储备): one message per distinct text.
    status_message = functools.lru_cache(maxsize=256)(lambda t: f"status {t!r} not recognised")
    issues.warn(status_bad, lambda i: status_message(status_of[i]))

    dates, date_bad = cell_values.parse_date(raw("signed_date"))
    date_cells = _ByPosition(raw("signed_date"))
    issues.warn(
        date_bad,
        lambda i: f"signed date {cell_values.cell_text(date_cells[i])!r} not understood",
    )

    systems = _row_coord_systems(raw("coord_sys"), header("coord_sys"), coords, issues)

    rejected = issues.rejected_table(rows, project_ids, names)
    keep = ~issues.rejected_mask()

    canonical_headers = {columns[c][0] for c in columns}
    extras = [c for c in table.columns if c not in canonical_headers]
    records = pd.DataFrame(
        {
            "row": rows,
            "project_id": project_ids,
            "name": names.where(names != "", project_ids),
            "park_declared": cell_values.as_text(raw("park")),
            "district": cell_values.as_text(raw("district")),
            "industry": cell_values.as_text(raw("industry")),
            "status": statuses,
            "status_raw": status_text,
            "investment_100m_cny": amounts.where(amounts >= 0),
            "signed_date": dates,
            "lon": lon,
            "lat": lat,
            "lon_orig": lon,
            "lat_orig": lat,
            "coord_sys": systems,
            "source": cell_values.as_text(raw("source")),
            "warnings": issues.warning_texts(),
        },
        index=table.index,
    )
    for extra in extras:
        name = str(extra)
        if name not in records.columns:
            records[name] = table[extra].astype(object).where(table[extra].notna(), None)
    kept = records[keep].reset_index(drop=True)
    return LoadResult(kept, rejected, path, n, encoding, notes, row_label)


def _not_a_number(header: str, cells: _ByPosition) -> Callable[[int], str]:
    """The rejection reason of a coordinate cell that is not a number, by row position."""
    return lambda i: f"{header} {cell_values.cell_text(cells[i])!r} is not a number"


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
    file_system = normalise_coord_system(default)
    text = cell_values.as_text(cells)
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

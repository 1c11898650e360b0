"""Row outcomes: every data row is mapped, mapped with a warning, or rejected with a reason.

Problems are collected for the whole file first and reported once, so a planner fixes a
spreadsheet in one pass instead of one error per run.
"""

from __future__ import annotations

import functools
import re
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, overload

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from parkmap import cell_values
from parkmap.coords import normalise_coord_system
from parkmap.errors import InputError, UsageError
from parkmap.json_text import is_arrow_text, one_array, utf8_data
from parkmap.read.tables import EXTRA_CELLS, RawTable
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
        ``"row"`` for spreadsheets (numbered as Excel shows them) or ``"feature"`` for
        GeoJSON/GeoPackage.
    blank_rows
        Empty rows below the header, skipped (not counted as read).
    """

    projects: gpd.GeoDataFrame
    rejected: pd.DataFrame
    path: Path
    read: int
    encoding: str | None = None
    notes: list[str] = field(default_factory=list)
    row_label: str = "row"
    blank_rows: tuple[int, ...] = ()


@dataclass(frozen=True)
class Summary:
    """Counts of row outcomes; ``read == mapped + warnings + rejected``.

    Blank rows are neither: they are skipped and counted apart.
    """

    read: int
    mapped: int
    warnings: int
    rejected: int
    blank: int = 0

    def line(self) -> str:
        """The one-line summary the CLI prints."""
        line = (
            f"read {self.read} · mapped {self.mapped} · warnings {self.warnings} · "
            f"rejected {self.rejected}"
        )
        return line + (f" · blank rows skipped {self.blank}" if self.blank else "")


def summarise(projects: pd.DataFrame, rejected: pd.DataFrame, *, blank: int = 0) -> Summary:
    """Count outcomes once every step that can add warnings (load, join) has run."""
    with_warning = int((projects["warnings"].astype(str) != "").sum()) if len(projects) else 0
    return Summary(
        read=len(projects) + len(rejected),
        mapped=len(projects) - with_warning,
        warnings=with_warning,
        rejected=len(rejected),
        blank=blank,
    )


class ProblemLines(Sequence[str]):
    """Problem messages in row order, each written only when it is read.

    A list of every message would format one string per warned row (a million-row ledger can
    warn on hundreds of thousands), while a run prints the first few; this holds the rows and
    texts, and writes ``"<file>: row N[, column C]: rejected: …"`` or ``"…: warning: …"`` for
    the items asked for. It compares equal to a list of the same messages.
    """

    def __init__(
        self,
        name: str,
        row_label: str,
        rows: np.ndarray,
        columns: list[str],
        texts: list[str],
        rejected: int,
    ) -> None:
        self._name, self._row_label = name, row_label
        # rejections first, then warnings, each in their own order; a stable sort by row
        self._order = np.argsort(rows, kind="stable")
        self._rows, self._columns, self._texts, self._rejected = rows, columns, texts, rejected

    def __len__(self) -> int:
        return len(self._order)

    def _line(self, position: int) -> str:
        i = int(self._order[position])
        row = int(self._rows[i])
        if i < self._rejected:
            col = self._columns[i]
            column = f", column {col}" if col else ""
            return f"{self._name}: {self._row_label} {row}{column}: rejected: {self._texts[i]}"
        return f"{self._name}: {self._row_label} {row}: warning: {self._texts[i]}"

    @overload
    def __getitem__(self, index: int) -> str: ...

    @overload
    def __getitem__(self, index: slice) -> list[str]: ...

    def __getitem__(self, index: int | slice) -> str | list[str]:
        if isinstance(index, slice):
            return [self._line(i) for i in range(*index.indices(len(self)))]
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError("problem index out of range")
        return self._line(index)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Sequence) and not isinstance(other, str):
            return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"ProblemLines({len(self)} lines)"


def problems(
    projects: pd.DataFrame, rejected: pd.DataFrame, *, path: Path | str, row_label: str = "row"
) -> ProblemLines:
    """Every problem as a one-line message naming the file, row and column, in row order."""
    rows = [np.asarray(rejected["row"].to_numpy(), dtype=np.int64)]
    columns = [str(c) if c else "" for c in rejected["column"].tolist()]
    texts = [str(t) for t in rejected["reason"].tolist()]
    if len(projects):
        mask = (projects["warnings"].astype(str) != "").to_numpy(dtype=bool)
        rows.append(np.asarray(projects["row"].to_numpy()[mask], dtype=np.int64))
        texts.extend(projects["warnings"].to_numpy(dtype=object)[mask].tolist())
    return ProblemLines(
        Path(path).name, row_label, np.concatenate(rows), columns, texts, len(rejected)
    )


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
    row_label = raw_table.row_label
    table = raw_table.table.reset_index(drop=True)
    n = len(table)
    geom_types = table.pop("__geom_type") if "__geom_type" in table else None
    extra_cells = table.pop(EXTRA_CELLS) if EXTRA_CELLS in table else None
    columns = match_headers(table.columns)
    notes: list[str] = list(raw_table.notes)
    header_at = f"row {raw_table.first_row - 1}" if row_label == "row" else "header"
    for needed in ("lon", "lat"):
        if needed not in columns:
            aliases = ", ".join(PROJECT_ALIASES[needed][:4])
            raise InputError(
                f"{path}: {header_at}: no {'longitude' if needed == 'lon' else 'latitude'} column "
                f"(looked for {aliases}); columns are: {', '.join(map(str, table.columns))}"
            )

    blank: list[pd.Series] = []

    def raw(canonical: str) -> pd.Series:
        if canonical in columns:
            return table[columns[canonical][0]]
        # One column of "" stands for every missing one: a million-row ledger without
        # district, park, source and date columns made (and stripped) four of them.
        if not blank:
            blank.append(pd.Series("", index=table.index, dtype=cell_values.TEXT))
        return blank[0]

    # The statuses, dates and the texts only the output needs are read on a second thread
    # while this one checks ids, coordinates and amounts, in the order they are used below.
    # Their Arrow kernels run outside the GIL: at a million rows validation takes 0.44-0.54 s
    # against 0.61-0.69 s (in the build, three runs each); at 100,000 rows 0.15 s against
    # 0.17 s (means of four).
    side = ThreadPoolExecutor(max_workers=1, thread_name_prefix="parkmap-validate")
    later: dict[str, Future[Any]] = {}

    def text_later(canonical: str) -> None:
        if canonical in columns:
            later[canonical] = side.submit(cell_values.as_text, table[columns[canonical][0]])

    later["status_parsed"] = side.submit(cell_values.parse_status, raw("status"))
    text_later("status")
    later["signed"] = side.submit(cell_values.parse_date_cells, raw("signed_date"))
    for canonical in ("park", "district", "industry", "source"):
        text_later(canonical)
    side.shutdown(wait=False)  # the thread ends once the last is done

    def text(canonical: str) -> pd.Series:
        """The column's cells as :func:`cell_values.as_text` gives them."""
        if canonical in later:
            ready: pd.Series = later[canonical].result()
            return ready
        if canonical in columns:
            return cell_values.as_text(table[columns[canonical][0]])
        return raw(canonical)  # already stripped text

    def header(canonical: str) -> str:
        return columns[canonical][0] if canonical in columns else canonical

    issues = RowIssues(n)
    rows = pd.Series(raw_table.numbers(), index=table.index)

    project_ids = text("project_id")
    names = text("name")
    read_as_text = {
        header(c): t for c, t in (("project_id", project_ids), ("name", names)) if c in columns
    }
    totals, total_at = total_rows(table, columns, texts=read_as_text)
    if extra_cells is not None:
        extra_of = _ByPosition(cell_values.as_text(extra_cells))
        width = len(table.columns)
        issues.reject(
            extra_cells.fillna("") != "",
            "",
            lambda i: (
                f"more cells than the header's {width} columns (extra: "
                f"{cell_values.quoted(extra_of[i])}); a comma inside a number or name?"
            ),
        )

    # Coordinates: missing or unreadable → rejected; outside China → rejected (say if swapped).
    lon, lon_bad = cell_values.parse_coordinate(raw("lon"))
    lat, lat_bad = cell_values.parse_coordinate(raw("lat"))
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
            issues.reject(bad, h, _not_a_coordinate(h, cells))
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
        duplicated = has_id & repeated(project_ids)
        first_at = rows.groupby(project_ids).transform("min") if duplicated.any() else rows
    else:
        first_at = project_ids.map(first_rows)
        duplicated = has_id & first_at.notna() & (first_at != rows)
    if duplicated.any():
        issues.reject(
            duplicated,
            header("project_id"),
            lambda i: (
                f"duplicate project_id {cell_values.quoted(project_ids.iloc[i])} "
                f"(first at {row_label} {int(first_at.iloc[i])})"
            ),
        )
    if not has_id.all():
        project_ids = project_ids.where(has_id, _row_ids(rows, project_ids, has_id))
    if "project_id" in columns:
        id_of = _ByPosition(project_ids)
        issues.warn(~has_id & ~totals, lambda i: f"project_id missing; using {id_of[i]!r}")
    else:
        first = int(rows.iloc[0]) if n else raw_table.first_row
        notes.append(
            f"no project id column; projects are named by {row_label}: R{first}, R{first + 1}, …"
        )
    if "name" in columns:
        issues.warn(
            (names == "") & ~totals,
            f"project name missing ({header('name')} is empty); shown by its id",
        )

    # Investment: the header's unit, else the option's, else 亿元; a unit in the cell wins.
    header_unit = columns.get("investment", ("", None))[1]
    option_unit = cell_values.canonical_unit(investment_unit) if investment_unit else None
    if header_unit is None and raw_table.unit is not None and "investment" in columns:
        # the 单位 line above the table; an explicit --investment-unit still wins
        header_unit = option_unit or raw_table.unit
        if option_unit and option_unit != raw_table.unit:
            notes.append(
                f"--investment-unit {investment_unit} used, though the sheet states "
                f"{_UNIT_NAMES[raw_table.unit]} above the table"
            )
    if header_unit is None:
        header_unit = option_unit or "yi"
        if "investment" in columns:
            notes.append(
                f"column {header('investment')!r} names no unit; read as "
                f"{_UNIT_NAMES[header_unit]}"
                + ("" if investment_unit else " (set --investment-unit to change)")
            )
    amounts, amount_bad = cell_values.parse_investment(raw("investment"), header_unit=header_unit)
    inv_cells = _ByPosition(raw("investment"))
    if "investment" in columns:
        issues.reject(
            amounts < 0,
            header("investment"),
            lambda i: (
                f"negative investment {cell_values.quoted(inv_cells[i])} in {header('investment')}"
            ),
        )
        issues.warn(
            amounts.isna() & ~amount_bad,
            f"investment missing ({header('investment')}); counted, left out of sums",
        )
        issues.warn(
            amount_bad,
            lambda i: (
                f"investment {cell_values.quoted(inv_cells[i])} is not a number; "
                "counted, left out of sums"
            ),
        )

    statuses, status_bad = later["status_parsed"].result()
    status_text = text("status")
    status_of = _ByPosition(status_text)
    stopped = status_bad.copy()
    if status_bad.any():
        stopped[status_bad] = cell_values.stopped_statuses(status_text[status_bad])
    unread = status_bad & ~stopped
    filled = int((status_text != "").sum())
    if 2 * int(unread.sum()) > filled:
        # Most cells are no status at all (geocoding results, dates): one note, not a warning a row.
        example = status_text[unread].iloc[0]
        notes.append(
            f"column '{header('status')}' does not hold project statuses "
            f"(e.g. {cell_values.quoted(example)}); statuses left unknown"
        )
        statuses = pd.Series("unknown", index=table.index, dtype=object)
    else:
        # A column repeats a few unknown statuses (前期, 储备): one message per distinct text.
        status_message = functools.lru_cache(maxsize=256)(
            lambda t: f"status {cell_values.quoted(t)} not recognised"
        )
        stop_message = functools.lru_cache(maxsize=256)(
            lambda t: (
                f"status {cell_values.quoted(t)} means the project stopped; counted as unknown"
            )
        )
        issues.warn(unread, lambda i: status_message(status_of[i]))
        issues.warn(stopped, lambda i: stop_message(status_of[i]))

    signed = later["signed"].result()
    dates = signed.dates
    date_cells = _ByPosition(raw("signed_date"))
    issues.warn(
        signed.bad,
        lambda i: f"signed date {cell_values.quoted(date_cells[i])} not understood",
    )
    issues.warn(
        signed.out_of_range,
        lambda i: (
            f"signed date {cell_values.quoted(date_cells[i])} is outside 1900–2100; left empty"
        ),
    )

    systems = _row_coord_systems(raw("coord_sys"), header("coord_sys"), coords, issues)

    # A total row is never a project, whatever else it carries: its one reason is that.
    for pos, (column, word) in total_at.items():
        issues.rejections[pos] = [(column, f"total row ({word}); not a project")]
        issues.warnings.pop(pos, None)
    rejected = issues.rejected_table(rows, project_ids, names)
    keep = ~issues.rejected_mask()

    canonical_headers = {columns[c][0] for c in columns}
    extras = [c for c in table.columns if c not in canonical_headers]
    records = pd.DataFrame(
        {
            "row": rows,
            "project_id": project_ids,
            "name": names.where(names != "", project_ids),
            "park_declared": text("park"),
            "district": text("district"),
            "industry": text("industry"),
            "status": statuses,
            "status_raw": status_text,
            "investment_100m_cny": amounts.where(amounts >= 0),
            "signed_date": dates,
            "signed_date_precision": signed.precision,
            "lon": lon,
            "lat": lat,
            "lon_orig": lon.copy(),
            "lat_orig": lat.copy(),
            "coord_sys": systems,
            "source": text("source"),
            "warnings": issues.warning_texts(),
        },
        index=table.index,
        # The columns are this function's own: no copy into blocks of one type each (at a
        # million rows 0.2 s, in fresh memory, for a table nothing later needs consolidated).
        copy=False,
    )
    for extra in extras:
        name = str(extra)
        if name not in records.columns:
            records[name] = table[extra].astype(object).where(table[extra].notna(), None)
    # (nothing rejected: the table as it is, not a copy of every column)
    kept = records if keep.all() else records[keep].reset_index(drop=True)
    return LoadResult(
        kept, rejected, path, n, encoding, notes, row_label, blank_rows=raw_table.blank_rows
    )


#: Words that close a group of rows or the sheet; a row holding one alone is a sum, not a project.
TOTAL_WORDS: Final = (
    "合计",
    "小计",
    "总计",
    "共计",
    "累计",
    "total",
    "subtotal",
    "grand total",
    "sum",
)
_TOTAL_CELL = re.compile(
    r"^.{0,12}?(合\s*计|小\s*计|总\s*计|共\s*计|累\s*计)\s*[:：]?$"
    r"|^(?i:grand\s*total|sub\s*total|total|sum)\s*[:：]?$"
)
_UNIT_NAMES: Final = {"yi": "亿元", "wan": "万元", "yuan": "元"}


def total_rows(
    table: pd.DataFrame,
    columns: Mapping[str, tuple[str, str | None]],
    *,
    texts: Mapping[str, pd.Series] | None = None,
) -> tuple[pd.Series, dict[int, tuple[str, str]]]:
    """Rows that are sums (合计, 小计, 总计, total…), not projects.

    Offices write the word in the first column (序号, often merged across), the name column
    or the park column, sometimes after a place (``平度市合计``). Only those columns are
    searched, so a project named ``…小计划…`` is not taken for a total.

    ``texts`` holds columns (by header) already read with :func:`parkmap.cell_values.as_text`,
    so a million ids are not cleaned twice.

    Returns
    -------
    mask, found
        True for total rows; position → (column, the word as written).
    """
    candidates = [str(table.columns[0])] if len(table.columns) else []
    candidates += [
        columns[c][0] for c in ("project_id", "name", "park", "district") if c in columns
    ]
    mask = pd.Series(False, index=table.index)
    found: dict[int, tuple[str, str]] = {}
    for column in dict.fromkeys(candidates):
        known = (texts or {}).get(column)
        text = known if known is not None else cell_values.as_text(table[column])
        cells = pa.array(text, type=pa.string(), from_pandas=True)
        if not _may_hold_a_total(cells):
            continue
        # RE2 in C++ (pandas would run Python's re per cell for this pattern)
        matched = pc.match_substring_regex(cells, f"^(?:{_TOTAL_CELL.pattern})$")
        hit = (
            pd.Series(
                pc.fill_null(matched, False).to_numpy(zero_copy_only=False), index=table.index
            )
            & ~mask
        )
        if not hit.any():
            continue
        for pos in np.flatnonzero(hit.to_numpy()):
            found[int(pos)] = (column, str(text.iloc[pos]))
        mask |= hit
    return mask, found


def repeated(values: pd.Series) -> pd.Series:
    """``values.duplicated(keep="first")``: True for every occurrence of a value after its first.

    Text backed by Arrow is sorted instead of hashed: a stable sort groups equal values in
    row order, so each one equal to its predecessor in that order is a repeat. For a million
    ids this takes 0.06–0.1 s, where the hash table pandas builds takes 0.17–0.46 s.
    """
    if len(values) < 2 or not is_arrow_text(values.dtype):
        return values.duplicated(keep="first")
    strings = one_array(pa.array(values.array))
    n = len(strings)
    if strings.null_count == 0:
        # Ids numbered down the ledger are in increasing order already: one pass tells that
        # none repeats (6 ms for a million, against 0.1 s for the sort).
        increasing = pc.all(pc.less(strings.slice(0, n - 1), strings.slice(1)))
        if increasing.as_py():
            return pd.Series(np.zeros(n, dtype=bool), index=values.index)
    order = pc.sort_indices(strings)  # stable, nulls last
    ordered = strings.take(order)
    same = pc.equal(ordered.slice(1), ordered.slice(0, n - 1))
    # Missing values compare as unknown; pandas counts a second missing value as a repeat.
    both_missing = pc.and_(pc.is_null(ordered.slice(1)), pc.is_null(ordered.slice(0, n - 1)))
    later = pc.or_(pc.fill_null(same, False), both_missing).to_numpy(zero_copy_only=False)
    out = np.zeros(n, dtype=bool)
    out[order.to_numpy()[1:][later]] = True
    return pd.Series(out, index=values.index)


def _may_hold_a_total(cells: pa.Array | pa.ChunkedArray) -> bool:
    """Whether any cell could be a total: every word :data:`_TOTAL_CELL` knows has 计, or the
    letters of "total" or "sum". One scan of the column's bytes, which rules out a column of
    ids or names without the regular expression (0.08 s a million cells).

    The lowercase copy is made only for bytes holding a t or an s of either case: a column of
    Chinese names or of ids like ``B000-00000001`` has none (a million names: 58 ms against
    141 ms with the copy; a million ids: 14 ms against 53 ms).
    """
    for data in utf8_data(cells):
        octets = bytes(data)
        if "计".encode() in octets:
            return True
        if not any(letter in octets for letter in (b"t", b"T", b"s", b"S")):
            continue
        lowered = octets.lower()  # ASCII letters only; other bytes unchanged
        if b"total" in lowered or b"sum" in lowered:
            return True
    return False


def _row_ids(rows: pd.Series, project_ids: pd.Series, has_id: pd.Series) -> pd.Series:
    """Ids for rows without one: ``R`` and the row number, made unique against real ids
    (a ledger may itself use ``R2``): ``R2-2``, ``R2-3``…"""
    made = "R" + rows.astype(str)
    taken = set(project_ids[has_id].tolist())
    clash = ~has_id & made.isin(taken)
    for pos in np.flatnonzero(clash.to_numpy(dtype=bool)):
        base, k = made.iloc[int(pos)], 2
        while f"{base}-{k}" in taken:
            k += 1
        made.iloc[int(pos)] = f"{base}-{k}"
        taken.add(f"{base}-{k}")
    return made


def _not_a_coordinate(header: str, cells: _ByPosition) -> Callable[[int], str]:
    """The rejection reason of a coordinate cell that is not a coordinate, by row position."""
    return lambda i: f"{header} {cell_values.quoted(cells[i])} is not a coordinate"


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
                f"coordinate system {cell_values.quoted(value)} not recognised "
                "(use wgs84, cgcs2000, gcj02 or bd09)",
            )
    return systems

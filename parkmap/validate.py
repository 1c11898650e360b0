"""Row outcomes: every data row is mapped, mapped with a warning, or rejected with a reason.

Problems are collected for the whole file first and reported once, so a planner fixes a
spreadsheet in one pass instead of one error per run.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

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
    for rec in rejected.itertuples(index=False):
        column = f", column {rec.column}" if rec.column else ""
        lines.append((rec.row, f"{name}: {row_label} {rec.row}{column}: rejected: {rec.reason}"))
    if len(projects):
        mask = (projects["warnings"].astype(str) != "").to_numpy(dtype=bool)
        rows = projects["row"].to_numpy()[mask].tolist()
        texts = projects["warnings"].to_numpy(dtype=object)[mask].tolist()
        for row, text in zip(rows, texts, strict=True):
            lines.append((int(row), f"{name}: {row_label} {row}: warning: {text}"))
    return [text for _, text in sorted(lines, key=lambda item: item[0])]

"""Cells, ratios and the markdown table of a benchmark run."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, Literal

Kind = Literal["ok", "timeout", "skipped", "estimate"]

#: Text of a cell that was not measured.
DASH: Final = "—"


@dataclass(frozen=True)
class Cell:
    """One measurement.

    Attributes
    ----------
    value
        Seconds or bytes; for ``"estimate"`` the extrapolated value; ``None`` otherwise when
        nothing was measured.
    kind
        ``"ok"`` (measured), ``"timeout"`` (stopped at ``cap``), ``"skipped"`` (not run) or
        ``"estimate"`` (extrapolated, not run).
    cap
        The time limit, for ``"timeout"``.
    """

    value: float | None
    kind: Kind = "ok"
    cap: float | None = None

    @property
    def measured(self) -> bool:
        """True when the cell holds a measured value."""
        return self.kind == "ok" and self.value is not None


@dataclass(frozen=True)
class Row:
    """One tool at one size: generation time (s), HTML size (bytes), load and paint time (s)."""

    n: int
    tool: str
    generate: Cell
    html_bytes: Cell
    paint: Cell


def fmt_ratio(ratio: float) -> str:
    """Format a ratio: two decimals below 0.1, one below 10, none from 10 up (``"2.5×"``)."""
    if ratio >= 10:
        return f"{ratio:.0f}×"
    if ratio >= 0.1:
        return f"{ratio:.1f}×"
    return f"{ratio:.2f}×"


def fmt_seconds(cell: Cell) -> str:
    """Seconds with two decimals below 10 s and one above; timeouts and estimates spelled out."""
    if cell.kind == "timeout":
        return f"> {cell.cap:g} s (did not finish)"
    if cell.value is None or cell.kind == "skipped":
        return DASH
    if cell.kind == "estimate":
        return f"~{cell.value:.0f} (extrapolated, not run)"
    return f"{cell.value:.2f}" if cell.value < 10 else f"{cell.value:.1f}"


def fmt_megabytes(cell: Cell) -> str:
    """Bytes as MB (10⁶ bytes) with two decimals."""
    if not cell.measured:
        return DASH
    return f"{cell.value / 1e6:.2f}"


def fmt_vs(cell: Cell, base: Cell) -> str:
    """The ratio ``cell / base`` as text; ``"> r"`` for a timeout, ``"~r"`` for an estimate."""
    if not base.measured or base.value <= 0:
        return DASH
    if cell.kind == "timeout" and cell.cap is not None:
        return "> " + fmt_ratio(cell.cap / base.value)
    if cell.value is None or cell.kind == "skipped":
        return DASH
    text = fmt_ratio(cell.value / base.value)
    return "~" + text if cell.kind == "estimate" else text


def markdown_table(rows: Sequence[Row], *, base_tool: str = "parkmap") -> str:
    """The results as a markdown table, each ratio relative to ``base_tool`` at the same size.

    Parameters
    ----------
    rows
        Measurements; rows of the same ``n`` are compared with that size's ``base_tool`` row.
    base_tool
        Tool whose row is the denominator of the ratios.

    Returns
    -------
    str
        The table, one line per row, ending in a newline.
    """
    bases = {row.n: row for row in rows if row.tool == base_tool}
    lines = [
        "| projects | tool | generate (s) | × | HTML (MB) | × | load + paint (s) | × |",
        "|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    missing = Row(0, "", Cell(None, "skipped"), Cell(None, "skipped"), Cell(None, "skipped"))
    for row in rows:
        base = bases.get(row.n, missing)
        cells = (
            f"{row.n:,}",
            row.tool,
            fmt_seconds(row.generate),
            fmt_vs(row.generate, base.generate),
            fmt_megabytes(row.html_bytes),
            fmt_vs(row.html_bytes, base.html_bytes),
            fmt_seconds(row.paint),
            fmt_vs(row.paint, base.paint),
        )
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


#: parkmap's goals at 100,000 projects: build (s), map.html (bytes), load and paint (s).
TARGETS_100K: Final = (3.0, 5_000_000.0, 2.5)


def targets_line(row: Row, targets: tuple[float, float, float] = TARGETS_100K) -> str:
    """One line saying which of parkmap's goals ``row`` meets, e.g. ``build 2.10 s ≤ 3 s: met``."""
    parts = []
    for label, cell, goal, text in (
        ("build", row.generate, targets[0], lambda c: f"{fmt_seconds(c)} s"),
        ("map.html", row.html_bytes, targets[1], lambda c: f"{fmt_megabytes(c)} MB"),
        ("load + paint", row.paint, targets[2], lambda c: f"{fmt_seconds(c)} s"),
    ):
        goal_text = f"{goal / 1e6:g} MB" if label == "map.html" else f"{goal:g} s"
        verdict = "met" if cell.measured and cell.value <= goal else "not met"
        shown = text(cell) if cell.measured else fmt_seconds(cell)
        parts.append(f"{label} {shown} (goal ≤ {goal_text}): {verdict}")
    return "; ".join(parts)

"""Paper sizes and the figure and pixel sizes they imply."""

from __future__ import annotations

import math

from parkmap.errors import UsageError

#: ISO 216 sheets, (long side, short side) in millimetres.
PAPER_MM: dict[str, tuple[float, float]] = {"a4": (297.0, 210.0), "a3": (420.0, 297.0)}
ORIENTATIONS = ("landscape", "portrait")
MM_PER_INCH = 25.4


def paper_mm(paper: str, orientation: str) -> tuple[float, float]:
    """Width and height of the sheet in millimetres.

    Raises
    ------
    UsageError
        For an unknown paper or orientation.
    """
    key = str(paper).lower()
    if key not in PAPER_MM:
        raise UsageError(f"unknown paper {paper!r}; choose one of: {', '.join(PAPER_MM)}")
    if orientation not in ORIENTATIONS:
        raise UsageError(
            f"unknown orientation {orientation!r}; choose one of: {', '.join(ORIENTATIONS)}"
        )
    long, short = PAPER_MM[key]
    return (long, short) if orientation == "landscape" else (short, long)


def paper_inches(paper: str, orientation: str) -> tuple[float, float]:
    """Width and height of the sheet in inches (the figure size of PDF and SVG output)."""
    width, height = paper_mm(paper, orientation)
    return width / MM_PER_INCH, height / MM_PER_INCH


def pixel_size(paper: str, orientation: str, dpi: float) -> tuple[int, int]:
    """Pixel size of a raster of the sheet at ``dpi``, rounded to the nearest pixel.

    A4 landscape at 300 dpi is 297 mm × 210 mm = 3508 × 2480 px.
    """
    if not dpi > 0:
        raise UsageError(f"dpi must be positive, not {dpi!r}")
    width, height = paper_mm(paper, orientation)
    return round(width / MM_PER_INCH * dpi), round(height / MM_PER_INCH * dpi)


def raster_inches(pixels: int, dpi: float) -> float:
    """A figure size in inches that matplotlib's raster backend turns into exactly ``pixels``.

    The Agg backend truncates ``inches * dpi`` to an integer, so the size is nudged up by the
    smallest float step when ``pixels / dpi * dpi`` lands just below ``pixels``.
    """
    inches = pixels / dpi
    while int(inches * dpi) < pixels:
        inches = math.nextafter(inches, math.inf)
    return inches

"""Colours shared by the interactive map and the printed exports, so a status or industry looks
the same on screen and on paper."""

from __future__ import annotations

#: Marker colour per project status.
STATUS_COLORS: dict[str, str] = {
    "planned": "#ff7f00",
    "signed": "#984ea3",
    "under_construction": "#4daf4a",
    "in_production": "#377eb8",
    "unknown": "#999999",
}

#: Marker colours for the nine most common industries; everything else is :data:`OTHER_COLOR`.
INDUSTRY_COLORS: tuple[str, ...] = (
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#17becf",
    "#bcbd22",
)
OTHER_COLOR = "#9e9e9e"
NO_DATA_COLOR = "#d9d9d9"
#: Fill of a park with no project (none at all, or none passing the page's filters): a neutral
#: light grey, lighter than the no-data grey and no colour of the YlOrRd classes.
NO_PROJECTS_COLOR = "#f4f4f4"

#: The kinds of change the change map draws (``parkmap compare``), in legend order, each with
#: its colour and symbol (the same on the web map and in the bulletin): new projects a green
#: circle, status step-ups a blue triangle pointing up, step-backs an orange one pointing down,
#: removed projects a grey cross (drawn where the project was).
CHANGE_SYMBOLS: dict[str, tuple[str, str]] = {
    "new": ("#1a9850", "circle"),
    "up": ("#2166ac", "triangle-up"),
    "back": ("#e66101", "triangle-down"),
    "removed": ("#636363", "cross"),
}

#: Fills of the parks by investment added (``parkmap compare --color-by-added``), light to dark
#: green; a park with nothing added gets :data:`NO_DATA_COLOR`.
ADDED_COLORS: tuple[str, ...] = ("#c7e9c0", "#74c476", "#31a354", "#006d2c")

__all__ = [
    "ADDED_COLORS",
    "CHANGE_SYMBOLS",
    "INDUSTRY_COLORS",
    "NO_DATA_COLOR",
    "NO_PROJECTS_COLOR",
    "OTHER_COLOR",
    "STATUS_COLORS",
]

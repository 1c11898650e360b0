"""parkmap: map industrial parks and the investment projects in them.

The flow, one step per module::

    read.project_table → validate.validate_records → coords.records_to_wgs84
      (load.projects_from_file runs those three) and read.parks_from_file
      → join.join_projects_to_parks → metrics.park_summary → webmap.build_map → webmap.save_map

``pipeline.build`` runs the whole path and writes the outputs of ``parkmap build``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from parkmap.errors import InputError, ParkmapError, UsageError
from parkmap.settings import BuildOptions, InputOptions, MapOptions

if TYPE_CHECKING:
    from parkmap.join import join_projects_to_parks
    from parkmap.load import projects_from_file
    from parkmap.metrics import park_breakdown, park_summary
    from parkmap.pipeline import analyse, build
    from parkmap.read import parks_from_file, parks_from_files
    from parkmap.webmap import build_map, save_map

__version__ = "0.1.0"

__all__ = [
    "BuildOptions",
    "InputError",
    "InputOptions",
    "MapOptions",
    "ParkmapError",
    "UsageError",
    "__version__",
    "analyse",
    "build",
    "build_map",
    "join_projects_to_parks",
    "park_breakdown",
    "park_summary",
    "parks_from_file",
    "parks_from_files",
    "projects_from_file",
    "save_map",
]

_LAZY = {
    "join_projects_to_parks": "parkmap.join",
    "projects_from_file": "parkmap.load",
    "park_breakdown": "parkmap.metrics",
    "park_summary": "parkmap.metrics",
    "parks_from_file": "parkmap.read",
    "parks_from_files": "parkmap.read",
    "build_map": "parkmap.webmap",
    "save_map": "parkmap.webmap",
    "build": "parkmap.pipeline",
    "analyse": "parkmap.pipeline",
}


def __getattr__(name: str) -> Any:
    # Loaded when first asked for: importing the package (and `parkmap.cli`) stays light, so
    # the command can start its imports of pandas, GeoPandas and folium its own way.
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'parkmap' has no attribute {name!r}")

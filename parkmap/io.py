"""Temporary: the names export/ and cli still import while they move to read/, write, load."""

from parkmap.load import projects_from_file
from parkmap.read import bundled_path, context_from_file, parks_from_file, parks_from_files
from parkmap.read.tables import read_table
from parkmap.schema import match_headers
from parkmap.write import (
    atomic_write,
    atomic_writer,
    save_projects_geojson,
    save_rejected,
    save_table_csv,
)

__all__ = [
    "atomic_write",
    "atomic_writer",
    "bundled_path",
    "context_from_file",
    "match_headers",
    "parks_from_file",
    "parks_from_files",
    "projects_from_file",
    "read_table",
    "save_projects_geojson",
    "save_rejected",
    "save_table_csv",
]

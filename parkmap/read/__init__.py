"""The read stage: record files and park layers into tables.

:func:`project_table` gives a record file's cells as read (CSV in UTF-8 or GBK, Excel, Parquet,
point layers, database tables); :func:`parks_from_file` gives a park layer as WGS-84 polygons.
"""

from parkmap.read.database import is_database_source
from parkmap.read.database import source_label as database_label
from parkmap.read.parks import bundled_path, context_from_file, parks_from_file, parks_from_files
from parkmap.read.tables import RawTable, decode_text, project_table, read_table

__all__ = [
    "RawTable",
    "bundled_path",
    "context_from_file",
    "database_label",
    "decode_text",
    "is_database_source",
    "parks_from_file",
    "parks_from_files",
    "project_table",
    "read_table",
]

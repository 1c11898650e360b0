"""The write stage: every output file, written atomically.

A file is written to a temporary name in its folder and renamed when complete, so a reader (or
a planner opening it in Excel) never sees half an output.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO, Final, TextIO

import geopandas as gpd
import numpy as np
import pandas as pd
from pandas.api.types import is_bool_dtype, is_datetime64_any_dtype, is_numeric_dtype

from parkmap.geojson_out import write_point_features
from parkmap.settings import WGS84
from parkmap.validate import REJECTED_COLUMNS

#: Projects encoded per chunk when writing GeoJSON.
GEOJSON_CHUNK: Final = 50_000


@contextmanager
def _replacing(path: str | os.PathLike[str]) -> Iterator[int]:
    """A descriptor of a new temporary file beside ``path`` that replaces it when the block
    succeeds, and is removed when it fails; readers never see a half-written output."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        yield fd
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp creates 0600; give the usual file mode
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@contextmanager
def atomic_writer(path: str | os.PathLike[str]) -> Iterator[TextIO]:
    """A text handle (UTF-8, ``\n`` line ends) whose content replaces ``path`` only when the
    block succeeds."""
    with _replacing(path) as fd, os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
        yield fh


@contextmanager
def atomic_binary_writer(path: str | os.PathLike[str]) -> Iterator[BinaryIO]:
    """A binary handle whose content replaces ``path`` only when the block succeeds."""
    with _replacing(path) as fd, os.fdopen(fd, "wb") as fh:
        yield fh


def atomic_write(path: str | os.PathLike[str], data: str | bytes) -> Path:
    """Write a file atomically: a temporary file in the same folder, then a rename."""
    if isinstance(data, str):
        with atomic_writer(path) as text:
            text.write(data)
    else:
        with atomic_binary_writer(path) as binary:
            binary.write(data)
    return Path(path)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


#: First characters that make a spreadsheet read a cell as a formula (OWASP's CSV-injection
#: list): ``=``, ``+``, ``-``, ``@``, tab and carriage return.
FORMULA_STARTS: Final = ("=", "+", "-", "@", "\t", "\r")
#: A cell that is a plain number: safe to leave as it is even when it starts with ``-`` or ``+``.
_PLAIN_NUMBER: Final = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")
#: Byte-order mark: Excel on Chinese Windows reads a CSV as UTF-8 only when it starts with one.
CSV_BOM: Final = "\ufeff"


def neutralise_text(value: str) -> str:
    """``value`` as text a spreadsheet will not evaluate: a cell that starts like a formula gets
    a leading ``'`` (which Excel, LibreOffice and WPS show as text); plain numbers stay."""
    if value.startswith(FORMULA_STARTS) and not _PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value


def spreadsheet_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with every text cell neutralised (:func:`neutralise_text`); number, date and
    boolean columns are left as they are, so they stay numbers in the spreadsheet."""
    out = frame.copy()
    for column in out.columns:
        series = out[column]
        if is_numeric_dtype(series) or is_datetime64_any_dtype(series) or is_bool_dtype(series):
            continue
        out[column] = series.map(lambda v: neutralise_text(v) if isinstance(v, str) else v)
    return out


def _csv_text(frame: pd.DataFrame) -> str:
    return CSV_BOM + spreadsheet_safe(frame).to_csv(index=False, lineterminator="\n")


def save_table_csv(frame: pd.DataFrame, path: str | os.PathLike[str]) -> Path:
    """Write a table as CSV for spreadsheets: UTF-8 with a byte-order mark (so Excel on Chinese
    Windows reads it as UTF-8), text cells that would start a formula neutralised."""
    return atomic_write(path, _csv_text(frame))


def save_rejected(rejected: pd.DataFrame, path: str | os.PathLike[str]) -> Path:
    """Write ``rejected.csv``: ``row, column, reason, project_id, name`` (header only if none)."""
    return atomic_write(path, _csv_text(rejected.reindex(columns=REJECTED_COLUMNS)))


def save_projects_geojson(projects: gpd.GeoDataFrame, path: str | os.PathLike[str]) -> Path:
    """Write the mapped projects as RFC 7946 GeoJSON (WGS-84, dates as ISO strings)."""
    frame = projects.to_crs(WGS84) if projects.crs and not projects.crs.equals(WGS84) else projects
    props = pd.DataFrame(frame.drop(columns=frame.geometry.name))
    with atomic_binary_writer(path) as fh:
        write_point_features(fh, props, np.asarray(frame.geometry.array), chunk_rows=GEOJSON_CHUNK)
    return Path(path)

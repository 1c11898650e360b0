"""The write stage: every output file, written atomically, and a command's files as a set.

A file is written to a temporary name in its folder and renamed when complete, so a reader (or
a planner opening it in Excel) never sees half an output. A command writes its whole set into a
staging folder beside the outputs and moves the files into place only when every one is
finished (:func:`staged_outputs`), so a failure midway never leaves new files next to old ones.
"""

from __future__ import annotations

import errno
import os
import re
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import BinaryIO, Final, TextIO

import geopandas as gpd
import numpy as np
import pandas as pd
from pandas.api.types import is_bool_dtype, is_datetime64_any_dtype, is_numeric_dtype

from parkmap.errors import OutputError
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


#: Prefix of the staging folder :func:`staged_outputs` makes inside the output folder.
STAGING_PREFIX: Final = ".parkmap-tmp-"


class Staging:
    """The staging folder of one command's outputs, and where its files end up.

    Attributes
    ----------
    path
        The staging folder (``out/.parkmap-tmp-XXXX``): write every output here.
    out
        The output folder the files move to when all of them are written.
    """

    def __init__(self, path: Path, out: Path) -> None:
        self.path = path
        self.out = out

    def final(self, path: str | os.PathLike[str]) -> Path:
        """Where a file written under :attr:`path` will be once moved into :attr:`out`."""
        return self.out / Path(path).relative_to(self.path)

    def finals(self, files: Mapping[str, Path]) -> dict[str, Path]:
        """:meth:`final` of every path of a ``{name: path}`` mapping."""
        return {name: self.final(path) for name, path in files.items()}


def cannot_write(out: str | os.PathLike[str], exc: OSError) -> OutputError:
    """The one-line error for an output folder that refuses a write.

    Parameters
    ----------
    out
        The output folder.
    exc
        The error the system gave, such as ``PermissionError`` or ``OSError(ENOSPC)``.

    Returns
    -------
    OutputError
        "cannot write to out/: Permission denied" (``strerror``, or the error's text).
    """
    reason = exc.strerror or (errno.errorcode.get(exc.errno or 0) if exc.errno else None)
    return OutputError(f"cannot write to {Path(out)}{os.sep}: {reason or exc}")


@contextmanager
def staged_outputs(out: str | os.PathLike[str]) -> Iterator[Staging]:
    """Write a set of outputs all at once: into a staging folder, then moved into ``out``.

    ``out`` is created when missing; the staging folder is made inside it (the same file
    system, so each move is a rename, never a copy). When the block succeeds every file under
    the staging folder replaces its namesake in ``out`` (subfolders such as ``plots/`` kept);
    files in ``out`` the block did not write are left alone. When the block fails nothing in
    ``out`` changes and the staging folder is removed (and ``out`` too, if it was created here
    and is still empty).

    Parameters
    ----------
    out
        The output folder.

    Yields
    ------
    Staging
        The staging folder to write into; :meth:`Staging.finals` maps the paths written to
        their places in ``out``.

    Raises
    ------
    OutputError
        When ``out`` cannot be created or written to (permissions, a file in the way, a full
        disk): one line naming the folder.
    """
    out = Path(out)
    created = not out.exists()
    try:
        out.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(dir=out, prefix=STAGING_PREFIX))
    except OSError as exc:
        raise cannot_write(out, exc) from None
    try:
        try:
            yield Staging(staging, out)
            _move_into(staging, out)
        except OutputError:
            raise  # already one line (a staging folder inside this one)
        except OSError as exc:
            raise cannot_write(out, exc) from None
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        if created:
            _remove_if_empty(out)
        raise
    shutil.rmtree(staging, ignore_errors=True)


def _move_into(staging: Path, out: Path) -> None:
    """Rename every file under ``staging`` to the same place under ``out``."""
    for folder, _, names in os.walk(staging):
        target = out / Path(folder).relative_to(staging)
        target.mkdir(exist_ok=True)
        for name in sorted(names):
            os.replace(Path(folder) / name, target / name)


def _remove_if_empty(folder: Path) -> None:
    with suppress(OSError):
        folder.rmdir()


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

"""Exceptions raised by parkmap.

Every error a user can cause derives from :class:`ParkmapError`; the CLI turns those into a
one-line ``Error: …`` message with exit status 2. Anything else is a bug (exit status 1).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


class ParkmapError(Exception):
    """Base class for errors caused by input or usage, not by a bug."""


class InputError(ParkmapError, ValueError):
    """A file cannot be read, or its content cannot be used (names file, row and column)."""


class UsageError(ParkmapError, ValueError):
    """An option or argument has a value parkmap cannot use."""


class MissingDependencyError(ParkmapError, ImportError):
    """An optional dependency is not installed; the message gives the ``pip install`` line."""


class OutputError(ParkmapError, OSError):
    """An output cannot be written: a read-only or missing folder, a full disk.

    Nothing of the command's output set was left behind (see :func:`parkmap.write.staged_outputs`).
    """


class NothingMappedError(InputError):
    """Not one row of a project file could be mapped.

    Raised after the outputs that still make sense (``rejected.csv`` first of all) were
    written, so the caller can show the row outcomes before the error.

    Parameters
    ----------
    message
        One line naming the file, how many rows were rejected and where the list is.
    analysis
        The :class:`parkmap.analysis.Analysis` of the inputs, with every rejected row.
    files
        Paths written, by name (``rejected`` at least when an output folder was given).
    """

    def __init__(
        self, message: str, *, analysis: Any = None, files: dict[str, Path] | None = None
    ) -> None:
        super().__init__(message)
        self.analysis = analysis
        self.files: dict[str, Path] = dict(files or {})

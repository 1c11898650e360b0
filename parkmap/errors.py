"""Exceptions raised by parkmap.

Every error a user can cause derives from :class:`ParkmapError`; the CLI turns those into a
one-line ``Error: …`` message with exit status 2. Anything else is a bug (exit status 1).
"""

from __future__ import annotations


class ParkmapError(Exception):
    """Base class for errors caused by input or usage, not by a bug."""


class InputError(ParkmapError, ValueError):
    """A file cannot be read, or its content cannot be used (names file, row and column)."""


class UsageError(ParkmapError, ValueError):
    """An option or argument has a value parkmap cannot use."""


class MissingDependencyError(ParkmapError, ImportError):
    """An optional dependency is not installed; the message gives the ``pip install`` line."""

"""Progress bars for long steps: shown on a terminal, silent when output is piped or captured."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console


def _console() -> Console:
    from rich.console import Console

    return Console(file=sys.stderr)


def _surely_not_a_terminal() -> bool:
    """Whether stderr is piped or captured and neither variable that makes rich draw there
    anyway (``FORCE_COLOR``, ``TTY_COMPATIBLE=1``) is set: then rich, 30 ms to import, is
    not loaded at all."""
    try:
        interactive = sys.stderr.isatty()
    except (AttributeError, ValueError):  # replaced by an object without it, or closed
        return False
    forced = os.environ.get("FORCE_COLOR") or os.environ.get("TTY_COMPATIBLE") == "1"
    return not interactive and not forced


@contextmanager
def progress_bar(label: str, *, enabled: bool | None = None) -> Iterator[Callable[..., None]]:
    """A progress bar on stderr; yields ``update(done, total=None, label=None)``.

    Parameters
    ----------
    label
        What the step is doing.
    enabled
        Force the bar on or off; by default it shows only when stderr is a terminal, so logs,
        pipes and CI output stay clean.
    """
    if enabled is None:
        enabled = not _surely_not_a_terminal() and _console().is_terminal
    if not enabled:
        yield lambda done, total=None, label=None: None
        return
    from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=_console(),
        transient=True,
    ) as bar:
        task = bar.add_task(label, total=None)

        def update(done: int, total: int | None = None, label: str | None = None) -> None:
            bar.update(task, completed=done, total=total, description=label or label_now[0])
            label_now[0] = label or label_now[0]

        label_now = [label]

        yield update

"""Progress bars for long steps: shown on a terminal, silent when output is piped or captured."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn


def _console() -> Console:
    return Console(file=sys.stderr)


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
    console = _console()
    if enabled is None:
        enabled = console.is_terminal
    if not enabled:
        yield lambda done, total=None, label=None: None
        return
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as bar:
        task = bar.add_task(label, total=None)

        def update(done: int, total: int | None = None, label: str | None = None) -> None:
            bar.update(task, completed=done, total=total, description=label or label_now[0])
            label_now[0] = label or label_now[0]

        label_now = [label]

        yield update

"""Compile parkmap and the benchmark workers to bytecode before anything is timed.

An installed wheel is compiled when pip installs it, and the third-party packages every tool
imports were too. A source checkout whose environment sets ``PYTHONDONTWRITEBYTECODE`` (as
some CI images and sandboxes do) would otherwise compile parkmap's modules from source in
every timed process — a quarter of a second at start-up that no user of the package pays,
and that the tools it is compared with never pay.
"""

from __future__ import annotations

import compileall
from pathlib import Path

HERE = Path(__file__).resolve().parent


def compile_workers() -> None:
    """Write the ``__pycache__`` of parkmap and of this folder (nothing when up to date)."""
    import parkmap

    for folder in (Path(parkmap.__file__).resolve().parent, HERE):
        compileall.compile_dir(folder, quiet=1)

"""The notebooks run from top to bottom against the installed library."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = Path(__file__).parent.parent / "notebooks"


def execute(path: Path, cwd: Path) -> nbformat.NotebookNode:
    """Run a notebook in ``cwd``; nbclient raises on the first cell that fails."""
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(
        notebook, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(cwd)}}
    )
    client.execute()
    return notebook


@pytest.mark.slow
def test_quickstart_runs_and_writes_its_outputs(tmp_path):
    execute(NOTEBOOKS / "01_quickstart.ipynb", tmp_path)
    assert (tmp_path / "quickstart-map.html").stat().st_size > 10_000
    written = sorted(p.name for p in (tmp_path / "quickstart-maps").iterdir())
    assert written == [
        "map.html",
        "parks.csv",
        "projects.geojson",
        "projects.parquet",
        "rejected.csv",
    ]

"""The package installs from a wheel with its bundled data and assets."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent


@pytest.mark.slow
def test_wheel_carries_bundled_data(tmp_path):
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--quiet",
            "-w",
            str(tmp_path),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("parkmap-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for needed in (
        "parkmap/geodata/parks.geojson",
        "parkmap/geodata/context.geojson",
        "parkmap/geodata/projects.csv",
        "parkmap/geodata/make_demo_projects.py",
        "parkmap/cli.py",
    ):
        assert needed in names
    assert any(n.startswith("parkmap/webmap/") and n.endswith(".js") for n in names)

"""The package installs from a wheel with its bundled data and assets, and runs from it.

The wheel is built from a copy of the working tree (without ``build/``, ``.venv`` or
``*.egg-info``), so it holds what a fresh clone would build: a stale ``build/lib`` in the
checkout can neither hide a forgotten file nor leak a deleted one.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pdfplumber
import pytest

ROOT = Path(__file__).parent.parent
PACKAGE = ROOT / "parkmap"

#: Files under parkmap/ that must ship: code, the page's assets, the bundled demo layers.
SHIPPED_SUFFIXES = (".py", ".js", ".css", ".geojson", ".csv")

#: Left out of the copy the wheel is built from.
NOT_SOURCE = shutil.ignore_patterns(
    ".git",
    ".venv",
    "build",
    "dist",
    "*.egg-info",
    "__pycache__",
    ".pytest_cache",
    ".ruff_cache",
    "maps",
)

#: Prints where parkmap is imported from, and the venv's site-packages.
WHERE = "import sysconfig, parkmap; print(parkmap.__file__); print(sysconfig.get_path('purelib'))"

#: Seconds a pip or parkmap subprocess may take before the test fails instead of hanging.
TIMEOUT = 900


def _env(tmp: Path) -> dict[str, str]:
    """This environment, with pip's version check off and a fresh matplotlib cache (as on a
    new machine: a cached font list from the checkout's venv must not find fonts for it)."""
    mpl = tmp / "mplconfig"
    mpl.mkdir(exist_ok=True)
    return {**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1", "MPLCONFIGDIR": str(mpl)}


def _run(args: list[str | Path], *, cwd: Path, env: dict[str, str]) -> str:
    """Run ``args``; on a non-zero exit fail with its output. Returns stdout + stderr."""
    done = subprocess.run(
        [str(a) for a in args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, f"{' '.join(map(str, args))} exited {done.returncode}:\n{output}"
    return output


def _source_files() -> set[str]:
    """Wheel paths of every file under parkmap/ that must ship."""
    return {
        path.relative_to(ROOT).as_posix()
        for path in PACKAGE.rglob("*")
        if path.is_file()
        and path.suffix in SHIPPED_SUFFIXES
        and "__pycache__" not in path.relative_to(ROOT).parts
    }


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The wheel ``pip wheel`` builds from a clean copy of the working tree."""
    tmp = tmp_path_factory.mktemp("wheel")
    source = tmp / "source"
    shutil.copytree(ROOT, source, ignore=NOT_SOURCE)
    dist = tmp / "dist"
    _run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", dist, source],
        cwd=tmp,
        env=_env(tmp),
    )
    (built,) = dist.glob("parkmap-*.whl")
    return built


@pytest.mark.slow
def test_wheel_carries_every_subpackage_and_bundled_data(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    subpackages = {
        path.parent.relative_to(ROOT).as_posix()
        for path in PACKAGE.rglob("__init__.py")
        if "__pycache__" not in path.parts
    }
    # the walk found the tree (not an empty or wrong folder)
    assert {"parkmap", "parkmap/export", "parkmap/cluster", "parkmap/webmap"} <= subpackages
    for package in sorted(subpackages):
        assert f"{package}/__init__.py" in names
    for needed in (
        "parkmap/geodata/parks.geojson",
        "parkmap/geodata/context.geojson",
        "parkmap/geodata/projects.csv",
        "parkmap/geodata/make_demo_projects.py",
        "parkmap/cli.py",
        "parkmap/webmap/js/main.js",
        "parkmap/webmap/parkmap.css",
    ):
        assert needed in names
    # every module (also one in a folder someone forgot to give an __init__.py), every asset
    # and data file under parkmap/, so a new one cannot be left out of the wheel
    assert sorted(_source_files() - names) == []
    assert any(n.endswith(".dist-info/entry_points.txt") for n in names)


@pytest.mark.slow
def test_installed_wheel_runs_the_demo_outside_the_checkout(wheel, tmp_path):
    """A new venv (no system site-packages), the wheel with its dependencies, and the three
    commands on the bundled demo, run from a folder outside the source tree."""
    env = _env(tmp_path)
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", venv], cwd=tmp_path, env=env)
    python, parkmap = venv / "bin" / "python", venv / "bin" / "parkmap"
    _run([python, "-m", "pip", "install", "--quiet", wheel], cwd=tmp_path, env=env)

    where = _run([python, "-c", WHERE], cwd=tmp_path, env=env)
    module, purelib = (Path(line).resolve() for line in where.split())
    assert module.is_relative_to(purelib), module
    assert module.is_relative_to(venv.resolve())
    assert not module.is_relative_to(ROOT.resolve())

    parks = json.loads((PACKAGE / "geodata" / "parks.geojson").read_text(encoding="utf-8"))
    names_zh = [feature["properties"]["name_zh"] for feature in parks["features"]]

    _run([parkmap, "build", "--out", "A"], cwd=tmp_path, env=env)
    for name in ("map.html", "parks.csv", "projects.parquet", "projects.geojson", "rejected.csv"):
        assert (tmp_path / "A" / name).stat().st_size > 0, name
    page = (tmp_path / "A" / "map.html").read_text(encoding="utf-8")
    assert "L.map(" in page  # Leaflet is inlined, not fetched
    for name in names_zh:
        assert name in page

    log = _run([parkmap, "export", "--out", "B"], cwd=tmp_path, env=env)
    for name in ("map.pdf", "atlas.pdf", "map.png", "map.svg", "parks.xlsx", "projects.gpkg"):
        assert (tmp_path / "B" / name).stat().st_size > 0, name
    # the Chinese font comes with the install (a pip dependency), not from the system
    assert "no Chinese font" not in log, log
    with pdfplumber.open(tmp_path / "B" / "map.pdf") as pdf:
        text = "".join(page.extract_text() or "" for page in pdf.pages)
    for name in names_zh:
        assert name in text
    with pdfplumber.open(tmp_path / "B" / "atlas.pdf") as pdf:
        assert len(pdf.pages) == 2 + len(names_zh)  # cover, overview, one page per park

    _run([parkmap, "cluster", "--out", "C"], cwd=tmp_path, env=env)
    for name in (
        "clusters.csv",
        "clusters.geojson",
        "hotspots.geojson",
        "stats.json",
        "summary.md",
        "map.html",
    ):
        assert (tmp_path / "C" / name).stat().st_size > 0, name
    assert list((tmp_path / "C" / "plots").glob("ripley_*.png"))
    json.loads((tmp_path / "C" / "stats.json").read_text(encoding="utf-8"))

"""Columnar input, the Dask engine (on a LocalCluster) and progress output."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from parkmap import load, metrics, pipeline, read
from parkmap.cli import main
from parkmap.progress import progress_bar


@pytest.fixture(scope="module")
def records():
    """The bundled demo records, four times over with fresh ids, plus bad rows."""
    base = pd.read_csv(read.bundled_path("projects.csv"))
    frames = []
    for copy in range(4):
        part = base.copy()
        part["project_id"] = part["project_id"] + f"-{copy}"
        part["lon"] = part["lon"] + copy * 1e-4
        frames.append(part)
    table = pd.concat(frames, ignore_index=True)
    table["signed_date"] = pd.to_datetime(table["signed_date"])
    table.loc[7, "lon"] = np.nan  # rejected: missing coordinate
    table.loc[400, "project_id"] = table.loc[3, "project_id"]  # rejected: repeated id, other part
    table.loc[500, "investment_100m_cny"] = -1.0  # rejected: negative
    table["extra_notes"] = "not needed"
    return table


@pytest.fixture(scope="module")
def parquet_parts(records, tmp_path_factory):
    folder = tmp_path_factory.mktemp("parts")
    for i, chunk in enumerate(np.array_split(np.arange(len(records)), 4)):
        records.iloc[chunk].to_parquet(folder / f"part.{i}.parquet", index=False)
    return folder


def test_parquet_and_geoparquet_read_like_csv(records, tmp_path):
    csv = tmp_path / "p.csv"
    records.drop(columns="extra_notes").to_csv(csv, index=False)
    parquet = tmp_path / "p.parquet"
    records.to_parquet(parquet, index=False)
    geo = gpd.GeoDataFrame(
        records.drop(columns=["lon", "lat"]),
        geometry=gpd.points_from_xy(records["lon"], records["lat"]),
        crs="EPSG:4326",
    )
    geoparquet = tmp_path / "p.geoparquet"
    geo.to_parquet(geoparquet, index=False)
    from_csv = load.projects_from_file(csv)
    for path in (parquet, geoparquet):
        loaded = load.projects_from_file(path)
        assert loaded.row_label == "record"
        assert "extra_notes" not in loaded.projects.columns  # only the needed columns are read
        assert loaded.rejected["row"].tolist() == [r - 1 for r in from_csv.rejected["row"]]
        ok = loaded.projects
        np.testing.assert_allclose(ok["lon"], from_csv.projects["lon"].to_numpy(), atol=1e-12)
        np.testing.assert_allclose(
            ok["investment_100m_cny"].to_numpy(),
            from_csv.projects["investment_100m_cny"].to_numpy(),
        )
        assert ok["signed_date"].equals(from_csv.projects["signed_date"])


@pytest.mark.slow
def test_dask_engine_writes_every_output_of_the_memory_engine(records, parquet_parts, tmp_path):
    """On a LocalCluster (distributed) with four partitions: map, project tables, parks and
    rejected rows, the same as the in-memory engine's."""
    memory_out, dask_out = tmp_path / "memory", tmp_path / "dask"
    runner = CliRunner()
    result = runner.invoke(
        main, ["build", "--projects", str(parquet_parts), "--out", str(memory_out)]
    )
    assert result.exit_code == 0, result.output
    result = runner.invoke(
        main,
        ["build", "--engine", "dask", "--projects", str(parquet_parts), "--out", str(dask_out)],
    )
    assert result.exit_code == 0, result.output
    assert "rejected 3" in result.output
    assert (memory_out / "parks.csv").read_bytes() == (dask_out / "parks.csv").read_bytes()
    assert (memory_out / "rejected.csv").read_bytes() == (dask_out / "rejected.csv").read_bytes()
    rejected = pd.read_csv(dask_out / "rejected.csv")
    assert rejected["row"].tolist() == [8, 401, 501]
    assert "first at record 4" in rejected.loc[1, "reason"]
    # And the figures are the in-memory engine's own: recomputed here from the same records.
    analysis = pipeline.analyse(parquet_parts)
    expected = metrics.parks_table(analysis.parks)
    assert pd.read_csv(dask_out / "parks.csv")["projects"].tolist() == expected["projects"].tolist()

    names = ["map.html", "parks.csv", "projects.geojson", "projects.parquet", "rejected.csv"]
    assert sorted(p.name for p in dask_out.iterdir()) == names
    assert sorted(p.name for p in memory_out.iterdir()) == names
    # The project table: the same rows (in the same order: partition order is file order).
    memory_rows = gpd.read_parquet(memory_out / "projects.parquet")
    dask_rows = gpd.read_parquet(dask_out / "projects.parquet")
    assert len(dask_rows) == len(records) - 3 == len(analysis.projects)
    assert list(dask_rows.columns) == list(memory_rows.columns)
    assert dask_rows.crs.equals("EPSG:4326")
    pd.testing.assert_frame_equal(
        pd.DataFrame(dask_rows.drop(columns="geometry")),
        pd.DataFrame(memory_rows.drop(columns="geometry")),
    )
    assert dask_rows.geometry.geom_equals_exact(memory_rows.geometry, 0).all()
    # Points as the records give them, read back by geopandas from the file alone.
    expected_lon = records.drop(index=[7, 400, 500])["lon"].to_numpy()
    np.testing.assert_array_equal(dask_rows.geometry.x.to_numpy(), expected_lon)
    geojson = (dask_out / "projects.geojson").read_bytes()
    assert geojson == (memory_out / "projects.geojson").read_bytes()
    # The map: the same projects, parks and legend counts; park sums may differ in the last
    # digit (the Dask engine adds per partition).
    dask_page = (dask_out / "map.html").read_text(encoding="utf-8")
    memory_page = (memory_out / "map.html").read_text(encoding="utf-8")
    for function in ("projectsLayer", "parksLayer", "addLegend", "addFilters"):
        assert _numbers_rounded(_call(dask_page, function)) == _numbers_rounded(
            _call(memory_page, function)
        ), function
    assert _call(dask_page, "projectsLayer")["n"] == len(dask_rows)


def _call(html: str, function: str) -> dict:
    """The JSON argument of ``parkmap.<function>(map_…, {…})`` in a page (packed blocks read
    from the page's data blocks, whose ids differ from page to page)."""
    import json
    import re

    from parkmap.webmap.payloads import inline_blocks

    match = re.search(rf"parkmap\.{function}\(\s*map_\w+,\s*(.+?)\);\n", html)
    assert match, f"no parkmap.{function} call"
    return inline_blocks(json.loads(match.group(1)), html)


def _numbers_rounded(value, digits: int = 6):
    """``value`` with every float rounded to ``digits`` significant digits."""
    if isinstance(value, dict):
        return {k: _numbers_rounded(v, digits) for k, v in value.items()}
    if isinstance(value, list):
        return [_numbers_rounded(v, digits) for v in value]
    if isinstance(value, float):
        return float(f"{value:.{digits}g}")
    return value


def test_dask_engine_needs_projects():
    result = CliRunner().invoke(main, ["build", "--engine", "dask"])
    assert result.exit_code == 2
    assert "--engine dask needs --projects" in result.output


def test_progress_is_quiet_when_not_a_terminal(capsys):
    with progress_bar("working") as update:
        update(1, 2, "half")
        update(2, 2)
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""


def test_a_piped_build_does_not_load_rich(tmp_path):
    """With stderr piped (a log, CI, a benchmark) no bar is drawn and rich is not imported."""
    import os
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from parkmap.progress import progress_bar\n"
        "with progress_bar('working') as update:\n"
        "    update(1, 2)\n"
        "print('rich' in sys.modules)\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "TTY_COMPATIBLE")}
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    assert done.stdout.strip() == "False" and done.stderr == ""


def test_rich_decides_when_a_variable_forces_drawing(monkeypatch):
    """``FORCE_COLOR`` or ``TTY_COMPATIBLE=1`` make rich draw on a pipe: rich is asked."""
    from parkmap import progress

    asked = []

    class Console:
        is_terminal = False

        def __init__(self):
            asked.append(True)

    monkeypatch.setattr(progress, "_console", Console)
    for name, value in (("FORCE_COLOR", "1"), ("TTY_COMPATIBLE", "1")):
        monkeypatch.delenv("FORCE_COLOR", raising=False)
        monkeypatch.delenv("TTY_COMPATIBLE", raising=False)
        monkeypatch.setenv(name, value)
        with progress_bar("working") as update:
            update(1, 2)
    assert len(asked) == 2
    monkeypatch.delenv("TTY_COMPATIBLE")
    with progress_bar("working") as update:  # nothing forces it: rich is not asked
        update(1, 2)
    assert len(asked) == 2


def test_progress_draws_when_forced(capsys):
    with progress_bar("working", enabled=True) as update:
        update(1, 2, "half way")
    # rich writes to the real stderr; forcing it on must not fail or raise.
    assert capsys.readouterr().out == ""


@pytest.mark.slow
def test_dask_engine_with_nothing_mapped_writes_everything_then_fails(records, tmp_path):
    folder = tmp_path / "parts"
    folder.mkdir()
    bad = records.head(12).assign(lon=np.nan)
    bad.iloc[:6].to_parquet(folder / "a.parquet", index=False)
    bad.iloc[6:].to_parquet(folder / "b.parquet", index=False)
    out = tmp_path / "out"
    result = CliRunner().invoke(
        main, ["build", "--engine", "dask", "--projects", str(folder), "--out", str(out)]
    )
    assert result.exit_code == 2, result.output
    assert "no row could be mapped (12 rejected)" in result.output
    assert len(pd.read_csv(out / "rejected.csv")) == 12
    assert len(gpd.read_parquet(out / "projects.parquet")) == 0
    assert (out / "map.html").is_file() and (out / "parks.csv").is_file()

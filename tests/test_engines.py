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
def test_dask_engine_gives_identical_parks_csv(parquet_parts, tmp_path):
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


def test_progress_draws_when_forced(capsys):
    with progress_bar("working", enabled=True) as update:
        update(1, 2, "half way")
    # rich writes to the real stderr; forcing it on must not fail or raise.
    assert capsys.readouterr().out == ""

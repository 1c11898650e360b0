"""A 100,000-row ledger, built end to end by the installed command, checked against geopandas.

Small test files never reach the paths a real ledger takes: Arrow reads a CSV past 1 MiB in
several blocks, the GeoJSON writer encodes in batches, the page packs in pieces. The 12 MB
ledger here takes all of them; per-park counts and sums are checked against a plain geopandas
``sjoin`` + ``groupby`` of the same rows.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest

from benchmarks import synthetic
from parkmap.read import bundled_path

ROWS = 100_000


@pytest.fixture(scope="module")
def big_build(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("size")
    ledger = synthetic.write_projects_csv(folder / "ledger.csv", ROWS)
    out = folder / "out"
    command = [sys.executable, "-m", "parkmap.cli", "build", str(ledger), "--out", str(out)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, cwd=folder)
    assert done.returncode == 0, done.stderr[-2000:]
    return ledger, out


@pytest.mark.slow
def test_ledger_is_past_one_arrow_block(big_build):
    ledger, _ = big_build
    assert ledger.stat().st_size > 8 * 2**20  # Arrow's CSV blocks are 1 MiB


@pytest.mark.slow
def test_every_row_is_mapped_or_rejected(big_build):
    _, out = big_build
    features = json.loads((out / "projects.geojson").read_text(encoding="utf-8"))["features"]
    rejected = pd.read_csv(out / "rejected.csv")
    assert len(features) + len(rejected) == ROWS
    assert len({f["properties"]["project_id"] for f in features}) == len(features)


@pytest.mark.slow
def test_park_totals_match_geopandas(big_build):
    ledger, out = big_build
    rows = pd.read_csv(ledger, dtype={"总投资(万元)": float})
    points = gpd.GeoDataFrame(
        rows, geometry=gpd.points_from_xy(rows["经度"], rows["纬度"]), crs="EPSG:4326"
    )
    parks = gpd.read_file(bundled_path("parks.geojson"))[["park_id", "name_zh", "geometry"]]
    inside = gpd.sjoin(points, parks[["park_id", "geometry"]], predicate="intersects")
    # The declared-park rule: a point in no park (coordinates rounded to six decimals can put
    # one a few centimetres outside a small park) that declares a park (所属园区) within 5 km of
    # it counts there; the distance by geopandas in CGCS2000 / Gauss–Krüger zone 40.
    rest = points[~points.index.isin(inside.index)]
    declared = rest.merge(parks, left_on="所属园区", right_on="name_zh", suffixes=("", "_park"))
    gap = (
        gpd.GeoSeries(declared["geometry"], crs=4326)
        .to_crs(4549)
        .distance(gpd.GeoSeries(declared["geometry_park"], crs=4326).to_crs(4549))
    )
    near = declared[(gap <= 5000).to_numpy()]
    columns = ["park_id", "项目编号", "总投资(万元)"]
    counted = pd.concat([inside[columns], near[columns]])
    expected = counted.groupby("park_id").agg(
        projects=("项目编号", "size"), investment=("总投资(万元)", "sum")
    )
    table = pd.read_csv(out / "parks.csv").set_index("park_id")
    for park_id, row in expected.iterrows():
        assert table.loc[park_id, "projects"] == row["projects"], park_id
        # the ledger is in 万元, parks.csv in 亿元 (1 亿 = 10,000 万); parks.csv keeps 5 decimals
        assert table.loc[park_id, "investment_100m_cny"] == pytest.approx(
            row["investment"] / 1e4, abs=1e-4
        ), park_id
    assert set(table.index[table["projects"] > 0]) == set(expected.index)


@pytest.mark.slow
def test_page_stays_small(big_build):
    _, out = big_build
    size = (out / "map.html").stat().st_size
    assert size <= 5 * 2**20
    # the page is one file: no script or stylesheet fetched from elsewhere
    html = (out / "map.html").read_text(encoding="utf-8")
    assert "<script src=" not in html

"""Smoke tests of the benchmark helpers: the synthetic ledger and the results table (no timing)."""

from __future__ import annotations

import csv

import geopandas as gpd
import numpy as np
import shapely

from benchmarks import synthetic
from benchmarks.table import (
    Cell,
    Row,
    fmt_megabytes,
    fmt_ratio,
    fmt_seconds,
    fmt_vs,
    markdown_table,
    targets_line,
)
from parkmap.load import projects_from_file
from parkmap.read import bundled_path


def test_generator_is_reproducible_from_its_seed():
    first = synthetic.synthetic_rows(60, seed=7)
    assert first == synthetic.synthetic_rows(60, seed=7)
    assert first != synthetic.synthetic_rows(60, seed=8)


def test_generator_writes_n_rows_with_chinese_headers(tmp_path):
    path = synthetic.write_projects_csv(tmp_path / "p.csv", 200, seed=3)
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == [
        "项目编号",
        "项目名称",
        "所属园区",
        "产业类别",
        "项目状态",
        "总投资(万元)",
        "签约日期",
        "经度",
        "纬度",
    ]
    body = rows[1:]
    assert len(body) == 200
    assert all(len(r) == 9 for r in body)
    assert len({r[0] for r in body}) == 200  # project ids are unique
    dates = np.array([r[6] for r in body], dtype="datetime64[D]")
    assert dates.min() >= np.datetime64("2018-01-01")
    assert dates.max() <= np.datetime64("2024-12-31")
    assert {r[4] for r in body} <= {"签约", "在建", "投产", "前期"}


def test_seventy_percent_of_projects_fall_inside_parks(tmp_path):
    rows = synthetic.synthetic_rows(200, seed=11)
    parks = gpd.read_file(bundled_path("parks.geojson")).union_all()
    lon = np.array([float(r[7]) for r in rows])
    lat = np.array([float(r[8]) for r in rows])
    # round(200 * 0.7) = 140 points are drawn inside the parks, the other 60 outside all of them.
    assert shapely.contains_xy(parks, lon, lat).sum() == 140


def test_parkmap_reads_the_synthetic_ledger(tmp_path):
    path = synthetic.write_projects_csv(tmp_path / "p.csv", 50, seed=5)
    with path.open(encoding="utf-8", newline="") as handle:
        cells = list(csv.DictReader(handle))
    loaded = projects_from_file(path)
    assert len(loaded.projects) == 50
    assert loaded.rejected.empty
    k = next(i for i, r in enumerate(cells) if r["总投资(万元)"])
    row = loaded.projects.iloc[k]
    assert row["project_id"] == cells[k]["项目编号"]
    # 1 亿元 = 10,000 万元
    assert np.isclose(row["investment_100m_cny"], float(cells[k]["总投资(万元)"]) / 10_000)
    assert row["lon"] == float(cells[k]["经度"])


def test_ratio_formatting():
    assert fmt_ratio(2.5) == "2.5×"
    assert fmt_ratio(12.4) == "12×"
    assert fmt_ratio(0.05) == "0.05×"
    assert fmt_vs(Cell(6.0), Cell(2.0)) == "3.0×"
    # a timeout at the 120 s cap against 2 s is more than 120 / 2 = 60 times slower
    assert fmt_vs(Cell(None, "timeout", 120.0), Cell(2.0)) == "> 60×"
    assert fmt_vs(Cell(160.0, "estimate"), Cell(2.0)) == "~80×"
    assert fmt_vs(Cell(None, "skipped"), Cell(2.0)) == "—"
    assert fmt_vs(Cell(3.0), Cell(None, "timeout", 120.0)) == "—"


def test_cell_formatting():
    assert fmt_seconds(Cell(1.234)) == "1.23"
    assert fmt_seconds(Cell(17.84)) == "17.8"
    assert fmt_seconds(Cell(None, "timeout", 120.0)) == "> 120 s (did not finish)"
    assert fmt_seconds(Cell(318.2, "estimate")) == "~318 (extrapolated, not run)"
    assert fmt_megabytes(Cell(3_000_000.0)) == "3.00"
    assert fmt_megabytes(Cell(None, "skipped")) == "—"


def test_markdown_table_compares_each_size_with_parkmap():
    rows = [
        Row(10_000, "parkmap", Cell(2.0), Cell(1_000_000.0), Cell(0.5)),
        Row(10_000, "explore", Cell(4.4), Cell(3_000_000.0), Cell(4.6)),
        Row(100_000, "parkmap", Cell(3.0), Cell(5_000_000.0), Cell(2.0)),
        Row(100_000, "explore", Cell(18.0), Cell(30_000_000.0), Cell(None, "timeout", 120.0)),
    ]
    lines = markdown_table(rows).splitlines()
    assert len(lines) == 6
    assert lines[1] == "|---:|---|---:|---:|---:|---:|---:|---:|"
    assert lines[2] == "| 10,000 | parkmap | 2.00 | 1.0× | 1.00 | 1.0× | 0.50 | 1.0× |"
    # 4.4 / 2.0 = 2.2; 3 MB / 1 MB = 3.0; 4.6 / 0.5 = 9.2
    assert lines[3] == "| 10,000 | explore | 4.40 | 2.2× | 3.00 | 3.0× | 4.60 | 9.2× |"
    # 18 / 3 = 6.0; 30 MB / 5 MB = 6.0; more than 120 / 2 = 60
    assert lines[5] == (
        "| 100,000 | explore | 18.0 | 6.0× | 30.00 | 6.0× | > 120 s (did not finish) | > 60× |"
    )


def test_targets_line_checks_each_goal():
    row = Row(100_000, "parkmap", Cell(2.5), Cell(6_000_000.0), Cell(None, "timeout", 120.0))
    assert targets_line(row, (3.0, 5_000_000.0, 2.5)) == (
        "build 2.50 s (goal ≤ 3 s): met; map.html 6.00 MB (goal ≤ 5 MB): not met; "
        "load + paint > 120 s (did not finish) (goal ≤ 2.5 s): not met"
    )


def test_the_goal_ratio_alternates_the_two_commands_and_compares_medians(monkeypatch, tmp_path):
    from argparse import Namespace

    from benchmarks import bench_map

    calls: list[tuple[str, str]] = []
    times = {"explore": iter([4.0, 5.0, 3.0]), "parkmap": iter([2.2, 1.9, 2.6])}

    def fake_generate(tool, csv_path, work, cap_s, repeat=1):
        assert work.is_dir()  # the peers write their page there
        calls.append((tool, csv_path.name))
        return bench_map.Measured(Cell(next(times[tool])))

    monkeypatch.setattr(bench_map, "generate", fake_generate)
    line = bench_map._alternating_goal(tmp_path, Namespace(pairs=3, cap=60.0))
    assert calls == [("explore", "projects-10000.csv"), ("parkmap", "projects-100000.csv")] * 3
    # medians 2.2 s and 4.0 s
    assert "parkmap 2.20 s (2.20, 1.90, 2.60), explore() 4.00 s (4.00, 5.00, 3.00)" in line
    assert line.endswith("0.55× (goal ≤ 0.5×): not met")

"""The command line, driven through click's runner in a temporary folder."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import urllib.request

import geopandas as gpd
import pandas as pd
import pytest
from click.testing import CliRunner
from pyproj import Geod
from shapely.geometry import box

from parkmap.cli import main
from parkmap.serve import make_server

GEOD = Geod(ellps="WGS84")

PARKS = gpd.GeoDataFrame(
    {"park_id": ["west", "east"], "name_zh": ["西园", "东园"], "name_en": ["West", "East"]},
    geometry=[box(120.0, 36.5, 120.1, 36.6), box(120.2, 36.5, 120.3, 36.6)],
    crs="EPSG:4326",
)

RECORDS = [
    "项目编号,项目名称,所属园区,项目状态,总投资(万元),签约日期,经度,纬度",
    'W1,西一,西园,签约,"12,000",2020/3/1,120.05,36.55',  # 2 west 1.2 亿
    "W2,西二,西园,在建,30000,2020-04-01,120.02,36.52",  # 3 west 3.0 亿
    "W3,西三,西园,投产,待定,43900,120.08,36.58",  # 4 west, warning (待定)
    "E1,东一,东园,签约,5亿元,2020-05-01,120.25,36.55",  # 5 east 5.0 亿
    "E2,东二,西园,签约,1000,2020-05-01,120.21,36.51",  # 6 east 0.1 亿, warning (declared 西园)
    "O1,园外,,签约,2000,2020-05-01,120.14,36.55",  # 7 outside 0.2 亿
    "W1,重复,西园,签约,100,2020-05-01,120.05,36.55",  # 8 rejected duplicate
    "X1,无坐标,西园,签约,100,2020-05-01,,",  # 9 rejected missing
    "X2,交换,西园,签约,100,2020-05-01,36.55,120.05",  # 10 rejected swapped
    "X3,负数,西园,签约,-100,2020-05-01,120.05,36.55",  # 11 rejected negative
    "X4,<img src=x onerror=alert(1)>,东园,签约,100,2020-05-01,120.26,36.56",  # 12 east 0.01 亿
]


@pytest.fixture
def inputs(tmp_path):
    parks = tmp_path / "parks.geojson"
    PARKS.to_file(parks)
    records = tmp_path / "台账.csv"
    records.write_bytes(("\r\n".join(RECORDS) + "\r\n").encode("gbk"))
    return records, parks


def run(*args, cwd=None):
    runner = CliRunner()
    return runner.invoke(main, list(args), catch_exceptions=False)


def test_build_on_unseen_gbk_file(inputs, tmp_path):
    records, parks = inputs
    out = tmp_path / "out"
    result = run("build", "--projects", str(records), "--parks", str(parks), "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "read 11 · mapped 5 · warnings 2 · rejected 4" in result.output
    assert sorted(p.name for p in out.iterdir()) == [
        "map.html",
        "parks.csv",
        "projects.geojson",
        "projects.parquet",
        "rejected.csv",
    ]
    rejected = pd.read_csv(out / "rejected.csv")
    assert rejected["row"].tolist() == [8, 9, 10, 11]

    # Independent check of the park figures: sums by hand, areas from pyproj's Geod.
    table = pd.read_csv(out / "parks.csv").set_index("park_id")
    assert table.loc["west", "projects"] == 3
    assert table.loc["west", "investment_100m_cny"] == pytest.approx(4.2)
    assert table.loc["east", "projects"] == 3
    assert table.loc["east", "investment_100m_cny"] == pytest.approx(5.11)
    for pid, geom in zip(PARKS["park_id"], PARKS.geometry, strict=True):
        area = abs(GEOD.geometry_area_perimeter(geom)[0]) / 1e6
        assert table.loc[pid, "area_km2"] == pytest.approx(area, rel=1e-6)
        total = table.loc[pid, "investment_100m_cny"]
        assert table.loc[pid, "density_100m_cny_per_km2"] == pytest.approx(total / area, rel=1e-5)

    doc = json.loads((out / "projects.geojson").read_text(encoding="utf-8"))
    props = {f["properties"]["project_id"]: f["properties"] for f in doc["features"]}
    assert len(props) == 7
    assert props["O1"]["park_id"] == "" and props["O1"]["outside_parks"] is True
    assert props["O1"]["distance_km"] == pytest.approx(
        GEOD.inv(120.1, 36.55, 120.14, 36.55)[2] / 1000, rel=1e-3
    )
    assert "declared park '西园'" in props["E2"]["warnings"]
    assert props["W3"]["investment_100m_cny"] is None

    html = (out / "map.html").read_text(encoding="utf-8")
    assert "<img src=x onerror=alert(1)>" not in html


@pytest.mark.parametrize(
    ("option", "counted"), [((), True), (("--declared-within", "3"), True),
                            (("--declared-within", "2.5"), False),
                            (("--declared-within", "0"), False)]
)  # fmt: skip
def test_declared_within_counts_a_ledger_project_in_its_declared_park(
    inputs, tmp_path, option, counted
):
    # D1 declares 西园 and lies 0.03° (about 2.7 km, by pyproj) east of its edge at 120.1
    _, parks = inputs
    records = tmp_path / "declared.csv"
    records.write_text(
        "项目编号,项目名称,所属园区,总投资,经度,纬度\nW1,西一,西园,1.5,120.05,36.55\n"
        "D1,近西园,西园,2.5,120.13,36.55\n",
        encoding="utf-8",
    )
    km = GEOD.inv(120.1, 36.55, 120.13, 36.55)[2] / 1000
    assert 2.5 < km < 3
    out = tmp_path / "out"
    args = ["build", str(records), "--parks", str(parks), "--out", str(out), *option]
    result = run(*args)
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out / "parks.csv", encoding="utf-8-sig").set_index("park_id")
    assert table.loc["west", "projects"] == (2 if counted else 1)
    assert table.loc["west", "investment_100m_cny"] == pytest.approx(4.0 if counted else 1.5)
    doc = json.loads((out / "projects.geojson").read_text(encoding="utf-8"))
    d1 = next(f["properties"] for f in doc["features"] if f["properties"]["project_id"] == "D1")
    assert d1["park_id"] == ("west" if counted else "")
    assert d1["outside_parks"] is (not counted)
    assert d1["distance_km"] == pytest.approx(km, rel=1e-3)  # the true distance either way
    if counted:
        assert d1["declared_km"] == pytest.approx(km, rel=1e-3)
        said = f"lies {km:.1f} km outside it; counted in it as the ledger declares"
        assert said in d1["warnings"]
    else:
        assert d1["declared_km"] is None
        assert "lies outside every park" in d1["warnings"]
    assert "read 2 · mapped 1 · warnings 1 · rejected 0" in result.output


def test_declared_within_must_not_be_negative(inputs, tmp_path):
    records, _ = inputs
    result = CliRunner().invoke(
        main, ["validate", "--projects", str(records), "--declared-within", "-1"]
    )
    assert result.exit_code == 2
    assert "--declared-within" in result.output


def test_build_without_arguments_builds_the_demo(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = run("build")
    assert result.exit_code == 0, result.output
    for name in ("map.html", "parks.csv", "projects.parquet", "projects.geojson", "rejected.csv"):
        assert (tmp_path / "maps" / name).is_file()
    parks = pd.read_csv(tmp_path / "maps" / "parks.csv")
    assert len(parks) == 5


def test_validate_reports_and_writes_nothing(inputs, tmp_path, monkeypatch):
    records, parks = inputs
    monkeypatch.chdir(tmp_path)
    before = sorted(p.name for p in tmp_path.iterdir())
    result = run("validate", "--projects", str(records), "--parks", str(parks), "--all")
    assert result.exit_code == 0
    assert "read 11 · mapped 5 · warnings 2 · rejected 4" in result.output
    assert "台账.csv: row 10, column 经度/纬度: rejected:" in result.output
    assert "lon/lat look swapped" in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_records_file_may_be_given_without_the_option(inputs, tmp_path, monkeypatch):
    records, parks = inputs
    monkeypatch.chdir(tmp_path)
    result = run("validate", str(records), "--parks", str(parks))
    assert result.exit_code == 0
    assert "read 11 · mapped 5 · warnings 2 · rejected 4" in result.output
    twice = run("validate", str(records), "--projects", str(records))
    assert twice.exit_code == 2 and "give the project records once" in twice.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["build", "--projects", "nope.csv"], "does not exist"),
        (["build", "nope.csv"], "does not exist"),
        (["build", "--scheme", "rainbow"], "quantiles"),
        (["build", "--investment-unit", "dollars"], "unknown investment unit"),
        (["serve", "nowhere", "--no-browser"], "no such folder"),
    ],
)
def test_bad_usage_exits_2_with_one_line(tmp_path, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    result = run(*args)
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output


def test_unreadable_file_exits_2(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("名称,备注\n甲,乙\n", encoding="utf-8")
    result = run("build", "--projects", str(bad), "--out", str(tmp_path / "o"))
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert lines == [
        f"Error: {bad}: row 1: no longitude column (looked for 经度, lon, lng, long); "
        "columns are: 名称, 备注"
    ]


def test_serve_answers_on_localhost(tmp_path):
    (tmp_path / "map.html").write_text("<html>ok</html>", encoding="utf-8")
    server = make_server(tmp_path, port=0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        host, port = server.server_address[:2]
        assert host == "127.0.0.1"
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/map.html", timeout=5) as resp:
            assert resp.read() == b"<html>ok</html>"
    finally:
        server.shutdown()
        server.server_close()


def test_help_has_examples():
    for command in ("build", "validate", "serve"):
        result = run(command, "--help")
        assert result.exit_code == 0 and "Example:" in result.output


# ---------------------------------------------------------------------------------------------
# The installed command (`parkmap.cli:run`): the same exit statuses and output as click's own
# exit, though it skips tearing the heap down.


def _command(*args: str, cwd: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "parkmap.cli", *args],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=cwd,
    )


def test_command_prints_every_line_and_exits_0(tmp_path):
    (tmp_path / "projects.csv").write_text("\n".join(RECORDS) + "\n", encoding="utf-8")
    PARKS.to_file(tmp_path / "parks.geojson", driver="GeoJSON")
    done = _command(
        "build", "projects.csv", "--parks", "parks.geojson", "--out", "out", cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    # stdout is a pipe here (block-buffered): every line still arrives, the last one too
    wrote = [line for line in done.stdout.splitlines() if line.startswith("wrote ")]
    names = {"map.html", "parks.csv", "projects.parquet", "projects.geojson", "rejected.csv"}
    assert {line.rsplit("/", 1)[-1] for line in wrote} == names
    for name in names:
        assert (tmp_path / "out" / name).stat().st_size > 0


def test_command_exit_statuses(tmp_path):
    assert _command("--version", cwd=tmp_path).returncode == 0
    (tmp_path / "empty.csv").write_text(RECORDS[0] + "\n", encoding="utf-8")
    empty = _command("build", "empty.csv", "--out", "out", cwd=tmp_path)
    assert empty.returncode == 2
    assert "empty.csv" in empty.stderr
    assert len(empty.stderr.strip().splitlines()) == 1
    assert _command("no-such-command", cwd=tmp_path).returncode == 2


@pytest.mark.parametrize("args", [("--help",), ("--version",), ("build", "--help")])
def test_help_and_version_do_not_load_the_libraries(args, tmp_path):
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "parkmap.cli", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert done.returncode == 0 and done.stdout.strip()
    imported = {line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines()}
    assert "click" in imported
    assert not {"pandas", "geopandas", "pyarrow", "folium"} & imported


def test_build_leaves_requests_unimported(tmp_path):
    # folium imports requests for GeoJSON given as a URL, which a build never gives it.
    (tmp_path / "projects.csv").write_text("\n".join(RECORDS) + "\n", encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "parkmap.cli", "build", "projects.csv"],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    imported = {line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines()}
    assert {"folium.features", "parkmap.webmap.compose", "pandas"} <= imported
    assert not {"requests", "urllib3", "charset_normalizer"} & imported
    assert (tmp_path / "maps" / "map.html").stat().st_size > 0


FIRST_USE_SCRIPT = """
import sys, threading
from parkmap import cli
cli._import_libraries()
import folium, folium.features
assert "urllib3" not in sys.modules and type(sys.modules["requests"]) is cli._ImportedOnFirstUse
import requests  # the stand-in again: still nothing imported
assert "urllib3" not in sys.modules
found = []
threads = [threading.Thread(target=lambda: found.append(folium.features.requests.get))
           for _ in range(8)]
for t in threads: t.start()
for t in threads: t.join()
import requests.adapters
from requests import Session
real = sys.modules["requests"]
assert type(real) is not cli._ImportedOnFirstUse and "urllib3" in sys.modules
assert len(found) == 8 and all(f is real.get for f in found)
assert Session is real.Session and requests.adapters is real.adapters
print("ok")
"""


def test_a_package_left_for_first_use_is_imported_when_used():
    done = subprocess.run(
        [sys.executable, "-c", FIRST_USE_SCRIPT], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr


FREED_MEMORY_SCRIPT = """
import sys
import numpy as np
from parkmap import cli

if sys.argv[1] == "keep":
    cli._keep_freed_memory()


def resident_mib():
    return int(open("/proc/self/statm").read().split()[1]) * 4096 / 2**20


before = resident_mib()
block = np.ones(20 << 17)  # 20 MiB, written
block = None
print(round(resident_mib() - before))
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc settings")
@pytest.mark.parametrize(
    ("mode", "environment", "kept"),
    [("keep", {}, True), ("default", {}, False), ("keep", {"MALLOC_ARENA_MAX": "2"}, False)],
)
def test_commands_keep_freed_memory_unless_malloc_is_configured(mode, environment, kept):
    # glibc gives a freed 20 MiB block straight back to the kernel by default; the command's
    # settings keep it for the next allocation. A MALLOC_ variable leaves glibc as it is.
    env = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")} | environment
    env.pop("GLIBC_TUNABLES", None)
    done = subprocess.run(
        [sys.executable, "-c", FREED_MEMORY_SCRIPT, mode],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    still_resident = int(done.stdout)
    assert still_resident >= 19 if kept else still_resident <= 2


def test_the_imported_libraries_are_kept_out_of_the_collectors_passes():
    # A collector pass right after the imports would walk every object they made (0.04 s).
    script = (
        "import gc; from parkmap import cli; cli._import_libraries(); "
        "print(gc.isenabled(), gc.get_freeze_count(), len(gc.get_objects(generation=0)))"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    enabled, frozen, young = done.stdout.split()
    assert enabled == "True" and int(frozen) > 50_000 and int(young) < 5_000

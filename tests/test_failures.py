"""Failing one row at a time, and whole files or folders that fail (issue 13).

Every failure is one ``Error: …`` line with exit status 2 that names the file; when no row can
be mapped the reasons are still printed and ``rejected.csv`` still written; a command writes
all its files or none of them.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner, Result
from shapely.geometry import box

from parkmap import coords, pipeline
from parkmap.cli import main
from parkmap.errors import NothingMappedError, OutputError
from parkmap.settings import ExportOptions, InputOptions

PARKS = gpd.GeoDataFrame(
    {"park_id": ["west", "east"], "name_zh": ["西园", "东园"], "name_en": ["West", "East"]},
    geometry=[box(120.0, 36.5, 120.1, 36.6), box(120.2, 36.5, 120.3, 36.6)],
    crs="EPSG:4326",
)
HEADER = "项目编号,项目名称,所属园区,总投资(万元),经度,纬度"
#: Three good rows: 2 in the west park (1.2 and 3.0 亿), 1 in the east (5.0 亿).
GOOD = [
    HEADER,
    "W1,西一,西园,12000,120.05,36.55",
    "W2,西二,西园,30000,120.02,36.52",
    "E1,东一,东园,50000,120.25,36.55",
]
#: Whole files no row of which can be mapped, each as a planner sends it.
ALL_REJECTED = {
    "swapped": [HEADER, "A1,甲,西园,100,36.55,120.05", "A2,乙,东园,100,36.56,120.25"],
    "gauss_kruger": [
        "项目编号,项目名称,X,Y",
        "A1,甲,4046000.5,40504500.2",
        "A2,乙,4047000.5,40522500.2",
    ],
    "decimal_comma": [HEADER, 'A1,甲,西园,100,"120,05","36,55"', 'A2,乙,东园,100,"120,25","36,55"'],
}


def write_csv(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def parks(tmp_path: Path) -> Path:
    path = tmp_path / "parks.geojson"
    PARKS.to_file(path)
    return path


def run(*args: object) -> Result:
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def error_lines(result: Result) -> list[str]:
    """The ``Error:`` lines of a run; also asserts no traceback was printed."""
    assert "Traceback" not in result.output
    return [line for line in result.output.splitlines() if line.startswith("Error:")]


def assert_one_error(result: Result, expected: str) -> None:
    assert result.exit_code == 2, result.output
    assert error_lines(result) == [f"Error: {expected}"]


def no_staging_left(folder: Path) -> bool:
    return not any(p.name.startswith(".parkmap-tmp-") for p in folder.rglob("*"))


# -------------------------------------------------------------------------------------------------
# every row rejected
# -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", sorted(ALL_REJECTED))
def test_build_with_every_row_rejected_still_lists_them(kind, tmp_path, parks):
    ledger = write_csv(tmp_path / "ledger.csv", ALL_REJECTED[kind])
    out = tmp_path / "out"
    result = run("build", ledger, "--parks", parks, "--out", out)
    assert_one_error(
        result, f"ledger.csv: no row could be mapped (2 rejected); see {out}/rejected.csv"
    )
    assert "read 2 · mapped 0 · warnings 0 · rejected 2" in result.output
    # the reasons come before the error, one line per row, naming file and row
    assert "ledger.csv: row 2" in result.output
    assert "ledger.csv: row 3" in result.output
    rejected = pd.read_csv(out / "rejected.csv")
    assert rejected["row"].tolist() == [2, 3]
    assert rejected["project_id"].tolist() == ["A1", "A2"]
    table = pd.read_csv(out / "parks.csv").set_index("park_id")
    assert sorted(table.index) == ["east", "west"]
    assert table["projects"].tolist() == [0, 0]
    assert (out / "map.html").stat().st_size > 0  # the parks alone
    assert no_staging_left(out)


def test_every_row_rejected_chooses_the_metric_crs_from_the_parks(tmp_path, parks):
    ledger = write_csv(tmp_path / "ledger.csv", ALL_REJECTED["swapped"])
    analysis = pipeline.analyse(InputOptions(projects=ledger, parks=(parks,)))
    assert len(analysis.projects) == 0
    assert analysis.summary.rejected == 2
    # parks span 120.0–120.3°E: one Gauss–Krüger zone (CM 120°E), so no fallback note
    assert not any("Albers" in note for note in analysis.notes)


def test_metric_crs_falls_back_to_the_parks():
    crs, note = coords.choose_metric_crs([np.nan, np.nan], fallback=[120.0, 120.3])
    assert crs.to_epsg() == 4549  # CGCS2000 3° GK CM 120°E: 4534 + (120 - 75) / 3
    assert note == ""
    _, note = coords.choose_metric_crs([np.nan], fallback=[114.0, 120.0])
    # zones round(114 / 3) = 38 to round(120 / 3) = 40, and the note speaks of the parks
    assert note.startswith("parks span Gauss–Krüger zones 38 to 40;")
    crs, _ = coords.choose_metric_crs([117.1], fallback=[120.0])
    assert crs.to_epsg() == 4548  # the projects win when they have a longitude: CM 117°E


def test_validate_with_every_row_rejected(tmp_path):
    ledger = write_csv(tmp_path / "ledger.csv", ALL_REJECTED["swapped"])
    result = run("validate", ledger)
    assert_one_error(result, "ledger.csv: no row could be mapped (2 rejected)")
    assert "ledger.csv: row 2, column 经度/纬度: rejected:" in result.output
    assert "wrote" not in result.output


def test_validate_out_writes_rejected_csv(tmp_path):
    ledger = write_csv(tmp_path / "ledger.csv", ALL_REJECTED["swapped"])
    out = tmp_path / "check"
    result = run("validate", ledger, "--out", out)
    assert_one_error(
        result, f"ledger.csv: no row could be mapped (2 rejected); see {out}/rejected.csv"
    )
    assert f"wrote {out}/rejected.csv" in result.output.splitlines()
    assert sorted(p.name for p in out.iterdir()) == ["rejected.csv"]
    assert pd.read_csv(out / "rejected.csv")["row"].tolist() == [2, 3]


def test_validate_out_on_a_good_file(tmp_path):
    ledger = write_csv(tmp_path / "ledger.csv", GOOD)
    out = tmp_path / "check"
    result = run("validate", ledger, "--out", out)
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1] == f"wrote {out}/rejected.csv"
    assert (out / "rejected.csv").read_text(encoding="utf-8-sig").splitlines() == [
        "row,column,reason,project_id,name"
    ]


def test_more_problems_point_only_to_written_files(tmp_path):
    # ten swapped rows: 8 listed, "… and 2 more"
    rows = [f"A{i},甲{i},西园,100,36.55,120.05" for i in range(10)]
    ledger = write_csv(tmp_path / "ledger.csv", [HEADER, *rows])
    result = run("validate", ledger)
    assert result.exit_code == 2
    assert (
        "… and 2 more (use --all to list them, or --out DIR to write rejected.csv)"
        in result.output.splitlines()
    )
    assert "see rejected.csv" not in result.output
    listed = [line for line in result.output.splitlines() if ": rejected: " in line]
    assert len(listed) == 8
    everything = run("validate", ledger, "--all")
    assert len([line for line in everything.output.splitlines() if ": rejected: " in line]) == 10
    out = tmp_path / "out"
    built = run("build", ledger, "--out", out)
    assert f"… and 2 more (see {out}/rejected.csv and {out}/projects.geojson)" in built.output


def test_header_only_file(tmp_path):
    ledger = write_csv(tmp_path / "ledger.csv", [HEADER])
    out = tmp_path / "out"
    for command in (["build", "--out", out], ["validate"], ["export", "--out", out]):
        result = run(command[0], ledger, *command[1:])
        assert_one_error(result, "ledger.csv: no data rows below the header")
    assert not out.exists()


def test_export_and_cluster_with_every_row_rejected(tmp_path, parks):
    ledger = write_csv(tmp_path / "ledger.csv", ALL_REJECTED["decimal_comma"])
    for command in ("export", "cluster"):
        out = tmp_path / command
        result = run(command, ledger, "--parks", parks, "--out", out)
        assert_one_error(
            result, f"ledger.csv: no row could be mapped (2 rejected); see {out}/rejected.csv"
        )
        assert "ledger.csv: row 2, column 经度; 纬度: rejected:" in result.output
        assert sorted(p.name for p in out.iterdir()) == ["rejected.csv"]


def test_nothing_mapped_from_the_library(tmp_path, parks):
    ledger = write_csv(tmp_path / "ledger.csv", ALL_REJECTED["gauss_kruger"])
    options = ExportOptions(inputs=InputOptions(projects=ledger, parks=(parks,)), out=tmp_path)
    with pytest.raises(NothingMappedError) as caught:
        pipeline.export(options)
    assert caught.value.files == {"rejected": tmp_path / "rejected.csv"}
    assert caught.value.analysis.summary.rejected == 2


# -------------------------------------------------------------------------------------------------
# output folders that refuse writes
# -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("command", ["build", "export", "validate", "cluster"])
def test_out_below_a_regular_file(command, tmp_path, parks):
    ledger = write_csv(tmp_path / "ledger.csv", GOOD)
    blocker = tmp_path / "notes.txt"
    blocker.write_text("not a folder", encoding="utf-8")
    out = blocker / "sub"
    extra = ["--format", "png", "--dpi", "20"] if command == "export" else []
    extra += ["--no-plots"] if command == "cluster" else []
    result = run(command, ledger, "--parks", parks, "--out", out, *extra)
    assert_one_error(result, f"cannot write to {out}/: Not a directory")
    assert blocker.read_text(encoding="utf-8") == "not a folder"


@pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root writes to read-only folders"
)
def test_read_only_out(tmp_path, parks):
    ledger = write_csv(tmp_path / "ledger.csv", GOOD)
    out = tmp_path / "out"
    out.mkdir()
    out.chmod(0o555)
    try:
        result = run("build", ledger, "--parks", parks, "--out", out)
    finally:
        out.chmod(0o755)
    assert_one_error(result, f"cannot write to {out}/: Permission denied")
    assert list(out.iterdir()) == []


def test_disk_full_during_build(tmp_path, parks, monkeypatch):
    ledger = write_csv(tmp_path / "ledger.csv", GOOD)
    out = tmp_path / "out"
    out.mkdir()
    old = {name: f"old {name}".encode() for name in ("map.html", "parks.csv", "rejected.csv")}
    for name, data in old.items():
        (out / name).write_bytes(data)

    def full(*args: object, **kwargs: object) -> Path:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr("parkmap.write.save_rejected", full)
    result = run("build", ledger, "--parks", parks, "--out", out)
    assert_one_error(result, f"cannot write to {out}/: {os.strerror(errno.ENOSPC)}")
    assert {p.name: p.read_bytes() for p in out.iterdir()} == old
    assert no_staging_left(out)


def test_failed_build_into_a_new_folder_leaves_no_folder(tmp_path, parks, monkeypatch):
    ledger = write_csv(tmp_path / "ledger.csv", GOOD)

    def full(*args: object, **kwargs: object) -> Path:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("parkmap.write.save_rejected", full)
    out = tmp_path / "new" / "out"
    result = run("build", ledger, "--parks", parks, "--out", out)
    assert_one_error(result, f"cannot write to {out}/: No space left on device")
    assert not out.exists()


# -------------------------------------------------------------------------------------------------
# all or nothing
# -------------------------------------------------------------------------------------------------

EXPORT_ARGS = ("--format", "png,svg", "--dpi", "20", "--lang", "en")
EXPORT_FILES = ["atlas.pdf", "map.png", "map.svg", "parks.csv", "parks.xlsx", "projects.gpkg"]


def old_export(out: Path) -> dict[str, bytes]:
    """Fill ``out`` with a previous export's files and one file of the user's own."""
    out.mkdir()
    old = {name: f"old {name}".encode() for name in [*EXPORT_FILES, "my notes.txt"]}
    for name, data in old.items():
        (out / name).write_bytes(data)
    return old


def test_export_failing_at_the_last_file_keeps_the_old_set(tmp_path, parks, monkeypatch):
    ledger = write_csv(tmp_path / "ledger.csv", GOOD)
    out = tmp_path / "out"
    old = old_export(out)

    def full(*args: object, **kwargs: object) -> Path:
        raise OSError(errno.ENOSPC, "No space left on device")

    # projects.gpkg is written last: maps, atlas and parks tables were already finished
    monkeypatch.setattr("parkmap.export.tables.save_geopackage", full)
    result = run("export", ledger, "--parks", parks, "--out", out, *EXPORT_ARGS)
    assert_one_error(result, f"cannot write to {out}/: No space left on device")
    assert {p.name: p.read_bytes() for p in out.iterdir()} == old
    assert no_staging_left(out)


def test_export_bug_midway_keeps_the_old_set(tmp_path, parks, monkeypatch):
    ledger = write_csv(tmp_path / "ledger.csv", GOOD)
    out = tmp_path / "out"
    old = old_export(out)

    def broken(*args: object, **kwargs: object) -> Path:
        raise RuntimeError("atlas bug")

    monkeypatch.setattr("parkmap.export.atlas.save_atlas", broken)
    options = ExportOptions(
        inputs=InputOptions(projects=ledger, parks=(parks,)), out=out, formats="png", dpi=20
    )
    with pytest.raises(RuntimeError, match="atlas bug"):  # a bug stays a bug (exit status 1)
        pipeline.export(options)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == old
    assert no_staging_left(out)


def test_export_replaces_the_set_and_keeps_other_files(tmp_path, parks):
    ledger = write_csv(tmp_path / "ledger.csv", GOOD)
    out = tmp_path / "out"
    old = old_export(out)
    result = run("export", ledger, "--parks", parks, "--out", out, *EXPORT_ARGS)
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == sorted([*EXPORT_FILES, "my notes.txt"])
    assert (out / "my notes.txt").read_bytes() == old["my notes.txt"]
    for name in EXPORT_FILES:
        assert (out / name).read_bytes() != old[name], name
        assert f"wrote {out / name}" in result.output.splitlines()
    assert (out / "map.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    table = pd.read_csv(out / "parks.csv").set_index("park_id")
    assert table.loc["west", "projects"] == 2
    assert no_staging_left(out)


def test_staged_outputs_moves_subfolders(tmp_path):
    from parkmap import write

    out = tmp_path / "out"
    (out / "plots").mkdir(parents=True)
    (out / "plots" / "old.png").write_bytes(b"old")
    with write.staged_outputs(out) as stage:
        assert stage.path.parent == out
        written = {
            "a": write.atomic_write(stage.path / "a.txt", "A"),
            "p": write.atomic_write(stage.path / "plots" / "new.png", b"new"),
        }
        assert not (out / "a.txt").exists()  # nothing moves before the block ends
    assert stage.finals(written) == {"a": out / "a.txt", "p": out / "plots" / "new.png"}
    assert (out / "a.txt").read_text(encoding="utf-8") == "A"
    assert sorted(p.name for p in (out / "plots").iterdir()) == ["new.png", "old.png"]
    assert no_staging_left(out)


def test_output_error_is_one_line():
    error = OutputError("cannot write to out/: Permission denied")
    assert str(error) == "cannot write to out/: Permission denied"
    assert isinstance(error, OSError)


# -------------------------------------------------------------------------------------------------
# owned by others
# -------------------------------------------------------------------------------------------------


def test_empty_id_does_not_collide_with_a_real_row_id(tmp_path, parks):
    # row 2 has no id and would be named "R2", the id row 3 really has
    ledger = write_csv(
        tmp_path / "ledger.csv",
        [HEADER, ",无编号,西园,100,120.05,36.55", "R2,有编号,西园,200,120.06,36.56"],
    )
    analysis = pipeline.analyse(InputOptions(projects=ledger, parks=(parks,)))
    assert analysis.summary.read == 2
    assert analysis.summary.rejected == 0
    ids = analysis.projects["project_id"].tolist()
    assert len(ids) == 2
    assert len(set(ids)) == 2
    assert "R2" in ids  # the real id is kept as it is

"""``parkmap compare``: two snapshots with known changes (tests/snapshots.py) give exactly those
rows in changes.csv and the per-park deltas worked out by hand; the history store gives the same
as the two files."""

from __future__ import annotations

import io
import uuid
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from pyproj import Geod
from snapshots import (
    NEW_NO_IDS,
    NEW_ROWS,
    OLD_NO_IDS,
    P6_NEW,
    P7_NEW,
    P8_NEW,
    P8_OLD,
    write_csv,
    write_parks,
    write_snapshots,
)

from parkmap.cli import main
from parkmap.compare import (
    MOVE_THRESHOLD_M,
    amount_text,
    compare_snapshots,
    made_up_ids,
    match_projects,
)
from parkmap.errors import InputError, UsageError
from parkmap.pipeline import analyse, compare
from parkmap.settings import CompareOptions, InputOptions

GEOD = Geod(ellps="WGS84")


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path, Path]:
    return write_snapshots(tmp_path)


@pytest.fixture
def comparison(files):
    old, new, parks = files
    a = analyse(InputOptions(projects=old, parks=(parks,)))
    b = analyse(InputOptions(projects=new, parks=(parks,)))
    return compare_snapshots(a.projects, b.projects, b.parks)


def _dist(a: tuple[float, float], b: tuple[float, float]) -> float:
    return float(GEOD.inv(a[0], a[1], b[0], b[1])[2])


def test_the_fixture_moves_are_what_they_say():
    # independent of parkmap: the 50 m and 500 m moves straddle the threshold
    assert _dist((120.012, 36.012), P6_NEW) == pytest.approx(50.0, abs=1e-6)
    assert _dist((120.112, 36.012), P7_NEW) == pytest.approx(500.0, abs=1e-6)
    assert 50.0 < MOVE_THRESHOLD_M < 500.0


def test_changes_are_exactly_the_known_ones(comparison):
    got = comparison.changes
    rows = [
        tuple(r)
        for r in got[["project_id", "park_id", "change", "before", "after", "step"]].itertuples(
            index=False
        )
    ]
    assert rows == [
        ("P10", "pa", "new", "", "planned", ""),
        ("P9", "pb", "new", "", "signed", ""),
        ("P4", "pb", "removed", "planned", "", ""),
        ("P1", "pa", "status", "signed", "under_construction", "up"),
        ("P2", "pa", "status", "under_construction", "signed", "back"),
        ("P1", "pa", "investment", "10", "12", ""),
        ("P5", "pa", "investment", "unknown", "7", ""),
        ("P7", "pb", "moved", "120.112000,36.012000", f"{P7_NEW[0]:.6f},{P7_NEW[1]:.6f}", ""),
        (
            "P8",
            "pb",
            "moved",
            f"{P8_OLD[0]:.6f},{P8_OLD[1]:.6f}",
            f"{P8_NEW[0]:.6f},{P8_NEW[1]:.6f}",
            "",
        ),
        ("P3", "pb", "renamed", "Gamma", "<script>alert(1)</script>", ""),
        ("P8", "pb", "park", "pa", "pb", ""),
    ]
    moved = got[got["change"] == "moved"].set_index("project_id")["distance_m"]
    assert moved["P7"] == pytest.approx(500.0, abs=0.05)
    assert moved["P8"] == pytest.approx(round(_dist(P8_OLD, P8_NEW), 1), abs=0.05)
    # the unknown amount of the new P10 stays unknown (NaN), P9's is 20
    invest = got[got["change"] == "new"].set_index("project_id")["investment_100m_cny"]
    assert np.isnan(invest["P10"]) and invest["P9"] == 20.0
    assert set(got.loc[got["change"] != "new", "matched_by"]) - {""} == {"project_id"}
    assert comparison.match.by_id == 8 and comparison.match.by_name_park == 0
    assert (comparison.match.new, comparison.match.removed) == (2, 1)


def test_park_deltas_worked_out_by_hand(comparison):
    parks = comparison.parks.set_index("park_id")
    assert parks.loc["pa", "name"] == "甲园区"
    expected = {
        # projects before/after, investment before/after/change, new, new inv, removed,
        # ups, backs, rank before/after
        "pa": (5, 5, 22.0, 25.0, 3.0, 1, 0.0, 0, 1, 1, 1, 2),
        "pb": (3, 4, 9.0, 33.0, 24.0, 1, 20.0, 1, 0, 0, 2, 1),
        "pc": (1, 1, 2.0, 2.0, 0.0, 0, 0.0, 0, 0, 0, 3, 3),
    }
    columns = [
        "projects_before",
        "projects_after",
        "investment_before_100m_cny",
        "investment_after_100m_cny",
        "investment_change_100m_cny",
        "new_projects",
        "new_investment_100m_cny",
        "removed_projects",
        "step_ups",
        "step_backs",
        "rank_before",
        "rank_after",
    ]
    for park, values in expected.items():
        assert tuple(parks.loc[park, columns]) == pytest.approx(values), park
    assert comparison.headline == {
        "projects_before": 9,
        "projects_after": 10,
        "investment_before": 33.0,
        "investment_after": 60.0,
        "new_projects": 2,
        "new_investment": 20.0,
        "removed_projects": 1,
        "step_ups": 1,
        "step_backs": 1,
        "parks_without_progress": 1,
    }


def test_without_ids_projects_are_matched_by_name_and_park(tmp_path):
    header = "name,park,status,investment_100m_cny,lon,lat"
    old = write_csv(tmp_path / "old.csv", OLD_NO_IDS, header)
    new = write_csv(tmp_path / "new.csv", NEW_NO_IDS, header)
    parks = write_parks(tmp_path / "parks.geojson")
    a = analyse(InputOptions(projects=old, parks=(parks,)))
    b = analyse(InputOptions(projects=new, parks=(parks,)))
    assert made_up_ids(a.projects).all() and made_up_ids(b.projects).all()
    result = compare_snapshots(a.projects, b.projects, b.parks)
    rows = [
        tuple(r)
        for r in result.changes[
            ["name", "change", "before", "after", "step", "matched_by"]
        ].itertuples(index=False)
    ]
    # Beta (old row 3, "R3") and Delta (new row 3, "R3") share a made-up id: not the same project
    assert rows == [
        ("Delta", "new", "", "signed", "", ""),
        ("Beta", "removed", "under_construction", "", "", ""),
        ("Alpha", "status", "signed", "under_construction", "up", "name+park"),
    ]
    assert (result.match.by_id, result.match.by_name_park) == (0, 2)
    assert "2 by name + park" in result.match.line()


def _frame(ids, names, parks=None):
    n = len(ids)
    return pd.DataFrame(
        {
            "row": range(2, n + 2),
            "project_id": ids,
            "name": names,
            "park_declared": parks or ["甲园区"] * n,
            "park_id": ["pa"] * n,
        }
    )


def test_repeated_keys_are_paired_in_row_order_with_a_warning():
    old = _frame(["A", "A", "B"], ["x", "y", "z"])
    new = _frame(["A", "B", "A"], ["x", "z", "y"])
    pairs, report = match_projects(old, new)
    matched = sorted(zip(pairs["old"], pairs["new"], strict=True))
    assert matched == [(0, 0), (1, 2), (2, 1)]
    assert report.by_id == 3
    assert any("project_id repeated ('A')" in w for w in report.warnings)


def test_two_different_ids_are_never_matched_by_name():
    old = _frame(["A"], ["same"])
    new = _frame(["B"], ["same"])
    _pairs, report = match_projects(old, new)
    assert (report.by_id, report.by_name_park, report.new, report.removed) == (0, 0, 1, 1)


@pytest.mark.parametrize(
    ("value", "text"),
    [(12.5, "12.5"), (0.1 + 0.2, "0.3"), (np.nan, "unknown"), (None, "unknown"), (0.0, "0")],
)
def test_amounts_are_written_without_float_noise_and_unknown_is_not_zero(value, text):
    assert amount_text(value) == text


def _csv(path: Path) -> pd.DataFrame:
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # BOM for Excel
    return pd.read_csv(io.StringIO(raw.decode("utf-8-sig")), dtype=str, keep_default_na=False)


def test_cli_writes_spreadsheet_safe_tables_and_a_bulletin(files, tmp_path):
    old, new, parks = files
    out = tmp_path / "out"
    result = CliRunner().invoke(
        main, ["compare", str(old), str(new), "--parks", str(parks), "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "2 new, 1 removed, 1 stepped up, 1 stepped back; 11 changes" in result.output
    assert {p.name for p in out.iterdir()} == {
        "changes.csv",
        "park_changes.csv",
        "map.html",
        "bulletin.pdf",
        "bulletin.md",
    }
    changes = _csv(out / "changes.csv")
    assert list(changes.columns[:6]) == [
        "project_id",
        "name",
        "park_id",
        "change",
        "before",
        "after",
    ]
    # the formula-looking name is text in a spreadsheet; the markup is plain text
    assert changes.loc[changes["project_id"] == "P5", "name"].tolist() == ["'=SUM(A1)"]
    assert "<script>alert(1)</script>" in changes["after"].tolist()
    parks_table = _csv(out / "park_changes.csv")
    assert parks_table["rank_after"].tolist() == ["2", "1", "3"]
    md = (out / "bulletin.md").read_text(encoding="utf-8")
    assert "<script>" not in md and "&lt;script" not in md  # a renamed project is no new one
    assert "丙园区" in md


def test_bulletin_markdown_escapes_a_hostile_new_project(tmp_path):
    rows = [
        *NEW_ROWS,
        ("P12", "<img src=x onerror=alert(1)>|*", "甲园区", "签约", "30", 120.01, 36.01),
    ]
    old = write_csv(tmp_path / "old.csv", NEW_ROWS)
    new = write_csv(tmp_path / "new.csv", rows)
    parks = write_parks(tmp_path / "parks.geojson")
    outcome = compare(
        CompareOptions(old=old, new=new, inputs=InputOptions(parks=(parks,)), out=tmp_path / "o")
    )
    md = (tmp_path / "o" / "bulletin.md").read_text(encoding="utf-8")
    assert "<img" not in md
    assert "| &lt;img src=x onerror=alert\\(1\\)\\>\\|\\* | 甲园区 |" in md
    assert outcome.comparison.headline["new_projects"] == 1


def test_compare_needs_two_snapshots_or_a_history(tmp_path):
    with pytest.raises(UsageError, match="two snapshots"):
        compare(CompareOptions(out=tmp_path / "o"))
    with pytest.raises(UsageError, match="--since"):
        compare(CompareOptions(history=str(tmp_path / "h.gpkg"), out=tmp_path / "o"))


def _history_store(kind: str, folder: Path, request: pytest.FixtureRequest) -> str:
    """A new history store: a GeoPackage or SQLite file, or a database of its own on the
    session's PostgreSQL server (tests/conftest.py)."""
    if kind != "postgresql":
        return str(folder / f"history.{kind}")
    pytest.importorskip("sqlalchemy", reason="sqlalchemy not installed (pip install 'parkmap[db]')")
    import pg_server
    from psycopg import sql

    server = request.getfixturevalue("postgres_server")
    name = f"history_{uuid.uuid4().hex[:8]}"
    with server.admin() as conn:
        conn.execute(
            sql.SQL("CREATE DATABASE {} OWNER {}").format(
                sql.Identifier(name), sql.Identifier(pg_server.USER)
            )
        )
    return str(server.url(database=name))


@pytest.mark.parametrize("kind", ["gpkg", "sqlite", "postgresql"])
def test_history_of_two_builds_compares_as_the_two_files(files, tmp_path, kind, request):
    old, new, parks = files
    store = _history_store(kind, tmp_path, request)
    runner = CliRunner()
    for path, day in ((old, "2020-06-01"), (new, "2020-06-08")):
        result = runner.invoke(
            main,
            [
                "build",
                "--projects",
                str(path),
                "--parks",
                str(parks),
                "--out",
                str(tmp_path / f"build-{day}"),
                "--history",
                str(store),
                "--as-of",
                day,
            ],
        )
        assert result.exit_code == 0, result.output
        assert f"added the snapshot of {day}" in result.output
    if kind == "gpkg":  # a real GeoPackage: GDAL lists the table
        import pyogrio

        assert [row[0] for row in pyogrio.list_layers(store)] == ["parkmap_history"]
    by_files = compare(
        CompareOptions(old=old, new=new, inputs=InputOptions(parks=(parks,)), out=tmp_path / "a")
    )
    for since in ("2020-06-01", "2020-06-05"):  # the last snapshot on or before the date
        by_history = compare(
            CompareOptions(
                history=store,
                since=since,
                inputs=InputOptions(parks=(parks,)),
                out=tmp_path / "b",
            )
        )
        assert by_history.labels == ("2020-06-01", "2020-06-08")
        columns = ["project_id", "name", "park_id", "change", "before", "after", "step"]
        pd.testing.assert_frame_equal(
            by_history.comparison.changes[columns], by_files.comparison.changes[columns]
        )
        pd.testing.assert_frame_equal(by_history.comparison.parks, by_files.comparison.parks)
    result = runner.invoke(
        main,
        [
            "compare",
            "--history",
            str(store),
            "--since",
            "2020-06-01",
            "--parks",
            str(parks),
            "--out",
            str(tmp_path / "c"),
        ],
    )
    assert result.exit_code == 0, result.output
    assert (tmp_path / "c" / "bulletin.pdf").exists()


def test_a_second_build_on_the_same_date_replaces_that_snapshot(files, tmp_path):
    from parkmap.history import append_snapshot, read_snapshot, snapshot_dates

    old, new, parks = files
    store = tmp_path / "h.sqlite"
    a = analyse(InputOptions(projects=old, parks=(parks,)))
    b = analyse(InputOptions(projects=new, parks=(parks,)))
    assert append_snapshot(store, a.projects, "2020-06-01") == 9
    assert append_snapshot(store, b.projects, "2020-06-01") == 10
    import datetime as dt

    assert snapshot_dates(store) == [dt.date(2020, 6, 1)]
    back = read_snapshot(store, dt.date(2020, 6, 1))
    assert len(back) == 10
    assert back.set_index("project_id").loc["P5", "name"] == "=SUM(A1)"
    assert np.isnan(back.set_index("project_id").loc["P10", "investment_100m_cny"])


def test_history_errors_are_one_line(files, tmp_path):
    old, _new, parks = files
    runner = CliRunner()
    missing = runner.invoke(
        main, ["compare", "--history", str(tmp_path / "none.gpkg"), "--since", "2020-06-01"]
    )
    assert missing.exit_code == 2 and "none.gpkg: no such file" in missing.output
    bad = runner.invoke(
        main,
        [
            "build",
            "--projects",
            str(old),
            "--parks",
            str(parks),
            "--out",
            str(tmp_path / "b"),
            "--history",
            str(tmp_path / "h.gpkg"),
            "--as-of",
            "June",
        ],
    )
    assert bad.exit_code == 2 and "'June' is not a date" in bad.output
    assert not (tmp_path / "b").exists()  # refused before anything was read or written
    from parkmap.history import append_snapshot

    append_snapshot(
        tmp_path / "h.gpkg",
        analyse(InputOptions(projects=old, parks=(parks,))).projects,
        "2020-06-08",
    )
    with pytest.raises(InputError, match="no snapshot on or before 2020-06-01"):
        compare(
            CompareOptions(history=str(tmp_path / "h.gpkg"), since="2020-06-01", out=tmp_path / "o")
        )
    with pytest.raises(InputError, match="no snapshot after 2020-06-08"):
        compare(
            CompareOptions(history=str(tmp_path / "h.gpkg"), since="2020-06-09", out=tmp_path / "o")
        )


def test_a_row_that_lost_its_id_is_matched_by_name_and_park():
    old = _frame(["A", "B"], ["x", "y"])
    new = _frame(["R2", "B"], ["x", "y"])  # row 2 of the new ledger has no id: "R2"
    pairs, report = match_projects(old, new)
    assert sorted(zip(pairs["old"], pairs["new"], pairs["matched_by"], strict=True)) == [
        (0, 0, "name+park"),
        (1, 1, "project_id"),
    ]
    assert report.warnings == []


def test_repeated_names_among_projects_with_ids_are_no_ambiguity():
    old = _frame(["A", "B", "C"], ["same", "same", "z"])
    new = _frame(["C"], ["z"])
    _, report = match_projects(old, new)
    assert (report.by_id, report.removed) == (1, 2)
    assert report.warnings == []


def test_a_snapshot_compared_with_itself_has_no_changes(files, tmp_path):
    old, _new, parks = files
    done = compare(
        CompareOptions(old=old, new=old, inputs=InputOptions(parks=(parks,)), out=tmp_path / "o")
    )
    assert len(done.comparison.changes) == 0
    assert _csv(done.files["changes"]).columns.tolist()[:6] == [
        "project_id",
        "name",
        "park_id",
        "change",
        "before",
        "after",
    ]
    assert done.comparison.headline["parks_without_progress"] == 3
    assert (done.comparison.parks["investment_change_100m_cny"] == 0).all()
    assert Path(done.files["bulletin_pdf"]).stat().st_size > 0

"""``parkmap compare`` from databases: the snapshots of tests/snapshots.py loaded into PostGIS
tables, GeoPackage layers and SQLite tables give byte-identical ``changes.csv`` and
``park_changes.csv`` to the compare of the same rows as CSV files: two tables, two queries,
and one table holding every snapshot told apart by a snapshot-date column."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import geopandas as gpd
import pg_server as pg
import pytest
import shapely
from click.testing import CliRunner
from snapshots import NEW_ROWS, OLD_ROWS, write_snapshots

from parkmap.cli import main
from parkmap.errors import InputError, UsageError
from parkmap.pipeline import compare
from parkmap.settings import CompareOptions, InputOptions

pytest.importorskip("sqlalchemy", reason="sqlalchemy not installed (pip install 'parkmap[db]')")

COLUMNS = ["project_id", "name", "park", "status", "investment_100m_cny"]
TABLES = ("changes.csv", "park_changes.csv")

#: A third week: P1 goes into production; P9 doubles. --until before it leaves it out.
LATER_ROWS = [
    {"P1": (*r[:3], "投产", *r[4:]), "P9": (*r[:4], "40", *r[5:])}.get(r[0], r) for r in NEW_ROWS
]


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path, Path]:
    return write_snapshots(tmp_path)


@pytest.fixture
def by_csv(files: tuple[Path, Path, Path], tmp_path: Path) -> Path:
    """The outputs of ``parkmap compare old.csv new.csv``."""
    old, new, parks = files
    return _compare(tmp_path / "by-csv", str(old), str(new), "--parks", str(parks))


def _compare(out: Path, *args: str) -> Path:
    result = CliRunner().invoke(main, ["compare", *args, "--out", str(out)])
    assert result.exit_code == 0, result.output
    return out


def _assert_same_tables(a: Path, b: Path) -> None:
    for name in TABLES:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name


def _amount(text: str) -> str | None:
    return text or None  # an empty CSV cell is a NULL in a database


# ---------------------------------------------------------------- PostgreSQL / PostGIS


@pytest.fixture
def postgis(postgres_server: pg.PgServer) -> pg.PgServer:
    if not postgres_server.postgis:
        pytest.skip("PostGIS not installed (apt-get install postgresql-15-postgis-3)")
    return postgres_server


def _pg_table(
    server: pg.PgServer,
    name: str,
    weeks: list[tuple[object, list[tuple]]],
    *,
    schema: str | None = None,
    snapshot: tuple[str, str] | None = None,
) -> None:
    """The rows as a PostGIS table (point geometry in EPSG:4326, primary key ``gid``); with
    ``snapshot`` = (column, type) every week's rows go into one table with their date."""
    from psycopg import sql

    table = sql.Identifier(schema, name) if schema else sql.Identifier(name)
    defs = [sql.SQL("{} text").format(sql.Identifier(c)) for c in COLUMNS]
    if snapshot:
        defs.append(sql.SQL("{} {}").format(sql.Identifier(snapshot[0]), sql.SQL(snapshot[1])))
    with server.admin() as conn:  # type: ignore[attr-defined]
        if schema:
            conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))
            conn.execute(
                sql.SQL("GRANT USAGE ON SCHEMA {} TO planner").format(sql.Identifier(schema))
            )
        conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(table))
        conn.execute(
            sql.SQL(
                "CREATE TABLE {} (gid serial PRIMARY KEY, {}, geom geometry(Point, 4326))"
            ).format(table, sql.SQL(", ").join(defs))
        )
        conn.execute(sql.SQL("GRANT SELECT ON {} TO planner").format(table))
        holes = ", ".join(["%s"] * (len(COLUMNS) + (1 if snapshot else 0)))
        names = [*COLUMNS, *([snapshot[0]] if snapshot else [])]
        statement = sql.SQL(
            "INSERT INTO {} ({}, geom) VALUES ("
            + holes
            + ", ST_SetSRID(ST_MakePoint(%s, %s), 4326))"
        ).format(table, sql.SQL(", ").join(map(sql.Identifier, names)))
        values = [
            [*r[:4], _amount(r[4]), *([day] if snapshot else []), r[5], r[6]]
            for day, rows in weeks
            for r in rows
        ]
        with conn.cursor() as cursor:
            cursor.executemany(statement, values)


@pytest.mark.slow
@pytest.mark.parametrize("form", ["tables", "queries", "two-urls"])
def test_pg_compare_of_two_tables_is_the_csv_compare(
    postgis: pg.PgServer, by_csv: Path, files: tuple[Path, Path, Path], tmp_path: Path, form: str
) -> None:
    parks = str(files[2])
    url = postgis.url()
    _pg_table(postgis, "week 1", [(None, OLD_ROWS)])
    _pg_table(postgis, "projects", [(None, NEW_ROWS)], schema="week2")
    args = {
        "tables": [url, "--old-table", "week 1", "--new-table", "week2.projects"],
        "queries": [
            url,
            "--old-query",
            'SELECT * FROM "week 1" ORDER BY gid',
            "--new-query",
            "SELECT * FROM week2.projects ORDER BY gid",
        ],
        "two-urls": [url, url, "--old-table", '"week 1"', "--new-table", "week2.projects"],
    }[form]
    out = _compare(tmp_path / "by-pg", *args, "--parks", parks)
    _assert_same_tables(out, by_csv)
    assert (out / "bulletin.pdf").exists() and (out / "map.html").exists()


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["date", "timestamp", "text"])
def test_pg_snapshot_column_compares_as_the_csv_files(
    postgis: pg.PgServer, by_csv: Path, files: tuple[Path, Path, Path], tmp_path: Path, kind: str
) -> None:
    parks = str(files[2])
    url = postgis.url()
    # the new week was taken at 09:30 where the column keeps the time of day
    stamp = "2020-06-08 09:30:00" if kind != "date" else "2020-06-08"
    weeks = [
        ("2020-06-01", OLD_ROWS),
        (stamp, NEW_ROWS),
        ("2020-06-15", LATER_ROWS),
        (None, OLD_ROWS[:1]),  # a row with no date belongs to no snapshot
    ]
    _pg_table(postgis, f"ledger_{kind}", weeks, snapshot=("快照 日期", kind))
    common = ["--table", f"ledger_{kind}", "--snapshot-column", "快照 日期", "--parks", parks]
    out = tmp_path / "by-pg"
    result = CliRunner().invoke(
        main,
        [
            "compare",
            url,
            *common,
            "--since",
            "2020-06-05",
            "--until",
            "2020-06-10",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "2020-06-01 → 2020-06-08" in result.output
    assert "1 rows have no snapshot date" in result.output
    _assert_same_tables(out, by_csv)
    # without --until: the latest week; P1 steps up once more, P9's amount changes
    latest = compare(
        CompareOptions(
            old=url,
            inputs=InputOptions(parks=(files[2],), table=f"ledger_{kind}"),
            snapshot_column="快照 日期",
            since="2020-06-08",
            out=tmp_path / "latest",
        )
    )
    assert latest.labels == ("2020-06-08", "2020-06-15")
    changed = latest.comparison.changes
    assert sorted(zip(changed["project_id"], changed["change"], strict=True)) == [
        ("P1", "status"),
        ("P9", "investment"),
    ]


def test_pg_snapshot_errors_are_one_line(postgis: pg.PgServer, files, tmp_path: Path) -> None:
    _pg_table(postgis, "ledger_err", [("2020-06-01", OLD_ROWS)], snapshot=("day", "date"))
    url = postgis.url()
    runner = CliRunner()
    for extra, expected in (
        (["--since", "2020-05-01"], "no snapshot on or before 2020-05-01 (snapshots: 2020-06-01)"),
        (["--since", "2020-06-01"], "no snapshot after 2020-06-01 to compare with"),
    ):
        result = runner.invoke(
            main,
            [
                "compare",
                url,
                "--table",
                "ledger_err",
                "--snapshot-column",
                "day",
                *extra,
                "--out",
                str(tmp_path / "o"),
            ],
        )
        assert result.exit_code == 2, result.output
        assert expected in result.output
        assert pg.PASSWORD not in result.output
    with pytest.raises(InputError, match="no snapshot column nope; columns are: gid, project_id"):
        compare(
            CompareOptions(
                old=url,
                inputs=InputOptions(table="ledger_err"),
                snapshot_column="nope",
                since="2020-06-01",
                out=tmp_path / "o",
            )
        )


# ---------------------------------------------------------------- GeoPackage and SQLite


def _gpkg(path: Path, layer: str, rows: list[tuple]) -> None:
    frame = gpd.GeoDataFrame(
        {c: [r[i] if i != 4 else _amount(r[4]) for r in rows] for i, c in enumerate(COLUMNS)},
        geometry=[shapely.Point(r[5], r[6]) for r in rows],
        crs="EPSG:4326",
    )
    frame.to_file(path, layer=layer, driver="GPKG")


def _sqlite_weeks(
    path: Path, table: str, column: str, weeks: list[tuple[str | None, list]]
) -> None:
    def quoted(name: str) -> str:
        return '"' + name.replace('"', '""') + '"'

    with sqlite3.connect(path) as conn:
        names = ", ".join(quoted(c) for c in [*COLUMNS, column, "lon", "lat"])
        conn.execute(f"CREATE TABLE {quoted(table)} (fid INTEGER PRIMARY KEY, {names})")
        conn.executemany(
            f"INSERT INTO {quoted(table)} ({names}) VALUES ({', '.join('?' * 8)})",
            [[*r[:4], _amount(r[4]), day, r[5], r[6]] for day, rows in weeks for r in rows],
        )


@pytest.mark.slow
def test_geopackage_layers_compare_as_the_csv_files(
    by_csv: Path, files: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    store = tmp_path / "台账.gpkg"
    _gpkg(store, "old", OLD_ROWS)
    _gpkg(store, "new", NEW_ROWS)
    parks = str(files[2])
    out = _compare(
        tmp_path / "by-gpkg",
        str(store),
        "--old-table",
        "old",
        "--new-table",
        "new",
        "--parks",
        parks,
    )
    _assert_same_tables(out, by_csv)
    # two files with a table of one name: --table applies to both
    other = tmp_path / "new.gpkg"
    _gpkg(other, "old", NEW_ROWS)
    out = _compare(
        tmp_path / "two-files", str(store), str(other), "--table", "old", "--parks", parks
    )
    _assert_same_tables(out, by_csv)


@pytest.mark.slow
def test_sqlite_snapshot_column_of_iso_text_compares_as_the_csv_files(
    by_csv: Path, files: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    db = tmp_path / "ledger.sqlite"
    column = 'snap "date"'  # a double quote in the name: quoted, never pasted
    _sqlite_weeks(
        db,
        "projects",
        column,
        [("2020-06-01", OLD_ROWS), ("2020-06-08T09:30", NEW_ROWS), ("2020-06-15", LATER_ROWS)],
    )
    out = _compare(
        tmp_path / "by-sqlite",
        str(db),
        "--table",
        "projects",
        "--snapshot-column",
        column,
        "--since",
        "2020-06-01",
        "--until",
        "2020-06-08",
        "--parks",
        str(files[2]),
    )
    _assert_same_tables(out, by_csv)


def test_a_snapshot_column_that_is_no_date_is_one_line(tmp_path: Path) -> None:
    db = tmp_path / "ledger.sqlite"
    _sqlite_weeks(db, "projects", "week", [("第23周", OLD_ROWS)])
    with pytest.raises(InputError, match="the snapshot column week holds '第23周', not a date"):
        compare(
            CompareOptions(
                old=db,
                inputs=InputOptions(table="projects"),
                snapshot_column="week",
                since="2020-06-01",
                out=tmp_path / "o",
            )
        )


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"old": "x.gpkg"}, "compare needs two snapshots"),
        ({"old": "x.csv", "new": "y.csv", "since": "2020-06-01"}, "--since and --until choose"),
        ({"old": "x.gpkg", "snapshot_column": "d"}, "needs a database source with --table"),
        (
            {"old": "x.gpkg", "snapshot_column": "d", "old_table": "a", "new_table": "b"},
            "reads both snapshots from one table",
        ),
        (
            {"old": "x.gpkg", "inputs": InputOptions(table="t"), "snapshot_column": "d"},
            "--snapshot-column needs --since",
        ),
        ({"history": "h.gpkg", "snapshot_column": "d"}, "not both"),
        ({"history": "h.gpkg", "inputs": InputOptions(table="t")}, "leave them out"),
        ({"history": "h.gpkg", "new_query": "select 1"}, "leave them out"),
    ],
)
def test_compare_sources_are_checked_before_reading(options, message, tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=message):
        compare(CompareOptions(out=tmp_path / "o", **options))


def test_a_snapshot_column_reads_databases_only(files: tuple[Path, Path, Path]) -> None:
    from parkmap.pipeline import analyse

    old, _new, parks = files
    with pytest.raises(UsageError, match="applies to a database table or query"):
        analyse(
            InputOptions(
                projects=old, parks=(parks,), snapshot_column="d", snapshot_date="2020-06-01"
            )
        )
    with pytest.raises(UsageError, match="go together"):
        analyse(InputOptions(projects=old, parks=(parks,), snapshot_column="d"))

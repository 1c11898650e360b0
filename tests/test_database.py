"""Project records from databases: a real PostgreSQL/PostGIS server (tests/pg_server.py),
SQLite and GeoPackage files.

The ledger is made here: projects inside the bundled parks (some in GCJ-02), and rows that
are rejected or warned for every reason the file readers give. The same rows go into a CSV and
into database tables; the builds must give the same parks.csv, byte for byte.
"""

from __future__ import annotations

import csv
import datetime as dt
import os
import sqlite3
import sys
import threading
from pathlib import Path

import geopandas as gpd
import numpy as np
import pg_server as pg
import pytest
import shapely
from click.testing import CliRunner
from pyproj import Transformer

from parkmap import read
from parkmap.cli import main
from parkmap.coords import wgs84_to_gcj02
from parkmap.errors import InputError, UsageError
from parkmap.read import database
from parkmap.read.database import masked, parse_table_name

COLUMNS = [
    "项目编号",
    "项目名称",
    "所属园区",
    "项目状态",
    "总投资(万元)",
    "签约日期",
    "经度",
    "纬度",
    "坐标系",
]
#: Column types in PostgreSQL (investment is text: offices write 5000万元 and 待定 in it).
PG_TYPES = [
    "text",
    "text",
    "text",
    "text",
    "text",
    "date",
    "double precision",
    "double precision",
    "text",
]


def _fail_or_skip(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"CI must run the database tests: {reason}")
    pytest.skip(reason)


@pytest.fixture
def server(postgres_server: pg.PgServer) -> pg.PgServer:
    """The session's PostgreSQL server (tests/conftest.py; skipped locally without one)."""
    return postgres_server


@pytest.fixture
def postgis(server: pg.PgServer) -> pg.PgServer:
    if not server.postgis:
        _fail_or_skip("PostGIS not installed (apt-get install postgresql-15-postgis-3)")
    return server


@pytest.fixture(scope="module")
def ledger_rows() -> list[list[object]]:
    """Rows of a ledger: 24 projects inside the bundled parks, 4 of them in GCJ-02, then rows
    that are rejected (no coordinates, outside China, duplicate id, negative amount, a total
    row) or warned (unknown status, amount not a number, no name)."""
    parks = read.parks_from_file(read.bundled_path("parks.geojson"))
    rng = np.random.default_rng(15)
    rows: list[list[object]] = []
    statuses = ["在建", "签约", "投产", "前期"]
    for i, (park_id, name, geometry) in enumerate(
        zip(parks["park_id"], parks["name"], parks.geometry, strict=True)
    ):
        if i >= 6:
            break
        x0, y0, x1, y1 = geometry.bounds
        found = 0
        while found < 4:
            lon, lat = rng.uniform(x0, x1), rng.uniform(y0, y1)
            if not geometry.buffer(-0.002).contains(shapely.Point(lon, lat)):
                continue
            k = len(rows)
            system = ""
            if found == 3:  # an Amap point: the ledger holds GCJ-02
                lon, lat = (float(v) for v in wgs84_to_gcj02(lon, lat))
                system = "gcj02"
            rows.append(
                [
                    f"{park_id}-{k:03d}",
                    f"项目{k}",
                    name,
                    statuses[k % 4],
                    f"{(k * 37) % 900 + 100}" if k % 5 else f"{k + 1}亿元",
                    dt.date(2020, 1 + k % 12, 1 + k % 28),
                    float(round(lon, 6)),
                    float(round(lat, 6)),
                    system,
                ]
            )
            found += 1
    first = rows[0]
    rows += [
        ["X-001", "无坐标", first[2], "在建", "500", None, None, None, ""],
        ["X-002", "境外", "", "在建", "500", None, -3.7, 40.4, ""],
        [first[0], "重复编号", first[2], "在建", "300", None, first[6], first[7], ""],
        ["X-004", "负投资", first[2], "在建", "-5", None, first[6], first[7], ""],
        ["", "合计", "", "", "99999", None, None, None, ""],
        ["X-006", "状态不明", first[2], "谈判", "待定", None, first[6], first[7], ""],
        ["X-007", "", first[2], "投产", "", dt.date(2019, 5, 6), first[6], first[7], ""],
    ]
    return rows


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.date):
        return value.isoformat()
    return repr(value) if isinstance(value, float) else str(value)


def write_ledger_csv(rows: list[list[object]], path: Path) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        writer.writerows([[_cell(v) for v in row] for row in rows])
    return path


def _admin(server: pg.PgServer) -> object:
    import psycopg

    return psycopg.connect(server.url(), autocommit=True)


def create_pg_table(
    server: pg.PgServer,
    rows: list[list[object]],
    name: str,
    *,
    schema: str | None = None,
    geometry_srid: int | None = None,
    numeric: bool = False,
) -> None:
    """The ledger's rows as a table, primary key ``gid`` = the CSV's row number; with
    ``geometry_srid`` the coordinates are a PostGIS point column instead of lon/lat; with
    ``numeric`` the investment is a ``numeric`` column (the rows must hold numbers there)."""
    from psycopg import sql

    table = sql.Identifier(schema, name) if schema else sql.Identifier(name)
    types = list(PG_TYPES)
    if numeric:
        types[4] = "numeric(12, 2)"
    kept = COLUMNS[:6] + COLUMNS[8:] if geometry_srid else COLUMNS
    types = types[:6] + types[8:] if geometry_srid else types
    defs = [
        sql.SQL("{} {}").format(sql.Identifier(c), sql.SQL(t))
        for c, t in zip(kept, types, strict=True)
    ]
    if geometry_srid:
        defs.append(sql.SQL("geom geometry(Point, {})").format(sql.Literal(geometry_srid)))
    with _admin(server) as conn:  # type: ignore[attr-defined]
        if schema:
            conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))
        conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(table))
        conn.execute(
            sql.SQL("CREATE TABLE {} (gid integer PRIMARY KEY, {})").format(
                table, sql.SQL(", ").join(defs)
            )
        )
        holes = ", ".join(["%s"] * (len(kept) + 1))
        if geometry_srid:
            point = sql.SQL(
                "CASE WHEN %s::float8 IS NULL THEN NULL ELSE "
                "ST_Transform(ST_SetSRID(ST_MakePoint(%s, %s), 4326), {}) END"
            ).format(sql.Literal(geometry_srid))
            statement = sql.SQL("INSERT INTO {} VALUES (" + holes + ", {})").format(table, point)
            values = [[i + 2, *r[:6], r[8], r[6], r[6], r[7]] for i, r in enumerate(rows)]
        else:
            statement = sql.SQL("INSERT INTO {} VALUES (" + holes + ")").format(table)
            values = [[i + 2, *r] for i, r in enumerate(rows)]
        with conn.cursor() as cursor:
            cursor.executemany(statement, values)


def _build(tmp_path: Path, name: str, *args: str, env: dict[str, str] | None = None) -> Path:
    out = tmp_path / name
    result = CliRunner().invoke(main, ["build", *args, "--out", str(out)], env=env)
    assert result.exit_code == 0, result.output
    return out


# ---------------------------------------------------------------- PostgreSQL / PostGIS


def numeric_rows(rows: list[list[object]]) -> list[list[object]]:
    """The ledger with investment as numbers in 万元 (亿元 cells × 10,000, 待定 → empty), some
    with cents, as a ``numeric`` column holds them."""
    out = []
    for k, row in enumerate(rows):
        text = str(row[4])
        if text.endswith("亿元"):
            amount: float | int | None = float(text[:-2]) * 10_000
        elif text in ("", "待定"):
            amount = None
        else:
            amount = float(text) + (0.25 if k % 3 == 0 else 0.0)
        if amount is not None and amount.is_integer():
            amount = int(amount)  # as the CSV would show it: 500, not 500.0
        out.append([*row[:4], amount, *row[5:]])
    return out


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["lonlat", "postgis", "numeric"])
def test_pg_build_equals_csv_build(
    postgis: pg.PgServer, ledger_rows: list[list[object]], tmp_path: Path, kind: str
) -> None:
    geometry = kind == "postgis"
    table = f"ledger_{kind}"
    if kind == "numeric":
        ledger_rows = numeric_rows(ledger_rows)
    create_pg_table(
        postgis,
        ledger_rows,
        table,
        geometry_srid=4326 if geometry else None,
        numeric=kind == "numeric",
    )
    ledger = write_ledger_csv(ledger_rows, tmp_path / "ledger.csv")
    by_csv = _build(tmp_path, "csv", "--projects", str(ledger))
    by_db = _build(tmp_path, "db", "--projects", postgis.url(), "--table", table)
    assert (by_db / "parks.csv").read_bytes() == (by_csv / "parks.csv").read_bytes()
    # The rows carry the CSV's row numbers as their key, so the rejections match too, except
    # for how a missing point is worded when the coordinates are a geometry.
    rejected_csv = (by_csv / "rejected.csv").read_text("utf-8-sig").splitlines()
    rejected_db = (by_db / "rejected.csv").read_text("utf-8-sig").splitlines()
    assert len(rejected_db) == len(rejected_csv) == 1 + 5
    rows_csv = [line.split(",")[0] for line in rejected_csv]
    assert [line.split(",")[0] for line in rejected_db] == rows_csv
    if not geometry:
        assert rejected_db == [line.replace("at row ", "at gid ") for line in rejected_csv]
    projects = gpd.read_file(by_db / "projects.geojson")
    assert len(projects) == len(ledger_rows) - 5
    # the GCJ-02 rows were moved back to WGS-84 (430–480 m west of the Amap position)
    gcj = projects[projects["coord_sys"] == "gcj02"]
    assert len(gcj) == sum(r[8] == "gcj02" for r in ledger_rows) > 0
    assert (gcj["lon_orig"] - gcj["lon"]).between(0.004, 0.007).all()


def test_pg_row_outcomes_name_the_primary_key(
    server: pg.PgServer, ledger_rows: list[list[object]]
) -> None:
    create_pg_table(server, ledger_rows, "ledger_lonlat")
    result = CliRunner().invoke(
        main, ["validate", "--projects", server.url(), "--table", "ledger_lonlat", "--all"]
    )
    assert result.exit_code == 0, result.output
    n = len(ledger_rows)
    assert f"read {n} · mapped" in result.output
    missing = f"ledger_lonlat: gid {n - 5}, column 经度; 纬度: rejected: coordinates missing"
    assert missing in result.output
    assert "(first at gid 2)" in result.output
    assert pg.PASSWORD not in result.output


def test_pg_query_and_transformed_geometry(
    postgis: pg.PgServer, ledger_rows: list[list[object]]
) -> None:
    create_pg_table(postgis, ledger_rows, "ledger_geom", geometry_srid=4326)
    sql = (
        "SELECT gid, 项目编号, ST_Transform(geom, 4549) AS shape FROM ledger_geom "
        "WHERE 项目状态 = '在建' ORDER BY gid DESC;"
    )
    raw = read.project_table(postgis.url(), query=sql)
    wanted = [(i + 2, r) for i, r in enumerate(ledger_rows) if r[3] == "在建"][::-1]
    assert raw.row_label == "record"
    assert raw.numbers().tolist() == list(range(1, len(wanted) + 1))
    assert raw.table["gid"].tolist() == [gid for gid, _ in wanted]
    assert "geometry column shape: EPSG:4549 converted to WGS-84" in raw.notes
    # back from Gauss–Krüger to lon/lat by pyproj, independently of parkmap
    to_gk = Transformer.from_crs("EPSG:4326", "EPSG:4549", always_xy=True)
    back = Transformer.from_crs("EPSG:4549", "EPSG:4326", always_xy=True)
    for (_, row), lon, lat in zip(wanted, raw.table["lon"], raw.table["lat"], strict=True):
        if row[6] is None or row[1] == "境外":
            continue
        expected = back.transform(*to_gk.transform(row[6], row[7]))
        assert lon == pytest.approx(expected[0], abs=1e-9)
        assert lat == pytest.approx(expected[1], abs=1e-9)


def test_pg_query_is_read_only(server: pg.PgServer, ledger_rows: list[list[object]]) -> None:
    create_pg_table(server, ledger_rows, "ledger_lonlat")
    with _admin(server) as conn:  # type: ignore[attr-defined]
        conn.execute("CREATE SEQUENCE IF NOT EXISTS ids")
    result = CliRunner().invoke(
        main,
        [
            "validate",
            "--projects",
            server.url(),
            "--query",
            "SELECT nextval('ids') AS id, * FROM ledger_lonlat",
        ],
    )
    assert result.exit_code == 2
    assert "read-only transaction" in result.output
    assert len(result.output.strip().splitlines()) == 1
    # a query is one statement: it cannot close the read-only transaction and run another
    escape = "SELECT 1 AS lon, 2 AS lat) AS q; COMMIT; DELETE FROM ledger_lonlat; SELECT (1"
    with pytest.raises(InputError, match="syntax error"):
        read.project_table(server.url(), query=escape)
    with _admin(server) as conn:  # type: ignore[attr-defined]
        assert conn.execute("SELECT count(*) FROM ledger_lonlat").fetchone()[0] == len(ledger_rows)


def test_pg_quoted_and_schema_qualified_tables(
    server: pg.PgServer, ledger_rows: list[list[object]]
) -> None:
    weird = 'we"ird name; DROP TABLE ledger_lonlat; --'
    create_pg_table(server, ledger_rows[:3], weird)
    create_pg_table(server, ledger_rows[:4], "Projects", schema="office 2")
    raw = read.project_table(server.url(), table=weird)
    assert raw.table["项目编号"].tolist() == [r[0] for r in ledger_rows[:3]]
    raw = read.project_table(server.url(), table='"office 2"."Projects"')
    assert raw.table["gid"].tolist() == [2, 3, 4, 5]
    assert raw.row_label == "gid" and raw.numbers().tolist() == [2, 3, 4, 5]
    with pytest.raises(InputError, match=r"no table missing in the database; tables are: .*ledger"):
        read.project_table(server.url(), table="missing")
    with pytest.raises(InputError, match=r"no table nope.x in schema nope"):
        read.project_table(server.url(), table="nope.x")


@pytest.mark.parametrize("where", ["url", "PGPASSWORD"])
def test_pg_wrong_password_is_one_line_without_it(server: pg.PgServer, where: str) -> None:
    secret = "Wr0ng-pa$$'word"
    if where == "url":
        url, env = server.url(password=secret), {"PGPASSWORD": None}
    else:
        url, env = server.url(password=None), {"PGPASSWORD": secret}
    result = CliRunner().invoke(
        main, ["build", "--projects", url, "--table", "ledger_lonlat", "--out", "unused"], env=env
    )
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: postgresql://planner")
    assert "password authentication failed" in lines[0]
    from urllib.parse import quote

    for form in (secret, quote(secret, safe="")):
        assert form not in result.output
        assert form not in (result.stderr if result.stderr_bytes else "")


def test_pg_password_from_pgpass(
    server: pg.PgServer, ledger_rows: list[list[object]], tmp_path: Path
) -> None:
    create_pg_table(server, ledger_rows, "ledger_lonlat")
    pgpass = tmp_path / "pgpass"
    password = pg.PASSWORD.replace("\\", "\\\\").replace(":", "\\:")
    pgpass.write_text(f"127.0.0.1:{server.port}:{pg.DATABASE}:{pg.USER}:{password}\n")
    pgpass.chmod(0o600)
    result = CliRunner().invoke(
        main,
        ["validate", "--projects", server.url(password=None), "--table", "ledger_lonlat"],
        env={"PGPASSFILE": str(pgpass), "PGPASSWORD": None},
    )
    assert result.exit_code == 0, result.output
    assert f"read {len(ledger_rows)} ·" in result.output


@pytest.mark.slow
def test_pg_100k_rows_stream_through_a_server_side_cursor(server: pg.PgServer) -> None:
    n = 100_000
    with _admin(server) as conn:  # type: ignore[attr-defined]
        conn.execute("DROP TABLE IF EXISTS big")
        conn.execute(
            "CREATE TABLE big AS SELECT g AS id, 'P' || g AS project_id, "
            "120.0 + (g % 1000) / 10000.0 AS lon, 36.5 + (g / 1000) / 10000.0 AS lat "
            f"FROM generate_series(1, {n}) AS g"
        )
        conn.execute("ALTER TABLE big ADD PRIMARY KEY (id)")
    seen: list[str] = []

    def server_activity() -> None:
        with _admin(server) as admin:  # type: ignore[attr-defined]
            found = admin.execute(
                "SELECT query FROM pg_stat_activity WHERE usename = %s AND pid <> pg_backend_pid()",
                (pg.USER,),
            ).fetchall()
            seen.extend(q for (q,) in found)

    sizes = []
    for part in database.iter_chunks(server.url(), table="big", chunk_rows=10_000):
        sizes.append(len(part))
        if len(sizes) == 2:
            thread = threading.Thread(target=server_activity)
            thread.start()
            thread.join()
    assert sizes == [10_000] * 10
    # the rows come by FETCH from a cursor declared on the server, not in one result
    assert any(q.lstrip().upper().startswith("FETCH") for q in seen), seen
    raw = read.project_table(server.url(), table="big")
    assert len(raw.table) == n and raw.numbers()[[0, -1]].tolist() == [1, n]
    # numeric columns arrive as numbers: lon of id g is 120 + (g mod 1000)/10000
    assert raw.table["lon"].iloc[12_345] == pytest.approx(120.0 + (12_346 % 1000) / 10_000)


# ---------------------------------------------------------------- SQLite / GeoPackage


@pytest.fixture(scope="module")
def _sqlalchemy() -> None:
    try:
        import sqlalchemy  # noqa: F401
    except ImportError:
        _fail_or_skip("sqlalchemy not installed (pip install 'parkmap[db]')")


def write_gpkg(rows: list[list[object]], path: Path, layer: str) -> Path:
    """The ledger's rows as a GeoPackage point layer (no lon/lat columns)."""
    points = [None if r[6] is None else shapely.Point(r[6], r[7]) for r in rows]
    frame = gpd.GeoDataFrame(
        {c: [r[i] for r in rows] for i, c in enumerate(COLUMNS) if c not in ("经度", "纬度")},
        geometry=points,
        crs="EPSG:4326",
    )
    frame["签约日期"] = frame["签约日期"].map(lambda d: d.isoformat() if d else None)
    frame.to_file(path, layer=layer, driver="GPKG")
    return path


def write_sqlite(rows: list[list[object]], path: Path, table: str) -> Path:
    with sqlite3.connect(path) as conn:
        quoted = '"' + table.replace('"', '""') + '"'
        names = ", ".join('"' + c.replace('"', '""') + '"' for c in COLUMNS)
        conn.execute(f"CREATE TABLE {quoted} (fid INTEGER PRIMARY KEY, {names})")
        holes = ", ".join("?" * (len(COLUMNS) + 1))
        conn.executemany(
            f"INSERT INTO {quoted} VALUES ({holes})",
            [
                [i + 2, *[_cell(v) if isinstance(v, dt.date) else v for v in r]]
                for i, r in enumerate(rows)
            ],
        )
    return path


@pytest.mark.slow
@pytest.mark.usefixtures("_sqlalchemy")
@pytest.mark.parametrize("kind", ["gpkg", "sqlite"])
def test_sqlite_and_geopackage_builds_equal_csv_build(
    ledger_rows: list[list[object]], tmp_path: Path, kind: str
) -> None:
    if kind == "gpkg":
        source = write_gpkg(ledger_rows, tmp_path / "ledger.gpkg", "projects")
    else:
        source = write_sqlite(ledger_rows, tmp_path / "ledger.sqlite", "projects")
    ledger = write_ledger_csv(ledger_rows, tmp_path / "ledger.csv")
    by_csv = _build(tmp_path, "csv", str(ledger))
    by_db = _build(tmp_path, "db", "--projects", str(source), "--table", "projects")
    assert (by_db / "parks.csv").read_bytes() == (by_csv / "parks.csv").read_bytes()
    raw = read.project_table(source, table="projects")
    assert raw.row_label == "fid"
    first = 1 if kind == "gpkg" else 2  # GDAL numbers features from 1; our table from 2
    assert raw.numbers().tolist() == list(range(first, len(ledger_rows) + first))


@pytest.mark.usefixtures("_sqlalchemy")
def test_geopackage_query_and_table_names(ledger_rows: list[list[object]], tmp_path: Path) -> None:
    source = write_gpkg(ledger_rows, tmp_path / "ledger.gpkg", 'o"brien layer')
    raw = read.project_table(
        source, query='SELECT * FROM "o""brien layer" WHERE 项目状态 = \'在建\''
    )
    wanted = [r for r in ledger_rows if r[3] == "在建"]
    assert raw.table["项目编号"].tolist() == [r[0] for r in wanted]
    assert raw.table["lon"].tolist() == pytest.approx(
        [np.nan if r[6] is None else r[6] for r in wanted], nan_ok=True
    )
    assert read.project_table(source, table='o"brien layer').table.shape[0] == len(ledger_rows)
    with pytest.raises(
        InputError, match=r"no table projects in the database; tables are: o\"brien layer"
    ):
        read.project_table(source, table="projects")
    # the file is opened read-only: a query cannot change it
    with pytest.raises(InputError, match="cannot read the query"):
        read.project_table(source, query='DELETE FROM "o""brien layer" RETURNING *')


@pytest.mark.usefixtures("_sqlalchemy")
def test_database_options_are_checked(tmp_path: Path, ledger_rows: list[list[object]]) -> None:
    source = write_sqlite(ledger_rows, tmp_path / "ledger.sqlite", "projects")
    ledger = write_ledger_csv(ledger_rows, tmp_path / "ledger.csv")
    runner = CliRunner()
    cases = [
        (["--projects", str(source)], None),  # a .sqlite file alone: not a record file
        (["--projects", str(ledger), "--table", "projects"], "not a .csv file"),
        (["--projects", str(source), "--table", "projects", "--query", "SELECT 1"], "one of them"),
        (["--projects", str(source), "--table", "projects", "--sheet", "2"], "--sheet applies"),
        (["--projects", "postgresql://u:s3cr3t@127.0.0.1:1/db"], "give --table NAME or --query"),
    ]
    for args, message in cases:
        result = runner.invoke(main, ["validate", *args])
        assert result.exit_code == 2, (args, result.output)
        assert len(result.output.strip().splitlines()) == 1, result.output
        if message:
            assert message in result.output
        assert "s3cr3t" not in result.output
    result = runner.invoke(
        main,
        ["build", "--projects", str(source), "--table", "projects", "--engine", "dask"],
    )
    assert result.exit_code == 2
    assert "--engine dask reads a Parquet file or folder, not a database" in result.output


def test_table_names_parse_as_sql_identifiers() -> None:
    assert parse_table_name("projects") == database.QualifiedName("projects")
    assert parse_table_name("office.projects") == database.QualifiedName("projects", "office")
    assert parse_table_name('"my.schema"."we""ird"') == database.QualifiedName(
        'we"ird', "my.schema"
    )
    assert parse_table_name('we"ird name') == database.QualifiedName('we"ird name')
    for bad in ("", "a.b.c", '"open', "a.", '"a"b'):
        with pytest.raises(UsageError):
            parse_table_name(bad)


def test_passwords_are_masked(monkeypatch: pytest.MonkeyPatch) -> None:
    url = "postgresql://bob:p%40ss%3Aw0rd@db.example:5432/ledger"
    text = f"could not connect to {url}; password p@ss:w0rd rejected"
    shown = masked(text, url)
    assert "p@ss:w0rd" not in shown and "p%40ss%3Aw0rd" not in shown
    assert "postgresql://bob:***@db.example:5432/ledger" in shown
    monkeypatch.setenv("PGPASSWORD", "from-env-42")
    assert masked("FATAL: password from-env-42 wrong") == "FATAL: password *** wrong"


def test_pg_empty_table_is_one_line(server: pg.PgServer, ledger_rows: list[list[object]]) -> None:
    create_pg_table(server, ledger_rows[:0], "empty")
    result = CliRunner().invoke(main, ["validate", "--projects", server.url(), "--table", "empty"])
    assert result.exit_code == 2
    assert result.output.strip() == "Error: empty: no records to read"


@pytest.mark.usefixtures("_sqlalchemy")
def test_sqlite_mixed_cells_are_read_as_written(tmp_path: Path) -> None:
    """SQLite keeps each cell's own type: numbers and text in one column stay what they are."""
    path = tmp_path / "mixed.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE t (项目编号, 经度, 纬度, 总投资)")
        conn.executemany(
            "INSERT INTO t VALUES (?, ?, ?, ?)",
            [
                (101, 120.25, 36.5, 12),
                ("P-2", "120°15'0\"E", "36.5", "5000万元"),
                (None, None, None, None),
            ],
        )
    loaded = read.project_table(path, table="t")
    assert loaded.row_label == "record" and loaded.numbers().tolist() == [1, 2, 3]
    from parkmap.validate import validate_records

    result = validate_records(loaded)
    assert result.projects["project_id"].tolist() == ["101", "P-2"]
    assert result.projects["lon"].tolist() == [120.25, 120.25]
    assert result.projects["investment_100m_cny"].tolist() == [12.0, 0.5]
    assert result.rejected["row"].tolist() == [3]


def test_missing_packages_name_the_install_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, ledger_rows: list[list[object]]
) -> None:
    """Without SQLAlchemy (or psycopg for PostgreSQL) the error is the pip line, exit 2."""
    pytest.importorskip("sqlalchemy")
    source = write_sqlite(ledger_rows[:2], tmp_path / "ledger.sqlite", "projects")
    runner = CliRunner()
    monkeypatch.setitem(sys.modules, "psycopg", None)  # import psycopg → ImportError
    url = "postgresql://planner:s3cr3t@127.0.0.1:1/ledger"
    result = runner.invoke(main, ["validate", "--projects", url, "--table", "projects"])
    assert result.exit_code == 2
    assert result.output.startswith("Error: postgresql://planner:***@127.0.0.1:1/ledger: the ")
    assert "pip install 'parkmap[db]'" in result.output and "s3cr3t" not in result.output
    monkeypatch.setitem(sys.modules, "sqlalchemy", None)
    result = runner.invoke(main, ["validate", "--projects", str(source), "--table", "projects"])
    assert result.exit_code == 2
    assert result.output.strip() == (
        "Error: reading from a database needs SQLAlchemy: pip install 'parkmap[db]'"
    )
    result = runner.invoke(main, ["validate", "--table", "projects"])
    assert result.exit_code == 2 and "--table and --query need --projects" in result.output

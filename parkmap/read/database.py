"""Project records from a database table or query: PostgreSQL/PostGIS, SQLite and GeoPackage.

The rows become the same :class:`~parkmap.read.tables.RawTable` the file readers give, so every
rule of :mod:`parkmap.validate` (aliases, units, coordinate systems, row outcomes) applies
unchanged. Rows are fetched in chunks of :data:`CHUNK_ROWS` through a server-side cursor, so a
table of a million rows never sits in the driver and in Python row objects at once.

* **Sources.** A URL (``postgresql://user@host:5432/db``; SQLAlchemy's forms such as
  ``postgresql+psycopg://`` and ``sqlite:///ledger.db`` too) or a SQLite/GeoPackage file, with
  ``table`` (schema-qualified allowed) or ``query`` (one ``SELECT``, run read-only).
* **Credentials** come from the URL, ``PGPASSWORD`` or ``~/.pgpass`` (libpq reads the last
  two); a password never appears in a message: :func:`masked` hides it.
* **Names.** Table and column names are quoted identifiers built by SQLAlchemy, never pasted
  into SQL; only ``query`` is SQL, and it is the user's own.
* **Rows.** A table with a single-column whole-number primary key numbers its rows by that key
  (``row_label`` is the key's name: ``gid 17``); otherwise rows are numbered 1, 2, … in the order
  read (``record 5``): by primary key when there is one, as the query orders them for a query.
* **Geometry.** A PostGIS ``geometry``/``geography`` column or a GeoPackage geometry column gives
  ``lon``/``lat`` (it wins over lon/lat columns, as in a point layer file). A geometry in another
  SRID is converted to WGS-84 with PROJ; SRID 0 (unknown) is read as lon/lat. A row whose
  geometry is not a point is rejected (as for point layer files), never reduced to a centroid.
* **Snapshots.** A table (or query) holding many snapshots of the ledger, told apart by a
  snapshot-date column, is read one day at a time (``snapshot=(column, day)``): the rows whose
  column falls on that day, the day given as bound parameters (a ``date``/``timestamp``
  column compared as such, any other as ISO text); :func:`snapshot_days` lists the days.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import math
import os
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, cast
from urllib.parse import quote as url_quote
from urllib.parse import unquote

import numpy as np
import pandas as pd
import shapely

from parkmap.cell_values import TEXT
from parkmap.errors import InputError, MissingDependencyError, UsageError
from parkmap.schema import header_key
from parkmap.settings import WGS84, PathLike

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Engine

    from parkmap.read.tables import RawTable

#: Rows fetched from the server per round trip; tests set it small to get many chunks.
CHUNK_ROWS: int = 20_000

#: Seconds to wait for a PostgreSQL server to answer (a ``connect_timeout`` in the URL wins).
CONNECT_TIMEOUT_S: Final = 15

#: Files read as SQLite databases when ``table`` or ``query`` is given.
DATABASE_SUFFIXES: Final = {".gpkg", ".sqlite", ".sqlite3", ".db"}

#: ``scheme://`` at the start of a source: a database URL, not a file.
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*://")

INSTALL_HINT: Final = "pip install 'parkmap[db]'"

_GEOMETRY_TYPES: Final = ("geometry", "geography")

#: Size of a GeoPackage blob's envelope by its flags' envelope code (GeoPackage 1.3, §2.1.3).
_GPKG_ENVELOPE: Final = {0: 0, 1: 32, 2: 48, 3: 48, 4: 64}


def is_database_url(source: object) -> bool:
    """Whether ``source`` is a database URL (``postgresql://…``, ``sqlite:///…``)."""
    return isinstance(source, str) and bool(_URL.match(source))


def is_database_source(
    source: object, *, table: str | None = None, query: str | None = None
) -> bool:
    """Whether the records come from a database: a URL, or a table/query of a SQLite file."""
    return is_database_url(source) or table is not None or query is not None


def masked(text: str, url: str | None = None) -> str:
    """``text`` with every password it may carry replaced by ``***``.

    The password of ``url`` (as written and percent-decoded) and of ``PGPASSWORD`` are
    hidden, and so is the password part of any ``scheme://user:password@`` in the text.
    """
    secrets = [os.environ.get("PGPASSWORD", "")]
    if url is not None and is_database_url(url):
        match = re.match(r"^[^:]+://[^:/@]*:([^@/]*)@", url)
        if match:
            secrets += [match[1], unquote(match[1])]
    for secret in sorted({s for s in secrets if s}, key=len, reverse=True):
        text = text.replace(secret, "***")
    return re.sub(r"(://[^:/@\s]*:)[^@\s]*@", r"\1***@", text)


def source_label(source: PathLike, *, table: str | None = None, query: str | None = None) -> str:
    """How messages name a database source: the table as given, or ``query``.

    A ``/`` becomes a full-width ``／`` so the label stays one path part
    (:func:`parkmap.validate.problems` shows ``Path(label).name``).
    """
    label = table if table is not None else "query"
    return label.replace("/", "／")


@dataclass
class QualifiedName:
    """A table name split into schema and table, as ``--table`` gives it."""

    table: str
    schema: str | None = None

    def __str__(self) -> str:
        return f"{self.schema}.{self.table}" if self.schema else self.table


def parse_table_name(text: str) -> QualifiedName:
    """Split ``schema.table`` as SQL does: a part in double quotes may hold dots and ``""``.

    A part not in quotes is taken as written (no case folding); a double quote inside it is
    part of the name (``we"ird name`` is one table).

    Raises
    ------
    UsageError
        For an empty name, an unclosed quote, or more than two parts.
    """
    parts: list[str] = []
    i, n = 0, len(text)
    while i <= n:
        if i < n and text[i] == '"':
            j, name = i + 1, []
            while True:
                if j >= n:
                    raise UsageError(f"--table {text}: unclosed double quote")
                if text[j] == '"':
                    if j + 1 < n and text[j + 1] == '"':
                        name.append('"')
                        j += 2
                        continue
                    break
                name.append(text[j])
                j += 1
            parts.append("".join(name))
            i = j + 1
            if i < n and text[i] != ".":
                raise UsageError(f"--table {text}: expected '.' after a quoted name")
        else:
            j = text.find(".", i)
            j = n if j < 0 else j
            parts.append(text[i:j])
            i = j
        i += 1
    if len(parts) > 2 or not all(parts):
        raise UsageError(
            f"--table {text}: give TABLE or SCHEMA.TABLE (double-quote a name with a dot)"
        )
    return QualifiedName(parts[-1], parts[0] if len(parts) == 2 else None)


def _sqlalchemy() -> Any:
    try:
        import sqlalchemy
    except ImportError as exc:
        raise MissingDependencyError(
            f"reading from a database needs SQLAlchemy: {INSTALL_HINT}"
        ) from exc
    return sqlalchemy


def make_engine(source: PathLike) -> tuple[Engine, str]:
    """A SQLAlchemy engine for ``source`` and the name messages give it (password hidden).

    ``postgresql://`` and ``postgres://`` use psycopg 3; a SQLite/GeoPackage file is opened
    read-only.
    """
    sa = _sqlalchemy()
    if not is_database_url(source):
        import sqlite3

        path = Path(source)
        if not path.is_file():
            raise InputError(f"{path}: no such file")
        uri = f"file:{url_quote(str(path.resolve()))}?mode=ro"
        engine = sa.create_engine(
            "sqlite://", creator=lambda: sqlite3.connect(uri, uri=True, check_same_thread=False)
        )
        return engine, path.name
    text = str(source)
    try:
        url = sa.engine.make_url(text)
    except Exception:  # SQLAlchemy's ArgumentError may echo the URL
        raise UsageError(f"{masked(text, text)}: not a database URL") from None
    shown = masked(url.render_as_string(hide_password=True), text)
    connect_args: dict[str, object] = {}
    if url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+psycopg")
    if url.get_backend_name() == "postgresql" and "connect_timeout" not in url.query:
        connect_args["connect_timeout"] = CONNECT_TIMEOUT_S  # an unreachable host fails, not hangs
    try:
        engine = sa.create_engine(url, connect_args=connect_args)
    except ImportError as exc:
        raise MissingDependencyError(
            f"{shown}: the database driver is not installed ({exc.name or exc}): {INSTALL_HINT}"
        ) from None
    except Exception as exc:  # an unknown dialect, a bad option
        raise UsageError(f"{shown}: {masked(_one_line(exc), text)}") from None
    return engine, shown


def _one_line(exc: BaseException) -> str:
    """A driver error as one line: the driver's own message, without SQLAlchemy's additions."""
    orig = getattr(exc, "orig", None)
    text = str(orig if orig is not None else exc)
    text = text.split("\n[SQL:", 1)[0].split("(Background on this error", 1)[0]
    return " ".join(text.split()) or type(exc).__name__


@dataclass
class _Plan:
    """What to select and how to number and turn the rows into cells."""

    statement: Any
    names: list[str]
    geometry: str | None = None
    srid: int | None = None
    geometry_kind: str = "wkb"  # "wkb" (PostGIS ST_AsBinary) or "gpkg" (GeoPackage blobs)
    key: str | None = None
    notes: list[str] = field(default_factory=list)


def database_table(
    source: PathLike,
    *,
    table: str | None = None,
    query: str | None = None,
    chunk_rows: int | None = None,
    snapshot: tuple[str, _dt.date] | None = None,
) -> RawTable:
    """Read a database table or query as the raw table the file readers give.

    Parameters
    ----------
    source
        Database URL, or a SQLite/GeoPackage file.
    table
        Table (or view) name, ``schema.table`` allowed; double quotes as in SQL.
    query
        One ``SELECT``; run in a read-only transaction.
    chunk_rows
        Rows per fetch (default :data:`CHUNK_ROWS`).
    snapshot
        ``(column, day)``: only the rows whose snapshot-date column falls on ``day``; the
        column itself is not read as a record field.

    Returns
    -------
    RawTable
        ``row_label`` is the primary key's name when it numbers the rows, else ``record``.

    Raises
    ------
    UsageError
        When neither or both of ``table`` and ``query`` are given.
    InputError
        When the server cannot be reached, the table does not exist or the query fails; the
        message is one line and carries no password.
    MissingDependencyError
        When SQLAlchemy or the database driver is not installed.
    """
    from parkmap.read.tables import RawTable as Raw

    label = source_label(source, table=table, query=query)
    chunks: list[pd.DataFrame] = []
    plans: list[_Plan] = []
    for part, plan in _chunks(
        source, table=table, query=query, chunk_rows=chunk_rows, snapshot=snapshot
    ):
        chunks.append(part)
        plans[:] = [plan]
    plan = plans[0]
    frame = _concat(chunks, plan.names)
    cells, rows, row_label, notes = _cells_and_rows(frame, plan)
    return Raw(
        cells,
        Path(label),
        None,
        row_label,
        1,
        row_numbers=rows,
        notes=[*plan.notes, *notes],
    )


def iter_chunks(
    source: PathLike,
    *,
    table: str | None = None,
    query: str | None = None,
    chunk_rows: int | None = None,
) -> Iterator[pd.DataFrame]:
    """The rows of a table or query, one DataFrame per fetch (geometry still as read)."""
    for part, _ in _chunks(source, table=table, query=query, chunk_rows=chunk_rows):
        yield part


def _check_choice(source: PathLike, table: str | None, query: str | None) -> None:
    if (table is None) == (query is None):
        where = masked(str(source), str(source)) if is_database_url(source) else str(source)
        raise UsageError(f"{where}: give --table NAME or --query SQL (one of them)")


def _chunks(
    source: PathLike,
    *,
    table: str | None,
    query: str | None,
    chunk_rows: int | None,
    snapshot: tuple[str, _dt.date] | None = None,
) -> Iterator[tuple[pd.DataFrame, _Plan]]:
    _check_choice(source, table, query)
    size = chunk_rows or CHUNK_ROWS
    what = f"table {table}" if table is not None else "query"
    with _opened(source) as (conn, shown, secret):
        plan = _plan(conn, shown, table=table, query=query, snapshot=snapshot)
        with _reading(shown, what, secret):
            result = conn.execution_options(stream_results=True, yield_per=size).execute(
                plan.statement
            )
            yielded = False
            for rows in result.partitions(size):
                yielded = True
                yield _frame(rows, plan.names), plan
            if not yielded:
                yield _frame([], plan.names), plan


@contextlib.contextmanager
def _opened(source: PathLike) -> Iterator[tuple[Connection, str, str]]:
    """A read-only connection to ``source``, the source as messages show it, and the text no
    message may carry (the URL with its password).

    Driver messages may quote the connection string: every error that leaves is masked.
    """
    engine, shown = make_engine(source)
    secret = str(source)
    try:
        with _connect(engine, shown, secret) as conn:
            yield conn, shown, secret
    except (InputError, UsageError) as exc:
        raise type(exc)(masked(str(exc), secret)) from None
    finally:
        engine.dispose()


@contextlib.contextmanager
def _reading(shown: str, what: str, secret: str) -> Iterator[None]:
    """A database error while reading ``what`` as one masked line (:class:`InputError`)."""
    sa = _sqlalchemy()
    try:
        yield
    except sa.exc.DBAPIError as exc:
        raise InputError(
            f"{shown}: cannot read the {what}: {masked(_one_line(exc), secret)}"
        ) from None


@contextlib.contextmanager
def _connect(engine: Engine, shown: str, secret: str) -> Iterator[Connection]:
    sa = _sqlalchemy()
    try:
        conn = engine.connect()
    except sa.exc.DBAPIError as exc:
        raise InputError(f"{shown}: cannot connect: {masked(_one_line(exc), secret)}") from None
    try:
        if engine.dialect.name == "postgresql":
            # Nothing a query does can change the data; a server-side cursor needs a transaction.
            conn.execute(sa.text("SET TRANSACTION READ ONLY"))
        yield conn
    finally:
        with contextlib.suppress(Exception):
            conn.rollback()
        conn.close()


def _query_clause(query: str) -> Any:
    """The user's own SQL, as a subquery; every name around it is quoted by SQLAlchemy."""
    sa = _sqlalchemy()
    sql = query.strip().rstrip(";").strip()
    if not sql:
        raise UsageError("--query is empty")
    return (
        sa.select(sa.literal_column("*"))
        .select_from(sa.text(f"({sql}) AS parkmap_query"))
        .subquery("parkmap_rows")
    )


def _table_clause(name: QualifiedName) -> Any:
    sa = _sqlalchemy()
    return sa.table(
        sa.sql.quoted_name(name.table, True),
        schema=sa.sql.quoted_name(name.schema, True) if name.schema else None,
    )


def _plan(
    conn: Connection,
    shown: str,
    *,
    table: str | None,
    query: str | None,
    snapshot: tuple[str, _dt.date] | None = None,
) -> _Plan:
    sa = _sqlalchemy()
    order: list[Any] = []
    key = None
    if query is not None:
        from_clause = _query_clause(query)
        names, kinds = _probe(conn, sa.select(from_clause).limit(0), shown, "query")
        plan = _Plan(None, names)
        geometry = next(
            (n for n, k in zip(names, kinds, strict=True) if k in _GEOMETRY_TYPES), None
        )
        plan.geometry = geometry
        if geometry is None and conn.dialect.name == "sqlite":
            plan.geometry_kind = "query"  # GeoPackage blobs are told by their content
    else:
        assert table is not None
        name = _existing_table(conn, parse_table_name(table), shown)
        from_clause = _table_clause(name)
        probe = sa.select(sa.literal_column("*")).select_from(from_clause).limit(0)
        names, kinds = _probe(conn, probe, shown, f"table {table}")
        plan = _Plan(None, names)
        keys = sa.inspect(conn).get_pk_constraint(name.table, schema=name.schema)
        columns = [c for c in keys.get("constrained_columns") or [] if c in names]
        key = columns[0] if len(columns) == 1 else None
        if len(columns) > 1:
            plan.notes.append(
                f"{name}: primary key of {len(columns)} columns; rows are numbered 1, 2, … "
                "in key order (record N)"
            )
        order = [_col(sa, c) for c in columns]
        plan.geometry, plan.srid, plan.geometry_kind = _table_geometry(conn, name, names, kinds)
    plan.key = key
    where = None
    snapshot_column = None
    if snapshot is not None:
        snapshot_column = _snapshot_column(names, snapshot[0], shown)
        kind = kinds[names.index(snapshot_column)]
        where = _on_day(_col(sa, snapshot_column), kind, snapshot[1])
        plan.notes.append(
            f"the rows of {snapshot[1].isoformat()} in the snapshot column {snapshot_column}"
        )
    as_wkb = plan.geometry_kind == "wkb"
    selected, plan.names = [], []
    for column, kind in zip(names, kinds, strict=True):
        if column == snapshot_column:
            continue  # which snapshot a row belongs to is no field of the record
        expr = _col(sa, column)
        if kind == "numeric":
            # Amounts become floats in any case; PostgreSQL sends float8 for the driver to parse
            # in C, instead of a Python Decimal per cell (the same correctly rounded number).
            selected.append(sa.cast(expr, sa.Float(precision=53)).label(column))
            plan.names.append(column)
        elif column == plan.geometry and as_wkb:
            selected += [
                sa.func.ST_AsBinary(expr).label("__wkb"),
                sa.func.ST_SRID(expr).label("__srid"),
            ]
            plan.names += ["__wkb", "__srid"]
        else:
            selected.append(expr)
            plan.names.append(column)
    statement = sa.select(*selected).select_from(from_clause)
    if where is not None:
        statement = statement.where(where)
    plan.statement = statement.order_by(*order) if order else statement
    if plan.geometry is not None:
        plan.notes.append(f"coordinates from the geometry column {plan.geometry}")
    return plan


#: PostgreSQL column types compared with a snapshot day as dates (any other type: as ISO text).
_DATE_TYPES: Final = ("date", "timestamp", "timestamptz")


def _snapshot_column(names: Sequence[str], column: str, shown: str) -> str:
    """The snapshot-date column as the database spells it: as given, else the one column
    whose name differs only in case; else an error listing the columns."""
    if column in names:
        return column
    folded = [n for n in names if n.casefold() == column.casefold()]
    if len(folded) == 1:
        return folded[0]
    listed = ", ".join(names[:20]) + (" …" if len(names) > 20 else "")
    raise InputError(f"{shown}: no snapshot column {column}; columns are: {listed}")


def _on_day(expr: Any, kind: str, day: _dt.date) -> Any:
    """``expr`` falls on ``day``: ``day <= expr < day + 1``, both bounds bound parameters."""
    sa = _sqlalchemy()
    after = day + _dt.timedelta(days=1)
    if kind in _DATE_TYPES:
        low, high = sa.bindparam(None, day, sa.Date), sa.bindparam(None, after, sa.Date)
    else:
        # SQLite keeps dates as ISO text ("2026-11-27", "2026-11-27 09:00"); so may a text column
        expr = sa.cast(expr, sa.Text)
        low = sa.bindparam(None, day.isoformat(), sa.Text)
        high = sa.bindparam(None, after.isoformat(), sa.Text)
    return sa.and_(expr >= low, expr < high)


def _as_day(value: object, column: str, shown: str) -> _dt.date:
    """A snapshot-date cell as a day: a date, a timestamp's day, or ISO text."""
    if isinstance(value, _dt.datetime):
        return value.date()
    if isinstance(value, _dt.date):
        return value
    text = str(value).strip()
    try:
        return _dt.date.fromisoformat(text[:10])
    except ValueError:
        raise InputError(
            f"{shown}: the snapshot column {column} holds {text[:40]!r}, not a date (YYYY-MM-DD)"
        ) from None


def snapshot_days(
    source: PathLike, *, table: str | None = None, query: str | None = None, column: str
) -> tuple[list[_dt.date], int]:
    """The days of the snapshots a table or query holds, oldest first, by its snapshot-date
    column, and how many rows have no date there (they belong to no snapshot).

    Raises
    ------
    InputError
        When the column does not exist or holds something that is not a date.
    """
    _check_choice(source, table, query)
    sa = _sqlalchemy()
    with _opened(source) as (conn, shown, secret):
        if query is not None:
            from_clause = _query_clause(query)
            what = "query"
        else:
            assert table is not None
            from_clause = _table_clause(_existing_table(conn, parse_table_name(table), shown))
            what = f"table {table}"
        probe = sa.select(sa.literal_column("*")).select_from(from_clause).limit(0)
        names, _ = _probe(conn, probe, shown, what)
        name = _snapshot_column(names, column, shown)
        expr = _col(sa, name)
        statement = sa.select(expr, sa.func.count()).select_from(from_clause).group_by(expr)
        with _reading(shown, what, secret):
            found = conn.execute(statement).all()
    dated = [value for value, _ in found if value is not None and str(value).strip()]
    undated = sum(int(n) for value, n in found if value is None or not str(value).strip())
    return sorted({_as_day(value, name, shown) for value in dated}), undated


def _col(sa: Any, name: str) -> Any:
    """A column by its exact name, always quoted."""
    return sa.column(sa.sql.quoted_name(name, True))


def _probe(conn: Connection, statement: Any, shown: str, what: str) -> tuple[list[str], list[str]]:
    """Column names of a select, and each column's type name (PostgreSQL; else "")."""
    sa = _sqlalchemy()
    try:
        result = conn.execute(statement)
    except sa.exc.DBAPIError as exc:
        raise InputError(f"{shown}: cannot read the {what}: {_one_line(exc)}") from None
    names = [str(n) for n in result.keys()]  # noqa: SIM118 - a Result, not a dict
    codes = [d[1] for d in (result.cursor.description or [])] if result.cursor else []
    result.close()
    kinds = [""] * len(names)
    if conn.dialect.name == "postgresql" and codes:
        found = conn.execute(
            sa.text("SELECT oid, typname FROM pg_type WHERE oid = ANY(:oids)"),
            {"oids": [int(str(c)) for c in codes if c is not None]},
        ).all()
        by_oid = {int(oid): str(name) for oid, name in found}
        kinds = [by_oid.get(int(str(c)), "") if c is not None else "" for c in codes]
    return names, kinds


def _existing_table(conn: Connection, name: QualifiedName, shown: str) -> QualifiedName:
    """The table as the database spells it: as given, else folded to lower case (PostgreSQL
    folds unquoted names), else an error listing the tables there are."""
    sa = _sqlalchemy()
    inspector = sa.inspect(conn)
    candidates = [name]
    if name.table != name.table.lower() or (name.schema and name.schema != name.schema.lower()):
        candidates.append(QualifiedName(name.table.lower(), name.schema and name.schema.lower()))
    for candidate in candidates:
        try:
            if inspector.has_table(candidate.table, schema=candidate.schema):
                return candidate
            if candidate.table in inspector.get_view_names(schema=candidate.schema):
                return candidate
        except sa.exc.DBAPIError:
            continue  # no such schema
    try:
        tables = sorted(inspector.get_table_names(schema=name.schema))
    except sa.exc.DBAPIError:
        tables = []
    tables = [t for t in tables if not t.startswith(("gpkg_", "rtree_", "sqlite_", "spatial_ref"))]
    listed = ", ".join(tables[:20]) + (" …" if len(tables) > 20 else "")
    where = f"schema {name.schema}" if name.schema else "the database"
    raise InputError(
        f"{shown}: no table {name} in {where}"
        + (f"; tables are: {listed}" if listed else "; it has no tables")
    )


def _table_geometry(
    conn: Connection, name: QualifiedName, names: Sequence[str], kinds: Sequence[str]
) -> tuple[str | None, int | None, str]:
    """The geometry column of a table, its SRID if declared, and how it is stored."""
    sa = _sqlalchemy()
    postgis = [n for n, k in zip(names, kinds, strict=True) if k in _GEOMETRY_TYPES]
    if postgis:
        return postgis[0], None, "wkb"
    if conn.dialect.name != "sqlite":
        return None, None, "wkb"
    try:
        found = conn.execute(
            sa.text(
                "SELECT g.column_name, s.organization, s.organization_coordsys_id, g.srs_id "
                "FROM gpkg_geometry_columns g LEFT JOIN gpkg_spatial_ref_sys s "
                "ON s.srs_id = g.srs_id WHERE lower(g.table_name) = lower(:t)"
            ),
            {"t": name.table},
        ).first()
    except sa.exc.DBAPIError:
        return None, None, "gpkg"  # a plain SQLite file
    if found is None or found[0] not in names:
        return None, None, "gpkg"
    column, organization, code, srs_id = found
    srid = int(code) if str(organization or "").upper() == "EPSG" else int(srs_id or 0)
    return str(column), srid, "gpkg"


def _frame(rows: Sequence[Sequence[object]], names: list[str]) -> pd.DataFrame:
    """One fetch as columns; driver types become what the cell rules read (Decimal → float)."""
    columns = list(zip(*rows, strict=True)) if rows else [()] * len(names)
    data = {}
    for position, cells in enumerate(columns):
        values = list(cells)
        kinds = set(map(type, values)) - {type(None)}
        if any(k.__name__ == "Decimal" for k in kinds):  # PostgreSQL numeric
            values = [v if v is None or isinstance(v, str) else float(v) for v in values]
        elif kinds & {dict, list, tuple} or any(k.__module__ == "uuid" for k in kinds):
            values = [None if v is None else str(v) for v in values]  # json, arrays, uuid
        elif memoryview in kinds:
            values = [bytes(v) if isinstance(v, memoryview) else v for v in values]
        column = pd.Series(values, dtype=object)
        if kinds == {str}:
            # Arrow strings: a million text cells take a fraction of Python's str objects.
            column = column.astype(TEXT)
        elif kinds:
            column = column.infer_objects()  # numbers (SQLite may mix them with text: kept)
        data[position] = column
    frame = pd.DataFrame(data, index=pd.RangeIndex(len(rows)))
    frame.columns = pd.Index(names, dtype=object)
    return frame


def _concat(chunks: list[pd.DataFrame], names: list[str]) -> pd.DataFrame:
    """The chunks as one table; a column of numbers (or text) in every chunk where it is not
    empty becomes a column of numbers (or text)."""
    frame = pd.concat(chunks, ignore_index=True) if len(chunks) > 1 else chunks[0]
    out = {}
    for position, name in enumerate(names):
        column = frame.iloc[:, position]
        if name != "__wkb" and pd.api.types.is_object_dtype(column) and len(column):
            kinds = set(map(type, column.dropna().tolist()))
            column = column.astype(TEXT) if kinds == {str} else column.infer_objects()
        out[position] = column
    result = pd.DataFrame(out)
    result.columns = pd.Index(names, dtype=object)
    return result


def _cells_and_rows(
    frame: pd.DataFrame, plan: _Plan
) -> tuple[pd.DataFrame, np.ndarray, str, list[str]]:
    """Cells with ``lon``/``lat`` from the geometry, the row numbers and their label."""
    notes: list[str] = []
    cells = frame
    if plan.geometry is None and plan.statement is not None and plan.geometry_kind == "query":
        _find_gpkg_geometry(frame, plan)
    if plan.geometry is not None:
        cells, geo_notes = _geometry_to_lonlat(frame, plan)
        notes += geo_notes
    numbers = np.arange(1, len(cells) + 1, dtype=np.int64)
    label = "record"
    if plan.key is not None and plan.key in cells.columns:
        keys = cells[plan.key]
        if pd.api.types.is_integer_dtype(keys) and not keys.isna().any():
            numbers = keys.to_numpy(dtype=np.int64)
            label = str(plan.key)
        else:
            notes.append(
                f"primary key {plan.key} is not a whole number; rows are numbered 1, 2, … "
                "in key order (record N)"
            )
    return cells, numbers, label, notes


def _geometry_to_lonlat(frame: pd.DataFrame, plan: _Plan) -> tuple[pd.DataFrame, list[str]]:
    """Replace the geometry with ``lon``, ``lat`` and ``__geom_type`` (read as in
    :func:`parkmap.read.tables.points_table`: lon/lat columns of the table give way)."""
    import geopandas as gpd

    notes: list[str] = []
    if plan.geometry_kind == "wkb":
        blobs = frame.pop("__wkb")
        srids = frame.pop("__srid").fillna(0).astype("int64")
    else:
        blobs = frame.pop(str(plan.geometry)).map(_gpkg_wkb)
        srids = pd.Series(plan.srid or 0, index=frame.index, dtype="int64")
    values = [None if b is None else bytes(b) for b in blobs.tolist()]
    geoms = shapely.from_wkb(np.array(values, dtype=object), on_invalid="ignore")
    lon = np.full(len(geoms), np.nan)
    lat = np.full(len(geoms), np.nan)
    for srid in pd.unique(srids):
        pick = (srids == srid).to_numpy()
        part = gpd.GeoSeries(geoms[pick], crs=None if srid in (0, 4326) else f"EPSG:{srid}")
        if part.crs is not None:
            try:
                part = part.to_crs(WGS84)
            except Exception as exc:  # pyproj raises several types
                raise InputError(
                    f"geometry column {plan.geometry}: cannot convert SRID {srid} to WGS-84: {exc}"
                ) from None
            notes.append(f"geometry column {plan.geometry}: EPSG:{srid} converted to WGS-84")
        points = np.asarray(part.array, dtype=object)
        is_point = np.array(
            [g is not None and g.geom_type == "Point" and not g.is_empty for g in points], bool
        )
        xy = np.where(is_point, points, np.array(None, dtype=object))
        lon[pick] = shapely.get_x(xy)
        lat[pick] = shapely.get_y(xy)
    types = pd.Series(
        [
            "missing" if g is None else ("empty" if g.is_empty else g.geom_type)
            for g in geoms.tolist()
        ],
        index=frame.index,
        dtype=object,
    )
    cells = frame.drop(columns=[c for c in frame.columns if header_key(c)[0] in ("lon", "lat")])
    cells = cells.copy()
    cells["lon"] = lon
    cells["lat"] = lat
    cells["__geom_type"] = types
    return cells, notes


def _find_gpkg_geometry(frame: pd.DataFrame, plan: _Plan) -> None:
    """The first column of a SQLite query's result that holds GeoPackage geometry blobs, and
    the SRS of its first blob (GeoPackage files number their SRS by the EPSG code)."""
    for name in frame.columns:
        first = next((v for v in frame[name].tolist() if v is not None), None)
        if isinstance(first, bytes) and first[:2] == b"GP" and len(first) >= 8:
            order = "<" if first[3] & 1 else ">"
            plan.geometry, plan.geometry_kind = str(name), "gpkg"
            plan.srid = max(int(np.frombuffer(first[4:8], dtype=f"{order}i4")[0]), 0)
            plan.notes.append(f"coordinates from the geometry column {name}")
            return


def _gpkg_wkb(blob: object) -> bytes | None:
    """The WKB inside a GeoPackage geometry blob (``GP`` header, optional envelope)."""
    if blob is None or (isinstance(blob, float) and math.isnan(blob)):
        return None
    data: bytes = bytes(cast(Any, blob))
    if data[:2] != b"GP":
        return data  # plain WKB
    flags = data[3]
    if flags & 0b10000:
        return None  # an empty geometry
    envelope = _GPKG_ENVELOPE.get((flags >> 1) & 0b111, 0)
    return data[8 + envelope :]

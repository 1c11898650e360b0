"""The history store: every snapshot ``parkmap build --history STORE`` took, in one table.

``STORE`` is a file (a GeoPackage when it ends in ``.gpkg``, else a plain SQLite database) or
a database URL SQLAlchemy understands (``postgresql://user@host/db``); the same SQLAlchemy code
reads and writes both. A new ``.gpkg`` file is made a real GeoPackage (the table is registered
as an attribute table, so QGIS and ogr2ogr open it) before the first rows go in.

The table :data:`parkmap.settings.HISTORY_TABLE` (``parkmap_history``) holds one row per mapped
project per snapshot, with the columns of :data:`HISTORY_COLUMNS`:

============================  ========  ======================================================
``snapshot_date``             text      ``YYYY-MM-DD``, the date the snapshot stands for
``row``                       integer   the ledger row (as a spreadsheet numbers it)
``project_id``                text      as the ledger gives it; ``R<row>`` when it gives none
``name``, ``park_declared``   text      project name, the park the ledger names
``district``, ``industry``    text
``status``                    text      planned, signed, under_construction, in_production,
                                        unknown
``status_raw``                text      the status as the ledger wrote it
``investment_100m_cny``       real      亿元; NULL when unknown (never 0)
``signed_date``               text      ``YYYY-MM-DD`` or empty
``lon``, ``lat``              real      WGS-84 degrees
``park_id``, ``park_ids``     text      the park the point lies in, every park it lies in
                                        (``;``-separated); empty outside every park
============================  ========  ======================================================

Taking a snapshot again on the same date replaces that date's rows (in one transaction).
"""

from __future__ import annotations

import datetime as _dt
import os
from pathlib import Path
from typing import TYPE_CHECKING, Final

import numpy as np
import pandas as pd

from parkmap.errors import InputError, OutputError, UsageError
from parkmap.settings import HISTORY_TABLE

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

#: Columns of the history table, in order.
HISTORY_COLUMNS: Final = [
    "snapshot_date",
    "row",
    "project_id",
    "name",
    "park_declared",
    "district",
    "industry",
    "status",
    "status_raw",
    "investment_100m_cny",
    "signed_date",
    "lon",
    "lat",
    "park_id",
    "park_ids",
]
_TEXT: Final = [
    c
    for c in HISTORY_COLUMNS
    if c not in ("row", "investment_100m_cny", "lon", "lat", "snapshot_date")
]


def is_url(store: str | os.PathLike[str]) -> bool:
    """Whether ``store`` is a database URL (``scheme://…``) rather than a file."""
    return "://" in str(store)


def store_label(store: str | os.PathLike[str]) -> str:
    """``store`` as messages show it: a file's name, a URL without its password."""
    if not is_url(store):
        return Path(store).name
    from sqlalchemy.engine import make_url

    try:
        return make_url(str(store)).render_as_string(hide_password=True)
    except Exception:
        return str(store).split("://", 1)[0] + "://…"


def _engine(store: str | os.PathLike[str]) -> Engine:
    try:
        from sqlalchemy import create_engine
    except ImportError as exc:  # pragma: no cover - a dependency
        raise UsageError("the history store needs SQLAlchemy: pip install sqlalchemy") from exc
    url = str(store) if is_url(store) else "sqlite:///" + str(Path(store).resolve())
    scheme, sep, rest = url.partition("://")
    if scheme in ("postgresql", "postgres"):
        # psycopg 3, as the reader uses (SQLAlchemy 2.0 would pick psycopg2)
        url = "postgresql+psycopg" + sep + rest
    try:
        return create_engine(url)
    except Exception as exc:
        raise UsageError(f"history store {store_label(store)}: {exc}") from None


def parse_date(text: str | _dt.date | None, what: str) -> _dt.date:
    """A date given as ``YYYY-MM-DD`` (``None``: today).

    Raises
    ------
    UsageError
        When ``text`` is no such date.
    """
    if text is None:
        return _dt.date.today()
    if isinstance(text, _dt.date):
        return text
    try:
        return _dt.date.fromisoformat(str(text).strip())
    except ValueError:
        raise UsageError(f"{what} {text!r} is not a date like 2020-06-01") from None


def snapshot_rows(projects: pd.DataFrame, date: _dt.date) -> pd.DataFrame:
    """The rows the history table gets for one snapshot's mapped projects."""
    frame = pd.DataFrame(
        {c: projects[c] if c in projects.columns else "" for c in HISTORY_COLUMNS[1:]}
    )
    for column in _TEXT:
        text = frame[column].astype(object).where(frame[column].notna(), "")
        frame[column] = text.astype(str).astype(object)
    if "signed_date" in projects.columns:
        signed = pd.to_datetime(projects["signed_date"], errors="coerce")
        frame["signed_date"] = signed.dt.strftime("%Y-%m-%d").fillna("").astype(object)
    frame["row"] = pd.to_numeric(frame["row"], errors="coerce").fillna(0).astype("int64")
    for column in ("investment_100m_cny", "lon", "lat"):
        frame[column] = pd.to_numeric(frame[column], errors="coerce").astype(float)
    frame.insert(0, "snapshot_date", date.isoformat())
    frame["snapshot_date"] = frame["snapshot_date"].astype(object)
    return frame.reset_index(drop=True)


def append_snapshot(
    store: str | os.PathLike[str], projects: pd.DataFrame, date: str | _dt.date | None = None
) -> int:
    """Add one snapshot's mapped projects to the history store (its date's rows replaced).

    Parameters
    ----------
    store
        File (``.gpkg``: GeoPackage; else SQLite) or database URL.
    projects
        Mapped projects as :func:`parkmap.pipeline.analyse` returns them.
    date
        The snapshot's date (``YYYY-MM-DD``); default today.

    Returns
    -------
    int
        Rows written.

    Raises
    ------
    OutputError
        When the store cannot be written.
    """
    from sqlalchemy import inspect, text

    day = parse_date(date, "--as-of")
    rows = snapshot_rows(projects, day)
    if not is_url(store) and str(store).lower().endswith(".gpkg") and not Path(store).exists():
        _new_geopackage(Path(store), rows)
    engine = _engine(store)
    try:
        with engine.begin() as conn:
            if inspect(conn).has_table(HISTORY_TABLE):
                conn.execute(
                    text(f"DELETE FROM {HISTORY_TABLE} WHERE snapshot_date = :d"),
                    {"d": day.isoformat()},
                )
            rows.to_sql(HISTORY_TABLE, conn, if_exists="append", index=False, chunksize=5000)
    except Exception as exc:
        raise OutputError(f"history store {store_label(store)}: cannot write: {exc}") from None
    finally:
        engine.dispose()
    return len(rows)


def _new_geopackage(path: Path, rows: pd.DataFrame) -> None:
    """Create ``path`` as a GeoPackage whose attribute table has the history's columns."""
    import pyogrio

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        pyogrio.write_dataframe(rows.iloc[:0], path, layer=HISTORY_TABLE, driver="GPKG")
    except Exception as exc:
        raise OutputError(f"history store {path.name}: cannot create: {exc}") from None


def snapshot_dates(store: str | os.PathLike[str]) -> list[_dt.date]:
    """The dates of the snapshots in the store, oldest first.

    Raises
    ------
    InputError
        When the store does not exist or holds no history table.
    """
    from sqlalchemy import inspect, text

    if not is_url(store) and not Path(store).exists():
        raise InputError(f"history store {store_label(store)}: no such file")
    engine = _engine(store)
    try:
        with engine.connect() as conn:
            if not inspect(conn).has_table(HISTORY_TABLE):
                raise InputError(
                    f"history store {store_label(store)}: no {HISTORY_TABLE} table; "
                    "run parkmap build --history first"
                )
            found = conn.execute(
                text(f"SELECT DISTINCT snapshot_date FROM {HISTORY_TABLE}")
            ).fetchall()
    finally:
        engine.dispose()
    return sorted(_dt.date.fromisoformat(str(r[0])) for r in found)


def read_snapshot(store: str | os.PathLike[str], date: _dt.date) -> pd.DataFrame:
    """The projects of the snapshot of ``date``, with the columns
    :func:`parkmap.pipeline.analyse` gives the read and validated records (``lon_orig``,
    ``lat_orig``, ``coord_sys`` = ``wgs84``, empty ``source`` and ``warnings``)."""
    from sqlalchemy import text

    engine = _engine(store)
    try:
        with engine.connect() as conn:
            frame = pd.read_sql(
                text(
                    f"SELECT {', '.join(HISTORY_COLUMNS)} FROM {HISTORY_TABLE} "
                    "WHERE snapshot_date = :d ORDER BY row"
                ),
                conn,
                params={"d": date.isoformat()},
            )
    finally:
        engine.dispose()
    frame = frame.drop(columns="snapshot_date")
    for column in _TEXT:
        frame[column] = frame[column].fillna("").astype(str)
    for column in ("investment_100m_cny", "lon", "lat"):
        frame[column] = pd.to_numeric(frame[column], errors="coerce").astype(float)
    frame["row"] = frame["row"].astype("int64")
    frame["signed_date"] = pd.to_datetime(frame["signed_date"].replace("", None), errors="coerce")
    frame["status"] = frame["status"].astype(object)
    frame["signed_date_precision"] = np.where(frame["signed_date"].notna(), "day", "")
    frame["lon_orig"], frame["lat_orig"] = frame["lon"], frame["lat"]
    frame["coord_sys"] = "wgs84"
    frame["source"] = ""
    frame["warnings"] = ""
    return frame


def choose_dates(
    dates: list[_dt.date],
    since: _dt.date,
    until: _dt.date | None,
    store: str,
    *,
    kind: str = "history store",
) -> tuple[_dt.date, _dt.date]:
    """The old snapshot (the last on or before ``since``) and the new one (the last on or
    before ``until``, default the latest).

    ``kind`` and ``store`` name the source in messages (``history store h.gpkg``).

    Raises
    ------
    InputError
        When there is no snapshot on or before ``since``, or none after it to compare with.
    """
    listed = ", ".join(d.isoformat() for d in dates[-8:]) or "none"
    store = f"{kind} {store}".strip()
    before = [d for d in dates if d <= since]
    if not before:
        raise InputError(
            f"{store}: no snapshot on or before {since.isoformat()} (snapshots: {listed})"
        )
    last = [d for d in dates if until is None or d <= until]
    old, new = before[-1], last[-1] if last else before[-1]
    if new <= old:
        raise InputError(
            f"{store}: no snapshot after {old.isoformat()} to compare with (snapshots: {listed})"
        )
    return old, new


def history_pair(
    store: str | os.PathLike[str], since: str | None, until: str | None = None
) -> tuple[tuple[_dt.date, pd.DataFrame], tuple[_dt.date, pd.DataFrame]]:
    """The two snapshots ``parkmap compare --history STORE --since DATE`` compares."""
    if since is None:
        raise UsageError("--history needs --since DATE (the old snapshot)")
    day = parse_date(since, "--since")
    end = parse_date(until, "--until") if until is not None else None
    old, new = choose_dates(snapshot_dates(store), day, end, store_label(store))
    return (old, read_snapshot(store, old)), (new, read_snapshot(store, new))

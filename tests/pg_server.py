"""A real PostgreSQL (+ PostGIS) server for the tests: a fresh cluster in a temporary folder.

``initdb`` refuses to run as root, so as root the cluster belongs to the ``postgres`` system user
(Debian's postgresql package creates it) and every server command runs through ``runuser``. The
server listens on 127.0.0.1 at a free port, with its Unix socket in the temporary folder, so it
never meets a system cluster. The superuser ``postgres`` may connect through the socket without a
password (setting up); the test user connects over TCP with a password (SCRAM), so a wrong
password is refused as it would be on the office's server.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

#: The user the tests connect as, and its password (a quote and a $ in it: it is data).
USER = "planner"
PASSWORD = "Pa55-w0rd'$ecret"
DATABASE = "ledger"


@dataclass
class PgServer:
    """A running server: where it listens and how to reach it."""

    port: int
    socket_dir: Path
    postgis: bool

    def url(self, *, password: str | None = PASSWORD, database: str = DATABASE) -> str:
        """``postgresql://planner:…@127.0.0.1:PORT/ledger`` (the password percent-encoded)."""
        from urllib.parse import quote

        auth = USER if password is None else f"{USER}:{quote(password, safe='')}"
        return f"postgresql://{auth}@127.0.0.1:{self.port}/{database}"

    def admin(self, database: str = DATABASE) -> object:
        """A psycopg connection as the superuser through the socket (autocommit)."""
        import psycopg

        return psycopg.connect(
            host=str(self.socket_dir),
            port=self.port,
            user="postgres",
            dbname=database,
            autocommit=True,
        )


def bin_dir() -> Path | None:
    """Folder of ``initdb``/``pg_ctl``: Debian's newest ``/usr/lib/postgresql/N/bin``, or PATH."""
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda p: (
            int(Path(p).parent.parent.name) if Path(p).parent.parent.name.isdigit() else 0
        ),
    )
    if found:
        return Path(found[-1]).parent
    which = shutil.which("initdb")
    return Path(which).parent if which else None


def missing_reason() -> str | None:
    """Why no server can be started here (one line), or ``None`` when one can."""
    try:
        import psycopg  # noqa: F401
        import sqlalchemy  # noqa: F401
    except ImportError:
        return "sqlalchemy/psycopg not installed (pip install 'parkmap[db]')"
    if bin_dir() is None:
        return "PostgreSQL not installed (apt-get install postgresql postgresql-15-postgis-3)"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root and no 'postgres' user to run the server as"
    return None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _run(command: list[str], owner: str | None) -> None:
    if owner is not None:
        command = ["runuser", "-u", owner, "--", *command]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode:
        raise RuntimeError(f"{' '.join(command)} failed:\n{done.stdout}\n{done.stderr}")


@contextlib.contextmanager
def pg_server() -> Iterator[PgServer]:
    """Start a cluster in a temporary folder; stop it and remove the folder afterwards."""
    binaries = bin_dir()
    assert binaries is not None
    owner = "postgres" if os.geteuid() == 0 else None
    root = Path(tempfile.mkdtemp(prefix="parkmap-pg-"))
    data, sockets = root / "data", root / "sock"
    sockets.mkdir()
    if owner is not None:
        user = pwd.getpwnam(owner)
        for path in (root, sockets):
            os.chown(path, user.pw_uid, user.pw_gid)
    port = _free_port()
    started = False
    try:
        _run(
            [
                str(binaries / "initdb"),
                "-D",
                str(data),
                "-U",
                "postgres",
                "--auth-local=trust",
                "--auth-host=scram-sha-256",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
            ],
            owner,
        )
        options = f"-p {port} -k {sockets} -c listen_addresses=127.0.0.1 -c fsync=off"
        _run(
            [
                str(binaries / "pg_ctl"),
                "-D",
                str(data),
                "-o",
                options,
                "-l",
                str(root / "server.log"),
                "-w",
                "start",
            ],
            owner,
        )
        started = True
        server = PgServer(port, sockets, postgis=False)
        from psycopg import sql

        with server.admin("postgres") as conn:  # type: ignore[attr-defined]
            conn.execute(
                sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(
                    sql.Identifier(USER), sql.Literal(PASSWORD)
                )
            )
            conn.execute(
                sql.SQL("CREATE DATABASE {} OWNER {}").format(
                    sql.Identifier(DATABASE), sql.Identifier(USER)
                )
            )
        with server.admin() as conn:  # type: ignore[attr-defined]
            try:
                conn.execute(b"CREATE EXTENSION postgis")
                server.postgis = True
            except Exception:  # the extension is not installed: geometry tests skip or fail
                server.postgis = False
            conn.execute(f"GRANT ALL ON SCHEMA public TO {USER}".encode())
        yield server
    finally:
        if started:
            with contextlib.suppress(RuntimeError):
                _run([str(binaries / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"], owner)
        shutil.rmtree(root, ignore_errors=True)

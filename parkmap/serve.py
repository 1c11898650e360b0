"""Serve a folder of maps on the local machine, for browsers that block ``file://`` pages.

The server answers only what a planner's browser needs: files inside the folder (a symlink or a
``..`` that leads out of it is "not found"), no folder listings, and only requests addressed to
this machine (``localhost``, ``127.0.0.1``, ``::1``, or the ``--host`` given), so a web page
elsewhere cannot read the maps through a DNS name that points here.
"""

from __future__ import annotations

import functools
import os
import threading
import webbrowser
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from parkmap.errors import InputError, UsageError

#: Names a request may address the server by, besides the host it listens on.
LOCAL_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})


class _MapsHandler(SimpleHTTPRequestHandler):
    """Files of one folder, nothing outside it, no listings, only to the allowed host names."""

    def __init__(self, *args: Any, root: Path, hosts: frozenset[str], **kwargs: Any) -> None:
        self.root = root
        self.hosts = hosts
        super().__init__(*args, directory=str(root), **kwargs)

    def log_message(self, format: str, *args: object) -> None:
        pass

    def send_head(self) -> Any:
        host = urlsplit("//" + (self.headers.get("Host") or "")).hostname or ""
        if host.lower() not in self.hosts:
            self.send_error(HTTPStatus.FORBIDDEN, "Host not served")
            return None
        target = Path(self.translate_path(self.path)).resolve()
        if target != self.root and self.root not in target.parents:
            self.send_error(HTTPStatus.NOT_FOUND, "File not found")  # a link out of the folder
            return None
        return super().send_head()

    def list_directory(self, path: str | os.PathLike[str]) -> None:
        self.send_error(HTTPStatus.NOT_FOUND, "No folder listings")
        return None


def make_server(
    directory: str | os.PathLike[str], *, host: str = "127.0.0.1", port: int = 8000
) -> ThreadingHTTPServer:
    """An HTTP server for ``directory`` on ``host:port`` (port 0 picks a free one).

    Raises
    ------
    InputError
        If the folder does not exist or the port is taken.
    UsageError
        If the port is not a number from 0 to 65535.
    """
    folder = Path(directory)
    if not folder.is_dir():
        raise InputError(f"{folder}: no such folder; run 'parkmap build' first")
    if not 0 <= port <= 65535:
        raise UsageError(f"port {port} is not a port number (0 to 65535)")
    hosts = LOCAL_NAMES | {host.lower().strip("[]")}
    handler = functools.partial(_MapsHandler, root=folder.resolve(), hosts=hosts)
    try:
        return ThreadingHTTPServer((host, port), handler)
    except OSError as exc:
        raise InputError(f"cannot serve on {host}:{port}: {exc.strerror}; try --port") from exc


def serve(
    directory: str | os.PathLike[str],
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    open_browser: bool = True,
) -> None:
    """Serve ``directory`` until interrupted; open ``map.html`` in a browser unless told not to."""
    server = make_server(directory, host=host, port=port)
    url = f"http://{host}:{server.server_address[1]}/map.html"
    print(f"Serving {Path(directory).resolve()} at {url} (Ctrl+C to stop)")
    if open_browser:
        threading.Timer(0.5, webbrowser.open, args=(url,)).start()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()

"""Serve a folder of maps on the local machine, for browsers that block ``file://`` pages."""

from __future__ import annotations

import functools
import os
import threading
import webbrowser
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from parkmap.errors import InputError


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


def make_server(
    directory: str | os.PathLike[str], *, host: str = "127.0.0.1", port: int = 8000
) -> ThreadingHTTPServer:
    """An HTTP server for ``directory`` on ``host:port`` (port 0 picks a free one).

    Raises
    ------
    InputError
        If the folder does not exist or the port is taken.
    """
    folder = Path(directory)
    if not folder.is_dir():
        raise InputError(f"{folder}: no such folder; run 'parkmap build' first")
    handler = functools.partial(_QuietHandler, directory=str(folder))
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

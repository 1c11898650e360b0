"""``parkmap serve``: files of the folder only, no listings, only to this machine's names."""

from __future__ import annotations

import http.client
import os
import threading

import pytest
from click.testing import CliRunner

from parkmap.cli import main
from parkmap.serve import make_server


@pytest.fixture
def served(tmp_path):
    folder = tmp_path / "maps"
    folder.mkdir()
    (folder / "map.html").write_text("<html>ok</html>", encoding="utf-8")
    (folder / "sub").mkdir()
    secret = tmp_path / "secret.txt"
    secret.write_text("private", encoding="utf-8")
    os.symlink(secret, folder / "link.txt")
    os.symlink(tmp_path, folder / "up")
    server = make_server(folder, port=0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def _get(port: int, path: str, host: str | None = None) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    headers = {"Host": host} if host is not None else {}
    connection.request("GET", path, headers=headers)
    response = connection.getresponse()
    body = response.read()
    connection.close()
    return response.status, body


def test_the_map_is_served_to_local_names(served):
    for host in (f"127.0.0.1:{served}", f"localhost:{served}", "localhost", f"[::1]:{served}"):
        assert _get(served, "/map.html", host) == (200, b"<html>ok</html>")


def test_other_host_names_are_refused(served):
    status, body = _get(served, "/map.html", "attacker.example:80")
    assert status == 403
    assert b"ok" not in body


@pytest.mark.parametrize(
    "path", ["/link.txt", "/up/secret.txt", "/../secret.txt", "/%2e%2e/secret.txt"]
)
def test_nothing_outside_the_folder(served, path):
    status, body = _get(served, path)
    assert status == 404
    assert b"private" not in body


@pytest.mark.parametrize("path", ["/", "/sub/"])
def test_no_folder_listing(served, path):
    status, body = _get(served, path)
    assert status == 404
    assert b"map.html" not in body


def test_a_bad_port_is_one_line_exit_2(tmp_path):
    result = CliRunner().invoke(main, ["serve", str(tmp_path), "--port", "70000", "--no-browser"])
    assert result.exit_code == 2
    assert "70000" in result.output
    assert "Traceback" not in result.output

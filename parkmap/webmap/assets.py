"""Everything the page needs, inlined: Leaflet, our runtime, images as data URIs, safe JSON.

The map must open on an offline intranet, so nothing is fetched from a network: Leaflet 1.9.3
comes from the ``xstatic-leaflet`` package, its CSS image references are rewritten to base64
``data:`` URIs, and our own JavaScript (the files of ``js/``, joined by :func:`runtime_js`) and
CSS (``parkmap.css``) are inserted as inline ``<script>`` and ``<style>`` blocks.
"""

from __future__ import annotations

import base64
import json
import math
import re
import struct
import zlib
from functools import cache
from pathlib import Path
from typing import Any

import deflate
import numpy as np

from parkmap.webmap import payload_schema

HERE = Path(__file__).parent

#: The runtime's files in ``js/``, in the order :func:`runtime_js` joins them. Each is one
#: concern; they share functions (not globals) inside one function scope, so the order matters
#: only for the statements run at load: ``core.js`` first (state, helpers), ``main.js`` last
#: (fills in ``window.parkmap`` and installs the test hooks when asked to).
RUNTIME_FILES: tuple[str, ...] = (
    "core.js",  # the state object, HTML helpers, readiness
    "decode.js",  # packed project columns → arrays (keys and scales from PAYLOAD_SCHEMA)
    "grid.js",  # screen hexagons (hex rounding) and the hit-test cells
    "filters.js",  # the filter predicate and the filter panel
    "projects.js",  # the projects canvas layer, hit test, popup, search
    "layers.js",  # setup (panes, shared canvas); parks, grid, density and context layers
    "clusters.js",  # hot/cold-spot cells and cluster hulls
    "changes.js",  # the change layer of `parkmap compare` (symbols, legend rows, check boxes)
    "legend.js",  # the legend
    "controls.js",  # title, full screen, note, search box, year slider
    "testing.js",  # test hooks (installed only with the test flag)
    "main.js",  # the public namespace window.parkmap, and folium's `$`
)

#: A page opened with ``window[TEST_FLAG]`` set before it loads (a browser test's init script:
#: :data:`TEST_HOOKS_SCRIPT`) gets the runtime's test hooks (``parkmap.state()`` …).
TEST_FLAG = "__parkmapTest"
TEST_HOOKS_SCRIPT = f"window.{TEST_FLAG} = true;"

_JSON_ESCAPES = {
    "<": "\\u003c",
    ">": "\\u003e",
    "&": "\\u0026",
    "\u2028": "\\u2028",
    "\u2029": "\\u2029",
}
_JSON_ESCAPE_RE = re.compile("[<>&\u2028\u2029]")


def _clean(obj: Any) -> Any:
    """Turn NaN/inf into None and NumPy scalars into Python ones, recursively."""
    if isinstance(obj, dict):
        return {str(k): _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return [_clean(v) for v in obj.tolist()]
    if isinstance(obj, (np.bool_, bool)):
        return bool(obj)
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        return float(obj) if math.isfinite(obj) else None
    return obj


def dumps_js(obj: Any) -> str:
    """Serialise ``obj`` as JSON that is safe to place inside an HTML ``<script>`` block.

    ``<``, ``>`` and ``&`` become ``\\u003c`` etc., so no string can close the script or open a
    comment; U+2028/U+2029 are escaped too (they end lines in older JavaScript). NaN and
    infinities become ``null``.
    """
    text = json.dumps(_clean(obj), ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return _JSON_ESCAPE_RE.sub(lambda m: _JSON_ESCAPES[m.group(0)], text)


def data_uri(data: bytes, mime: str) -> str:
    """Return ``data:<mime>;base64,…`` for some bytes."""
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def _leaflet_dir() -> Path:
    from xstatic.pkg import leaflet

    return Path(leaflet.BASE_DIR)


def _inline_safe(text: str, tag: str) -> str:
    """Make sure a library's text cannot end its own inline block early."""
    return re.sub(f"</({tag})", r"<\\/\1", text, flags=re.IGNORECASE)


@cache
def leaflet_js() -> str:
    """Leaflet 1.9.3 (minified, licence header kept), without its source-map comment."""
    text = (_leaflet_dir() / "leaflet.js").read_text(encoding="utf-8")
    text = re.sub(r"//# sourceMappingURL=\S*\s*$", "", text)
    return _inline_safe(text, "script")


@cache
def leaflet_image(name: str) -> str:
    """One of Leaflet's images (``layers.png``, ``marker-icon.png`` …) as a data URI."""
    return data_uri((_leaflet_dir() / "images" / name).read_bytes(), "image/png")


@cache
def leaflet_css() -> str:
    """Leaflet's stylesheet with every ``url(images/…)`` turned into a data URI."""
    text = (_leaflet_dir() / "leaflet.css").read_text(encoding="utf-8")
    text = re.sub(
        r"url\((['\"]?)images/([\w.-]+)\1\)",
        lambda m: f'url("{leaflet_image(m.group(2))}")',
        text,
    )
    return _inline_safe(text, "style")


#: A line holding only a comment (``// …``, or ``/* … */`` over one or more whole lines): the
#: sources in ``js/`` are documented for people, the page need not carry it. A comment after
#: code on the same line stays; the runtime has no template literals for a line to start in.
_COMMENT_LINES = re.compile(r"^[ \t]*(?://[^\n]*|/\*(?:(?!\*/).)*\*/[ \t]*)\n", re.M | re.S)
_BLANK_RUNS = re.compile(r"\n{3,}")


@cache
def runtime_js() -> str:
    """Our own map runtime: the :data:`RUNTIME_FILES` in order, inside one function scope.

    In front of them come the constants the files read: ``PAYLOAD_SCHEMA``
    (:func:`parkmap.webmap.payload_schema.for_page`) and ``TEST_FLAG``. Comment-only lines are
    left out. The only globals the runtime makes are ``window.parkmap`` and, without jQuery on
    the page, ``$``.
    """
    parts = [
        _BLANK_RUNS.sub("\n\n", _COMMENT_LINES.sub("", (HERE / "js" / name).read_text("utf-8")))
        for name in RUNTIME_FILES
    ]
    text = "\n".join(
        [
            "/* parkmap map runtime (parkmap/webmap/js/), for Leaflet 1.9, no other library. */",
            "(function () {",
            '"use strict";',
            f"var PAYLOAD_SCHEMA = {dumps_js(payload_schema.for_page())};",
            f"var TEST_FLAG = {dumps_js(TEST_FLAG)};",
            *parts,
            "})();",
        ]
    )
    return _inline_safe(text, "script")


@cache
def runtime_css() -> str:
    """Our own styles (``parkmap.css``)."""
    return _inline_safe((HERE / "parkmap.css").read_text(encoding="utf-8"), "style")


def png_bytes(rgba: np.ndarray) -> bytes:
    """Encode an ``(rows, cols, 4)`` uint8 RGBA array as a PNG (no extra dependency).

    Row 0 is the top of the image.
    """
    rgba = np.ascontiguousarray(rgba, dtype=np.uint8)
    if rgba.ndim != 3 or rgba.shape[2] != 4:
        raise ValueError("expected an (rows, cols, 4) RGBA array")
    height, width = rgba.shape[:2]
    raw = b"".join(b"\x00" + rgba[row].tobytes() for row in range(height))

    def chunk(kind: bytes, payload: bytes) -> bytes:
        crc = zlib.crc32(kind + payload) & 0xFFFFFFFF
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        # libdeflate's level 6 (PNG's IDAT is a zlib stream): on the surface of a million
        # projects 18 ms for 255 KB, where zlib's level 6 takes 54 ms for 240 KB.
        + chunk(b"IDAT", bytes(deflate.zlib_compress(raw, 6)))
        + chunk(b"IEND", b"")
    )

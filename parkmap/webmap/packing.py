"""Fast writers for the packed project columns: JSON text built by Arrow, gzip on all cores.

The map's project payload holds 100,000s of numbers and strings. ``json.dumps`` of Python lists
and a one-thread ``gzip.compress`` were most of the time of a large map, so this module writes
the same JSON text straight from NumPy / Arrow arrays (byte for byte what
``json.dumps(..., ensure_ascii=False, separators=(",", ":"))`` writes) and compresses it in
pieces on several threads into one ordinary gzip stream.
"""

from __future__ import annotations

import os
import struct
import zlib
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from parkmap.json_text import escape_json_strings

#: Deflate window: each piece is compressed with the 32 KiB before it as its dictionary.
_WINDOW = 32 * 1024
#: Smallest piece worth a thread of its own.
_MIN_PIECE = 1 << 20
_MAX_THREADS = 4


def texts(values: Any) -> pa.LargeStringArray:
    """Any sequence of ``str`` (list, NumPy, pandas or Arrow array) as an Arrow array."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    array = values if isinstance(values, pa.Array) else pa.array(values)
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    return pc.fill_null(array.cast(pa.large_string()), "")


def _large(text: str) -> pa.Scalar:
    return pa.scalar(text, pa.large_string())


def _join(strings: pa.Array, separator: str) -> pa.Buffer | bytes:
    """All ``strings`` joined with ``separator``, as UTF-8 bytes."""
    if len(strings) == 0:
        return b""
    lists = pa.LargeListArray.from_arrays(pa.array([0, len(strings)], pa.int64()), strings)
    joined = pc.binary_join(lists, _large(separator))[0]
    return joined.as_buffer() or b""


def _ints_text(values: Sequence[int] | np.ndarray) -> pa.Array:
    return pc.cast(pa.array(np.asarray(values, dtype=np.int64)), pa.large_string())


def json_ints(values: Sequence[int] | np.ndarray) -> list[Any]:
    """JSON array of integers, as a list of byte pieces."""
    return [b"[", _join(_ints_text(values), ","), b"]"]


def json_texts(values: Any) -> list[Any]:
    """JSON array of strings, as a list of byte pieces."""
    strings = texts(values)
    if len(strings) == 0:
        return [b"[]"]
    return [b'["', _join(escape_json_strings(strings), '","'), b'"]']


def json_sparse_ints(rows: np.ndarray, values: np.ndarray) -> list[Any]:
    """JSON object ``{"<row>": <int>, ...}`` (rows in the given order), as byte pieces."""
    if len(rows) == 0:
        return [b"{}"]
    pairs = pc.binary_join_element_wise(_ints_text(rows), _ints_text(values), _large('":'))
    return [b'{"', _join(pairs, ',"'), b"}"]


def json_sparse_texts(rows: np.ndarray, values: Any) -> list[Any]:
    """JSON object ``{"<row>": "<text>", ...}`` (rows in the given order), as byte pieces."""
    if len(rows) == 0:
        return [b"{}"]
    pairs = pc.binary_join_element_wise(
        _ints_text(rows), escape_json_strings(texts(values)), _large('":"')
    )
    return [b'{"', _join(pairs, '","'), b'"}']


def json_object(members: dict[str, list[Any]]) -> bytes:
    """JSON object text from ``{key: pieces of the value's JSON}`` (keys must be plain ASCII)."""
    pieces: list[Any] = [b"{"]
    for i, (key, value) in enumerate(members.items()):
        pieces.append(f'{"," if i else ""}"{key}":'.encode("ascii"))
        pieces.extend(value)
    pieces.append(b"}")
    return b"".join(pieces)


def _cpus() -> int:
    """CPUs this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def _deflate(data: memoryview, start: int, end: int, level: int, last: bool) -> bytes:
    """Raw deflate of ``data[start:end]`` that continues the stream of ``data[:start]``."""
    if start:
        zdict = data[max(0, start - _WINDOW) : start]
        compressor = zlib.compressobj(level, zlib.DEFLATED, -15, zdict=zdict)
    else:
        compressor = zlib.compressobj(level, zlib.DEFLATED, -15)
    out = compressor.compress(data[start:end])
    # a sync flush ends the piece on a byte boundary without marking the stream's last block
    return out + compressor.flush(zlib.Z_FINISH if last else zlib.Z_SYNC_FLUSH)


def gzip_bytes(data: bytes, level: int, threads: int | None = None) -> bytes:
    """One gzip member of ``data`` (mtime 0), compressed in pieces on up to ``threads`` threads.

    Each piece is deflated with the 32 KiB before it as its dictionary and ends with a sync
    flush, so the pieces join into a single deflate stream that any gunzip (and the browser's
    ``DecompressionStream``) reads; it compresses about as well as one ``gzip.compress``.
    """
    if threads is None:
        threads = min(_MAX_THREADS, _cpus())
    parts = max(1, min(threads, len(data) // _MIN_PIECE))
    view = memoryview(data)
    bounds = [len(data) * i // parts for i in range(parts + 1)]
    jobs = [(view, bounds[i], bounds[i + 1], level, i == parts - 1) for i in range(parts)]
    if parts == 1:
        body = [_deflate(*jobs[0])]
        crc = zlib.crc32(data)
    else:
        with ThreadPoolExecutor(max_workers=parts) as pool:
            futures = [pool.submit(_deflate, *job) for job in jobs]
            crc = zlib.crc32(data)
            body = [f.result() for f in futures]
    extra = 2 if level == 9 else 4 if level == 1 else 0
    header = struct.pack("<BBBBIBB", 0x1F, 0x8B, 8, 0, 0, extra, 255)
    trailer = struct.pack("<II", crc, len(data) & 0xFFFFFFFF)
    return b"".join([header, *body, trailer])

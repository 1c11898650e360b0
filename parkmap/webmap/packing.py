"""Fast writers for the packed project columns: JSON text built by Arrow, gzip by libdeflate.

The map's project payload holds 100,000s of numbers and strings. ``json.dumps`` of Python lists
and ``gzip.compress`` were most of the time of a large map, so this module writes the same JSON
text straight from NumPy / Arrow arrays (byte for byte what
``json.dumps(..., ensure_ascii=False, separators=(",", ":"))`` writes) and compresses it with
libdeflate, which makes an ordinary gzip stream in well under half zlib's time.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import deflate
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from parkmap.json_text import escape_json_strings, utf8_data


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


def gzip_bytes(data: bytes, level: int) -> bytes:
    """One gzip member of ``data`` (no name, mtime 0), which any gunzip and the browser's
    ``DecompressionStream`` read.

    libdeflate (the ``deflate`` package, MIT) rather than :mod:`zlib`: on the packed columns
    of a million projects its level 6 takes 0.45 s for the numbers and 0.7 s for the texts
    where zlib's level 5 takes 0.7 s and 1.1 s, for output 3-5 % smaller; and it runs
    without the GIL, so the two blocks are packed at once on two threads. It compresses in
    one call (no streaming), which these blocks, at most some 50 MB, do not need.
    """
    return bytes(deflate.gzip_compress(data, level))


# ---------------------------------------------------------------------------------------------
# Binary sections (see parkmap.webmap.payload_schema): what the page reads into typed arrays.

#: Integer types by size, with the range each holds.
_INT_TYPES: tuple[tuple[str, Any, int], ...] = (
    ("i8", np.dtype("<i1"), 2**7 - 1),
    ("i16", np.dtype("<i2"), 2**15 - 1),
    ("i32", np.dtype("<i4"), 2**31 - 1),
)


def _planes(values: np.ndarray) -> bytes:
    """Little-endian bytes of ``values``, byte plane by byte plane (all first bytes, …)."""
    size = values.dtype.itemsize
    if size == 1 or not len(values):
        return values.tobytes()
    return np.ascontiguousarray(values.view(np.uint8).reshape(-1, size).T).tobytes()


def int_section(
    values: Sequence[float] | np.ndarray, *, delta: bool = False
) -> tuple[str, bytes, bool]:
    """Integers (given as any numbers already rounded) as ``(type, bytes, delta)`` of a section.

    The type is the smallest of ``i8`` / ``i16`` / ``i32`` that holds every value (or, with
    ``delta``, every difference from the value before), else ``f64`` (exact to 2**53), which is
    never delta-coded (running sums of doubles could lose units).
    """
    given = np.asarray(values, dtype=np.float64)
    stored = np.diff(given, prepend=0.0) if delta and len(given) else given
    largest = float(np.abs(stored).max()) if len(stored) else 0.0
    for name, dtype, limit in _INT_TYPES:
        if largest <= limit:
            return name, _planes(stored.astype(dtype)), delta
    return "f64", _planes(given.astype("<f8")), False


def utf16_lengths(strings: pa.Array) -> np.ndarray:
    """Length of each string in UTF-16 code units (JavaScript's ``String.length``)."""
    points = np.asarray(pc.utf8_length(strings).to_numpy(zero_copy_only=False), dtype=np.int64)
    # Characters past U+FFFF (two UTF-16 units) start with a byte 0xF0 or above in UTF-8; a
    # scan of the bytes for one spares the regular expression on nearly every column (their
    # largest byte: 1.3 ms for 36 MB of names, where a comparison of each byte takes 6.5 ms).
    if not any(np.frombuffer(data, dtype=np.uint8).max() >= 0xF0 for data in utf8_data(strings)):
        return points
    astral = pc.count_substring_regex(strings, r"[\x{10000}-\x{10FFFF}]")
    return points + astral.to_numpy(zero_copy_only=False)


def text_bytes(values: Any) -> tuple[np.ndarray, bytes]:
    """Texts as their UTF-16 lengths and their UTF-8 bytes one after another."""
    strings = texts(values)
    return utf16_lengths(strings), bytes(_join(strings, ""))


def sections_blob(
    sections: list[tuple[str, str, bytes, bool]],
) -> tuple[list[list[Any]], bytes]:
    """The payload's ``layout`` (``[key, type, bytes, delta]``) and the sections joined."""
    layout = [[key, kind, len(data), int(delta)] for key, kind, data, delta in sections]
    return layout, b"".join(data for _, _, data, _ in sections)


def read_sections(layout: list[list[Any]], blob: bytes) -> dict[str, Any]:
    """Inverse of :func:`sections_blob`: integer sections as int64 / float64 arrays, text
    columns as lists of ``str`` (under their own key; their ``.len`` section consumed)."""
    out: dict[str, Any] = {}
    pos = 0
    for key, kind, size, delta in layout:
        part = blob[pos : pos + size]
        pos += size
        if kind == "utf8":
            lengths = out.pop(key + ".len")
            text = part.decode("utf-8").encode("utf-16-le")
            ends = 2 * np.cumsum(lengths)
            starts = ends - 2 * lengths
            out[key] = [
                text[int(a) : int(b)].decode("utf-16-le") for a, b in zip(starts, ends, strict=True)
            ]
            continue
        dtype = np.dtype("<f8") if kind == "f64" else np.dtype(f"<i{int(kind[1:]) // 8}")
        n = size // dtype.itemsize
        raw = np.frombuffer(part, dtype=np.uint8).reshape(dtype.itemsize, n).T.copy()
        values = raw.view(dtype).ravel()
        values = np.cumsum(values) if delta else values
        out[key] = values.astype(np.float64 if kind == "f64" else np.int64)
    return out

"""JSON string escapes for whole Arrow string columns.

Both the map's packed project columns and ``projects.geojson`` write hundreds of thousands of
user strings as JSON. Escaping them one by one with ``json.dumps`` is the slow part, so the
escapes are applied column-wise here, byte for byte as ``json.dumps(..., ensure_ascii=False)``
writes them.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

#: JSON escapes of the ASCII control characters, as ``json.dumps`` writes them.
_CONTROL_ESCAPES = {
    code: {8: "\\b", 9: "\\t", 10: "\\n", 12: "\\f", 13: "\\r"}.get(code, f"\\u{code:04x}")
    for code in range(0x20)
}
#: Every byte but those that need an escape in a JSON string (control characters, ``"``, ``\\``).
_PLAIN = bytes(b for b in range(0x20, 0x100) if b not in b'"\\')


def one_array(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    """``values`` as one contiguous Arrow array.

    Arrow hands back a :class:`pyarrow.ChunkedArray` whenever its input came in pieces: a
    CSV read in blocks, a pandas column backed by Arrow, a Parquet file of several row
    groups. Code that reads buffers directly needs one array; everything else takes both.
    """
    if isinstance(values, pa.ChunkedArray):
        if values.num_chunks == 1:
            return values.chunk(0)
        if values.num_chunks == 0:
            return pa.array([], type=values.type)
        return values.combine_chunks()
    return values


def utf8_data(strings: pa.Array | pa.ChunkedArray) -> Iterator[pa.Buffer]:
    """The bytes of the strings of each chunk of Arrow (large) strings, without a copy.

    Each is a view of the chunk's data buffer cut to its strings: a sliced chunk's buffer holds
    the strings outside the slice too. Chunks whose strings hold no byte are skipped.
    """
    chunks = strings.chunks if isinstance(strings, pa.ChunkedArray) else [strings]
    for chunk in chunks:
        _, offsets, data = chunk.buffers()[:3]
        if data is None or len(chunk) == 0:
            continue
        width = np.int64 if pa.types.is_large_string(chunk.type) else np.int32
        start, end = np.frombuffer(offsets, dtype=width)[[chunk.offset, chunk.offset + len(chunk)]]
        if end > start:
            yield data.slice(int(start), int(end - start))


def is_arrow_text(dtype: Any) -> bool:
    """Whether pandas keeps a column of this dtype as Arrow strings (or converts it cheaply)."""
    if isinstance(dtype, pd.StringDtype):
        return True
    if isinstance(dtype, pd.ArrowDtype):
        kind = dtype.pyarrow_dtype
        return bool(pa.types.is_string(kind) or pa.types.is_large_string(kind))
    return False


def escape_json_strings(strings: pa.Array | pa.ChunkedArray) -> pa.LargeStringArray:
    """The strings with JSON escapes (no surrounding quotes); nulls stay null.

    Takes a string or large-string array, in one chunk or several; returns one large-string
    array.
    """
    strings = one_array(strings).cast(pa.large_string())
    data = strings.buffers()[2]
    if data is None or len(strings) == 0:
        return strings
    octets = np.frombuffer(data, dtype=np.uint8)
    if not ((octets < 0x20).any() or (octets == 0x22).any() or (octets == 0x5C).any()):
        return strings  # the common case, checked fast; UTF-8 has these bytes only as ASCII
    found = set(bytes(data).translate(None, _PLAIN))
    # backslash first: the other escapes add backslashes of their own
    for code in sorted(found, key=lambda c: c != 0x5C):
        char = chr(code)
        escape = "\\" + char if char in '"\\' else _CONTROL_ESCAPES[code]
        strings = pc.replace_substring(strings, char, escape)
    return strings

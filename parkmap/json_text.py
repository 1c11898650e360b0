"""JSON string escapes for whole Arrow string columns.

Both the map's packed project columns and ``projects.geojson`` write hundreds of thousands of
user strings as JSON. Escaping them one by one with ``json.dumps`` is the slow part, so the
escapes are applied column-wise here, byte for byte as ``json.dumps(..., ensure_ascii=False)``
writes them.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

#: JSON escapes of the ASCII control characters, as ``json.dumps`` writes them.
_CONTROL_ESCAPES = {
    code: {8: "\\b", 9: "\\t", 10: "\\n", 12: "\\f", 13: "\\r"}.get(code, f"\\u{code:04x}")
    for code in range(0x20)
}
#: Every byte but those that need an escape in a JSON string (control characters, ``"``, ``\\``).
_PLAIN = bytes(b for b in range(0x20, 0x100) if b not in b'"\\')


def escape_json_strings(strings: pa.LargeStringArray) -> pa.LargeStringArray:
    """The strings with JSON escapes (no surrounding quotes); nulls stay null."""
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

"""Write point tables as GeoJSON fast enough for a million rows.

Encoding row by row in Python (``json.dumps`` or ``DataFrame.to_json`` per feature) costs about
a second per 100,000 projects. Here every column becomes a column of JSON fragments with
Arrow's compute kernels, the fragments are joined row-wise in C, and the resulting string
buffer is written as it is. No library writes GeoJSON from Arrow columns this way (pyogrio
and ``GeoDataFrame.to_json`` go through GDAL or Python dicts and are several times slower),
so the encoder is ours.

Numbers use the shortest text that reads back as the same double; NaN and infinities become
``null``; dates become ``"YYYY-MM-DD"``; strings are escaped per RFC 8259.
"""

from __future__ import annotations

import json
import os
from collections import deque
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, BinaryIO

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import shapely

from parkmap.json_text import escape_json_strings

#: Rows encoded per batch: keeps memory flat (about 35 MB of text per 50,000 projects).
CHUNK_ROWS = 50_000
#: Threads encoding batches at once.
ENCODERS = 2

#: Decimal places of written coordinates (7 ≈ 1 cm).
COORD_DECIMALS = 7


def write_point_features(
    fh: BinaryIO, properties: pd.DataFrame, geometry: np.ndarray, *, chunk_rows: int = CHUNK_ROWS
) -> None:
    """Write a GeoJSON FeatureCollection of points to a binary file handle.

    Parameters
    ----------
    fh
        Binary file opened for writing; receives UTF-8.
    properties
        One row per feature; its columns become each feature's ``properties`` in order.
    geometry
        Shapely points (WGS-84) aligned with ``properties``; missing or empty ones are
        written as ``"geometry": null``.
    chunk_rows
        Rows encoded per batch.
    """
    write_feature_batches(
        fh,
        (
            (properties.iloc[start : start + chunk_rows], geometry[start : start + chunk_rows])
            for start in range(0, len(properties), chunk_rows)
        ),
    )


def write_feature_batches(fh: BinaryIO, batches: Iterable[tuple[pd.DataFrame, np.ndarray]]) -> None:
    """Write a GeoJSON FeatureCollection of points given as batches of rows.

    Parameters
    ----------
    fh
        Binary file opened for writing; receives UTF-8.
    batches
        ``(properties, geometry)`` pairs as for :func:`write_point_features`, read one at a
        time (a file of any size is written in flat memory).
    """
    fh.write(b'{"type": "FeatureCollection", "features": [\n')
    workers = max(1, min(ENCODERS, os.cpu_count() or 1))
    # Batches are encoded on worker threads (Arrow's kernels release the GIL) while this
    # thread writes finished ones in order; at most `workers` wait, so memory stays flat.
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="geojson") as pool:
        pending: deque[Future[memoryview | None]] = deque()
        written = 0
        for properties, geometry in batches:
            pending.append(pool.submit(_encode, properties, geometry))
            if len(pending) > workers:
                written += _write(fh, pending.popleft().result(), written)
        while pending:
            written += _write(fh, pending.popleft().result(), written)
    fh.write(b"\n]}\n")


def _write(fh: BinaryIO, text: memoryview | None, batches_before: int) -> int:
    if text is None:
        return 0
    if batches_before:
        fh.write(b",\n")
    fh.write(text)
    return 1


def _encode(properties: pd.DataFrame, geometry: np.ndarray) -> memoryview | None:
    """The features of one batch, ``",\\n"``-separated, as a buffer ready to write."""
    n = len(properties)
    if n == 0:
        return None
    parts: list[Any] = ['{"type": "Feature", "properties": {']
    texts = _NumberTexts()
    for i, name in enumerate(properties.columns):
        key = json.dumps(str(name), ensure_ascii=False) + ":"
        parts.append(("," if i else "") + key)
        parts.extend(_json_values(properties[name], texts))
    parts.append("}, ")
    parts.append(_geometry_fragments(geometry, texts))
    parts.append("},\n")
    joined = _join(*parts)
    offsets = np.frombuffer(joined.buffers()[1], dtype=np.int64)[joined.offset :]
    data = memoryview(joined.buffers()[2])
    # The text of all rows is contiguous; drop the last row's ",\n".
    return data[offsets[0] : offsets[n] - 2]


def _join(*parts: str | pa.Array) -> pa.Array:
    """Row-wise concatenation; plain strings repeat on every row."""
    merged: list[str | pa.Array] = []
    for part in parts:  # adjacent literals become one: fewer arguments to the kernel
        if isinstance(part, str) and merged and isinstance(merged[-1], str):
            merged[-1] += part
        else:
            merged.append(part)
    args = [pa.scalar(p, pa.large_string()) if isinstance(p, str) else p for p in merged]
    # binary_join_element_wise takes the separator as its last argument.
    out = pc.binary_join_element_wise(*args, pa.scalar("", pa.large_string()))
    return out.combine_chunks() if isinstance(out, pa.ChunkedArray) else out


class _NumberTexts:
    """Numbers written as text, with the text of a column reused for a later one that holds
    the very same doubles.

    A batch often writes one column of numbers several times: the point's coordinates repeat
    ``lon``/``lat`` (when those have no more than seven decimals), and ``lon_orig``/``lat_orig``
    repeat them for a ledger already in WGS-84. Turning a double into its shortest text is most
    of the cost of a number column (about 5 ms per 50,000 rows); comparing two columns bit by
    bit costs a few hundredths of that.
    """

    def __init__(self) -> None:
        self._seen: list[tuple[np.ndarray, pa.Array]] = []

    def of(self, values: np.ndarray) -> pa.Array:
        """The shortest round-trip text of each double (``"nan"``/``"inf"`` as Arrow writes
        them: the caller replaces those)."""
        # Bit by bit, so 0.0 and -0.0 (equal, but written "0" and "-0") never share a text.
        bits = np.ascontiguousarray(values, dtype=np.float64).view(np.uint64)
        for known_bits, text in self._seen:
            if np.array_equal(known_bits, bits):
                return text
        text = pc.cast(pa.array(values), pa.large_string())
        self._seen.append((bits, text))
        return text


def _json_values(column: pd.Series, texts: _NumberTexts) -> list[str | pa.Array]:
    """One JSON value per row, as text: fragments to concatenate row-wise."""
    dtype = column.dtype
    if pd.api.types.is_bool_dtype(dtype):
        values = pa.array(column.to_numpy(dtype=bool))
        true, false = (pa.scalar(t, pa.large_string()) for t in ("true", "false"))
        return [pc.if_else(values, true, false)]
    integer = pd.api.types.is_integer_dtype(dtype) and not isinstance(dtype, pd.CategoricalDtype)
    if integer or pd.api.types.is_float_dtype(dtype):
        return [_numbers(column.to_numpy(dtype=np.float64, na_value=np.nan), texts)]
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return _quoted(_iso_days(column))
    return _strings(column)


def _numbers(values: np.ndarray, texts: _NumberTexts) -> pa.Array:
    text = texts.of(values)
    # Whole numbers are written without a fraction by Arrow (6.0 → "6"); JSON reads both alike.
    finite = np.isfinite(values)
    if finite.all():
        return text
    return pc.if_else(pa.array(finite), text, pa.scalar("null", pa.large_string()))


def _iso_days(column: pd.Series) -> pa.Array:
    """``YYYY-MM-DD`` of each time (null where missing), as ``dt.strftime("%Y-%m-%d")`` gives.

    Arrow's cast to a date and then to text gives the same days a fifth as fast as pandas'
    ``strftime`` (which formats each value in Python). Times with a time zone keep pandas'
    reading of their local day.
    """
    if getattr(column.dtype, "tz", None) is not None:
        return pa.array(column.dt.strftime("%Y-%m-%d"), type=pa.large_string(), from_pandas=True)
    days = pc.cast(pa.array(column, from_pandas=True), pa.date32())
    return pc.cast(days, pa.large_string())


def _strings(column: pd.Series) -> list[str | pa.Array]:
    try:
        values = pa.array(column, type=pa.large_string(), from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError):  # mixed objects: numbers, lists, …
        values = pa.array([None if _missing(v) else str(v) for v in column], type=pa.large_string())
    return _quoted(values)


def _missing(value: Any) -> bool:
    return value is None or value is pd.NaT or (isinstance(value, float) and value != value)


def _quoted(values: pa.Array) -> list[str | pa.Array]:
    """JSON strings (``null`` for missing), escaped per RFC 8259."""
    escaped = escape_json_strings(values.cast(pa.large_string()))
    if escaped.null_count == 0:  # the quotes join the key and separator fragments
        return ['"', escaped, '"']
    return [pc.fill_null(_join('"', escaped, '"'), pa.scalar("null", pa.large_string()))]


def _geometry_fragments(geometry: np.ndarray, texts: _NumberTexts) -> pa.Array:
    valid = ~(shapely.is_missing(geometry) | shapely.is_empty(geometry))
    xs, ys = np.zeros(len(geometry)), np.zeros(len(geometry))
    xs[valid] = np.round(shapely.get_x(geometry[valid]), COORD_DECIMALS)
    ys[valid] = np.round(shapely.get_y(geometry[valid]), COORD_DECIMALS)
    point = _join(
        '"geometry": {"type": "Point", "coordinates": [',
        texts.of(xs),
        ", ",
        texts.of(ys),
        "]}",
    )
    if valid.all():
        return point
    return pc.if_else(pa.array(valid), point, pa.scalar('"geometry": null', pa.large_string()))

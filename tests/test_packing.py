"""packing: JSON text written from arrays equals ``json.dumps``; gzip in pieces gunzips back."""

from __future__ import annotations

import gzip
import json
import zlib

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from parkmap.webmap import packing

TRICKY = [
    "",
    "plain",
    "青岛胶州湾 é",
    '"quoted"',
    "back\\slash",
    "new\nline\r\n",
    "tab\tform\fbell\b",
    "\x00\x01\x1f\x7f",
    "\u2028\u2029",
    "😀",
    "</script><!--",
    '\\"\n',
    "\\u0041",
]


def dumps(value: object) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def joined(pieces: list) -> bytes:
    return b"".join(pieces)


@pytest.mark.parametrize(
    "values", [[], [0], [-1], [0, -1, 7, 2**40, -(2**40), 2**62], list(range(-3, 2000))]
)
def test_json_ints_equal_json_dumps(values):
    assert joined(packing.json_ints(np.array(values, dtype=np.int64))) == dumps(values)
    assert joined(packing.json_ints(values)) == dumps(values)


@pytest.mark.parametrize("values", [[], [""], ["", ""], TRICKY, TRICKY[::-1] * 50])
def test_json_texts_equal_json_dumps(values):
    assert joined(packing.json_texts(values)) == dumps(values)


@pytest.mark.parametrize("text", TRICKY)
def test_every_escape_on_its_own(text):
    assert joined(packing.json_texts([text, "x"])) == dumps([text, "x"])
    assert joined(packing.json_texts(["x", text])) == dumps(["x", text])


def test_json_texts_from_any_array_kind():
    values = ["a", None, '"b"', "园区"]
    expected = dumps(["a", "", '"b"', "园区"])  # a missing value is an empty string
    arrow = pa.array(values)
    kinds = [
        values,
        np.array(values, dtype=object),
        pd.array(values, dtype="string[pyarrow]"),
        pd.array(values, dtype="string[python]"),
        pd.arrays.ArrowExtensionArray(pa.array(values, pa.large_string())),
        arrow,
        pa.chunked_array([arrow[:1], arrow[1:]]),
        pa.array(["skip", *values, "skip"])[1:-1],  # a slice: the buffer holds more bytes
    ]
    for kind in kinds:
        assert joined(packing.json_texts(kind)) == expected, type(kind)


def test_sparse_objects_equal_json_dumps():
    rows = np.array([0, 3, 17, 123456])
    numbers = np.array([5, -1, 0, 2**33])
    assert joined(packing.json_sparse_ints(rows, numbers)) == dumps(
        {str(r): int(v) for r, v in zip(rows, numbers, strict=True)}
    )
    words = TRICKY[:4]
    assert joined(packing.json_sparse_texts(rows, words)) == dumps(
        {str(r): w for r, w in zip(rows, words, strict=True)}
    )
    assert joined(packing.json_sparse_ints(rows[:0], numbers[:0])) == b"{}"
    assert joined(packing.json_sparse_texts(rows[:0], [])) == b"{}"


def test_json_object_equals_json_dumps():
    members = {"x": packing.json_ints([1, 2]), "name": packing.json_texts(TRICKY), "e": [b"{}"]}
    assert json.loads(packing.json_object(members)) == {"x": [1, 2], "name": TRICKY, "e": {}}
    assert packing.json_object(members) == dumps({"x": [1, 2], "name": TRICKY, "e": {}})


def _sample(size: int) -> bytes:
    """Compressible text with some randomness, like the packed columns."""
    rng = np.random.default_rng(size)
    words = rng.choice(["青岛", "智能", "家电", "123", "4567", ",", '"', "园区"], size)
    return "".join(words).encode("utf-8")[:size]


@pytest.mark.parametrize("size", [0, 1, 5000, 3_300_000])
def test_gzip_bytes_gunzip_to_the_input(size):
    data = _sample(size)
    blob = packing.gzip_bytes(data, 4)
    assert gzip.decompress(blob) == data
    # one gzip member, nothing after it (the browser's DecompressionStream reads one member)
    reader = zlib.decompressobj(wbits=31)
    assert reader.decompress(blob) == data
    assert reader.eof and reader.unused_data == b""
    assert blob[:4] == b"\x1f\x8b\x08\x00" and blob[4:8] == b"\x00\x00\x00\x00"  # no mtime
    # as small as zlib's stream at the same level, within 1 %
    assert len(blob) <= len(gzip.compress(data, 4)) * 1.01 + 64


def test_gzip_levels():
    data = _sample(2_500_000)
    for level in (1, 4, 6, 9, 12):
        assert gzip.decompress(packing.gzip_bytes(data, level)) == data


def test_utf16_lengths_count_two_units_past_u_ffff_and_one_below():
    """JavaScript's String.length, worked out by Python's own UTF-16 encoder, for columns with
    and without characters past U+FFFF (only the former need the regular expression)."""
    for words in (["园区", "", "a\u00e9\u4e2d", "plain"], ["𠮷野家", "😀x", "", "中😀😀"]):
        strings = pa.array(words, pa.large_string())
        expected = [len(w.encode("utf-16-le")) // 2 for w in words]
        assert packing.utf16_lengths(strings).tolist() == expected
        assert packing.utf16_lengths(strings.slice(1)).tolist() == expected[1:]

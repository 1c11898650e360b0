"""The column-wise GeoJSON writer, read back with the standard json module and with pyogrio."""

from __future__ import annotations

import io as _io
import json
import math

import numpy as np
import pandas as pd
import pytest
import shapely

from parkmap.geojson_out import write_point_features

TRICKY = [
    'say "hi"',
    "back\\slash",
    "tab\there",
    "line\nbreak\r\n",
    "\x00\x1f",
    "<img src=x onerror=alert(1)>",
    "平度南村 — ①",
    "",
    "\u2028",
]


def _write(props: pd.DataFrame, geoms, **kwargs) -> dict:
    buffer = _io.BytesIO()
    write_point_features(buffer, props, np.asarray(geoms, dtype=object), **kwargs)
    return json.loads(buffer.getvalue().decode("utf-8"))


def test_strings_round_trip_exactly_through_json():
    props = pd.DataFrame({"name": pd.array(TRICKY, dtype="str")})
    geoms = shapely.points(np.arange(len(TRICKY)), np.zeros(len(TRICKY)))
    doc = _write(props, geoms)
    assert [f["properties"]["name"] for f in doc["features"]] == TRICKY


def test_object_and_missing_values_are_null():
    props = pd.DataFrame(
        {
            "text": pd.Series(["a", None, np.nan], dtype=object),
            "arrow": pd.array(["x", None, "z"], dtype="str"),
            "number": [1.5, np.nan, np.inf],
            "count": pd.array([1, None, 3], dtype="Int64"),
            "flag": [True, False, True],
            "day": pd.to_datetime(["2024-02-29", None, "1999-12-31"]),
        }
    )
    doc = _write(props, shapely.points([[0, 0], [1, 1], [2, 2]]))
    got = [f["properties"] for f in doc["features"]]
    assert got[0] == {
        "text": "a",
        "arrow": "x",
        "number": 1.5,
        "count": 1,
        "flag": True,
        "day": "2024-02-29",
    }
    assert got[1] == dict.fromkeys(["text", "arrow", "number", "count", "day"]) | {"flag": False}
    assert got[2]["number"] is None  # infinity is not JSON
    assert (got[2]["count"], got[2]["day"], got[2]["text"]) == (3, "1999-12-31", None)


def test_numbers_read_back_as_the_same_doubles():
    rng = np.random.default_rng(7)
    values = np.concatenate([rng.normal(0, 1e6, 500), [0.1 + 0.2, 1e-300, -0.0, 5e21, 2**53]])
    props = pd.DataFrame({"v": values, "i": np.arange(len(values), dtype=np.int64) * 10**9})
    doc = _write(props, shapely.points(np.zeros((len(values), 2))))
    assert [f["properties"]["v"] for f in doc["features"]] == values.tolist()
    assert [f["properties"]["i"] for f in doc["features"]] == (props["i"]).tolist()


def test_geometry_rounded_to_seven_places_and_missing_ones_null():
    geoms = [shapely.Point(120.123456789, 36.5), None, shapely.Point(), shapely.Point(-0.5, 1e-9)]
    doc = _write(pd.DataFrame({"k": [1, 2, 3, 4]}), geoms)
    got = [f["geometry"] for f in doc["features"]]
    assert got[0] == {"type": "Point", "coordinates": [120.1234568, 36.5]}
    assert got[1] is None and got[2] is None
    assert got[3]["coordinates"] == [-0.5, 0.0]
    assert all(f["type"] == "Feature" for f in doc["features"])


@pytest.mark.parametrize("chunk_rows", [1, 2, 3, 7, 100])
def test_chunks_make_one_document(chunk_rows):
    n = 7
    props = pd.DataFrame({"id": [f"P{i}" for i in range(n)], "x": np.arange(n) / 3})
    doc = _write(props, shapely.points(np.arange(n), np.arange(n)), chunk_rows=chunk_rows)
    assert [f["properties"]["id"] for f in doc["features"]] == props["id"].tolist()
    assert all(
        math.isclose(f["properties"]["x"], i / 3, rel_tol=0, abs_tol=0)
        for i, f in enumerate(doc["features"])
    )


def test_empty_table_is_an_empty_collection():
    doc = _write(pd.DataFrame({"a": pd.Series([], dtype=float)}), [])
    assert doc == {"type": "FeatureCollection", "features": []}


def test_gdal_reads_the_file(tmp_path):
    pyogrio = pytest.importorskip("pyogrio")
    props = pd.DataFrame({"name": ["南村", 'a"b'], "inv": [1.25, np.nan]})
    path = tmp_path / "p.geojson"
    with path.open("wb") as fh:
        write_point_features(fh, props, np.asarray(shapely.points([[120, 36], [121, 37]])))
    frame = pyogrio.read_dataframe(path)
    assert frame["name"].tolist() == ["南村", 'a"b']
    assert frame["inv"].iloc[0] == 1.25 and np.isnan(frame["inv"].iloc[1])
    assert shapely.get_x(frame.geometry.array).tolist() == [120.0, 121.0]

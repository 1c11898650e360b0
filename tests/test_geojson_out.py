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


def _text(props: pd.DataFrame, geoms) -> str:
    buffer = _io.BytesIO()
    write_point_features(buffer, props, np.asarray(geoms, dtype=object))
    return buffer.getvalue().decode("utf-8")


def test_repeated_number_columns_are_written_alike_and_signed_zeros_kept():
    # lon_orig repeats lon and the point repeats both: one text each, reused. A column equal
    # to another except for the sign of a zero must not take the other's text ("0" vs "-0").
    lon = np.array([120.1234567, 0.0, -0.0, 121.5])
    lat = np.array([36.25, -0.0, 0.0, 36.5])
    props = pd.DataFrame(
        {
            "lon": lon,
            "lat": lat,
            "lon_orig": lon.copy(),
            "signs": np.where(lon == 0, -lon, lon),  # == lon, but for the zeros' signs
            "mixed": lat[::-1],
        }
    )
    text = _text(props, shapely.points(lon, lat))
    features = text.split("\n")[1:-1]
    assert '"lon":0,"lat":-0,"lon_orig":0,"signs":-0' in features[1]
    assert '"lon":-0,"lat":0,"lon_orig":-0,"signs":0' in features[2]
    assert '"coordinates": [0, -0]' in features[1] and '"coordinates": [-0, 0]' in features[2]
    doc = json.loads(text)
    for feature, x, y in zip(doc["features"], lon, lat, strict=True):
        assert feature["properties"]["lon_orig"] == feature["properties"]["lon"] == x
        assert feature["geometry"]["coordinates"] == [x, y]
    assert [f["properties"]["mixed"] for f in doc["features"]] == lat[::-1].tolist()


def test_point_with_more_than_seven_decimals_is_rounded_while_its_column_is_not():
    props = pd.DataFrame({"lon": [120.123456789], "lat": [36.5]})
    doc = _write(props, shapely.points([[120.123456789, 36.5]]))
    assert doc["features"][0]["properties"]["lon"] == 120.123456789
    assert doc["features"][0]["geometry"]["coordinates"] == [120.1234568, 36.5]


@pytest.mark.parametrize("unit", ["s", "ms", "us", "ns"])
def test_dates_are_the_days_strftime_gives(unit):
    times = pd.Series(
        np.array(
            ["2024-02-29T23:59:59", "NaT", "1969-12-31T23:00", "1950-06-01T12:30", "2262-04-11"],
            dtype=f"datetime64[{unit}]",
        )
    )
    want = [None if pd.isna(t) else t for t in times.dt.strftime("%Y-%m-%d")]
    doc = _write(pd.DataFrame({"day": times}), shapely.points(np.zeros((len(times), 2))))
    assert [f["properties"]["day"] for f in doc["features"]] == want
    assert want[:4] == ["2024-02-29", None, "1969-12-31", "1950-06-01"]


def test_dates_with_a_time_zone_keep_their_local_day():
    # 23:30 in Shanghai is 15:30 UTC the same day; 07:00 in Shanghai is the day before in UTC.
    times = pd.Series(pd.to_datetime(["2024-03-01 23:30", "2024-03-01 07:00"])).dt.tz_localize(
        "Asia/Shanghai"
    )
    doc = _write(pd.DataFrame({"day": times}), shapely.points(np.zeros((2, 2))))
    assert [f["properties"]["day"] for f in doc["features"]] == ["2024-03-01", "2024-03-01"]

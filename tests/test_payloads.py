"""projects_payload / pack_projects on a small frame worked out by hand, in every text dtype."""

from __future__ import annotations

import base64
import datetime as dt
import gzip

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from shapely.geometry import Point

from parkmap.settings import STATUSES
from parkmap.webmap.payloads import (
    _day_numbers,
    original_coordinate_texts,
    pack_projects,
    projects_payload,
    unpack_projects,
    unpack_raw,
)

HOSTILE = 'a\\b\n"c"\t\x01\u2028</script>'
TEXT_COLUMNS = (
    "project_id",
    "name",
    "industry",
    "status",
    "park_id",
    "park_name",
    "nearest_park_id",
    "warnings",
    "coord_sys",
)


def hand_frame() -> gpd.GeoDataFrame:
    """Six projects; the last has no position. Expected values below are worked out by hand."""
    rows = [
        # id, name, industry, status, inv, date, park, park_name, nearest, km, sys, lon0, lat0
        ("P1", "一", " 家电 ", "signed", 2.0, "2020-01-02", "A", "甲园", "A", 0.0, "wgs84", 0, 0),
        ("P2", 'say "hi"', "家电", "bogus", None, None, "", "", "B", 1.24, "gcj02", 120.5, 36.25),
        ("P3", HOSTILE, "汽车", "in_production", 5.0, "2020-01-01", "A", "甲园", "A", 0.0,
         "wgs84", 0, 0),
        (None, None, None, None, 2.0, None, "Z", "外园", "B", 3.0, "wgs84", 0, 0),
        ("P5", "五", "汽车", "under_construction", 0.00004, "1970-01-02", "", "", None, 2.26,
         "bd09", 120.123456, 36.5),
        ("P6", "六", "汽车", "signed", 9.0, "2021-05-05", "A", "甲园", "A", 0.0, "wgs84", 0, 0),
    ]  # fmt: skip
    columns = ["project_id", "name", "industry", "status", "investment_100m_cny", "signed_date"]
    columns += ["park_id", "park_name", "nearest_park_id", "distance_km", "coord_sys"]
    columns += ["lon_orig", "lat_orig"]
    frame = pd.DataFrame(rows, columns=columns, index=[10, 11, 12, 13, 14, 15])
    frame["investment_100m_cny"] = frame["investment_100m_cny"].astype(float)
    frame["signed_date"] = pd.to_datetime(frame["signed_date"])
    frame["warnings"] = ["", None, "", "坐标为估计", "", ""]
    points = [Point(120.1 + i / 100, 36.5 + i / 1000) for i in range(5)] + [None]
    return gpd.GeoDataFrame(frame, geometry=points, crs="EPSG:4326")


def hand_parks() -> pd.DataFrame:
    return pd.DataFrame(
        {"park_id": ["A", "B"], "name": ["甲园", "乙园"], "name_en": ["Park A", ""]}
    )


def with_text_dtype(frame: gpd.GeoDataFrame, dtype: object) -> gpd.GeoDataFrame:
    out = frame.copy()
    for column in TEXT_COLUMNS:
        out[column] = out[column].astype(dtype)
    return out


def packed_text(payload: dict) -> bytes:
    return gzip.decompress(base64.b64decode(payload["packed"]))


def test_columns_worked_out_by_hand():
    data = projects_payload(hand_frame(), hand_parks(), "zh", "status")
    c = data["columns"]
    # P6 has no position; by investment, largest first: P3 (5), P1 (2), project 4 (2, after
    # P1: ties keep the input order), P5 (0.00004), P2 (unknown)
    assert data["missing"] == 1
    assert list(c["id"]) == ["P3", "P1", "", "P5", "P2"]
    assert isinstance(c["lon"], np.ndarray) and c["lon"].tolist() == [
        120.12,
        120.1,
        120.13,
        120.14,
        120.11,
    ]
    np.testing.assert_array_equal(c["inv"], [5.0, 2.0, 2.0, 0.0, np.nan])
    assert data["invMax"] == 5.0
    assert [STATUSES[s] for s in c["st"]] == [
        "in_production",
        "signed",
        "unknown",  # missing
        "under_construction",
        "unknown",  # not a status
    ]
    # 汽车: 2 projects, 5.00004 亿元; 家电: 2 projects, 2 亿元; empty industry last
    assert data["industries"] == ["汽车", "家电", ""]
    assert c["ind"].tolist() == [0, 1, 2, 0, 1]
    assert list(c["name"]) == [HOSTILE, "一", "", "五", 'say "hi"']
    # park labels: the park's name, else the project's park_name; nearest parks after them
    assert data["parkNames"] == ["甲园", "外园", "乙园"]
    assert c["park"].tolist() == [0, 0, 1, -1, -1]
    assert c["near"].tolist() == [0, 0, 2, -1, 2]
    # distance only outside every park (empty park_id), to 0.1 km
    np.testing.assert_array_equal(c["km"], [np.nan, np.nan, np.nan, 2.3, 1.2])
    assert c["day"].tolist() == [18262, 18263, -1, 1, -1]
    assert list(c["warn"]) == ["", "", "坐标为估计", "", ""]
    assert original_coordinate_texts(c, data["origSystems"]) == [
        "",
        "",
        "",
        "120.123456, 36.500000 (BD-09)",
        "120.500000, 36.250000 (GCJ-02)",
    ]


def test_packed_columns_worked_out_by_hand():
    payload = pack_projects(projects_payload(hand_frame(), hand_parks(), "en", "industry"))
    assert "columns" not in payload and payload["n"] == 5
    assert (payload["x0"], payload["y0"]) == (120_100_000, 36_500_000)
    raw = unpack_raw(payload)
    assert raw["x"].tolist() == [20_000, 0, 30_000, 40_000, 10_000]
    assert raw["y"].tolist() == [2_000, 0, 3_000, 4_000, 1_000]
    assert raw["inv"].tolist() == [50_000, 20_000, 20_000, 0, -1]
    assert raw["km"].tolist() == [-1, -1, -1, 23, 12]
    assert raw["warn"] == ["", "", "坐标为估计", "", ""]
    # original positions: offsets from x/y in millionths of a degree, by system
    systems = payload["origSystems"]
    assert [systems[s] if s >= 0 else "" for s in raw["osys"]] == ["", "", "", "BD-09", "GCJ-02"]
    assert raw["ox"][3:].tolist() == [120_123_456 - 120_140_000, 120_500_000 - 120_110_000]
    assert raw["oy"][3:].tolist() == [36_500_000 - 36_504_000, 36_250_000 - 36_501_000]
    assert raw["ox"][:3].tolist() == raw["oy"][:3].tolist() == [0, 0, 0]
    assert unpack_projects(payload)["orig"][3:] == [
        "120.123456, 36.500000 (BD-09)",
        "120.500000, 36.250000 (GCJ-02)",
    ]
    assert raw["name"][0] == HOSTILE
    assert payload["parkNames"] == ["Park A", "外园", "乙园"]  # English name when there is one
    cols = unpack_projects(payload)
    assert cols["inv"] == [5.0, 2.0, 2.0, 0.0, None]
    assert cols["lon"] == pytest.approx([120.12, 120.1, 120.13, 120.14, 120.11], abs=1e-9)


@pytest.mark.parametrize(
    "dtype",
    [object, "str", pd.StringDtype("python"), pd.ArrowDtype(pa.string()), "category"],
    ids=["object", "str", "python", "arrow", "category"],
)
def test_same_packed_text_whatever_the_text_dtype(dtype):
    frame, parks = hand_frame(), hand_parks()
    expected = packed_text(pack_projects(projects_payload(frame, parks, "zh", "status")))
    other = with_text_dtype(frame, dtype)
    assert packed_text(pack_projects(projects_payload(other, parks, "zh", "status"))) == expected


def test_chunked_arrow_columns():
    frame, parks = hand_frame(), hand_parks()
    expected = packed_text(pack_projects(projects_payload(frame, parks, "zh", "status")))
    arrow = with_text_dtype(frame, "str")
    chunked = pd.concat([arrow.iloc[:2], arrow.iloc[2:]])
    assert pa.array(chunked["name"].array).num_chunks == 2
    assert packed_text(pack_projects(projects_payload(chunked, parks, "zh", "status"))) == expected


def test_plain_lists_pack_like_arrays():
    data = projects_payload(hand_frame(), hand_parks(), "zh", "status")
    plain = {
        key: [None if isinstance(v, float) and np.isnan(v) else v for v in values.tolist()]
        if isinstance(values, np.ndarray)
        else list(values)
        for key, values in data["columns"].items()
    }
    assert plain["inv"][-1] is None and plain["km"][0] is None
    lists = pack_projects({**data, "columns": plain})
    arrays = pack_projects(data)
    assert packed_text(lists) == packed_text(arrays)
    assert {k: v for k, v in lists.items() if k != "packed"} == {
        k: v for k, v in arrays.items() if k != "packed"
    }


def test_empty_and_blank_columns_are_left_out():
    frame = hand_frame().drop(columns=["signed_date", "warnings", "coord_sys"])
    frame["project_id"] = ""
    frame["distance_km"] = np.nan
    raw = unpack_raw(pack_projects(projects_payload(frame, hand_parks(), "zh", "status")))
    assert {"day", "id", "km", "warn", "osys"}.isdisjoint(raw)
    empty = pack_projects(projects_payload(hand_frame().iloc[:0], hand_parks(), "zh", "status"))
    assert empty["n"] == 0
    assert {k: list(v) for k, v in unpack_raw(empty).items()} == {
        k: [] for k in ("x", "y", "inv", "st", "ind", "park", "near", "name")
    }


def test_a_project_counted_in_its_declared_park_carries_its_distance_to_it():
    # P1 inside 甲园 (declared_km NaN), P3 counted in 甲园 from 1.26 km outside it, P5 outside
    # every park (2.26 km to the nearest): km is the declared park's distance, else the nearest's.
    frame = hand_frame()
    frame["declared_km"] = [np.nan, np.nan, 1.26, np.nan, np.nan, np.nan]
    c = projects_payload(frame, hand_parks(), "zh", "status")["columns"]
    assert list(c["id"]) == ["P3", "P1", "", "P5", "P2"]
    assert c["park"].tolist() == [0, 0, 1, -1, -1]
    np.testing.assert_array_equal(c["km"], [1.3, np.nan, np.nan, 2.3, 1.2])


@pytest.mark.parametrize("seed", range(10))
def test_largest_first_is_numpys_stable_descending_order(seed):
    """Against ``np.argsort(-values, kind="stable")`` on amounts with many equal values (rounded
    to 0-3 decimals, zeros of both signs, infinities) and NaN, which go last in their order."""
    from parkmap.webmap.payloads import largest_first

    rng = np.random.default_rng(seed)
    n = int(rng.integers(0, 5000))
    values = np.round(rng.lognormal(0, 2, n), int(rng.integers(0, 4)))
    for share, value in ((0.05, 0.0), (0.02, -0.0), (0.02, np.inf), (0.05, np.nan)):
        values[rng.random(n) < share] = value
    rows = np.flatnonzero(rng.random(n) < 0.9)
    known = rows[~np.isnan(values[rows])]
    expected = np.concatenate(
        [known[np.argsort(-values[known], kind="stable")], rows[np.isnan(values[rows])]]
    )
    assert np.array_equal(largest_first(values, rows), expected)
    distinct = rng.permutation(n).astype(float)  # no two equal: the quicksort's order stands
    assert np.array_equal(
        largest_first(distinct, np.arange(n)), np.argsort(-distinct, kind="stable")
    )


@pytest.mark.parametrize("unit", ["s", "ms", "us", "ns"])
def test_signing_days_count_whole_days_from_1970_rounding_down(unit):
    # Worked out with the standard library: whole days from 1970-01-01 to the local date.
    stamps = [
        dt.datetime(2024, 3, 1, 23, 59, 59),
        dt.datetime(1970, 1, 1),
        dt.datetime(1969, 12, 31, 23, 0),  # the day before 1970: -1, like a missing date
        dt.datetime(1901, 6, 15, 12, 0),
        None,
    ]
    want = [(s.date() - dt.date(1970, 1, 1)).days if s is not None else -1 for s in stamps]
    column = pd.Series(stamps, dtype=f"datetime64[{unit}]")
    assert _day_numbers(column).tolist() == want
    # A zoned column counts its local dates; text is parsed, what does not parse is missing.
    zoned = column.dt.tz_localize("Asia/Shanghai")
    assert _day_numbers(zoned).tolist() == want
    assert _day_numbers(pd.Series(["2024-03-01", "not a date", None])).tolist() == [19783, -1, -1]

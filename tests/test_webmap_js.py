"""The map runtime's pure functions, called in headless Chromium on a blank page.

The page holds nothing but the concatenated runtime (``assets.runtime_js()``, no Leaflet, no
map) with the network cut; the test flag makes the runtime expose its pure functions as
``parkmap.internals``. Every expected value is worked out by hand (or is the input the Python
packer was given). :func:`pages.with_test_hooks` opens pages with the test flag set.
"""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pytest
from pages import OfflinePage, with_test_hooks

from parkmap.webmap import packing
from parkmap.webmap import payload_schema as schema
from parkmap.webmap.assets import runtime_js
from parkmap.webmap.payloads import pack_projects, unpack_projects, unpack_raw

#: What ``window.parkmap`` holds on a page without the test flag, before any map is made.
PUBLIC = [
    "addFilters",
    "addFullscreen",
    "addLegend",
    "addLegendSections",
    "addNote",
    "addTitle",
    "changesLayer",
    "clustersLayer",
    "contextLayer",
    "decodeBlock",
    "densityLayer",
    "find",
    "hexLayer",
    "hotspotsLayer",
    "keepInFront",
    "parksAddedLayer",
    "parksLayer",
    "projectsLayer",
    "ready",
    "setup",
    "summary",
]
HOOKS = [
    "PLAY_STEP_MS",
    "aggregated",
    "decoded",
    "drawnCount",
    "drawnIds",
    "internals",
    "layerCount",
    "state",
    "timing",
]


@pytest.fixture(scope="module")
def blank_html(tmp_path_factory):
    path = tmp_path_factory.mktemp("runtime") / "runtime.html"
    path.write_text(
        f'<!doctype html><html><head><meta charset="utf-8"><script>{runtime_js()}</script>'
        "</head><body></body></html>",
        encoding="utf-8",
    )
    return path


@pytest.fixture(scope="module")
def runtime(browser, blank_html):
    """The blank page with the test hooks; ``runtime.call(js, arg)`` evaluates with ``I`` bound
    to ``parkmap.internals``."""
    page = _RuntimePage(with_test_hooks(browser), blank_html)
    yield page
    page.assert_clean()
    page.close()


class _RuntimePage(OfflinePage):
    def call(self, body: str, arg=None):
        return self.page.evaluate(f"async (arg) => {{ const I = parkmap.internals; {body} }}", arg)


# ---------------------------------------------------------------- the page and its namespace


@pytest.mark.browser
def test_runtime_alone_without_the_flag_has_only_the_public_namespace(browser, blank_html):
    page = OfflinePage(browser, blank_html)
    try:
        assert page.page.evaluate("typeof L") == "undefined"  # the runtime loads without Leaflet
        assert page.page.evaluate("Object.keys(parkmap).sort()") == PUBLIC
        assert page.page.evaluate("parkmap.ready") is True
        # folium's Popup writes $(`<div>…</div>`)[0]; that is all the `$` does
        assert page.page.evaluate("$('<div><b>x</b></div> <p></p>').map(e => e.tagName)") == [
            "DIV",
            "P",
        ]
        page.assert_clean()
    finally:
        page.close()


@pytest.mark.browser
def test_runtime_with_the_flag_adds_the_hooks(runtime):
    keys = runtime.page.evaluate("Object.keys(parkmap)")
    assert sorted(keys) == sorted(PUBLIC + HOOKS)
    assert runtime.page.evaluate("parkmap.PLAY_STEP_MS") == 800
    assert runtime.call("return I.schema;") == schema.for_page()


# ---------------------------------------------------------------- decoder

DECODE = """
    const raw = await I.unpack(I.schema, arg);
    const c = I.decodeColumns(I.schema, arg, raw);
    const n = arg.n;
    const out = {};
    for (const k of ['lon', 'lat', 'inv', 'year', 'st', 'ind', 'park', 'near', 'day'])
      out[k] = Array.from(c[k]);
    out.km = Array.from(c.km, (v) => (isNaN(v) ? null : v));
    for (const k of ['name', 'id', 'warn']) out[k] = Array.from({length: n}, (_, i) => c[k].at(i));
    out.orig = Array.from({length: n}, (_, i) => c.orig(i));
    return out;
"""

HOSTILE = 'a\\b\n"c"\t</script>\u2028'


def _columns() -> dict:
    """Four projects with every packed field, worked out by hand."""
    return {
        "lon": [120.123456, 120.5, 119.999999, 121.0],
        "lat": [36.5, 36.250001, 37.0, 36.0],
        "inv": [2.5, None, 0.0001, 0.0],
        "st": [0, 3, 1, 2],
        "ind": [1, 0, 0, 2],
        "park": [0, -1, -1, 1],
        "near": [0, 1, -1, 1],
        "name": ["一号", HOSTILE, "", "D"],
        "id": ["P1", "", "P3", "P4"],
        "day": [18262, -1, 0, 18993],  # 2020-01-01, none, 1970-01-01, 2022-01-01
        "km": [None, 1.2, None, None],
        "warn": ["", "坐标为估计", "", ""],
        "origSys": [-1, 0, 1, -1],
        "origLon": [math.nan, 120.495, 120.0123, math.nan],
        "origLat": [math.nan, 36.2475, 37.0045, math.nan],
    }


@pytest.mark.browser
def test_decoder_gives_back_what_the_python_packer_was_given(runtime):
    given = _columns()
    payload = pack_projects({"columns": given, "origSystems": ["GCJ-02", "BD-09"]})
    got = runtime.call(DECODE, payload)
    for key in ("lon", "lat", "st", "ind", "park", "near", "name", "id", "day", "warn"):
        assert got[key] == given[key], key
    assert got["inv"] == [2.5, schema.MISSING, 0.0001, 0.0]
    assert got["km"] == [None, 1.2, None, None]
    assert got["year"] == [2020, 0, 1970, 2022]
    assert got["orig"] == [
        "",
        "120.495000, 36.247500 (GCJ-02)",
        "120.012300, 37.004500 (BD-09)",
        "",
    ]
    # the Python inverse agrees
    assert unpack_projects(payload)["orig"] == got["orig"]


@pytest.mark.browser
def test_decoder_fills_in_what_the_packer_left_out(runtime):
    columns = {
        "lon": [120.0, 120.1],
        "lat": [36.0, 36.1],
        "inv": [1.0, 2.0],
        "st": [0, 0],
        "ind": [0, 0],
        "park": [0, 0],
        "near": [0, 0],
        "name": ["a", "b"],
        "id": ["", ""],
        "day": [-1, -1],
        "km": [None, None],
        "warn": ["", ""],
    }
    payload = pack_projects({"columns": columns, "origSystems": []})
    got = runtime.call(DECODE, payload)
    assert got["id"] == ["", ""]
    assert got["day"] == [schema.MISSING, schema.MISSING]
    assert got["year"] == [0, 0]
    assert got["km"] == [None, None]
    assert got["warn"] == ["", ""]
    assert got["orig"] == ["", ""]


@pytest.mark.browser
def test_sections_of_every_type_read_back(runtime):
    """Integers past each type's range pick the next type; delta sections sum back."""
    cases = [
        [0, -1, 127, -127],
        [128, -1, 32767],
        [32768, -(2**31 - 1), 2**31 - 1],
        [2**31, -(2**40), 2**53 - 1],
    ]
    for values in cases:
        for delta in (False, True):
            kind, data, summed = packing.int_section(values, delta=delta)
            got = runtime.call(
                "return Array.from(I.readInts(new Uint8Array(arg.bytes), arg.kind, arg.delta));",
                {"bytes": list(data), "kind": kind, "delta": summed},
            )
            assert got == values, (values, kind, delta)
            assert summed == (delta and kind != "f64")
    assert [packing.int_section(v)[0] for v in cases] == ["i8", "i16", "i32", "f64"]


#: Texts to search: the needle "ab" straddles texts 0 and 1 (not a match), astral characters and
#: a character whose lower case is longer (İ) come before later matches.
SEARCH_TEXTS = ["xa", "bY", "", "😀AB", "İx", "cab", "ab"]


@pytest.mark.browser
@pytest.mark.parametrize("texts", [SEARCH_TEXTS, [t for t in SEARCH_TEXTS if t != "İx"]])
def test_text_column_cuts_and_searches(runtime, texts):
    lengths, data = packing.text_bytes(texts)
    got = runtime.call(
        """const col = new I.TextColumn(arg.lengths, new Uint8Array(arg.bytes));
        return {
          texts: Array.from({length: col.length}, (_, i) => col.at(i)),
          ab: col.find("ab", 100), first: col.find("ab", 1), y: col.find("y", 100),
          none: col.find("zz", 100),
        };""",
        {"lengths": lengths.tolist(), "bytes": list(data)},
    )
    assert got["texts"] == texts
    # by hand: rows whose own text contains the needle, lower-cased
    assert got["ab"] == [i for i, t in enumerate(texts) if "ab" in t.lower()]
    assert got["first"] == got["ab"][:1]
    assert got["y"] == [i for i, t in enumerate(texts) if "y" in t.lower()]
    assert got["none"] == []


@pytest.mark.browser
def test_year_of_day_agrees_with_dates(runtime):
    days = [0, -1, 59, 365, 10956, 10957, 11016, 18262, 19722, 19723, 47482, -700000]
    got = runtime.call("return arg.map(I.yearOfDay);", days)
    expected = [(dt.date(1970, 1, 1) + dt.timedelta(days=d)).year for d in days]
    assert got == expected


@pytest.mark.browser
@pytest.mark.parametrize(
    "days",
    [
        # around new years (1999/2000, a leap year, 2100 not leap), unknown (-1) among them
        [10956, -1, 10957, 11016, 11322, 11323, 47481, 47482, 47846, 47847, 0],
        # a range far longer than the column: computed day by day, not from a table
        [0, 2_000_000, -1, 19723],
    ],
)
def test_years_of_days_agree_with_dates(runtime, days):
    got = runtime.call(
        "const y = new Int16Array(arg.length); I.yearsOfDays(Int32Array.from(arg), y);"
        " return Array.from(y);",
        days,
    )
    expected = [(dt.date(1970, 1, 1) + dt.timedelta(days=d)).year if d >= 0 else 0 for d in days]
    assert got == expected


@pytest.mark.browser
@pytest.mark.parametrize("n", [20_000, 10])  # interpolated in a table; computed point by point
def test_mercator_pixels_agree_with_pyproj(runtime, n):
    from pyproj import Transformer

    rng = np.random.default_rng(7)
    lon = rng.uniform(119.5, 121.0, n)
    lat = np.concatenate([rng.uniform(35.5, 37.2, n - 2), [36.0, 37.2]])
    got = runtime.call(
        "const m = I.mercatorPixels(arg.lon, arg.lat, arg.lon.length, 85.0511287798);"
        " return [Array.from(m.x), Array.from(m.y)];",
        {"lon": lon.tolist(), "lat": lat.tolist()},
    )
    x, y = Transformer.from_crs("EPSG:4326", "EPSG:3857", always_xy=True).transform(lon, lat)
    # Leaflet's zoom-0 pixels: a 256 px world, y down from the north edge
    half = 20037508.342789244
    assert np.allclose(got[0], 128 + x / half * 128, rtol=0, atol=1e-9)
    assert np.allclose(got[1], 128 - y / half * 128, rtol=0, atol=1e-8)


def test_packer_writes_exactly_the_schema_keys():
    """Every member of a full packed object is in the schema, and the optional ones are the
    ones left out of a minimal object."""
    systems = ["GCJ-02", "BD-09"]
    full = unpack_raw(pack_projects({"columns": _columns(), "origSystems": systems}))
    keys = {f.key for f in schema.FIELDS}
    assert keys <= set(full)
    one = {k: v[:1] for k, v in _columns().items() if not k.startswith("orig")}
    one.update(id=[""], day=[-1], km=[None], warn=[""])
    minimal = unpack_raw(pack_projects({"columns": one}))
    required = {f.key for f in schema.FIELDS if not f.optional}
    assert keys & set(minimal) == required
    assert all(f.column in _columns() for f in schema.FIELDS)


# ---------------------------------------------------------------- filter predicate

#: Three projects: undated with unknown investment; 2020 at 5 亿元; 2021 at 20 亿元.
FILTER_COLUMNS = {
    "st": [0, 1, 0],
    "ind": [0, 1, 2],
    "day": [-1, 18262, 18628],
    "year": [0, 2020, 2021],
    "inv": [-1, 5, 20],
}
EVERYTHING = {
    "status": [True, True],
    "industry": [True, True, True],
    "year": None,
    "noDate": True,
    "min": None,
    "max": None,
    "unknownInv": True,
}


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({}, [True, True, True]),
        ({"status": [True, False]}, [True, False, True]),
        ({"industry": [True, False, True]}, [True, False, True]),
        ({"year": 2020}, [True, True, False]),  # cumulative: signed in 2020 or before
        ({"year": 2019, "noDate": False}, [False, False, False]),
        ({"min": 5}, [True, True, True]),  # the bounds are inclusive
        ({"min": 5.01}, [True, False, True]),
        ({"max": 5, "unknownInv": False}, [False, True, False]),
        ({"min": 10, "max": 30, "noDate": False}, [False, False, True]),
    ],
)
@pytest.mark.browser
def test_filter_predicate_on_hand_made_projects(runtime, change, expected):
    got = runtime.call(
        "return [0, 1, 2].map((i) => I.passesFilter(arg.f, arg.c, i));",
        {"f": {**EVERYTHING, **change}, "c": FILTER_COLUMNS},
    )
    assert got == expected


@pytest.mark.browser
def test_no_filter_passes_everything(runtime):
    assert runtime.call("return I.passesFilter(null, arg, 0);", FILTER_COLUMNS) is True


# ---------------------------------------------------------------- hexagons


@pytest.mark.parametrize(
    ("q", "r", "expected"),
    [
        (0.0, 0.0, [0, 0]),
        (1.2, -0.3, [1, 0]),  # each coordinate rounds to a valid hexagon
        (0.4, 0.45, [0, 1]),  # cube (0.4, 0.45, -0.85) rounds to (0, 0, -1): r is furthest off
        (0.48, 0.1, [1, 0]),  # (0.48, 0.1, -0.58) rounds to (0, 0, -1): q is furthest off
        (0.7, -0.2, [1, 0]),  # (0.7, -0.2, -0.5) rounds to (1, 0, 0): s is furthest off
        (-0.2, -0.3, [0, 0]),  # (-0.2, -0.3, 0.5) rounds to (0, 0, 1): s is furthest off
    ],
)
@pytest.mark.browser
def test_hex_rounding_of_known_axial_coordinates(runtime, q, r, expected):
    got = runtime.call("return I.hexRound(arg[0], arg[1]);", [q, r])
    assert [int(v) for v in got] == expected  # Math.round(-0.3) is -0


@pytest.mark.browser
def test_pixels_to_hexagons_and_back(runtime):
    R = 16  # pointy-top: corners at (0, ±16); the upper-right edge runs (0, 16)–(8√3, 8)
    got = runtime.call(
        """
        const R = arg;
        const c = I.hexCentre(2, -1, R);
        return {
            centre: [c.x, c.y],
            back: I.pixelToHex(c.x, c.y, R),
            inside: I.pixelToHex(1, 15.3, R),  // the edge is at y = 16 - 1/√3 ≈ 15.42 for x = 1
            across: I.pixelToHex(1, 15.6, R),
            right: I.pixelToHex(13.8, 0, R),  // the side is at x = 8√3 ≈ 13.86
            beyond: I.pixelToHex(13.9, 0, R),
        };
        """,
        R,
    )
    assert got["centre"] == pytest.approx([R * math.sqrt(3) * 1.5, -24.0])
    assert got["back"] == [2, -1]
    assert [int(v) for v in got["inside"]] == [0, 0]
    assert [int(v) for v in got["across"]] == [0, 1]
    assert [int(v) for v in got["right"]] == [0, 0]
    assert [int(v) for v in got["beyond"]] == [1, 0]


# ---------------------------------------------------------------- hit test

HIT = """
    const [xs, ys, rs] = [arg.x, arg.y, arg.r];
    const cells = new Map();
    xs.forEach((x, i) => {
        const key = I.cellKey(I.cellOf(x), I.cellOf(ys[i]));
        if (!cells.has(key)) cells.set(key, []);
        cells.get(key).push(i);
    });
    return arg.probes.map(([x, y]) => I.pointHit(cells, xs, ys, (i) => rs[i], {x, y}));
"""


@pytest.mark.browser
def test_point_hit_test_picks_the_top_marker(runtime):
    # marker 0 at (100, 100) r 5, marker 1 at (104, 100) r 3, marker 2 at (31, 31) r 3;
    # a hit counts within the radius + 3 px
    points = {"x": [100, 104, 31], "y": [100, 100, 31], "r": [5, 3, 3]}
    probes = [
        [102, 100],  # on both 0 (2 px ≤ 8) and 1 (2 px ≤ 6): 1 is drawn on top
        [96, 100],  # 4 px from 0; 8 px from 1 (> 6)
        [92, 100],  # exactly 8 px from 0: still on it
        [91.9, 100],  # 8.1 px from 0
        [150, 150],  # on nothing
        [33, 33],  # in the next cell from marker 2 (cells of 32 px): 2.8 px away
    ]
    got = runtime.call(HIT, {**points, "probes": probes})
    assert got == [1, 0, 0, -1, -1, 2]


@pytest.mark.browser
def test_bin_hit_test_finds_the_hexagon_under_the_pointer(runtime):
    # the view's top-left corner is layer pixel (1000, 500); bin (q 1, r 2) is centred on
    # layer pixel (16√3 · 2, 48) = (55.43, 48), i.e. container pixel (-944.57, -452)
    got = runtime.call(
        """
        const bins = new Map([[I.hexKey(1, 2), {q: 1, r: 2, n: 7}]]);
        const origin = {x: 1000, y: 500};
        const at = (x, y) => I.binAt(bins, 16, origin, {x, y});
        return [at(-944.57, -452), at(-944.57 + 10, -452), at(-944.57, -452 + 20)];
        """
    )
    assert got == [{"q": 1, "r": 2, "n": 7}, {"q": 1, "r": 2, "n": 7}, None]


@pytest.mark.browser
def test_marker_radius(runtime):
    got = runtime.call(
        "return [I.markerRadius(8, 8), I.markerRadius(2, 8), I.markerRadius(0, 8),"
        " I.markerRadius(null, 8), I.markerRadius(3, null)];"
    )
    assert got == [16, 9.5, 3, 4, 4]  # 3 + 13·√(inv / max); 4 when unknown

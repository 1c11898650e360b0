"""Park layers as they arrive: shapefiles without ``.cpg``, DataV (Amap) GeoJSON with list and
dict properties, GCJ-02 layers, metre coordinates without a CRS, and repeated park ids."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from click.testing import CliRunner
from shapely.geometry import Polygon, box

from parkmap import read
from parkmap.cli import main
from parkmap.coord_check import park_layer_hint
from parkmap.errors import InputError, UsageError
from parkmap.nearest import Edges, nearest_edges, polygon_edges

WEST = box(120.0, 36.5, 120.1, 36.6)
EAST = box(120.2, 36.5, 120.3, 36.6)
NAMES = ["平度经济开发区", "莱西姜山新能源汽车产业集聚区"]

#: Records that declare the two parks by name; each point lies in the park it declares.
RECORDS = [
    "项目编号,项目名称,所属园区,项目状态,总投资(万元),签约日期,经度,纬度",
    f"A1,甲项目,{NAMES[0]},签约,10000,2020-03-01,120.05,36.55",
    f"B1,乙项目,{NAMES[1]},在建,20000,2020-04-01,120.25,36.55",
]


def run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def lines_of(output: str) -> list[str]:
    return [line for line in output.splitlines() if line.strip()]


@pytest.fixture
def records(tmp_path: Path) -> Path:
    path = tmp_path / "台账.csv"
    path.write_bytes(("\r\n".join(RECORDS) + "\r\n").encode("gbk"))
    return path


def write_shapefile(path: Path, encoding: str, names: list[str] = NAMES) -> Path:
    """A shapefile whose names are stored in ``encoding``, its ``.cpg`` deleted."""
    layer = gpd.GeoDataFrame(
        {"park_id": ["w", "e"][: len(names)], "name": names},
        geometry=[WEST, EAST][: len(names)],
        crs="EPSG:4326",
    )
    layer.to_file(path, driver="ESRI Shapefile", encoding=encoding)
    path.with_suffix(".cpg").unlink()
    return path


# --- shapefile encoding ----------------------------------------------------------------------


@pytest.mark.parametrize(("stored", "detected"), [("utf-8", "utf-8"), ("gbk", "gb18030")])
def test_shapefile_without_cpg_reads_names_exactly(tmp_path, stored, detected):
    path = write_shapefile(tmp_path / "parks.shp", stored)
    assert not path.with_suffix(".cpg").exists()
    # The bytes really are in the stored encoding (and GDAL alone would read them as Latin-1).
    dbf = path.with_suffix(".dbf").read_bytes()
    assert NAMES[0].encode(stored) in dbf
    parks = read.parks_from_file(path)
    assert parks["name"].tolist() == NAMES
    assert (
        f"parks.shp: no .cpg; attribute text read as {detected} (detected)"
        in (parks.attrs["notes"])
    )


def test_utf8_name_cut_mid_character_by_the_field_width_is_still_utf8(tmp_path):
    # 100 × 青 is 300 bytes in UTF-8; a dBASE text field holds 254, so GDAL keeps 84 whole
    # characters (252 bytes) and the file ends with 2 bytes of the 85th.
    with pytest.warns(RuntimeWarning, match="truncated to 254"):
        path = write_shapefile(tmp_path / "long.shp", "utf-8", names=["青" * 100])
    parks = read.parks_from_file(path)
    assert parks["name"].iloc[0] == "青" * 84
    assert any("read as utf-8 (detected)" in n for n in parks.attrs["notes"])


def test_ascii_shapefile_needs_no_guess(tmp_path):
    path = write_shapefile(tmp_path / "plain.shp", "utf-8", names=["West", "East"])
    parks = read.parks_from_file(path)
    assert parks["name"].tolist() == ["West", "East"]
    assert not any(".cpg" in n for n in parks.attrs["notes"])


def test_parks_encoding_overrides_detection(tmp_path):
    path = write_shapefile(tmp_path / "parks.shp", "gbk")
    parks = read.parks_from_file(path, encoding="GBK")
    assert parks["name"].tolist() == NAMES
    assert parks.attrs["notes"] == ["parks.shp: attribute text read as gbk (--parks-encoding)"]
    # Forcing the wrong encoding is obeyed too: GBK bytes are not UTF-8 text.
    with pytest.raises(InputError, match="cannot read it as a vector layer"):
        read.parks_from_file(path, encoding="utf-8")
    with pytest.raises(UsageError, match="unknown text encoding 'klingon'"):
        read.parks_from_file(path, encoding="klingon")


def test_cli_gbk_shapefile_matches_declared_parks(tmp_path, records):
    parks = write_shapefile(tmp_path / "parks.shp", "gbk")
    for extra in ([], ["--parks-encoding", "gbk"]):
        result = run("validate", "--projects", str(records), "--parks", str(parks), *extra)
        assert result.exit_code == 0, result.output
        assert "read 2 · mapped 2 · warnings 0 · rejected 0" in result.output
        assert "is not in the park layer" not in result.output


def test_cli_unknown_parks_encoding_is_one_line(tmp_path, records):
    parks = write_shapefile(tmp_path / "parks.shp", "gbk")
    result = run(
        "validate", "--projects", str(records), "--parks", str(parks), "--parks-encoding", "xx"
    )
    assert result.exit_code == 2
    assert lines_of(result.output) == [
        "Error: unknown text encoding 'xx' for --parks-encoding; try utf-8, gbk or gb18030"
    ]


# --- DataV layers: list and dict properties, GCJ-02 hint ---------------------------------------


def datav_layer(path: Path) -> Path:
    """A DataV-style district layer: adcode, level, center/centroid lists, acroutes, parent."""
    features = []
    for i, (geom, name) in enumerate(zip([WEST, EAST], NAMES, strict=True)):
        c = geom.centroid
        features.append(
            {
                "type": "Feature",
                "properties": {
                    "adcode": 370283 + 2 * i,
                    "name": name,
                    "center": [round(c.x, 6), round(c.y, 6)],
                    "centroid": [round(c.x, 6), round(c.y, 6)],
                    "childrenNum": 0,
                    "level": "district",
                    "parent": {"adcode": 370200},
                    "subFeatureIndex": i,
                    "acroutes": [100000, 370000, 370200],
                },
                "geometry": shapely.geometry.mapping(geom),
            }
        )
    doc = {"type": "FeatureCollection", "features": features}
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return path


def test_datav_lists_and_dicts_become_json_text(tmp_path):
    parks = read.parks_from_file(datav_layer(tmp_path / "districts.geojson"))
    assert parks["park_id"].tolist() == ["370283", "370285"]
    assert parks["center"].tolist() == ["[120.05, 36.55]", "[120.25, 36.55]"]
    assert parks["acroutes"].iloc[0] == "[100000, 370000, 370200]"
    assert parks["parent"].iloc[1] == '{"adcode": 370200}'
    assert json.loads(parks["centroid"].iloc[1]) == [120.25, 36.55]


def test_build_and_export_with_a_datav_layer(tmp_path, records):
    layer = datav_layer(tmp_path / "districts.geojson")
    out = tmp_path / "out"
    built = run("build", "--projects", str(records), "--parks", str(layer), "--out", str(out))
    assert built.exit_code == 0, built.output
    hint = (
        "park layer districts.geojson looks like Amap/DataV (GCJ-02) coordinates; if so, pass "
        "--parks-coords gcj02 (they sit ~500 m off WGS-84 otherwise)"
    )
    assert built.output.count(hint) == 1
    table = pd.read_csv(out / "parks.csv", dtype={"park_id": str})
    assert dict(zip(table["park_id"], table["name"], strict=True)) == {
        "370283": NAMES[0],
        "370285": NAMES[1],
    }

    exported = run(
        "export", "--projects", str(records), "--parks", str(layer), "--out", str(out),
        "--format", "png",
    )  # fmt: skip
    assert exported.exit_code == 0, exported.output
    assert "Traceback" not in exported.output
    for name in ("map.png", "parks.csv", "parks.xlsx", "projects.gpkg"):
        assert (out / name).is_file(), name
    gpkg = pyogrio.read_dataframe(out / "projects.gpkg", layer="parks")
    assert gpkg["center"].tolist() == ["[120.05, 36.55]", "[120.25, 36.55]"]
    assert gpkg["parent"].tolist() == ['{"adcode": 370200}'] * 2
    assert gpkg["acroutes"].tolist() == ["[100000, 370000, 370200]"] * 2


def test_gcj02_hint_only_for_lonlat_layers_read_as_wgs84(tmp_path, records):
    layer = datav_layer(tmp_path / "districts.geojson")
    parks = read.parks_from_files([layer])
    assert len(park_layer_hint(parks, "wgs84")) == 1
    assert park_layer_hint(parks, "gcj02") == []
    assert park_layer_hint(parks, "cgcs2000") == []
    # Said explicitly on the command line: no hint.
    result = run(
        "validate", "--projects", str(records), "--parks", str(layer), "--parks-coords", "gcj02"
    )
    assert result.exit_code == 0, result.output
    assert "looks like Amap/DataV" not in result.output

    # A file name alone is enough; plain fields and name are not.
    plain = gpd.GeoDataFrame({"park_id": ["w"], "name": ["W"]}, geometry=[WEST], crs=4326)
    plain.to_file(tmp_path / "parks_Gaode.geojson")
    plain.to_file(tmp_path / "parks.geojson")
    named = read.parks_from_files([tmp_path / "parks_Gaode.geojson"])
    assert park_layer_hint(named)[0].startswith("park layer parks_Gaode.geojson looks like")
    assert park_layer_hint(read.parks_from_files([tmp_path / "parks.geojson"])) == []

    # Projected (Gauss–Krüger) DataV fields: not a lon/lat layer, no hint.
    projected = read.parks_from_file(layer).drop(columns=["park_id", "name_zh", "name_en"])
    projected.to_crs("EPSG:4549").to_file(tmp_path / "gk.gpkg")
    assert park_layer_hint(read.parks_from_files([tmp_path / "gk.gpkg"])) == []

    # Two suspect layers: one line naming both.
    two = read.parks_from_files([layer, tmp_path / "parks_Gaode.geojson"])
    assert park_layer_hint(two) == [
        "park layers districts.geojson, parks_Gaode.geojson look like Amap/DataV (GCJ-02) "
        "coordinates; if so, pass --parks-coords gcj02 (they sit ~500 m off WGS-84 otherwise)"
    ]


# --- metre coordinates without a CRS ----------------------------------------------------------

#: Gauss–Krüger zone 40 (EPSG:4549) eastings and northings, as a CAD export gives them.
METRE_PARKS = [box(500000, 4000000, 510000, 4010000), box(515000, 4000000, 523456, 4010000)]


def test_metre_geojson_is_one_clear_error(tmp_path, records):
    layer = gpd.GeoDataFrame({"park_id": ["a", "b"], "name": ["A", "B"]}, geometry=METRE_PARKS)
    path = tmp_path / "parks.geojson"
    with pytest.warns(UserWarning, match="crs"):
        layer.to_file(path)
    expected = (
        "parks.geojson: coordinates look like metres (x up to 523456), but the layer has no "
        "CRS; save it with its projection (.prj) or reproject to WGS-84"
    )
    _refused_by_read_and_build(path, records, expected)


def test_metre_shapefile_without_prj_and_lonlat_crs_are_refused(tmp_path):
    layer = gpd.GeoDataFrame({"park_id": ["a", "b"], "name": ["A", "B"]}, geometry=METRE_PARKS)
    with pytest.warns(UserWarning, match="crs"):
        layer.to_file(tmp_path / "gk.shp")
    assert not (tmp_path / "gk.prj").exists()
    with pytest.raises(InputError, match=r"^gk\.shp: coordinates look like metres \(x up to "):
        read.parks_from_file(tmp_path / "gk.shp")
    # Declared CGCS2000 lon/lat (EPSG:4490) though the numbers are metres.
    layer.set_crs("EPSG:4490").to_file(tmp_path / "wrong.gpkg")
    with pytest.raises(InputError, match=r"but its CRS \(EPSG:4490\) is lon/lat"):
        read.parks_from_file(tmp_path / "wrong.gpkg")
    # The same numbers with their projection are fine: reprojected to lon/lat.
    layer.set_crs("EPSG:4549").to_file(tmp_path / "right.gpkg")
    parks = read.parks_from_file(tmp_path / "right.gpkg")
    assert parks.total_bounds[0] == pytest.approx(120.0, abs=0.01)  # easting 500 km: the CM


# --- nearest: degenerate inputs ----------------------------------------------------------------


@pytest.mark.filterwarnings("ignore:invalid value encountered in linestrings:RuntimeWarning")
def test_nearest_edges_survive_degenerate_inputs():
    square = polygon_edges(np.array([box(0, 0, 1, 1)]))
    assert square is not None and len(square) == 4
    owner, distance = nearest_edges(np.array([]), np.array([]), square)
    assert owner.shape == (0,) and distance.shape == (0,)
    owner, distance = nearest_edges(np.array([np.nan, 4.0]), np.array([0.0, 0.5]), square)
    assert owner.tolist() == [-1, 0] and np.isnan(distance[0]) and distance[1] == 3.0
    # No polygons, or only ones with non-finite vertices (metres pushed through a projection).
    assert polygon_edges(np.array([], dtype=object)) is None
    assert polygon_edges(np.array([Polygon([(0, 0), (np.inf, 0), (0, np.inf)])])) is None
    # Only segments with two finite ends are kept: of the ring (0,0)→(inf,0)→(0,1)→(0,0),
    # the closing one; all four of the square beside it.
    mixed = polygon_edges(np.array([Polygon([(0, 0), (np.inf, 0), (0, 1)]), box(2, 0, 3, 1)]))
    assert mixed is not None and mixed.owner.tolist() == [0, 1, 1, 1, 1]
    assert (mixed.ax[0], mixed.ay[0], mixed.bx[0], mixed.by[0]) == (0, 1, 0, 0)
    # Segments the search cannot measure to leave the points at -1 instead of failing.
    nan = np.array([np.nan])
    unmeasurable = Edges(ax=nan, ay=nan, bx=nan, by=nan, owner=np.array([0]))
    owner, distance = nearest_edges(np.array([0.0, 1.0]), np.array([0.0, 1.0]), unmeasurable)
    assert owner.tolist() == [-1, -1] and np.isnan(distance).all()
    # One point: distance to the square's right edge, by hand.
    owner, distance = nearest_edges(np.array([1.5]), np.array([0.5]), square)
    assert owner.tolist() == [0] and distance.tolist() == [0.5]


# --- repeated park ids --------------------------------------------------------------------------


def seven_features(names: list[str], ids: Sequence[str | None]) -> gpd.GeoDataFrame:
    geoms = [box(120 + 0.1 * i, 36.5, 120.05 + 0.1 * i, 36.55) for i in range(7)]
    geoms[1] = None  # feature 2 has no geometry: dropped, yet the numbering is the file's
    return gpd.GeoDataFrame({"park_id": ids, "name": names}, geometry=geoms, crs="EPSG:4326")


def test_same_id_with_different_names_is_an_error(tmp_path, records):
    ids = ["p0", "p2", "p1", "p4", "p5", "p6", "p1"]
    names = ["A", "B", "甲", "D", "E", "F", "乙"]
    path = tmp_path / "parks.geojson"
    seven_features(names, ids).to_file(path)
    expected = (
        "parks.geojson: park_id 'p1' appears in features 3 and 7 with different names "
        "('甲', '乙'); ids must be unique — fix the layer or pick another field with "
        "--park-id-field"
    )
    _refused_by_read_and_build(path, records, expected)
    # Another field as the id resolves it.
    parks = read.parks_from_file(path, id_field="name")
    assert parks["park_id"].tolist() == ["A", "甲", "D", "E", "F", "乙"]


def test_same_id_and_name_are_parts_of_one_park(tmp_path):
    ids = ["p0", "p2", "p1", "p4", "p5", "p6", "p1"]
    names = ["A", "B", "甲", "D", "E", "F", "甲"]
    layer = seven_features(names, ids)
    path = tmp_path / "parks.geojson"
    layer.to_file(path)
    parks = read.parks_from_file(path)
    assert parks["park_id"].tolist() == ["p0", "p1", "p4", "p5", "p6"]
    merged = parks.set_index("park_id").geometry["p1"]
    expected = shapely.union_all([layer.geometry[2], layer.geometry[6]])
    assert merged.area == pytest.approx(expected.area, rel=1e-12)
    assert merged.symmetric_difference(expected).area == pytest.approx(0, abs=1e-15)
    assert (
        "parks.geojson: 2 features share park id 'p1' and name '甲'; merged into one park"
        in (parks.attrs["notes"])
    )


def test_missing_ids_are_numbered_not_merged(tmp_path):
    path = tmp_path / "parks.geojson"
    ids = ["a", None, None, "b", None, "c", "d"]
    seven_features(["A", "B", "C", "D", "E", "F", "G"], ids).to_file(path)
    parks = read.parks_from_file(path)
    # Six features with geometry; the two without an id get their position's number.
    assert parks["park_id"].tolist() == ["a", "park-2", "b", "park-4", "c", "d"]


def _refused_by_read_and_build(path, records, expected: str) -> None:
    """The layer is refused with ``expected`` by the reader, and by `parkmap build` as one
    ``Error:`` line with exit status 2."""
    with pytest.raises(InputError) as caught:
        read.parks_from_file(path)
    assert str(caught.value) == expected
    result = run("build", "--projects", str(records), "--parks", str(path), "--out", "o")
    assert result.exit_code == 2
    assert lines_of(result.output) == [f"Error: {expected}"]


def test_analyse_reports_an_unreadable_park_layer_before_the_projects(tmp_path):
    """The parks load on a second thread while the projects do; when both fail, the park
    layer's error is the one reported, as when the parks were read first, and a good layer
    with a bad ledger gives the ledger's error."""
    from parkmap.pipeline import analyse
    from parkmap.settings import InputOptions

    bad_parks = tmp_path / "parks.geojson"
    bad_parks.write_text("{not json", encoding="utf-8")
    bad_ledger = tmp_path / "ledger.csv"
    bad_ledger.write_text("", encoding="utf-8")
    with pytest.raises(InputError, match=r"parks\.geojson: cannot read it as a vector layer"):
        analyse(InputOptions(projects=bad_ledger, parks=(bad_parks,)))
    with pytest.raises(InputError, match=r"ledger\.csv: the file is empty"):
        analyse(InputOptions(projects=bad_ledger))
    with pytest.raises(UsageError, match="--table and --query need --projects"):
        analyse(InputOptions(table="projects"))
    with pytest.raises(InputError, match=r"parks\.geojson: cannot read it as a vector layer"):
        analyse(InputOptions(table="projects", parks=(bad_parks,)))

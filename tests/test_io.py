"""Reading project records and park layers: encodings, headers, units, row outcomes."""

from __future__ import annotations

import json
import os
from io import StringIO

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from shapely.geometry import Point, Polygon, box

from parkmap import load, read, write
from parkmap.errors import InputError
from parkmap.read import tables

HEADER = "项目编号,项目名称,所属园区,所属区市,产业类别,项目状态,总投资（万元）,签约日期,经度,纬度"
#: One row per rule; the comment gives the expected outcome (row numbers as Excel shows them).
ROWS = [
    'P1,好项目,南村,平度市,智能家电,签约,"5,000",2020/6/30,120.14,36.55',  # 2 mapped
    "P2,待定项目,南村,平度市,智能家电,在建,待定,44012,120.15,36.56",  # 3 warning: 待定
    "P3,空投资,,平度市,新材料,投产,,2020-01-02,120.10,36.70",  # 4 warning: missing
    "P1,重复编号,,平度市,新材料,签约,100,2020-01-02,120.10,36.70",  # 5 rejected: duplicate
    "P4,无经度,,平度市,新材料,签约,100,2020-01-02,,36.70",  # 6 rejected: missing lon
    "P5,坏经度,,平度市,新材料,签约,100,2020-01-02,东经120,36.70",  # 7 rejected: not a number
    "P6,交换,,平度市,新材料,签约,100,2020-01-02,36.70,120.10",  # 8 rejected: swapped
    "P7,国外,,平度市,新材料,签约,100,2020-01-02,10.0,10.0",  # 9 rejected: outside
    "P8,负投资,,平度市,新材料,签约,-100,2020-01-02,120.10,36.70",  # 10 rejected: negative
    "P1,又重复,,平度市,新材料,签约,100,2020-01-02,120.10,36.70",  # 11 rejected: duplicate
]


def write_csv(path, lines, encoding):
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode(encoding))
    return path


@pytest.fixture
def gbk_csv(tmp_path):
    return write_csv(tmp_path / "项目台账.csv", [HEADER, *ROWS], "gbk")


def test_gbk_file_with_chinese_headers_and_wan(gbk_csv):
    result = load.projects_from_file(gbk_csv)
    assert result.encoding == "gb18030"
    assert result.read == 10
    assert result.projects["row"].tolist() == [2, 3, 4]
    first = result.projects.iloc[0]
    assert first["project_id"] == "P1" and first["name"] == "好项目"
    assert first["investment_100m_cny"] == pytest.approx(0.5)  # 5,000 万元
    assert first["status"] == "signed"
    assert first["signed_date"] == pd.Timestamp("2020-06-30")
    assert (first["lon"], first["lat"]) == (120.14, 36.55)
    assert first["warnings"] == ""
    assert first.geometry.equals(Point(120.14, 36.55))
    assert np.isnan(result.projects.iloc[1]["investment_100m_cny"])
    assert "待定" in result.projects.iloc[1]["warnings"]
    assert result.projects.iloc[1]["signed_date"] == pd.Timestamp("2020-06-30")  # serial 44012
    assert "investment missing" in result.projects.iloc[2]["warnings"]


def test_each_rejection_rule(gbk_csv):
    rejected = load.projects_from_file(gbk_csv).rejected.set_index("row")
    assert rejected.index.tolist() == [5, 6, 7, 8, 9, 10, 11]
    assert "duplicate project_id “P1” (first at row 2)" in rejected.loc[5, "reason"]
    assert "duplicate project_id “P1” (first at row 2)" in rejected.loc[11, "reason"]
    assert "经度 is empty" in rejected.loc[6, "reason"] and rejected.loc[6, "column"] == "经度"
    assert "经度 “东经120” is not a coordinate" in rejected.loc[7, "reason"]
    assert "lon/lat look swapped" in rejected.loc[8, "reason"]
    assert "outside China" in rejected.loc[9, "reason"]
    assert "swapped" not in rejected.loc[9, "reason"]
    assert "negative investment" in rejected.loc[10, "reason"]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030", "utf-16"])
def test_encodings_detected(tmp_path, encoding):
    path = write_csv(tmp_path / "p.csv", [HEADER, ROWS[0]], encoding)
    result = load.projects_from_file(path)
    assert result.projects["name"].tolist() == ["好项目"]
    assert result.projects["park_declared"].tolist() == ["南村"]


@pytest.mark.parametrize(
    ("header", "cell", "expected"),
    [
        ("总投资(万元)", "5000", 0.5),
        ("总投资（亿元）", "12", 12.0),
        ("投资额(元)", "250000000", 2.5),
        ("总投资", "3", 3.0),  # no unit: 亿元
        ("总投资", "5,000万元", 0.5),  # unit in the value
        ("investment_100m_cny", "7.5", 7.5),
    ],
)
def test_investment_units(tmp_path, header, cell, expected):
    path = tmp_path / "p.csv"
    path.write_text(f'name,lon,lat,{header}\nx,120.1,36.7,"{cell}"\n', encoding="utf-8")
    result = load.projects_from_file(path)
    assert result.projects["investment_100m_cny"].iloc[0] == pytest.approx(expected)


def test_investment_unit_option_applies_only_without_header_unit(tmp_path):
    path = tmp_path / "p.csv"
    path.write_text("name,lon,lat,总投资,投资额(亿元)\nx,120.1,36.7,5000,1\n", encoding="utf-8")
    result = load.projects_from_file(path, investment_unit="万元")
    # 总投资 wins over 投资额 (alias order) and has no unit, so the option's 万元 applies.
    assert result.projects["investment_100m_cny"].iloc[0] == pytest.approx(0.5)


def test_english_aliases_and_extra_columns(tmp_path):
    path = tmp_path / "p.csv"
    path.write_text(
        "Project ID,Name,Park,Status,Investment,Date,Longitude,Latitude,Contact\n"
        "E1,Alpha,Nancun,signed,2,2021-03-04,120.1,36.7,Ms Li\n",
        encoding="utf-8",
    )
    row = load.projects_from_file(path).projects.iloc[0]
    assert (row["project_id"], row["name"], row["park_declared"]) == ("E1", "Alpha", "Nancun")
    assert row["Contact"] == "Ms Li"


@pytest.mark.parametrize("lon_header", ["lng", "long", "经度", "LONGITUDE"])
def test_longitude_aliases(tmp_path, lon_header):
    path = tmp_path / "p.csv"
    path.write_text(f"name,{lon_header},lat\nx,120.1,36.7\n", encoding="utf-8")
    assert load.projects_from_file(path).projects["lon"].iloc[0] == 120.1


def test_missing_coordinate_column_is_one_line_error(tmp_path):
    path = tmp_path / "p.csv"
    path.write_text("name,lat\nx,36.7\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"p\.csv: row 1: no longitude column") as err:
        load.projects_from_file(path)
    assert "\n" not in str(err.value)


def test_missing_file_and_unsupported_type(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        load.projects_from_file(tmp_path / "none.csv")
    (tmp_path / "p.docx").write_text("x")
    with pytest.raises(InputError, match="unsupported file type"):
        load.projects_from_file(tmp_path / "p.docx")


def test_xlsx_with_dates_serials_and_numbers(tmp_path):
    path = tmp_path / "p.xlsx"
    frame = pd.DataFrame(
        {
            "项目编号": [101, 102],
            "项目名称": ["甲", "乙"],
            "总投资(万元)": [12500, "待定"],
            "签约日期": [pd.Timestamp("2020-06-30"), 44013],
            "经度": [120.14, 120.2],
            "纬度": [36.55, 36.6],
        }
    )
    frame.to_excel(path, index=False)
    result = load.projects_from_file(path)
    assert result.encoding is None
    assert result.projects["project_id"].tolist() == ["101", "102"]
    assert result.projects["investment_100m_cny"].iloc[0] == pytest.approx(1.25)
    assert result.projects["signed_date"].tolist() == [
        pd.Timestamp("2020-06-30"),
        pd.Timestamp("2020-07-01"),
    ]
    assert "待定" in result.projects["warnings"].iloc[1]


@pytest.mark.parametrize("suffix", [".geojson", ".gpkg"])
def test_point_layers(tmp_path, suffix):
    layer = gpd.GeoDataFrame(
        {"项目名称": ["甲", "乙", "丙"], "总投资": [1.0, 2.0, 3.0]},
        geometry=[Point(120.1, 36.7), Point(120.2, 36.8), box(120, 36, 120.1, 36.1)],
        crs="EPSG:4326",
    )
    path = tmp_path / f"p{suffix}"
    layer.to_file(path)
    result = load.projects_from_file(path)
    assert result.row_label == "feature"
    assert result.projects["lon"].tolist() == [120.1, 120.2]
    assert result.rejected["row"].tolist() == [3]
    assert "Polygon, not a point" in result.rejected["reason"].iloc[0]


def test_point_layer_in_projected_crs_is_reprojected(tmp_path):
    layer = gpd.GeoDataFrame(
        {"name": ["a"]}, geometry=[Point(120.1, 36.7)], crs="EPSG:4326"
    ).to_crs("EPSG:4549")
    path = tmp_path / "p.gpkg"
    layer.to_file(path)
    row = load.projects_from_file(path).projects.iloc[0]
    assert row["lon"] == pytest.approx(120.1, abs=1e-9)
    assert row["lat"] == pytest.approx(36.7, abs=1e-9)


# --- park layers -----------------------------------------------------------------------------

PARK_A = box(120.0, 36.7, 120.1, 36.8)
PARK_B = box(120.2, 36.7, 120.3, 36.8)


def park_layer(**columns):
    return gpd.GeoDataFrame(columns, geometry=[PARK_A, PARK_B], crs="EPSG:4326")


@pytest.mark.parametrize(
    ("suffix", "driver"),
    [(".geojson", "GeoJSON"), (".shp", "ESRI Shapefile"), (".gpkg", "GPKG"), (".kml", "KML")],
)
def test_park_formats(tmp_path, suffix, driver):
    if driver not in pyogrio.list_drivers(write=True):
        pytest.skip(f"GDAL here cannot write {driver}")
    path = tmp_path / f"parks{suffix}"
    park_layer(name=["甲园", "乙园"], park_id=["a", "b"]).to_file(path, driver=driver)
    parks = read.parks_from_file(path)
    assert parks["name"].tolist() == ["甲园", "乙园"]
    if driver != "KML":  # KML keeps only name and description
        assert parks["park_id"].tolist() == ["a", "b"]
    assert parks.geometry.iloc[0].normalize().equals_exact(PARK_A.normalize(), tolerance=1e-9)


def test_park_fields_detected_in_order_and_given(tmp_path):
    path = tmp_path / "p.geojson"
    park_layer(adcode=[370283, 370285], 名称=["平度", "莱西"]).to_file(path)
    parks = read.parks_from_file(path)
    assert parks["park_id"].tolist() == ["370283", "370285"]
    assert parks["name"].tolist() == ["平度", "莱西"]
    parks = read.parks_from_file(path, id_field="名称", name_field="adcode")
    assert parks["park_id"].tolist() == ["平度", "莱西"]
    with pytest.raises(InputError, match="no field 'nope' for --park-id-field"):
        read.parks_from_file(path, id_field="nope")


def test_park_without_crs_is_wgs84_and_projected_is_reprojected(tmp_path):
    raw = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"id": "x", "name": "X"},
                "geometry": shapely.geometry.mapping(PARK_A),
            }
        ],
    }
    path = tmp_path / "nocrs.geojson"
    path.write_text(json.dumps(raw), encoding="utf-8")
    parks = read.parks_from_file(path)
    assert parks.crs.to_epsg() == 4326
    projected = park_layer(id=["a", "b"], name=["A", "B"]).to_crs("EPSG:4549")
    path = tmp_path / "gk.gpkg"
    projected.to_file(path)
    parks = read.parks_from_file(path)
    assert parks.crs.to_epsg() == 4326
    assert shapely.hausdorff_distance(parks.geometry.iloc[1], PARK_B) < 1e-7
    assert any("reprojected" in n for n in parks.attrs["notes"])


def test_invalid_park_geometry_is_repaired_and_reported(tmp_path):
    bowtie = Polygon([(120, 36.7), (120.1, 36.8), (120.1, 36.7), (120, 36.8)])
    assert not bowtie.is_valid
    layer = gpd.GeoDataFrame(
        {"id": ["bow", "line"], "name": ["Bow", "Line"]},
        geometry=[bowtie, shapely.LineString([(120, 36), (121, 37)])],
        crs="EPSG:4326",
    )
    path = tmp_path / "bad.geojson"
    layer.to_file(path)
    parks = read.parks_from_file(path)
    assert parks["park_id"].tolist() == ["bow"]
    geom = parks.geometry.iloc[0]
    assert geom.is_valid
    # The bow-tie's two triangles: each half of the 0.1° square's quarter pair.
    assert geom.area == pytest.approx(0.005, rel=1e-9)
    notes = " ".join(parks.attrs["notes"])
    assert "repaired" in notes and "not an area; dropped" in notes


def test_repeated_park_ids_merge_and_ids_unique_across_files(tmp_path):
    layer = park_layer(park_id=["same", "same"], name=["S", "S"])
    path = tmp_path / "a.geojson"
    layer.to_file(path)
    parks = read.parks_from_file(path)
    assert len(parks) == 1
    assert parks.geometry.iloc[0].area == pytest.approx(PARK_A.area + PARK_B.area)
    with pytest.raises(InputError, match=r"park id 'same' is also in a\.geojson"):
        read.parks_from_files([path, path])


def test_bundled_data_is_found():
    assert read.bundled_path("parks.geojson").is_file()
    assert read.bundled_path("projects.csv").is_file()


# --- writing ---------------------------------------------------------------------------------


def test_projects_geojson_is_rfc7946(tmp_path, gbk_csv):
    result = load.projects_from_file(gbk_csv)
    path = write.save_projects_geojson(result.projects, tmp_path / "projects.geojson")
    doc = json.loads(path.read_text(encoding="utf-8"))
    assert "crs" not in doc
    props = doc["features"][0]["properties"]
    assert props["signed_date"] == "2020-06-30"
    assert doc["features"][1]["properties"]["investment_100m_cny"] is None
    assert doc["features"][0]["geometry"]["coordinates"] == [120.14, 36.55]


def test_rejected_csv_header_only_when_none(tmp_path):
    empty = pd.DataFrame(columns=["row", "reason"])
    path = write.save_rejected(empty, tmp_path / "rejected.csv")
    # UTF-8 with a byte-order mark, for Excel on Chinese Windows
    assert path.read_text(encoding="utf-8") == "\ufeffrow,column,reason,project_id,name\n"


def test_projects_geojson_in_chunks_is_one_valid_document(tmp_path, monkeypatch, gbk_csv):
    monkeypatch.setattr(write, "GEOJSON_CHUNK", 2)  # three projects: chunks of 2 and 1
    result = load.projects_from_file(gbk_csv)
    doc = json.loads(
        write.save_projects_geojson(result.projects, tmp_path / "p.geojson").read_text()
    )
    assert [f["properties"]["project_id"] for f in doc["features"]] == ["P1", "P2", "P3"]


@pytest.mark.parametrize(
    ("content", "encoding"),
    [
        ('编号,名称,经度\nA1,"南村, 一期",120.1\nA2,"多行\n名称",\n\n,,\n', "utf-8"),
        ("编号\t名称\t经度\r\nA1\t海尔\t 120.1 \r\n", "gb18030"),
        ('\ufeffid,name\nx,"say ""hi"""\n', "utf-8"),
    ],
)
def test_fast_csv_reader_reads_what_pandas_reads(tmp_path, content, encoding):
    path = tmp_path / "p.csv"
    path.write_bytes(content.encode(encoding))
    cells = tables.read_table(path)
    table = cells.table
    text = content.lstrip("\ufeff")
    sep = "\t" if "\t" in text else ","
    expected = pd.read_csv(StringIO(text), sep=sep, dtype=str, keep_default_na=False)
    expected = expected[expected.apply(lambda row: any(v.strip() for v in row), axis=1)]
    assert table.columns.tolist() == expected.columns.tolist()
    assert table.astype(object).values.tolist() == expected.astype(object).values.tolist()
    # records numbered as a spreadsheet shows them: a quoted line break stays in its row,
    # an empty line and a row of empty cells are rows too (skipped as blank)
    assert cells.header_row == 1
    assert cells.row_numbers.tolist() == list(range(2, 2 + len(table)))
    assert cells.blank_rows == ((4, 5) if "\n\n" in text else ())


def test_ragged_csv_still_reads_through_pandas(tmp_path):
    path = tmp_path / "ragged.csv"
    path.write_text("id,name,lon\nA,x,120\nB,y\n", encoding="utf-8")
    table = tables.read_table(path).table
    assert table["name"].tolist() == ["x", "y"] and table["lon"].iloc[0] == "120"
    assert pd.isna(table["lon"].iloc[1]) or table["lon"].iloc[1] == ""


def test_xlsx_sheet_by_name_and_a_missing_sheet(tmp_path):
    path = tmp_path / "book.xlsx"
    first = pd.DataFrame({"项目名称": ["甲"], "经度": [120.1], "纬度": [36.5]})
    second = pd.DataFrame({"项目名称": ["乙", "丙"], "经度": [120.2, 120.3], "纬度": [36.6, 36.7]})
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        first.to_excel(writer, sheet_name="2023", index=False)
        second.to_excel(writer, sheet_name="2024台账", index=False)
    assert load.projects_from_file(path).projects["name"].tolist() == ["甲"]
    chosen = load.projects_from_file(path, sheet="2024台账")
    assert chosen.projects["name"].tolist() == ["乙", "丙"]
    assert chosen.projects["lon"].tolist() == [120.2, 120.3]
    with pytest.raises(InputError, match="cannot read the workbook"):
        load.projects_from_file(path, sheet="2025")


def test_xlsx_blank_cells_and_a_blank_header(tmp_path):
    path = tmp_path / "gaps.xlsx"
    frame = pd.DataFrame(
        {
            "项目名称": ["甲", None, "丙"],
            "总投资(亿元)": [1.5, None, 3.0],
            "经度": [120.1, 120.2, 120.3],
            "纬度": [36.5, 36.6, 36.7],
        }
    )
    frame.to_excel(path, index=False)  # written by openpyxl: blank cells stay empty
    table = tables.read_table(path).table
    assert table["总投资(亿元)"].dtype.kind == "f" and np.isnan(table["总投资(亿元)"].iloc[1])
    assert table["项目名称"].tolist()[::2] == ["甲", "丙"] and pd.isna(table["项目名称"].iloc[1])
    loaded = load.projects_from_file(path)
    assert loaded.projects["investment_100m_cny"].iloc[[0, 2]].tolist() == [1.5, 3.0]
    # a column without a header is named by pandas and kept
    frame.rename(columns={"纬度": "Unnamed"}).assign(**{"": [1, 2, 3]}).to_excel(
        tmp_path / "blank.xlsx", index=False
    )
    table = tables.read_table(tmp_path / "blank.xlsx").table
    assert len(table.columns) == 5 and len(table) == 3
    assert "column E" in table.columns  # named by its spreadsheet letter


def test_repeated_ids_match_pandas_duplicated_for_every_kind_of_text_column():
    """The sort-based repeat check behind duplicate project ids flags exactly what pandas'
    hashed ``duplicated`` flags, with missing values, blanks, near-equal texts and a shuffled
    index, for every kind of text column the readers make."""
    import pyarrow as pa

    from parkmap.validate import repeated

    rng = np.random.default_rng(5)
    kinds = (
        "str",
        "string[pyarrow]",
        "string[python]",
        pd.ArrowDtype(pa.large_string()),
        pd.ArrowDtype(pa.string()),
        object,
    )
    for dtype in kinds:
        for _ in range(40):
            values = rng.choice(["QD-1", "QD-2", "", "中", "QD-1 ", None], size=rng.integers(0, 25))
            column = pd.Series(values.tolist(), dtype=dtype, index=rng.permutation(len(values)))
            assert repeated(column).equals(column.duplicated(keep="first"))
        # Ids in increasing order, as a ledger numbers them (one pass decides), and the same
        # with one id written twice side by side, which that pass must not wave through.
        numbered = [f"QD-{i:03d}" for i in range(30)]
        for values in (numbered, numbered[:7] + numbered[6:], ["", "QD-1", "QD-2"], ["a", "b"]):
            column = pd.Series(values, dtype=dtype)
            assert repeated(column).equals(column.duplicated(keep="first"))


def test_the_byte_scan_before_the_totals_pattern_lets_every_total_through():
    """A column is searched for 合计/小计/total rows only if its bytes hold 计, "total" or
    "sum": every word the pattern takes passes the scan; a column of ids does not."""
    import pyarrow as pa

    from parkmap.validate import _TOTAL_CELL, _may_hold_a_total

    words = ["合计", "小 计", "总计：", "共计", "累计", "平度市合计", "Total", "GRAND TOTAL"]
    words += ["sub total", "Sum:", "SUM", "Subtotal"]
    for word in words:
        assert _TOTAL_CELL.match(word), word
        assert _may_hold_a_total(pa.array(["QD-2024-001", word])), word
    assert not _may_hold_a_total(pa.array(["QD-2024-001", "海尔冰箱二期", "tot al", None]))
    assert not _may_hold_a_total(pa.array([], pa.string()))
    # as a pandas column backed by Arrow hands it over: in chunks
    chunked = pa.chunked_array([["QD-1"], ["QD-2", "小计"]])
    assert _may_hold_a_total(chunked)
    assert not _may_hold_a_total(chunked.slice(0, 2))  # no 计 in the ids, however stored


def test_columns_a_ledger_lacks_are_empty_text_and_independent(tmp_path):
    """Missing park, district, source, status and date columns come out as "" on every
    kept row (status "unknown", no date); the empty columns are separate, so changing one
    leaves the others as they were."""
    ledger = tmp_path / "ledger.csv"
    ledger.write_text(
        "项目名称,经度,纬度,总投资(亿元)\n海尔冰箱,120.1,36.5,2.5\n,120.2,36.6,1\n",
        encoding="utf-8",
    )
    from parkmap.validate import validate_records

    kept = validate_records(read.project_table(ledger)).projects
    assert len(kept) == 2
    for column in ("park_declared", "district", "source", "industry", "status_raw"):
        assert kept[column].tolist() == ["", ""], column
    assert kept["status"].tolist() == ["unknown", "unknown"]
    assert kept["signed_date"].isna().all()
    assert kept["name"].tolist()[0] == "海尔冰箱"
    kept.loc[0, "district"] = "平度市"
    assert kept["park_declared"].tolist() == ["", ""]
    assert kept["source"].tolist() == ["", ""]


def test_columns_read_on_the_side_thread_come_back_and_the_thread_ends(tmp_path, monkeypatch):
    """Status, date and the output-only texts are read on a second thread: their values are
    the ones read in line, an error there reaches the caller as it was raised, and no thread
    is left behind (a live one would keep the ``parkmap`` command from its quick exit)."""
    import threading

    from parkmap import cell_values
    from parkmap.errors import InputError
    from parkmap.validate import validate_records

    ledger = tmp_path / "ledger.csv"
    ledger.write_text(
        "项目名称,所属园区,区县,产业类别,项目状态,签约日期,来源,经度,纬度,总投资(亿元)\n"
        "海尔冰箱, 南村园区 ,平度市,智能家电,在建,2024-03-05,台账,120.1,36.5,2.5\n"
        "奇瑞整车,江山园区,莱西市,新能源汽车,观望,2024年4月,招商局,120.2,36.6,1\n",
        encoding="utf-8",
    )
    kept = validate_records(read.project_table(ledger)).projects
    assert kept["park_declared"].tolist() == ["南村园区", "江山园区"]
    assert kept["district"].tolist() == ["平度市", "莱西市"]
    assert kept["industry"].tolist() == ["智能家电", "新能源汽车"]
    assert kept["source"].tolist() == ["台账", "招商局"]
    assert kept["status"].tolist() == ["under_construction", "unknown"]
    assert kept["status_raw"].tolist() == ["在建", "观望"]
    assert kept["signed_date"].dt.strftime("%Y-%m-%d").tolist() == ["2024-03-05", "2024-04-01"]
    assert "status “观望” not recognised" in kept["warnings"].iloc[1]

    def broken(cells):
        raise InputError("dates unreadable")

    monkeypatch.setattr(cell_values, "parse_date_cells", broken)
    with pytest.raises(InputError, match="dates unreadable"):
        validate_records(read.project_table(ledger))
    for thread in threading.enumerate():
        if thread.name.startswith("parkmap-validate"):
            thread.join(timeout=10)
            assert not thread.is_alive()


def test_large_writes_reach_the_kernel_in_pieces_and_every_byte_lands(tmp_path):
    piece = write.WRITE_PIECE
    blob = bytes(range(256)) * (piece * 3 // 256) + b"tail"
    path = tmp_path / "raw.bin"
    with path.open("wb") as plain:
        raw = write._PiecewiseFile(os.dup(plain.fileno()), "wb")
        assert raw.write(blob) == piece  # one piece per call; the buffered layer loops
        assert raw.write(memoryview(blob)[:10]) == 10
        raw.close()
    fd = os.open(tmp_path / "b.bin", os.O_WRONLY | os.O_CREAT)
    with write.open_descriptor(fd, "wb") as binary:
        assert binary.write(memoryview(blob)) == len(blob)
    assert (tmp_path / "b.bin").read_bytes() == blob
    text = "园区,亿元\n" * (piece // 4)  # several MiB once encoded
    fd = os.open(tmp_path / "t.txt", os.O_WRONLY | os.O_CREAT)
    with write.open_descriptor(fd, "w") as handle:
        handle.write(text)
    assert (tmp_path / "t.txt").read_bytes() == text.encode("utf-8")
    write.atomic_write(tmp_path / "a.bin", blob)
    assert (tmp_path / "a.bin").read_bytes() == blob

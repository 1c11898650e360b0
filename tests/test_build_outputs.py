"""The project tables of ``parkmap build``: ``projects.parquet`` always, ``projects.geojson`` up
to a size (or as asked), and the map drawn from the columns the page reads."""

from __future__ import annotations

import json
import re
import sys
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import shapely
from click.testing import CliRunner

from parkmap import pipeline, write
from parkmap.cli import main
from parkmap.errors import UsageError
from parkmap.settings import BuildOptions, InputOptions
from parkmap.webmap.compose import MAP_PROJECT_COLUMNS, make_map


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[object, Path]:
    out = tmp_path_factory.mktemp("demo")
    analysis, _ = pipeline.build(BuildOptions(out=out))
    return analysis, out


def test_parquet_holds_the_geojson_columns_and_values(demo):
    analysis, out = demo
    table = gpd.read_parquet(out / "projects.parquet")
    doc = json.loads((out / "projects.geojson").read_text(encoding="utf-8"))
    features = doc["features"]
    assert len(table) == len(features) == len(analysis.projects)
    # The same columns in the same order: the GeoJSON properties, then the point.
    assert list(table.columns) == [*features[0]["properties"], "geometry"]
    assert table.crs.equals("EPSG:4326")
    # GeoParquet 1.0 metadata, as a reader other than geopandas finds it in the file.
    geo = json.loads(pq.ParquetFile(out / "projects.parquet").metadata.metadata[b"geo"])
    assert geo["version"] == "1.0.0" and geo["primary_column"] == "geometry"
    assert geo["columns"]["geometry"]["encoding"] == "WKB"
    west, south, east, north = geo["columns"]["geometry"]["bbox"]
    lon = [f["geometry"]["coordinates"][0] for f in features]
    lat = [f["geometry"]["coordinates"][1] for f in features]
    assert (west, south, east, north) == pytest.approx(
        (min(lon), min(lat), max(lon), max(lat)), abs=1e-7
    )
    # Row by row: the GeoJSON's values (dates as ISO days there, dates here).
    for i in (0, 1, len(features) // 2, len(features) - 1):
        props = features[i]["properties"]
        row = table.iloc[i]
        for name, value in props.items():
            cell = row[name]
            if isinstance(cell, pd.Timestamp):
                assert cell.strftime("%Y-%m-%d") == value
            elif value is None:
                assert pd.isna(cell)
            elif isinstance(value, float):
                assert cell == pytest.approx(value)
            else:
                assert cell == value, name
        assert row.geometry.x == pytest.approx(features[i]["geometry"]["coordinates"][0], abs=1e-7)


def test_parquet_stores_per_project_columns_without_a_dictionary(demo):
    _, out = demo
    meta = pq.ParquetFile(out / "projects.parquet").metadata
    names = meta.schema.to_arrow_schema().names
    group = meta.row_group(0)
    for name in ("project_id", "lon", "lat", "geometry"):
        chunk = group.column(names.index(name))
        assert not chunk.has_dictionary_page, name
    for name in ("status", "industry", "park_id"):
        assert group.column(names.index(name)).has_dictionary_page, name


def test_parquet_row_groups_carry_statistics_of_numbers_and_dates_only(demo):
    """Readers skip row groups by the minimum and maximum of numbers and dates; texts and
    WKB carry none (they serve no query and cost the writer time)."""
    _, out = demo
    meta = pq.ParquetFile(out / "projects.parquet").metadata
    table = pq.read_table(out / "projects.parquet")
    names = meta.schema.to_arrow_schema().names
    group = meta.row_group(0)
    assert group.num_rows == len(table)  # the demo is one row group
    for name in ("investment_100m_cny", "lon", "lat", "distance_km"):
        stats = group.column(names.index(name)).statistics
        values = table.column(name).to_numpy()
        finite = values[np.isfinite(values)]
        assert stats is not None and stats.has_min_max, name
        assert (stats.min, stats.max) == (finite.min(), finite.max()), name
    dates = group.column(names.index("signed_date")).statistics
    assert dates is not None and dates.has_min_max
    assert dates.min == pc_min_max(table.column("signed_date"))[0]
    for name in ("project_id", "name", "park_id", "geometry"):
        stats = group.column(names.index(name)).statistics
        assert stats is None or not stats.has_min_max, name


def pc_min_max(column: pa.ChunkedArray) -> tuple[object, object]:
    import pyarrow.compute as pc

    pair = pc.min_max(column)
    return pair["min"].as_py(), pair["max"].as_py()


def test_geojson_left_out_above_the_threshold_with_a_note(tmp_path, monkeypatch):
    monkeypatch.setattr(pipeline, "GEOJSON_AUTO_MAX_PROJECTS", 100)
    runner = CliRunner()
    result = runner.invoke(main, ["build", "--out", str(tmp_path / "auto")])
    assert result.exit_code == 0, result.output
    assert not (tmp_path / "auto" / "projects.geojson").exists()
    assert (tmp_path / "auto" / "projects.parquet").is_file()
    assert "projects.geojson not written: 160 projects are more than 100" in result.output
    assert "--geojson always" in result.output

    result = runner.invoke(main, ["build", "--geojson", "always", "--out", str(tmp_path / "a")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "a" / "projects.geojson").is_file()
    assert "not written" not in result.output

    result = runner.invoke(main, ["build", "--geojson", "never", "--out", str(tmp_path / "n")])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (tmp_path / "n").iterdir()) == [
        "map.html",
        "parks.csv",
        "projects.parquet",
        "rejected.csv",
    ]
    assert "not written" not in result.output


def test_problems_point_to_the_project_table_written():
    from parkmap.cli import _where_listed

    files = {"rejected": Path("o/rejected.csv"), "projects": Path("o/projects.parquet")}
    assert _where_listed(files) == "see o/rejected.csv and o/projects.parquet"
    files["geojson"] = Path("o/projects.geojson")
    assert _where_listed(files) == "see o/rejected.csv and o/projects.geojson"


def test_unknown_geojson_choice_fails_before_reading(tmp_path):
    with pytest.raises(UsageError, match="auto, always, never"):
        pipeline.build(
            BuildOptions(inputs=InputOptions(projects=tmp_path / "missing.csv"), geojson="some")
        )
    assert not any(tmp_path.iterdir())


def test_geojson_from_parquet_is_the_geojson_of_the_frame(demo, tmp_path, monkeypatch):
    _, out = demo
    monkeypatch.setattr(write, "GEOJSON_CHUNK", 37)  # many batches, a short last one
    converted = write.geojson_from_parquet(out / "projects.parquet", tmp_path / "p.geojson")
    assert converted.read_bytes() == (out / "projects.geojson").read_bytes()


def test_parts_with_different_types_make_one_table(tmp_path):
    """Partitions that disagree on a column's type (all missing in one, integers in one and
    floats in another, text in one and numbers in another) are written as one table."""
    parts = [
        gpd.GeoDataFrame(
            {"a": [None, None], "b": [1, 2], "c": ["x", "y"]},
            geometry=gpd.points_from_xy([120.0, 120.5], [36.0, 36.5]),
            crs="EPSG:4326",
        ),
        gpd.GeoDataFrame(
            {"a": ["p", None], "b": [0.5, np.nan], "c": [3, 4]},
            geometry=[shapely.Point(121.0, 37.0), None],
            crs="EPSG:4326",
        ),
    ]
    tables = [write.projects_table(p) for p in parts]
    schema = write.unify_schemas([t.schema for t in tables])
    assert pa.types.is_floating(schema.field("b").type)
    assert pa.types.is_large_string(schema.field("c").type)
    path = tmp_path / "p.parquet"
    with write.ProjectsParquet(path, schema) as parquet:
        for table in tables:
            parquet.write(table)
    back = gpd.read_parquet(path)
    assert back["a"].tolist()[2] == "p" and back["a"].isna().tolist() == [True, True, False, True]
    assert back["b"].tolist()[:3] == [1.0, 2.0, 0.5] and np.isnan(back["b"].iloc[3])
    assert back["c"].tolist() == ["x", "y", "3", "4"]
    assert back.geometry.iloc[3] is None
    assert back.geometry.iloc[2].equals(shapely.Point(121.0, 37.0))
    bbox = json.loads(pq.ParquetFile(path).metadata.metadata[b"geo"])["columns"]["geometry"]
    assert bbox["bbox"] == [120.0, 36.0, 121.0, 37.0]


def test_a_failed_parquet_write_leaves_no_file(tmp_path):
    table = write.projects_table(
        gpd.GeoDataFrame({"a": [1]}, geometry=[shapely.Point(120, 36)], crs="EPSG:4326")
    )
    with pytest.raises(RuntimeError), write.ProjectsParquet(tmp_path / "p.parquet", table.schema):
        raise RuntimeError("midway")
    assert list(tmp_path.iterdir()) == []


def _page_calls(html: str) -> str:
    """The page's script with folium's random element ids made alike."""
    return re.sub(r"_[0-9a-f]{32}", "_ID", html)


def test_map_from_the_map_columns_is_the_map_of_every_column(demo):
    """The Dask engine draws its map from :data:`MAP_PROJECT_COLUMNS` read back from
    ``projects.parquet``: the page must be the one drawn from the whole table."""
    analysis, out = demo
    full = make_map(analysis).get_root().render()
    projects = gpd.read_parquet(
        out / "projects.parquet",
        columns=[c for c in MAP_PROJECT_COLUMNS if c in analysis.projects] + ["geometry"],
    )
    slim = make_map(_with_projects(analysis, projects)).get_root().render()
    assert _page_calls(slim) == _page_calls(full)


def _with_projects(analysis, projects):
    import dataclasses

    return dataclasses.replace(analysis, projects=projects)


def test_wkb_point_coordinates_read_as_shapely_reads_them():
    points = np.array(
        [shapely.Point(120.5, 36.25), None, shapely.Point(), shapely.Point(-3.0, 4e10)],
        dtype=object,
    )
    column = pa.array(
        shapely.to_wkb(points, output_dimension=2),
        type=pa.binary(),
        mask=shapely.is_missing(points),
    )
    expected = np.array([[120.5, 36.25], [np.nan, np.nan], [np.nan, np.nan], [-3.0, 4e10]])
    np.testing.assert_array_equal(write.wkb_point_coordinates(column), expected)
    np.testing.assert_array_equal(write.wkb_point_coordinates(column.slice(1)), expected[1:])
    chunked = pa.chunked_array([column.slice(0, 2), column.slice(2)])
    np.testing.assert_array_equal(write.wkb_point_coordinates(chunked), expected)
    # big-endian WKB, or with an SRID, is read by shapely instead
    other = pa.array(shapely.to_wkb(points[[0, 3]], byte_order=0), type=pa.binary())
    np.testing.assert_array_equal(write.wkb_point_coordinates(other), expected[[0, 3]])


def test_point_wkb_is_the_wkb_shapely_writes():
    rng = np.random.default_rng(5)
    points = shapely.points(rng.uniform(73, 136, (50, 2))).astype(object)
    points[[3, 17]] = None
    points[8] = shapely.Point()
    column = write.point_wkb(points)
    column.validate(full=True)
    assert column.null_count == 2
    assert column.to_pylist() == list(shapely.to_wkb(points, output_dimension=2))
    back = write.wkb_point_coordinates(column)
    present = ~shapely.is_missing(points) & ~shapely.is_empty(points)
    np.testing.assert_array_equal(back[present, 0], shapely.get_x(points[present]))
    assert np.isnan(back[~present]).all()
    # other geometries go through shapely
    line = np.array([shapely.LineString([(0, 0), (1, 1)])], dtype=object)
    assert write.point_wkb(line).to_pylist() == list(shapely.to_wkb(line, output_dimension=2))


def test_the_background_import_keeps_urllib3s_socks_warning_out_of_the_terminal():
    # requests hides this warning with a filter it adds while importing (on the background
    # thread), which a catch_warnings block ending on the main thread can drop; the build adds
    # the same filter itself first.
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        sys.modules.pop("json.tool", None)  # any module not imported yet
        pipeline._import_in_background("json.tool")
        with warnings.catch_warnings(record=True) as seen:
            warnings.warn("SOCKS support in urllib3 requires PySocks", stacklevel=1)
            warnings.warn("another warning", stacklevel=1)
    assert [str(w.message) for w in seen] == ["another warning"]

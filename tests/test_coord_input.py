"""Declared coordinate systems on input: conversion at load, the suspicion check, real outlines."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from click.testing import CliRunner
from pyproj import Geod, Transformer
from shapely.geometry import box

from parkmap import load, read, write
from parkmap.cli import main
from parkmap.coord_check import check_coordinate_system
from parkmap.coords import bd09_to_wgs84, wgs84_to_bd09, wgs84_to_gcj02
from parkmap.join import join_projects_to_parks

GEOD = Geod(ellps="WGS84")
TO_M = Transformer.from_crs("EPSG:4326", "EPSG:4549", always_xy=True)
TO_DEG = Transformer.from_crs("EPSG:4549", "EPSG:4326", always_xy=True)
REFERENCE = Path(__file__).resolve().parents[2] / "shared" / "reference"


def square_park(cx, cy, side_m=3000):
    x, y = TO_M.transform(cx, cy)
    ring = box(x - side_m / 2, y - side_m / 2, x + side_m / 2, y + side_m / 2)
    return shapely.transform(ring, lambda xy: np.column_stack(TO_DEG.transform(*xy.T)))


#: Two 3 km parks 4 km apart near Laixi; their east edges are where GCJ-02 errors show.
PARKS = gpd.GeoDataFrame(
    {"park_id": ["west", "east"], "name": ["西园", "东园"], "name_zh": ["西园", "东园"]},
    geometry=[square_park(120.50, 36.80), square_park(120.545, 36.80)],
    crs="EPSG:4326",
)


def true_points(edge="east"):
    """20 projects per park, 150–350 m inside one edge (GCJ-02 moves them ~450 m east)."""
    rng = np.random.default_rng(7)
    rows = []
    for pid, geom in zip(PARKS["park_id"], PARKS.geometry, strict=True):
        xs, ys = TO_M.transform(*np.array(geom.exterior.coords).T)
        for _ in range(20):
            inset = rng.uniform(150, 350)
            x = xs.max() - inset if edge == "east" else xs.min() + inset
            y = rng.uniform(ys.min() + 300, ys.max() - 300)
            lon, lat = TO_DEG.transform(x, y)
            rows.append((pid, lon, lat))
    return pd.DataFrame(rows, columns=["park", "lon", "lat"])


def write_records(path, lon, lat, parks, extra=None):
    frame = pd.DataFrame(
        {
            "项目编号": [f"P{i}" for i in range(len(lon))],
            "项目名称": [f"项目{i}" for i in range(len(lon))],
            "所属园区": parks,
            "总投资": 1.0,
            "经度": np.round(lon, 7),
            "纬度": np.round(lat, 7),
            **(extra or {}),
        }
    )
    frame.to_csv(path, index=False, encoding="utf-8")
    return path


@pytest.fixture
def gcj_file(tmp_path):
    truth = true_points()
    lon, lat = wgs84_to_gcj02(truth["lon"].to_numpy(), truth["lat"].to_numpy())
    parks = truth["park"].map({"west": "西园", "east": "东园"})
    return write_records(tmp_path / "amap.csv", lon, lat, parks), truth


def test_gcj02_file_joins_as_its_true_positions(gcj_file):
    path, truth = gcj_file
    loaded = load.projects_from_file(path, coords="gcj02")
    np.testing.assert_allclose(loaded.projects["lon"], truth["lon"], atol=1e-8)
    np.testing.assert_allclose(loaded.projects["lat"], truth["lat"], atol=1e-8)
    joined = join_projects_to_parks(loaded.projects, PARKS)
    assert joined["park_id"].tolist() == truth["park"].tolist()
    assert (joined["warnings"] == "").all()
    assert (loaded.projects["coord_sys"] == "gcj02").all()
    assert any("converted from GCJ-02" in n for n in loaded.notes)
    check = check_coordinate_system(loaded.projects, PARKS)
    assert check.inside["gcj02"] == 40 and not check.suspicious


def test_gcj02_file_read_as_wgs84_is_wrong_and_warned(gcj_file):
    path, _ = gcj_file
    loaded = load.projects_from_file(path)  # declared wgs84 (the default): wrong
    joined = join_projects_to_parks(loaded.projects, PARKS, declared_within_km=0)
    assert (joined["park_id"] == "").sum() > 20  # pushed ~450 m east, past the east edges
    # The declared-park rule counts them in their parks all the same, each with a warning that
    # says how far outside it lies; the check below still sees the shift and names the flag.
    joined = join_projects_to_parks(loaded.projects, PARKS)
    moved = joined["declared_km"].notna()
    assert moved.sum() > 20 and (joined.loc[moved, "declared_km"] < 0.6).all()
    assert joined.loc[moved, "warnings"].str.contains("counted in it as the ledger declares").all()
    check = check_coordinate_system(loaded.projects, PARKS)
    assert check.suspicious and check.likely == "gcj02"
    message = check.message()
    assert "GCJ-02" in message and "--coords gcj02" in message


def test_wgs84_file_declared_as_gcj02_is_warned(tmp_path):
    truth = true_points(edge="west")  # read as GCJ-02 they move ~450 m west, out of the parks
    path = write_records(
        tmp_path / "gps.csv",
        truth["lon"],
        truth["lat"],
        truth["park"].map({"west": "西园", "east": "东园"}),
    )
    check = check_coordinate_system(load.projects_from_file(path, coords="gcj02").projects, PARKS)
    assert check.suspicious and check.likely == "wgs84"
    assert "--coords wgs84" in check.message()
    assert not check_coordinate_system(load.projects_from_file(path).projects, PARKS).suspicious


def test_cli_prints_the_suspicion_warning(gcj_file, tmp_path):
    path, _ = gcj_file
    parks = tmp_path / "parks.geojson"
    PARKS.to_file(parks)
    runner = CliRunner()
    result = runner.invoke(main, ["validate", "--projects", str(path), "--parks", str(parks)])
    assert result.exit_code == 0
    assert "warning: coordinates look like GCJ-02" in result.output
    result = runner.invoke(
        main, ["validate", "--projects", str(path), "--parks", str(parks), "--coords", "amap"]
    )
    assert "coordinates look like" not in result.output


def test_row_column_wins_and_originals_are_kept(tmp_path):
    truth = true_points().iloc[:3]
    lon, lat = truth["lon"].to_numpy(), truth["lat"].to_numpy()
    g_lon, g_lat = wgs84_to_gcj02(lon[:1], lat[:1])
    b_lon, b_lat = wgs84_to_bd09(lon[1:2], lat[1:2])
    src_lon = np.concatenate([g_lon, b_lon, lon[2:3]])
    src_lat = np.concatenate([g_lat, b_lat, lat[2:3]])
    path = write_records(
        tmp_path / "mixed.csv", src_lon, src_lat, ["", "", ""], {"坐标系": ["高德", "百度", ""]}
    )
    loaded = load.projects_from_file(path, coords="wgs84")
    assert loaded.projects["coord_sys"].tolist() == ["gcj02", "bd09", "wgs84"]
    np.testing.assert_allclose(loaded.projects["lon"], lon, atol=1e-8)
    np.testing.assert_allclose(loaded.projects["lat"], lat, atol=1e-8)
    np.testing.assert_allclose(loaded.projects["lon_orig"], np.round(src_lon, 7))
    out = write.save_projects_geojson(loaded.projects, tmp_path / "p.geojson")
    props = json.loads(out.read_text(encoding="utf-8"))["features"][1]["properties"]
    assert props["coord_sys"] == "bd09"
    assert props["lon_orig"] == pytest.approx(b_lon[0])
    # The BD-09 original converts back to the WGS-84 position within 1 cm.
    back = bd09_to_wgs84(props["lon_orig"], props["lat_orig"])
    assert GEOD.inv(float(back[0]), float(back[1]), lon[1], lat[1])[2] < 0.01


def test_unknown_row_system_is_rejected(tmp_path):
    path = write_records(tmp_path / "x.csv", [120.5], [36.8], [""], {"坐标系": ["火星2"]})
    loaded = load.projects_from_file(path)
    assert loaded.rejected["row"].tolist() == [2]
    assert "coordinate system “火星2” not recognised" in loaded.rejected["reason"].iloc[0]


def test_park_layer_in_gcj02_is_converted(tmp_path):
    truth = PARKS.geometry.iloc[0]
    shifted = shapely.transform(
        truth, lambda xy: np.column_stack(wgs84_to_gcj02(xy[:, 0], xy[:, 1]))
    )
    path = tmp_path / "gcj.geojson"
    gpd.GeoDataFrame({"id": ["w"], "name": ["W"]}, geometry=[shifted], crs="EPSG:4326").to_file(
        path
    )
    parks = read.parks_from_file(path, coords="gcj02")
    assert shapely.hausdorff_distance(parks.geometry.iloc[0], truth) < 1e-8
    assert any("converted from GCJ-02" in n for n in parks.attrs["notes"])


@pytest.mark.skipif(
    not REFERENCE.is_dir(), reason="shared/reference (real outlines) not beside the repo"
)
def test_real_county_outlines_in_gcj02_give_official_areas(tmp_path):
    """Third-party GCJ-02 outlines (used only here, never copied): areas within 0.5%."""
    runner = CliRunner()
    result = runner.invoke(
        main,
        [
            "build",
            "--parks",
            str(REFERENCE / "qingdao_districts_gcj02.geojson"),
            "--parks-coords",
            "gcj02",
            "--park-id-field",
            "adcode",
            "--out",
            str(tmp_path),
        ],
    )
    assert result.exit_code == 0, result.output
    table = pd.read_csv(tmp_path / "parks.csv").set_index("park_id")
    assert table.loc[370283, "area_km2"] == pytest.approx(3176, rel=0.005)
    assert table.loc[370285, "area_km2"] == pytest.approx(1568.2, rel=0.005)


def test_large_files_are_checked_on_an_even_sample(gcj_file, monkeypatch):
    import parkmap.coord_check as coord_check

    monkeypatch.setattr(coord_check, "SAMPLE", 12)
    path, _ = gcj_file
    check = check_coordinate_system(load.projects_from_file(path).projects, PARKS)
    assert check.n_declaring == 12
    assert check.suspicious and check.likely == "gcj02"

"""Tests for the bundled demo data in ``geodata/`` (package ``parkmap.geodata``).

Areas are measured with pyproj's geodesic calculator, containment with shapely, totals with pandas;
the expected numbers come from the facts file (published or agreed target figures).
"""

from __future__ import annotations

import itertools
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import shapely
from pyproj import Geod, Transformer
from shapely.geometry import Point, shape
from shapely.geometry.base import BaseGeometry

import parkmap.geodata
from parkmap.geodata import make_demo_projects, make_geodata

GEODATA = Path(parkmap.geodata.__file__).resolve().parent
GEOD = Geod(ellps="WGS84")
#: CGCS2000 3-degree Gauss–Krüger zone with CM 120° E (metres), independent of the generator's CRS.
TO_GK = Transformer.from_crs("EPSG:4326", "EPSG:4549", always_xy=True)

#: Published areas (Nancun's total area, Jiangshan's NEV park from its 2016 assessment notice,
#: the two zones' approved areas in the NDRC 2018 catalogue); the airport zone's is a GUESS.
PARK_TARGETS_KM2 = {
    "pingdu-nancun": 28.3,
    "laixi-jiangshan": 3.4,
    "qingwei-airport-zone": 60.0,
    "pingdu-edz": 7.65,
    "laixi-edz": 2.17,
}
PARK_PROPERTIES = {
    "park_id",
    "name_zh",
    "name_en",
    "district",
    "industry",
    "area_target_km2",
    "source",
    "accuracy",
}
NANCUN = "平度南村智能家电产业集聚区"
HEADER = (
    "project_id,name,park,district,industry,status,investment_100m_cny,signed_date,lon,lat,source"
)
NAMED_SOURCE = "public report 2020; position schematic"


def load(name: str) -> dict[str, Any]:
    return json.loads((GEODATA / name).read_text(encoding="utf-8"))


def area_km2(geom: BaseGeometry) -> float:
    return abs(GEOD.geometry_area_perimeter(geom)[0]) / 1e6


def to_gk(geom: BaseGeometry) -> BaseGeometry:
    def project(xy: np.ndarray) -> np.ndarray:
        return np.column_stack(TO_GK.transform(xy[:, 0], xy[:, 1]))

    return shapely.transform(geom, project)


@pytest.fixture(scope="module")
def parks() -> dict[str, BaseGeometry]:
    return {
        f["properties"]["park_id"]: shape(f["geometry"]) for f in load("parks.geojson")["features"]
    }


@pytest.fixture(scope="module")
def park_names() -> dict[str, str]:
    return {
        f["properties"]["name_zh"]: f["properties"]["park_id"]
        for f in load("parks.geojson")["features"]
    }


@pytest.fixture(scope="module")
def districts() -> dict[str, BaseGeometry]:
    features = load("context.geojson")["features"]
    return {
        f["properties"]["name_zh"]: shape(f["geometry"])
        for f in features
        if f["properties"]["kind"] == "district"
    }


@pytest.fixture(scope="module")
def projects() -> pd.DataFrame:
    frame = pd.read_csv(GEODATA / "projects.csv", dtype=str, keep_default_na=False)
    frame["investment"] = pd.to_numeric(frame["investment_100m_cny"].replace("", None))
    frame["lon"] = frame["lon"].astype(float)
    frame["lat"] = frame["lat"].astype(float)
    return frame


def check_polygon_ring(geometry: dict[str, Any], min_vertices: int, max_vertices: int) -> None:
    assert geometry["type"] == "Polygon"
    assert len(geometry["coordinates"]) == 1  # exterior ring only
    ring = geometry["coordinates"][0]
    assert ring[0] == ring[-1]
    assert min_vertices <= len(ring) - 1 <= max_vertices
    assert len({tuple(c) for c in ring[:-1]}) == len(ring) - 1
    for lon, lat in ring:
        assert 119.0 < lon < 121.5 and 36.0 < lat < 37.5  # lon/lat order, Qingdao
        assert round(lon, 6) == lon and round(lat, 6) == lat
    polygon = shape(geometry)
    assert polygon.is_valid
    assert polygon.exterior.is_ccw  # RFC 7946: exterior rings counter-clockwise


# --- parks.geojson -----------------------------------------------------------------------------


def test_parks_file_is_rfc7946_with_five_parks() -> None:
    data = load("parks.geojson")
    assert data["type"] == "FeatureCollection"
    assert "crs" not in data
    ids = [f["properties"]["park_id"] for f in data["features"]]
    assert sorted(ids) == sorted(PARK_TARGETS_KM2)
    for feature in data["features"]:
        props = feature["properties"]
        assert feature["type"] == "Feature"
        assert set(props) == PARK_PROPERTIES
        assert props["accuracy"] == "schematic"
        assert props["area_target_km2"] == PARK_TARGETS_KM2[props["park_id"]]
        assert all(
            isinstance(props[k], str) and props[k] for k in PARK_PROPERTIES - {"area_target_km2"}
        )
        check_polygon_ring(feature["geometry"], 6, 14)
        # the source states the area the park is drawn to
        assert f"{props['area_target_km2']:g} km²" in props["source"]


def test_park_attributes() -> None:
    props = {f["properties"]["park_id"]: f["properties"] for f in load("parks.geojson")["features"]}
    assert props["pingdu-nancun"]["district"] == "平度市"
    assert props["laixi-jiangshan"]["district"] == "莱西市"
    assert props["qingwei-airport-zone"]["district"] == "平度市/胶州市"
    assert props["pingdu-edz"]["industry"] == "食品饮料/新材料/智能制造"
    assert props["laixi-edz"]["industry"] == "高端装备/新材料"
    assert props["pingdu-edz"]["name_zh"] == "平度经济开发区"


@pytest.mark.parametrize(("park_id", "target"), sorted(PARK_TARGETS_KM2.items()))
def test_park_geodesic_area_within_one_percent(
    parks: dict[str, BaseGeometry], park_id: str, target: float
) -> None:
    assert area_km2(parks[park_id]) == pytest.approx(target, rel=0.01)


def test_published_areas_and_what_the_sources_say(parks: dict[str, BaseGeometry]) -> None:
    props = {f["properties"]["park_id"]: f["properties"] for f in load("parks.geojson")["features"]}
    assert area_km2(parks["pingdu-nancun"]) == pytest.approx(28.3, rel=0.01)
    assert area_km2(parks["pingdu-edz"]) == pytest.approx(7.65, rel=0.01)
    assert area_km2(parks["laixi-edz"]) == pytest.approx(2.17, rel=0.01)
    assert area_km2(parks["laixi-jiangshan"]) == pytest.approx(3.4, rel=0.01)
    # approved, not planned, areas for the zones; the difference is said
    for park_id in ("pingdu-edz", "laixi-edz"):
        assert "approved area" in props[park_id]["source"]
        assert "planned area" in props[park_id]["source"]
    assert "40.5 km²" in props["pingdu-edz"]["source"]
    for road in ("青龙高速", "G204", "纬二十一路", "S394"):
        assert road in props["laixi-jiangshan"]["source"]


def test_parks_do_not_overlap(parks: dict[str, BaseGeometry]) -> None:
    for (a, pa), (b, pb) in itertools.combinations(parks.items(), 2):
        assert not pa.intersects(pb), (a, b)


@pytest.mark.parametrize(
    ("park_id", "lat", "lon"),
    [
        ("pingdu-nancun", 36.565, 120.095),
        ("laixi-jiangshan", 36.66, 120.58),
        ("pingdu-edz", 36.76, 120.00),
        ("laixi-edz", 36.85, 120.50),
    ],
)
def test_parks_sit_at_their_stated_centres(
    parks: dict[str, BaseGeometry], park_id: str, lat: float, lon: float
) -> None:
    centroid = parks[park_id].centroid
    _, _, distance_m = GEOD.inv(lon, lat, centroid.x, centroid.y)
    assert distance_m < 1500


def test_airport_zone_lies_north_west_of_the_airport(parks: dict[str, BaseGeometry]) -> None:
    zone = parks["qingwei-airport-zone"]
    airport = Point(120.087, 36.362)
    assert not zone.intersects(airport)
    assert zone.centroid.x < airport.x and zone.centroid.y > airport.y
    assert zone.distance(airport) > 0.02  # a few km clear of the terminal


# --- context.geojson ---------------------------------------------------------------------------


def test_context_file_features() -> None:
    data = load("context.geojson")
    assert data["type"] == "FeatureCollection"
    assert "crs" not in data
    by_kind: dict[str, list[dict[str, Any]]] = {}
    for feature in data["features"]:
        by_kind.setdefault(feature["properties"]["kind"], []).append(feature)
    assert sorted(by_kind) == ["airport", "district", "seat"]

    districts = {f["properties"]["name_zh"]: f for f in by_kind["district"]}
    assert sorted(districts) == ["平度市", "莱西市"]
    assert districts["平度市"]["properties"]["adcode"] == "370283"
    assert districts["莱西市"]["properties"]["adcode"] == "370285"
    assert districts["平度市"]["properties"]["area_km2_official"] == 3176
    assert districts["莱西市"]["properties"]["area_km2_official"] == 1568.2
    for feature in districts.values():
        props = feature["properties"]
        assert props["accuracy"] == "schematic"
        assert props["name_en"] and props["source"]
        check_polygon_ring(feature["geometry"], 16, 90)

    (airport,) = by_kind["airport"]
    assert airport["properties"]["iata"] == "TAO"
    assert airport["properties"]["name_zh"] == "青岛胶东国际机场"
    assert airport["geometry"] == {"type": "Point", "coordinates": [120.087, 36.362]}

    seats = {f["properties"]["adcode"]: f["geometry"]["coordinates"] for f in by_kind["seat"]}
    assert seats == {"370283": [119.9538, 36.7886], "370285": [120.5214, 36.8647]}


def test_district_areas_within_three_percent(districts: dict[str, BaseGeometry]) -> None:
    assert area_km2(districts["平度市"]) == pytest.approx(3176, rel=0.03)
    assert area_km2(districts["莱西市"]) == pytest.approx(1568.2, rel=0.03)


def test_pingdu_outline_respects_published_extent(districts: dict[str, BaseGeometry]) -> None:
    # 119°31′–120°19′ E, 36°28′–37°02′ N, to within about 1 km
    minx, miny, maxx, maxy = districts["平度市"].bounds
    assert minx == pytest.approx(119 + 31 / 60, abs=0.01)
    assert maxx == pytest.approx(120 + 19 / 60, abs=0.01)
    assert miny == pytest.approx(36 + 28 / 60, abs=0.01)
    assert maxy == pytest.approx(37 + 2 / 60, abs=0.01)


def test_districts_share_a_border_without_overlap(districts: dict[str, BaseGeometry]) -> None:
    pingdu, laixi = districts["平度市"], districts["莱西市"]
    assert pingdu.intersects(laixi)  # they touch
    overlap = area_km2(pingdu.intersection(laixi)) if pingdu.overlaps(laixi) else 0.0
    assert overlap <= 0.01 * min(area_km2(pingdu), area_km2(laixi))


def test_districts_contain_their_parks(
    districts: dict[str, BaseGeometry], parks: dict[str, BaseGeometry]
) -> None:
    pingdu, laixi = districts["平度市"], districts["莱西市"]
    assert pingdu.contains(parks["pingdu-nancun"])
    assert pingdu.contains(parks["pingdu-edz"])
    assert laixi.contains(parks["laixi-jiangshan"])
    assert laixi.contains(parks["laixi-edz"])
    zone = parks["qingwei-airport-zone"]
    # across the Pingdu–Jiaozhou line: part in 平度, part south of it
    assert 0.05 * area_km2(zone) <= area_km2(zone.intersection(pingdu)) <= 0.5 * area_km2(zone)
    assert not pingdu.contains(Point(120.087, 36.362))  # the airport is in Jiaozhou


# --- projects.csv ------------------------------------------------------------------------------


def test_projects_file_encoding_and_header() -> None:
    raw = (GEODATA / "projects.csv").read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf")
    assert b"\r" not in raw
    assert raw.endswith(b"\n")
    assert raw.decode("utf-8").split("\n", 1)[0] == HEADER


def test_calibration_totals(projects: pd.DataFrame) -> None:
    by_district = projects.groupby("district")["investment"].agg(["size", "sum"])
    assert by_district.loc["平度市", "size"] == 49
    assert by_district.loc["平度市", "sum"] == pytest.approx(301.00, abs=1e-6)
    assert by_district.loc["莱西市", "size"] == 111
    assert by_district.loc["莱西市", "sum"] == pytest.approx(495.00, abs=1e-6)
    assert set(projects["district"]) == {"平度市", "莱西市"}
    nancun = projects[projects["park"] == NANCUN]
    assert len(nancun) == 19
    assert (nancun["status"] == "签约").all()


def test_named_projects(projects: pd.DataFrame) -> None:
    named = projects[projects["source"] == NAMED_SOURCE].set_index("name")
    assert len(named) == 8
    expected = {
        "亿达未来智能动力谷中小企业产业园": ("平度经济开发区", "平度市", "智能制造", "投产", ""),
        "钢研新材料生产基地": ("平度经济开发区", "平度市", "新材料", "在建", ""),
        "青啤百万千升扩能": ("平度经济开发区", "平度市", "食品饮料", "在建", ""),
        "万洋众创产城": (NANCUN, "平度市", "智能家电", "签约", ""),
        "北京汽车制造厂(青岛)有限公司整车制造总部基地产业园": (
            "莱西姜山新能源汽车产业集聚区",
            "莱西市",
            "新能源汽车",
            "签约",
            "150.00",
        ),
        "南部新城": ("", "莱西市", "城市建设", "签约", "150.00"),
        "五菱柳机": ("莱西姜山新能源汽车产业集聚区", "莱西市", "新能源汽车", "在建", ""),
        "韩国蓝星动力科技": ("莱西姜山新能源汽车产业集聚区", "莱西市", "新能源汽车", "在建", ""),
    }
    columns = ["park", "district", "industry", "status", "investment_100m_cny"]
    for name, values in expected.items():
        assert tuple(named.loc[name, columns]) == values, name
    assert (
        named.loc["北京汽车制造厂(青岛)有限公司整车制造总部基地产业园", "signed_date"]
        == "2020-07-06"
    )
    assert "2020-01-01" <= named.loc["万洋众创产城", "signed_date"] <= "2020-06-30"
    # 南部新城 lies south of Laixi city
    assert named.loc["南部新城", "lat"] < 36.8647


def test_synthetic_rows_are_marked_and_plausible(projects: pd.DataFrame) -> None:
    assert set(projects["source"]) == {"synthetic", NAMED_SOURCE}
    synthetic = projects[projects["source"] == "synthetic"]
    assert len(synthetic) == 160 - 8
    assert synthetic["name"].str.startswith("示例项目 ").all()
    assert (synthetic["investment"] >= 1.0).all()
    assert synthetic["investment_100m_cny"].str.fullmatch(r"\d+\.\d\d").all()
    assert synthetic["signed_date"].between("2020-01-01", "2020-05-31").all()
    assert pd.to_datetime(synthetic["signed_date"], format="%Y-%m-%d").notna().all()
    assert set(synthetic["status"]) <= {"签约", "在建", "投产"}
    # skewed: the mean sits above the median
    assert synthetic["investment"].mean() > synthetic["investment"].median()


def test_project_ids_unique_and_well_formed(projects: pd.DataFrame) -> None:
    assert projects["project_id"].is_unique
    for pid, district in zip(projects["project_id"], projects["district"], strict=True):
        prefix = {"平度市": "PD", "莱西市": "LX"}[district]
        assert re.fullmatch(prefix + r"-2020-\d{3}", pid)


def test_coordinates_have_six_decimals() -> None:
    frame = pd.read_csv(GEODATA / "projects.csv", dtype=str)
    assert frame["lon"].str.fullmatch(r"1[12]\d\.\d{6}").all()
    assert frame["lat"].str.fullmatch(r"3[67]\.\d{6}").all()


def test_points_inside_their_parks(
    projects: pd.DataFrame, parks: dict[str, BaseGeometry], park_names: dict[str, str]
) -> None:
    industries = {
        "pingdu-nancun": {"智能家电"},
        "laixi-jiangshan": {"新能源汽车"},
        "qingwei-airport-zone": {"临空产业"},
        "pingdu-edz": {"食品饮料", "新材料", "智能制造"},
        "laixi-edz": {"高端装备", "新材料"},
    }
    in_parks = projects[projects["park"] != ""]
    assert set(in_parks["park"]) == set(park_names)
    for row in in_parks.itertuples():
        park_id = park_names[row.park]
        point = Point(row.lon, row.lat)
        assert parks[park_id].contains(point), row.project_id
        assert row.industry in industries[park_id], row.project_id
        # at least 100 m inside the edge (measured in CGCS2000 / 3-degree GK zone 40)
        assert to_gk(parks[park_id]).exterior.distance(to_gk(point)) >= 99.0, row.project_id


def test_points_outside_parks(
    projects: pd.DataFrame, parks: dict[str, BaseGeometry], districts: dict[str, BaseGeometry]
) -> None:
    outside = projects[projects["park"] == ""]
    assert len(outside) == (49 - 19 - 14 - 9) + (111 - 45 - 38)
    parks_gk = [to_gk(p) for p in parks.values()]
    for row in outside.itertuples():
        point = Point(row.lon, row.lat)
        assert districts[row.district].contains(point), row.project_id
        assert not any(p.intersects(point) for p in parks.values()), row.project_id
        assert min(p.distance(to_gk(point)) for p in parks_gk) >= 499.0, row.project_id
    synthetic = outside[outside["source"] == "synthetic"]
    assert set(synthetic["industry"]) <= {"现代农业", "食品加工", "文旅", "物流"}


def test_park_row_counts(projects: pd.DataFrame) -> None:
    counts = projects.groupby("park").size()
    assert counts["平度经济开发区"] == 14
    assert counts["青潍临空产业协作区"] == 9
    assert counts["莱西姜山新能源汽车产业集聚区"] == 45
    assert counts["莱西经济开发区"] == 38
    assert (projects.loc[projects["park"] == "青潍临空产业协作区", "district"] == "平度市").all()


# --- reproducibility ---------------------------------------------------------------------------


def test_make_demo_projects_is_reproducible(tmp_path: Path) -> None:
    out = tmp_path / "projects.csv"
    assert make_demo_projects.main(["--seed", "2020", "--out", str(out)]) == 0
    assert out.read_bytes() == (GEODATA / "projects.csv").read_bytes()


def test_other_seed_keeps_the_calibration(tmp_path: Path) -> None:
    out = tmp_path / "other.csv"
    make_demo_projects.main(["--seed", "7", "--out", str(out)])
    assert out.read_bytes() != (GEODATA / "projects.csv").read_bytes()
    frame = pd.read_csv(out, keep_default_na=False, dtype={"investment_100m_cny": str})
    investment = pd.to_numeric(frame["investment_100m_cny"].replace("", None))
    sums = investment.groupby(frame["district"]).sum()
    assert sums["平度市"] == pytest.approx(301.0, abs=1e-6)
    assert sums["莱西市"] == pytest.approx(495.0, abs=1e-6)
    assert (frame["park"] == NANCUN).sum() == 19


def test_make_demo_projects_runs_as_module(tmp_path: Path) -> None:
    out = tmp_path / "module.csv"
    subprocess.run(
        [sys.executable, "-m", "parkmap.geodata.make_demo_projects", "--out", str(out)],
        check=True,
        capture_output=True,
    )
    assert out.read_bytes() == (GEODATA / "projects.csv").read_bytes()


def test_make_geodata_is_reproducible(tmp_path: Path) -> None:
    assert make_geodata.main(["--out-dir", str(tmp_path)]) == 0
    for name in ("parks.geojson", "context.geojson"):
        assert (tmp_path / name).read_bytes() == (GEODATA / name).read_bytes(), name

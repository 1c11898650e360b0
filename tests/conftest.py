"""Shared fixtures: small synthetic parks/projects/context near 36.7 N 120.2 E, and a browser.

The frames follow the data contracts (docs in notes/CONTRACTS) but are built here with shapely
and pyproj only, so tests of one module never depend on another module being finished.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from pyproj import Geod
from shapely.geometry import Point, box

from parkmap import settings

STATUSES = ("signed", "under_construction", "in_production", "unknown")
INDUSTRIES = (
    "智能家电",
    "新能源汽车",
    "新材料",
    "食品饮料",
    "装备制造",
    "生物医药",
    "电子信息",
    "纺织服装",
    "现代物流",
    "航空服务",
    "文化旅游",
)
#: (park_id, name_zh, name_en, lon_min, lat_min, lon_max, lat_max)
PARKS = (
    ("pingdu-edz", "平度经济开发区", "Pingdu EDZ", 120.10, 36.68, 120.16, 36.72),
    ("nancun", "南村家电集聚区", "Nancun appliance cluster", 120.20, 36.70, 120.24, 36.74),
    ("jiangshan", "姜山新能源汽车集聚区", "Jiangshan NEV cluster", 120.28, 36.66, 120.30, 36.69),
)
GK_CRS = "EPSG:4549"  # CGCS2000 3-degree Gauss–Krüger, central meridian 120° E


@dataclass
class FakeSurface:
    """Stands in for ``parkmap.density.DensitySurface`` (same attributes)."""

    values: np.ndarray
    bounds: tuple[tuple[float, float], tuple[float, float]]
    bandwidth_km: float = 2.0
    unit: str = "亿元/km²"


def make_projects() -> gpd.GeoDataFrame:
    """30 projects: 9 on a grid inside each park (clear of its south-west corner), 3 outside."""
    rows = []
    for park_id, _, _, x0, y0, x1, y1 in PARKS:
        for a in range(3):
            for b in range(3):
                lon = x0 + (x1 - x0) * (0.4 + 0.2 * a)
                lat = y0 + (y1 - y0) * (0.4 + 0.2 * b)
                rows.append((park_id, lon, lat))
    rows += [("", 120.18, 36.76), ("", 120.26, 36.62), ("", 120.05, 36.70)]
    records = []
    for i, (declared, lon, lat) in enumerate(rows):
        investment = float((i * 7) % 23 + 1) * 2.5
        if i in (4, 17):
            investment = float("nan")
        records.append(
            {
                "row": i + 2,
                "project_id": f"P{i + 1:03d}",
                "name": f"项目{i + 1:02d}",
                "park_declared": declared,
                "district": "平度市",
                "industry": INDUSTRIES[i % len(INDUSTRIES)] if i % 10 != 9 else "",
                "status": STATUSES[i % 4],
                "status_raw": STATUSES[i % 4],
                "investment_100m_cny": investment,
                "signed_date": pd.Timestamp("2020-01-15") + pd.Timedelta(days=9 * i),
                "lon": lon,
                "lat": lat,
                "source": "synthetic" if i % 3 == 0 else "report",
                "warnings": "坐标为估计" if i == 5 else "",
                "geometry": Point(lon, lat),
            }
        )
    frame = gpd.GeoDataFrame(records, geometry="geometry", crs="EPSG:4326")
    frame.loc[frame.index[3], "signed_date"] = pd.NaT
    return frame


def make_parks() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        [
            {
                "park_id": pid,
                "name": zh,
                "name_zh": zh,
                "name_en": en,
                "district": "平度市",
                "industry": "",
                "accuracy": "schematic",
                "geometry": box(x0, y0, x1, y1),
            }
            for pid, zh, en, x0, y0, x1, y1 in PARKS
        ],
        geometry="geometry",
        crs="EPSG:4326",
    )


def join_like(projects: gpd.GeoDataFrame, parks: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Add the join columns of the contract with plain shapely (planar distances in GK metres)."""
    out = projects.copy()
    parks_gk = parks.to_crs(GK_CRS)
    points_gk = out.to_crs(GK_CRS).geometry
    inside, nearest, distance = [], [], []
    for point_ll, point_gk in zip(out.geometry, points_gk, strict=True):
        hits = [r.park_id for r in parks.itertuples() if r.geometry.contains(point_ll)]
        gaps = [point_gk.distance(g) for g in parks_gk.geometry]
        inside.append(hits)
        nearest.append(parks.park_id.iloc[int(np.argmin(gaps))])
        distance.append(0.0 if hits else min(gaps) / 1000.0)
    names = dict(zip(parks.park_id, parks.name, strict=True))
    out["park_id"] = [h[0] if h else "" for h in inside]
    out["park_name"] = [names[h[0]] if h else "" for h in inside]
    out["park_ids"] = [";".join(h) for h in inside]
    out["outside_parks"] = [not h for h in inside]
    out["nearest_park_id"] = nearest
    out["distance_km"] = distance
    return out


def metrics_like(parks: gpd.GeoDataFrame, projects: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Park metrics of the contract: geodesic area (pyproj.Geod), counts, sums, density, rank."""
    geod = Geod(ellps="WGS84")
    out = parks.copy()
    out["area_km2"] = [abs(geod.geometry_area_perimeter(g)[0]) / 1e6 for g in out.geometry]
    inv = projects["investment_100m_cny"]
    out["projects"] = [int((projects.park_id == p).sum()) for p in out.park_id]
    out["investment_100m_cny"] = [float(inv[projects.park_id == p].sum()) for p in out.park_id]
    out["density_100m_cny_per_km2"] = out["investment_100m_cny"] / out["area_km2"]
    out["rank"] = out["density_100m_cny_per_km2"].rank(ascending=False, method="min").astype(int)
    for s in settings.STATUSES:  # every status of the contract, some with no projects
        mask = projects.status == s
        out[f"projects_{s}"] = [int((mask & (projects.park_id == p)).sum()) for p in out.park_id]
        out[f"investment_{s}_100m_cny"] = [
            float(inv[mask & (projects.park_id == p)].sum()) for p in out.park_id
        ]
    return out


def breakdown_like(projects: gpd.GeoDataFrame) -> pd.DataFrame:
    """Long table (park_id, category, projects, investment_100m_cny) by industry."""
    inside = projects[projects.park_id != ""]
    return (
        inside.groupby(["park_id", "industry"])
        .agg(projects=("name", "size"), investment_100m_cny=("investment_100m_cny", "sum"))
        .reset_index()
        .rename(columns={"industry": "category"})
    )


NAME_PARTS = (
    ("青岛", "平度", "莱西", "胶州", "即墨", "黄岛", "城阳", "崂山"),
    ("海尔", "澳柯玛", "恒信", "瑞丰", "华通", "金石", "东方", "明德", "新锐", "远航", "佳合"),
    ("智能", "新能源", "精密", "绿色", "数字", "高端", "生物", "海洋"),
    ("装备", "材料", "家电", "电池", "芯片", "食品", "医药", "物流", "纺织", "零部件"),
    ("产业园", "生产基地", "扩建项目", "研发中心", "产业化项目", "智造工厂", "配套项目"),
)


def make_many_projects(n: int, seed: int = 7) -> gpd.GeoDataFrame:
    """``n`` joined projects with realistic Chinese names (about 12–20 characters), industries,
    signing dates (5 % missing), investment (5 % unknown) and ids like ``LX-2020-00123``.

    About 60 % lie inside the three parks of :data:`PARKS`, the rest spread around them.
    """
    rng = np.random.default_rng(seed)
    parts = [rng.integers(0, len(p), n) for p in NAME_PARTS]
    names = [
        "".join(NAME_PARTS[k][parts[k][i]] for k in range(len(NAME_PARTS))) + f"{i % 97}号"
        for i in range(n)
    ]
    which = rng.integers(0, len(PARKS) + 2, n)  # 0–2: inside that park, 3–4: outside
    lon = rng.uniform(119.95, 120.45, n)
    lat = rng.uniform(36.55, 36.85, n)
    park_id = np.full(n, "", dtype=object)
    park_name = np.full(n, "", dtype=object)
    for k, (_, _, _, x0, y0, x1, y1) in enumerate(PARKS):
        mask = which == k
        lon[mask] = rng.uniform(x0 + 1e-4, x1 - 1e-4, mask.sum())
        lat[mask] = rng.uniform(y0 + 1e-4, y1 - 1e-4, mask.sum())
    lon, lat = np.round(lon, 6), np.round(lat, 6)
    for pid, zh, _, x0, y0, x1, y1 in PARKS:
        inside = (lon > x0) & (lon < x1) & (lat > y0) & (lat < y1) & (park_id == "")
        park_id[inside] = pid
        park_name[inside] = zh
    outside = park_id == ""
    investment = np.round(rng.lognormal(1.0, 1.2, n), 4)
    investment[rng.random(n) < 0.05] = np.nan
    days = rng.integers(0, 3650, n)
    dates = pd.Series(pd.Timestamp("2015-01-01") + pd.to_timedelta(days, unit="D"))
    dates[rng.random(n) < 0.05] = pd.NaT
    years = dates.dt.year.fillna(2020).astype(int)
    frame = pd.DataFrame(
        {
            "row": np.arange(n) + 2,
            "project_id": [f"LX-{y}-{i:05d}" for i, y in enumerate(years)],
            "name": names,
            "district": "平度市",
            "industry": np.asarray(INDUSTRIES, dtype=object)[rng.integers(0, len(INDUSTRIES), n)],
            "status": np.asarray(STATUSES, dtype=object)[rng.integers(0, len(STATUSES), n)],
            "investment_100m_cny": investment,
            "signed_date": dates,
            "lon": lon,
            "lat": lat,
            "source": "synthetic",
            "warnings": "",
            "park_id": park_id,
            "park_name": park_name,
            "outside_parks": outside,
            "nearest_park_id": PARKS[0][0],
            "distance_km": np.where(outside, 1.5, 0.0),
        }
    )
    return gpd.GeoDataFrame(frame, geometry=gpd.points_from_xy(lon, lat), crs="EPSG:4326")


@pytest.fixture
def parks_raw() -> gpd.GeoDataFrame:
    """Three rectangular parks as ``parkmap.read.parks_from_file`` would return them."""
    return make_parks()


@pytest.fixture
def projects_joined(parks_raw: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Thirty projects with the join columns (27 inside parks, 3 outside)."""
    return join_like(make_projects(), parks_raw)


@pytest.fixture
def park_metrics(parks_raw: gpd.GeoDataFrame, projects_joined: gpd.GeoDataFrame):
    """Park metrics for the synthetic parks and projects."""
    return metrics_like(parks_raw, projects_joined)


@pytest.fixture
def breakdown(projects_joined: gpd.GeoDataFrame) -> pd.DataFrame:
    """Per-park breakdown of the synthetic projects by industry."""
    return breakdown_like(projects_joined)


def make_context() -> gpd.GeoDataFrame:
    """Two districts, an airport and a county seat."""
    return gpd.GeoDataFrame(
        [
            {
                "kind": "district",
                "name_zh": "平度市",
                "name_en": "Pingdu",
                "geometry": box(119.95, 36.55, 120.19, 36.85),
            },
            {
                "kind": "district",
                "name_zh": "莱西市",
                "name_en": "Laixi",
                "geometry": box(120.19, 36.55, 120.45, 36.85),
            },
            {
                "kind": "airport",
                "name_zh": "胶东国际机场",
                "name_en": "Jiaodong Intl. Airport",
                "geometry": Point(120.087, 36.362),
            },
            {
                "kind": "seat",
                "name_zh": "平度",
                "name_en": "Pingdu",
                "geometry": Point(120.12, 36.78),
            },
        ],
        geometry="geometry",
        crs="EPSG:4326",
    )


def make_density() -> FakeSurface:
    """A 40 × 60 grid with two bumps covering the parks (max 10 at the Nancun park)."""
    south, west, north, east = 36.60, 120.00, 36.80, 120.36
    rows, cols = 40, 60
    lat = np.linspace(north, south, rows)[:, None]
    lon = np.linspace(west, east, cols)[None, :]
    bump1 = 10 * np.exp(-(((lon - 120.22) / 0.03) ** 2 + ((lat - 36.72) / 0.02) ** 2))
    bump2 = 6 * np.exp(-(((lon - 120.13) / 0.03) ** 2 + ((lat - 36.70) / 0.02) ** 2))
    return FakeSurface(values=bump1 + bump2, bounds=((south, west), (north, east)))


@pytest.fixture
def context_frame() -> gpd.GeoDataFrame:
    """Two districts, an airport and a county seat."""
    return make_context()


@pytest.fixture
def density_surface() -> FakeSurface:
    """A density grid over the parks (see :func:`make_density`)."""
    return make_density()


def _find_chromium() -> str | None:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    return "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None


CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser():
    """Headless Chromium driven by Playwright; skipped locally without one, fails in CI."""
    executable = _find_chromium()
    if executable is None:
        if os.environ.get("CI"):
            pytest.fail("CI must install chromium (Debian package 'chromium') for browser tests")
        pytest.skip("no Chromium found (install the 'chromium' package to run browser tests)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        if os.environ.get("CI"):
            pytest.fail("CI must install playwright (dev extra) for browser tests")
        pytest.skip("playwright is not installed (pip install -e '.[dev]')")
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def postgres_server():
    """A PostgreSQL server with PostGIS of the test session's own (tests/pg_server.py):
    skipped locally with a one-line reason when none is installed, fails in CI."""
    import pg_server

    reason = pg_server.missing_reason()
    if reason:
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the database tests: {reason}")
        pytest.skip(reason)
    with pg_server.pg_server() as server:
        yield server

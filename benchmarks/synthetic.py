"""Seeded synthetic project ledgers for the benchmarks.

The records look like a planner's 项目台账: Chinese headers, project names made of a sponsor and
a facility, the park written as planners write it, statuses in Chinese, signing dates 2018–2024
and investments in 万元 drawn from a lognormal distribution. About 70 % of the points fall inside
the bundled Qingdao parks, the rest in the countryside around them.

Example::

    python -m benchmarks.synthetic 10000 projects-10k.csv
"""

from __future__ import annotations

import argparse
import csv
import os
from pathlib import Path
from typing import Final

import geopandas as gpd
import numpy as np
import shapely

#: Column headers, in the order a planner's sheet has them.
HEADERS: Final = (
    "项目编号",
    "项目名称",
    "所属园区",
    "产业类别",
    "项目状态",
    "总投资(万元)",
    "签约日期",
    "经度",
    "纬度",
)

INDUSTRIES: Final = (
    "智能家电",
    "新能源汽车",
    "新材料",
    "食品饮料",
    "高端装备",
    "生物医药",
    "电子信息",
    "现代物流",
    "临空产业",
    "纺织服装",
)
#: Status spellings and how often each occurs.
STATUSES: Final = (("签约", 0.35), ("在建", 0.35), ("投产", 0.25), ("前期", 0.05))

_SPONSORS: Final = (
    "海尔",
    "海信",
    "青啤",
    "双星",
    "赛轮",
    "中车",
    "一汽",
    "比亚迪",
    "钢研",
    "万华",
    "歌尔",
    "京东方",
    "特锐德",
    "澳柯玛",
    "软控",
    "中集",
    "恒大",
    "万洋",
    "亿达",
    "国电投",
)
_TRADES: Final = {
    "智能家电": ("智能冰箱", "空调压缩机", "厨电", "洗衣机"),
    "新能源汽车": ("动力电池", "整车", "电驱系统", "充电桩"),
    "新材料": ("特种合金", "高分子材料", "碳纤维", "新型橡胶"),
    "食品饮料": ("啤酒", "冷链食品", "乳制品", "预制菜"),
    "高端装备": ("数控机床", "工业机器人", "轨道交通装备", "智能装备"),
    "生物医药": ("生物制药", "医疗器械", "海洋生物", "创新药"),
    "电子信息": ("显示模组", "集成电路封测", "传感器", "智能终端"),
    "现代物流": ("智慧物流园", "冷链仓储", "保税物流", "供应链"),
    "临空产业": ("航空配套", "航空物流", "临空商务", "飞机维修"),
    "纺织服装": ("功能面料", "服装智造", "家纺", "纤维"),
}
_FACILITIES: Final = ("项目", "生产基地", "产业园", "研发中心", "扩能项目", "二期", "总部基地")
_OUTSIDE_PARK: Final = ("", "", "", "园区外", "待定")

_DATE_START: Final = np.datetime64("2018-01-01")
_DATE_DAYS: Final = int((np.datetime64("2024-12-31") - _DATE_START).astype(int)) + 1


def _points_in(polygon: shapely.Geometry, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` uniform random points inside ``polygon`` (rejection sampling in its bounds)."""
    x0, y0, x1, y1 = polygon.bounds
    out = np.empty((0, 2))
    while len(out) < n:
        batch = rng.uniform((x0, y0), (x1, y1), size=(max(2 * (n - len(out)), 64), 2))
        inside = shapely.contains_xy(polygon, batch[:, 0], batch[:, 1])
        out = np.vstack([out, batch[inside]])
    return out[:n]


def _points_around(
    parks: shapely.Geometry, n: int, rng: np.random.Generator, margin_deg: float = 0.12
) -> np.ndarray:
    """``n`` points in the parks' bounding box widened by ``margin_deg``, outside every park."""
    x0, y0, x1, y1 = parks.bounds
    lo, hi = (x0 - margin_deg, y0 - margin_deg), (x1 + margin_deg, y1 + margin_deg)
    out = np.empty((0, 2))
    while len(out) < n:
        batch = rng.uniform(lo, hi, size=(max(2 * (n - len(out)), 64), 2))
        outside = ~shapely.contains_xy(parks, batch[:, 0], batch[:, 1])
        out = np.vstack([out, batch[outside]])
    return out[:n]


def synthetic_rows(
    n: int, *, seed: int = 20241126, inside_share: float = 0.7
) -> list[tuple[str, ...]]:
    """Build ``n`` project records as rows of strings, in the order of :data:`HEADERS`.

    Parameters
    ----------
    n
        Number of projects.
    seed
        Seed of the random generator; the same seed gives the same rows.
    inside_share
        Share of the projects placed inside a park (the rest fall around the parks).

    Returns
    -------
    list of tuple of str
        One tuple per project; empty strings stand for blank cells.
    """
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    # Here, not at the top: the explore() and folium workers import this module for its
    # headers and must not pay for importing parkmap.
    from parkmap.read import bundled_path

    rng = np.random.default_rng(seed)
    parks = gpd.read_file(bundled_path("parks.geojson"))
    areas = parks.to_crs("EPSG:4549").area.to_numpy()

    n_inside = round(n * inside_share)
    park_of = rng.choice(len(parks), size=n_inside, p=areas / areas.sum())
    xy = np.empty((n, 2))
    declared = np.empty(n, dtype=object)
    for i, geom in enumerate(parks.geometry):
        idx = np.flatnonzero(park_of == i)
        xy[idx] = _points_in(geom, len(idx), rng)
        declared[idx] = parks["name_zh"].iloc[i]
    xy[n_inside:] = _points_around(parks.union_all(), n - n_inside, rng)
    declared[n_inside:] = rng.choice(_OUTSIDE_PARK, size=n - n_inside)

    industries = rng.choice(INDUSTRIES, size=n)
    sponsors = rng.choice(_SPONSORS, size=n)
    facilities = rng.choice(_FACILITIES, size=n)
    trade_pick = rng.integers(0, 4, size=n)
    names, weights = zip(*STATUSES, strict=True)
    statuses = rng.choice(names, size=n, p=np.asarray(weights))
    days = rng.integers(0, _DATE_DAYS, size=n)
    dates = (_DATE_START + days.astype("timedelta64[D]")).astype(str)
    # Median about 8,000 万元 (0.8 亿元), a long right tail; 3 % left blank as in real ledgers.
    invest = rng.lognormal(mean=9.0, sigma=1.2, size=n)
    blank_invest = rng.random(n) < 0.03

    order = rng.permutation(n)  # mix inside and outside projects through the file
    rows = []
    for k, i in enumerate(order):
        year = dates[i][:4]
        name = f"{sponsors[i]}{_TRADES[industries[i]][trade_pick[i]]}{facilities[i]}"
        rows.append(
            (
                f"QD-{year}-{k + 1:06d}",
                name,
                declared[i],
                industries[i],
                statuses[i],
                "" if blank_invest[i] else f"{invest[i]:.1f}",
                dates[i],
                f"{xy[i, 0]:.6f}",
                f"{xy[i, 1]:.6f}",
            )
        )
    return rows


def write_projects_csv(
    path: str | os.PathLike[str], n: int, *, seed: int = 20241126, inside_share: float = 0.7
) -> Path:
    """Write ``n`` synthetic projects to ``path`` as UTF-8 CSV with Chinese headers.

    Returns
    -------
    Path
        The file written.
    """
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    rows = synthetic_rows(n, seed=seed, inside_share=inside_share)
    with out.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADERS)
        writer.writerows(rows)
    return out


def main(argv: list[str] | None = None) -> None:
    """Command line: ``python -m benchmarks.synthetic N OUT.csv [--seed S]``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", type=int, help="number of projects")
    parser.add_argument("out", help="CSV file to write")
    parser.add_argument("--seed", type=int, default=20241126)
    args = parser.parse_args(argv)
    print(write_projects_csv(args.out, args.n, seed=args.seed))


if __name__ == "__main__":
    main()

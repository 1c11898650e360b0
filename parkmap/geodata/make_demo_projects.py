"""Write the demo project register ``projects.csv``.

The file holds the projects named in the public mid-2020 reports (positions schematic) plus a
synthetic set, every synthetic row marked ``source = "synthetic"``. The synthetic set is calibrated
so the whole file matches the reported January–May 2020 aggregates: 平度市 49 projects of 1亿元 or
more totalling 301亿元, 莱西市 111 projects totalling 495亿元, and 19 newly signed projects in the
Nancun cluster. Points are drawn uniformly inside their park (at least 100 m from its edge) or, for
projects outside every park, inside their district outline and at least 500 m from every park.

Run ``python -m parkmap.geodata.make_demo_projects [--seed 2020] [--out PATH]``; the same seed gives
byte-identical output.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from pyproj import CRS, Transformer
from shapely.geometry import Point, shape
from shapely.geometry.base import BaseGeometry

from .make_geodata import (
    DECIMALS,
    HERE,
    LAIXI_SEAT,
    PARKS,
    context_features,
    offset_point,
    park_features,
    write_text_atomic,
)

#: Seed used for the committed ``projects.csv``.
DEFAULT_SEED = 2020

#: Output columns, in order.
COLUMNS = (
    "project_id",
    "name",
    "park",
    "district",
    "industry",
    "status",
    "investment_100m_cny",
    "signed_date",
    "lon",
    "lat",
    "source",
)

NAMED_SOURCE = "public report 2020; position schematic"
SYNTHETIC_SOURCE = "synthetic"

#: Status labels as the Chinese registers write them.
SIGNED, BUILDING, PRODUCING = "签约", "在建", "投产"
#: Status mix of synthetic rows outside Nancun (Nancun's rows are all newly signed).
STATUS_PROBABILITIES = ((SIGNED, 0.55), (BUILDING, 0.35), (PRODUCING, 0.10))

#: Industries of synthetic projects outside every park.
OUTSIDE_INDUSTRIES = ("现代农业", "食品加工", "文旅", "物流")
#: Endings of synthetic project names.
NAME_ENDINGS = ("配套项目", "生产基地", "扩建项目", "研发中心", "产业园")

#: Margins (m): park points from the park edge; outside points from parks and district edge.
PARK_MARGIN_M = 100.0
OUTSIDE_MARGIN_M = 500.0

#: Signed dates of synthetic rows: 2020-01-01 .. 2020-05-31 (the reporting period).
FIRST_DAY = dt.date(2020, 1, 1)
LAST_DAY = dt.date(2020, 5, 31)

#: Local transverse Mercator on the WGS-84 ellipsoid, used for metre margins only.
LOCAL_CRS = CRS.from_proj4(
    "+proj=tmerc +lat_0=36.75 +lon_0=120.15 +k=1 +x_0=0 +y_0=0 +ellps=WGS84 +units=m +no_defs"
)
_TO_LOCAL = Transformer.from_crs("EPSG:4326", LOCAL_CRS, always_xy=True)
_TO_LONLAT = Transformer.from_crs(LOCAL_CRS, "EPSG:4326", always_xy=True)

_BATCH = 32


@dataclass(frozen=True)
class District:
    """Calibration target for one district's rows (named plus synthetic)."""

    name: str
    code: str
    rows: int
    investment_100m_cny: float
    #: ``(park_id or None for outside parks, number of synthetic rows)``, in drawing order.
    groups: tuple[tuple[str | None, int], ...]


DISTRICTS: tuple[District, ...] = (
    District(
        name="平度市",
        code="PD",
        rows=49,
        investment_100m_cny=301.00,
        groups=(
            ("pingdu-nancun", 18),
            ("pingdu-edz", 11),
            ("qingwei-airport-zone", 9),
            (None, 7),
        ),
    ),
    District(
        name="莱西市",
        code="LX",
        rows=111,
        investment_100m_cny=495.00,
        groups=(
            ("laixi-jiangshan", 42),
            ("laixi-edz", 38),
            (None, 27),
        ),
    ),
)


@dataclass(frozen=True)
class NamedProject:
    """A project named in the public report; its position is a schematic offset.

    ``offset_km`` is ``(east, north)`` from the centre of the project's park, or from the point
    ``anchor`` when given (projects outside the parks).
    """

    name: str
    park_id: str | None
    district: str
    industry: str
    status: str
    offset_km: tuple[float, float]
    investment_100m_cny: float | None = None
    signed_date: str = ""
    anchor: tuple[float, float] | None = None


NAMED: tuple[NamedProject, ...] = (
    NamedProject(
        name="亿达未来智能动力谷中小企业产业园",
        park_id="pingdu-edz",
        district="平度市",
        industry="智能制造",
        status=PRODUCING,
        offset_km=(1.2, -1.0),
    ),
    NamedProject(
        name="钢研新材料生产基地",
        park_id="pingdu-edz",
        district="平度市",
        industry="新材料",
        status=BUILDING,
        offset_km=(-1.5, -1.6),
    ),
    NamedProject(
        name="青啤百万千升扩能",
        park_id="pingdu-edz",
        district="平度市",
        industry="食品饮料",
        status=BUILDING,
        offset_km=(0.6, 1.7),
    ),
    NamedProject(
        name="万洋众创产城",
        park_id="pingdu-nancun",
        district="平度市",
        industry="智能家电",
        status=SIGNED,
        offset_km=(0.4, 0.5),
        # Reported as signed in H1 2020; the day is a GUESS inside the Jan–May reporting period.
        signed_date="2020-05-20",
    ),
    NamedProject(
        name="北京汽车制造厂(青岛)有限公司整车制造总部基地产业园",
        park_id="laixi-jiangshan",
        district="莱西市",
        industry="新能源汽车",
        status=SIGNED,
        offset_km=(0.1, 0.6),
        investment_100m_cny=150.0,
        # Reported as signed "early July 2020"; the day (6 July) is a GUESS.
        signed_date="2020-07-06",
    ),
    NamedProject(
        name="南部新城",
        park_id=None,
        district="莱西市",
        industry="城市建设",
        status=SIGNED,
        # Outside the parks, about 6 km south of the Laixi city seat (position GUESS).
        offset_km=(0.4, -6.0),
        anchor=LAIXI_SEAT,
        investment_100m_cny=150.0,
    ),
    NamedProject(
        name="五菱柳机",
        park_id="laixi-jiangshan",
        district="莱西市",
        industry="新能源汽车",
        status=BUILDING,
        offset_km=(-0.6, -0.9),
    ),
    NamedProject(
        name="韩国蓝星动力科技",
        park_id="laixi-jiangshan",
        district="莱西市",
        industry="新能源汽车",
        status=BUILDING,
        offset_km=(0.7, -1.2),
    ),
)


def to_local(geom: BaseGeometry) -> BaseGeometry:
    """Return ``geom`` (lon/lat) in the local metric CRS."""

    def project(xy: np.ndarray) -> np.ndarray:
        x, y = _TO_LOCAL.transform(xy[:, 0], xy[:, 1])
        return np.column_stack([x, y])

    return shapely.transform(geom, project)


def _rounded_lonlat(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    lon, lat = _TO_LONLAT.transform(x, y)
    return np.round(np.asarray(lon), DECIMALS), np.round(np.asarray(lat), DECIMALS)


def sample_points(
    rng: np.random.Generator, region_m: BaseGeometry, n: int
) -> list[tuple[float, float]]:
    """Draw ``n`` points uniformly inside a region by rejection sampling.

    Parameters
    ----------
    rng
        Random generator (consumed in fixed-size batches, so the draw is reproducible).
    region_m
        Allowed region in the local metric CRS.
    n
        Number of points.

    Returns
    -------
    list of tuple
        ``(lon, lat)`` rounded to :data:`DECIMALS`; each rounded point lies inside the region.
    """
    if region_m.is_empty:
        raise RuntimeError("sampling region is empty")
    shapely.prepare(region_m)
    minx, miny, maxx, maxy = region_m.bounds
    points: list[tuple[float, float]] = []
    while len(points) < n:
        x = rng.uniform(minx, maxx, _BATCH)
        y = rng.uniform(miny, maxy, _BATCH)
        lon, lat = _rounded_lonlat(x, y)
        back_x, back_y = _TO_LOCAL.transform(lon, lat)
        inside = shapely.contains_xy(region_m, np.asarray(back_x), np.asarray(back_y))
        for i in np.flatnonzero(inside):
            if len(points) == n:
                break
            points.append((float(lon[i]), float(lat[i])))
    return points


def allocate_investment(
    rng: np.random.Generator, n: int, total_100m_cny: float, minimum: float = 1.0
) -> list[float]:
    """Split a total into ``n`` skewed amounts of at least ``minimum``, exact to the cent.

    Each amount is ``minimum`` plus a lognormal share of the rest, rounded to 0.01; the rounding
    residual goes to the largest amount, so the amounts add up to ``total_100m_cny`` exactly.

    Parameters
    ----------
    rng
        Random generator.
    n
        Number of amounts.
    total_100m_cny
        Required sum (亿元).
    minimum
        Smallest allowed amount (亿元).

    Returns
    -------
    list of float
        Amounts in 亿元 with two decimals.
    """
    total_cents = round(total_100m_cny * 100)
    floor_cents = round(minimum * 100)
    spare = total_cents - n * floor_cents
    if spare < 0:
        raise RuntimeError("total too small for that many projects")
    weights = rng.lognormal(mean=0.0, sigma=1.1, size=n)
    shares = np.rint(spare * weights / weights.sum()).astype(np.int64)
    shares[int(np.argmax(shares))] += spare - int(shares.sum())
    cents = floor_cents + shares
    if cents.min() < floor_cents or int(cents.sum()) != total_cents:
        raise RuntimeError("investment allocation failed")
    return [int(c) / 100 for c in cents]


def _park_industries(industry: str) -> tuple[str, ...]:
    return tuple(part for part in industry.split("/") if part)


def _check_position(point: tuple[float, float], region_m: BaseGeometry, label: str) -> None:
    x, y = _TO_LOCAL.transform(*point)
    if not region_m.contains(Point(x, y)):
        raise RuntimeError(f"schematic position of {label} is outside its allowed region")


def build_rows(seed: int = DEFAULT_SEED) -> list[dict[str, str]]:
    """Return every row of the demo register, named projects first in each district.

    Parameters
    ----------
    seed
        Seed for :func:`numpy.random.default_rng`.

    Returns
    -------
    list of dict
        One dict per row, keyed by :data:`COLUMNS` (values already formatted as text).
    """
    rng = np.random.default_rng(seed)
    parks = {f["properties"]["park_id"]: f for f in park_features()}
    districts = {
        f["properties"]["name_zh"]: shape(f["geometry"])
        for f in context_features()
        if f["properties"]["kind"] == "district"
    }
    districts_m = {name: to_local(geom) for name, geom in districts.items()}
    parks_m = {pid: to_local(shape(f["geometry"])) for pid, f in parks.items()}
    near_parks_m = shapely.union_all(list(parks_m.values())).buffer(OUTSIDE_MARGIN_M)

    def park_region(park_id: str, district: str) -> BaseGeometry:
        inner = parks_m[park_id].buffer(-PARK_MARGIN_M)
        return inner.intersection(districts_m[district].buffer(-PARK_MARGIN_M))

    def outside_region(district: str) -> BaseGeometry:
        return districts_m[district].buffer(-OUTSIDE_MARGIN_M).difference(near_parks_m)

    centres = {sketch.park_id: sketch.centre for sketch in PARKS}
    statuses = [s for s, _ in STATUS_PROBABILITIES]
    probabilities = [p for _, p in STATUS_PROBABILITIES]
    n_days = (LAST_DAY - FIRST_DAY).days + 1

    rows: list[dict[str, str]] = []
    for district in DISTRICTS:
        named = [p for p in NAMED if p.district == district.name]
        n_synthetic = sum(n for _, n in district.groups)
        if len(named) + n_synthetic != district.rows:
            raise RuntimeError(f"{district.name}: group sizes do not add up to {district.rows}")

        named_rows = []
        for project in named:
            origin = project.anchor or centres[project.park_id or ""]
            lon, lat = offset_point(origin, *project.offset_km)
            point = (round(lon, DECIMALS), round(lat, DECIMALS))
            region = (
                park_region(project.park_id, district.name)
                if project.park_id
                else outside_region(district.name)
            )
            _check_position(point, region, project.name)
            named_rows.append(
                {
                    "name": project.name,
                    "park": parks[project.park_id]["properties"]["name_zh"]
                    if project.park_id
                    else "",
                    "district": district.name,
                    "industry": project.industry,
                    "status": project.status,
                    "investment": project.investment_100m_cny,
                    "signed_date": project.signed_date,
                    "point": point,
                    "source": NAMED_SOURCE,
                }
            )

        synthetic = []
        for park_id, n in district.groups:
            if park_id is None:
                industries = OUTSIDE_INDUSTRIES
                park_name = ""
                region = outside_region(district.name)
            else:
                props = parks[park_id]["properties"]
                industries = _park_industries(props["industry"])
                park_name = props["name_zh"]
                region = park_region(park_id, district.name)
            industry = rng.choice(industries, size=n)
            if park_id == "pingdu-nancun":
                status = np.full(n, SIGNED)
            else:
                status = rng.choice(statuses, size=n, p=probabilities)
            ending = rng.choice(NAME_ENDINGS, size=n)
            day = rng.integers(0, n_days, size=n)
            points = sample_points(rng, region, n)
            for i in range(n):
                synthetic.append(
                    {
                        "ending": str(ending[i]),
                        "park": park_name,
                        "district": district.name,
                        "industry": str(industry[i]),
                        "status": str(status[i]),
                        "signed_date": (FIRST_DAY + dt.timedelta(days=int(day[i]))).isoformat(),
                        "point": points[i],
                        "source": SYNTHETIC_SOURCE,
                    }
                )

        named_total = sum(p["investment"] or 0.0 for p in named_rows)
        amounts = allocate_investment(
            rng, len(synthetic), round(district.investment_100m_cny - named_total, 2)
        )
        for row, amount in zip(synthetic, amounts, strict=True):
            row["investment"] = amount
        synthetic.sort(key=lambda r: r["signed_date"])  # stable: ties keep drawing order

        for number, row in enumerate([*named_rows, *synthetic], start=1):
            if row["source"] == SYNTHETIC_SOURCE:
                row["name"] = (
                    f"示例项目 {district.code}-{number:03d} {row['industry']}{row['ending']}"
                )
            rows.append(_format_row(f"{district.code}-2020-{number:03d}", row))
    return rows


def _format_row(project_id: str, row: dict[str, Any]) -> dict[str, str]:
    investment = row["investment"]
    lon, lat = row["point"]
    return {
        "project_id": project_id,
        "name": row["name"],
        "park": row["park"],
        "district": row["district"],
        "industry": row["industry"],
        "status": row["status"],
        "investment_100m_cny": "" if investment is None else f"{investment:.2f}",
        "signed_date": row["signed_date"],
        "lon": f"{lon:.{DECIMALS}f}",
        "lat": f"{lat:.{DECIMALS}f}",
        "source": row["source"],
    }


def dumps_csv(rows: Sequence[dict[str, str]]) -> str:
    """Return the rows as CSV text with a header and LF line endings."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def write_projects(out: Path, seed: int = DEFAULT_SEED) -> Path:
    """Write the demo register to ``out`` (UTF-8 without BOM, LF) and return the path."""
    out = Path(out)
    write_text_atomic(out, dumps_csv(build_rows(seed)))
    return out


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point; returns the exit status."""
    parser = argparse.ArgumentParser(
        prog="python -m parkmap.geodata.make_demo_projects",
        description="Write the demo projects.csv (named projects plus a calibrated synthetic set).",
    )
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="random seed (2020)")
    parser.add_argument(
        "--out",
        type=Path,
        default=HERE / "projects.csv",
        help="output CSV (default: projects.csv in the parkmap.geodata package folder)",
    )
    args = parser.parse_args(argv)
    print(write_projects(args.out, args.seed))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Write the demo project register ``projects.csv``.

The file holds the projects named in the public mid-2020 reports (positions schematic) plus a
synthetic set, every synthetic row marked ``source = "synthetic"``. The synthetic set is calibrated
so the whole file matches the reported January–May 2020 aggregates: 平度市 49 projects of 1亿元 or
more totalling 301亿元, 莱西市 111 projects totalling 495亿元, and 19 newly signed projects in the
Nancun cluster. Points are drawn uniformly inside their park (at least 100 m from its edge) or, for
projects outside every park, at least 500 m from every park; either way at least 1.5 km inside the
outline of the district they declare, so they lie in it on the surveyed outline too.

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

import numpy as np
import shapely
from pyproj import CRS, Transformer
from shapely.geometry import Point, shape
from shapely.geometry.base import BaseGeometry

from .make_geodata import (
    DECIMALS,
    HERE,
    PARKS,
    SEATS,
    Coord,
    context_features,
    offset_point,
    park_features,
    parse_pairs,
    parse_table,
    round_point,
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
STATUSES = (SIGNED, BUILDING, PRODUCING)
#: Status mix of synthetic rows outside Nancun (Nancun's rows are all newly signed).
STATUS_PROBABILITIES = ((SIGNED, 0.55), (BUILDING, 0.35), (PRODUCING, 0.10))

#: Industries of synthetic projects outside every park.
OUTSIDE_INDUSTRIES = ("现代农业", "食品加工", "文旅", "物流")
#: Endings of synthetic project names.
NAME_ENDINGS = ("配套项目", "生产基地", "扩建项目", "研发中心", "产业园")

#: Margins (m): park points from the park edge; outside points from parks and district edge.
PARK_MARGIN_M = 100.0
OUTSIDE_MARGIN_M = 500.0
#: Margin (m) from the drawn district outline for every point: the hand-drawn outline strays from
#: the surveyed line by up to about a kilometre, and a point must lie in its district on either.
DISTRICT_MARGIN_M = 1500.0

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


#: Group name of the synthetic rows outside every park.
OUTSIDE = "outside"


@dataclass(frozen=True)
class District:
    """Calibration target for one district's rows (named plus synthetic)."""

    name: str
    code: str
    rows: int
    investment_100m_cny: float
    #: ``(park_id or None for outside parks, number of synthetic rows)``, in drawing order.
    groups: tuple[tuple[str | None, int], ...]

    @classmethod
    def from_fields(cls, fields: Sequence[str]) -> District:
        """Build a target from one :data:`DISTRICT_TABLE` record (fields in attribute order)."""
        name, code, rows, investment, groups = fields
        parsed = []
        for group in groups.split(","):
            park_id, n = group.split()
            parsed.append((None if park_id == OUTSIDE else park_id, int(n)))
        return cls(name, code, int(rows), float(investment), tuple(parsed))


#: Calibration targets, one record a district, fields in :class:`District` order; ``groups`` lists
#: ``park_id n`` (or ``outside n``) in drawing order.
DISTRICT_TABLE = """
# name | code | rows | investment_100m_cny | groups
平度市 | PD | 49 | 301.00 | pingdu-nancun 18, pingdu-edz 11, qingwei-airport-zone 9, outside 7
莱西市 | LX | 111 | 495.00 | laixi-jiangshan 42, laixi-edz 38, outside 27
"""

DISTRICTS: tuple[District, ...] = tuple(
    District.from_fields(fields) for fields in parse_table(DISTRICT_TABLE, n_fields=5)
)


@dataclass(frozen=True)
class NamedProject:
    """A project named in the public report; its position is a schematic offset.

    ``offset_km`` is ``(east, north)`` from the centre of the project's park or, for a project
    outside the parks (``park_id`` None), from its district's city seat.
    """

    name: str
    park_id: str | None
    district: str
    industry: str
    status: str
    offset_km: Coord
    investment_100m_cny: float | None = None
    signed_date: str = ""

    @classmethod
    def from_fields(cls, fields: Sequence[str]) -> NamedProject:
        """Build a project from one :data:`NAMED_TABLE` record (fields in attribute order)."""
        name, park_id, district, industry, status, offset, investment, signed_date = fields
        if status not in STATUSES:
            raise ValueError(f"{name}: status {status!r} is not one of {STATUSES}")
        (offset_km,) = parse_pairs(offset)
        amount = float(investment) if investment else None
        return cls(
            name, park_id or None, district, industry, status, offset_km, amount, signed_date
        )


#: Projects named in the public reports, fields in :class:`NamedProject` order; a blank park is
#: outside the parks, a blank investment or date was not reported.
NAMED_TABLE = """
# name | park_id | district | industry | status | offset_km (east north)
#     | investment_100m_cny | signed_date
亿达未来智能动力谷中小企业产业园 | pingdu-edz | 平度市 | 智能制造 | 投产 | 0.7 -0.6
钢研新材料生产基地 | pingdu-edz | 平度市 | 新材料 | 在建 | -0.8 -0.6
青啤百万千升扩能 | pingdu-edz | 平度市 | 食品饮料 | 在建 | 0.3 0.9
# Reported as signed in H1 2020; the day is a GUESS inside the Jan–May reporting period.
万洋众创产城 | pingdu-nancun | 平度市 | 智能家电 | 签约 | 0.4 0.5 | | 2020-05-20
# Reported as signed "early July 2020"; the day (6 July) is a GUESS.
北京汽车制造厂(青岛)有限公司整车制造总部基地产业园 | laixi-jiangshan | 莱西市 | 新能源汽车
    | 签约 | 0.1 0.6 | 150.0 | 2020-07-06
# Outside the parks, about 6 km south of the Laixi city seat (position GUESS).
南部新城 | | 莱西市 | 城市建设 | 签约 | 0.4 -6.0 | 150.0
五菱柳机 | laixi-jiangshan | 莱西市 | 新能源汽车 | 在建 | -0.4 -0.5
韩国蓝星动力科技 | laixi-jiangshan | 莱西市 | 新能源汽车 | 在建 | 0.4 -0.6
"""

NAMED: tuple[NamedProject, ...] = tuple(
    NamedProject.from_fields(fields) for fields in parse_table(NAMED_TABLE, n_fields=8)
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


def sample_points(rng: np.random.Generator, region_m: BaseGeometry, n: int) -> list[Coord]:
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
    points: list[Coord] = []
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


def _check_position(point: Coord, region_m: BaseGeometry, label: str) -> None:
    x, y = _TO_LOCAL.transform(*point)
    if not region_m.contains(Point(x, y)):
        raise RuntimeError(f"schematic position of {label} is outside its allowed region")


@dataclass
class _Row:
    """One register row before numbering; a synthetic row gets its ``name`` when numbered."""

    park: str
    district: str
    industry: str
    status: str
    signed_date: str
    point: Coord
    source: str = SYNTHETIC_SOURCE
    name: str = ""
    ending: str = ""
    investment: float | None = None


class _Layers:
    """Parks and districts, in lon/lat and in the local metric CRS, and the allowed regions."""

    def __init__(self) -> None:
        parks = park_features()
        self.parks = {f["properties"]["park_id"]: f["properties"] for f in parks}
        self.parks_m = {f["properties"]["park_id"]: to_local(shape(f["geometry"])) for f in parks}
        self.districts_m = {
            f["properties"]["name_zh"]: to_local(shape(f["geometry"]))
            for f in context_features()
            if f["properties"]["kind"] == "district"
        }
        parks_union = shapely.union_all(list(self.parks_m.values()))
        self.near_parks_m = parks_union.buffer(OUTSIDE_MARGIN_M)

    def park_name(self, park_id: str | None) -> str:
        """Return the park's ``name_zh``, or ``""`` outside the parks."""
        return self.parks[park_id]["name_zh"] if park_id else ""

    def region(self, park_id: str | None, district: str) -> BaseGeometry:
        """Return where a point of this park (or outside the parks) may lie, in metres."""
        if park_id is None:
            inner = self.districts_m[district].buffer(-DISTRICT_MARGIN_M)
            return inner.difference(self.near_parks_m)
        inner = self.parks_m[park_id].buffer(-PARK_MARGIN_M)
        return inner.intersection(self.districts_m[district].buffer(-DISTRICT_MARGIN_M))


def _named_rows(layers: _Layers, district: str) -> list[_Row]:
    """Return the rows of the district's named projects, each checked against its region."""
    centres = {sketch.park_id: sketch.centre for sketch in PARKS}
    rows = []
    for project in NAMED:
        if project.district != district:
            continue
        origin = centres[project.park_id] if project.park_id else SEATS[district]
        point = round_point(offset_point(origin, *project.offset_km))
        _check_position(point, layers.region(project.park_id, district), project.name)
        park = layers.park_name(project.park_id)
        row = _Row(
            park,
            district,
            project.industry,
            project.status,
            project.signed_date,
            point,
            source=NAMED_SOURCE,
            name=project.name,
            investment=project.investment_100m_cny,
        )
        rows.append(row)
    return rows


def _synthetic_rows(
    rng: np.random.Generator, layers: _Layers, district: str, park_id: str | None, n: int
) -> list[_Row]:
    """Draw ``n`` synthetic rows of one park (or outside the parks), without investment."""
    industries: tuple[str, ...]
    if park_id is None:
        industries = OUTSIDE_INDUSTRIES
    else:
        industries = _park_industries(layers.parks[park_id]["industry"])
    industry = rng.choice(industries, size=n)
    if park_id == "pingdu-nancun":
        status = np.full(n, SIGNED)
    else:
        statuses = [s for s, _ in STATUS_PROBABILITIES]
        status = rng.choice(statuses, size=n, p=[p for _, p in STATUS_PROBABILITIES])
    ending = rng.choice(NAME_ENDINGS, size=n)
    day = rng.integers(0, (LAST_DAY - FIRST_DAY).days + 1, size=n)
    points = sample_points(rng, layers.region(park_id, district), n)
    park = layers.park_name(park_id)
    drawn = zip(industry, status, day, points, ending, strict=True)
    return [
        _Row(park, district, str(kind), str(stage), _signed_date(days), point, ending=str(end))
        for kind, stage, days, point, end in drawn
    ]


def _signed_date(days_after_first: int) -> str:
    return (FIRST_DAY + dt.timedelta(days=int(days_after_first))).isoformat()


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
    layers = _Layers()
    rows: list[dict[str, str]] = []
    for district in DISTRICTS:
        named = _named_rows(layers, district.name)
        if len(named) + sum(n for _, n in district.groups) != district.rows:
            raise RuntimeError(f"{district.name}: group sizes do not add up to {district.rows}")
        synthetic = [
            row
            for park_id, n in district.groups
            for row in _synthetic_rows(rng, layers, district.name, park_id, n)
        ]
        named_total = sum(row.investment or 0.0 for row in named)
        amounts = allocate_investment(
            rng, len(synthetic), round(district.investment_100m_cny - named_total, 2)
        )
        for row, amount in zip(synthetic, amounts, strict=True):
            row.investment = amount
        synthetic.sort(key=lambda r: r.signed_date)  # stable: ties keep drawing order

        for number, row in enumerate([*named, *synthetic], start=1):
            if row.source == SYNTHETIC_SOURCE:
                row.name = f"示例项目 {district.code}-{number:03d} {row.industry}{row.ending}"
            rows.append(_format_row(f"{district.code}-2020-{number:03d}", row))
    return rows


def _format_row(project_id: str, row: _Row) -> dict[str, str]:
    lon, lat = row.point
    return {
        "project_id": project_id,
        "name": row.name,
        "park": row.park,
        "district": row.district,
        "industry": row.industry,
        "status": row.status,
        "investment_100m_cny": "" if row.investment is None else f"{row.investment:.2f}",
        "signed_date": row.signed_date,
        "lon": f"{lon:.{DECIMALS}f}",
        "lat": f"{lat:.{DECIMALS}f}",
        "source": row.source,
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

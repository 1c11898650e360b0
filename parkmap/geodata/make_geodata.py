"""Write the schematic demo geometry, ``parks.geojson`` and ``context.geojson``.

No public boundary file exists for the parks, so the project draws its own **schematic** outlines
from the public facts (centre, published or estimated area). Each park is a hand-chosen ring of
vertex offsets in km around its centre, scaled until its geodesic area on the WGS-84 ellipsoid
matches the target area (a published area where one exists, said in the park's ``source``). The two
county-level cities are hand-drawn simplified outlines, a vertex every few kilometres, that respect
their published extents and areas and share one border polyline, so they never overlap; they were
adjusted by hand until they overlapped the real outlines well (checked, never copied: see
``tests/test_geodata_reference.py``).

The facts are written once, as text tables (:data:`PARK_TABLE`, :data:`CITY_TABLE`) read by
:func:`parse_table`, and coordinate lists as ``"x y, x y, …"`` text read by :func:`parse_pairs`.

Run ``python -m parkmap.geodata.make_geodata [--out-dir DIR]``; the output is deterministic.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pyproj import Geod
from shapely.geometry import Polygon

#: Folder of this module; the committed geojson files live here.
HERE = Path(__file__).resolve().parent

#: Ellipsoid used for offsets and areas.
GEOD = Geod(ellps="WGS84")

#: Decimal places kept in coordinates (about 0.1 m).
DECIMALS = 6

#: Park outlines: ``parks.geojson``.
PARKS_FILE = "parks.geojson"

#: District outlines, airport and city seats: ``context.geojson``.
CONTEXT_FILE = "context.geojson"

Coord = tuple[float, float]


def parse_table(text: str, n_fields: int) -> list[list[str]]:
    """Split a text table into records of ``n_fields`` stripped fields.

    A record starts at the beginning of a line and holds ``|``-separated fields; an indented line
    continues the record above (joined with one space). Blank lines and lines starting with ``#``
    are skipped. Missing trailing fields are empty strings.

    Parameters
    ----------
    text
        The table.
    n_fields
        Number of fields in every record.

    Returns
    -------
    list of list of str
        One list of fields per record, in table order.

    Raises
    ------
    ValueError
        If a record has more than ``n_fields`` fields, or the table starts with an indented line.
    """
    records: list[str] = []
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if not line[0].isspace():
            records.append(line.strip())
        elif records:
            records[-1] += " " + line.strip()
        else:
            raise ValueError(f"table starts with a continuation line: {line.strip()!r}")
    table = []
    for record in records:
        fields = [field.strip() for field in record.split("|")]
        if len(fields) > n_fields:
            raise ValueError(f"{len(fields)} fields, expected {n_fields}: {record!r}")
        table.append(fields + [""] * (n_fields - len(fields)))
    return table


def parse_pairs(text: str) -> tuple[Coord, ...]:
    """Parse ``"x y, x y, …"`` (WKT coordinate order) into ``(x, y)`` float pairs.

    Parameters
    ----------
    text
        Comma-separated pairs of whitespace-separated numbers.

    Returns
    -------
    tuple of tuple
        The pairs, in order.

    Raises
    ------
    ValueError
        If a pair does not hold exactly two numbers.
    """
    pairs = []
    for pair in text.split(","):
        x, y = pair.split()
        pairs.append((float(x), float(y)))
    return tuple(pairs)


@dataclass(frozen=True)
class ParkSketch:
    """A schematic park: identity, placement and a hand-drawn shape.

    Attributes
    ----------
    park_id, name_zh, name_en, district, industry
        Properties written to the feature.
    centre
        ``(lon, lat)`` the offsets are measured from.
    area_target_km2
        Geodesic area the ring is scaled to.
    source
        One line saying where placement and size come from.
    offsets_km
        ``(east, north)`` vertex offsets in km, counter-clockwise; only the shape matters, the
        scale is fitted to ``area_target_km2``.
    """

    park_id: str
    name_zh: str
    name_en: str
    district: str
    industry: str
    centre: Coord
    area_target_km2: float
    source: str
    offsets_km: tuple[Coord, ...]

    @classmethod
    def from_fields(cls, fields: Sequence[str]) -> ParkSketch:
        """Build a sketch from one :data:`PARK_TABLE` record (fields in attribute order)."""
        park_id, name_zh, name_en, district, industry, centre, area, source, offsets = fields
        (centre_pair,) = parse_pairs(centre)
        names = (park_id, name_zh, name_en)
        return cls(
            *names, district, industry, centre_pair, float(area), source, parse_pairs(offsets)
        )


#: The parks, one record each, fields in :class:`ParkSketch` order.
PARK_TABLE = """
# park_id | name_zh | name_en
#     | district | industry | centre (lon lat) | area_target_km2
#     | source
#     | offsets_km (east north, counter-clockwise)
pingdu-nancun | 平度南村智能家电产业集聚区 | Pingdu Nancun Smart Home-Appliance Cluster
    | 平度市 | 智能家电 | 120.095 36.565 | 28.3
    | schematic; 28.3 km² from the published total area of the 山东省智能家电产业集聚区;
      centre GUESS in Nancun town, kept west of the line with 即墨区 so the whole cluster lies in
      平度市
    | 2.6 -0.4, 2.3 1.5, 0.9 2.2, -0.3 2.7, -1.8 1.9, -2.7 0.6, -2.2 -1.1, -1.1 -2.3, 0.6 -2.5,
      1.9 -1.7
laixi-jiangshan | 莱西姜山新能源汽车产业集聚区 | Laixi Jiangshan New-Energy-Vehicle Cluster
    | 莱西市 | 新能源汽车 | 120.58 36.66 | 3.4
    | schematic; 3.4 km² from the 2016 environmental-assessment notice, which bounds it by the
      青龙高速 (west), G204 (east), 纬二十一路 (south) and S394 (north); the straight sides stand
      for those roads, their positions GUESS (centre GUESS in Jiangshan town); the wider
      姜山先进制造业功能区 is planned at 62 km²
    | -0.8 -1.0, 0.8 -1.0, 0.85 0.0, 0.8 1.0, -0.55 1.1, -0.7 0.0
qingwei-airport-zone | 青潍临空产业协作区
    | Qingdao–Weifang Airport-Linked Industry Collaboration Zone
    | 平度市/胶州市 | 临空产业 | 120.00 36.475 | 60.0
    | schematic; GUESS placement NW of Jiaodong airport across the Pingdu–Jiaozhou line,
      60 km² GUESS (the 青岛胶东临空经济示范区 around the airport is planned at 149 km²)
    | 7.0 -0.6, 6.2 1.4, 4.0 2.5, 1.2 2.9, -1.8 3.1, -4.6 2.4, -6.8 1.0, -7.1 -1.0, -5.0 -2.2,
      -2.0 -2.6, 1.0 -3.0, 4.5 -2.4
pingdu-edz | 平度经济开发区 | Pingdu Economic Development Zone
    | 平度市 | 食品饮料/新材料/智能制造 | 120.00 36.76 | 7.65
    | schematic; centre GUESS; 7.65 km² is the approved area in the NDRC 2018 catalogue of
      development zones; the zone's planned area (40.5 km² since 2010) is larger
    | 1.6 -0.3, 1.5 0.9, 0.6 1.5, -0.5 1.4, -1.4 0.8, -1.6 -0.3, -1.0 -1.3, 0.2 -1.5, 1.2 -1.1
laixi-edz | 莱西经济开发区 | Laixi Economic Development Zone
    | 莱西市 | 高端装备/新材料 | 120.50 36.85 | 2.17
    | schematic; centre GUESS; 2.17 km² is the approved area in the NDRC 2018 catalogue of
      development zones; the zone's planned area is larger
    | 0.9 -0.2, 0.7 0.6, 0.0 0.9, -0.7 0.6, -0.9 -0.2, -0.5 -0.8, 0.3 -0.9
"""

PARKS: tuple[ParkSketch, ...] = tuple(
    ParkSketch.from_fields(fields) for fields in parse_table(PARK_TABLE, n_fields=9)
)

#: Shared Pingdu–Laixi border, south (the tripoint with 即墨区) to north (the tripoint with
#: Yantai); (lon, lat).
PINGDU_LAIXI_BORDER = parse_pairs(
    "120.25 36.63, 120.285 36.645, 120.285 36.675, 120.275 36.69, 120.272 36.73, 120.268 36.77, "
    "120.262 36.8, 120.275 36.85, 120.282 36.885, 120.27 36.91, 120.29 36.925, 120.315 36.962, "
    "120.29 36.99, 120.312 37.003, 120.285 37.01, 120.275 37.025, 120.29 37.03, 120.27 37.04, "
    "120.25 37.035, 120.235 37.041, 120.2 37.042"
)

#: Pingdu outline except the shared border: from the west end of its south-west side eastwards
#: along the lines with 高密, 胶州 and 即墨 to the border's south end; then (after the border) from
#: its north end westwards and down the west side. Extent 119°31′–120°19′ E, 36°28′–37°02′ N.
PINGDU_SOUTH_EAST = parse_pairs(
    "119.555 36.72, 119.58 36.705, 119.6 36.68, 119.615 36.648, 119.645 36.625, 119.68 36.607, "
    "119.705 36.595, 119.728 36.575, 119.73 36.563, 119.76 36.562, 119.8 36.548, 119.86 36.535, "
    "119.912 36.525, 119.96 36.524, 119.99 36.505, 120 36.497, 120.03 36.48, 120.05 36.477, "
    "120.06 36.488, 120.13 36.483, 120.15 36.48, 120.175 36.472, 120.168 36.49, 120.155 36.505, "
    "120.163 36.52, 120.147 36.54, 120.158 36.56, 120.165 36.58, 120.19 36.588, 120.205 36.61, "
    "120.215 36.625, 120.235 36.632"
)
PINGDU_NORTH_WEST = parse_pairs(
    "120.17 37.025, 120.13 37.018, 120.07 37.018, 120.05 37.005, 120.02 37, 119.975 37.012, "
    "119.94 36.995, 119.89 36.998, 119.83 37, 119.8 37.012, 119.77 37.005, 119.73 36.99, "
    "119.71 37.005, 119.68 37, 119.65 37.01, 119.61 37.015, 119.595 36.99, 119.58 36.952, "
    "119.595 36.92, 119.596 36.86, 119.57 36.825, 119.56 36.805, 119.54 36.805, 119.528 36.78, "
    "119.525 36.76, 119.535 36.735"
)

#: Laixi outline except the shared border: from the border's south end eastwards along the line
#: with 即墨区, up the east side (莱阳), west along the north side and round the north-western lobe
#: to the border's north end. Extent about 120°12′–120°39′ E, 36°34′–37°09′ N.
LAIXI_REST = parse_pairs(
    "120.27 36.62, 120.33 36.622, 120.37 36.62, 120.42 36.615, 120.47 36.61, 120.5 36.627, "
    "120.535 36.615, 120.54 36.575, 120.56 36.575, 120.58 36.598, 120.625 36.585, "
    "120.632 36.625, 120.648 36.635, 120.62 36.662, 120.6 36.69, 120.58 36.7, 120.578 36.728, "
    "120.545 36.74, 120.55 36.79, 120.588 36.805, 120.585 36.83, 120.57 36.845, 120.565 36.88, "
    "120.6 36.89, 120.595 36.91, 120.565 36.935, 120.56 36.965, 120.58 36.995, 120.6 37.02, "
    "120.585 37.05, 120.54 37.045, 120.54 37.11, 120.525 37.145, 120.5 37.14, 120.47 37.12, "
    "120.42 37.12, 120.4 37.105, 120.35 37.1, 120.335 37.08, 120.32 37.11, 120.29 37.13, "
    "120.255 37.12, 120.23 37.125, 120.215 37.09, 120.205 37.055"
)


@dataclass(frozen=True)
class CitySketch:
    """A county-level city: the published facts its district outline and seat are drawn from.

    Attributes
    ----------
    name_zh, name_en, adcode, area_km2_official
        Properties written to the district feature; the names also name the seat.
    extent
        The published extent (degrees and minutes), quoted with the area in the district's
        ``source``.
    seat
        ``(lon, lat)`` of the city seat (the government's address), from the facts file.
    """

    name_zh: str
    name_en: str
    adcode: str
    area_km2_official: float
    extent: str
    seat: Coord

    @classmethod
    def from_fields(cls, fields: Sequence[str]) -> CitySketch:
        """Build a city from one :data:`CITY_TABLE` record (fields in attribute order)."""
        name_zh, name_en, adcode, area, extent, seat = fields
        (seat_pair,) = parse_pairs(seat)
        return cls(name_zh, name_en, adcode, float(area), extent, seat_pair)


#: The two cities, one record each, fields in :class:`CitySketch` order (seats from the facts file).
CITY_TABLE = """
# name_zh | name_en | adcode | area_km2_official | published extent | seat (lon lat)
平度市 | Pingdu | 370283 | 3176.0 | 119°31′–120°19′ E, 36°28′–37°02′ N | 119.9538 36.7886
莱西市 | Laixi | 370285 | 1568.2 | about 120°12′–120°39′ E, 36°34′–37°09′ N | 120.5214 36.8647
"""

CITIES: tuple[CitySketch, ...] = tuple(
    CitySketch.from_fields(fields) for fields in parse_table(CITY_TABLE, n_fields=6)
)

#: City seat by district name (``name_zh``).
SEATS: dict[str, Coord] = {city.name_zh: city.seat for city in CITIES}

#: The airport (lon, lat) from the facts file.
AIRPORT: Coord = (120.087, 36.362)

DISTRICT_SOURCE = (
    "schematic outline drawn by parkmap from the published extent and area; not a survey boundary"
)

#: Properties a park feature copies from its :class:`ParkSketch`, in output order.
PARK_PROPERTIES = (
    "park_id",
    "name_zh",
    "name_en",
    "district",
    "industry",
    "area_target_km2",
    "source",
)


def offset_point(origin: Coord, east_km: float, north_km: float) -> Coord:
    """Return the point ``east_km``/``north_km`` away from ``origin`` along a geodesic.

    Parameters
    ----------
    origin
        ``(lon, lat)`` in degrees.
    east_km, north_km
        Offset; the point lies at azimuth ``atan2(east, north)`` and distance ``hypot``.

    Returns
    -------
    tuple of float
        ``(lon, lat)`` in degrees.
    """
    distance_m = math.hypot(east_km, north_km) * 1000.0
    azimuth = math.degrees(math.atan2(east_km, north_km))
    lon, lat, _ = GEOD.fwd(origin[0], origin[1], azimuth, distance_m)
    return (float(lon), float(lat))


def geodesic_area_km2(ring: Sequence[Coord]) -> float:
    """Return the geodesic area (km², WGS-84) of a ring of ``(lon, lat)`` vertices."""
    area_m2, _ = GEOD.geometry_area_perimeter(Polygon(ring))
    return abs(area_m2) / 1e6


def round_point(point: Coord) -> Coord:
    """Return ``point`` with both coordinates rounded to :data:`DECIMALS`."""
    return (round(point[0], DECIMALS), round(point[1], DECIMALS))


def park_ring(sketch: ParkSketch) -> list[Coord]:
    """Return the park's ring (open, counter-clockwise), scaled to its target geodesic area.

    Parameters
    ----------
    sketch
        The park's shape and target.

    Returns
    -------
    list of tuple
        ``(lon, lat)`` vertices rounded to :data:`DECIMALS`, without the closing vertex.
    """
    scale = 1.0
    ring: list[Coord] = []
    for _ in range(8):
        ring = [offset_point(sketch.centre, scale * e, scale * n) for e, n in sketch.offsets_km]
        scale *= math.sqrt(sketch.area_target_km2 / geodesic_area_km2(ring))
    return [round_point(point) for point in ring]


def pingdu_ring() -> list[Coord]:
    """Return Pingdu's schematic outline (open ring, counter-clockwise)."""
    return [*PINGDU_SOUTH_EAST, *PINGDU_LAIXI_BORDER, *PINGDU_NORTH_WEST]


def laixi_ring() -> list[Coord]:
    """Return Laixi's schematic outline (open ring, counter-clockwise)."""
    return [*LAIXI_REST, *PINGDU_LAIXI_BORDER[::-1]]


#: Outline of each city, by ``name_zh``.
CITY_RINGS = {"平度市": pingdu_ring, "莱西市": laixi_ring}


def _polygon_geometry(ring: Sequence[Coord]) -> dict[str, Any]:
    if not Polygon(ring).exterior.is_ccw:
        raise RuntimeError("exterior rings must be counter-clockwise (RFC 7946)")
    closed = [[lon, lat] for lon, lat in ring]
    closed.append(closed[0])
    return {"type": "Polygon", "coordinates": [closed]}


def _point_geometry(point: Coord) -> dict[str, Any]:
    return {"type": "Point", "coordinates": [point[0], point[1]]}


def _feature(properties: dict[str, Any], geometry: dict[str, Any]) -> dict[str, Any]:
    return {"type": "Feature", "properties": properties, "geometry": geometry}


def _context_properties(
    kind: str, name_zh: str, name_en: str, codes: dict[str, Any], accuracy: str, source: str
) -> dict[str, Any]:
    """Return a context feature's properties: kind and names, ``codes``, accuracy and source."""
    names = {"kind": kind, "name_zh": name_zh, "name_en": name_en}
    return {**names, **codes, "accuracy": accuracy, "source": source}


def _published_at(what: str, point: Coord) -> str:
    """Return the ``source`` of a point taken from published coordinates."""
    return f"published {what} coordinates ({point[1]} N, {point[0]} E)"


def park_features() -> list[dict[str, Any]]:
    """Return the five schematic park features (GeoJSON dicts)."""
    features = []
    for sketch in PARKS:
        properties = {name: getattr(sketch, name) for name in PARK_PROPERTIES}
        properties["accuracy"] = "schematic"
        features.append(_feature(properties, _polygon_geometry(park_ring(sketch))))
    return features


def context_features() -> list[dict[str, Any]]:
    """Return the district outlines, the airport and the two city seats (GeoJSON dicts)."""
    districts = []
    seats = []
    for city in CITIES:
        area = city.area_km2_official
        codes = {"adcode": city.adcode}
        source = f"{DISTRICT_SOURCE} ({city.extent}; {area:g} km²)"
        district = _context_properties(
            "district",
            city.name_zh,
            city.name_en,
            {**codes, "area_km2_official": area},
            "schematic",
            source,
        )
        districts.append(_feature(district, _polygon_geometry(CITY_RINGS[city.name_zh]())))
        seat = _context_properties(
            "seat",
            f"{city.name_zh}人民政府驻地",
            f"{city.name_en} city seat",
            codes,
            "approximate",
            _published_at("seat", city.seat),
        )
        seats.append(_feature(seat, _point_geometry(city.seat)))
    airport = _context_properties(
        "airport",
        "青岛胶东国际机场",
        "Qingdao Jiaodong International Airport",
        {"iata": "TAO"},
        "approximate",
        _published_at("airport", AIRPORT),
    )
    return [*districts, _feature(airport, _point_geometry(AIRPORT)), *seats]


def dumps_collection(features: Sequence[dict[str, Any]]) -> str:
    """Serialise features as an RFC 7946 FeatureCollection, one feature per line.

    Parameters
    ----------
    features
        GeoJSON feature dicts.

    Returns
    -------
    str
        UTF-8-ready JSON text ending in a newline; no ``crs`` member.
    """
    body = ",\n".join(json.dumps(f, ensure_ascii=False) for f in features)
    return '{"type": "FeatureCollection", "features": [\n' + body + "\n]}\n"


def write_text_atomic(path: Path, text: str) -> None:
    """Write ``text`` (UTF-8, LF) to ``path`` through a temporary file and a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_geodata(out_dir: Path) -> list[Path]:
    """Write ``parks.geojson`` and ``context.geojson`` into ``out_dir``.

    Parameters
    ----------
    out_dir
        Target folder (created if missing).

    Returns
    -------
    list of Path
        The two files written.
    """
    written = []
    for name, features in (
        (PARKS_FILE, park_features()),
        (CONTEXT_FILE, context_features()),
    ):
        path = Path(out_dir) / name
        write_text_atomic(path, dumps_collection(features))
        written.append(path)
    return written


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point; returns the exit status."""
    parser = argparse.ArgumentParser(
        prog="python -m parkmap.geodata.make_geodata",
        description="Write the schematic parks.geojson and context.geojson.",
    )
    parser.add_argument(
        "--out-dir",
        type=Path,
        default=HERE,
        help="folder to write into (default: the parkmap.geodata package folder)",
    )
    args = parser.parse_args(argv)
    for path in write_geodata(args.out_dir):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

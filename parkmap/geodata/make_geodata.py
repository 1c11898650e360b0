"""Write the schematic demo geometry, ``parks.geojson`` and ``context.geojson``.

No public boundary file exists for the parks, so the project draws its own **schematic** outlines
from the public facts (centre, published or estimated area). Each park is a hand-chosen ring of
vertex offsets in km around its centre, scaled until its geodesic area on the WGS-84 ellipsoid
matches the target area. The two county-level cities are hand-drawn simplified outlines that respect
their published extents and areas and share one border polyline, so they never overlap.

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


PARKS: tuple[ParkSketch, ...] = (
    ParkSketch(
        park_id="pingdu-nancun",
        name_zh="平度南村智能家电产业集聚区",
        name_en="Pingdu Nancun Smart Home-Appliance Cluster",
        district="平度市",
        industry="智能家电",
        centre=(120.14, 36.55),
        area_target_km2=20.0,
        source="schematic; centre GUESS (Nancun town), 20 km² GUESS",
        offsets_km=(
            (2.6, -0.4),
            (2.3, 1.5),
            (0.9, 2.2),
            (-0.3, 2.7),
            (-1.8, 1.9),
            (-2.7, 0.6),
            (-2.2, -1.1),
            (-1.1, -2.3),
            (0.6, -2.5),
            (1.9, -1.7),
        ),
    ),
    ParkSketch(
        park_id="laixi-jiangshan",
        name_zh="莱西姜山新能源汽车产业集聚区",
        name_en="Laixi Jiangshan New-Energy-Vehicle Cluster",
        district="莱西市",
        industry="新能源汽车",
        centre=(120.58, 36.66),
        area_target_km2=15.0,
        source=(
            "schematic; centre GUESS (Jiangshan town), 15 km² from the published NEV-cluster area; "
            "straight E/W/S sides echo the expressway, G204 and S394 bounds"
        ),
        offsets_km=(
            (1.6, -2.0),
            (1.8, -0.3),
            (1.6, 1.6),
            (0.9, 2.9),
            (-0.4, 3.1),
            (-1.4, 2.3),
            (-1.7, 0.4),
            (-1.8, -1.7),
            (-0.2, -2.2),
        ),
    ),
    ParkSketch(
        park_id="qingwei-airport-zone",
        name_zh="青潍临空产业协作区",
        name_en="Qingdao–Weifang Airport-Linked Industry Collaboration Zone",
        district="平度市/胶州市",
        industry="临空产业",
        centre=(120.00, 36.475),
        area_target_km2=60.0,
        source=(
            "schematic; GUESS placement NW of Jiaodong airport across the Pingdu–Jiaozhou line, "
            "60 km² GUESS"
        ),
        offsets_km=(
            (7.0, -0.6),
            (6.2, 1.4),
            (4.0, 2.5),
            (1.2, 2.9),
            (-1.8, 3.1),
            (-4.6, 2.4),
            (-6.8, 1.0),
            (-7.1, -1.0),
            (-5.0, -2.2),
            (-2.0, -2.6),
            (1.0, -3.0),
            (4.5, -2.4),
        ),
    ),
    ParkSketch(
        park_id="pingdu-edz",
        name_zh="平度经济开发区",
        name_en="Pingdu Economic Development Zone",
        district="平度市",
        industry="食品饮料/新材料/智能制造",
        centre=(120.00, 36.76),
        area_target_km2=40.5,
        source="schematic; centre GUESS, 40.5 km² from the zone's published area",
        offsets_km=(
            (3.4, -0.8),
            (3.6, 1.2),
            (2.4, 2.9),
            (0.5, 3.5),
            (-1.4, 3.0),
            (-2.9, 1.9),
            (-3.3, 0.0),
            (-2.8, -2.0),
            (-1.2, -3.2),
            (0.9, -3.4),
            (2.6, -2.4),
        ),
    ),
    ParkSketch(
        park_id="laixi-edz",
        name_zh="莱西经济开发区",
        name_en="Laixi Economic Development Zone",
        district="莱西市",
        industry="高端装备/新材料",
        centre=(120.50, 36.85),
        area_target_km2=30.0,
        source="schematic; centre GUESS, 30 km² GUESS (area not published)",
        offsets_km=(
            (3.2, -0.2),
            (2.4, 0.9),
            (1.0, 1.2),
            (0.3, 2.6),
            (-1.8, 2.5),
            (-3.2, 0.8),
            (-3.0, -1.5),
            (-1.3, -2.9),
            (0.9, -3.0),
            (2.6, -1.8),
        ),
    ),
)

#: Shared Pingdu–Laixi border, south (Jimo tripoint) to north; (lon, lat).
PINGDU_LAIXI_BORDER: tuple[Coord, ...] = (
    (120.31, 36.69),
    (120.28, 36.765),
    (120.245, 36.815),
    (120.20, 36.86),
    (120.24, 36.93),
    (120.265, 36.975),
)

#: Pingdu outline except the shared border: south-west corner eastwards to the border's south end,
#: then (after the border) from its north end westwards. Extent 119°31′–120°19′ E, 36°28′–37°02′ N.
PINGDU_SOUTH_EAST: tuple[Coord, ...] = (
    (119.63, 36.585),
    (119.75, 36.525),
    (119.87, 36.49),
    (120.00, 36.4667),
    (120.09, 36.472),
    (120.19, 36.49),
    (120.27, 36.545),
    (120.3167, 36.63),
)
PINGDU_NORTH_WEST: tuple[Coord, ...] = (
    (120.17, 37.012),
    (120.07, 37.0333),
    (119.96, 37.015),
    (119.85, 36.975),
    (119.74, 36.915),
    (119.64, 36.855),
    (119.56, 36.785),
    (119.5167, 36.71),
    (119.555, 36.64),
)

#: Laixi outline except the shared border: from the border's south end eastwards round to its
#: north end. Extent about 120°12′–120°47′ E, 36°35′–37°09′ N.
LAIXI_REST: tuple[Coord, ...] = (
    (120.42, 36.665),
    (120.50, 36.625),
    (120.56, 36.5833),
    (120.635, 36.595),
    (120.70, 36.675),
    (120.7833, 36.745),
    (120.70, 36.835),
    (120.635, 36.91),
    (120.60, 37.02),
    (120.595, 37.10),
    (120.57, 37.15),
    (120.535, 37.08),
    (120.47, 37.0),
    (120.39, 36.95),
    (120.315, 36.945),
)

#: City seats and the airport (lon, lat) from the facts file.
PINGDU_SEAT: Coord = (119.9538, 36.7886)
LAIXI_SEAT: Coord = (120.5214, 36.8647)
AIRPORT: Coord = (120.087, 36.362)

DISTRICT_SOURCE = (
    "schematic outline drawn by parkmap from the published extent and area; not a survey boundary"
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


def _rounded(ring: Sequence[Coord]) -> list[Coord]:
    return [(round(lon, DECIMALS), round(lat, DECIMALS)) for lon, lat in ring]


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
    return _rounded(ring)


def pingdu_ring() -> list[Coord]:
    """Return Pingdu's schematic outline (open ring, counter-clockwise)."""
    return [*PINGDU_SOUTH_EAST, *PINGDU_LAIXI_BORDER, *PINGDU_NORTH_WEST]


def laixi_ring() -> list[Coord]:
    """Return Laixi's schematic outline (open ring, counter-clockwise)."""
    return [*LAIXI_REST, *PINGDU_LAIXI_BORDER[::-1]]


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


def park_features() -> list[dict[str, Any]]:
    """Return the five schematic park features (GeoJSON dicts)."""
    features = []
    for sketch in PARKS:
        properties = {
            "park_id": sketch.park_id,
            "name_zh": sketch.name_zh,
            "name_en": sketch.name_en,
            "district": sketch.district,
            "industry": sketch.industry,
            "area_target_km2": sketch.area_target_km2,
            "source": sketch.source,
            "accuracy": "schematic",
        }
        features.append(_feature(properties, _polygon_geometry(park_ring(sketch))))
    return features


def context_features() -> list[dict[str, Any]]:
    """Return the district outlines, the airport and the two city seats (GeoJSON dicts)."""
    pingdu = {
        "kind": "district",
        "name_zh": "平度市",
        "name_en": "Pingdu",
        "adcode": "370283",
        "area_km2_official": 3176.0,
        "accuracy": "schematic",
        "source": DISTRICT_SOURCE + " (119°31′–120°19′ E, 36°28′–37°02′ N; 3176 km²)",
    }
    laixi = {
        "kind": "district",
        "name_zh": "莱西市",
        "name_en": "Laixi",
        "adcode": "370285",
        "area_km2_official": 1568.2,
        "accuracy": "schematic",
        "source": DISTRICT_SOURCE + " (about 120°12′–120°47′ E, 36°35′–37°09′ N; 1568.2 km²)",
    }
    airport = {
        "kind": "airport",
        "name_zh": "青岛胶东国际机场",
        "name_en": "Qingdao Jiaodong International Airport",
        "iata": "TAO",
        "accuracy": "approximate",
        "source": "published airport coordinates (36.362 N, 120.087 E)",
    }
    seats = [
        (
            {
                "kind": "seat",
                "name_zh": "平度市人民政府驻地",
                "name_en": "Pingdu city seat",
                "adcode": "370283",
                "accuracy": "approximate",
                "source": "published seat coordinates (36.7886 N, 119.9538 E)",
            },
            PINGDU_SEAT,
        ),
        (
            {
                "kind": "seat",
                "name_zh": "莱西市人民政府驻地",
                "name_en": "Laixi city seat",
                "adcode": "370285",
                "accuracy": "approximate",
                "source": "published seat coordinates (36.8647 N, 120.5214 E)",
            },
            LAIXI_SEAT,
        ),
    ]
    return [
        _feature(pingdu, _polygon_geometry(pingdu_ring())),
        _feature(laixi, _polygon_geometry(laixi_ring())),
        _feature(airport, _point_geometry(AIRPORT)),
        *(_feature(props, _point_geometry(point)) for props, point in seats),
    ]


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

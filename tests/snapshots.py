"""Two hand-built snapshots of a ledger with known changes, and their park layer.

Three square parks near 36.01 N: 甲园区 ``pa`` (120.00–120.02 E), 乙园区 ``pb`` (120.10–120.12 E)
and 丙园区 ``pc`` (120.20–120.22 E). Between OLD and NEW:

* P1 steps up (签约 → 在建) and its investment goes 10 → 12;
* P2 steps back (在建 → 签约);
* P3 is renamed to ``<script>alert(1)</script>``;
* P4 is removed;
* P5 (named ``=SUM(A1)``) gets an amount: unknown → 7;
* P6 moves 50 m north (under the 100 m threshold: no change), P7 500 m south (moved);
* P8 moves from 甲园区 to 乙园区 (moved and park);
* P9 (20 亿元, 乙园区) and P10 (unknown amount, 甲园区) are new; P11 (丙园区) stays as it was.

Worked out by hand: 9 → 10 projects, 33 → 60 亿元; 甲园区 5 → 5 projects, 22 → 25 亿元, rank
1 → 2; 乙园区 3 → 4, 9 → 33, rank 2 → 1; 丙园区 1 → 1, 2 → 2, rank 3, no progress.
"""

from __future__ import annotations

import json
from pathlib import Path

from pyproj import Geod

GEOD = Geod(ellps="WGS84")

#: (park_id, name_zh, name_en, west, south, east, north)
PARKS = (
    ("pa", "甲园区", "Park A", 120.00, 36.00, 120.02, 36.02),
    ("pb", "乙园区", "Park B", 120.10, 36.00, 120.12, 36.02),
    ("pc", "丙园区", "Park C", 120.20, 36.00, 120.22, 36.02),
)

HEADER = "project_id,name,park,status,investment_100m_cny,lon,lat"


def moved(lon: float, lat: float, azimuth: float, metres: float) -> tuple[float, float]:
    """The point ``metres`` from (lon, lat) along ``azimuth`` (degrees), on the ellipsoid."""
    x, y, _ = GEOD.fwd(lon, lat, azimuth, metres)
    return float(x), float(y)


P6_NEW = moved(120.012, 36.012, 0.0, 50.0)
P7_NEW = moved(120.112, 36.012, 180.0, 500.0)
P8_OLD, P8_NEW = (120.008, 36.008), (120.108, 36.008)

OLD_ROWS = [
    ("P1", "Alpha", "甲园区", "签约", "10", 120.005, 36.005),
    ("P2", "Beta", "甲园区", "在建", "5", 120.010, 36.010),
    ("P3", "Gamma", "乙园区", "投产", "3", 120.105, 36.005),
    ("P4", "Delta", "乙园区", "在谈", "2", 120.110, 36.010),
    ("P5", "=SUM(A1)", "甲园区", "签约", "", 120.015, 36.015),
    ("P6", "Epsilon", "甲园区", "在谈", "1", 120.012, 36.012),
    ("P7", "Zeta", "乙园区", "签约", "4", 120.112, 36.012),
    ("P8", "Eta", "甲园区", "签约", "6", *P8_OLD),
    ("P11", "Kappa", "丙园区", "签约", "2", 120.205, 36.005),
]
NEW_ROWS = [
    ("P1", "Alpha", "甲园区", "在建", "12", 120.005, 36.005),
    ("P2", "Beta", "甲园区", "签约", "5", 120.010, 36.010),
    ("P3", "<script>alert(1)</script>", "乙园区", "投产", "3", 120.105, 36.005),
    ("P5", "=SUM(A1)", "甲园区", "签约", "7", 120.015, 36.015),
    ("P6", "Epsilon", "甲园区", "在谈", "1", *P6_NEW),
    ("P7", "Zeta", "乙园区", "签约", "4", *P7_NEW),
    ("P8", "Eta", "乙园区", "签约", "6", *P8_NEW),
    ("P9", "Theta", "乙园区", "签约", "20", 120.115, 36.015),
    ("P10", "Iota", "甲园区", "在谈", "", 120.018, 36.004),
    ("P11", "Kappa", "丙园区", "签约", "2", 120.205, 36.005),
]

#: The same ledger without ids: matched by name + park. Alpha steps up, Beta goes, Delta comes.
OLD_NO_IDS = [
    ("Alpha", "甲园区", "签约", "10", 120.005, 36.005),
    ("Beta", "甲园区", "在建", "5", 120.010, 36.010),
    ("Gamma", "乙园区", "投产", "3", 120.105, 36.005),
]
NEW_NO_IDS = [
    ("Gamma", "乙园区", "投产", "3", 120.105, 36.005),
    ("Delta", "乙园区", "签约", "8", 120.110, 36.010),
    ("Alpha", "甲园区", "在建", "10", 120.005, 36.005),
]


def _cell(value: object) -> str:
    text = str(value)
    return '"' + text.replace('"', '""') + '"' if any(c in text for c in ',"<') else text


def write_csv(path: Path, rows: list[tuple], header: str = HEADER) -> Path:
    lines = [header] + [",".join(_cell(v) for v in row) for row in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def write_parks(path: Path) -> Path:
    features = [
        {
            "type": "Feature",
            "properties": {"park_id": pid, "name_zh": zh, "name_en": en},
            "geometry": {
                "type": "Polygon",
                "coordinates": [[[w, s], [e, s], [e, n], [w, n], [w, s]]],
            },
        }
        for pid, zh, en, w, s, e, n in PARKS
    ]
    path.write_text(
        json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False),
        encoding="utf-8",
    )
    return path


def write_snapshots(folder: Path) -> tuple[Path, Path, Path]:
    """``old.csv``, ``new.csv`` and ``parks.geojson`` in ``folder``."""
    return (
        write_csv(folder / "old.csv", OLD_ROWS),
        write_csv(folder / "new.csv", NEW_ROWS),
        write_parks(folder / "parks.geojson"),
    )

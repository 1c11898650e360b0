"""Typed defaults shared by every step: coordinate systems, units, statuses, output names."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

#: Geographic CRS everything is converted to at load time (RFC 7946 GeoJSON uses it too).
WGS84: Final = "EPSG:4326"

#: Ellipsoid used for geodesic areas and distances.
ELLIPSOID: Final = "WGS84"

#: Plausible coordinates for a project in China, used to reject typos (lon, lat ranges).
CHINA_LON_RANGE: Final = (73.0, 136.0)
CHINA_LAT_RANGE: Final = (3.0, 54.0)

#: Multipliers from a currency unit to 亿元 (100 million CNY), keyed by canonical unit.
UNIT_TO_100M_CNY: Final[dict[str, float]] = {"yuan": 1e-8, "wan": 1e-4, "yi": 1.0}

#: Canonical project statuses, in the order legends and tables list them: the stages of a
#: project from talks (前期/在谈) to production, then what no stage could be read for.
STATUSES: Final = ("planned", "signed", "under_construction", "in_production", "unknown")

#: Display labels for the statuses, by language.
STATUS_LABELS: Final[dict[str, dict[str, str]]] = {
    "zh": {
        "planned": "在谈/前期",
        "signed": "签约",
        "under_construction": "在建",
        "in_production": "投产",
        "unknown": "未知",
    },
    "en": {
        "planned": "In talks / planned",
        "signed": "Signed",
        "under_construction": "Under construction",
        "in_production": "In production",
        "unknown": "Unknown",
    },
}

#: Fixed names of the files ``parkmap build`` writes (other tools and reports rely on them).
OUTPUT_MAP: Final = "map.html"
OUTPUT_PARKS: Final = "parks.csv"
OUTPUT_PROJECTS: Final = "projects.geojson"
OUTPUT_REJECTED: Final = "rejected.csv"

LANGUAGES: Final = ("zh", "en")
COLOR_BY: Final = ("status", "industry")


@dataclass(frozen=True)
class MapDefaults:
    """Defaults for the interactive map."""

    scheme: str = "quantiles"
    k: int = 5
    lang: str = "zh"
    color_by: str = "status"
    palette: str = "YlOrRd"


MAP_DEFAULTS: Final = MapDefaults()

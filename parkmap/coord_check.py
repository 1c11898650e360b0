"""Does a file's declared coordinate system look wrong?

Amap, Tencent and Baidu coordinates are shifted by hundreds of metres from the truth; a file
copied from Amap but read as WGS-84 puts projects on the wrong side of park edges. The projects
that say which park they belong to (所属园区) are the evidence: read the original coordinates in
each system and count how many land inside their declared park. If another system puts clearly
more of them inside, warn and name the flag — never change anything silently.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import shapely

from parkmap.coords import convert_to_wgs84
from parkmap.join import match_declared

#: Systems compared. CGCS2000 is left out: it differs from WGS-84 by centimetres.
CANDIDATES = ("wgs84", "gcj02", "bd09")

#: Flags and names to suggest for each system.
FLAG_FOR = {"wgs84": "--coords wgs84", "gcj02": "--coords gcj02", "bd09": "--coords bd09"}
LABEL_FOR = {
    "wgs84": "WGS-84 (GPS, Tianditu)",
    "cgcs2000": "CGCS2000",
    "gcj02": "GCJ-02 (Amap/Gaode, Tencent)",
    "bd09": "BD-09 (Baidu)",
}

#: Most projects that declare a park which the check reads (evenly spaced through the file).
SAMPLE = 5_000

#: "Clearly more": at least this many more projects inside their declared park …
MIN_GAIN = 3
#: … and at least this share of the projects that declare a park.
MIN_GAIN_SHARE = 0.1


@dataclass(frozen=True)
class SystemCheck:
    """How many projects land in their declared park under each reading of the coordinates."""

    declared: str
    inside: dict[str, int]
    n_declaring: int

    @property
    def likely(self) -> str:
        """The system that puts most projects in their declared park (declared wins ties)."""
        best = max(self.inside.values())
        if self.inside.get(_comparable(self.declared), -1) == best:
            return self.declared
        return max(self.inside, key=lambda s: (self.inside[s], s == "gcj02"))

    @property
    def suspicious(self) -> bool:
        """True when another system puts clearly more projects in their declared park."""
        if self.likely == self.declared:
            return False
        gain = self.inside[self.likely] - self.inside[_comparable(self.declared)]
        return gain >= max(MIN_GAIN, math.ceil(MIN_GAIN_SHARE * self.n_declaring))

    def message(self) -> str:
        """The warning, naming the likely system and the flag to use."""
        here = self.inside[_comparable(self.declared)]
        there = self.inside[self.likely]
        return (
            f"coordinates look like {LABEL_FOR[self.likely]}, not {LABEL_FOR[self.declared]}: "
            f"read as {self.likely}, {there} of {self.n_declaring} projects fall inside the park "
            f"they declare (所属园区), against {here} as {self.declared}; if so, rerun with "
            f"{FLAG_FOR[self.likely]}"
        )


def _comparable(system: str) -> str:
    return "wgs84" if system == "cgcs2000" else system


def check_coordinate_system(
    projects: gpd.GeoDataFrame, parks: gpd.GeoDataFrame
) -> SystemCheck | None:
    """Compare readings of the projects' original coordinates against their declared parks.

    Parameters
    ----------
    projects
        Loaded projects with ``lon_orig``, ``lat_orig``, ``coord_sys`` and ``park_declared``.
    parks
        Park polygons in WGS-84.

    Returns
    -------
    SystemCheck or None
        ``None`` when no project declares a park that the layer has, or the rows mix systems.
    """
    needed = {"lon_orig", "lat_orig", "coord_sys", "park_declared"}
    if projects.empty or not needed <= set(projects.columns):
        return None
    systems = projects["coord_sys"].unique()
    if len(systems) != 1:
        return None
    declared = str(systems[0])
    codes, _, position = match_declared(projects["park_declared"], parks)
    wanted = position[codes]
    rows = wanted >= 0
    if not rows.any():
        return None
    if rows.sum() > SAMPLE:
        # Evenly spaced rows are plenty to tell a 450 m shift, and keep a big file fast.
        keep = np.flatnonzero(rows)
        rows = np.zeros_like(rows)
        rows[keep[np.linspace(0, len(keep) - 1, SAMPLE).astype(int)]] = True
    targets = np.asarray(parks.geometry.array)[wanted[rows]]
    lon = projects["lon_orig"].to_numpy(dtype=float)[rows]
    lat = projects["lat_orig"].to_numpy(dtype=float)[rows]
    inside = {}
    for system in CANDIDATES:
        x, y = convert_to_wgs84(lon, lat, system)
        inside[system] = int(shapely.intersects(targets, shapely.points(x, y)).sum())
    return SystemCheck(declared=declared, inside=inside, n_declaring=int(rows.sum()))


#: Fields of Amap/DataV district layers; with ``adcode`` they mark a layer as DataV's.
DATAV_FIELDS = ("center", "centroid", "acroutes", "level")

#: Words in a file name that say Amap/DataV (GCJ-02).
GCJ02_NAME_WORDS = ("gcj", "amap", "gaode", "datav")


def park_layer_hint(parks: gpd.GeoDataFrame, parks_coords: str = "wgs84") -> list[str]:
    """A hint when a lon/lat park layer read as WGS-84 looks like Amap/DataV (GCJ-02).

    A layer looks like DataV's when it has ``adcode`` together with one of
    :data:`DATAV_FIELDS` (compared without case), or its file name contains one of
    :data:`GCJ02_NAME_WORDS`. Projected layers and layers read with another ``parks_coords``
    than ``wgs84`` get no hint: their coordinate system was said.

    Parameters
    ----------
    parks
        Park layer from :func:`parkmap.read.parks_from_files`; its ``.attrs["sources"]`` lists
        each file (``file``, original ``fields``, ``lonlat``). Without it there is no hint.
    parks_coords
        The ``--parks-coords`` the layer was read with.

    Returns
    -------
    list of str
        One alert line naming the layers, or nothing.
    """
    if parks_coords != "wgs84":
        return []
    suspects = []
    for source in parks.attrs.get("sources", []):
        if not source.get("lonlat", False):
            continue
        fields = {str(f).lower() for f in source.get("fields", [])}
        name = str(source.get("file", "")).lower()
        datav = "adcode" in fields and any(f in fields for f in DATAV_FIELDS)
        if datav or any(word in name for word in GCJ02_NAME_WORDS):
            suspects.append(str(source["file"]))
    if not suspects:
        return []
    which = (
        "park layer " + suspects[0] if len(suspects) == 1 else "park layers " + ", ".join(suspects)
    )
    verb = "looks" if len(suspects) == 1 else "look"
    return [
        f"{which} {verb} like Amap/DataV (GCJ-02) coordinates; if so, pass --parks-coords "
        "gcj02 (they sit ~500 m off WGS-84 otherwise)"
    ]

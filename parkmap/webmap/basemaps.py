"""Background tiles, and the coordinate system overlays must be drawn in to line up with them.

Amap (Gaode) tiles are drawn in GCJ-02, so on an Amap basemap every overlay is shifted into
GCJ-02 as well; otherwise a project sits about 450 m west of its street near Qingdao. OSM and
Tianditu tiles are WGS-84 (Tianditu's CGCS2000 is the same at map scale). ``none`` is the
offline default: no requests at all, and the context layers keep the map readable.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import overload

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from parkmap.errors import UsageError
from parkmap.i18n import texts
from parkmap.settings import BASEMAPS, check_basemap, display_system

__all__ = ["BASEMAPS", "Tiles", "add_tiles", "check_basemap", "display_system", "tile_layers"]


_AMAP = "https://{kind}0{{s}}.is.autonavi.com/appmaptile?{query}&x={{x}}&y={{y}}&z={{z}}"
_TIANDITU = (
    "https://t{{s}}.tianditu.gov.cn/{layer}_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0"
    "&LAYER={layer}&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles"
    "&TILEMATRIX={{z}}&TILEROW={{y}}&TILECOL={{x}}&tk={key}"
)
_OSM_ATTR = (
    '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors'
)
_AMAP_ATTR = "&copy; 高德地图 AutoNavi"
_TIANDITU_ATTR = "&copy; 天地图 国家地理信息公共服务平台 (Tianditu)"
#: Tianditu's label layer by language: Chinese (cva) or English (eva) annotations.
_TIANDITU_LABELS = {"zh": "cva", "en": "eva"}


@dataclass(frozen=True)
class Tiles:
    """One tile layer: URL template, attribution, subdomains, and whether it is a label overlay."""

    name: str
    url: str
    attribution: str
    subdomains: str = "abc"
    overlay: bool = False
    max_zoom: int = 18


def tianditu_key(given: str | None = None) -> str:
    """The Tianditu key from ``--tianditu-key`` or ``TIANDITU_KEY``; a clear error when missing."""
    key = given or os.environ.get("TIANDITU_KEY", "")
    if not key.strip():
        raise UsageError(
            "the tianditu basemap needs a key: pass --tianditu-key KEY or set TIANDITU_KEY "
            "(free from the Tianditu developer site)"
        )
    return key.strip()


def tile_layers(basemap: str, *, lang: str = "zh", key: str | None = None) -> list[Tiles]:
    """Tile layers for a basemap (empty for ``none``)."""
    if check_basemap(basemap) == "none":
        return []
    if basemap == "osm":
        return [
            Tiles("OpenStreetMap", "https://tile.openstreetmap.org/{z}/{x}/{y}.png", _OSM_ATTR, "")
        ]
    t = texts(lang, "basemap")
    if basemap == "amap":
        url = _AMAP.format(kind="webrd", query="lang=zh_cn&size=1&scale=1&style=8")
        return [Tiles(t["tiles_amap"], url, _AMAP_ATTR, "1234")]
    if basemap == "amap-satellite":
        return [
            Tiles(
                t["tiles_amap_satellite"],
                _AMAP.format(kind="webst", query="style=6"),
                _AMAP_ATTR,
                "1234",
            ),
            Tiles(
                t["tiles_amap_labels"],
                _AMAP.format(kind="webst", query="style=8"),
                _AMAP_ATTR,
                "1234",
                overlay=True,
            ),
        ]
    if basemap == "tianditu":
        token = tianditu_key(key)
        labels = _TIANDITU_LABELS[lang]
        return [
            Tiles(
                t["tiles_tianditu"],
                _TIANDITU.format(layer="vec", key=token),
                _TIANDITU_ATTR,
                "01234567",
            ),
            Tiles(
                t["tiles_tianditu_labels"],
                _TIANDITU.format(layer=labels, key=token),
                _TIANDITU_ATTR,
                "01234567",
                overlay=True,
            ),
        ]
    return []


def add_tiles(m: folium.Map, layers: list[Tiles]) -> None:
    """Add tile layers (from :func:`tile_layers`) to a map."""
    for tiles in layers:
        folium.TileLayer(
            tiles=tiles.url,
            attr=tiles.attribution,
            name=tiles.name,
            overlay=tiles.overlay,
            control=True,
            max_zoom=tiles.max_zoom,
            subdomains=tiles.subdomains or "abc",
        ).add_to(m)


@overload
def to_display(frame: pd.DataFrame, system: str) -> pd.DataFrame: ...
@overload
def to_display(frame: None, system: str) -> None: ...
@overload
def to_display(frame: pd.DataFrame | None, system: str) -> pd.DataFrame | None: ...
def to_display(frame: pd.DataFrame | None, system: str) -> pd.DataFrame | None:
    """A copy of a WGS-84 layer shifted into the display system (unchanged for ``wgs84``).

    Geometry and any ``lon``/``lat`` columns move; ``lon_orig``/``lat_orig`` stay as the file
    gave them.
    """
    if frame is None or system == "wgs84":
        return frame
    from parkmap.coords import convert_from_wgs84

    def shift(xy: np.ndarray) -> np.ndarray:
        return np.column_stack(convert_from_wgs84(xy[:, 0], xy[:, 1], system))

    out = frame.copy()
    if isinstance(out, gpd.GeoDataFrame):
        moved = shapely.transform(out.geometry.array, shift)
        out = out.set_geometry(gpd.GeoSeries(moved, crs=out.crs, index=out.index))
    if {"lon", "lat"} <= set(out.columns):
        x, y = convert_from_wgs84(out["lon"].to_numpy(float), out["lat"].to_numpy(float), system)
        out["lon"], out["lat"] = x, y
    return out

"""Turn parkmap's (Geo)DataFrames into the compact JSON payloads the map runtime draws.

Nothing here writes HTML: user strings travel as JSON values and the runtime escapes them
(``esc()``) when it builds a tooltip or popup.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import shapely
from shapely.geometry import mapping

from parkmap.classes import Classes
from parkmap.errors import InputError
from parkmap.settings import STATUSES, WGS84
from parkmap.webmap import assets

#: Marker colour per project status.
STATUS_COLORS: dict[str, str] = {
    "signed": "#984ea3",
    "under_construction": "#4daf4a",
    "in_production": "#377eb8",
    "unknown": "#999999",
}

#: Marker colours for the nine most common industries; everything else is :data:`OTHER_COLOR`.
INDUSTRY_COLORS: tuple[str, ...] = (
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#17becf",
    "#bcbd22",
)
OTHER_COLOR = "#9e9e9e"
NO_DATA_COLOR = "#d9d9d9"

#: Sequential ramp for the density surface: (position 0–1, colour, opacity).
DENSITY_RAMP: tuple[tuple[float, str, float], ...] = (
    (0.0, "#deebf7", 0.35),
    (0.25, "#9ecae1", 0.5),
    (0.5, "#4292c6", 0.62),
    (0.75, "#2171b5", 0.72),
    (1.0, "#08306b", 0.82),
)
#: Cells below this share of the maximum are transparent.
DENSITY_CUTOFF = 0.02

DECIMALS = 6


def to_wgs84(frame: pd.DataFrame) -> pd.DataFrame:
    """Return a GeoDataFrame in WGS-84 (unchanged when it has no CRS or is WGS-84 already)."""
    crs = getattr(frame, "crs", None)
    if crs is not None and not crs.equals(WGS84):
        return frame.to_crs(WGS84)
    return frame


def _require(frame: pd.DataFrame, columns: Sequence[str], what: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise InputError(f"{what} lacks column(s) {', '.join(missing)}")


def _text(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NaT:
        return ""
    return str(value)


def _num(value: Any, digits: int = 4) -> float | None:
    try:
        x = float(value)
    except (TypeError, ValueError):
        return None
    return round(x, digits) if math.isfinite(x) else None


def _column(frame: pd.DataFrame, name: str, default: Any) -> pd.Series:
    if name in frame.columns:
        return frame[name]
    return pd.Series([default] * len(frame), index=frame.index, dtype=object)


def _geojson(geom: Any) -> dict[str, Any] | None:
    if geom is None or geom.is_empty:
        return None
    rounded = shapely.transform(geom, lambda xy: np.round(xy, DECIMALS))
    return mapping(rounded)


def park_label(row: pd.Series, lang: str) -> str:
    """The name to show for a park: ``name_en`` in English when present, else ``name``."""
    if lang == "en" and _text(row.get("name_en", "")).strip():
        return _text(row["name_en"])
    return _text(row.get("name", "")) or _text(row.get("name_zh", "")) or _text(row["park_id"])


def parks_payload(
    parks: pd.DataFrame,
    classes: Classes,
    breakdown: pd.DataFrame | None,
    lang: str,
    top_n: int = 5,
) -> dict[str, Any]:
    """Payload for ``parkmap.parksLayer``: a GeoJSON of outlines plus one record per park."""
    parks = to_wgs84(parks)
    top = _top_categories(breakdown, top_n)
    features, records = [], []
    for i, (_, row) in enumerate(parks.iterrows()):
        geometry = _geojson(row.geometry)
        if geometry is not None:
            features.append({"type": "Feature", "properties": {"i": i}, "geometry": geometry})
        cls = int(classes.yb[i])
        records.append(
            {
                "id": _text(row["park_id"]),
                "name": park_label(row, lang),
                "projects": _num(row.get("projects"), 0),
                "investment": _num(row.get("investment_100m_cny")),
                "area": _num(row.get("area_km2")),
                "density": _num(row.get("density_100m_cny_per_km2")),
                "rank": _num(row.get("rank"), 0),
                "cls": cls,
                "color": classes.color_of(cls, NO_DATA_COLOR),
                "status": [
                    [
                        _num(row.get(f"projects_{s}"), 0),
                        _num(row.get(f"investment_{s}_100m_cny")),
                    ]
                    for s in STATUSES
                ],
                "top": top.get(_text(row["park_id"]), []),
            }
        )
    return {
        "geojson": {"type": "FeatureCollection", "features": features},
        "parks": records,
        "statuses": list(STATUSES),
    }


def _top_categories(breakdown: pd.DataFrame | None, top_n: int) -> dict[str, list[list[Any]]]:
    if breakdown is None or len(breakdown) == 0:
        return {}
    _require(breakdown, ["park_id", "category", "projects", "investment_100m_cny"], "breakdown")
    frame = breakdown.assign(
        sort_inv=pd.to_numeric(breakdown["investment_100m_cny"], errors="coerce").fillna(0.0),
        sort_n=pd.to_numeric(breakdown["projects"], errors="coerce").fillna(0),
    ).sort_values(
        ["park_id", "sort_inv", "sort_n", "category"], ascending=[True, False, False, True]
    )
    out: dict[str, list[list[Any]]] = {}
    for park_id, group in frame.groupby("park_id", sort=False):
        out[str(park_id)] = [
            [_text(r.category), int(r.sort_n), _num(r.investment_100m_cny)]
            for r in group.head(top_n).itertuples()
        ]
    return out


def _industry_lookup(industry: pd.Series, investment: pd.Series) -> list[str]:
    """Industries by project count, then investment, then name (empty name last)."""
    stats = (
        pd.DataFrame({"industry": industry, "inv": investment.fillna(0.0)})
        .groupby("industry")
        .agg(n=("inv", "size"), inv=("inv", "sum"))
        .reset_index()
    )
    stats["blank"] = stats["industry"] == ""
    stats = stats.sort_values(
        ["blank", "n", "inv", "industry"], ascending=[True, False, False, True]
    )
    return stats["industry"].tolist()


def projects_payload(
    projects: pd.DataFrame, parks: pd.DataFrame, lang: str, color_by: str
) -> dict[str, Any]:
    """Payload for ``parkmap.projectsLayer``: one JSON object of column arrays.

    Projects without usable coordinates are left out and counted in ``missing``. Rows are
    sorted by investment, largest first, so small markers are drawn on top of big ones.
    """
    _require(projects, ["name", "status", "investment_100m_cny"], "projects")
    projects = to_wgs84(projects)
    lon, lat = _coordinates(projects)
    ok = np.isfinite(lon) & np.isfinite(lat)
    frame = projects.loc[ok].copy()
    frame["_lon"], frame["_lat"] = lon[ok], lat[ok]
    frame["_inv"] = pd.to_numeric(frame["investment_100m_cny"], errors="coerce")
    frame = frame.sort_values("_inv", ascending=False, na_position="last", kind="stable")

    park_names = {_text(r["park_id"]): park_label(r, lang) for _, r in parks.iterrows()}
    names: list[str] = []
    index: dict[str, int] = {}

    def park_index(park_id: str, fallback: str) -> int:
        label = park_names.get(park_id) or fallback
        if not label:
            return -1
        if label not in index:
            index[label] = len(names)
            names.append(label)
        return index[label]

    industry = _column(frame, "industry", "").map(_text).str.strip()
    industries = _industry_lookup(industry, frame["_inv"])
    ind_pos = {name: i for i, name in enumerate(industries)}
    status = frame["status"].map(_text)
    status_pos = {s: i for i, s in enumerate(STATUSES)}
    dates = pd.to_datetime(_column(frame, "signed_date", None), errors="coerce")
    park_id = _column(frame, "park_id", "").map(_text)
    park_name = _column(frame, "park_name", "").map(_text)
    near_id = _column(frame, "nearest_park_id", "").map(_text)
    distance = pd.to_numeric(_column(frame, "distance_km", None), errors="coerce")

    columns = {
        "lon": [round(float(x), DECIMALS) for x in frame["_lon"]],
        "lat": [round(float(x), DECIMALS) for x in frame["_lat"]],
        "inv": [_num(x) for x in frame["_inv"]],
        "st": [status_pos.get(s, status_pos["unknown"]) for s in status],
        "ind": [ind_pos[s] for s in industry],
        "name": [_text(x) for x in frame["name"]],
        "id": [_text(x) for x in _column(frame, "project_id", "")],
        "park": [park_index(p, n) for p, n in zip(park_id, park_name, strict=True)],
        "near": [park_index(p, "") if p else -1 for p in near_id],
        "km": [_num(x, 1) if p == "" else None for x, p in zip(distance, park_id, strict=True)],
        "date": ["" if pd.isna(d) else d.strftime("%Y-%m-%d") for d in dates],
        "warn": [_text(x) for x in _column(frame, "warnings", "")],
        "orig": _original_coordinates(frame),
    }
    top = [s for s in industries if s][:9]
    ind_colors = [INDUSTRY_COLORS[top.index(s)] if s in top else OTHER_COLOR for s in industries]
    investments = frame["_inv"].to_numpy(dtype=float)
    finite = investments[np.isfinite(investments)]
    return {
        "columns": columns,
        "statuses": list(STATUSES),
        "statusColors": [STATUS_COLORS[s] for s in STATUSES],
        "industries": industries,
        "industryColors": ind_colors,
        "topIndustries": top,
        "hasOther": any(s not in top for s in industries),
        "parkNames": names,
        "colorBy": color_by,
        "invMax": float(finite.max()) if finite.size and finite.max() > 0 else None,
        "missing": int((~ok).sum()),
    }


#: Labels of the input coordinate systems shown beside converted positions.
SYSTEM_LABELS = {"cgcs2000": "CGCS2000", "gcj02": "GCJ-02", "bd09": "BD-09"}


def _original_coordinates(frame: pd.DataFrame) -> list[str]:
    """The coordinates as the file gave them, for rows not given in WGS-84 ("" otherwise)."""
    if not {"lon_orig", "lat_orig", "coord_sys"} <= set(frame.columns):
        return [""] * len(frame)
    return [
        f"{x:.6f}, {y:.6f} ({SYSTEM_LABELS[s]})" if s in SYSTEM_LABELS else ""
        for x, y, s in zip(frame["lon_orig"], frame["lat_orig"], frame["coord_sys"], strict=True)
    ]


def _coordinates(projects: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    geometry = getattr(projects, "geometry", None) if hasattr(projects, "crs") else None
    if geometry is not None:
        points = np.asarray(geometry.values)
        valid = ~(shapely.is_missing(points) | shapely.is_empty(points))
        lon = np.full(len(points), np.nan)
        lat = np.full(len(points), np.nan)
        lon[valid] = shapely.get_x(points[valid])
        lat[valid] = shapely.get_y(points[valid])
        return lon, lat
    _require(projects, ["lon", "lat"], "projects")
    return (
        pd.to_numeric(projects["lon"], errors="coerce").to_numpy(dtype=float),
        pd.to_numeric(projects["lat"], errors="coerce").to_numpy(dtype=float),
    )


def context_payload(context: pd.DataFrame, lang: str) -> dict[str, Any]:
    """Payload for ``parkmap.contextLayer``: district outlines and labelled points."""
    _require(context, ["kind"], "context")
    context = to_wgs84(context)
    districts, points = [], []
    for _, row in context.iterrows():
        geom = row.geometry
        if geom is None or geom.is_empty:
            continue
        label = _text(row.get("name_en")) if lang == "en" else ""
        label = label or _text(row.get("name_zh")) or _text(row.get("name"))
        kind = _text(row["kind"])
        if geom.geom_type in ("Polygon", "MultiPolygon"):
            anchor = geom.representative_point()
            districts.append(
                {
                    "type": "Feature",
                    "properties": {
                        "label": label,
                        "kind": kind,
                        "at": [round(anchor.y, DECIMALS), round(anchor.x, DECIMALS)],
                    },
                    "geometry": _geojson(geom.boundary),
                }
            )
        elif geom.geom_type == "Point":
            points.append(
                {
                    "kind": kind,
                    "label": label,
                    "lat": round(geom.y, DECIMALS),
                    "lon": round(geom.x, DECIMALS),
                }
            )
    return {"districts": {"type": "FeatureCollection", "features": districts}, "points": points}


def _hex_rgb(color: str) -> tuple[int, int, int]:
    return int(color[1:3], 16), int(color[3:5], 16), int(color[5:7], 16)


def density_rgba(values: np.ndarray) -> tuple[np.ndarray, float]:
    """Colour a density grid with :data:`DENSITY_RAMP`; return the RGBA array and the maximum.

    Colours depend on the value relative to the grid's maximum; cells below
    :data:`DENSITY_CUTOFF` of it, NaN cells and non-positive cells are fully transparent.
    """
    grid = np.asarray(values, dtype=float)
    if grid.ndim != 2:
        raise InputError("the density surface must be a 2-D grid")
    finite = np.isfinite(grid)
    vmax = float(grid[finite].max()) if finite.any() else 0.0
    rgba = np.zeros((*grid.shape, 4), dtype=np.uint8)
    if vmax <= 0:
        return rgba, vmax
    t = np.where(finite, np.clip(grid / vmax, 0.0, 1.0), 0.0)
    stops = np.array([s[0] for s in DENSITY_RAMP])
    channels = [[_hex_rgb(s[1])[c] for s in DENSITY_RAMP] for c in range(3)]
    channels.append([s[2] * 255 for s in DENSITY_RAMP])
    for c, series in enumerate(channels):
        rgba[..., c] = np.round(np.interp(t, stops, series)).astype(np.uint8)
    rgba[~finite | (t < DENSITY_CUTOFF), 3] = 0
    return rgba, vmax


def density_payload(density: Any) -> dict[str, Any]:
    """Payload for ``parkmap.densityLayer`` from any object shaped like ``DensitySurface``.

    It needs ``values`` (rows from north to south), ``bounds`` (((south, west), (north, east)))
    and ``unit``.
    """
    for attr in ("values", "bounds", "unit"):
        if not hasattr(density, attr):
            raise InputError(f"the density surface has no {attr!r} attribute")
    rgba, vmax = density_rgba(density.values)
    (south, west), (north, east) = density.bounds
    stops = [
        {"value": vmax * pos, "color": color, "opacity": alpha}
        for pos, color, alpha in DENSITY_RAMP
    ]
    return {
        "url": assets.data_uri(assets.png_bytes(rgba), "image/png"),
        "bounds": [[float(south), float(west)], [float(north), float(east)]],
        "unit": _text(density.unit),
        "max": vmax,
        "stops": stops,
        "bandwidthKm": _num(getattr(density, "bandwidth_km", None), 3),
    }

"""Turn parkmap's (Geo)DataFrames into the compact JSON payloads the map runtime draws.

Nothing here writes HTML: user strings travel as JSON values and the runtime escapes them
(``esc()``) when it builds a tooltip or popup.
"""

from __future__ import annotations

import base64
import gzip
import json
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

#: Projects in view above which the projects layer shows hexagon bins instead of points.
AGGREGATE_ABOVE = 20_000
#: Fixed class breaks (projects per bin) and colours of those bins; one more colour than breaks.
AGGREGATE_BREAKS: tuple[int, ...] = (10, 50, 200, 1000)
AGGREGATE_COLORS: tuple[str, ...] = ("#c6dbef", "#6baed6", "#3182bd", "#08519c", "#08306b")
#: gzip level of the packed project columns: 4 is ~2.5× faster than 6 for ~10 % more bytes.
PACK_LEVEL = 4
#: Fixed class breaks of the investment grid (亿元 per cell) and their colours (0 is unfilled).
HEX_BREAKS: tuple[float, ...] = (1.0, 5.0, 10.0, 50.0, 100.0)
HEX_COLORS: tuple[str, ...] = ("#edf8e9", "#c7e9c0", "#74c476", "#31a354", "#006d2c", "#00441b")


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
    industry = pd.Series(_texts(_column(frame, "industry", "")), index=frame.index).str.strip()
    industries = _industry_lookup(industry, frame["_inv"])
    ind_pos = {name: i for i, name in enumerate(industries)}
    status_pos = {s: i for i, s in enumerate(STATUSES)}
    status = pd.Series(_texts(frame["status"]), index=frame.index)
    dates = pd.to_datetime(_column(frame, "signed_date", None), errors="coerce")
    park_id = pd.Series(_texts(_column(frame, "park_id", "")), index=frame.index)
    park_name = pd.Series(_texts(_column(frame, "park_name", "")), index=frame.index)
    near_id = pd.Series(_texts(_column(frame, "nearest_park_id", "")), index=frame.index)
    distance = pd.to_numeric(_column(frame, "distance_km", None), errors="coerce")
    # park labels: the park's display name, else the project's park_name; then the nearest
    # park's name; one lookup list in order of first appearance
    inside = park_id.map(park_names).fillna("").astype(str)
    inside = inside.where(inside != "", park_name)
    near = near_id.map(park_names).fillna("").astype(str)
    labels = pd.concat([inside, near], ignore_index=True)
    codes, names = pd.factorize(labels.mask(labels == ""))
    n = len(frame)
    km = np.round(distance.to_numpy(dtype=float), 1)
    km_ok = np.isfinite(km) & (park_id.to_numpy() == "")

    columns = {
        "lon": np.round(frame["_lon"].to_numpy(dtype=float), DECIMALS).tolist(),
        "lat": np.round(frame["_lat"].to_numpy(dtype=float), DECIMALS).tolist(),
        "inv": _floats(frame["_inv"].to_numpy(dtype=float), 4),
        "st": status.map(status_pos).fillna(status_pos["unknown"]).astype(int).tolist(),
        "ind": industry.map(ind_pos).astype(int).tolist(),
        "name": _texts(frame["name"]),
        "id": _texts(_column(frame, "project_id", "")),
        "park": codes[:n].tolist(),
        "near": codes[n:].tolist(),
        "km": [float(v) if good else None for v, good in zip(km, km_ok, strict=True)],
        "day": _day_numbers(dates),
        "warn": _texts(_column(frame, "warnings", "")),
        "orig": _original_coordinates(frame),
    }
    names = [str(x) for x in names]
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


def _texts(values: pd.Series) -> list[str]:
    """Column as a list of str, "" for missing values (vectorised)."""
    array = np.asarray(values.astype(object).to_numpy(), dtype=object)
    missing = pd.isna(array)
    out = array.astype(str)
    out[missing] = ""
    return out.tolist()


def _floats(values: np.ndarray, digits: int) -> list[float | None]:
    """Rounded floats, ``None`` for NaN or infinite values."""
    rounded = np.round(values, digits)
    good = np.isfinite(rounded)
    return [float(v) if g else None for v, g in zip(rounded.tolist(), good, strict=True)]


def _day_numbers(dates: pd.Series) -> list[int]:
    """Days since 1970-01-01 (``-1`` for a missing date)."""
    values = pd.to_datetime(pd.Series(dates), errors="coerce")
    if getattr(values.dt, "tz", None) is not None:
        values = values.dt.tz_localize(None)
    days = (values - pd.Timestamp("1970-01-01")) // pd.Timedelta(days=1)
    return [int(d) for d in days.fillna(-1).astype(np.int64)]


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


def _sparse(values: list[str]) -> dict[str, str]:
    return {str(i): v for i, v in enumerate(values) if v}


def pack_projects(data: dict[str, Any]) -> dict[str, Any]:
    """The project payload as it goes into the page: column arrays packed and compressed.

    ``columns`` is replaced by ``n`` (number of projects), ``x0``/``y0`` (the smallest
    longitude / latitude in millionths of a degree) and ``packed``: base64 of the gzip of a
    JSON object with

    - ``x``, ``y``: integer offsets from ``x0``/``y0`` in millionths of a degree;
    - ``inv``: investment in units of 0.0001 亿元 (万元), ``-1`` when unknown;
    - ``st``, ``ind``: indexes into ``statuses`` / ``industries``;
    - ``park``, ``near``: index into ``parkNames`` or ``-1``;
    - ``day``: signing date as days since 1970-01-01, ``-1`` when unknown (left out when
      no project has a date);
    - ``name``, ``id``: text (``id`` left out when all empty);
    - ``km``, ``warn``, ``orig``: sparse ``{row: value}`` maps (``km`` in tenths of a km),
      each left out when empty.

    Nothing in the packed text reaches HTML as markup: the runtime unpacks it with the
    browser's ``DecompressionStream`` and escapes every string it shows.
    """
    c = data["columns"]
    lon = np.round(np.asarray(c["lon"], dtype=float) * 1e6).astype(np.int64)
    lat = np.round(np.asarray(c["lat"], dtype=float) * 1e6).astype(np.int64)
    x0 = int(lon.min()) if lon.size else 0
    y0 = int(lat.min()) if lat.size else 0
    inv = np.array([-1.0 if v is None else v for v in c["inv"]], dtype=float)
    inv_int = np.where(inv < 0, -1, np.round(inv * 1e4)).astype(np.int64)
    cols: dict[str, Any] = {
        "x": (lon - x0).tolist(),
        "y": (lat - y0).tolist(),
        "inv": inv_int.tolist(),
        "st": list(c["st"]),
        "ind": list(c["ind"]),
        "park": list(c["park"]),
        "near": list(c["near"]),
        "name": list(c["name"]),
    }
    days = list(c["day"])
    if any(d >= 0 for d in days):
        cols["day"] = days
    if any(c["id"]):
        cols["id"] = list(c["id"])
    km = {str(i): round(v * 10) for i, v in enumerate(c["km"]) if v is not None}
    for key, value in (("km", km), ("warn", _sparse(c["warn"])), ("orig", _sparse(c["orig"]))):
        if value:
            cols[key] = value
    text = json.dumps(cols, ensure_ascii=False, separators=(",", ":"))
    blob = gzip.compress(text.encode("utf-8"), compresslevel=PACK_LEVEL, mtime=0)
    meta = {k: v for k, v in data.items() if k != "columns"}
    return {
        **meta,
        "n": len(c["lon"]),
        "x0": x0,
        "y0": y0,
        "packed": base64.b64encode(blob).decode("ascii"),
        "aggregate": {
            "above": AGGREGATE_ABOVE,
            "radius": 16,
            "breaks": list(AGGREGATE_BREAKS),
            "colors": list(AGGREGATE_COLORS),
        },
    }


def unpack_projects(payload: dict[str, Any]) -> dict[str, Any]:
    """Inverse of :func:`pack_projects` for the column arrays (used by tests and tools).

    Returns the packed JSON object with ``lon``/``lat`` (degrees) and ``inv`` (亿元, ``None``
    when unknown) added.
    """
    cols = json.loads(gzip.decompress(base64.b64decode(payload["packed"])).decode("utf-8"))
    cols["lon"] = [(payload["x0"] + v) / 1e6 for v in cols["x"]]
    cols["lat"] = [(payload["y0"] + v) / 1e6 for v in cols["y"]]
    cols["inv"] = [None if v < 0 else v / 1e4 for v in cols["inv"]]
    return cols


def hexes_payload(hexes: pd.DataFrame) -> dict[str, Any]:
    """Payload for ``parkmap.hexLayer``: cell outlines, values and the fixed class of each.

    Cells are classed by investment with :data:`HEX_BREAKS` (亿元 per cell, the same on every
    map, so two maps compare); cells with no investment get class ``-1`` and no fill.
    """
    _require(hexes, ["count", "investment_100m_cny", "geometry"], "hexes")
    hexes = to_wgs84(hexes)
    features = []
    counts = [0] * (len(HEX_BREAKS) + 1)
    inv = pd.to_numeric(hexes["investment_100m_cny"], errors="coerce").fillna(0.0)
    dens = pd.to_numeric(_column(hexes, DENSITY_FIELD, None), errors="coerce")
    ids = _column(hexes, "cell_id", "").map(_text)
    for geom, n, value, rho, cell in zip(
        hexes.geometry, hexes["count"], inv, dens, ids, strict=True
    ):
        geometry = _geojson(geom)
        if geometry is None:
            continue
        cls = int(np.searchsorted(HEX_BREAKS, value, side="left")) if value > 0 else -1
        if cls >= 0:
            counts[cls] += 1
        features.append(
            {
                "type": "Feature",
                "properties": {
                    "id": cell,
                    "n": int(n),
                    "inv": _num(value),
                    "d": _num(rho),
                    "c": cls,
                },
                "geometry": geometry,
            }
        )
    return {
        "geojson": {"type": "FeatureCollection", "features": features},
        "breaks": list(HEX_BREAKS),
        "colors": list(HEX_COLORS),
        "counts": counts,
        "cellKm": _num(hexes.attrs.get("cell_km")),
    }


DENSITY_FIELD = "density_100m_cny_per_km2"


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

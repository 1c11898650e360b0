"""Turn parkmap's (Geo)DataFrames into the compact JSON payloads the map runtime draws.

Nothing here writes HTML: user strings travel as JSON values and the runtime escapes them
(``esc()``) when it builds a tooltip or popup.
"""

from __future__ import annotations

import base64
import gzip
import math
import re
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, cast

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import shapely
from shapely.geometry import mapping

from parkmap.classes import Classes
from parkmap.coords import known_point_coordinates
from parkmap.errors import InputError
from parkmap.i18n import park_name
from parkmap.json_text import is_arrow_text
from parkmap.settings import STATUSES, WGS84
from parkmap.style import (
    INDUSTRY_COLORS,
    NO_DATA_COLOR,
    NO_PROJECTS_COLOR,
    OTHER_COLOR,
    STATUS_COLORS,
)
from parkmap.webmap import assets, packing
from parkmap.webmap import payload_schema as schema

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

#: Projects in view above which the projects layer shows hexagon bins instead of points (below
#: :data:`POINTS_FROM_ZOOM`).
AGGREGATE_ABOVE = 20_000
#: Zoom from which every project in view is drawn as a point, however many (a park's width fills
#: the view about there), so that zooming in always ends at single projects.
POINTS_FROM_ZOOM = 13
#: Fixed class breaks (projects per bin) and colours of those bins; one more colour than breaks.
AGGREGATE_BREAKS: tuple[int, ...] = (10, 50, 200, 1000)
AGGREGATE_COLORS: tuple[str, ...] = ("#c6dbef", "#6baed6", "#3182bd", "#08519c", "#08306b")
#: gzip levels (libdeflate) of the packed blocks, at a million projects read from CSV. The
#: numbers (byte planes) gain little past level 2: 8.66 MB in 0.18 s, against 8.39 MB in
#: 0.50 s at level 6. The texts are compressed on a second thread while the numbers are made
#: and packed: 8.39 MB in 0.59 s at level 6. Level 5 (8.76 MB in 0.37 s) made the build
#: shorter but the page paint later (1.23 s against 1.17 s, median of 7 alternating loads):
#: the browser parses the texts' block while it paints. The million-project page is 23.1 MB
#: (zlib's level 5 took 2.0 s for 23.8 MB).
NUMBERS_PACK_LEVEL = 2
TEXTS_PACK_LEVEL = 6
#: Fixed class breaks of the investment grid (亿元 per cell) and their colours (0 is unfilled).
HEX_BREAKS: tuple[float, ...] = (1.0, 5.0, 10.0, 50.0, 100.0)
HEX_COLORS: tuple[str, ...] = ("#edf8e9", "#c7e9c0", "#74c476", "#31a354", "#006d2c", "#00441b")


def to_wgs84(frame: pd.DataFrame) -> pd.DataFrame:
    """Return a GeoDataFrame in WGS-84 (unchanged when it has no CRS or is WGS-84 already)."""
    crs = getattr(frame, "crs", None)
    if crs is not None and not crs.equals(WGS84):
        geo: Any = frame  # a GeoDataFrame (it has a CRS); geopandas ships no types
        return cast(pd.DataFrame, geo.to_crs(WGS84))
    return frame


def require_columns(frame: pd.DataFrame, columns: Sequence[str], what: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise InputError(f"{what} lacks column(s) {', '.join(missing)}")


def text_or_empty(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NaT:
        return ""
    return str(value)


def number_or_none(value: Any, digits: int = 4) -> float | None:
    try:
        x = float(value)
    except (TypeError, ValueError):
        return None
    return round(x, digits) if math.isfinite(x) else None


def _column(frame: pd.DataFrame, name: str, default: Any) -> pd.Series:
    if name in frame.columns:
        return frame[name]
    return pd.Series([default] * len(frame), index=frame.index, dtype=object)


def geometry_json(geom: Any) -> dict[str, Any] | None:
    if geom is None or geom.is_empty:
        return None
    rounded = shapely.transform(geom, lambda xy: np.round(xy, DECIMALS))
    return mapping(rounded)


def parks_payload(
    parks: pd.DataFrame,
    classes: Classes,
    breakdown: pd.DataFrame | None,
    lang: str,
    top_n: int = 5,
) -> dict[str, Any]:
    """Payload for ``parkmap.parksLayer``: a GeoJSON of outlines plus one record per park.

    ``classes`` carries what the page needs to class parks again when the filters change:
    the upper bounds (``bins``) and ``colors`` of the classes of all projects, and the
    fills of ``noData`` (class ``-1``) and ``noProjects`` (class ``-2``) parks. Each park's
    ``cls`` / ``color`` are those of all projects.
    """
    parks = to_wgs84(parks)
    top = _top_categories(breakdown, top_n)
    features, records = [], []
    for i, (_, row) in enumerate(parks.iterrows()):
        geometry = geometry_json(row.geometry)
        if geometry is not None:
            features.append({"type": "Feature", "properties": {"i": i}, "geometry": geometry})
        cls = int(classes.yb[i])
        records.append(
            {
                "id": text_or_empty(row["park_id"]),
                "name": park_name(row, lang),
                "projects": number_or_none(row.get("projects"), 0),
                "investment": number_or_none(row.get("investment_100m_cny")),
                "area": number_or_none(row.get("area_km2")),
                "density": number_or_none(row.get("density_100m_cny_per_km2")),
                "rank": number_or_none(row.get("rank"), 0),
                "cls": cls,
                "color": classes.color_of(cls, NO_DATA_COLOR, NO_PROJECTS_COLOR),
                "status": [
                    [
                        number_or_none(row.get(f"projects_{s}"), 0),
                        number_or_none(row.get(f"investment_{s}_100m_cny")),
                    ]
                    for s in STATUSES
                ],
                "top": top.get(text_or_empty(row["park_id"]), []),
            }
        )
    return {
        "geojson": {"type": "FeatureCollection", "features": features},
        "parks": records,
        "statuses": list(STATUSES),
        "classes": {
            "bins": [float(b) for b in classes.bins],
            "colors": list(classes.colors),
            "noData": NO_DATA_COLOR,
            "noProjects": NO_PROJECTS_COLOR,
        },
    }


def _top_categories(breakdown: pd.DataFrame | None, top_n: int) -> dict[str, list[list[Any]]]:
    if breakdown is None or len(breakdown) == 0:
        return {}
    require_columns(
        breakdown, ["park_id", "category", "projects", "investment_100m_cny"], "breakdown"
    )
    frame = breakdown.assign(
        sort_inv=pd.to_numeric(breakdown["investment_100m_cny"], errors="coerce").fillna(0.0),
        sort_n=pd.to_numeric(breakdown["projects"], errors="coerce").fillna(0),
    ).sort_values(
        ["park_id", "sort_inv", "sort_n", "category"], ascending=[True, False, False, True]
    )
    out: dict[str, list[list[Any]]] = {}
    for park_id, group in frame.groupby("park_id", sort=False):
        out[str(park_id)] = [
            [
                text_or_empty(r.category),
                int(cast(float, r.sort_n)),  # numeric: filled with 0 above
                number_or_none(r.investment_100m_cny),
            ]
            for r in group.head(top_n).itertuples()
        ]
    return out


def _texts(values: pd.Series) -> list[str]:
    """Column as a list of str, "" for missing values (vectorised)."""
    array = np.asarray(values.astype(object).to_numpy(), dtype=object)
    missing = pd.isna(array)
    out = array.astype(str)
    out[missing] = ""
    return out.tolist()


def _text_codes(frame: pd.DataFrame, name: str) -> tuple[np.ndarray, list[str]]:
    """Column ``name`` as codes into a table of its texts (``str(value)``, "" when missing).

    Meant for columns with few distinct values; a missing column is all "".
    """
    if name not in frame.columns:
        return np.zeros(len(frame), dtype=np.intp), [""]
    codes, uniques = pd.factorize(frame[name])
    table = list(uniques)
    if not all(isinstance(t, str) for t in table):
        # factorize takes 1, 1.0 and True for one value: turn everything into text first
        codes, text_uniques = pd.factorize(np.asarray(_texts(frame[name]), dtype=object))
        table = list(text_uniques)
    return np.where(codes < 0, len(table), codes), [*table, ""]


def _text_column(frame: pd.DataFrame, name: str, rows: np.ndarray) -> pa.LargeStringArray:
    """Column ``name`` at positions ``rows`` as Arrow strings ("" when missing)."""
    if name in frame.columns and is_arrow_text(frame[name].dtype):
        return packing.texts(pa.array(frame[name].array).take(pa.array(rows)))
    codes, table = _text_codes(frame, name)
    return packing.texts(pa.array(table, pa.large_string()).take(pa.array(codes[rows])))


def _numbers(frame: pd.DataFrame, name: str) -> np.ndarray:
    """Column ``name`` as floats (NaN where not a number or when the column is missing)."""
    if name not in frame.columns:
        return np.full(len(frame), np.nan)
    values = pd.to_numeric(frame[name], errors="coerce")
    return np.asarray(values.to_numpy(dtype=float, na_value=np.nan), dtype=float)


def largest_first(values: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """``rows`` by ``values`` from largest to smallest, NaN last, ties in their given order."""
    subset = values[rows]
    known = ~np.isnan(subset)
    ranked = rows[known][_descending_stable(subset[known])]
    return np.concatenate([ranked, rows[~known]])


def _descending_stable(values: np.ndarray) -> np.ndarray:
    """The order of ``values`` (no NaN) from largest to smallest, equal values in their
    given order: what ``np.argsort(-values, kind="stable")`` gives.

    NumPy's stable sort of floats is a merge sort, 0.16 s for a million amounts; its default
    sort (SIMD quicksort) takes 0.04 s but leaves equal values in any order. So the quicksort
    runs first, then positions within each run of equal values are put in order by one more
    sort, of integers that are all different (run number and position together): 0.08 s.
    """
    order = np.argsort(-values)
    ordered = values[order]
    new_run = ordered[1:] != ordered[:-1]
    if new_run.all():  # no two equal (or fewer than two): the order is the only one
        return order
    n = len(order)
    run = np.zeros(n, dtype=np.int64)
    np.cumsum(new_run, out=run[1:])
    key = run * n + order  # below n² ≤ 2**63 for any array that fits in memory
    key.sort()
    return key % n


def _industries(
    codes: np.ndarray, table: list[str], investment: np.ndarray
) -> tuple[np.ndarray, list[str]]:
    """Index of each project's industry (stripped) in the list of industries.

    The list is ordered by project count, then investment, then name (empty name last).
    """
    names = pd.Series(table, dtype="str").str.strip().tolist()
    merged = {name: i for i, name in enumerate(dict.fromkeys(names))}
    distinct = list(merged)
    rows = np.array([merged[name] for name in names], dtype=np.intp)[codes]
    inv = pd.Series(np.where(np.isnan(investment), 0.0, investment)).groupby(rows).sum()
    present = inv.index.to_numpy()
    stats = pd.DataFrame(
        {
            "industry": [distinct[i] for i in present],
            "n": np.bincount(rows, minlength=len(distinct))[present],
            "inv": inv.to_numpy(),
            "code": present,
        }
    )
    stats["blank"] = stats["industry"] == ""
    stats = stats.sort_values(
        ["blank", "n", "inv", "industry"], ascending=[True, False, False, True]
    )
    position = np.zeros(len(distinct), dtype=np.intp)
    position[stats["code"].to_numpy()] = np.arange(len(stats))
    return position[rows], stats["industry"].tolist()


def _park_labels(
    frame: pd.DataFrame,
    rows: np.ndarray,
    park_ids: tuple[np.ndarray, list[str]],
    parks: dict[str, tuple[int, str]],
) -> tuple[np.ndarray, np.ndarray, list[str], list[int]]:
    """Indexes of each project's park label and nearest park's label into one list of names.

    ``park_ids`` is the ``park_id`` column as :func:`_text_codes` gives it; ``parks`` maps a
    park id to its position in the parks layer and its display name. The park label is the
    park's display name, else the project's ``park_name``; the list holds the labels in order
    of first appearance (parks first, then nearest parks); ``-1`` stands for no label.

    A park's label is kept apart from a ``park_name`` of the same text (and from another park
    of the same name), so that the last list returned, the park position of each label
    (``-1`` for a ``park_name`` label), tells the page which park a project lies in.
    """
    ids: dict[tuple[str, str], int] = {}

    def label_ids(keys: list[tuple[str, str] | None]) -> np.ndarray:
        return np.array(
            [ids.setdefault(k, len(ids)) if k is not None else -1 for k in keys], dtype=np.intp
        )

    def park_keys(table: list[str]) -> list[tuple[str, str] | None]:
        return [("park", t) if t in parks and parks[t][1] else None for t in table]

    park_codes, park_table = park_ids
    name_codes, name_table = _text_codes(frame, "park_name")
    near_codes, near_table = _text_codes(frame, "nearest_park_id")
    inside = label_ids(park_keys(park_table))[park_codes[rows]]
    own = label_ids([("name", t) if t else None for t in name_table])[name_codes[rows]]
    inside = np.where(inside >= 0, inside, own)
    near = label_ids(park_keys(near_table))[near_codes[rows]]
    labels = np.concatenate([inside, near])
    codes = np.full(len(labels), -1, dtype=np.intp)
    known = labels >= 0
    first, uniques = pd.factorize(labels[known])
    codes[known] = first
    by_id = list(ids)
    n = len(rows)
    keys = [by_id[i] for i in uniques]
    names = [parks[k][1] if kind == "park" else k for kind, k in keys]
    position = [parks[k][0] if kind == "park" else -1 for kind, k in keys]
    return codes[:n], codes[n:], names, position


def projects_payload(
    projects: pd.DataFrame, parks: pd.DataFrame, lang: str, color_by: str
) -> dict[str, Any]:
    """Payload for ``parkmap.projectsLayer``: column arrays plus the lookup lists they index.

    Projects without usable coordinates are left out and counted in ``missing``. Rows are
    sorted by investment, largest first, so small markers are drawn on top of big ones.
    In ``columns``, numbers are NumPy arrays (``inv`` and ``km`` NaN when unknown / not
    shown, ``day`` ``-1`` when unknown) and texts are pandas Arrow string arrays ("" when
    empty); :func:`pack_projects` turns them into what the page gets. ``parkOfLabel`` gives,
    per entry of ``parkNames``, the position of that park in ``parks`` (``-1`` when the label is
    a project's own ``park_name``): with the ``park`` column, the park each project lies in.
    """
    require_columns(projects, ["name", "status", "investment_100m_cny"], "projects")
    projects = to_wgs84(projects)
    lon, lat = _coordinates(projects)
    ok = np.isfinite(lon) & np.isfinite(lat)
    investment = _numbers(projects, "investment_100m_cny")
    rows = largest_first(investment, np.flatnonzero(ok))
    inv = investment[rows]

    park_names: dict[str, tuple[int, str]] = {}
    for i, (_, r) in enumerate(parks.iterrows()):
        park_names.setdefault(text_or_empty(r["park_id"]), (i, park_name(r, lang)))
    codes, table = _text_codes(projects, "industry")
    ind, industries = _industries(codes[rows], table, inv)
    status_pos = {s: i for i, s in enumerate(STATUSES)}
    codes, table = _text_codes(projects, "status")
    st = np.array([status_pos.get(t, status_pos["unknown"]) for t in table])[codes[rows]]
    park_ids = _text_codes(projects, "park_id")
    park, near, names, park_of_label = _park_labels(projects, rows, park_ids, park_names)
    outside = np.array([t == "" for t in park_ids[1]])[park_ids[0][rows]]
    km = np.round(_numbers(projects, "distance_km")[rows], 1)
    km[~(np.isfinite(km) & outside)] = np.nan
    # A project counted in its declared park from outside it: how far outside that park.
    declared_km = np.round(_numbers(projects, "declared_km")[rows], 1)
    km = np.where(outside, km, declared_km)

    rounded_inv = np.round(inv, 4)
    rounded_inv[~np.isfinite(rounded_inv)] = np.nan
    columns = {
        "lon": np.round(lon[rows], DECIMALS),
        "lat": np.round(lat[rows], DECIMALS),
        "inv": rounded_inv,
        "st": st,
        "ind": ind,
        "name": _arrow_texts(_text_column(projects, "name", rows)),
        "id": _arrow_texts(_text_column(projects, "project_id", rows)),
        "park": park,
        "near": near,
        "km": km,
        "day": _day_numbers(projects["signed_date"])[rows]
        if "signed_date" in projects.columns
        else np.full(len(rows), -1, dtype=np.int64),
        "warn": _arrow_texts(_text_column(projects, "warnings", rows)),
    }
    orig_lon, orig_lat, orig_sys, systems = _original_coordinates(projects, rows)
    if systems:  # only files with rows in another coordinate system carry these
        columns.update(origLon=orig_lon, origLat=orig_lat, origSys=orig_sys)
    top = [s for s in industries if s][:9]
    ind_colors = [INDUSTRY_COLORS[top.index(s)] if s in top else OTHER_COLOR for s in industries]
    finite = inv[np.isfinite(inv)]
    return {
        "columns": columns,
        "statuses": list(STATUSES),
        "statusColors": [STATUS_COLORS[s] for s in STATUSES],
        "industries": industries,
        "industryColors": ind_colors,
        "topIndustries": top,
        "hasOther": any(s not in top for s in industries),
        "parkNames": names,
        "parkOfLabel": park_of_label,
        "colorBy": color_by,
        "invMax": float(finite.max()) if finite.size and finite.max() > 0 else None,
        "missing": int((~ok).sum()),
        "origSystems": systems,
    }


def _arrow_texts(values: pa.Array) -> pd.api.extensions.ExtensionArray:
    """Arrow strings as a pandas array (no copy): items are ``str``, usable as an indexer."""
    return pd.arrays.ArrowExtensionArray(values)


def _day_numbers(dates: pd.Series) -> np.ndarray:
    """Days since 1970-01-01, rounded down (``-1`` for a missing date); a time zone's dates
    are its local ones."""
    values = pd.to_datetime(pd.Series(dates), errors="coerce")
    if getattr(values.dt, "tz", None) is not None:
        values = values.dt.tz_localize(None)
    # NumPy's cast to whole days rounds down, before 1970 too: the floor division pandas
    # would do, without its float detour (a million dates: 10 ms against 20–35 ms).
    stamps = values.to_numpy()  # datetime64 of the column's unit, NaT where missing
    days = stamps.astype("datetime64[D]").astype(np.int64)
    days[np.isnat(stamps)] = -1
    return days


#: Labels of the input coordinate systems shown beside converted positions.
SYSTEM_LABELS = {"cgcs2000": "CGCS2000", "gcj02": "GCJ-02", "bd09": "BD-09"}


def _original_coordinates(
    frame: pd.DataFrame, rows: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str]]:
    """Coordinates as the file gave them, for rows not given in WGS-84.

    Returns
    -------
    lon, lat, system, labels
        Original lon/lat (NaN for WGS-84 rows), the index of each row's system in
        ``labels`` (``-1`` for WGS-84 rows) and the labels (:data:`SYSTEM_LABELS`); all
        empty when no row was converted.
    """
    empty = np.array([], dtype=float)
    if not {"lon_orig", "lat_orig", "coord_sys"} <= set(frame.columns) or not len(rows):
        return empty, empty, np.array([], dtype=np.int64), []
    codes, systems = pd.factorize(frame["coord_sys"].iloc[rows])
    labels = [SYSTEM_LABELS.get(s, "") if isinstance(s, str) else "" for s in systems]
    shown = [label for label in labels if label]
    if not shown:
        return empty, empty, np.array([], dtype=np.int64), []
    position = np.array([shown.index(x) if x else -1 for x in labels] + [-1], dtype=np.int64)
    system = position[codes]  # code -1 (missing) picks the trailing -1
    lon = _numbers(frame, "lon_orig")[rows]
    lat = _numbers(frame, "lat_orig")[rows]
    lon[system < 0] = np.nan
    lat[system < 0] = np.nan
    return lon, lat, system, shown


def original_coordinate_texts(columns: dict[str, Any], systems: list[str]) -> list[str]:
    """The popup's "coordinates as given" line per row ("" for WGS-84 rows), as the page
    writes it: ``"120.123456, 36.500000 (GCJ-02)"``."""
    if "origSys" not in columns:
        return [""] * len(columns["lon"])
    digits = schema.COORD_DECIMALS
    return [
        f"{x:.{digits}f}, {y:.{digits}f} ({systems[s]})" if s >= 0 else ""
        for x, y, s in zip(
            np.asarray(columns["origLon"], dtype=float).tolist(),
            np.asarray(columns["origLat"], dtype=float).tolist(),
            np.asarray(columns["origSys"]).tolist(),
            strict=True,
        )
    ]


def _coordinates(projects: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    geometry = getattr(projects, "geometry", None) if hasattr(projects, "crs") else None
    if geometry is not None:
        points = np.asarray(geometry.values)
        known = known_point_coordinates(points)
        if known is not None:
            return known
        valid = ~(shapely.is_missing(points) | shapely.is_empty(points))
        lon = np.full(len(points), np.nan)
        lat = np.full(len(points), np.nan)
        lon[valid] = shapely.get_x(points[valid])
        lat[valid] = shapely.get_y(points[valid])
        return lon, lat
    require_columns(projects, ["lon", "lat"], "projects")
    return (
        pd.to_numeric(projects["lon"], errors="coerce").to_numpy(dtype=float),
        pd.to_numeric(projects["lat"], errors="coerce").to_numpy(dtype=float),
    )


def _nonempty(strings: pa.Array) -> np.ndarray:
    """Positions of the non-empty strings."""
    return np.flatnonzero(pc.binary_length(strings).to_numpy(zero_copy_only=False) > 0)


def pack_projects(data: dict[str, Any]) -> dict[str, Any]:
    """The project payload as it goes into the page: column arrays packed and compressed.

    ``columns`` (as :func:`projects_payload` makes them, or plain lists with ``None`` for
    unknown ``inv`` / ``km``) is replaced by ``n`` (number of projects), ``x0``/``y0`` (the
    smallest longitude / latitude in millionths of a degree), ``layout`` and ``packed``: base64
    of the gzip of the binary sections of numbers, and ``textLayout`` / ``textPacked`` likewise
    for the texts; keys, types and scales are
    :mod:`parkmap.webmap.payload_schema` (``x``/``y`` offsets in millionths of a degree, ``inv``
    in 0.0001 亿元 as differences, ``st``/``ind``/``park``/``near`` indexes, ``day``, ``km``,
    texts ``name``/``id``/``warn``, and ``osys``/``ox``/``oy`` for files with rows in another
    coordinate system). Optional columns are left out when they would hold nothing.

    Nothing in the packed block reaches HTML as markup: the runtime unpacks it with the
    browser's ``DecompressionStream`` and escapes every string it shows.
    """
    c = data["columns"]
    # Numbers and texts in two blocks: the page paints from the first while it unpacks the
    # second (names, ids and warnings are most of the bytes and needed only for reading).
    # The texts take longer to compress, so their block is made first and compressed on a
    # second thread (libdeflate leaves the GIL) while this one makes and packs the numbers.
    texts: list[tuple[str, str, bytes, bool]] = []

    def text(field: schema.Field, values: Any) -> None:
        lengths, blob = packing.text_bytes(values)
        kind, sizes, _ = packing.int_section(lengths)
        texts.append((field.key + schema.LENGTHS_SUFFIX, kind, sizes, False))
        texts.append((field.key, "utf8", blob, False))

    text(schema.NAME, c["name"])
    ids = packing.texts(c["id"])
    if len(_nonempty(ids)):
        text(schema.ID, ids)
    warnings = packing.texts(c["warn"])
    if len(_nonempty(warnings)):
        text(schema.WARN, warnings)
    text_layout, text_blob = packing.sections_blob(texts)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="parkmap-pack") as pool:
        packed_texts = pool.submit(_gzip_base64, text_blob, TEXTS_PACK_LEVEL)
        x0, y0, layout, blob = _number_sections(c)
        packed_numbers = _gzip_base64(blob, NUMBERS_PACK_LEVEL)
        packed_texts_b64 = packed_texts.result()
    meta = {k: v for k, v in data.items() if k != "columns"}
    return {
        **meta,
        schema.COUNT_KEY: len(c["lon"]),
        schema.LON_ORIGIN: x0,
        schema.LAT_ORIGIN: y0,
        schema.LAYOUT_KEY: layout,
        schema.PACKED_KEY: packed_numbers,
        schema.TEXT_LAYOUT_KEY: text_layout,
        schema.TEXT_PACKED_KEY: packed_texts_b64,
        "aggregate": {
            "above": AGGREGATE_ABOVE,
            "radius": 16,
            "pointsFrom": POINTS_FROM_ZOOM,
            "breaks": list(AGGREGATE_BREAKS),
            "colors": list(AGGREGATE_COLORS),
        },
    }


def _number_sections(c: dict[str, Any]) -> tuple[int, int, list[list[Any]], bytes]:
    """The numbers block of :func:`pack_projects`: the smallest longitude and latitude (in
    millionths of a degree), the block's layout and its bytes."""
    lon = np.round(np.asarray(c["lon"], dtype=float) * schema.LON.scale).astype(np.int64)
    lat = np.round(np.asarray(c["lat"], dtype=float) * schema.LAT.scale).astype(np.int64)
    x0 = int(lon.min()) if lon.size else 0
    y0 = int(lat.min()) if lat.size else 0
    inv = np.asarray(c["inv"], dtype=float)  # None becomes NaN
    stored_inv = np.where(inv >= 0, np.round(inv * schema.INV.scale), schema.MISSING)
    sections: list[tuple[str, str, bytes, bool]] = []

    def ints(field: schema.Field, values: Any, delta: bool = False) -> None:
        kind, blob, delta = packing.int_section(values, delta=delta)
        sections.append((field.key, kind, blob, delta))

    ints(schema.LON, lon - x0)
    ints(schema.LAT, lat - y0)
    # rows come largest first, so differences are small and pack well
    ints(schema.INV, stored_inv, delta=True)
    ints(schema.ST, c["st"])
    ints(schema.IND, c["ind"])
    ints(schema.PARK, c["park"])
    ints(schema.NEAR, c["near"])
    days = np.asarray(c["day"], dtype=np.int64)
    if (days >= 0).any():
        ints(schema.DAY, days)
    km = np.asarray(c["km"], dtype=float)
    if np.isfinite(km).any():
        ints(schema.KM, np.where(np.isfinite(km), np.round(km * schema.KM.scale), schema.MISSING))
    if "origSys" in c:
        # As offsets from the drawn position in millionths of a degree: a GCJ-02 or BD-09
        # shift is a few thousand, so a converted file adds little to the page.
        system = np.asarray(c["origSys"], dtype=np.int64)
        shown = system >= 0
        ox = np.round(np.asarray(c["origLon"], dtype=float) * schema.ORIG_LON.scale) - lon
        oy = np.round(np.asarray(c["origLat"], dtype=float) * schema.ORIG_LAT.scale) - lat
        ints(schema.ORIG_SYS, system)
        ints(schema.ORIG_LON, np.where(shown, ox, 0))
        ints(schema.ORIG_LAT, np.where(shown, oy, 0))
    layout, blob = packing.sections_blob(sections)
    return x0, y0, layout, blob


#: Key of a packed block's reference to the page's data block holding it (see page_blocks).
BLOCK_KEY = "block"
#: Key of the number of data blocks a packed block is cut into (left out when one).
PARTS_KEY = "parts"
#: Base64 characters per data block of the numbers (a multiple of 4, so that every part decodes
#: on its own): the decoding worker inflates each part while the page parses the next.
PART_CHARS = 1 << 20


def _part_ids(block_id: str, parts: int) -> list[str]:
    """Ids of the data blocks of a packed block cut in ``parts``: the first is ``block_id``."""
    return [block_id] + [f"{block_id}_{k}" for k in range(1, parts)]


def page_blocks(payload: dict[str, Any], name: str) -> tuple[dict[str, Any], list[str], list[str]]:
    """A packed project payload's blocks moved out of the page script into data blocks.

    Returns the payload with ``packed`` / ``textPacked`` replaced by ``{"block": <id>}``, and
    the HTML for the page body: each block as ``<script type="application/octet-stream"
    id=<id>>`` (the HTML parser passes over it, the JavaScript parser never sees it), numbers
    first, each followed by a one-line script that starts unpacking it
    (``parkmap.decodeBlock``; one more before them starts the decoding worker), so that the
    page decodes while it parses the rest. The numbers are cut into data blocks of
    :data:`PART_CHARS` characters (``{"block": <id>, "parts": k}``; the ids of parts after the
    first end in ``_1``, ``_2`` …), each followed by that script, which hands the worker every
    part parsed so far: it inflates them while the page parses the next. ``name``
    (letters, digits, ``_``) makes the ids unique in the page.

    The texts come back apart, as the third item: HTML for the end of the page, after the page
    script. The first paint needs no name, and the browser would otherwise parse the texts
    (about half of a million-project page) before it runs the script that draws the map.
    """
    page = dict(payload)
    html = ["<script>parkmap.decodeBlock({});</script>"]  # the worker starts while blocks load
    late: list[str] = []
    blocks = (
        (
            schema.PACKED_KEY,
            f"{name}_numbers",
            (schema.COUNT_KEY, schema.LON_ORIGIN, schema.LAT_ORIGIN, schema.LAYOUT_KEY),
            PART_CHARS,
        ),
        (schema.TEXT_PACKED_KEY, f"{name}_texts", (schema.TEXT_LAYOUT_KEY,), 0),
    )
    for key, block_id, meta, part_chars in blocks:
        text = payload[key]
        if not isinstance(text, str) or not text.isascii() or "<" in text:
            raise ValueError(f"{key} is not base64 text")
        cuts = list(range(0, len(text), part_chars)) if part_chars else [0]
        ref: dict[str, Any] = {BLOCK_KEY: block_id}
        if len(cuts) > 1:
            ref[PARTS_KEY] = len(cuts)
        page[key] = ref
        start = assets.dumps_js({k: payload[k] for k in meta} | {key: ref})
        ends = [*cuts[1:], len(text)]
        into = html if part_chars else late
        for part_id, at, end in zip(_part_ids(block_id, len(cuts)), cuts, ends, strict=True):
            into.append(
                f'<script type="application/octet-stream" id="{part_id}">{text[at:end]}</script>'
            )
            into.append(f"<script>parkmap.decodeBlock({start});</script>")
    return page, html, late


def inline_blocks(payload: dict[str, Any], page: str) -> dict[str, Any]:
    """Inverse of :func:`page_blocks` for a payload read back from the page's HTML text."""
    out = dict(payload)
    for key in (schema.PACKED_KEY, schema.TEXT_PACKED_KEY):
        ref = out.get(key)
        if isinstance(ref, dict):
            texts = []
            for part_id in _part_ids(ref[BLOCK_KEY], ref.get(PARTS_KEY, 1)):
                tag = f'<script type="application/octet-stream" id="{re.escape(part_id)}">'
                match = re.search(rf"{tag}([^<]*)<", page)
                if match is None:
                    raise ValueError(f"no data block {part_id}")
                texts.append(match.group(1))
            out[key] = "".join(texts)
    return out


def _gzip_base64(blob: bytes, level: int) -> str:
    return base64.b64encode(packing.gzip_bytes(blob, level)).decode("ascii")


def unpack_raw(payload: dict[str, Any]) -> dict[str, Any]:
    """The packed sections of a payload as stored: integer columns as NumPy int64 (float64
    for ``f64`` sections) arrays, text columns as lists of ``str``; optional columns the
    packer left out are absent."""
    out: dict[str, Any] = {}
    for layout, packed in (
        (schema.LAYOUT_KEY, schema.PACKED_KEY),
        (schema.TEXT_LAYOUT_KEY, schema.TEXT_PACKED_KEY),
    ):
        blob = gzip.decompress(base64.b64decode(payload[packed]))
        out.update(packing.read_sections(payload[layout], blob))
    return out


def unpack_projects(payload: dict[str, Any]) -> dict[str, Any]:
    """Inverse of :func:`pack_projects` for the column arrays (used by tests and tools).

    Returns the sections (:func:`unpack_raw`) as lists, the optional ones filled in (``id`` and
    ``warn`` "", ``day`` and ``km`` MISSING), with ``lon``/``lat`` (degrees), ``inv`` (亿元,
    ``None`` when unknown) and, for converted files, ``orig`` (the popup's original-coordinate
    texts) added.
    """
    cols: dict[str, Any] = {
        k: v.tolist() if isinstance(v, np.ndarray) else v for k, v in unpack_raw(payload).items()
    }
    n = payload[schema.COUNT_KEY]
    cols.setdefault(schema.ID.key, [""] * n)
    cols.setdefault(schema.WARN.key, [""] * n)
    cols.setdefault(schema.DAY.key, [schema.MISSING] * n)
    cols.setdefault(schema.KM.key, [schema.MISSING] * n)
    x0, y0 = payload[schema.LON_ORIGIN], payload[schema.LAT_ORIGIN]
    x, y = cols[schema.LON.key], cols[schema.LAT.key]
    cols["lon"] = [(x0 + v) / schema.LON.scale for v in x]
    cols["lat"] = [(y0 + v) / schema.LAT.scale for v in y]
    cols["inv"] = [None if v < 0 else v / schema.INV.scale for v in cols[schema.INV.key]]
    if schema.ORIG_SYS.key in cols:
        ox = x0 + np.asarray(x) + np.asarray(cols[schema.ORIG_LON.key])
        oy = y0 + np.asarray(y) + np.asarray(cols[schema.ORIG_LAT.key])
        given = {
            "origSys": cols[schema.ORIG_SYS.key],
            "origLon": ox / schema.ORIG_LON.scale,
            "origLat": oy / schema.ORIG_LAT.scale,
            "lon": ox,
        }
        cols["orig"] = original_coordinate_texts(given, payload["origSystems"])
    return cols


def hexes_payload(hexes: pd.DataFrame) -> dict[str, Any]:
    """Payload for ``parkmap.hexLayer``: cell outlines, values and the fixed class of each.

    Cells are classed by investment with :data:`HEX_BREAKS` (亿元 per cell, the same on every
    map, so two maps compare); cells with no investment get class ``-1`` and no fill.

    Hexagons (polygons of six vertices) travel as integers in ``shape`` (see
    :func:`hex_shapes`) and their GeoJSON ``geometry`` is ``null`` until the runtime fills it
    in; any other outline is sent as GeoJSON. That keeps a grid of thousands of cells to about
    a third of its GeoJSON size.
    """
    require_columns(hexes, ["count", "investment_100m_cny", "geometry"], "hexes")
    hexes = to_wgs84(hexes)
    features = []
    counts = [0] * (len(HEX_BREAKS) + 1)
    inv = pd.to_numeric(hexes["investment_100m_cny"], errors="coerce").fillna(0.0)
    dens = pd.to_numeric(_column(hexes, DENSITY_FIELD, None), errors="coerce")
    ids = _column(hexes, "cell_id", "").map(text_or_empty)
    shape, packed = hex_shapes(hexes.geometry)
    for geom, n, value, rho, cell, is_packed in zip(
        hexes.geometry, hexes["count"], inv, dens, ids, packed, strict=True
    ):
        geometry = None if is_packed else geometry_json(geom)
        if geometry is None and not is_packed:
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
                    "inv": number_or_none(value),
                    "d": number_or_none(rho),
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
        "cellKm": number_or_none(hexes.attrs.get("cell_km")),
        "shape": shape,
    }


def hex_shapes(geometries: Any) -> tuple[dict[str, Any], np.ndarray]:
    """Six-vertex polygons as integers: centre, a shared template and small corrections.

    Every vertex is rounded to :data:`DECIMALS` places as an integer ``round(degrees · scale)``
    and written as ``x0 + c[2k] + t[2j] + v[12k + 2j]`` (longitude; latitude likewise with the
    odd entries): ``c`` the cell's rounded centre, ``t`` the median offset of vertex ``j`` over
    all cells, ``v`` the cell's own difference from it (a few units, as the projection bends
    the cells only slightly). The sums give back exactly the rounded vertices GeoJSON would hold.

    Returns
    -------
    tuple
        The ``shape`` payload (``scale``, ``x0``, ``y0``, ``t``, ``c``, ``v``), and a mask of the
        geometries it holds, in order (polygons without holes whose ring has six vertices).
    """
    geoms = np.asarray(geometries, dtype=object)
    mask = np.zeros(geoms.size, dtype=bool)
    if geoms.size:
        present = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
        index = np.flatnonzero(present)
        polygon = shapely.get_type_id(geoms[index]) == shapely.GeometryType.POLYGON
        index = index[polygon]
        simple = (shapely.get_num_interior_rings(geoms[index]) == 0) & (
            shapely.get_num_coordinates(geoms[index]) == 7
        )
        mask[index[simple]] = True
    scale = 10**DECIMALS
    rings = shapely.get_exterior_ring(geoms[mask])
    coords = shapely.get_coordinates(rings).reshape(-1, 7, 2)[:, :6, :]
    ints = np.rint(coords * scale).astype(np.int64)
    centre = np.rint(ints.mean(axis=1)).astype(np.int64) if len(ints) else np.zeros((0, 2), int)
    offsets = ints - centre[:, None, :]
    template = (
        np.rint(np.median(offsets, axis=0)).astype(np.int64)
        if len(ints)
        else np.zeros((6, 2), dtype=np.int64)
    )
    origin = centre.min(axis=0) if len(ints) else np.zeros(2, dtype=np.int64)
    shape = {
        "scale": scale,
        "x0": int(origin[0]),
        "y0": int(origin[1]),
        "t": template.ravel().tolist(),
        "c": (centre - origin).ravel().tolist(),
        "v": (offsets - template).ravel().tolist(),
    }
    return shape, mask


DENSITY_FIELD = "density_100m_cny_per_km2"


def context_payload(context: pd.DataFrame, lang: str) -> dict[str, Any]:
    """Payload for ``parkmap.contextLayer``: district outlines and labelled points."""
    require_columns(context, ["kind"], "context")
    context = to_wgs84(context)
    districts, points = [], []
    for _, row in context.iterrows():
        geom = row.geometry
        if geom is None or geom.is_empty:
            continue
        label = park_name(row, lang)
        kind = text_or_empty(row["kind"])
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
                    "geometry": geometry_json(geom.boundary),
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
    channels: list[list[float]] = [[_hex_rgb(s[1])[c] for s in DENSITY_RAMP] for c in range(3)]
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
    from parkmap.density import tick_labels

    rgba, vmax = density_rgba(density.values)
    (south, west), (north, east) = density.bounds
    # Ticks in significant figures (0.0025, not 0.00), never two alike for different values.
    labels = tick_labels([vmax * pos for pos, _, _ in DENSITY_RAMP])
    stops = [
        {"value": vmax * pos, "color": color, "opacity": alpha, "label": label}
        for (pos, color, alpha), label in zip(DENSITY_RAMP, labels, strict=True)
    ]
    return {
        "url": assets.data_uri(assets.png_bytes(rgba), "image/png"),
        "bounds": [[float(south), float(west)], [float(north), float(east)]],
        "unit": text_or_empty(density.unit),
        "max": vmax,
        "stops": stops,
        "bandwidthKm": number_or_none(getattr(density, "bandwidth_km", None), 3),
    }

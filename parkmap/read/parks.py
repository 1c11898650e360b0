"""Park layers (GeoJSON, Shapefile, GeoPackage, KML) as WGS-84 polygons, and context layers."""

from __future__ import annotations

import codecs
import json
import os
from collections.abc import Sequence
from importlib import resources
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from parkmap import cell_values
from parkmap.coords import SYSTEM_NAMES, convert_to_wgs84, normalise_coord_system
from parkmap.errors import InputError, UsageError
from parkmap.read.tables import existing_path
from parkmap.schema import PARK_ID_FIELDS, PARK_NAME_FIELDS
from parkmap.settings import WGS84


def bundled_path(name: str) -> Path:
    """Path of a file bundled in ``geodata/`` (works from a checkout and from a wheel)."""
    return Path(str(resources.files("parkmap.geodata").joinpath(name)))


def parks_from_file(
    path: str | os.PathLike[str],
    *,
    id_field: str | None = None,
    name_field: str | None = None,
    coords: str = "wgs84",
    encoding: str | None = None,
) -> gpd.GeoDataFrame:
    """Read a park layer (GeoJSON, Shapefile, GeoPackage, KML) into WGS-84 polygons.

    Parameters
    ----------
    path
        The layer.
    id_field, name_field
        Fields holding the park id and name; detected when not given (id: ``park_id``, ``id``,
        ``adcode``, ``code``; name: ``name_zh``, ``name``, ``名称``).
    coords
        Coordinate system of a lon/lat layer: ``wgs84``, ``cgcs2000``, ``gcj02`` or ``bd09``;
        polygons are converted to WGS-84 vertex by vertex.
    encoding
        Text encoding of a shapefile's attributes (``--parks-encoding``). When not given and
        the shapefile has no ``.cpg``, the text bytes of its ``.dbf`` decide: UTF-8 if they
        decode as UTF-8, else GB18030 (a superset of GBK and GB2312) if they decode as that.
        Other formats keep their own encoding (GeoJSON and GeoPackage text is UTF-8).

    Returns
    -------
    GeoDataFrame
        ``park_id``, ``name``, ``name_zh``, ``name_en`` and the layer's other fields; list and
        dict values (DataV's ``center``, ``acroutes``, ``parent``) become JSON text, so every
        writer sees plain text. Repairs, dropped features and an assumed text encoding are
        listed in ``.attrs["notes"]``; ``.attrs["sources"]`` describes the file (see
        :func:`parkmap.coord_check.park_layer_hint`). A layer without a CRS is read as
        EPSG:4326 (GeoJSON's rule); any other CRS is reprojected.

        Features that share a park id are parts of one park (a park drawn as several
        polygons) when they also share a name: they are merged into one (multi)polygon and a
        note says so. The same id with different names is an error.

    Raises
    ------
    InputError
        If the file cannot be read, its coordinates look like metres but it has no projected
        CRS, a named field is missing, one park id carries different names, or no polygon
        remains.
    UsageError
        If ``encoding`` is not a known text encoding.
    """
    path = existing_path(path)
    notes: list[str] = []
    layer = _read_layer(path, encoding, notes)
    _refuse_metres_as_degrees(layer, path)
    sources = [
        {
            "file": path.name,
            "fields": [str(c) for c in layer.columns if c != layer.geometry.name],
            "lonlat": layer.crs is None or bool(layer.crs.is_geographic),
        }
    ]
    layer = _json_cells(layer)
    if layer.crs is None:
        layer = layer.set_crs(WGS84)
        notes.append(f"{path.name}: no CRS given; read as EPSG:4326 (lon/lat)")
    elif not layer.crs.equals(WGS84):
        notes.append(f"{path.name}: reprojected from {layer.crs.to_string()} to EPSG:4326")
        layer = layer.to_crs(WGS84)

    layer = _layer_to_wgs84(layer, coords, notes, path)
    id_col = _pick_field(layer, id_field, PARK_ID_FIELDS, path=path, what="--park-id-field")
    name_col = _pick_field(layer, name_field, PARK_NAME_FIELDS, path=path, what="--park-name-field")

    feature_no = np.arange(1, len(layer) + 1)
    keep = np.ones(len(layer), dtype=bool)
    geoms = layer.geometry.array
    for pos, geom in enumerate(geoms):
        label = f"{path.name}: feature {pos + 1}"
        if geom is None or geom.is_empty:
            notes.append(f"{label}: no geometry; dropped")
            keep[pos] = False
            continue
        if not geom.is_valid:
            reason = shapely.is_valid_reason(geom)
            geom = shapely.make_valid(geom)
            notes.append(f"{label}: invalid geometry repaired ({reason})")
        polygonal = _polygonal_part(geom)
        if polygonal is None:
            notes.append(f"{label}: a {geom.geom_type} is not an area; dropped")
            keep[pos] = False
            continue
        geoms[pos] = polygonal
    layer = layer.set_geometry(gpd.GeoSeries(geoms, crs=WGS84, index=layer.index))
    layer = layer[keep].reset_index(drop=True)
    if layer.empty:
        raise InputError(f"{path}: no park polygons in the layer")

    names = (
        layer[name_col].astype(object).where(layer[name_col].notna(), "").map(str).str.strip()
        if name_col
        else pd.Series([""] * len(layer))
    )
    if id_col:
        ids = (
            layer[id_col]
            .astype(object)
            .map(lambda v: "" if pd.isna(v) else cell_values._cell_to_text(v))
            .str.strip()
        )
    else:
        ids = pd.Series([f"park-{i + 1}" for i in range(len(layer))])
        notes.append(f"{path.name}: no id field; parks numbered park-1, park-2, …")
    ids = ids.where(ids != "", pd.Series([f"park-{i + 1}" for i in range(len(layer))]))
    names = names.where(names != "", ids)

    out = layer.drop(columns=[c for c in ("park_id", "name") if c in layer.columns])
    out.insert(0, "park_id", ids.to_numpy())
    out.insert(1, "name", names.to_numpy())
    out["name_zh"] = (
        out["name_zh"].fillna("").astype(str) if "name_zh" in out.columns else out["name"]
    )
    out["name_en"] = out["name_en"].fillna("").astype(str) if "name_en" in out.columns else ""
    out = _merge_repeated_ids(out, feature_no[keep], notes, path=path, id_field=id_col)
    out.attrs["notes"] = notes
    out.attrs["sources"] = sources
    return out


def _read_layer(path: Path, encoding: str | None, notes: list[str]) -> gpd.GeoDataFrame:
    """The layer as GDAL reads it, with a shapefile's text encoding given or detected."""
    options: dict[str, str] = {}
    if encoding:
        try:
            encoding = codecs.lookup(encoding).name
        except LookupError:
            raise UsageError(
                f"unknown text encoding {encoding!r} for --parks-encoding; "
                "try utf-8, gbk or gb18030"
            ) from None
    if path.suffix.lower() in (".shp", ".dbf"):
        if encoding:
            options["encoding"] = encoding
            notes.append(f"{path.name}: attribute text read as {encoding} (--parks-encoding)")
        elif _sibling(path, ".cpg") is None:
            detected = _dbf_encoding(path, notes)
            if detected:
                options["encoding"] = detected
    elif encoding:
        notes.append(
            f"{path.name}: --parks-encoding applies to shapefiles only; "
            f"{path.suffix or 'this'} text is read as the format defines it"
        )
    try:
        return gpd.read_file(path, **options)
    except Exception as exc:  # pyogrio raises several types for unreadable files
        raise InputError(f"{path}: cannot read it as a vector layer: {exc}") from exc


def _sibling(path: Path, suffix: str) -> Path | None:
    """The file beside ``path`` with the same stem and this suffix (either case), if any."""
    for candidate in (path.with_suffix(suffix), path.with_suffix(suffix.upper())):
        if candidate.is_file():
            return candidate
    return None


#: Bytes of ``.dbf`` records read to tell the text encoding (park layers are far smaller).
DBF_SAMPLE_BYTES = 16 << 20


def _dbf_encoding(path: Path, notes: list[str]) -> str | None:
    """Encoding of a shapefile's text without a ``.cpg``: ``utf-8``, ``gb18030`` or ``None``.

    The bytes of the character fields (and the field names) are tried as UTF-8, then as
    GB18030; each value on its own, so a value cut short mid-character by the field width
    still counts. ``None`` (GDAL's own choice stands) when all text is ASCII, when the ``.dbf``
    cannot be parsed, or when neither decodes; a note says which encoding was assumed.
    """
    dbf = _sibling(path, ".dbf")
    if dbf is None:
        return None
    values = _dbf_text_values(dbf)
    if values is None or all(v.isascii() for v in values):
        return None
    for encoding in ("utf-8", "gb18030"):
        decoder = codecs.getincrementaldecoder(encoding)
        try:
            for value in values:
                decoder().decode(value, final=False)  # an incomplete last character is fine
        except UnicodeDecodeError:
            continue
        notes.append(f"{path.name}: no .cpg; attribute text read as {encoding} (detected)")
        return encoding
    notes.append(
        f"{path.name}: no .cpg and the attribute text is neither UTF-8 nor GBK; read as GDAL "
        "assumes (ISO-8859-1); pass --parks-encoding if names look wrong"
    )
    return None


def _dbf_text_values(dbf: Path) -> list[bytes] | None:
    """Field names and character-field values of a dBASE file, as bytes (``None`` if the
    header cannot be parsed)."""
    with dbf.open("rb") as handle:
        head = handle.read(32)
        if len(head) < 32:
            return None
        n_records = int.from_bytes(head[4:8], "little")
        header_len = int.from_bytes(head[8:10], "little")
        record_len = int.from_bytes(head[10:12], "little")
        descriptors = handle.read(max(header_len - 32, 0))
        fields: list[tuple[int, int, bool]] = []  # offset in record, width, is text
        values: list[bytes] = []
        offset = 1  # the deletion flag comes first
        for start in range(0, len(descriptors) - 31, 32):
            field = descriptors[start : start + 32]
            if field[0] == 0x0D:
                break
            values.append(field[:11].split(b"\0", 1)[0])
            width = field[16]
            fields.append((offset, width, field[11:12] in (b"C", b"c")))
            offset += width
        if record_len <= 0 or offset > record_len:
            return None
        count = min(n_records, DBF_SAMPLE_BYTES // record_len)
        handle.seek(header_len)
        data = handle.read(count * record_len)
    for row in range(len(data) // record_len):
        record = data[row * record_len : (row + 1) * record_len]
        for start, width, text in fields:
            if text:
                values.append(record[start : start + width].rstrip(b" \0"))
    return values


def _json_cells(layer: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """List, tuple, array and dict values as JSON text (``[120.39, 36.07]``), so that
    every writer (CSV, XLSX, GeoPackage, the map's popups) gets text it can hold."""
    for col in layer.columns:
        if col == layer.geometry.name or not pd.api.types.is_object_dtype(layer[col]):
            continue
        series = layer[col]
        nested = series.map(lambda v: isinstance(v, (list, tuple, dict, np.ndarray)))
        if nested.any():
            layer[col] = series.astype(object).where(~nested, series[nested].map(json_text))
    return layer


def json_text(value: object) -> str:
    """``value`` (lists, dicts and numpy arrays, nested) as JSON with Chinese kept readable."""

    def plain(item: object) -> object:
        if isinstance(item, np.ndarray):
            return item.tolist()
        if isinstance(item, np.generic):
            return item.item()
        raise TypeError(f"{type(item).__name__} is not JSON serialisable")

    return json.dumps(value, ensure_ascii=False, default=plain)


def _refuse_metres_as_degrees(layer: gpd.GeoDataFrame, path: Path) -> None:
    """Refuse a layer whose coordinates cannot be degrees though it declares none (or lon/lat).

    Projected coordinates (Gauss–Krüger eastings of 500 km and more) saved without their
    ``.prj``, or in a GeoJSON (which GDAL reads as lon/lat), fall far outside −180..180 and
    −90..90; measuring distances on them fails, so the file is refused with what to do.
    """
    if len(layer) == 0 or (layer.crs is not None and not layer.crs.is_geographic):
        return
    xmin, ymin, xmax, ymax = (float(v) for v in layer.total_bounds)
    if not np.isfinite([xmin, ymin, xmax, ymax]).all():
        return
    if xmin >= -180 and xmax <= 180 and ymin >= -90 and ymax <= 90:
        return
    if xmin < -180 or xmax > 180:
        extent = f"x up to {max(abs(xmin), abs(xmax)):.0f}"
    else:
        extent = f"y up to {max(abs(ymin), abs(ymax)):.0f}"
    declared = (
        "the layer has no CRS"
        if layer.crs is None or path.suffix.lower() in (".geojson", ".json")
        else f"its CRS ({layer.crs.to_string()}) is lon/lat"
    )
    raise InputError(
        f"{path.name}: coordinates look like metres ({extent}), but {declared}; save it with "
        "its projection (.prj) or reproject to WGS-84"
    )


def _layer_to_wgs84(
    layer: gpd.GeoDataFrame, coords: str, notes: list[str], path: Path
) -> gpd.GeoDataFrame:
    system = normalise_coord_system(coords)
    if system == "wgs84":
        return layer

    def convert(xy: np.ndarray) -> np.ndarray:
        return np.column_stack(convert_to_wgs84(xy[:, 0], xy[:, 1], system))

    notes.append(f"{path.name}: converted from {SYSTEM_NAMES[system]} to WGS-84")
    return layer.set_geometry(
        gpd.GeoSeries(
            shapely.transform(layer.geometry.array, convert), crs=WGS84, index=layer.index
        )
    )


def _pick_field(
    layer: gpd.GeoDataFrame,
    given: str | None,
    candidates: Sequence[str],
    *,
    path: Path,
    what: str,
) -> str | None:
    fields = [c for c in layer.columns if c != layer.geometry.name]
    if given:
        if given not in fields:
            raise InputError(f"{path}: no field {given!r} for {what}; fields: {', '.join(fields)}")
        return given
    lowered = {str(f).lower(): str(f) for f in fields}
    for cand in candidates:
        if cand.lower() in lowered:
            return lowered[cand.lower()]
    return None


def _polygonal_part(geom: shapely.Geometry) -> shapely.Geometry | None:
    if geom.geom_type in ("Polygon", "MultiPolygon"):
        return geom
    if geom.geom_type == "GeometryCollection":
        parts = [g for g in geom.geoms if g.geom_type in ("Polygon", "MultiPolygon")]
        if parts:
            return shapely.union_all(parts)
    return None


def _merge_repeated_ids(
    parks: gpd.GeoDataFrame,
    feature_no: np.ndarray,
    notes: list[str],
    *,
    path: Path,
    id_field: str | None,
) -> gpd.GeoDataFrame:
    """Merge the features of a park drawn as several polygons; refuse ids that clash.

    Features sharing a park id and a name are parts of one park: they become one
    (multi)polygon, the first feature's other fields kept, and a note says so. The same id
    with different names is two parks under one id: an :class:`InputError` names the file,
    the id and the features (numbered from 1 in the file).
    """
    repeated = parks["park_id"].duplicated(keep=False).to_numpy()
    if not repeated.any():
        return parks
    field = id_field or "park_id"
    for pid in pd.unique(parks.loc[repeated, "park_id"]):
        rows = np.flatnonzero((parks["park_id"] == pid).to_numpy())
        names = pd.unique(parks["name"].iloc[rows])
        if len(names) > 1:
            numbers = [str(int(n)) for n in feature_no[rows]]
            listed = ", ".join(numbers[:-1]) + " and " + numbers[-1]
            raise InputError(
                f"{path.name}: {field} {pid!r} appears in features {listed} with different "
                f"names ({', '.join(map(repr, names))}); ids must be unique — fix the layer "
                "or pick another field with --park-id-field"
            )
        notes.append(
            f"{path.name}: {len(rows)} features share park id {pid!r} and name "
            f"{names[0]!r}; merged into one park"
        )
    merged = parks.dissolve(by="park_id", sort=False, as_index=False)
    return merged[parks.columns]


def parks_from_files(
    paths: Sequence[str | os.PathLike[str]],
    *,
    id_field: str | None = None,
    name_field: str | None = None,
    coords: str = "wgs84",
    encoding: str | None = None,
) -> gpd.GeoDataFrame:
    """Read and stack several park layers (:func:`parks_from_file` for each); a park id may
    appear in only one of them.

    Raises
    ------
    InputError
        If a layer cannot be used, or two layers hold the same park id.
    """
    layers = [
        parks_from_file(
            p, id_field=id_field, name_field=name_field, coords=coords, encoding=encoding
        )
        for p in paths
    ]
    if len(layers) == 1:
        return layers[0]
    seen: dict[str, str] = {}
    for path, layer in zip(paths, layers, strict=True):
        for pid in layer["park_id"]:
            if pid in seen:
                raise InputError(
                    f"{path}: park id {pid!r} is also in {seen[pid]}; park ids must be unique"
                )
            seen[pid] = Path(path).name
    stacked = gpd.GeoDataFrame(pd.concat(layers, ignore_index=True), crs=WGS84)
    stacked.attrs["notes"] = [n for layer in layers for n in layer.attrs.get("notes", [])]
    stacked.attrs["sources"] = [s for layer in layers for s in layer.attrs.get("sources", [])]
    return stacked


def context_from_file(path: str | os.PathLike[str] | None = None) -> gpd.GeoDataFrame:
    """Context features (district outlines, airport) for the map; bundled Qingdao by default."""
    layer = gpd.read_file(path or bundled_path("context.geojson"))
    return layer.set_crs(WGS84) if layer.crs is None else layer.to_crs(WGS84)

"""Park layers (GeoJSON, Shapefile, GeoPackage, KML) as WGS-84 polygons, and context layers."""

from __future__ import annotations

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
from parkmap.errors import InputError
from parkmap.read.tables import existing_path, read_vector_layer
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

    Returns
    -------
    GeoDataFrame
        ``park_id``, ``name``, ``name_zh``, ``name_en`` and the layer's other fields. Repairs
        and dropped features are listed in ``.attrs["notes"]``. A layer without a CRS is read
        as EPSG:4326 (GeoJSON's rule); any other CRS is reprojected.

    Raises
    ------
    InputError
        If the file cannot be read, a named field is missing, or no polygon remains.
    """
    path = existing_path(path)
    layer = read_vector_layer(path)
    notes: list[str] = []
    if layer.crs is None:
        layer = layer.set_crs(WGS84)
        notes.append(f"{path.name}: no CRS given; read as EPSG:4326 (lon/lat)")
    elif not layer.crs.equals(WGS84):
        notes.append(f"{path.name}: reprojected from {layer.crs.to_string()} to EPSG:4326")
        layer = layer.to_crs(WGS84)

    layer = _layer_to_wgs84(layer, coords, notes, path)
    id_col = _pick_field(layer, id_field, PARK_ID_FIELDS, path=path, what="--park-id-field")
    name_col = _pick_field(layer, name_field, PARK_NAME_FIELDS, path=path, what="--park-name-field")

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
        ids = layer[id_col].astype(object).map(cell_values._cell_to_text).str.strip()
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
    out = _merge_repeated_ids(out, notes, path)
    out.attrs["notes"] = notes
    return out


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


def _merge_repeated_ids(parks: gpd.GeoDataFrame, notes: list[str], path: Path) -> gpd.GeoDataFrame:
    """Features sharing a park id are parts of one park: merge them into one (multi)polygon."""
    repeated = parks["park_id"].duplicated(keep=False)
    if not repeated.any():
        return parks
    for pid in parks.loc[repeated, "park_id"].unique():
        count = int((parks["park_id"] == pid).sum())
        notes.append(f"{path.name}: {count} features share park id {pid!r}; merged into one park")
    merged = parks.dissolve(by="park_id", sort=False, as_index=False)
    return merged[parks.columns]


def parks_from_files(
    paths: Sequence[str | os.PathLike[str]],
    *,
    id_field: str | None = None,
    name_field: str | None = None,
    coords: str = "wgs84",
) -> gpd.GeoDataFrame:
    """Read and stack several park layers; a park id may appear in only one of them."""
    layers = [
        parks_from_file(p, id_field=id_field, name_field=name_field, coords=coords) for p in paths
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
    return stacked


def context_from_file(path: str | os.PathLike[str] | None = None) -> gpd.GeoDataFrame:
    """Context features (district outlines, airport) for the map; bundled Qingdao by default."""
    layer = gpd.read_file(path or bundled_path("context.geojson"))
    return layer.set_crs(WGS84) if layer.crs is None else layer.to_crs(WGS84)

"""Files a planner reads: clusters.csv/.geojson, hotspots.geojson, stats.json, summary.md."""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import geopandas as gpd
import numpy as np
import shapely

from parkmap import write
from parkmap.cluster.core import ClusterAnalysis
from parkmap.errors import UsageError
from parkmap.i18n import park_name, texts

if TYPE_CHECKING:
    from parkmap.fonts import FontSetup

OUTPUT_CLUSTERS_CSV: Final = "clusters.csv"
OUTPUT_CLUSTERS_GEOJSON: Final = "clusters.geojson"
OUTPUT_HOTSPOTS: Final = "hotspots.geojson"
OUTPUT_STATS: Final = "stats.json"
OUTPUT_SUMMARY: Final = "summary.md"
PLOTS_DIR: Final = "plots"


def _clean(value: object) -> Any:
    """JSON-safe copy: NaN/inf → None, numpy scalars → Python."""
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def geojson_text(frame: gpd.GeoDataFrame) -> str:
    """RFC 7946 FeatureCollection with full-precision coordinates (shared vertices stay equal)."""
    props = frame.drop(columns=frame.geometry.name)
    features = []
    for record, geom in zip(props.to_dict(orient="records"), frame.geometry, strict=True):
        features.append(
            {
                "type": "Feature",
                "properties": _clean(record),
                "geometry": None if geom is None else shapely.geometry.mapping(geom),
            }
        )
    doc = {"type": "FeatureCollection", "features": features}
    return json.dumps(doc, ensure_ascii=False, allow_nan=False)


def stats_document(result: ClusterAnalysis) -> dict[str, Any]:
    """Everything for ``stats.json``."""
    doc: dict[str, Any] = _clean(
        {
            "settings": result.settings,
            "parks": result.parks,
            "clusters": {
                **result.clusters.params,
                "hull_area": "planar area of the convex hull in the metric CRS (km²)",
                "table": result.clusters.clusters.drop(columns="geometry").to_dict(
                    orient="records"
                ),
            },
            "nearest_neighbour": result.nni,
            "ripley_l": result.ripley,
            **result.hexes.stats,
        }
    )
    return doc


def write_cluster_report(
    result: ClusterAnalysis,
    out: str | os.PathLike[str],
    *,
    lang: str = "zh",
    plots: bool = True,
    font: str | os.PathLike[str] | FontSetup | None = None,
) -> dict[str, Path]:
    """Write every output file into ``out``; return their paths by name.

    Parameters
    ----------
    result
        From :func:`parkmap.cluster.cluster_analysis`.
    out
        Output folder (created when missing).
    lang
        ``"zh"`` or ``"en"`` for ``summary.md`` and the plots.
    plots
        Also write the Ripley plots (PNG).
    font
        For the plots: a font file to use first (TTF, OTF or TTC), or the fonts already chosen
        with :func:`parkmap.fonts.font_setup`; default: as for the exports.

    Raises
    ------
    InputError
        When ``font`` is not a readable font, or cannot draw Chinese and ``lang`` is ``zh``.
    MissingFontError
        When plots in Chinese are asked for and no font draws Chinese.
    """
    from parkmap.cluster.summary import summary_markdown
    from parkmap.fonts import FontSetup, font_setup

    if lang not in ("zh", "en"):
        raise UsageError(f"lang must be zh or en, got {lang!r}")
    setup = None
    if plots:
        setup = font if isinstance(font, FontSetup) else font_setup(lang, font)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    table = result.clusters.clusters.drop(columns="geometry")
    written["clusters_csv"] = write.save_table_csv(table, out / OUTPUT_CLUSTERS_CSV)
    written["clusters_geojson"] = write.atomic_write(
        out / OUTPUT_CLUSTERS_GEOJSON, geojson_text(result.clusters.clusters)
    )
    written["hotspots"] = write.atomic_write(
        out / OUTPUT_HOTSPOTS, geojson_text(result.hexes.cells)
    )
    doc = stats_document(result)
    if plots:
        from parkmap.cluster.plots import plot_ripley

        doc["plots"] = {}
        for key, stats, title in _ripley_items(result, lang):
            path = plot_ripley(
                stats,
                out / PLOTS_DIR / f"ripley_{key}.png",
                title=setup.safe(title, key) if setup else title,
                lang=lang,
                setup=setup,
            )
            if path is not None:
                written[f"plot_{key}"] = path
                doc["plots"][key] = f"{PLOTS_DIR}/{path.name}"
    written["stats"] = write.atomic_write(
        out / OUTPUT_STATS, json.dumps(doc, ensure_ascii=False, indent=2, allow_nan=False)
    )
    written["summary"] = write.atomic_write(
        out / OUTPUT_SUMMARY, summary_markdown(result, lang=lang)
    )
    return written


def _ripley_items(result: ClusterAnalysis, lang: str) -> Iterator[tuple[str, dict[str, Any], str]]:
    """(file key, Ripley result, title name in ``lang``) of the citywide plot and each park's."""
    yield "citywide", result.ripley["citywide"], texts(lang, "report")["city"]
    for park in result.parks:
        pid = park["park_id"]
        safe = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in pid)
        yield safe, result.ripley["parks"][pid], park_name(park, lang)

"""Area statistics on a hexagon grid over the parks: Moran's I, Getis–Ord Gi* and local Moran.

The grid is :func:`parkmap.density.hex_grid` (``cover=parks``): the cells that hold a project plus
two rings of neighbours around each (:data:`parkmap.density.GRID_RING`), kept where a cell's
interior meets a park, with the investment (亿元) of the projects in it. Empty land far from any
project is left out on purpose: a county-sized park covered whole would be thousands of zero
cells that say only "the park is big" (every cluster then tests "hot" against a mean dragged
towards zero, and the grid costs minutes and gigabytes). The rings keep the zeros that carry
information — the empty cells near the projects, the "cold" side of a hot spot — and with two of
them every cell beside a project's cell has its whole queen neighbourhood in the grid, so its
Gi* is not cut short at the grid's edge. The statistics ask where, within and around the
developed part of the parks, investment gathers.
The rule is written to stats.json (``weights.cells_rule``). The statistics run on the investment
per cell with PySAL:

* weights: queen contiguity between cells (``libpysal.weights.Queen.from_dataframe``),
  row-standardised. Hexagons share whole edges, so queen and rook agree. Neighbouring cells are
  computed separately, so a shared vertex can differ in its last bits; before the weights are
  built every vertex is snapped to one representative of the vertices within 1 mm of it (in the
  metric CRS), so the written polygons share bit-identical vertices and anyone rebuilding the
  weights from ``hotspots.geojson`` gets the same neighbours.
* global Moran's I (``esda.Moran``) with a permutation p-value; esda's Moran takes no seed, so
  ``numpy.random.seed(seed)`` is set right before it.
* Getis–Ord Gi* (``esda.G_Local(star=True, transform="R", seed=seed)``): z is ``Zs``, p is the
  two-sided normal p-value ``2·(1 − Φ(|z|))`` (esda's ``p_norm`` is one-sided). Bins as ArcGIS:
  ±3 at 99 %, ±2 at 95 %, ±1 at 90 % confidence, 0 otherwise; with ``fdr=True`` each level's
  cut-off is the Benjamini–Hochberg one (``esda.fdr(p, α)``).
* local Moran (``esda.Moran_Local(seed=seed)``): quadrants HH, LH, LL, HL where the permutation
  p-value is below 0.05 (or its FDR cut-off), "ns" otherwise.

Every test here needs :data:`~parkmap.cluster.minimums.MIN_AREAL_UNITS` (30) cells of which
:data:`~parkmap.cluster.minimums.MIN_NONZERO_UNITS` (5) hold investment, for all parks together
(Moran's I, Gi*, local Moran) and for each park (Moran's I); below that the result is
:func:`sample_shortfall` — sample size, floor and reason, no statistic, no p-value — and the
cells keep ``gi_bin`` 0 and ``lisa_quadrant`` "ns" with no z or p.
"""

from __future__ import annotations

import contextlib
import math
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely
from pyproj import CRS
from scipy.spatial import cKDTree
from scipy.stats import norm

from parkmap.cluster._geo import LONLAT, crs_label, geometry_to_metric, to_metric, untested
from parkmap.cluster.minimums import MIN_AREAL_UNITS, MIN_NONZERO_UNITS
from parkmap.settings import DEFAULT_CELL_KM

if TYPE_CHECKING:
    from libpysal.weights import W

#: Confidence levels of the Gi* bins: (bin, α).
GI_LEVELS: Final = ((3, 0.01), (2, 0.05), (1, 0.10))
#: Significance level of the local Moran quadrants.
LISA_ALPHA: Final = 0.05
QUADRANTS: Final = {1: "HH", 2: "LH", 3: "LL", 4: "HL"}
#: Vertices closer than this (metres) are the same vertex.
SNAP_M: Final = 1e-3


@dataclass
class HexStatistics:
    """Cells with their local statistics, and the global figures.

    Attributes
    ----------
    cells
        Every cell used (EPSG:4326): ``cell_id, park_ids, count, investment_100m_cny, gi_z, gi_p,
        gi_p_sim, gi_bin, lisa_i, lisa_p_sim, lisa_quadrant, neighbours``.
    stats
        ``weights``, ``moran`` (citywide), ``moran_by_park``, ``gi``, ``lisa`` for stats.json.
    grid
        The grid as :func:`parkmap.density.hex_grid` made it (counts, sums, density per km²),
        so the interactive map can draw the same cells without building them again.
    """

    cells: gpd.GeoDataFrame
    stats: dict[str, Any]
    grid: gpd.GeoDataFrame | None = None


def snap_shared_vertices(cells: gpd.GeoDataFrame, crs: CRS) -> gpd.GeoDataFrame:
    """Hexagons whose shared vertices are bit-identical (vertices within 1 mm merged)."""
    if not len(cells):
        return cells
    geoms = np.asarray(cells.geometry.array, dtype=object)
    rings = shapely.get_exterior_ring(geoms)
    counts = shapely.get_num_coordinates(rings)
    lonlat = shapely.get_coordinates(rings)
    x, y = to_metric(crs, lonlat[:, 0], lonlat[:, 1])
    tree = cKDTree(np.column_stack((x, y)))
    near = tree.query_ball_point(np.column_stack((x, y)), r=SNAP_M)
    first = np.array([min(group) for group in near])
    snapped = lonlat[first]
    offsets = np.concatenate(([0], np.cumsum(counts)))
    polygons = [shapely.Polygon(snapped[offsets[i] : offsets[i + 1]]) for i in range(len(geoms))]
    out = cells.copy()
    out = out.set_geometry(gpd.GeoSeries(polygons, index=cells.index, crs=LONLAT))
    return out


def queen_weights(cells: gpd.GeoDataFrame, *, transform: str = "R") -> W:
    """Queen contiguity between cells, ids 0…n−1 in row order.

    ``transform="R"`` row-standardises; ``"O"`` keeps binary weights (what ``G_Local`` wants
    for Gi*: it adds the self-weight 1, then row-standardises itself).
    """
    from libpysal.weights import Queen

    frame = gpd.GeoDataFrame(geometry=cells.geometry.reset_index(drop=True))
    with _quiet():
        w = Queen.from_dataframe(frame, use_index=False, silence_warnings=True)
    if transform != "O":
        w.transform = transform
    return w


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Silence two expected warnings.

    Parks far apart give disconnected components (counted in stats.json); esda's conditional
    randomisation announces a future change of its default that G_Local and Moran_Local do not
    let a caller choose yet (their p_sim is the current "directed" one).
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="The weights matrix is not fully connected")
        warnings.filterwarnings("ignore", message="The alternative hypothesis for conditional")
        # G_Local's z_sim (not used here) divides by zero for cells whose simulations agree.
        warnings.filterwarnings("ignore", category=RuntimeWarning, module="esda.getisord")
        yield


def _park_ids_of_cells(cells: gpd.GeoDataFrame, parks: gpd.GeoDataFrame, crs: CRS) -> list[str]:
    """ ";"-joined ids of the parks whose interior each cell meets."""
    # All cells at once: one transform of the whole array, not one CRS lookup per cell.
    hexes = geometry_to_metric(crs, np.asarray(cells.geometry.array, dtype=object))
    found: list[list[str]] = [[] for _ in range(len(hexes))]
    tree = shapely.STRtree(hexes)
    for pid, geom in zip(parks["park_id"].astype(str), parks.to_crs(LONLAT).geometry, strict=True):
        if geom is None or geom.is_empty:
            continue
        metric = geometry_to_metric(crs, geom)
        hits = tree.query(metric, predicate="intersects")
        touching = shapely.touches(metric, hexes[hits])
        for i in hits[~touching]:
            found[int(i)].append(pid)
    return [";".join(ids) for ids in found]


def sample_shortfall(y: np.ndarray, counts: np.ndarray) -> dict[str, Any] | None:
    """Why Moran's I, Gi* and local Moran cannot be run on these cells; ``None`` when they can.

    Parameters
    ----------
    y
        Investment (亿元) of each cell.
    counts
        Projects in each cell.

    Returns
    -------
    dict or None
        ``cells, nonzero_cells, result, reason`` (and ``needs``), ``result`` one of
        ``"no_projects"``, ``"too_few_cells"`` (fewer than :data:`MIN_AREAL_UNITS` cells) and
        ``"too_few_nonzero_cells"`` (fewer than :data:`MIN_NONZERO_UNITS` cells with
        investment); ``None`` when the sample is large enough.
    """
    n = len(y)
    nonzero = int((np.nan_to_num(np.asarray(y, dtype=float)) > 0).sum())
    if int(np.asarray(counts).sum()) == 0:
        return {"cells": n, "nonzero_cells": 0, "result": "no_projects", "reason": "no projects"}
    if n < MIN_AREAL_UNITS:
        reason = f"needs at least {MIN_AREAL_UNITS} cells"
        short = untested(("cells", n), ("result", "too_few_cells"), reason, needs=MIN_AREAL_UNITS)
    elif nonzero < MIN_NONZERO_UNITS:
        reason = f"needs at least {MIN_NONZERO_UNITS} cells with investment"
        outcome = ("result", "too_few_nonzero_cells")
        short = untested(("cells", n), outcome, reason, needs=MIN_NONZERO_UNITS)
    else:
        return None
    return {"nonzero_cells": nonzero, **short}


def _moran(
    y: np.ndarray, w: W | None, permutations: int, seed: int, *, counts: np.ndarray
) -> dict[str, Any]:
    import esda

    n = len(y)
    short = sample_shortfall(y, counts)
    if short is not None:
        return short
    if float(np.var(y)) == 0.0:
        return {"cells": n, "result": "no_variation", "reason": "every cell has the same value"}
    assert w is not None  # callers give no weights only to samples below the minimum
    if w.n - len(w.islands) < 2:
        return {"cells": n, "result": "no_neighbours", "reason": "cells have no neighbours"}
    np.random.seed(seed)  # esda.Moran draws its permutations from numpy's global generator
    mi = esda.Moran(y, w, transformation="r", permutations=permutations)
    p_sim = float(mi.p_sim) if permutations else math.nan
    significant = math.isfinite(p_sim) and p_sim < LISA_ALPHA
    result = ("clustered" if mi.I > mi.EI else "dispersed") if significant else "random"
    return {
        "cells": n,
        "I": float(mi.I),
        "expected_I": float(mi.EI),
        "z_norm": float(mi.z_norm),
        "p_norm": float(mi.p_norm),
        "z_sim": float(mi.z_sim) if permutations else None,
        "p_sim": p_sim if permutations else None,
        "permutations": int(permutations),
        "seed": int(seed),
        "result": result,
    }


def _cutoffs(p: np.ndarray, fdr: bool) -> list[tuple[int, float]]:
    import esda

    if not fdr or not len(p):
        return list(GI_LEVELS)
    return [(level, float(esda.fdr(p, alpha))) for level, alpha in GI_LEVELS]


def gi_bins(z: np.ndarray, p: np.ndarray, *, fdr: bool = False) -> np.ndarray:
    """ArcGIS-style hot/cold bins −3…3 from z and two-sided p (strictly below each cut-off)."""
    bins = np.zeros(len(z), dtype=np.int64)
    for level, cut in reversed(_cutoffs(p, fdr)):
        hit = np.isfinite(p) & (p < cut)
        bins[hit] = level
    signs: npt.NDArray[np.int64] = np.sign(np.nan_to_num(z)).astype(np.int64)
    return bins * signs


def hex_statistics(
    projects: gpd.GeoDataFrame,
    parks: gpd.GeoDataFrame,
    *,
    crs: CRS,
    cell_km: float = DEFAULT_CELL_KM,
    permutations: int = 999,
    seed: int = 0,
    fdr: bool = False,
) -> HexStatistics:
    """Moran's I, Gi* and local Moran of investment on a hexagon grid over the parks.

    Parameters
    ----------
    projects
        Projects (Point geometries, ``investment_100m_cny``).
    parks
        Park polygons with ``park_id``; the grid keeps to them (cells with projects and two
        rings of neighbours, where a cell meets a park).
    crs
        Metric CRS of the grid.
    cell_km
        Distance between the centres of adjacent cells, km.
    permutations, seed
        Permutations of every test, and the seed that makes them repeatable.
    fdr
        Benjamini–Hochberg cut-offs for the Gi* bins and the LISA quadrants.
    """
    import esda

    from parkmap.density import GRID_RING, hex_grid

    raw_grid = hex_grid(projects, cell_km=cell_km, cover=parks, metric_crs=crs)
    grid = snap_shared_vertices(raw_grid, crs).reset_index(drop=True)
    y = grid["investment_100m_cny"].to_numpy(dtype=float)
    cells = gpd.GeoDataFrame(
        {
            "cell_id": grid["cell_id"],
            "park_ids": _park_ids_of_cells(grid, parks, crs) if len(grid) else [],
            "count": grid["count"].astype("int64"),
            "investment_100m_cny": y,
        },
        geometry=grid.geometry,
        crs=LONLAT,
    )
    n = len(cells)
    weights_info: dict[str, Any] = {
        "type": "queen contiguity (libpysal.weights.Queen.from_dataframe on the hexagons)",
        "transform": "R (row-standardised)",
        "cells": n,
        "cells_rule": f"cells holding a project plus {GRID_RING} ring(s) of neighbours, "
        "where a cell meets a park",
        "cell_km": float(cell_km),
        "metric_crs": crs_label(crs),
        "permutations": int(permutations),
        "seed": int(seed),
        "fdr": bool(fdr),
        "vertex_snap_m": SNAP_M,
        "projects_outside_cells": int(grid.attrs.get("projects_outside_cells", 0)),
    }
    stats: dict[str, Any] = {"weights": weights_info, "moran_by_park": {}}
    cells["gi_z"] = np.nan
    cells["gi_p"] = np.nan
    cells["gi_p_sim"] = np.nan
    cells["gi_bin"] = 0
    cells["lisa_i"] = np.nan
    cells["lisa_p_sim"] = np.nan
    cells["lisa_quadrant"] = "ns"
    cells["neighbours"] = 0
    short = sample_shortfall(y, cells["count"].to_numpy())
    if short is not None:
        weights_info["islands"] = 0
        stats["moran"] = short
        stats["gi"] = dict(short)
        stats["lisa"] = dict(short)
        stats["moran_by_park"] = _moran_by_park(cells, parks, permutations, seed)
        return HexStatistics(cells=cells, stats=stats, grid=raw_grid)
    w = queen_weights(cells)
    weights_info["islands"] = len(w.islands)
    weights_info["mean_neighbours"] = float(w.mean_neighbors)
    weights_info["components"] = int(w.n_components)
    cells["neighbours"] = [int(w.cardinalities[i]) for i in range(n)]
    stats["moran"] = _moran(y, w, permutations, seed, counts=cells["count"].to_numpy())
    if float(np.var(y)) > 0:
        from libpysal.weights import fill_diagonal

        # Self-weight 1 on binary queen weights, then G_Local row-standardises: the Gi* of
        # ArcGIS; esda does the same for binary weights with star=True, but with a warning.
        with _quiet():
            gi_w = fill_diagonal(queen_weights(cells, transform="O"), 1.0)
            gi = esda.G_Local(
                y, gi_w, transform="R", permutations=permutations, star=True, seed=seed, n_jobs=1
            )
            lm = esda.Moran_Local(
                y,
                queen_weights(cells),
                transformation="r",
                permutations=permutations,
                seed=seed,
                n_jobs=1,
            )
        z = np.asarray(gi.Zs, dtype=float)
        p = 2.0 * norm.sf(np.abs(z))
        cells["gi_z"] = z
        cells["gi_p"] = p
        if permutations:
            cells["gi_p_sim"] = np.asarray(gi.p_sim, dtype=float)
        cells["gi_bin"] = gi_bins(z, p, fdr=fdr)
        p_sim = np.asarray(getattr(lm, "p_sim", np.full(n, np.nan)), dtype=float)
        cut = float(esda.fdr(p_sim, LISA_ALPHA)) if fdr else LISA_ALPHA
        quads = np.array([QUADRANTS.get(int(q), "ns") for q in lm.q], dtype=object)
        quads[~(p_sim < cut)] = "ns"
        cells["lisa_i"] = np.asarray(lm.Is, dtype=float)
        cells["lisa_p_sim"] = p_sim
        cells["lisa_quadrant"] = quads
        bins = cells["gi_bin"]
        stats["gi"] = {
            "statistic": "Getis-Ord Gi* (esda.G_Local on binary queen weights, star=True, "
            "transform R: self-weight 1, then row-standardised)",
            "p_value": "two-sided normal, 2*(1-Phi(|z|))",
            "cutoffs": {str(level): cut for level, cut in _cutoffs(p, fdr)},
            "bins": {str(b): int((bins == b).sum()) for b in range(-3, 4)},
        }
        stats["lisa"] = {
            "statistic": "local Moran (esda.Moran_Local, row-standardised)",
            "p_value": "permutation (p_sim)",
            "cutoff": cut,
            "quadrants": {q: int((quads == q).sum()) for q in ("HH", "LH", "LL", "HL", "ns")},
        }
    else:
        stats["gi"] = {"result": "no_variation"}
        stats["lisa"] = {"result": "no_variation"}
    stats["moran_by_park"] = _moran_by_park(cells, parks, permutations, seed)
    return HexStatistics(cells=cells, stats=stats, grid=raw_grid)


def _moran_by_park(
    cells: gpd.GeoDataFrame, parks: gpd.GeoDataFrame, permutations: int, seed: int
) -> dict[str, Any]:
    """Moran's I on the cells of each park (those whose ``park_ids`` name it)."""
    found: dict[str, Any] = {}
    for pid in parks["park_id"].astype(str):
        mask = cells["park_ids"].str.split(";").apply(lambda ids, pid=pid: pid in ids).to_numpy()
        sub = cells[mask].reset_index(drop=True)
        y = sub["investment_100m_cny"].to_numpy(float)
        counts = sub["count"].to_numpy()
        w = queen_weights(sub) if sample_shortfall(y, counts) is None else None
        found[pid] = _moran(y, w, permutations, seed, counts=counts)
    return found


def cells_table(cells: gpd.GeoDataFrame) -> pd.DataFrame:
    """The cells without geometry."""
    return pd.DataFrame(cells.drop(columns=cells.geometry.name))

"""``summary.md``: the statistics in plain language, in Chinese or English.

A sentence never claims more than its test allows: a test below its minimum sample
(:mod:`parkmap.cluster.minimums`) is reported as "too few projects to test (n = 4; needs ≥ 10)"
with no statistic and no p-value, a park with no projects as "no projects", and a range whose
ends round to the same value is printed once (``982 米``, not ``982–982 米``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pyproj import CRS

from parkmap.cluster.core import ClusterAnalysis
from parkmap.cluster.minimums import (
    MIN_AREAL_UNITS,
    MIN_NONZERO_UNITS,
    MIN_POINTS_NNI,
    MIN_POINTS_RIPLEY,
)
from parkmap.cluster.pattern import MAX_POINTS_RIPLEY
from parkmap.i18n import crs_words, park_name, texts


def span(values: Iterable[float], digits: int = 0) -> str:
    """``"732–14636"`` from the smallest to the largest value; one value when both ends agree.

    >>> span([982.4, 981.6]), span([732.0, 14636.2, 5000.0])
    ('982', '732–14636')
    """
    found = [float(v) for v in values]
    lo, hi = f"{min(found):.{digits}f}", f"{max(found):.{digits}f}"
    return lo if lo == hi else f"{lo}–{hi}"


def _points_untested(t: dict, name: str, r: dict, stat: str, need: int) -> str | None:
    """The sentence of a point test that was not run, or ``None`` when it was."""
    if r["pattern"] == "no_projects" or r.get("n") == 0:
        return t["stat_none"].format(name=name)
    if r["pattern"] == "too_few_points":
        return t["few"].format(name=name, n=r["n"], stat=stat, need=r.get("needs", need))
    if r["pattern"] == "no_area":
        return t["noarea"].format(name=name, stat=stat)
    return None


def _nni_line(t: dict, name: str, r: dict) -> str:
    untested = _points_untested(t, name, r, "NNI", MIN_POINTS_NNI)
    if untested is not None:
        return untested
    return t["nni"].format(
        name=name,
        word=t[r["pattern"]],
        nni=r["nni"],
        z=r["z"],
        p=r["p"],
        n=r["n"],
        area=r["area_km2"],
    )


def _ripley_line(t: dict, name: str, r: dict) -> str:
    untested = _points_untested(t, name, r, "Ripley L", MIN_POINTS_RIPLEY)
    if untested is not None:
        return untested
    pattern = r["pattern"]
    if pattern == "too_many_points":
        return t["many"].format(name=name, n=r["n"], stat="Ripley L", most=MAX_POINTS_RIPLEY)
    if pattern in ("clustered", "dispersed"):
        at = r["clustered_at_m"] if pattern == "clustered" else r["dispersed_at_m"]
        return t[f"r_{pattern}"].format(name=name, span=span(at), sim=r["simulations"])
    return t[f"r_{pattern}"].format(name=name)


def _moran_line(t: dict, name: str, r: dict) -> str:
    if "I" not in r:
        result = r.get("result")
        if result == "no_projects":
            return t["stat_none"].format(name=name)
        if result == "too_few_nonzero_cells":
            need = r.get("needs", MIN_NONZERO_UNITS)
            return t["moran_sparse"].format(name=name, nonzero=r["nonzero_cells"], need=need)
        if result == "no_variation":
            return t["moran_flat"].format(name=name)
        if result == "no_neighbours":
            return t["moran_islands"].format(name=name)
        return t["moran_few"].format(
            name=name, cells=r["cells"], need=r.get("needs", MIN_AREAL_UNITS)
        )
    if r["result"] in ("clustered", "dispersed"):
        return t["moran_sig"].format(
            name=name, word=t[r["result"]], I=r["I"], p=r["p_sim"], cells=r["cells"]
        )
    p = r["p_sim"] if r.get("p_sim") is not None else r["p_norm"]
    return t["moran_ns"].format(name=name, I=r["I"], p=p, cells=r["cells"])


def moran_sentence(result: ClusterAnalysis, *, lang: str = "zh") -> str:
    """The citywide Moran's I sentence of ``summary.md`` (all parks together), without its bullet.

    For example ``"全部园区的投资显著集聚：Moran's I = 0.04，p = 0.033（265 个网格）。"``, or
    ``"全部园区：网格太少，无法检验 Moran's I（n = 12 个网格，至少需要 30 个）。"``.
    """
    t = texts(lang, "map", "report")
    return _moran_line(t, t["city_grid"], result.hexes.stats["moran"]).removeprefix("- ")


def hot_spots_untested(result: ClusterAnalysis, *, lang: str = "zh") -> str | None:
    """Why Gi* and local Moran were not run (one sentence), or ``None`` when they were."""
    t = texts(lang, "map", "report")
    gi: dict[str, Any] = result.hexes.stats.get("gi", {})
    outcome = gi.get("result")
    if outcome == "no_projects":
        return t["hot_none"]
    if outcome == "too_few_cells":
        return t["hot_few"].format(cells=gi["cells"], need=gi.get("needs", MIN_AREAL_UNITS))
    if outcome == "too_few_nonzero_cells":
        need = gi.get("needs", MIN_NONZERO_UNITS)
        return t["hot_sparse"].format(nonzero=gi["nonzero_cells"], need=need)
    return None


def clusters_sentence(result: ClusterAnalysis, *, lang: str = "zh") -> str:
    """``"共 5 个集群；78 个项目不属于任何集群。"``, or why no cluster could be looked for."""
    t = texts(lang, "map", "report")
    params = result.clusters.params
    if params.get("result") == "too_few_points":
        if "investment_used_100m_cny" in params:
            n: float = round(float(params["investment_used_100m_cny"]), 2)
            return t["clusters_few_weighted"].format(n=n, need=params["needs"])
        return t["clusters_few"].format(n=params["projects_used"], need=params["needs"])
    return str(t["clusters_n"].format(n=params["clusters"], noise=params["noise_projects"]))


def summary_markdown(result: ClusterAnalysis, *, lang: str = "zh") -> str:
    """The plain-language summary."""
    t = texts(lang, "map", "report")
    s = result.settings
    lines = [
        t["report_title"],
        "",
        t["report_crs"].format(
            crs=crs_words(CRS(s["metric_crs"]), lang),
            seed=s["seed"],
            perm=s["permutations"],
            sim=s["simulations"],
        ),
        "",
        t["clusters_h"].format(method=result.clusters.params["method"].upper()),
        "",
        clusters_sentence(result, lang=lang),
    ]
    names = {p["park_id"]: park_name(p, lang) for p in result.parks}
    for row in result.clusters.clusters.itertuples():
        parks = ", ".join(names.get(pid, pid) for pid in row.parks.split(";") if pid) or t["none"]
        lines.append(
            t["report_cluster"].format(
                id=row.cluster_id,
                n=row.projects,
                inv=row.investment_100m_cny,
                area=row.hull_area_km2,
                ind=row.dominant_industry or "—",
                parks=parks,
            )
        )
    lines += ["", t["nni_h"], "", _nni_line(t, t["city"], result.nni["citywide"])]
    lines += [_nni_line(t, names[pid], r) for pid, r in result.nni["parks"].items()]
    lines += ["", t["city_area"], "", t["ripley_h"], ""]
    lines.append(_ripley_line(t, t["city"], result.ripley["citywide"]))
    lines += [_ripley_line(t, names[pid], r) for pid, r in result.ripley["parks"].items()]
    stats = result.hexes.stats
    lines += ["", t["moran_h"].format(cell=s["cell_km"]), ""]
    lines.append(_moran_line(t, t["city_grid"], stats["moran"]))
    lines += [_moran_line(t, names[pid], r) for pid, r in stats["moran_by_park"].items()]
    lines += ["", t["hot_h"], ""]
    untested = hot_spots_untested(result, lang=lang)
    if untested is not None:
        lines.append(untested)
        return "\n".join(lines) + "\n"
    cells = result.hexes.cells
    quads = cells["lisa_quadrant"].value_counts()
    lines.append(
        t["hot"].format(
            h=int((cells["gi_bin"] > 0).sum()),
            c=int((cells["gi_bin"] < 0).sum()),
            fdr=t["fdr_on"] if s["fdr"] else t["fdr_off"],
            hh=int(quads.get("HH", 0)),
            ll=int(quads.get("LL", 0)),
            hl=int(quads.get("HL", 0)),
            lh=int(quads.get("LH", 0)),
        )
    )
    for key, mask in (("hot_parks", cells["gi_bin"] > 0), ("cold_parks", cells["gi_bin"] < 0)):
        ids = sorted(
            {pid for value in cells.loc[mask, "park_ids"] for pid in value.split(";") if pid}
        )
        lines.append(t[key].format(parks=", ".join(names.get(i, i) for i in ids) or t["none"]))
    return "\n".join(lines) + "\n"

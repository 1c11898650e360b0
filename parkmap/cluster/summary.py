"""``summary.md``: the statistics in plain language, in Chinese or English."""

from __future__ import annotations

from parkmap.cluster.core import ClusterAnalysis
from parkmap.cluster.pattern import MAX_POINTS_RIPLEY, MIN_POINTS_NNI, MIN_POINTS_RIPLEY
from parkmap.i18n import park_name, texts


def _nni_line(t: dict, name: str, r: dict) -> str:
    if r["pattern"] == "too_few_points":
        return t["few"].format(name=name, n=r["n"], stat="NNI", need=MIN_POINTS_NNI)
    if r["pattern"] == "no_area":
        return t["noarea"].format(name=name, stat="NNI")
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
    pattern = r["pattern"]
    if pattern == "too_few_points":
        return t["few"].format(name=name, n=r["n"], stat="Ripley L", need=MIN_POINTS_RIPLEY)
    if pattern == "no_area":
        return t["noarea"].format(name=name, stat="Ripley L")
    if pattern == "too_many_points":
        return t["many"].format(name=name, n=r["n"], stat="Ripley L", most=MAX_POINTS_RIPLEY)
    at = r["clustered_at_m"] if pattern == "clustered" else r["dispersed_at_m"]
    if pattern in ("clustered", "dispersed"):
        return t[f"r_{pattern}"].format(name=name, lo=min(at), hi=max(at), sim=r["simulations"])
    return t[f"r_{pattern}"].format(name=name)


def _moran_line(t: dict, name: str, r: dict) -> str:
    if "I" not in r:
        key = "moran_flat" if r.get("result") == "no_variation" else "moran_few"
        return t[key].format(name=name, cells=r["cells"])
    if r["result"] in ("clustered", "dispersed"):
        return t["moran_sig"].format(
            name=name, word=t[r["result"]], I=r["I"], p=r["p_sim"], cells=r["cells"]
        )
    p = r["p_sim"] if r.get("p_sim") is not None else r["p_norm"]
    return t["moran_ns"].format(name=name, I=r["I"], p=p, cells=r["cells"])


def moran_sentence(result: ClusterAnalysis, *, lang: str = "zh") -> str:
    """The citywide Moran's I sentence of ``summary.md`` (all parks together), without its bullet.

    For example ``"全部园区的投资显著集聚：Moran's I = 0.04，p = 0.033（265 个网格）。"``.
    """
    t = texts(lang, "map", "report")
    return _moran_line(t, t["city_grid"], result.hexes.stats["moran"]).removeprefix("- ")


def summary_markdown(result: ClusterAnalysis, *, lang: str = "zh") -> str:
    """The plain-language summary."""
    t = texts(lang, "map", "report")
    s = result.settings
    lines = [
        t["report_title"],
        "",
        t["report_crs"].format(
            crs=s["metric_crs"], seed=s["seed"], perm=s["permutations"], sim=s["simulations"]
        ),
        "",
        t["clusters_h"].format(method=result.clusters.params["method"].upper()),
        "",
        t["clusters_n"].format(
            n=result.clusters.params["clusters"], noise=result.clusters.params["noise_projects"]
        ),
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

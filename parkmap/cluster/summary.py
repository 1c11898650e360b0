"""``summary.md``: the statistics in plain language, in Chinese or English."""

from __future__ import annotations

from parkmap.cluster.core import ClusterAnalysis
from parkmap.cluster.pattern import MAX_POINTS_RIPLEY, MIN_POINTS_NNI, MIN_POINTS_RIPLEY

_T = {
    "en": {
        "title": "# Where projects cluster",
        "crs": "Distances in metres in {crs}; seed {seed}, {perm} permutations, {sim} simulations.",
        "clusters_h": "## Clusters of projects ({method})",
        "clusters_n": "{n} clusters; {noise} projects belong to none.",
        "cluster": "- Cluster {id}: {n} projects, {inv:.2f} 亿元, hull {area:.2f} km², mostly "
        "{ind}; parks: {parks}.",
        "nni_h": "## Average nearest neighbour",
        "clustered": "clustered",
        "dispersed": "dispersed",
        "random": "no different from random",
        "nni": "- {name}: projects are {word} (NNI = {nni:.2f}, z = {z:.2f}, p = {p:.3g}, "
        "n = {n}, area {area:.2f} km²).",
        "few": "- {name}: {n} projects — too few for {stat} (needs at least {need}).",
        "noarea": "- {name}: no study area, {stat} not computed.",
        "many": "- {name}: {n} projects — too many for {stat} here (at most {most}).",
        "city": "Citywide",
        "city_grid": "all parks taken together",
        "city_area": "The citywide study area is the convex hull of all projects.",
        "ripley_h": "## Ripley's L (distances at which projects cluster)",
        "r_clustered": "- {name}: clustered at {lo:.0f}–{hi:.0f} m (L above the envelope of "
        "{sim} random patterns).",
        "r_dispersed": "- {name}: dispersed at {lo:.0f}–{hi:.0f} m.",
        "r_mixed": "- {name}: clustered at some distances and dispersed at others.",
        "r_random": "- {name}: within the random envelope at every distance.",
        "moran_h": "## Investment on {cell:g} km hexagons (Moran's I)",
        "moran_sig": "- Investment in {name} is significantly {word}: Moran's I = {I:.2f}, "
        "p = {p:.3g} ({cells} cells).",
        "moran_ns": "- Investment in {name} shows no significant spatial pattern: Moran's I = "
        "{I:.2f}, p = {p:.3g} ({cells} cells).",
        "moran_few": "- {name}: {cells} cells — too few for Moran's I.",
        "moran_flat": "- {name}: every cell has the same investment; Moran's I is undefined.",
        "hot_h": "## Hot and cold spots (Getis–Ord Gi*)",
        "hot": "{h} hot-spot cells and {c} cold-spot cells at 90 % confidence or more "
        "({fdr}). Local Moran: {hh} HH, {ll} LL, {hl} HL, {lh} LH cells.",
        "fdr_on": "FDR-corrected",
        "fdr_off": "no FDR correction",
        "hot_parks": "- Hot spots in: {parks}.",
        "cold_parks": "- Cold spots in: {parks}.",
        "none": "none",
    },
    "zh": {
        "title": "# 项目集聚分析",
        "crs": "距离以米计，投影为 {crs}；随机种子 {seed}，置换 {perm} 次，模拟 {sim} 次。",
        "clusters_h": "## 项目集群（{method}）",
        "clusters_n": "共 {n} 个集群；{noise} 个项目不属于任何集群。",
        "cluster": "- 集群 {id}：{n} 个项目，投资 {inv:.2f} 亿元，凸包面积 {area:.2f} km²，"
        "主导产业 {ind}；涉及园区：{parks}。",
        "nni_h": "## 平均最近邻",
        "clustered": "显著集聚",
        "dispersed": "显著分散",
        "random": "与随机分布无显著差异",
        "nni": "- {name}：项目{word}（最近邻指数 NNI = {nni:.2f}，z = {z:.2f}，p = {p:.3g}，"
        "n = {n}，面积 {area:.2f} km²）。",
        "few": "- {name}：仅 {n} 个项目，样本太少，无法计算{stat}（至少需要 {need} 个）。",
        "noarea": "- {name}：研究区面积为零，未计算{stat}。",
        "many": "- {name}：{n} 个项目，超过 {most} 个，未计算{stat}。",
        "city": "全市",
        "city_grid": "全部园区",
        "city_area": "全市的研究区为全部项目的凸包。",
        "ripley_h": "## Ripley L 函数（在哪些距离上集聚）",
        "r_clustered": "- {name}：在 {lo:.0f}–{hi:.0f} 米范围内集聚"
        "（L 高于 {sim} 次随机模拟的包络）。",
        "r_dispersed": "- {name}：在 {lo:.0f}–{hi:.0f} 米范围内分散。",
        "r_mixed": "- {name}：部分距离集聚、部分距离分散。",
        "r_random": "- {name}：各距离上均在随机包络之内。",
        "moran_h": "## {cell:g} 公里六边形网格上的投资（Moran's I）",
        "moran_sig": "- {name}的投资{word}：Moran's I = {I:.2f}，p = {p:.3g}（{cells} 个网格）。",
        "moran_ns": "- {name}的投资无显著空间格局：Moran's I = {I:.2f}，p = {p:.3g}"
        "（{cells} 个网格）。",
        "moran_few": "- {name}：仅 {cells} 个网格，无法计算 Moran's I。",
        "moran_flat": "- {name}：各网格投资相同，Moran's I 无定义。",
        "hot_h": "## 热点与冷点（Getis–Ord Gi*）",
        "hot": "置信度 90% 及以上的热点网格 {h} 个、冷点网格 {c} 个（{fdr}）。"
        "局部 Moran：HH {hh} 个、LL {ll} 个、HL {hl} 个、LH {lh} 个。",
        "fdr_on": "经 FDR 校正",
        "fdr_off": "未做 FDR 校正",
        "hot_parks": "- 热点所在园区：{parks}。",
        "cold_parks": "- 冷点所在园区：{parks}。",
        "none": "无",
    },
}


def _name(park: dict, lang: str) -> str:
    if lang == "en" and park.get("name_en"):
        return park["name_en"]
    return park["name"]


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
    t = _T[lang]
    return _moran_line(t, t["city_grid"], result.hexes.stats["moran"]).removeprefix("- ")


def summary_markdown(result: ClusterAnalysis, *, lang: str = "zh") -> str:
    """The plain-language summary."""
    t = _T[lang]
    s = result.settings
    lines = [
        t["title"],
        "",
        t["crs"].format(
            crs=s["metric_crs"], seed=s["seed"], perm=s["permutations"], sim=s["simulations"]
        ),
        "",
        t["clusters_h"].format(method=result.clusters.params["method"].upper()),
        "",
        t["clusters_n"].format(
            n=result.clusters.params["clusters"], noise=result.clusters.params["noise_projects"]
        ),
    ]
    names = {p["park_id"]: _name(p, lang) for p in result.parks}
    for row in result.clusters.clusters.itertuples():
        parks = ", ".join(names.get(pid, pid) for pid in row.parks.split(";") if pid) or t["none"]
        lines.append(
            t["cluster"].format(
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

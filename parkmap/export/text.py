"""Words of the static maps, atlas and workbook, in Chinese and English.

Map words shared with the interactive map come from :mod:`parkmap.i18n`.
"""

from __future__ import annotations

from parkmap.i18n import SCHEME_NAMES, texts

EXPORT_TEXT: dict[str, dict[str, str]] = {
    "zh": {
        "scale": "比例尺",
        "north": "北",
        "north_note": "指北针指向真北",
        "date": "制图日期：{date}",
        "crs": "投影：{crs}",
        "context": "行政区界（示意）",
        "unknown_size": "投资额未知",
        "cover_title": "园区图集",
        "totals": "全市合计",
        "total_projects": "已上图项目",
        "total_investment": "总投资（亿元）",
        "total_unknown": "投资额未知的项目",
        "total_outside": "园区外项目",
        "total_parks": "园区数",
        "overview": "总览",
        "rank_of": "第 {rank} / {n} 名",
        "top_projects": "投资额最大的项目（前 {n} 个）",
        "no_projects": "园区内无项目",
        "page": "第 {page} / {pages} 页",
        "col_name": "项目名称",
        "col_industry": "行业",
        "col_status": "状态",
        "col_investment": "投资额（亿元）",
        "col_date": "签约日期",
        "col_id": "项目编号",
        "total_row": "合计",
        "sheet_parks": "园区",
        "sheet_notes": "说明",
        "xlsx_total_note": "合计行：面积、项目数、投资额为各园区之和（跨园区项目计入每个园区）；"
        "密度 = 投资合计 / 面积合计",
        "hot_title": "投资热点与项目集群",
        "hot_legend": "投资热点（Getis–Ord Gi*）",
        "hot_bin_hot": "热点，{conf}% 置信度",
        "hot_bin_cold": "冷点，{conf}% 置信度",
        "hot_bin_ns": "不显著",
        "hot_grid": "{cell:g} km 六边形网格内的投资额（亿元）",
        "hot_fdr_on": "已做 FDR 校正",
        "hot_fdr_off": "未做 FDR 校正",
        "hot_perm": "置换 {perm} 次，随机种子 {seed}",
        "legend_clusters": "项目集群",
        "cluster_hull": "集群范围（凸包）及编号",
        "park_outline": "园区边界",
        "cluster_dbscan": "DBSCAN：{eps:g} 米内至少 {min} 个项目",
        "cluster_dbscan_weighted": "DBSCAN：{eps:g} 米内投资至少 {min} 亿元",
        "cluster_hdbscan": "HDBSCAN：每个集群至少 {min} 个项目",
        "clusters_count": "共 {n} 个集群，{noise} 个项目不属于任何集群",
        "lisa_counts": "局部 Moran：HH {hh}、LL {ll}、HL {hl}、LH {lh} 个网格",
        "top_clusters": "主要项目集群（按投资额，前 {n} 个）",
        "no_clusters": "未发现项目集群",
        "col_cluster": "集群",
        "col_hull": "凸包面积（km²）",
        "col_dominant": "主导产业",
    },
    "en": {
        "scale": "Scale",
        "north": "N",
        "north_note": "North arrow points to true north",
        "date": "Map date: {date}",
        "crs": "Projection: {crs}",
        "context": "District outlines (schematic)",
        "unknown_size": "Investment unknown",
        "cover_title": "Park atlas",
        "totals": "Citywide totals",
        "total_projects": "Projects mapped",
        "total_investment": "Investment (100M CNY)",
        "total_unknown": "Projects with unknown investment",
        "total_outside": "Projects outside parks",
        "total_parks": "Parks",
        "overview": "Overview",
        "rank_of": "{rank} of {n}",
        "top_projects": "Largest projects by investment (top {n})",
        "no_projects": "No projects in this park",
        "page": "Page {page} of {pages}",
        "col_name": "Project",
        "col_industry": "Industry",
        "col_status": "Status",
        "col_investment": "100M CNY",
        "col_date": "Signed",
        "col_id": "Project ID",
        "total_row": "Total",
        "sheet_parks": "Parks",
        "sheet_notes": "Notes",
        "xlsx_total_note": "Total row: area, projects and investment are sums over parks (a "
        "project in two parks counts in both); density = total investment / total area",
        "hot_title": "Investment hot spots and project clusters",
        "hot_legend": "Investment hot spots (Getis–Ord Gi*)",
        "hot_bin_hot": "Hot spot, {conf}% confidence",
        "hot_bin_cold": "Cold spot, {conf}% confidence",
        "hot_bin_ns": "Not significant",
        "hot_grid": "Investment (100M CNY) per {cell:g} km hexagon",
        "hot_fdr_on": "FDR-corrected",
        "hot_fdr_off": "no FDR correction",
        "hot_perm": "{perm} permutations, seed {seed}",
        "legend_clusters": "Project clusters",
        "cluster_hull": "Cluster extent (convex hull) and number",
        "park_outline": "Park boundary",
        "cluster_dbscan": "DBSCAN: at least {min} projects within {eps:g} m",
        "cluster_dbscan_weighted": "DBSCAN: at least {min} (100M CNY) within {eps:g} m",
        "cluster_hdbscan": "HDBSCAN: at least {min} projects per cluster",
        "clusters_count": "{n} clusters; {noise} projects belong to none",
        "lisa_counts": "Local Moran: {hh} HH, {ll} LL, {hl} HL, {lh} LH cells",
        "top_clusters": "Largest project clusters by investment (top {n})",
        "no_clusters": "No project clusters found",
        "col_cluster": "Cluster",
        "col_hull": "Hull (km²)",
        "col_dominant": "Main industry",
    },
}


def export_texts(lang: str) -> dict[str, str]:
    """Every word an export uses in ``lang``: the map words plus the export words."""
    out = texts(lang)
    out.update(EXPORT_TEXT[lang])
    return out


def scheme_label(lang: str, scheme: str, k: int) -> str:
    """``"分级：分位数，5 级"`` / ``"Classes: quantiles, 5"``."""
    return texts(lang)["scheme"].format(scheme=SCHEME_NAMES[lang][scheme], k=k)


def with_unit(lang: str, label: str, unit: str) -> str:
    """``"面积（km²）"`` in Chinese, ``"Area (km²)"`` in English."""
    return f"{label}（{unit}）" if lang == "zh" else f"{label} ({unit})"


def fmt_number(x: float, digits: int = 2) -> str:
    """Thousands separators; two decimals below 100, none above."""
    if x != x:  # NaN
        return "–"
    return f"{x:,.{digits}f}" if abs(x) < 100 else f"{x:,.0f}"

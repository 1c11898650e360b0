"""Every word parkmap shows, in Chinese and English: one table for the web map, the sheets and the
reports.

:data:`TEXT` holds the words by where they appear (``map``, ``basemap``, ``sheet``, ``report``,
``plot``, ``scheme``, ``row``, ``form``), each group once per language with the same keys; a word's
placeholders (``{n}``, ``{km}``) are the same in both languages. Keys are unique across the
groups, so :func:`texts` can merge groups without one word hiding another. Sentences carry
their punctuation in the table (``"{label}（{unit}）"`` / ``"{label} ({unit})"``), so code never
picks words or punctuation by language.

Example:
    >>> from parkmap.i18n import texts, with_unit
    >>> texts("en")["layer_projects"]
    'Projects'
    >>> texts("zh", "map", "sheet")["page"].format(page=2, pages=7)
    '第 2 / 7 页'
    >>> with_unit("zh", "面积", "km²"), with_unit("en", "Area", "km²")
    ('面积（km²）', 'Area (km²)')
"""

from __future__ import annotations

import math
import re
import warnings
from collections.abc import Mapping
from typing import TYPE_CHECKING, Final

import pandas as pd

from parkmap.errors import UsageError
from parkmap.settings import LANGUAGES

if TYPE_CHECKING:
    from pyproj import CRS

#: Display labels for the statuses, by language.
STATUS_LABELS: Final[dict[str, dict[str, str]]] = {
    "zh": {
        "planned": "在谈/前期",
        "signed": "签约",
        "under_construction": "在建",
        "in_production": "投产",
        "unknown": "未知",
    },
    "en": {
        "planned": "In talks / planned",
        "signed": "Signed",
        "under_construction": "Under construction",
        "in_production": "In production",
        "unknown": "Unknown",
    },
}

#: ``TEXT[group][lang][key]``. Groups: ``map`` the interactive map (its page gets the whole
#: group; the sheets reuse its words), ``basemap`` the tile layers' names, ``sheet`` the static
#: maps, atlas, hot-spot page and workbook, ``report`` ``summary.md`` of the cluster analysis,
#: ``plot`` the Ripley plots, ``scheme`` the names of the classification schemes, ``row`` the
#: row warnings of the join, ``form`` how a label is joined to its unit or value. Project
#: statuses are in :data:`STATUS_LABELS`.
TEXT: Final[dict[str, dict[str, dict[str, str]]]] = {
    # The interactive map: titles, layers, legend, filters, popups, notes. The page gets this
    # whole group; the sheets reuse its words (legend titles, units, notes).
    "map": {
        "zh": {
            "title": "青岛重点产业园区投资项目",
            "title_parks": "{parks} 个园区投资项目",
            "title_layer": "{layer}：{parks} 个园区投资项目",
            "layer_parks": "园区投资密度",
            "layer_projects": "投资项目",
            "layer_density": "投资核密度（平滑）",
            "layer_context": "行政区与地标",
            "layer_hexes": "投资网格 ({km} km)",
            "legend_hexes": "每格投资（{km} km 网格）",
            "legend_aggregate": "项目聚合（每格项目数）",
            "unit_100m_cell": "亿元/格",
            "filters": "筛选",
            "filter_status": "状态",
            "filter_industry": "行业",
            "filter_year": "签约年份（累计至）",
            "filter_no_date": "含无签约日期",
            "filter_play": "逐年播放",
            "filter_investment": "投资额（亿元）",
            "filter_min": "最小",
            "filter_max": "最大",
            "filter_unknown_inv": "含投资额未知",
            "filter_shown": "显示 {n} 个项目 · 合计 {inv} 亿元",
            "search": "搜索园区或项目名称",
            "search_none": "无匹配园区或项目",
            "layers": "图层",
            "zoom_in": "放大",
            "zoom_out": "缩小",
            "close": "关闭",
            "warn_line": "{label}：{text}",
            "paren": "（{text}）",
            "cell_projects": "项目数",
            "cell_investment": "投资额",
            "cell_density": "投资密度",
            "aggregate_hint": "放大查看单个项目",
            "legend": "图例",
            "legend_parks": "园区投资密度",
            "legend_status": "项目状态",
            "legend_industry": "项目行业",
            "legend_size": "投资额",
            "legend_density": "核密度（平滑）：项目投资",
            "density_bandwidth": "带宽 {km} km；独立色阶，与园区分级不可直接比较",
            "no_data": "无数据",
            "legend_no_projects": "无项目",
            "classes_all_projects": "分级界值按全部项目；颜色与计数按筛选后的项目",
            "legend_all_projects": "全部项目（不随筛选变化）",
            "filtered_figures": "按筛选后的项目",
            "filtered_drawn_only": "筛选后的数字只计地图上标出的项目",
            "other": "其他",
            "unclassified": "未分类",
            "unknown_investment": "投资额未知",
            "unknown": "未知",
            "no_investment_data": "投资额未知（文件无投资额）",
            "no_status_data": "状态未知（文件无项目状态）",
            "summary_unknown_inv": "{parks} 个园区 · {projects} 个项目 · 投资额未知",
            "projects": "项目数",
            "investment": "投资额",
            "area": "面积",
            "density": "投资密度",
            "rank": "密度排名",
            "by_status": "按状态",
            "top_industries": "主要行业",
            "park": "园区",
            "outside": "园区外，距最近园区{park} {km} km",
            "declared_outside": "（按所属园区计入，点位在园区范围外 {km} km）",
            "near_park": "（{park}）",
            "status": "状态",
            "industry": "行业",
            "signed_date": "签约日期",
            "project_id": "项目编号",
            "coords_orig": "原始坐标",
            "warnings": "数据提示",
            "unit_100m": "亿元",
            "unit_area": "km²",
            "unit_density": "亿元/km²",
            "unit_count_density": "个项目/km²",
            "fullscreen": "全屏",
            "chg_layer": "项目变化",
            "chg_legend": "项目变化",
            "chg_new": "新增",
            "chg_up": "状态推进",
            "chg_back": "状态倒退",
            "chg_removed": "移出",
            "chg_before": "之前",
            "chg_after": "之后",
            "chg_layer_added": "园区新增投资",
            "chg_legend_added": "园区新增投资（亿元）",
            "chg_no_gain": "无新增投资",
            "exit_fullscreen": "退出全屏",
            "summary": "{parks} 个园区 · {projects} 个项目 · 合计 {investment} 亿元",
            "note_schematic": "园区边界为示意",
            "note_synthetic": "{n} 个项目为合成数据",
            "note_missing": "{n} 个项目缺少坐标，未显示",
            "scheme": "分级：{scheme}，{k} 级",
            "layer_hotspots": "投资热点 (Gi*)",
            "layer_clusters": "项目集群",
            "legend_hotspots": "投资热点 Gi*（{km} km 网格）",
            "legend_clusters": "项目集群（凸包）",
            "gi_hot": "热点，置信度 {conf}%",
            "gi_cold": "冷点，置信度 {conf}%",
            "gi_ns": "不显著",
            "gi_z": "Gi* z 值",
            "gi_p": "p 值",
            "gi_confidence": "置信度",
            "lisa": "局部 Moran (LISA)",
            "lisa_HH": "高-高 (HH)",
            "lisa_HL": "高-低 (HL)",
            "lisa_LH": "低-高 (LH)",
            "lisa_LL": "低-低 (LL)",
            "lisa_ns": "不显著",
            "cluster": "集群 {id}",
            "cluster_label": "集群 {id} · {n} 个项目 · {inv} 亿元",
            "cluster_unknown_inv": "{n} 个项目投资额未知",
            "hull_area": "凸包面积",
            "dominant_industry": "主导行业",
            "dominant_projects": "{n} 个项目",
            "parks_touched": "涉及园区",
            "none": "无",
        },
        "en": {
            "title": "Qingdao industrial parks: investment projects",
            "title_parks": "Investment projects in {parks} parks",
            "title_layer": "{layer}: investment projects in {parks} parks",
            "layer_parks": "Park investment density",
            "layer_projects": "Projects",
            "layer_density": "Kernel-smoothed investment (KDE)",
            "layer_context": "Districts and landmarks",
            "layer_hexes": "Investment grid ({km} km)",
            "legend_hexes": "Investment per cell ({km} km grid)",
            "legend_aggregate": "Project bins (projects per bin)",
            "unit_100m_cell": "100M CNY per cell",
            "filters": "Filters",
            "filter_status": "Status",
            "filter_industry": "Industry",
            "filter_year": "Signed up to year",
            "filter_no_date": "Include projects without a date",
            "filter_play": "Play the years",
            "filter_investment": "Investment (100M CNY)",
            "filter_min": "min",
            "filter_max": "max",
            "filter_unknown_inv": "Include unknown investment",
            "filter_shown": "{n} projects shown · {inv} (100M CNY) in total",
            "search": "Search park or project name",
            "search_none": "No matching park or project",
            "layers": "Layers",
            "zoom_in": "Zoom in",
            "zoom_out": "Zoom out",
            "close": "Close",
            "warn_line": "{label}: {text}",
            "paren": " ({text})",
            "cell_projects": "Projects",
            "cell_investment": "Investment",
            "cell_density": "Density",
            "aggregate_hint": "Zoom in to see single projects",
            "legend": "Legend",
            "legend_parks": "Park investment density",
            "legend_status": "Project status",
            "legend_industry": "Project industry",
            "legend_size": "Investment",
            "legend_density": "Kernel-smoothed investment",
            "density_bandwidth": "bandwidth {km} km; its own scale, not the park classes'",
            "no_data": "No data",
            "legend_no_projects": "No projects",
            "classes_all_projects": "class breaks of all projects; colours and counts of the "
            "filtered projects",
            "legend_all_projects": "all projects (does not follow the filters)",
            "filtered_figures": "of the filtered projects",
            "filtered_drawn_only": "filtered figures count only the projects drawn on the map",
            "other": "Other",
            "unclassified": "Unclassified",
            "unknown_investment": "Investment unknown",
            "unknown": "unknown",
            "no_investment_data": "Investment unknown (no amounts in the file)",
            "no_status_data": "Status unknown (no status in the file)",
            "summary_unknown_inv": "{parks} parks · {projects} projects · investment unknown",
            "projects": "Projects",
            "investment": "Investment",
            "area": "Area",
            "density": "Density",
            "rank": "Density rank",
            "by_status": "By status",
            "top_industries": "Top industries",
            "park": "Park",
            "outside": "Outside parks, {km} km to nearest park{park}",
            "declared_outside": " (counted as its ledger declares; {km} km outside the outline)",
            "near_park": " ({park})",
            "status": "Status",
            "industry": "Industry",
            "signed_date": "Signed",
            "project_id": "Project ID",
            "coords_orig": "Original coordinates",
            "warnings": "Warnings",
            "unit_100m": "100M CNY",
            "unit_area": "km²",
            "unit_density": "100M CNY/km²",
            "unit_count_density": "projects/km²",
            "fullscreen": "Full screen",
            "chg_layer": "Project changes",
            "chg_legend": "Project changes",
            "chg_new": "New",
            "chg_up": "Stepped up",
            "chg_back": "Stepped back",
            "chg_removed": "Removed",
            "chg_before": "Before",
            "chg_after": "After",
            "chg_layer_added": "Parks by investment added",
            "chg_legend_added": "Investment added by park (100 M CNY)",
            "chg_no_gain": "No investment added",
            "exit_fullscreen": "Exit full screen",
            "summary": "{parks} parks · {projects} projects · {investment} (100M CNY) in total",
            "note_schematic": "Park boundaries are schematic",
            "note_synthetic": "{n} projects are synthetic",
            "note_missing": "{n} projects have no coordinates and are not shown",
            "scheme": "Classes: {scheme}, {k}",
            "layer_hotspots": "Investment hot spots (Gi*)",
            "layer_clusters": "Project clusters",
            "legend_hotspots": "Investment hot spots (Gi*, {km} km grid)",
            "legend_clusters": "Project clusters (convex hulls)",
            "gi_hot": "Hot spot, {conf}% confidence",
            "gi_cold": "Cold spot, {conf}% confidence",
            "gi_ns": "Not significant",
            "gi_z": "Gi* z-score",
            "gi_p": "p-value",
            "gi_confidence": "Confidence",
            "lisa": "Local Moran (LISA)",
            "lisa_HH": "High-High (HH)",
            "lisa_HL": "High-Low (HL)",
            "lisa_LH": "Low-High (LH)",
            "lisa_LL": "Low-Low (LL)",
            "lisa_ns": "Not significant",
            "cluster": "Cluster {id}",
            "cluster_label": "Cluster {id} · {n} projects · {inv} (100M CNY)",
            "cluster_unknown_inv": "{n} projects with unknown investment",
            "hull_area": "Hull area",
            "dominant_industry": "Dominant industry",
            "dominant_projects": "{n} projects",
            "parks_touched": "Parks touched",
            "none": "none",
        },
    },
    # Names of the background tile layers in the map's layer control.
    "basemap": {
        "zh": {
            "tiles_amap": "高德地图",
            "tiles_amap_satellite": "高德影像",
            "tiles_amap_labels": "高德注记",
            "tiles_tianditu": "天地图",
            "tiles_tianditu_labels": "天地图注记",
        },
        "en": {
            "tiles_amap": "Amap",
            "tiles_amap_satellite": "Amap satellite",
            "tiles_amap_labels": "Amap labels",
            "tiles_tianditu": "Tianditu",
            "tiles_tianditu_labels": "Tianditu labels",
        },
    },
    # The static maps, the atlas (cover, park pages, hot-spot page) and parks.xlsx.
    "sheet": {
        "zh": {
            "scale": "比例尺",
            "north": "北",
            "north_note": "指北针指向真北",
            "labels_dropped": "图上未标注（无处可放）：{names}",
            "list_sep": "、",
            "date": "制图日期：{date}",
            "crs": "投影：{crs}",
            "context": "行政区界（示意）",
            "context_user": "参考图层（用户提供）",
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
            "col_park_id": "园区编号",
            "col_park": "园区名称",
            "col_name_en": "英文名称",
            "total_row": "合计",
            "sheet_parks": "园区",
            "sheet_notes": "说明",
            "xlsx_total_note": "合计行：面积、项目数、投资额为各园区之和"
            "（跨园区项目计入每个园区）；密度 = 投资合计 / 面积合计",
            "hot_title": "投资热点与项目集群",
            "hot_legend": "投资热点（Getis–Ord Gi*）",
            "hot_bin_hot": "热点，{conf}% 置信度",
            "hot_bin_cold": "冷点，{conf}% 置信度",
            "hot_bin_ns": "不显著",
            "hot_grid": "{cell:g} km 六边形网格内的投资额（亿元）",
            "hot_fdr_on": "已做 FDR 校正",
            "hot_fdr_off": "未做 FDR 校正",
            "hot_perm": "置换 {perm} 次，随机种子 {seed}",
            "hot_note": "{fdr}；{perm}",
            "hot_clusters": "项目集群",
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
            "hot_bin_untested": "未检验",
            "crs_gk": "CGCS2000 3 度带高斯-克吕格投影（中央经线 {cm}°E，{code}）",
            "crs_albers": "Albers 等积圆锥投影（中国）",
            "lisa_untested": "局部 Moran：未检验",
        },
        "en": {
            "scale": "Scale",
            "north": "N",
            "north_note": "North arrow points to true north",
            "labels_dropped": "Not labelled on the map (no room): {names}",
            "list_sep": ", ",
            "date": "Map date: {date}",
            "crs": "Projection: {crs}",
            "context": "District outlines (schematic)",
            "context_user": "Context layer (supplied)",
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
            "col_park_id": "Park ID",
            "col_park": "Park",
            "col_name_en": "Name (English)",
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
            "hot_note": "{fdr}; {perm}",
            "hot_clusters": "Project clusters",
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
            "hot_bin_untested": "Not tested",
            "crs_gk": "CGCS2000 3-degree Gauss–Krüger, CM {cm}°E ({code})",
            "crs_albers": "Albers equal-area conic (China)",
            "lisa_untested": "Local Moran: not tested",
        },
    },
    # summary.md of the cluster analysis.
    "report": {
        "zh": {
            "report_title": "# 项目集聚分析",
            "report_crs": "距离以米计，投影为 {crs}；随机种子 {seed}，置换 {perm} 次，"
            "模拟 {sim} 次。",
            "clusters_h": "## 项目集群（{method}）",
            "clusters_n": "共 {n} 个集群；{noise} 个项目不属于任何集群。",
            "report_cluster": "- 集群 {id}：{n} 个项目，投资 {inv:.2f} 亿元，"
            "凸包面积 {area:.2f} km²，主导产业 {ind}；涉及园区：{parks}。",
            "nni_h": "## 平均最近邻",
            "clustered": "显著集聚",
            "dispersed": "显著分散",
            "random": "与随机分布无显著差异",
            "nni": "- {name}：项目{word}（最近邻指数 NNI = {nni:.2f}，z = {z:.2f}，p = {p:.3g}，"
            "n = {n}，面积 {area:.2f} km²）。",
            "few": "- {name}：项目太少，无法检验 {stat}（n = {n}，至少需要 {need} 个）。",
            "stat_none": "- {name}：无项目。",
            "clusters_few": "项目太少，无法寻找集群（n = {n}，至少需要 {need} 个）。",
            "clusters_few_weighted": "已知投资额太少，无法寻找集群"
            "（合计 {n:g} 亿元，至少需要 {need} 亿元）。",
            "noarea": "- {name}：研究区面积为零，未计算{stat}。",
            "many": "- {name}：{n} 个项目，超过 {most} 个，未计算{stat}。",
            "city": "全市",
            "city_grid": "全部园区",
            "city_area": "全市的研究区为全部项目的凸包。",
            "ripley_h": "## Ripley L 函数（在哪些距离上集聚）",
            "r_clustered": "- {name}：在 {span} 米范围内集聚（L 高于 {sim} 次随机模拟的包络）。",
            "r_dispersed": "- {name}：在 {span} 米范围内分散。",
            "r_mixed": "- {name}：部分距离集聚、部分距离分散。",
            "r_random": "- {name}：各距离上均在随机包络之内。",
            "moran_h": "## {cell:g} 公里六边形网格上的投资（Moran's I）",
            "moran_sig": "- {name}的投资{word}：Moran's I = {I:.2f}，p = {p:.3g}"
            "（{cells} 个网格）。",
            "moran_ns": "- {name}的投资无显著空间格局：Moran's I = {I:.2f}，p = {p:.3g}"
            "（{cells} 个网格）。",
            "moran_few": "- {name}：网格太少，无法检验 Moran's I（n = {cells} 个网格，"
            "至少需要 {need} 个）。",
            "moran_sparse": "- {name}：项目太少，无法检验 Moran's I（有投资的网格 n = {nonzero}，"
            "至少需要 {need} 个）。",
            "hot_few": "网格太少，无法检验热点与冷点（n = {cells} 个网格，至少需要 {need} 个）。",
            "hot_sparse": "项目太少，无法检验热点与冷点（有投资的网格 n = {nonzero}，"
            "至少需要 {need} 个）。",
            "hot_none": "无项目，未检验热点与冷点。",
            "moran_islands": "- {name}：网格互不相邻，无法检验 Moran's I。",
            "moran_flat": "- {name}：各网格投资相同，Moran's I 无定义。",
            "hot_h": "## 热点与冷点（Getis–Ord Gi*）",
            "hot": "置信度 90% 及以上的热点网格 {h} 个、冷点网格 {c} 个（{fdr}）。"
            "局部 Moran：HH {hh} 个、LL {ll} 个、HL {hl} 个、LH {lh} 个。",
            "fdr_on": "经 FDR 校正",
            "fdr_off": "未做 FDR 校正",
            "hot_parks": "- 热点所在园区：{parks}。",
            "cold_parks": "- 冷点所在园区：{parks}。",
        },
        "en": {
            "report_title": "# Where projects cluster",
            "report_crs": "Distances in metres in {crs}; seed {seed}, {perm} permutations, {sim} "
            "simulations.",
            "clusters_h": "## Clusters of projects ({method})",
            "clusters_n": "{n} clusters; {noise} projects belong to none.",
            "report_cluster": "- Cluster {id}: {n} projects, {inv:.2f} (100M CNY), "
            "hull {area:.2f} km², mostly {ind}; parks: {parks}.",
            "nni_h": "## Average nearest neighbour",
            "clustered": "clustered",
            "dispersed": "dispersed",
            "random": "no different from random",
            "nni": "- {name}: projects are {word} (NNI = {nni:.2f}, z = {z:.2f}, p = {p:.3g}, "
            "n = {n}, area {area:.2f} km²).",
            "few": "- {name}: too few projects to test {stat} (n = {n}; needs ≥ {need}).",
            "stat_none": "- {name}: no projects.",
            "clusters_few": "Too few projects to look for clusters (n = {n}; needs ≥ {need}).",
            "clusters_few_weighted": "Too little known investment to look for clusters ({n:g} in "
            "all; needs ≥ {need}, 100M CNY).",
            "noarea": "- {name}: no study area, {stat} not computed.",
            "many": "- {name}: {n} projects — too many for {stat} here (at most {most}).",
            "city": "Citywide",
            "city_grid": "all parks taken together",
            "city_area": "The citywide study area is the convex hull of all projects.",
            "ripley_h": "## Ripley's L (distances at which projects cluster)",
            "r_clustered": "- {name}: clustered at {span} m (L above the envelope of "
            "{sim} random patterns).",
            "r_dispersed": "- {name}: dispersed at {span} m.",
            "r_mixed": "- {name}: clustered at some distances and dispersed at others.",
            "r_random": "- {name}: within the random envelope at every distance.",
            "moran_h": "## Investment on {cell:g} km hexagons (Moran's I)",
            "moran_sig": "- Investment in {name} is significantly {word}: Moran's I = {I:.2f}, "
            "p = {p:.3g} ({cells} cells).",
            "moran_ns": "- Investment in {name} shows no significant spatial pattern: Moran's I = "
            "{I:.2f}, p = {p:.3g} ({cells} cells).",
            "moran_few": "- {name}: too few cells to test Moran's I (n = {cells}; needs ≥ {need}).",
            "moran_sparse": "- {name}: too few projects to test Moran's I (cells with investment "
            "n = {nonzero}; needs ≥ {need}).",
            "hot_few": "Too few cells to test hot and cold spots (n = {cells}; needs ≥ {need}).",
            "hot_sparse": "Too few projects to test hot and cold spots (cells with investment "
            "n = {nonzero}; needs ≥ {need}).",
            "hot_none": "No projects; hot and cold spots not tested.",
            "moran_islands": "- {name}: no cell has a neighbour; Moran's I not tested.",
            "moran_flat": "- {name}: every cell has the same investment; Moran's I is undefined.",
            "hot_h": "## Hot and cold spots (Getis–Ord Gi*)",
            "hot": "{h} hot-spot cells and {c} cold-spot cells at 90 % confidence or more ({fdr}). "
            "Local Moran: {hh} HH, {ll} LL, {hl} HL, {lh} LH cells.",
            "fdr_on": "FDR-corrected",
            "fdr_off": "no FDR correction",
            "hot_parks": "- Hot spots in: {parks}.",
            "cold_parks": "- Cold spots in: {parks}.",
        },
    },
    # Axes and legend of the Ripley L plots.
    "plot": {
        "zh": {
            "ripley_x": "距离 d（米）",
            "ripley_y": "L(d) − d（米）",
            "ripley_band": "模拟包络",
            "ripley_observed": "观测",
            "ripley_expected": "随机期望",
            "ripley_title": "Ripley L 函数：{name}（n = {n}）",
            "ripley_title_bare": "Ripley L 函数（n = {n}）",
        },
        "en": {
            "ripley_x": "distance d (m)",
            "ripley_y": "L(d) − d (m)",
            "ripley_band": "simulation envelope",
            "ripley_observed": "observed",
            "ripley_expected": "random (expected)",
            "ripley_title": "Ripley's L: {name} (n = {n})",
            "ripley_title_bare": "Ripley's L (n = {n})",
        },
    },
    # Classification schemes, as the legend's scheme line names them (key: scheme_<name>).
    "scheme": {
        "zh": {
            "scheme_quantiles": "分位数",
            "scheme_equal_interval": "等间距",
            "scheme_natural_breaks": "自然断点",
            "scheme_fisher_jenks": "Fisher-Jenks 最优",
            "scheme_jenks_caspall": "Jenks-Caspall",
            "scheme_maximum_breaks": "最大断点",
            "scheme_box_plot": "箱线图",
            "scheme_headtail_breaks": "头尾断点",
            "scheme_percentiles": "百分位",
            "scheme_std_mean": "均值标准差",
        },
        "en": {
            "scheme_quantiles": "quantiles",
            "scheme_equal_interval": "equal interval",
            "scheme_natural_breaks": "natural breaks",
            "scheme_fisher_jenks": "Fisher-Jenks",
            "scheme_jenks_caspall": "Jenks-Caspall",
            "scheme_maximum_breaks": "maximum breaks",
            "scheme_box_plot": "box plot",
            "scheme_headtail_breaks": "head/tail breaks",
            "scheme_percentiles": "percentiles",
            "scheme_std_mean": "standard deviation",
        },
    },
    # Row warnings the join writes (the project's ``warnings`` column); validation's own
    # warnings are English words in the code, these are chosen by the join's ``lang``.
    "row": {
        "zh": {
            "declared_counted": "所属园区 {declared}：点位在该园区范围外 {km} km，"
            "按台账所属园区计入",
        },
        "en": {
            "declared_counted": "declared park {declared} but the point lies {km} km outside it; "
            "counted in it as the ledger declares",
        },
    },
    # The weekly bulletin of ``parkmap compare`` (bulletin.pdf, bulletin.md).
    "bulletin": {
        "zh": {
            "bu_title": "园区项目周报",
            "bu_period": "对比：{old} → {new}",
            "bu_headline": "本期概况",
            "bu_h_projects": "项目数",
            "bu_h_investment": "总投资（亿元）",
            "bu_h_new": "新增项目",
            "bu_h_new_inv": "新增项目投资（亿元）",
            "bu_h_removed": "移出项目",
            "bu_h_ups": "状态推进",
            "bu_h_backs": "状态倒退",
            "bu_h_stalled": "无进展园区",
            "bu_arrow": "{before} → {after}",
            "bu_parks": "各园区变化",
            "bu_c_park": "园区",
            "bu_c_projects": "项目数",
            "bu_c_investment": "投资额（亿元）",
            "bu_c_change": "增减（亿元）",
            "bu_c_new": "新增项目",
            "bu_c_new_inv": "新增投资（亿元）",
            "bu_c_removed": "移出",
            "bu_c_ups": "推进",
            "bu_c_backs": "倒退",
            "bu_c_rank": "投资排名",
            "bu_map": "项目变化分布",
            "bu_largest": "最大的新增项目",
            "bu_c_project": "项目",
            "bu_c_status": "状态",
            "bu_stalled_rule": "无进展：无新增项目、无状态推进、投资额未增加",
            "bu_none": "无",
            "bu_sep": "、",
            "bu_rank_note": "排名按园区投资额（1 = 最多）；"
            "投资额未知的项目不计入合计（未知不等于 0）",
            "bu_match": "项目匹配：按项目编号 {by_id} 个，按名称与园区 {by_name} 个",
        },
        "en": {
            "bu_title": "Park projects bulletin",
            "bu_period": "Compared: {old} → {new}",
            "bu_headline": "Headline figures",
            "bu_h_projects": "Projects",
            "bu_h_investment": "Total investment (100 M CNY)",
            "bu_h_new": "New projects",
            "bu_h_new_inv": "Investment of new projects (100 M CNY)",
            "bu_h_removed": "Projects removed",
            "bu_h_ups": "Status steps up",
            "bu_h_backs": "Status steps back",
            "bu_h_stalled": "Parks with no progress",
            "bu_arrow": "{before} → {after}",
            "bu_parks": "Changes by park",
            "bu_c_park": "Park",
            "bu_c_projects": "Projects",
            "bu_c_investment": "Investment (100 M CNY)",
            "bu_c_change": "Change (100 M CNY)",
            "bu_c_new": "New projects",
            "bu_c_new_inv": "New investment (100 M CNY)",
            "bu_c_removed": "Removed",
            "bu_c_ups": "Up",
            "bu_c_backs": "Back",
            "bu_c_rank": "Rank by investment",
            "bu_map": "Where projects changed",
            "bu_largest": "Largest new projects",
            "bu_c_project": "Project",
            "bu_c_status": "Status",
            "bu_stalled_rule": "No progress: no new project, no status step-up, "
            "no investment added",
            "bu_none": "None",
            "bu_sep": "; ",
            "bu_rank_note": "Parks ranked by investment (1 = most); projects of unknown "
            "investment are left out of sums (unknown is not 0)",
            "bu_match": "Projects matched: {by_id} by project id, {by_name} by name and park",
        },
    },
    # How a label is joined to its unit or its value.
    "form": {
        "zh": {
            "with_unit": "{label}（{unit}）",
            "label_value": "{label}：{value}",
        },
        "en": {
            "with_unit": "{label} ({unit})",
            "label_value": "{label}: {value}",
        },
    },
}

#: Fields that may hold a place's name, in the order :func:`park_name` tries them.
NAME_FIELDS: Final[dict[str, tuple[str, ...]]] = {
    "zh": ("name", "name_zh", "name_en", "park_id"),
    "en": ("name_en", "name", "name_zh", "park_id"),
}


def texts(lang: str, *groups: str) -> dict[str, str]:
    """The words of ``groups`` in ``lang`` as one flat dict, with ``status_<s>`` for each status.

    Parameters
    ----------
    lang
        ``"zh"`` or ``"en"``.
    groups
        Groups of :data:`TEXT`; ``"map"`` (the words the web page gets) when none is given.

    Raises
    ------
    UsageError
        For an unknown language.
    KeyError
        For an unknown group.
    """
    if lang not in LANGUAGES:
        raise UsageError(f"unknown language {lang!r}; choose one of: {', '.join(LANGUAGES)}")
    out = {key: word for group in groups or ("map",) for key, word in TEXT[group][lang].items()}
    out.update({f"status_{key}": label for key, label in STATUS_LABELS[lang].items()})
    return out


def with_unit(lang: str, label: str, unit: str) -> str:
    """``"面积（km²）"`` in Chinese, ``"Area (km²)"`` in English."""
    return TEXT["form"][lang]["with_unit"].format(label=label, unit=unit)


def scheme_label(lang: str, scheme: str, k: int) -> str:
    """``"分级：分位数，5 级"`` / ``"Classes: quantiles, 5"``."""
    name = TEXT["scheme"][lang][f"scheme_{scheme}"]
    return TEXT["map"][lang]["scheme"].format(scheme=name, k=k)


def fmt_number(x: float, digits: int = 2) -> str:
    """Thousands separators; ``digits`` decimals below 100, none above; ``–`` for NaN."""
    if x != x:  # NaN
        return "–"
    return f"{x:,.{digits}f}" if abs(x) < 100 else f"{x:,.0f}"


def other_language(lang: str) -> str:
    """``"en"`` for ``"zh"`` and ``"zh"`` for ``"en"``."""
    return next(other for other in LANGUAGES if other != lang)


#: "CGCS2000 / 3-degree Gauss-Kruger CM 120E" or "… zone 40" (zone × 3 = central meridian).
_GK_NAME = re.compile(r"3-degree Gauss-Kruger (?:CM (?P<cm>\d+)E|zone (?P<zone>\d+))")


def crs_words(crs: CRS, lang: str) -> str:
    """The projection named in ``lang`` for a sheet's or report's projection line.

    ``"CGCS2000 3 度带高斯-克吕格投影（中央经线 120°E，EPSG:4549）"`` /
    ``"CGCS2000 3-degree Gauss–Krüger, CM 120°E (EPSG:4549)"``; the equal-area Albers conic
    for China by name; any other CRS by its EPSG code (else its PROJ name, which has no Chinese
    form).
    """
    t = texts(lang, "sheet")
    code = crs.to_epsg()
    found = _GK_NAME.search(crs.name or "")
    if found:
        cm = int(found["cm"]) if found["cm"] else 3 * int(found["zone"])
        return t["crs_gk"].format(cm=cm, code=f"EPSG:{code}" if code else "CGCS2000")
    operation = crs.coordinate_operation
    if operation is not None and "Albers" in operation.method_name:
        return t["crs_albers"]
    if code:
        return f"EPSG:{code}"
    name = str(crs.name or "").strip()
    if name and name.lower() != "unknown":
        return name
    # A CRS pyproj has no name for (a custom PROJ string): its definition, never "unknown".
    # (pyproj warns that a PROJ string may lose details; as a label it is what we want.)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return str(crs.to_proj4() or crs.to_wkt())


def park_name(row: Mapping[str, object] | pd.Series, lang: str) -> str:
    """The name to show for a park, a district or a landmark in ``lang``.

    The first of :data:`NAME_FIELDS` that holds more than white space: in English ``name_en``,
    else the Chinese name (``name``, then ``name_zh``); in Chinese the Chinese name, else
    ``name_en``; ``park_id`` last. ``""`` when none has a name.
    """
    for field in NAME_FIELDS[lang]:
        text = _text(row.get(field))
        if text.strip():
            return text
    return ""


def _text(value: object) -> str:
    """A cell as text: ``""`` for a missing value (``None``, NaN, ``NaT``, ``NA``)."""
    if value is None or value is pd.NaT or value is pd.NA:
        return ""
    return "" if isinstance(value, float) and math.isnan(value) else str(value)

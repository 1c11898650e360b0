"""Honest statistics: minimum samples per test, "no projects", one-value ranges, one language.

Expected figures come from the formulas by hand (nearest-neighbour index), from PySAL's esda and
from counting; the language checks walk the matplotlib Text artists of the figures the report
and the atlas draw.
"""

from __future__ import annotations

import json
import math
import re

import geopandas as gpd
import matplotlib
import matplotlib.text
import numpy as np
import pytest
from pyproj import CRS, Transformer
from scipy.spatial import cKDTree
from shapely.geometry import Point, Polygon

from parkmap.cluster import cluster_analysis
from parkmap.cluster.areal import sample_shortfall
from parkmap.cluster.minimums import (
    MIN_AREAL_UNITS,
    MIN_NONZERO_UNITS,
    MIN_POINTS_NNI,
    MIN_POINTS_RIPLEY,
    cluster_minimum,
)
from parkmap.cluster.pattern import nearest_neighbour_index
from parkmap.cluster.plots import ripley_figure
from parkmap.cluster.report import write_cluster_report
from parkmap.cluster.summary import span, summary_markdown
from parkmap.fonts import font_setup
from parkmap.i18n import crs_words
from parkmap.i18n import texts as words

GK = "EPSG:4549"
TO_LONLAT = Transformer.from_crs(GK, "EPSG:4326", always_xy=True)
X0, Y0 = 500_000.0, 4_060_000.0
#: Words a Chinese sheet may carry in Latin letters: statistics' and CRSs' names and units.
ALLOWED_LATIN = {
    "EPSG",
    "CGCS",
    "km",
    "NNI",
    "Moran",
    "Gi",
    "DBSCAN",
    "HDBSCAN",
    "Ripley",
    "Getis",
    "Ord",
    "FDR",
    "Albers",
    "CNY",
}
LATIN_RUN = re.compile(r"[A-Za-z]{3,}")
CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]")
STAT_WORDS = ("p =", "p=", "显著", "significant", "Moran's I =", "NNI =")


def square(side: float, *, x0: float = X0, y0: float = Y0, park_id: str = "sq", name="方园"):
    t = np.linspace(0.0, 1.0, 21)[:-1]
    xs = np.concatenate((t, np.ones_like(t), 1 - t, np.zeros_like(t))) * side + x0
    ys = np.concatenate((np.zeros_like(t), t, np.ones_like(t), 1 - t)) * side + y0
    lon, lat = TO_LONLAT.transform(xs, ys)
    return gpd.GeoDataFrame(
        {"park_id": [park_id], "name": [name], "name_en": [f"Park {park_id}"]},
        geometry=[Polygon(zip(lon, lat, strict=True))],
        crs="EPSG:4326",
    )


def projects_at(x, y, *, park_id: str = "sq", investment=None):
    lon, lat = TO_LONLAT.transform(np.asarray(x, float), np.asarray(y, float))
    n = len(lon)
    return gpd.GeoDataFrame(
        {
            "project_id": [f"P{i:03d}" for i in range(n)],
            "industry": ["新材料"] * n,
            "investment_100m_cny": np.ones(n) if investment is None else investment,
            "park_ids": [park_id] * n,
        },
        geometry=[Point(a, b) for a, b in zip(lon, lat, strict=True)],
        crs="EPSG:4326",
    )


def spread(n: int, side: float = 4000.0, seed: int = 3):
    rng = np.random.default_rng(seed)
    return X0 + rng.uniform(0, side, n), Y0 + rng.uniform(0, side, n)


def run(projects, parks, **options):
    options = {"permutations": 99, "simulations": 19, "seed": 1, **options}
    return cluster_analysis(projects, parks, **options)


def _no_claim(line: str) -> None:
    for word in STAT_WORDS:
        assert word not in line, (word, line)


# --- the floors ------------------------------------------------------------------------------


def test_floors_are_the_documented_ones():
    assert (MIN_AREAL_UNITS, MIN_NONZERO_UNITS) == (30, 5)
    assert (MIN_POINTS_NNI, MIN_POINTS_RIPLEY) == (10, 10)
    assert cluster_minimum("dbscan", 5) == 5 and cluster_minimum("HDBSCAN", 1) == 2


def test_nni_runs_from_ten_points_and_matches_the_formula():
    x, y = spread(10)
    area = 4000.0**2
    ten = nearest_neighbour_index(x, y, area)
    # By hand (ArcGIS's formulas) with scipy's tree.
    d, _ = cKDTree(np.column_stack((x, y))).query(np.column_stack((x, y)), k=2)
    expected = 0.5 / math.sqrt(10 / area)
    assert ten["nni"] == pytest.approx(d[:, 1].mean() / expected, rel=1e-12)
    nine = nearest_neighbour_index(x[:9], y[:9], area)
    assert nine["pattern"] == "too_few_points" and nine["needs"] == 10 and nine["n"] == 9
    assert not {"nni", "z", "p"} & set(nine)
    # Two points (the case from the issue) are not tested either.
    assert nearest_neighbour_index(x[:2], y[:2], area)["pattern"] == "too_few_points"
    assert nearest_neighbour_index(x[:0], y[:0], area)["pattern"] == "no_projects"


def test_sample_shortfall_at_its_edges():
    zeros = np.zeros(MIN_AREAL_UNITS)
    counts = np.ones(MIN_AREAL_UNITS, dtype=int)
    five = zeros.copy()
    five[:5] = 2.0
    assert sample_shortfall(five, counts) is None
    four = zeros.copy()
    four[:4] = 2.0
    short = sample_shortfall(four, counts)
    assert short == {
        "nonzero_cells": 4,
        "cells": 30,
        "result": "too_few_nonzero_cells",
        "needs": 5,
        "reason": "needs at least 5 cells with investment",
    }
    assert sample_shortfall(five[1:], counts[1:])["result"] == "too_few_cells"
    assert sample_shortfall(five[1:], counts[1:])["needs"] == 30
    assert sample_shortfall(zeros, np.zeros(30, dtype=int))["result"] == "no_projects"


def _isolated_projects(money):
    """Projects 2 km apart in a 12 km park (0.5 km cells): their cell rings never touch."""
    parks = square(12_000.0, park_id="nancun", name="南村")
    n = len(money)
    x = X0 + 2000.0 + 2000.0 * np.arange(n)
    y = Y0 + 2000.0 + 2000.0 * (np.arange(n) % 2)
    return projects_at(x, y, park_id="nancun", investment=np.asarray(money, float)), parks


def _cells_of(result, park_id: str) -> int:
    return int(result.hexes.cells["park_ids"].str.split(";").map(lambda i: park_id in i).sum())


def test_few_cells_with_investment_get_no_p_value_anywhere(tmp_path):
    from parkmap.density import GRID_RING

    # Five projects, one of them without money: 4 cells hold investment.
    projects, parks = _isolated_projects([9.0, 8.0, 7.0, 0.1, 0.0])
    result = run(projects, parks, cell_km=0.5)
    cells = result.hexes.cells
    # Each project's cell and its rings (a hexagonal ring k holds 6k cells).
    assert len(cells) == _cells_of(result, "nancun") == 5 * (1 + 3 * GRID_RING * (GRID_RING + 1))
    assert len(cells) >= MIN_AREAL_UNITS
    moran = result.hexes.stats["moran_by_park"]["nancun"]
    assert moran["result"] == "too_few_nonzero_cells" and moran["nonzero_cells"] == 4
    assert not {"I", "p_sim", "p_norm", "z_norm"} & set(moran)
    assert result.hexes.stats["moran"]["result"] == "too_few_nonzero_cells"
    assert result.hexes.stats["gi"]["result"] == "too_few_nonzero_cells"
    assert (cells["gi_bin"] == 0).all() and cells["gi_z"].isna().all()
    assert (cells["lisa_quadrant"] == "ns").all()
    assert result.nni["parks"]["nancun"] == {
        "n": 5,
        "area_km2": pytest.approx(result.parks[0]["area_km2"]),
        "pattern": "too_few_points",
        "needs": 10,
        "reason": "needs at least 10 points",
        "study_area": "park area_km2 (geodesic)",
    }
    write_cluster_report(result, tmp_path / "zh", lang="zh", plots=True)
    write_cluster_report(result, tmp_path / "en", lang="en", plots=True)
    zh = (tmp_path / "zh/summary.md").read_text(encoding="utf-8")
    en = (tmp_path / "en/summary.md").read_text(encoding="utf-8")
    assert "- 南村：项目太少，无法检验 NNI（n = 5，至少需要 10 个）。" in zh
    assert "- Park nancun: too few projects to test NNI (n = 5; needs ≥ 10)." in en
    assert "- 南村：项目太少，无法检验 Moran's I（有投资的网格 n = 4，至少需要 5 个）。" in zh
    assert "项目太少，无法检验热点与冷点（有投资的网格 n = 4，至少需要 5 个）。" in zh
    assert "Too few projects to test hot and cold spots (cells with investment n = 4;" in en
    for text in (zh, en):
        for line in text.splitlines():
            if not line.startswith("#"):
                _no_claim(line)
        assert "热点所在园区" not in text and "Hot spots in" not in text
    stats = json.loads((tmp_path / "zh/stats.json").read_text(encoding="utf-8"))
    for section in (stats["moran"], stats["gi"], stats["lisa"], *stats["moran_by_park"].values()):
        assert not {"I", "p_sim", "p_norm", "z_sim", "cutoffs", "bins"} & set(section)
    for entry in (stats["nearest_neighbour"]["citywide"], stats["ripley_l"]["citywide"]):
        assert not {"p", "z", "nni", "l_m"} & set(entry)
    assert "plots" not in stats or stats["plots"] == {}  # no Ripley L, so no plot


def test_four_projects_the_issue_case(tmp_path):
    # 南村: four projects gave "投资显著集聚：Moran's I = 0.16，p = 0.034".
    projects, parks = _isolated_projects([9.0, 8.0, 7.0, 0.1])
    result = run(projects, parks, cell_km=0.5)
    cells = _cells_of(result, "nancun")
    # four isolated projects, each cell with two rings of neighbours: 4 × 19 = 76 cells, but
    # only 4 of them hold investment (the floor is 5)
    assert cells == 4 * 19 >= MIN_AREAL_UNITS
    moran = result.hexes.stats["moran_by_park"]["nancun"]
    assert moran["result"] == "too_few_nonzero_cells" and moran["nonzero_cells"] == 4
    assert not {"I", "p", "z"} & set(moran)
    # DBSCAN with min_samples 5 cannot make a cluster of four projects: not run, and said so.
    assert result.clusters.params["result"] == "too_few_points"
    assert result.clusters.params["needs"] == 5 and result.clusters.params["clusters"] == 0
    zh = summary_markdown(result, lang="zh")
    en = summary_markdown(result, lang="en")
    zh_t, en_t = words("zh", "report"), words("en", "report")
    assert zh_t["moran_sparse"].format(name="南村", nonzero=4, need=5) in zh
    assert en_t["moran_sparse"].format(name="Park nancun", nonzero=4, need=5) in en
    assert "项目太少，无法寻找集群（n = 4，至少需要 5 个）。" in zh
    assert "Too few projects to look for clusters (n = 4; needs ≥ 5)." in en
    assert zh_t["hot_sparse"].format(nonzero=4, need=5) in zh
    for line in (zh + en).splitlines():
        if not line.startswith("#"):
            _no_claim(line)


def test_a_park_without_projects_says_no_projects(tmp_path):
    x, y = spread(40)
    parks = gpd.GeoDataFrame(
        gpd.pd.concat([square(4000.0), square(2000.0, x0=X0 + 20_000, park_id="empty")]),
        crs="EPSG:4326",
    ).reset_index(drop=True)
    result = run(projects_at(x, y), parks, cell_km=0.5)
    assert result.nni["parks"]["empty"]["pattern"] == "no_projects"
    assert result.ripley["parks"]["empty"]["pattern"] == "no_projects"
    assert result.hexes.stats["moran_by_park"]["empty"]["result"] == "no_projects"
    zh = summary_markdown(result, lang="zh")
    en = summary_markdown(result, lang="en")
    # NNI, Ripley and Moran: one "no projects" line each.
    assert zh.count("- 方园：无项目。") == 3
    assert en.count("- Park empty: no projects.") == 3
    assert "仅 0 个" not in zh and "n = 0" not in zh and "n = 0" not in en
    # The park with 40 projects is tested (its NNI recomputed by hand in test_cluster.py).
    assert "p" in result.nni["parks"]["sq"] and "I" in result.hexes.stats["moran_by_park"]["sq"]


def test_moran_is_run_on_enough_cells_and_equals_esda():
    import esda
    from libpysal.weights import Queen

    x, y = spread(80)
    rng = np.random.default_rng(4)
    money = np.where(x < X0 + 1500, rng.uniform(5, 9, 80), rng.uniform(0, 1, 80))
    result = run(projects_at(x, y, investment=money), square(4000.0), cell_km=0.5)
    moran = result.hexes.stats["moran"]
    cells = result.hexes.cells
    assert len(cells) >= MIN_AREAL_UNITS and (cells["investment_100m_cny"] > 0).sum() >= 5
    w = Queen.from_dataframe(cells, use_index=False, silence_warnings=True)
    w.transform = "R"
    np.random.seed(1)
    mi = esda.Moran(cells["investment_100m_cny"].to_numpy(), w, permutations=99)
    assert moran["I"] == pytest.approx(mi.I, rel=1e-9)
    assert moran["p_sim"] == pytest.approx(mi.p_sim)


# --- ranges ----------------------------------------------------------------------------------


def test_ranges_with_one_value_print_once():
    assert span([982.3, 981.7]) == "982"
    assert span([732.0, 14636.4]) == "732–14636"
    assert span([5.0]) == "5"


def test_ripley_line_with_one_distance(tmp_path):
    x, y = spread(40)
    result = run(projects_at(x, y), square(4000.0), cell_km=0.5)
    result.ripley["parks"]["sq"] = {
        **result.ripley["parks"]["sq"],
        "pattern": "clustered",
        "clustered_at_m": [982.4],
        "dispersed_at_m": [],
    }
    zh = summary_markdown(result, lang="zh")
    en = summary_markdown(result, lang="en")
    assert "- 方园：在 982 米范围内集聚" in zh and "982–982" not in zh
    assert "- Park sq: clustered at 982 m" in en and "982–982" not in en


# --- one language per sheet -------------------------------------------------------------------


def _latin_words(texts: list[str]) -> set[str]:
    return {w for text in texts for w in LATIN_RUN.findall(text)} - ALLOWED_LATIN


def _cjk_left(texts: list[str], data_names: set[str]) -> list[str]:
    names = sorted((n for n in data_names if n), key=len, reverse=True)
    left = []
    for text in texts:
        for name in names:
            text = text.replace(name, "")
        if CJK.search(text):
            left.append(text)
    return left


def _figure_texts(fig) -> list[str]:
    """Every text drawn on ``fig``: its Text artists and the texts of its tables' cells."""
    import matplotlib.table

    found = [t.get_text() for t in fig.findobj(matplotlib.text.Text)]
    for table in fig.findobj(matplotlib.table.Table):
        found += [cell.get_text().get_text() for cell in table.get_celld().values()]
    return [text for text in found if text.strip()]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_ripley_figure_speaks_one_language(lang):
    x, y = spread(40)
    result = run(projects_at(x, y), square(4000.0), cell_km=0.5)
    setup = font_setup(lang)
    title = "方园" if lang == "zh" else "Park sq"
    with setup.use():
        fig = ripley_figure(result.ripley["parks"]["sq"], title=title, lang=lang, setup=setup)
        fig.canvas.draw()  # tick labels exist once drawn
    texts = _figure_texts(fig)
    assert any(title in t for t in texts)
    if lang == "zh":
        assert _latin_words(texts) == set()
        assert any("距离" in t for t in texts)
    else:
        assert _cjk_left(texts, set()) == []
        assert "Ripley's L: Park sq (n = 40)" in texts


@pytest.fixture(scope="module")
def demo():
    from parkmap.pipeline import analyse

    analysis = analyse()
    clusters = cluster_analysis(analysis.projects, analysis.parks, permutations=99, simulations=19)
    return analysis, clusters


def _data_names(analysis) -> set[str]:
    names: set[str] = set()
    frames = [analysis.parks, analysis.projects]
    if analysis.context is not None:
        frames.append(analysis.context)
    for frame in frames:
        for column in frame.columns:
            if column != frame.geometry.name:
                names |= {str(v) for v in frame[column].dropna()}
    return names


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_hot_spot_page_speaks_one_language(demo, lang):

    analysis, clusters = demo
    data, fig = _hotspot_page(analysis, clusters, lang)
    texts = _figure_texts(fig)
    joined = "\n".join(texts)
    assert words(lang, "sheet")["col_dominant"] in texts  # the table's cells are read too
    assert crs_words(data.crs, lang) in joined
    assert str(data.crs.name) not in joined
    if lang == "zh":
        assert _latin_words(texts) == set(), joined
    else:
        assert _cjk_left(texts, _data_names(analysis)) == []


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_hot_spot_page_below_the_floor_says_not_tested(demo, lang):

    analysis, _ = demo
    few = analysis.projects.iloc[:4]
    clusters = cluster_analysis(few, analysis.parks, permutations=99, simulations=19)
    assert clusters.hexes.stats["gi"]["result"] in ("too_few_cells", "too_few_nonzero_cells")
    _, fig = _hotspot_page(analysis, clusters, lang)
    texts = _figure_texts(fig)
    t = words(lang, "sheet", "report")
    cells = len(clusters.hexes.cells)
    assert f"{t['hot_bin_untested']}  ({cells})" in texts
    assert t["lisa_untested"] in texts
    gi = clusters.hexes.stats["gi"]
    if gi["result"] == "too_few_cells":
        assert t["hot_few"].format(cells=cells, need=30) in texts
    else:
        assert t["hot_sparse"].format(nonzero=gi["nonzero_cells"], need=5) in texts
    assert not any(t["hot_bin_ns"] in text for text in texts)
    assert t["clusters_few"].format(n=4, need=5) in texts  # four projects, min_samples 5
    assert t["no_clusters"] not in texts  # they were not looked for
    for text in texts:
        _no_claim(text)
    if lang == "zh":
        assert _latin_words(texts) == set()
    else:
        assert _cjk_left(texts, _data_names(analysis)) == []


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_summary_speaks_one_language(demo, lang):
    analysis, clusters = demo
    lines = summary_markdown(clusters, lang=lang).splitlines()
    if lang == "zh":
        assert _latin_words(lines) == set()
    else:
        assert _cjk_left(lines, _data_names(analysis)) == []


def test_crs_words():
    assert crs_words(CRS(GK), "zh") == "CGCS2000 3 度带高斯-克吕格投影（中央经线 120°E，EPSG:4549）"
    assert crs_words(CRS(GK), "en") == "CGCS2000 3-degree Gauss–Krüger, CM 120°E (EPSG:4549)"
    assert crs_words(CRS("EPSG:4528"), "zh").startswith(
        "CGCS2000 3 度带高斯-克吕格投影（中央经线 120°E"
    )


def _hotspot_page(analysis, clusters, lang):
    """The atlas hot-spot page of ``clusters``, drawn, and the map data it was drawn from."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from parkmap.export.hotspots import hotspot_page
    from parkmap.export.static_map import Sheet, prepare

    setup = font_setup(lang)
    with matplotlib.rc_context(setup.rc()):
        data = prepare(
            analysis.parks, analysis.projects, analysis.context, scheme="quantiles", k=5, lang=lang
        )
        fig = hotspot_page(data, clusters, setup, sheet=Sheet(), caption=None)
        FigureCanvasAgg(fig).draw()
    return data, fig

"""Cluster statistics: known patterns, figures recomputed from the written files, CLI.

Every pattern is laid out in metres in EPSG:4549 (CGCS2000 Gauss–Krüger, CM 120° E) and turned
into lon/lat with pyproj; expected figures come from the formulas (by hand), scipy's cKDTree,
pyproj.Geod and PySAL, never from a first run.
"""

from __future__ import annotations

import json
import math
import warnings

import esda
import geopandas as gpd
import numpy as np
import pandas as pd
import pdfplumber
import pytest
from click.testing import CliRunner
from libpysal.weights import Queen
from pyproj import Geod, Transformer
from scipy.spatial import cKDTree
from scipy.stats import norm
from shapely.geometry import Point, Polygon

from parkmap.cli import main
from parkmap.cluster import cluster_analysis
from parkmap.cluster.areal import gi_bins
from parkmap.cluster.pattern import nearest_neighbour_index
from parkmap.cluster.report import write_cluster_report
from parkmap.cluster.summary import moran_sentence, summary_markdown

GK = "EPSG:4549"
TO_LONLAT = Transformer.from_crs(GK, "EPSG:4326", always_xy=True)
TO_GK = Transformer.from_crs("EPSG:4326", GK, always_xy=True)
X0, Y0 = 500_000.0, 4_060_000.0  # on the central meridian, about 36.7° N
SIDE = 2000.0
PERMUTATIONS = 99
SEED = 7


def square_park(side: float = SIDE, *, x0: float = X0, y0: float = Y0, park_id: str = "sq"):
    """A square park, ``side`` metres wide, drawn in GK metres (densified edges)."""
    t = np.linspace(0.0, 1.0, 21)[:-1]
    xs = np.concatenate((t, np.ones_like(t), 1 - t, np.zeros_like(t))) * side + x0
    ys = np.concatenate((np.zeros_like(t), t, np.ones_like(t), 1 - t)) * side + y0
    lon, lat = TO_LONLAT.transform(xs, ys)
    return gpd.GeoDataFrame(
        {"park_id": [park_id], "name": ["方园"], "name_en": ["Square park"]},
        geometry=[Polygon(zip(lon, lat, strict=True))],
        crs="EPSG:4326",
    )


def projects_at(x, y, *, park_id: str = "sq", investment=None, industry="新材料"):
    lon, lat = TO_LONLAT.transform(np.asarray(x, float), np.asarray(y, float))
    n = len(lon)
    money = np.ones(n) if investment is None else np.asarray(investment, float)
    return gpd.GeoDataFrame(
        {
            "project_id": [f"P{i:03d}" for i in range(n)],
            "industry": [industry] * n,
            "investment_100m_cny": money,
            "park_ids": [park_id] * n,
        },
        geometry=[Point(a, b) for a, b in zip(lon, lat, strict=True)],
        crs="EPSG:4326",
    )


def lattice(side: float = SIDE, k: int = 10):
    step = side / k
    grid = (np.arange(k) + 0.5) * step
    gx, gy = np.meshgrid(grid + X0, grid + Y0)
    return gx.ravel(), gy.ravel()


def blob(n: int = 100, sd: float = 40.0, seed: int = 1):
    rng = np.random.default_rng(seed)
    return X0 + SIDE / 2 + rng.normal(0, sd, n), Y0 + SIDE / 2 + rng.normal(0, sd, n)


def poisson(n: int = 100, seed: int = 1):
    rng = np.random.default_rng(seed)
    return X0 + rng.uniform(0, SIDE, n), Y0 + rng.uniform(0, SIDE, n)


def analyse(x, y, **options):
    options = {"permutations": PERMUTATIONS, "simulations": 19, "seed": SEED, **options}
    return cluster_analysis(projects_at(x, y), square_park(), **options)


def hand_nni(lon, lat, area_km2):
    """NNI by the ArcGIS formulas, from lon/lat, with scipy's cKDTree."""
    x, y = TO_GK.transform(np.asarray(lon), np.asarray(lat))
    xy = np.column_stack((x, y))
    d, _ = cKDTree(xy).query(xy, k=2)
    n, area = len(xy), area_km2 * 1e6
    observed = d[:, 1].mean()
    expected = 0.5 / math.sqrt(n / area)
    z = (observed - expected) / (0.26136 / math.sqrt(n * n / area))
    return observed / expected, z, 2 * norm.sf(abs(z))


# --- known patterns --------------------------------------------------------------------------


def test_lattice_is_dispersed():
    result = analyse(*lattice())
    nni = result.nni["parks"]["sq"]
    # 100 points 200 m apart in 4 km²: observed 200 m, expected 0.5/√(100/4e6) = 100 m.
    assert nni["observed_mean_m"] == pytest.approx(200.0, rel=1e-3)
    assert nni["expected_mean_m"] == pytest.approx(100.0, rel=1e-3)
    assert nni["nni"] == pytest.approx(2.0, rel=2e-3)
    assert nni["p"] < 0.05 and nni["pattern"] == "dispersed"


def test_blob_is_clustered():
    result = analyse(*blob())
    nni = result.nni["parks"]["sq"]
    assert nni["nni"] < 1 and nni["p"] < 0.05 and nni["pattern"] == "clustered"
    ripley = result.ripley["parks"]["sq"]
    assert ripley["pattern"] == "clustered" and ripley["clustered_at_m"]


def test_poisson_is_not_significant_for_most_seeds():
    # Without edge correction a bounded Poisson pattern reads slightly dispersed (z ≈ +0.8 on
    # average for a square), so single seeds can fail; across seeds most must be "random".
    area = SIDE * SIDE
    outcomes = [nearest_neighbour_index(*poisson(seed=s), area)["p"] > 0.05 for s in range(30)]
    assert sum(outcomes) >= 22
    assert nearest_neighbour_index(*poisson(seed=3), area)["pattern"] == "random"


def test_ripley_declines_too_many_points():
    from shapely.geometry import box

    from parkmap.cluster.pattern import MAX_POINTS_RIPLEY, ripley_l

    x, y = poisson(n=MAX_POINTS_RIPLEY + 1)
    result = ripley_l(x, y, box(X0, Y0, X0 + SIDE, Y0 + SIDE), simulations=99)
    assert result["pattern"] == "too_many_points"


def test_too_few_points_is_said_not_failed(tmp_path):
    result = analyse([X0 + 500.0], [Y0 + 500.0])
    assert result.nni["parks"]["sq"]["pattern"] == "too_few_points"
    assert result.ripley["parks"]["sq"]["pattern"] == "too_few_points"
    write_cluster_report(result, tmp_path, lang="en", plots=True)
    text = (tmp_path / "summary.md").read_text(encoding="utf-8")
    assert "too few projects to test NNI (n = 1; needs ≥ 10)" in text
    assert "too few projects to test Ripley L (n = 1; needs ≥ 10)" in text


def test_projects_counted_from_outside_a_park_are_left_out_of_its_point_tests():
    # 100 lattice points inside the square and 5 a kilometre east of it, counted in the park by
    # the declared-park rule (declared_km set): the park's NNI is the lattice's alone.
    x, y = lattice()
    outside_x = np.full(5, X0 + SIDE + 1000.0)
    outside_y = Y0 + np.linspace(500.0, 3500.0, 5)
    projects = projects_at(np.r_[x, outside_x], np.r_[y, outside_y])
    projects["declared_km"] = np.r_[np.full(len(x), np.nan), np.full(5, 1.0)]
    options = {"permutations": PERMUTATIONS, "simulations": 19, "seed": SEED}
    result = cluster_analysis(projects, square_park(), **options)
    alone = cluster_analysis(projects_at(x, y), square_park(), **options)
    assert result.nni["parks"]["sq"]["n"] == len(x) == 100
    assert result.nni["parks"]["sq"]["nni"] == pytest.approx(alone.nni["parks"]["sq"]["nni"])


# --- figures recomputed from the files -------------------------------------------------------


def _hot_case():
    """Projects on a 4 km square: heavy investment in the south-west, light elsewhere."""
    rng = np.random.default_rng(11)
    side = 4000.0
    x = np.concatenate((X0 + rng.uniform(0, 1200, 40), X0 + rng.uniform(0, side, 60)))
    y = np.concatenate((Y0 + rng.uniform(0, 1200, 40), Y0 + rng.uniform(0, side, 60)))
    money = np.concatenate((rng.uniform(5, 10, 40), rng.uniform(0, 1, 60)))
    projects = projects_at(x, y, investment=money)
    return projects, square_park(side)


def test_nni_recomputed_from_written_files(tmp_path):
    projects, parks = _hot_case()
    result = cluster_analysis(projects, parks, permutations=PERMUTATIONS, simulations=19, seed=1)
    write_cluster_report(result, tmp_path, lang="en", plots=False)
    stats = json.loads((tmp_path / "stats.json").read_text(encoding="utf-8"))
    geodesic = abs(Geod(ellps="WGS84").geometry_area_perimeter(parks.geometry.iloc[0])[0]) / 1e6
    assert stats["parks"][0]["area_km2"] == pytest.approx(geodesic, rel=1e-9)
    nni, z, p = hand_nni(projects.geometry.x, projects.geometry.y, geodesic)
    park = stats["nearest_neighbour"]["parks"]["sq"]
    assert park["nni"] == pytest.approx(nni, rel=1e-9)
    assert park["z"] == pytest.approx(z, rel=1e-9)
    assert park["p"] == pytest.approx(p, rel=1e-9, abs=1e-15)
    # Citywide: the study area is the convex hull of the projects (planar, GK metres).
    x, y = TO_GK.transform(projects.geometry.x.to_numpy(), projects.geometry.y.to_numpy())
    hull = gpd.GeoSeries(gpd.points_from_xy(x, y)).union_all().convex_hull
    city = stats["nearest_neighbour"]["citywide"]
    assert city["area_km2"] == pytest.approx(hull.area / 1e6, rel=1e-9)
    nni_city, _, _ = hand_nni(projects.geometry.x, projects.geometry.y, hull.area / 1e6)
    assert city["nni"] == pytest.approx(nni_city, rel=1e-9)


def test_moran_and_gi_recomputed_with_pysal_from_hotspots(tmp_path):
    projects, parks = _hot_case()
    result = cluster_analysis(
        projects, parks, cell_km=0.5, permutations=PERMUTATIONS, simulations=19, seed=SEED
    )
    write_cluster_report(result, tmp_path, lang="en", plots=False)
    stats = json.loads((tmp_path / "stats.json").read_text(encoding="utf-8"))
    cells = gpd.read_file(tmp_path / "hotspots.geojson")
    assert len(cells) == stats["weights"]["cells"] > 50
    assert (cells["count"] == 0).any()  # empty cells are in the statistics too
    assert cells["count"].sum() == len(projects)
    assert cells["investment_100m_cny"].sum() == pytest.approx(
        projects["investment_100m_cny"].sum()
    )
    w = Queen.from_dataframe(cells, use_index=False)
    assert max(w.cardinalities.values()) == 6  # shared vertices survived the file
    assert w.islands == [] and stats["weights"]["islands"] == 0
    w_metric = Queen.from_dataframe(cells.to_crs(GK), use_index=False)
    assert w_metric.neighbors == w.neighbors
    w.transform = "R"
    y = cells["investment_100m_cny"].to_numpy()
    np.random.seed(SEED)
    mi = esda.Moran(y, w, permutations=PERMUTATIONS)
    moran = stats["moran"]
    assert moran["I"] == pytest.approx(mi.I, rel=1e-9)
    assert moran["z_norm"] == pytest.approx(mi.z_norm, rel=1e-9)
    assert moran["p_sim"] == pytest.approx(mi.p_sim)
    assert moran["result"] == "clustered"  # the heavy corner
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        gi = esda.G_Local(
            y,
            Queen.from_dataframe(cells, use_index=False),
            transform="R",
            star=True,
            permutations=PERMUTATIONS,
            seed=SEED,
        )
    np.testing.assert_allclose(cells["gi_z"], gi.Zs, rtol=1e-9)
    np.testing.assert_allclose(cells["gi_p"], 2 * norm.sf(np.abs(gi.Zs)), rtol=1e-9)
    np.testing.assert_allclose(cells["gi_p_sim"], gi.p_sim)
    expected_bins = np.sign(gi.Zs) * np.select(
        [cells["gi_p"] < 0.01, cells["gi_p"] < 0.05, cells["gi_p"] < 0.10], [3, 2, 1], 0
    )
    np.testing.assert_array_equal(cells["gi_bin"], expected_bins)
    assert (cells["gi_bin"] == 3).any()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        lm = esda.Moran_Local(y, w, permutations=PERMUTATIONS, seed=SEED)
    quads = np.where(
        lm.p_sim < 0.05, pd.Series(lm.q).map({1: "HH", 2: "LH", 3: "LL", 4: "HL"}), "ns"
    )
    np.testing.assert_array_equal(cells["lisa_quadrant"], quads)


def test_gi_bins_with_fdr_follow_benjamini_hochberg():
    p = np.array([0.0005, 0.008, 0.039, 0.041, 0.042, 0.061, 0.074, 0.205, 0.212, 0.6])
    z = np.array([3.3, 2.6, 2.1, -2.0, 2.0, 1.9, -1.8, 1.3, 1.2, 0.5])
    # Without FDR: the 99/95/90 % cut-offs.
    assert gi_bins(z, p).tolist() == [3, 3, 2, -2, 2, 1, -1, 0, 0, 0]
    # Benjamini–Hochberg (esda.fdr: largest k with p_(k) < k·α/n, cut-off k·α/n):
    # α = 0.01: k = 1 (0.0005 < 0.001; 0.008 ≥ 0.002), cut-off 0.001;
    # α = 0.05: k = 2 (0.008 < 0.01; 0.039 ≥ 0.015 … 0.6 ≥ 0.05), cut-off 0.01;
    # α = 0.10: k = 5 (0.042 < 0.05; 0.061 ≥ 0.06, 0.074 ≥ 0.07, …), cut-off 0.05.
    assert gi_bins(z, p, fdr=True).tolist() == [3, 2, 1, -1, 1, 0, 0, 0, 0, 0]


# --- clusters --------------------------------------------------------------------------------


def two_blobs():
    rng = np.random.default_rng(5)
    ax, ay = X0 + 500 + rng.normal(0, 40, 30), Y0 + 500 + rng.normal(0, 40, 30)
    bx, by = X0 + 1500 + rng.normal(0, 40, 20), Y0 + 1500 + rng.normal(0, 40, 20)
    x, y = np.concatenate((ax, bx, [X0 + 1000])), np.concatenate((ay, by, [Y0 + 100]))
    projects = projects_at(x, y)
    projects.loc[30:49, "industry"] = "智能家电"
    return projects


@pytest.mark.parametrize("method", ["dbscan", "hdbscan"])
def test_two_blobs_give_two_clusters(tmp_path, method):
    projects = two_blobs()
    result = cluster_analysis(
        projects,
        square_park(),
        method=method,
        eps_m=200,
        min_samples=5,
        permutations=PERMUTATIONS,
        simulations=19,
    )
    write_cluster_report(result, tmp_path, lang="zh", plots=False)
    table = pd.read_csv(tmp_path / "clusters.csv")
    assert table["cluster_id"].tolist() == [1, 2]  # numbered west to east
    # HDBSCAN has no radius: the lone project 0.7 km from the first blob is still in it when the
    # two blobs split apart, so it stays with that blob; DBSCAN (eps 200 m) leaves it out.
    lone = ["P050"] if method == "hdbscan" else []
    assert table["members"][0].split(";") == [f"P{i:03d}" for i in range(30)] + lone
    assert table["members"][1].split(";") == [f"P{i:03d}" for i in range(30, 50)]
    assert table["dominant_industry"].tolist() == ["新材料", "智能家电"]
    assert table["parks"].tolist() == ["sq", "sq"]
    assert table["investment_100m_cny"].tolist() == [30.0 + len(lone), 20.0]
    assert result.clusters.labels.iloc[50] == (1 if lone else -1)
    # Hull area (planar, GK metres) and centroid, by hand.
    first = list(range(30)) + ([50] if lone else [])
    x, y = TO_GK.transform(
        projects.geometry.x.to_numpy()[first], projects.geometry.y.to_numpy()[first]
    )
    hull = gpd.GeoSeries(gpd.points_from_xy(x, y)).union_all().convex_hull
    assert table["hull_area_km2"][0] == pytest.approx(hull.area / 1e6, abs=1e-6)
    lon, lat = TO_LONLAT.transform(x.mean(), y.mean())
    assert table["centroid_lon"][0] == pytest.approx(lon, abs=1e-7)
    assert table["centroid_lat"][0] == pytest.approx(lat, abs=1e-7)
    layer = gpd.read_file(tmp_path / "clusters.geojson")
    assert len(layer) == 2 and set(layer.geom_type) == {"Polygon"}


def test_weighted_dbscan_counts_investment():
    projects = two_blobs()
    projects.loc[50, "investment_100m_cny"] = 12.0  # the lone project, 12 亿元
    options = {"eps_m": 200, "min_samples": 5, "permutations": 0, "simulations": 1}
    plain = cluster_analysis(projects, square_park(), **options)
    weighted = cluster_analysis(projects, square_park(), weighted=True, **options)
    assert plain.clusters.labels.iloc[50] == -1
    # Its own 12 亿元 reach min_samples = 5 (亿元): a core point, a cluster of one.
    assert weighted.clusters.labels.iloc[50] > 0
    assert len(weighted.clusters.clusters) == 3


# --- determinism and CLI ---------------------------------------------------------------------


def _write_inputs(tmp_path):
    projects, parks = _hot_case()
    lines = ["project_id,name,park,industry,status,investment_100m_cny,lon,lat"]
    for row in projects.itertuples():
        lines.append(
            f"{row.project_id},项目{row.project_id},方园,{row.industry},在建,"
            f"{row.investment_100m_cny:.4f},{row.geometry.x:.7f},{row.geometry.y:.7f}"
        )
    csv = tmp_path / "projects.csv"
    csv.write_text("\n".join(lines) + "\n", encoding="utf-8")
    geo = tmp_path / "parks.geojson"
    parks.rename(columns={"name": "name_zh"}).to_file(geo)
    return csv, geo


def _cli(*args):
    return CliRunner().invoke(main, ["cluster", *args], catch_exceptions=False)


def test_cli_writes_every_output_and_is_deterministic(tmp_path):
    csv, geo = _write_inputs(tmp_path)
    common = [
        "--projects",
        str(csv),
        "--parks",
        str(geo),
        "--cell-km",
        "0.5",
        "--permutations",
        "99",
        "--simulations",
        "19",
        "--seed",
        "3",
        "--eps-m",
        "300",
    ]
    first = _cli(*common, "--out", str(tmp_path / "a"), "--lang", "en")
    assert first.exit_code == 0, first.output
    out = tmp_path / "a"
    for name in (
        "clusters.csv",
        "clusters.geojson",
        "stats.json",
        "summary.md",
        "hotspots.geojson",
        "map.html",
        "plots/ripley_sq.png",
        "plots/ripley_citywide.png",
    ):
        assert (out / name).is_file(), name
    assert (out / "plots/ripley_sq.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    page = (out / "map.html").read_text(encoding="utf-8")
    assert "Investment hot spots (Gi*)" in page and "Project clusters" in page
    english = (out / "summary.md").read_text(encoding="utf-8")
    assert "Average nearest neighbour" in english and "Moran's I" in english
    second = _cli(*common, "--out", str(tmp_path / "b"), "--lang", "zh")
    assert second.exit_code == 0, second.output
    assert (tmp_path / "b/stats.json").read_bytes() == (out / "stats.json").read_bytes()
    assert (tmp_path / "b/hotspots.geojson").read_bytes() == (out / "hotspots.geojson").read_bytes()
    chinese = (tmp_path / "b/summary.md").read_text(encoding="utf-8")
    assert "平均最近邻" in chinese and "热点" in chinese
    stats = json.loads((out / "stats.json").read_text(encoding="utf-8"))
    assert stats["weights"]["seed"] == 3 and stats["weights"]["permutations"] == 99
    assert stats["weights"]["transform"].startswith("R")
    assert stats["settings"]["metric_crs"] == GK
    other = _cli(*common[:-4], "--seed", "4", "--eps-m", "300", "--out", str(tmp_path / "c"))
    assert other.exit_code == 0
    assert (tmp_path / "c/stats.json").read_bytes() != (out / "stats.json").read_bytes()


def test_cli_bad_option_is_one_line(tmp_path):
    csv, geo = _write_inputs(tmp_path)
    result = _cli("--projects", str(csv), "--parks", str(geo), "--cell-km", "0")
    assert result.exit_code == 2


def test_moran_sentence_is_the_summary_line():
    projects, parks = _hot_case()
    result = cluster_analysis(
        projects, parks, cell_km=0.5, permutations=PERMUTATIONS, simulations=1, seed=2
    )
    moran = result.hexes.stats["moran"]
    for lang in ("zh", "en"):
        sentence = moran_sentence(result, lang=lang)
        assert f"- {sentence}" in summary_markdown(result, lang=lang).splitlines()
        assert f"Moran's I = {moran['I']:.2f}" in sentence
        assert f"p = {moran['p_sim']:.3g}" in sentence


def test_cli_atlas_adds_the_hot_spot_page(tmp_path):
    csv, geo = _write_inputs(tmp_path)
    out = tmp_path / "out"
    args = ["--projects", str(csv), "--parks", str(geo), "--cell-km", "0.5"]
    args += ["--permutations", "99", "--simulations", "19", "--no-plots", "--lang", "en"]
    result = _cli(*args, "--out", str(out), "--atlas")
    assert result.exit_code == 0, result.output
    names = {p.name for p in out.iterdir()}
    assert names == {
        "atlas.pdf",
        "clusters.csv",
        "clusters.geojson",
        "hotspots.geojson",
        "map.html",
        "stats.json",
        "summary.md",
    }
    assert f"wrote {out / 'atlas.pdf'}" in result.output
    with pdfplumber.open(out / "atlas.pdf") as pdf:
        pages = [page.extract_text() or "" for page in pdf.pages]
    assert len(pages) == 3 + 1  # cover, overview, hot spots, the one park
    assert "Investment hot spots and project clusters" in pages[2]
    summary = (out / "summary.md").read_text(encoding="utf-8")
    stats = json.loads((out / "stats.json").read_text(encoding="utf-8"))
    assert f"Moran's I = {stats['moran']['I']:.2f}" in pages[2]
    assert f"Moran's I = {stats['moran']['I']:.2f}" in summary

"""The density surface ``parkmap build`` starts before the join is the one make_map would make."""

from __future__ import annotations

import re
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from parkmap import density, pipeline
from parkmap.plausibility import SUM_LIMIT_100M_CNY, summable_amounts
from parkmap.settings import BuildOptions, InputOptions, MapOptions
from parkmap.webmap import save_map
from parkmap.webmap.compose import make_map

HEADER = "project_id,name,park,industry,status,investment_100m_cny,lon,lat\n"


def _ledger(path: Path) -> Path:
    """Projects around the Pingdu and Laixi parks; one amount too large to add up, one blank."""
    rng = np.random.default_rng(5)
    lines = [HEADER]
    for i in range(400):
        lon, lat = 120.0 + rng.uniform(0, 0.6), 36.5 + rng.uniform(0, 0.4)
        amount = f"{rng.uniform(0.1, 20):.2f}"
        if i == 7:
            amount = f"{SUM_LIMIT_100M_CNY * 10:.0f}"  # left out of sums by plausibility
        if i == 11:
            amount = ""
        lines.append(f"T-{i:04d},项目{i},,智能家电,在建,{amount},{lon:.6f},{lat:.6f}\n")
    path.write_text("".join(lines), encoding="utf-8")
    return path


def _page(folium_map, path: Path) -> str:
    """The saved page with folium's random element ids made alike."""
    return re.sub(r"_[0-9a-f]{32}", "_ID", save_map(folium_map, path).read_text(encoding="utf-8"))


def _calls(monkeypatch, name: str) -> list[tuple[str, int]]:
    """Record (thread name, rows given) of every call of ``density.<name>``."""
    calls: list[tuple[str, int]] = []
    made = getattr(density, name)

    def spy(projects, **kwargs):
        calls.append((threading.current_thread().name, len(projects)))
        return made(projects, **kwargs)

    monkeypatch.setattr(density, name, spy)
    return calls


def test_build_draws_the_surface_it_started_before_the_join(tmp_path, monkeypatch):
    calls = _calls(monkeypatch, "kde_surface")
    grids = _calls(monkeypatch, "hex_grid")
    ledger = _ledger(tmp_path / "ledger.csv")
    analysis, written = pipeline.build(
        BuildOptions(inputs=InputOptions(projects=ledger), out=tmp_path / "out")
    )
    # one surface, made on the thread started before the join, of the 398 summable amounts
    assert len(calls) == 1
    assert calls[0][0].startswith("parkmap-surface")
    assert calls[0][1] == 398
    # and the grid after it, on the same thread, over the parks of the layer
    assert len(grids) == 1 and grids[0][0].startswith("parkmap-surface")
    assert np.isnan(analysis.projects["investment_100m_cny"].to_numpy(dtype=float)[7])
    built = re.sub(r"_[0-9a-f]{32}", "_ID", written["map"].read_text(encoding="utf-8"))
    # the page make_map draws on its own, surface included, is the same page
    assert built == _page(make_map(analysis), tmp_path / "alone.html")
    assert len(calls) == 2 and calls[1][0].startswith("parkmap-density")
    assert len(grids) == 2 and grids[1][0].startswith("parkmap-density")


def test_a_surface_of_other_points_or_amounts_is_not_used(tmp_path, monkeypatch):
    analysis = pipeline.analyse(InputOptions(projects=_ledger(tmp_path / "ledger.csv")))
    projects = analysis.projects
    amounts = summable_amounts(projects)
    with ThreadPoolExecutor(max_workers=1) as pool:
        same = density.SurfaceJob(projects, amounts, bandwidth_km=None, pool=pool)
        assert same.fits(projects, amounts, None)
        assert not same.fits(projects, amounts, 1.5)  # another bandwidth asked for
        # the same coordinates in other objects, or other amounts: not the same surface
        copied = projects.copy(deep=True)
        copied["geometry"] = copied.geometry.array.copy()
        assert not same.fits(copied, amounts, None)
        other_amounts = amounts.copy()
        other_amounts[3] += 1.0
        assert not same.fits(projects, other_amounts, None)
        assert not same.fits(projects.iloc[1:], amounts[1:], None)
        # a surface of other amounts given to make_map: it makes its own, the right one
        wrong = density.SurfaceJob(projects, other_amounts, bandwidth_km=None, pool=pool)
        expected = _page(make_map(analysis), tmp_path / "a.html")
        assert _page(make_map(analysis, started=wrong), tmp_path / "b.html") == expected
        assert _page(make_map(analysis, started=same), tmp_path / "c.html") == expected
        # a surface of another bandwidth is not taken either
        wide = MapOptions(bandwidth_km=3.0)
        alone = _page(make_map(analysis, wide), tmp_path / "d.html")
        assert _page(make_map(analysis, wide, started=same), tmp_path / "e.html") == alone
        assert alone != expected


def test_a_grid_of_other_cells_or_parks_is_not_used(tmp_path):
    analysis = pipeline.analyse(InputOptions(projects=_ledger(tmp_path / "ledger.csv")))
    projects, parks = analysis.projects, analysis.parks
    amounts = summable_amounts(projects)
    with ThreadPoolExecutor(max_workers=1) as pool:
        job = density.SurfaceJob(
            projects, amounts, bandwidth_km=None, pool=pool, cell_km=0.5, cover=parks
        )
        assert job.fits_grid(0.5, parks)
        assert not job.fits_grid(1.0, parks)
        assert not job.fits_grid(0.5, None)
        assert not job.fits_grid(0.5, parks.iloc[1:])
        moved = parks.copy()
        moved["geometry"] = moved.geometry.translate(1e-6, 0)
        assert not job.fits_grid(0.5, moved)
        assert not job.fits_grid(0.5, parks.to_crs(3857))
        without = density.SurfaceJob(projects, amounts, bandwidth_km=None, pool=pool)
        assert not without.fits_grid(0.5, parks) and without.grid is None
        expected = density.hex_grid(projects, cell_km=0.5, cover=parks)
        made = job.grid.result()
        assert made.drop(columns="geometry").equals(expected.drop(columns="geometry"))
        assert (made.geometry.to_wkb() == expected.geometry.to_wkb()).all()


def test_the_early_surface_is_the_kernel_density_of_the_summable_amounts(tmp_path):
    analysis = pipeline.analyse(InputOptions(projects=_ledger(tmp_path / "ledger.csv")))
    projects = analysis.projects
    amounts = summable_amounts(projects)
    with ThreadPoolExecutor(max_workers=1) as pool:
        job = density.SurfaceJob(projects, amounts, bandwidth_km=1.5, pool=pool)
        surface = job.surface.result()
    money = np.nan_to_num(amounts) > 0
    alone = density.kde_surface(projects[money], bandwidth_km=1.5)
    np.testing.assert_array_equal(surface.values, alone.values)
    assert surface.bounds == alone.bounds
    assert surface.total == pytest.approx(float(np.nansum(amounts)), rel=1e-12)


def test_no_early_surface_on_an_amap_basemap(tmp_path, monkeypatch):
    """On Amap the map is drawn in GCJ-02: make_map shifts the points and makes the surface."""
    calls = _calls(monkeypatch, "kde_surface")
    ledger = _ledger(tmp_path / "ledger.csv")
    options = BuildOptions(
        inputs=InputOptions(projects=ledger), map=MapOptions(basemap="amap"), out=tmp_path / "o"
    )
    _, written = pipeline.build(options)
    assert written["map"].exists()
    # one surface, made by make_map's own job, none started before the join
    assert len(calls) == 1 and calls[0][0].startswith("parkmap-density")

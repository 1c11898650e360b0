"""make_map past MAX_MAP_POINTS: the largest projects as points, the totals of all of them."""

from __future__ import annotations

import numpy as np
import pytest

import parkmap.webmap
from parkmap import pipeline
from parkmap.settings import DEFAULT_CELL_KM, MapOptions
from parkmap.webmap import compose


@pytest.fixture(scope="module")
def demo():
    return pipeline.analyse()


def test_largest_projects_drawn_and_all_counted(demo, monkeypatch):
    captured = {}

    def fake_build_map(parks, projects, **kwargs):
        captured.update(projects=projects, **kwargs)
        return "map"

    monkeypatch.setattr(parkmap.webmap, "build_map", fake_build_map)
    monkeypatch.setattr(compose, "MAX_MAP_POINTS", 40)
    assert compose.make_map(demo, MapOptions(lang="en")) == "map"
    drawn = captured["projects"]
    inv = demo.projects["investment_100m_cny"].to_numpy(dtype=float)
    # by hand: sort positions by investment, largest first, unknown last, ties in file order
    key = [(-v if np.isfinite(v) else np.inf, i) for i, v in enumerate(inv)]
    expected = [i for _, i in sorted(key)[:40]]
    assert drawn.index.tolist() == demo.projects.index[expected].tolist()
    assert captured["totals"] == (len(demo.projects), pytest.approx(np.nansum(inv)))
    assert len(demo.projects) == 160  # the demo: 160 rows read, none rejected
    assert "40 largest of 160 projects" in captured["data_note"]
    # the grid counts every project in its cells, not only the drawn ones
    from parkmap.density import hex_grid

    every = hex_grid(demo.projects, cell_km=DEFAULT_CELL_KM, cover=demo.parks)
    only_drawn = hex_grid(drawn, cell_km=DEFAULT_CELL_KM, cover=demo.parks)
    assert int(captured["hexes"]["count"].sum()) == int(every["count"].sum())
    assert int(every["count"].sum()) > int(only_drawn["count"].sum())


def test_small_tables_are_drawn_whole(demo, monkeypatch):
    captured = {}
    monkeypatch.setattr(
        parkmap.webmap, "build_map", lambda parks, projects, **kw: captured.update(kw, p=projects)
    )
    compose.make_map(demo)
    assert len(captured["p"]) == len(demo.projects) and captured["totals"] is None

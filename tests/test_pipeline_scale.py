"""make_map puts every project in the page (no sample), and the grid counts every one."""

from __future__ import annotations

import pytest

import parkmap.webmap
from parkmap import pipeline
from parkmap.settings import DEFAULT_CELL_KM
from parkmap.webmap import compose


@pytest.fixture(scope="module")
def demo():
    return pipeline.analyse()


def test_every_project_goes_to_the_page(demo, monkeypatch):
    captured = {}
    monkeypatch.setattr(
        parkmap.webmap, "build_map", lambda parks, projects, **kw: captured.update(kw, p=projects)
    )
    compose.make_map(demo)
    assert len(demo.projects) == 160  # the demo: 160 rows read, none rejected
    assert captured["p"].index.tolist() == demo.projects.index.tolist()
    # no totals or note of a sample: the page's own figures are those of every project
    assert "totals" not in captured and "data_note" not in captured
    from parkmap.density import hex_grid

    every = hex_grid(demo.projects, cell_km=DEFAULT_CELL_KM, cover=demo.parks)
    assert int(captured["hexes"]["count"].sum()) == int(every["count"].sum())

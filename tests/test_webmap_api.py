"""Every project in the page, and the public page API ``parkmap.summary()`` / ``parkmap.find()``.

A 30,000-project ledger (benchmarks/synthetic.py: Chinese headers, projects in and around the
bundled parks) is built with ``parkmap build`` and opened in headless Chromium with the network
cut. Expected numbers come from pandas and shapely on the CSV and the park layer, never from
the page.
"""

from __future__ import annotations

import re

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from click.testing import CliRunner
from pages import OfflinePage, with_test_hooks

from benchmarks.synthetic import write_projects_csv
from parkmap.cli import main
from parkmap.read import bundled_path
from parkmap.webmap import payloads
from parkmap.webmap.payloads import AGGREGATE_ABOVE

N = 30_000


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """The ledger as pandas reads it, the bundled parks, and the built page."""
    folder = tmp_path_factory.mktemp("api")
    csv_path = write_projects_csv(folder / "projects.csv", N, seed=16)
    result = CliRunner().invoke(
        main, ["build", "--projects", str(csv_path), "--out", str(folder / "out")]
    )
    assert result.exit_code == 0, result.output
    ledger = pd.read_csv(csv_path, dtype={"项目编号": str, "签约日期": str})
    parks = gpd.read_file(bundled_path("parks.geojson")).to_crs("EPSG:4326")
    return ledger, parks, folder / "out" / "map.html"


@pytest.fixture(scope="module")
def page(browser, built):
    page = OfflinePage(with_test_hooks(browser), built[2])
    yield page
    page.assert_clean()
    page.close()


def _located(ledger: pd.DataFrame) -> pd.Series:
    lon, lat = ledger["经度"], ledger["纬度"]
    return lon.between(-180, 180) & lat.between(-90, 90)


@pytest.mark.browser
def test_summary_counts_every_project(page, built):
    ledger = built[0]
    assert len(ledger) == N
    summary = page.page.evaluate("parkmap.summary()")
    assert summary["projects"] == int(_located(ledger).sum()) == N
    assert summary["shown"] == N
    # the opening view holds every project, too many to draw one by one: bins
    assert summary["drawn"] == N and N > AGGREGATE_ABOVE
    assert page.page.evaluate("parkmap.aggregated()") is True


@pytest.mark.browser
def test_find_returns_the_smallest_project(page, built):
    ledger = built[0]
    smallest = ledger.loc[ledger["总投资(万元)"].idxmin()]
    found = page.page.evaluate("(id) => parkmap.find(id)", smallest["项目编号"])
    assert found == [smallest["项目编号"]]
    by_name = page.page.evaluate("(t) => parkmap.find(t)", smallest["项目名称"])
    same_name = ledger.loc[ledger["项目名称"].str.contains(smallest["项目名称"], regex=False)]
    assert sorted(by_name) == sorted(same_name["项目编号"])
    assert page.page.evaluate("parkmap.find('  ')") == []
    assert page.page.evaluate("(id) => parkmap.find(id.toLowerCase())", smallest["项目编号"]) == [
        smallest["项目编号"]
    ]


@pytest.mark.browser
def test_zooming_to_a_park_shows_every_project_inside_it(page, built):
    ledger, parks, _ = built
    inside = shapely.contains_xy(
        parks.geometry.union_all(), ledger["经度"].to_numpy(), ledger["纬度"].to_numpy()
    )
    # the park holding most projects, by shapely
    counts = [
        int(shapely.contains_xy(g, ledger["经度"].to_numpy(), ledger["纬度"].to_numpy()).sum())
        for g in parks.geometry
    ]
    k = int(np.argmax(counts))
    park = parks.geometry.iloc[k]
    in_park = shapely.contains_xy(park, ledger["经度"].to_numpy(), ledger["纬度"].to_numpy())
    assert inside.sum() >= in_park.sum() == max(counts) > 1000
    x0, y0, x1, y1 = park.bounds
    page.page.evaluate(
        "(b) => { parkmap.map.fitBounds([[b[1], b[0]], [b[3], b[2]]], {animate: false}); }",
        [x0, y0, x1, y1],
    )
    page.settle()
    assert page.page.evaluate("parkmap.aggregated()") is False
    drawn = set(page.page.evaluate("parkmap.drawnIds()"))
    assert set(ledger.loc[in_park, "项目编号"]) <= drawn
    # and what is drawn is what lies in the view, by pandas
    south, west, north, east = page.page.evaluate(
        "(() => { const b = parkmap.map.getBounds(); "
        "return [b.getSouth(), b.getWest(), b.getNorth(), b.getEast()]; })()"
    )
    lon, lat = ledger["经度"], ledger["纬度"]
    in_view = lon.between(west, east) & lat.between(south, north)
    assert set(ledger.loc[in_view, "项目编号"]) <= drawn
    assert page.page.evaluate("parkmap.summary().drawn") == len(drawn)
    page.page.evaluate("parkmap.map.setView([36.3, 120.2], 9, {animate: false})")
    page.settle()


@pytest.mark.browser
def test_a_filter_changes_what_is_shown(page, built):
    ledger = built[0]
    statuses = ledger["项目状态"]
    keep = "在建"
    expected = int((statuses == keep).sum())
    assert 0 < expected < N
    labels = page.page.evaluate(
        "Array.from(document.querySelectorAll('fieldset[data-filter=status] label'),"
        " (l) => l.textContent)"
    )
    k = labels.index(keep)
    page.page.evaluate(
        """(k) => document.querySelectorAll('fieldset[data-filter=status] input').forEach(
            (b, i) => {
                b.checked = i === k;
                b.dispatchEvent(new Event('change', {bubbles: true}));
            })""",
        k,
    )
    summary = page.page.evaluate("parkmap.summary()")
    assert summary["projects"] == N
    assert summary["shown"] == expected
    assert summary["drawn"] <= expected
    page.page.evaluate(
        """() => document.querySelectorAll('fieldset[data-filter=status] input').forEach(
            (b) => { b.checked = true; b.dispatchEvent(new Event('change', {bubbles: true})); })"""
    )
    assert page.page.evaluate("parkmap.summary().shown") == N


class _WithoutWorkers:
    """A browser whose pages have no ``Worker`` (as a browser that refuses them)."""

    def __init__(self, browser) -> None:
        self._browser = browser

    def new_context(self, **kwargs):
        context = self._browser.new_context(**kwargs)
        context.add_init_script(script="delete window.Worker; window.Worker = undefined;")
        return context


@pytest.mark.browser
def test_the_projects_are_decoded_in_a_worker_or_else_on_the_page(browser, page, built):
    ledger = built[0]
    smallest = ledger.loc[ledger["总投资(万元)"].idxmin(), "项目编号"]
    # numbers and texts: two blocks, decoded by the worker while the page was parsed
    assert page.page.evaluate("parkmap.decoded()") == {"worker": 2, "page": 0}
    alone = OfflinePage(_WithoutWorkers(with_test_hooks(browser)), built[2])
    try:
        assert alone.page.evaluate("parkmap.decoded()") == {"worker": 0, "page": 2}
        assert alone.page.evaluate("parkmap.summary()") == {"projects": N, "shown": N, "drawn": N}
        assert alone.page.evaluate("(id) => parkmap.find(id)", smallest) == [smallest]
        alone.assert_clean()
    finally:
        alone.close()


@pytest.fixture(scope="module")
def built_in_parts(tmp_path_factory, built):
    """The same ledger built with its numbers cut into many small data blocks (a 30,000-project
    page has one at the size the builder cuts at): each part goes to the worker as parsed."""
    ledger = built[0]
    folder = tmp_path_factory.mktemp("parts")
    csv_path = write_projects_csv(folder / "projects.csv", N, seed=16)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(payloads, "PART_CHARS", 4096)
        result = CliRunner().invoke(
            main, ["build", "--projects", str(csv_path), "--out", str(folder / "out")]
        )
    assert result.exit_code == 0, result.output
    return ledger, folder / "out" / "map.html"


@pytest.mark.browser
def test_numbers_in_parts_are_streamed_to_the_worker_and_read_back_whole(browser, built_in_parts):
    ledger, html = built_in_parts
    text = html.read_text(encoding="utf-8")
    block = r'<script type="application/octet-stream" id="(\w+_numbers(?:_\d+)?)">'
    parts = re.findall(block, text)
    assert len(parts) > 10  # (the numbers of 30,000 projects: several hundred kB of base64)
    smallest = ledger.loc[ledger["总投资(万元)"].idxmin(), "项目编号"]
    signed = pd.to_datetime(ledger["签约日期"], errors="coerce").dt.year
    year = int(signed.median())
    expected = int(((signed <= year) | signed.isna()).sum())  # undated ones stay (box ticked)
    assert 0 < expected < N
    for hooks, decoded in (
        (with_test_hooks(browser), {"worker": 2, "page": 0}),
        (_WithoutWorkers(with_test_hooks(browser)), {"worker": 0, "page": 2}),
    ):
        page = OfflinePage(hooks, html)
        try:
            assert page.page.evaluate("parkmap.decoded()") == decoded
            summary = page.page.evaluate("parkmap.summary()")
            assert summary == {"projects": N, "shown": N, "drawn": N}
            assert page.page.evaluate("(id) => parkmap.find(id)", smallest) == [smallest]
            # the dates, decoded after the first paint, filter
            page.page.evaluate(
                """(y) => { var box = document.querySelector('input.pm-year'); box.value = y;
                    box.dispatchEvent(new Event('input', {bubbles: true})); }""",
                year,
            )
            assert page.page.evaluate("parkmap.summary().shown") == expected
            page.assert_clean()
        finally:
            page.close()

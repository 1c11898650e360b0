"""The change layer of ``parkmap compare``'s map.html: its payload, and in a real browser with the
network cut, its symbols, legend rows, check boxes and popups."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from pages import OfflinePage, with_test_hooks
from snapshots import NEW_ROWS, OLD_ROWS, write_csv, write_parks, write_snapshots

from parkmap.pipeline import compare
from parkmap.settings import CompareOptions, InputOptions
from parkmap.style import CHANGE_SYMBOLS

XSS = '<img src=x onerror="window.__xss=1">'
#: NEW plus a hostile new project in 甲园区: 3 new, 1 up, 1 back, 1 removed.
ROWS = [*NEW_ROWS, ("P12", XSS, "甲园区", "签约", "30", 120.016, 36.006)]
SHAPES = {"new": "circle", "up": "polygon", "back": "polygon", "removed": "path"}


@pytest.fixture(scope="module")
def outcome(tmp_path_factory):
    folder = tmp_path_factory.mktemp("changes")
    return compare(
        CompareOptions(
            old=write_csv(folder / "old.csv", OLD_ROWS),
            new=write_csv(folder / "new.csv", ROWS),
            inputs=InputOptions(parks=(write_parks(folder / "parks.geojson"),)),
            out=folder / "out",
        )
    )


def _payload(html: str) -> dict:
    match = re.search(r"parkmap\.changesLayer\(\s*\w+, (\{.*?\})\);\n", html, re.S)
    assert match, "no change layer on the page"
    return json.loads(match.group(1))


def test_payload_counts_and_places_every_change(outcome):
    html = Path(outcome.files["map"]).read_text(encoding="utf-8")
    d = _payload(html)
    assert [k["key"] for k in d["kinds"]] == list(CHANGE_SYMBOLS)
    assert [k["count"] for k in d["kinds"]] == [3, 1, 1, 1]
    assert [k["label"] for k in d["kinds"]] == ["新增", "状态推进", "状态倒退", "移出"]
    assert [i["id"] for i in d["items"] if i["k"] == 0] == ["P10", "P12", "P9"]
    by_id = {item["id"]: item for item in d["items"]}
    # the removed project sits where it was; the stepped-back one shows both statuses
    assert by_id["P4"]["at"] == [36.01, 120.11]
    assert (by_id["P2"]["before"], by_id["P2"]["after"]) == ("在建", "签约")
    assert by_id["P12"]["name"] == XSS
    assert XSS not in html  # the name reaches the page only as escaped JSON


@pytest.mark.browser
def test_browser_change_layer_symbols_legend_and_filters(browser, outcome):
    s = OfflinePage(with_test_hooks(browser), Path(outcome.files["map"]))
    page = s.page
    try:
        assert page.locator(".pm-change-marker").count() == 6
        for kind, n in {"new": 3, "up": 1, "back": 1, "removed": 1}.items():
            markers = page.locator(f".pm-change-marker.pm-change-{kind}")
            assert markers.count() == n
            assert markers.first.locator(f"svg {SHAPES[kind]}").count() == 1
        up = page.locator(".pm-change-up polygon").get_attribute("points")
        back = page.locator(".pm-change-back polygon").get_attribute("points")
        assert up != back  # a triangle pointing up, one pointing down
        legend = page.locator('.pm-legend [data-layer="changes"]')
        assert legend.is_visible()
        assert legend.locator(".pm-legend-label").all_inner_texts() == [
            "新增",
            "状态推进",
            "状态倒退",
            "移出",
        ]
        assert legend.locator(".pm-legend-count").all_inner_texts() == ["(3)", "(1)", "(1)", "(1)"]
        # filter: hide the new projects, then show them again
        box = legend.locator('input[data-change="new"]')
        box.uncheck()
        assert page.locator(".pm-change-marker.pm-change-new").count() == 0
        assert page.locator(".pm-change-marker").count() == 3
        box.check()
        assert page.locator(".pm-change-marker.pm-change-new").count() == 3
        # the hostile name is text in the popup (markers in payload order: P10, P12, P9)
        page.evaluate("parkmap.map.setView([36.006, 120.016], 15, {animate: false})")
        s.settle()
        page.locator(".pm-change-new").nth(1).click()
        popup = page.locator(".leaflet-popup-content")
        popup.wait_for()
        assert XSS in popup.inner_text()
        assert popup.locator("img").count() == 0
        assert "30.00 亿元" in popup.inner_text()
        # the layer control turns the whole layer and its legend section off
        page.locator(".leaflet-control-layers-overlays label", has_text="项目变化").click()
        assert page.locator(".pm-change-marker").count() == 0
        assert legend.is_hidden()
        assert page.evaluate("typeof window.__xss") == "undefined"
        s.assert_clean()
    finally:
        s.close()


def test_added_classes_by_hand():
    from parkmap.webmap.changes import added_classes

    # 甲 +3, 乙 +24, 丙 0: two classes of the positive amounts (median 13.5), 丙 nothing added
    classes, tops = added_classes(np.array([3.0, 24.0, 0.0]))
    assert classes.tolist() == [0, 1, -1] and tops == [13.5, 24.0]
    classes, tops = added_classes(np.array([np.nan, -2.0]))
    assert classes.tolist() == [-1, -1] and tops == []


@pytest.mark.browser
def test_browser_parks_by_investment_added_replace_the_density_fill(browser, tmp_path):
    old, new, parks = write_snapshots(tmp_path)
    done = compare(
        CompareOptions(
            old=old,
            new=new,
            inputs=InputOptions(parks=(parks,)),
            out=tmp_path / "out",
            color_by_added=True,
        )
    )
    s = OfflinePage(with_test_hooks(browser), Path(done.files["map"]))
    page = s.page
    try:
        section = page.locator('.pm-legend [data-layer="parksAdded"]')
        assert section.locator(".pm-legend-label").all_inner_texts() == [
            "0.00 – 13.50",
            "13.50 – 24.00",
            "无新增投资",
        ]
        assert section.locator(".pm-legend-count").all_inner_texts() == ["(1)", "(1)", "(1)"]
        assert page.evaluate("parkmap.layerCount('parksAdded')") == 3
        assert page.evaluate("parkmap.layerCount('parks')") == 0  # its place is taken
        page.locator(".leaflet-control-layers-overlays label", has_text="园区新增投资").click()
        assert page.evaluate("parkmap.layerCount('parksAdded')") == 0
        page.wait_for_function("parkmap.layerCount('parks') === 3")  # and given back
        parks_box = page.locator(".leaflet-control-layers-overlays label", has_text="园区投资密度")
        assert parks_box.locator("input").is_checked()
        assert section.is_hidden()
        s.assert_clean()
    finally:
        s.close()

"""Smoke tests of the peers benchmark's helpers (no lonboard, no npm, no timing): the issue
table, inlining an ipywidgets export, the deck.gl draw counter and the build memory guard."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.bench_build import run
from benchmarks.bench_peers import Outcome, issue_table
from benchmarks.browser_timing import DECK_DRAW_COUNTER, deck_ready
from benchmarks.table import Cell
from benchmarks.widget_assets import (
    HTML_MANAGER,
    REQUIREJS,
    inline_widget_assets,
    name_anonymous_define,
)


def test_issue_table_gives_each_tool_its_ratio_to_parkmap():
    outcomes = [
        Outcome("parkmap", 100, Cell(2.0), Cell(1_000_000.0), Cell(0.5), "yes"),
        Outcome("lonboard", 100, Cell(1.0), Cell(8_000_000.0), Cell(2.0), "no ‡"),
        Outcome("explore", 100, Cell(4.0), Cell(3_000_000.0), Cell(1.5), "yes"),
        Outcome("parkmap", 1000, Cell(10.0), Cell(4_000_000.0), Cell(1.0), "yes"),
        Outcome("lonboard", 1000, Cell(5.0), Cell(60_000_000.0), Cell(None, "timeout", 120.0)),
    ]
    lines = issue_table(outcomes, [100, 1000]).splitlines()
    assert lines[0] == (
        "| tool | 100: page (MB) | 100: paint (s) | 1,000: generate (s) | 1,000: page (MB) "
        "| 1,000: paint (s) | offline |"
    )
    assert lines[2] == "| parkmap build | 1.00 | 0.50 | 10.0 | 4.00 | 1.00 | yes |"
    # 8 MB / 1 MB = 8.0; 2.0 / 0.5 = 4.0; 5 / 10 = 0.5; 60 MB / 4 MB = 15; over 120 / 1 = 120
    assert lines[3] == (
        "| lonboard viz() (GeoArrow + deck.gl) | 8.00 (8.0×) | 2.00 (4.0×) | 5.00 (0.5×) "
        "| 60.00 (15×) | > 120 s (did not finish) (> 120×) | no ‡ |"
    )
    # explore() ran at the small size only: 3 MB / 1 MB, 1.5 / 0.5
    assert lines[4] == "| geopandas.explore() | 3.00 (3.0×) | 1.50 (3.0×) | — | — | — | yes |"


def test_anonymous_define_gets_the_name_the_manager_asks_for():
    text = 'var a = 1;\n// define([ in a comment\ndefine(["@jupyter-widgets/base"], f);\n'
    assert name_anonymous_define(text, "anywidget") == (
        'var a = 1;\n// define([ in a comment\ndefine("anywidget", ["@jupyter-widgets/base"], f);\n'
    )
    assert name_anonymous_define("define([], f);\ndefine([], g);\n", "x") is None
    assert name_anonymous_define("no module here", "x") is None


def _fake_npm(assets: Path) -> None:
    """The two npm files, already unpacked, so no npm is called."""
    for asset, body in ((REQUIREJS, "var requirejs = 1;"), (HTML_MANAGER, "var m = '</script>';")):
        path = assets / asset.folder / "package" / asset.file
        path.parent.mkdir(parents=True)
        path.write_text(body, encoding="utf-8")


def test_widget_export_gets_its_cdn_scripts_inlined(tmp_path):
    _fake_npm(tmp_path)
    page = (
        "<html><body>\n"
        '<script src="https://cdn.example/ajax/libs/require.js/2.3.4/require.min.js" '
        'integrity="sha256-x" crossorigin="anonymous"></script>\n'
        '<script src="https://cdn.example/npm/@jupyter-widgets/html-manager@^1.0.1/dist/'
        'embed-amd.js" crossorigin="anonymous"></script>\n'
        '<script type="application/vnd.jupyter.widget-state+json">{}</script>\n'
        "</body></html>"
    )
    html, report = inline_widget_assets(page, tmp_path)
    assert "https://" not in html
    assert "<script>var requirejs = 1;</script>" in html
    # a closing tag inside an inlined script is escaped so that it does not end the script
    assert "<script>var m = '<\\/script>';</script>" in html
    assert html.index("var requirejs") < html.index("var m =") < html.index("widget-state")
    assert report.inlined == [
        "require.js (npm requirejs 2.3.4)",
        "embed-amd.js (npm @jupyter-widgets/html-manager 1.0.15)",
    ]
    assert report.stubbed == [] and report.fetched == []


@pytest.mark.browser
def test_deck_draw_counter_counts_one_redraw_not_the_sum_of_several(browser, tmp_path):
    """Two draws of 300 + 200 instances in one task make one redraw of 500; a later task with
    400 more does not add up to 900, so the condition for 500 points holds and for 600 not."""
    page_file = tmp_path / "gl.html"
    page_file.write_text(
        """<html><body><canvas id="c" width="8" height="8"></canvas><script>
const gl = document.getElementById("c").getContext("webgl2");
const vs = gl.createShader(gl.VERTEX_SHADER);
gl.shaderSource(vs, "#version 300 es\\nvoid main() { gl_Position = vec4(0.0); }");
gl.compileShader(vs);
const fs = gl.createShader(gl.FRAGMENT_SHADER);
gl.shaderSource(fs, "#version 300 es\\nprecision mediump float; out vec4 o;"
  + " void main() { o = vec4(1.0); }");
gl.compileShader(fs);
const program = gl.createProgram();
gl.attachShader(program, vs); gl.attachShader(program, fs); gl.linkProgram(program);
gl.useProgram(program);
gl.drawArraysInstanced(gl.POINTS, 0, 1, 300);
gl.drawArraysInstanced(gl.POINTS, 0, 1, 200);
setTimeout(() => { gl.drawArraysInstanced(gl.POINTS, 0, 1, 400); window.done = true; }, 50);
</script></body></html>""",
        encoding="utf-8",
    )
    page = browser.new_page()
    try:
        page.add_init_script(DECK_DRAW_COUNTER)
        page.goto(page_file.as_uri())
        page.wait_for_function("() => window.done === true", timeout=10_000)
        assert page.evaluate("window.__benchDraws.draws") == 3
        assert page.evaluate("window.__benchDraws.max") == 500
        assert page.evaluate(deck_ready(500)) is True
        assert page.evaluate(deck_ready(600)) is False
    finally:
        page.close()


def test_build_bench_stops_a_tool_over_its_memory_limit(tmp_path):
    hog = (
        "import sys, time\n"
        "print('step: loading and joining', file=sys.stderr, flush=True)\n"
        "block = bytearray(400 * 1024 * 1024)\n"
        "block[::4096] = b'x' * len(block[::4096])\n"  # touch every page: resident, not reserved
        "time.sleep(30)\n"
    )
    result = run(hog, tmp_path, max_rss_mb=150)
    assert result["failed"].startswith("stopped at ")
    assert result["failed"].endswith("(limit 150 MB) during 'loading and joining'")
    assert result["peak_mb"] > 150

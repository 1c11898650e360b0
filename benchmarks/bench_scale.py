"""A million projects in one page: size, load-and-paint time, and what the page holds.

Builds ``map.html`` from a synthetic ledger of ``--n`` projects (default 1,000,000) with
``parkmap build``, then opens it in headless Chromium with the network cut and measures:

- the page's size;
- load and paint: navigation start to the second animation frame after every project is
  painted (``parkmap.summary().drawn`` > 0), and after ``parkmap.ready`` (names unpacked too),
  median of ``--repeat`` fresh browsers; and the same for the first paint of the map's layers
  (before the projects are unpacked);
- ``parkmap.summary().projects`` against the ledger's row count, ``parkmap.find()`` of the
  smallest project by investment (pandas), and zooming to the park holding most projects
  (shapely): whether the page then draws every project inside it one by one.

For comparison it times ``geopandas.explore()`` of ``--explore-n`` projects (default 10,000),
the page the issue compares against, the same way (its CDN assets inlined, network cut).
Writes a markdown record to ``benchmarks/results_scale.md``.

Example::

    python -m benchmarks.bench_scale               # 1,000,000 projects, explore() at 10,000
    python -m benchmarks.bench_scale --n 200000 --repeat 1
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Final

from benchmarks.bench_map import _parkmap_command, _versions, generate
from benchmarks.browser_timing import (
    CHROMIUM_ARGS,
    FOLIUM_READY,
    PARKMAP_READY,
    find_chromium,
    load_and_paint,
)
from benchmarks.bytecode import compile_workers
from benchmarks.synthetic import write_projects_csv

HERE: Final = Path(__file__).resolve().parent
#: Every project unpacked, counted and painted (parkmap.ready), not only the map's layers.
PROJECTS_READY: Final = "() => window.parkmap && window.parkmap.ready === true"
#: Every project counted and painted (bins or points), names perhaps still being unpacked.
PROJECTS_PAINTED: Final = (
    "() => window.parkmap && window.parkmap.summary && window.parkmap.summary().drawn > 0"
)
#: The goals of issue 16 at a million projects.
MAX_MB: Final = 25.0


def secs(value: float | None) -> str:
    """Seconds as text; "—" for a step not measured or over the cap."""
    return "—" if value is None else f"{value:.2f} s"


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _median_paint(html: Path, ready: str, repeat: int, cap_s: float) -> float | None:
    values = []
    for _ in range(repeat):
        timing = load_and_paint(html, ready, cap_s=cap_s)
        if timing.seconds is None:
            return None
        values.append(timing.seconds)
    return statistics.median(values)


def check_page(html: Path, csv_path: Path) -> dict[str, Any]:
    """What the page says about its projects, against pandas and shapely on the inputs."""
    import geopandas as gpd
    import pandas as pd
    import shapely
    from playwright.sync_api import sync_playwright

    from parkmap.read import bundled_path

    ledger = pd.read_csv(csv_path, dtype={"项目编号": str, "签约日期": str})
    smallest = ledger.loc[ledger["总投资(万元)"].idxmin(), "项目编号"]
    parks = gpd.read_file(bundled_path("parks.geojson")).to_crs("EPSG:4326")
    lon, lat = ledger["经度"].to_numpy(), ledger["纬度"].to_numpy()
    counts = [int(shapely.contains_xy(g, lon, lat).sum()) for g in parks.geometry]
    k = max(range(len(counts)), key=counts.__getitem__)
    park = parks.geometry.iloc[k]
    inside = set(ledger.loc[shapely.contains_xy(park, lon, lat), "项目编号"])
    url = html.resolve().as_uri()
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=find_chromium(), args=list(CHROMIUM_ARGS))
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            page.add_init_script("window.__parkmapTest = true")  # for drawnIds()
            page.route("**/*", lambda r: r.continue_() if r.request.url == url else r.abort())
            page.goto(url, timeout=300_000)
            page.wait_for_function(PROJECTS_READY, timeout=300_000)
            summary = page.evaluate("parkmap.summary()")
            start = time.perf_counter()
            found = page.evaluate("(id) => parkmap.find(id)", smallest)
            find_s = time.perf_counter() - start
            x0, y0, x1, y1 = park.bounds
            start = time.perf_counter()
            page.evaluate(
                "(b) => { parkmap.map.fitBounds([[b[1], b[0]], [b[3], b[2]]], {animate: false}); }",
                [x0, y0, x1, y1],
            )
            zoom_s = time.perf_counter() - start
            drawn = set(page.evaluate("parkmap.drawnIds()"))
            zoomed = page.evaluate(
                "({zoom: parkmap.map.getZoom(), aggregated: parkmap.aggregated(),"
                " drawn: parkmap.summary().drawn})"
            )
        finally:
            browser.close()
    return {
        "rows": len(ledger),
        "summary": summary,
        "smallest": smallest,
        "found": found,
        "find_s": find_s,
        "park": parks.iloc[k].get("park_id", k),
        "in_park": len(inside),
        "zoom": zoomed["zoom"],
        "aggregated": zoomed["aggregated"],
        "drawn_in_view": zoomed["drawn"],
        "all_in_park_drawn": inside <= drawn,
        "zoom_s": zoom_s,
    }


def main(argv: list[str] | None = None) -> None:
    """Run the measurement and write the record."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="projects in the page")
    parser.add_argument("--explore-n", type=int, default=10_000, help="projects for explore()")
    parser.add_argument("--repeat", type=int, default=3, help="page loads, median reported")
    parser.add_argument("--cap", type=float, default=300.0, help="time limit per step (s)")
    parser.add_argument("--seed", type=int, default=20241126)
    parser.add_argument("--work-dir", type=Path, help="keep generated files here")
    parser.add_argument("--results", type=Path, default=HERE / "results_scale.md")
    parser.add_argument(
        "--reuse", action="store_true", help="reuse the ledger and page already in --work-dir"
    )
    args = parser.parse_args(argv)
    compile_workers()
    load_start = os.getloadavg()[0]
    work = args.work_dir or Path(tempfile.mkdtemp(prefix="parkmap-scale-"))
    work.mkdir(parents=True, exist_ok=True)
    _log(f"working in {work}")

    csv_path = work / f"projects-{args.n}.csv"
    out = work / "parkmap"
    html = out / "map.html"
    build_s: float | None = None
    if not (args.reuse and csv_path.exists() and html.exists()):
        write_projects_csv(csv_path, args.n, seed=args.seed)
        _log(f"[{args.n:,}] parkmap build …")
        start = time.perf_counter()
        subprocess.run(
            [_parkmap_command(), "build", "--projects", str(csv_path), "--out", str(out)],
            check=True,
            capture_output=True,
            timeout=args.cap,
        )
        build_s = time.perf_counter() - start
    size_mb = html.stat().st_size / 1e6
    _log(f"[{args.n:,}] build {secs(build_s)}, map.html {size_mb:.2f} MB; loading …")
    layers_s = _median_paint(html, PARKMAP_READY, args.repeat, args.cap)
    painted_s = _median_paint(html, PROJECTS_PAINTED, args.repeat, args.cap)
    ready_s = _median_paint(html, PROJECTS_READY, args.repeat, args.cap)
    _log(f"layers {secs(layers_s)}, projects painted {secs(painted_s)}, ready {secs(ready_s)}")
    checks = check_page(html, csv_path)
    _log(f"checks: {checks}")

    small_csv = write_projects_csv(
        work / f"projects-{args.explore_n}.csv", args.explore_n, seed=args.seed
    )
    _log(f"[{args.explore_n:,}] geopandas.explore() …")
    (work / "explore").mkdir(exist_ok=True)
    explore = generate("explore", small_csv, work / "explore", args.cap)
    explore_s = (
        _median_paint(explore.html_path, FOLIUM_READY, args.repeat, args.cap)
        if explore.html_path is not None
        else None
    )

    today = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    c = checks
    lines = [
        f"Measured {today} on {_versions(load_start)}.",
        "",
        "| | value | goal |",
        "|---|---:|---|",
        f"| projects in the ledger | {c['rows']:,} | |",
        f"| `parkmap build` (fresh process) | {secs(build_s)} | |",
        f"| map.html | {size_mb:.2f} MB | ≤ {MAX_MB:g} MB |",
        f"| load + paint, map layers | {secs(layers_s)} | |",
        f"| load + paint, every project painted | {secs(painted_s)} | "
        f"≤ explore() at {args.explore_n:,} |",
        f"| load + paint, and names unpacked (`parkmap.ready`) | {secs(ready_s)} | |",
        f"| geopandas.explore(), {args.explore_n:,} projects: load + paint | {secs(explore_s)} | |",
        f"| `parkmap.summary()` | {c['summary']} | projects = {c['rows']:,} |",
        f"| `parkmap.find(id of the smallest project)` | {c['found']} in {c['find_s']:.2f} s | "
        f"[{c['smallest']!r}] |",
        f"| zoom to the park with most projects ({c['park']}, {c['in_park']:,} inside) | "
        f"zoom {c['zoom']}, {'bins' if c['aggregated'] else 'points'}, "
        f"{c['drawn_in_view']:,} drawn, every project inside drawn: {c['all_in_park_drawn']} "
        f"({c['zoom_s']:.2f} s) | every project inside drawn |",
        "",
        "Load + paint: headless Chromium, network cut, fresh browser per load, navigation start "
        f"to the second animation frame after the ready condition; median of {args.repeat}.",
        "",
    ]
    text = "\n".join(lines)
    print(text)
    args.results.write_text(text, encoding="utf-8")
    _log(f"wrote {args.results}")


if __name__ == "__main__":
    main()

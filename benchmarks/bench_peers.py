"""The peers table of issue 16: parkmap against lonboard and geopandas.explore(), in one run.

For each size (default 10,000, 100,000 and 1,000,000 projects) it measures, per tool, the
generation time (a fresh Python process, as ``bench_map``), the size of the page that loads
offline (or as close to offline as the tool can be made, see below) and load-and-paint in
headless Chromium with the network cut, and whether the page works offline at all.
``geopandas.explore()`` runs only up to ``--explore-max`` (10,000): at 100,000 it already takes
13 s to paint a 63 MB page (``results.md``). It writes ``benchmarks/results_peers.md``.

What "painted" means, per tool:

- parkmap: every project counted and painted, as points or screen hexagons
  (``parkmap.summary().drawn > 0``), the condition ``bench_scale`` uses;
- lonboard: one deck.gl redraw has submitted every point to WebGL (an init script counts the
  instances of the instanced draw calls of each redraw, :data:`DECK_DRAW_COUNTER`); a screenshot
  taken afterwards confirms that the canvas is not blank;
- explore(): the Leaflet map and its layers exist (every marker is added by the same script).

Then, as in ``bench_map``, the clock stops at the second animation frame after the condition.

Example::

    python -m benchmarks.bench_peers                       # 10k, 100k and 1M
    python -m benchmarks.bench_peers --sizes 10000,100000 --repeat 1
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import os
import sys
import tempfile
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Final

from benchmarks.bench_map import _median_of, _versions, generate
from benchmarks.bench_scale import PROJECTS_PAINTED
from benchmarks.browser_timing import (
    DECK_DRAW_COUNTER,
    FOLIUM_READY,
    deck_ready,
    load_and_paint,
)
from benchmarks.bytecode import compile_workers
from benchmarks.synthetic import write_projects_csv
from benchmarks.table import (
    DASH,
    Cell,
    Row,
    fmt_megabytes,
    fmt_seconds,
    fmt_vs,
    markdown_table,
)
from benchmarks.widget_assets import (
    DEFAULT_ASSETS,
    NOT_INLINABLE,
    PARQUET_WASM,
    WASM_IMPORT_STUBS,
    assisted_wasm,
    npm_file,
)

HERE: Final = Path(__file__).resolve().parent
TOOLS: Final = ("parkmap", "lonboard", "explore")
LABELS: Final = {
    "parkmap": "parkmap build",
    "lonboard": "lonboard viz() (GeoArrow + deck.gl)",
    "explore": "geopandas.explore()",
}


@dataclass
class Outcome:
    """One tool at one size."""

    tool: str
    n: int
    generate: Cell = field(default_factory=lambda: Cell(None, "skipped"))
    page: Cell = field(default_factory=lambda: Cell(None, "skipped"))
    paint: Cell = field(default_factory=lambda: Cell(None, "skipped"))
    offline: str = DASH
    notes: list[str] = field(default_factory=list)


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _ink_share(png: Path) -> float | None:
    """Share of the screenshot's pixels that differ from its top-left (background) pixel."""
    try:
        from PIL import Image
    except ImportError:
        return None
    import numpy as np

    with Image.open(png) as image:
        rgb = np.asarray(image.convert("RGB"))
    return float((rgb != rgb[0, 0]).any(axis=2).mean())


def _paint(
    html: Path,
    tool: str,
    n: int,
    args: argparse.Namespace,
    shot: Path,
) -> tuple[Cell, list[str], int]:
    """Median load-and-paint of ``html``; notes; the most requests blocked in one load."""
    notes: list[str] = []
    init: str | None = None
    serve = None
    if tool == "parkmap":
        ready = PROJECTS_PAINTED
    elif tool == "explore":
        ready = FOLIUM_READY
    else:
        ready = deck_ready(n)
        serve = assisted_wasm(args.assets_dir)
        if serve is None:
            notes.append(
                f"npm {PARQUET_WASM.package}@{PARQUET_WASM.version} not available: "
                "the page cannot decode its data, paint not measured"
            )
            return Cell(None, "skipped"), notes, 0
        init = DECK_DRAW_COUNTER + "\n" + WASM_IMPORT_STUBS
    blocked: list[int] = []
    shots = [shot]

    def once() -> Cell:
        target = shots.pop() if shots else None  # a screenshot of the first load only
        timing = load_and_paint(
            html, ready, cap_s=args.cap, init_js=init, serve=serve, screenshot=target
        )
        blocked.append(timing.blocked)
        if timing.seconds is None:
            return Cell(None, "timeout", args.cap)
        return Cell(timing.seconds)

    cell = _median_of(once, args.repeat)
    if shot.exists():
        share = _ink_share(shot)
        if share is not None:
            notes.append(f"screenshot once painted: {share:.1%} of the pixels not background")
    return cell, notes, max(blocked, default=0)


def measure(tool: str, n: int, csv_path: Path, work: Path, args: argparse.Namespace) -> Outcome:
    """Generate, weigh and load one tool's page for ``n`` projects."""
    out = Outcome(tool, n)
    if tool == "lonboard" and importlib.util.find_spec("lonboard") is None:
        out.notes.append("lonboard is not installed (`pip install -e '.[bench]'`): not run")
        return out
    folder = work / str(n)
    folder.mkdir(parents=True, exist_ok=True)
    _log(f"[{n:,}] {tool}: generating …")
    result = generate(tool, csv_path, folder, args.cap, args.repeat)
    out.generate = result.generate
    out.notes.extend(result.notes)
    _log(f"[{n:,}] {tool}: generate {fmt_seconds(out.generate)} s")
    if result.html_path is None:
        return out
    out.page = Cell(float(result.html_path.stat().st_size))
    if result.assets:
        out.notes.append(result.assets)
    if args.no_browser:
        return out
    out.paint, notes, blocked = _paint(
        result.html_path, tool, n, args, folder / f"{tool}-painted.png"
    )
    out.notes.extend(notes)
    _log(f"[{n:,}] {tool}: load + paint {fmt_seconds(out.paint)} s, {blocked} blocked")
    if tool == "parkmap":
        out.offline = "yes" if blocked == 0 else f"no ({blocked} requests blocked)"
    elif tool == "explore":
        out.offline = "yes, after inlining (see the notes)"
    else:
        out.offline = "no ‡"
        if out.paint.measured:
            out.notes.append(
                "paint measured with help (‡): the harness answered the page's request for "
                f"parquet_wasm_bg.wasm with {PARQUET_WASM.package} {PARQUET_WASM.version}'s "
                "module and filled the imports that module lacks with stubs that throw"
            )
        if blocked:
            out.notes.append(f"{blocked} requests blocked while loading")
    return out


def _cell(outcome: Outcome | None, attr: str, base: Outcome | None) -> str:
    """One cell of the issue table: value and ratio to parkmap at the same size."""
    if outcome is None:
        return DASH
    cell: Cell = getattr(outcome, attr)
    text = fmt_megabytes(cell) if attr == "page" else fmt_seconds(cell)
    if text == DASH or base is None or outcome.tool == "parkmap":
        return text
    return f"{text} ({fmt_vs(cell, getattr(base, attr))})"


def issue_table(outcomes: list[Outcome], sizes: list[int]) -> str:
    """The table of issue 16: per tool, page and paint at each size, generation at the largest,
    offline; each value of another tool followed by its ratio to parkmap at the same size."""
    found = {(o.tool, o.n): o for o in outcomes}
    top = max(sizes)
    head = ["tool"]
    for n in sizes:
        head += [f"{n:,}: page (MB)", f"{n:,}: paint (s)"]
        if n == top:
            head.insert(len(head) - 2, f"{n:,}: generate (s)")
    head.append("offline")
    lines = ["| " + " | ".join(head) + " |", "|---|" + "---:|" * (len(head) - 2) + "---|"]
    for tool in TOOLS:
        mine = [o for o in outcomes if o.tool == tool]
        if not mine:
            continue
        cells = [LABELS[tool]]
        for n in sizes:
            o, base = found.get((tool, n)), found.get(("parkmap", n))
            if n == top:
                cells.append(_cell(o, "generate", base))
            cells += [_cell(o, "page", base), _cell(o, "paint", base)]
        offline = next((o.offline for o in mine if o.offline != DASH), DASH)
        lines.append("| " + " | ".join([*cells, offline]) + " |")
    return "\n".join(lines) + "\n"


def _grouped_notes(outcomes: list[Outcome]) -> list[str]:
    """The notes as list items, a note that holds at several sizes given once with them all."""
    sizes: dict[tuple[str, str], list[int]] = {}
    for o in outcomes:
        for note in o.notes:
            sizes.setdefault((o.tool, note), []).append(o.n)
    return [
        f"- {LABELS[tool]}, {' and '.join(f'{n:,}' for n in ns)} projects: {note}\n"
        for (tool, note), ns in sizes.items()
    ]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Command line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000,1000000", help="comma-separated sizes")
    parser.add_argument("--tools", default=",".join(TOOLS), help="subset of " + ",".join(TOOLS))
    parser.add_argument("--explore-max", type=int, default=10_000, help="largest explore() run")
    parser.add_argument("--cap", type=float, default=120.0, help="time limit per step (s)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement (median)")
    parser.add_argument("--seed", type=int, default=20241126)
    parser.add_argument("--work-dir", type=Path, help="keep generated files here")
    parser.add_argument("--assets-dir", type=Path, default=DEFAULT_ASSETS, help="npm cache")
    parser.add_argument("--results", type=Path, default=HERE / "results_peers.md")
    parser.add_argument("--no-browser", action="store_true", help="skip load-and-paint")
    return parser.parse_args(argv)


def _wasm_size(assets_dir: Path) -> str:
    """`` (N MB, M MB more if written into the page as base64)`` for the WebAssembly module."""
    path = npm_file(PARQUET_WASM, assets_dir)
    if path is None:
        return ""
    size = path.stat().st_size
    return f" ({size / 1e6:.2f} MB; {4 * -(-size // 3) / 1e6:.2f} MB if written into the page)"


def _peer_versions() -> str:
    parts = []
    for name in ("lonboard", "anywidget", "ipywidgets"):
        try:
            parts.append(f"{name} {version(name)}")
        except PackageNotFoundError:
            parts.append(f"{name} not installed")
    return ", ".join(parts)


def main(argv: list[str] | None = None) -> None:
    """Run the comparison and write the record."""
    args = parse_args(argv)
    compile_workers()
    sizes = sorted(int(s) for s in args.sizes.split(",") if s.strip())
    tools = [t.strip() for t in args.tools.split(",") if t.strip()]
    unknown = set(tools) - set(TOOLS)
    if unknown:
        raise SystemExit(f"unknown tools: {', '.join(sorted(unknown))} (choose from {TOOLS})")
    tools = [t for t in TOOLS if t in tools]  # parkmap first: the base of the ratios
    load_start = os.getloadavg()[0]
    work = args.work_dir or Path(tempfile.mkdtemp(prefix="parkmap-peers-"))
    work.mkdir(parents=True, exist_ok=True)
    _log(f"working in {work}")

    outcomes: list[Outcome] = []
    for n in sizes:
        csv_path = write_projects_csv(work / f"projects-{n}.csv", n, seed=args.seed)
        for tool in tools:
            if tool == "explore" and n > args.explore_max:
                continue
            outcomes.append(measure(tool, n, csv_path, work, args))

    rows = [Row(o.n, LABELS[o.tool], o.generate, o.page, o.paint) for o in outcomes]
    notes = _grouped_notes(outcomes)
    today = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    text = (
        f"Measured {today} on {_versions(load_start)}; {_peer_versions()}.\n\n"
        + issue_table(outcomes, sizes)
        + "\n(×) = tool / parkmap at the same size. "
        + f"Median of {args.repeat} run(s) each (a run over the {args.cap:g} s cap is not "
        + "repeated). Generate: fresh process, wall clock including Python start-up. Page: "
        + "the HTML file that is opened (parkmap's map.html as written; the others with their "
        + "CDN assets inlined). Paint: headless Chromium, network cut, navigation start to the "
        + "second animation frame after every project is painted (lonboard: one deck.gl "
        + "redraw submitted every point; explore(): the map's layers exist).\n\n"
        + f"‡ lonboard offline: no. {NOT_INLINABLE}. RequireJS, the widgets HTML manager and "
        + "anywidget's front end could be inlined (listed below); the page then still fetches "
        + "the WebAssembly. Its paint was measured with help from the harness, as noted below; "
        + "its page size excludes that module"
        + _wasm_size(args.assets_dir)
        + ".\n\n"
        + "All sizes, with ratios:\n\n"
        + markdown_table(rows, base_tool=LABELS["parkmap"])
        + "\n"
        + "".join(notes)
    )
    print(text)
    args.results.write_text(text, encoding="utf-8")
    _log(f"wrote {args.results}")


if __name__ == "__main__":
    main()

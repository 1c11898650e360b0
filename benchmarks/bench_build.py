"""The whole ``parkmap build`` against a bare geopandas ``sjoin`` + ``groupby``, in one run.

The issue's yardstick: at 1M projects read from Parquet, ``parkmap build`` (map, parks.csv,
projects.parquet, rejected.csv; no GeoJSON above 200,000 projects) should take at most three
times a plain point-in-polygon join and sum, with a peak of at most 2 GB. Each tool runs in a
fresh subprocess on the same Parquet file, alternating, so a busy machine slows both alike;
the median of the repeats is reported. Usage::

    python -m benchmarks.bench_build                   # 1M rows, 3 repeats
    python -m benchmarks.bench_build --sizes 100000 1000000 --repeats 5
    python -m benchmarks.bench_build --dask            # also --engine dask (2 workers)
    python -m benchmarks.bench_build --n 10000000 --repeats 1 --max-rss-mb 16000

The synthetic Parquet input is written in parts of a million rows (a folder), so making 10M rows
never holds more than one part in memory. ``--max-rss-mb`` guards a shared machine: a tool whose
resident memory (with its children's) passes the limit is stopped, and the table records the
memory it had reached and the build step it was in.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.bench_join import PEAK, PLAIN_GEOPANDAS, make_projects
from benchmarks.bytecode import compile_workers

HERE = Path(__file__).resolve().parent

#: ``parkmap build`` as the CLI runs it, with its step times; the last line is JSON.
PARKMAP_BUILD = """
import json, sys, tempfile, time
from parkmap.cli import prepare_process
prepare_process()
from parkmap.pipeline import build
from parkmap.settings import BuildOptions, InputOptions
steps, last = {}, [time.perf_counter(), None]
def progress(done, total=None, label=None):
    print(f"step: {label}", file=sys.stderr, flush=True)  # where it was, if it is stopped
    now = time.perf_counter()
    if last[1] is not None:
        steps[last[1]] = round(now - last[0], 2)
    last[:] = [now, label]
engine, out = sys.argv[2], sys.argv[3]
options = BuildOptions(inputs=InputOptions(projects=sys.argv[1]), out=out, engine=engine)
if __name__ == "__main__":
    a, written = build(options, progress=progress if engine == "memory" else None)
    sizes = {name: path.stat().st_size / 1e6 for name, path in written.items()}
    print(json.dumps({"projects_in_parks": int(a.parks["projects"].sum()),
                      "peak_mb": peak_mb(), "sizes": sizes, "steps": steps}))
"""

#: How every tool's process ends, as the ``parkmap`` command ends (``parkmap.cli:run``): the
#: output flushed, then no teardown of the heap. The bare join ends the same way, so neither
#: is timed freeing its objects one by one.
EXIT = """
import os as _os, sys as _sys
if __name__ == "__main__":
    _sys.stdout.flush()
    _sys.stderr.flush()
    _os._exit(0)
"""


def _rss_mb(pid: int) -> float:
    """Resident memory of ``pid`` and its descendants in MB (Linux ``/proc``; 0 elsewhere)."""
    total_kb = 0
    pending = [pid]
    while pending:
        current = pending.pop()
        try:
            with open(f"/proc/{current}/status", encoding="ascii") as status:
                for line in status:
                    if line.startswith("VmRSS:"):
                        total_kb += int(line.split()[1])
            with open(f"/proc/{current}/task/{current}/children", encoding="ascii") as kids:
                pending.extend(int(k) for k in kids.read().split())
        except (OSError, ValueError):
            continue
    return total_kb / 1024


def run(code: str, data: Path, *extra: str, max_rss_mb: float | None = None) -> dict[str, Any]:
    """Run a tool in a fresh Python; wall time, its peak memory and its JSON output. With
    ``max_rss_mb`` the child is polled twice a second and killed once its resident memory (its
    children's included) passes the limit; the result then says so and names the last build
    step the child had started."""
    start = time.perf_counter()
    # Output goes to files, not pipes: a child that fills a pipe while we wait would stall.
    with tempfile.TemporaryFile("w+") as err, tempfile.TemporaryFile("w+") as std:
        child = subprocess.Popen(
            [sys.executable, "-c", PEAK + code, str(data), *extra],
            stdout=std,
            stderr=err,
            text=True,
        )
        polled = 0.0
        killed = False
        while True:
            # wait() returns as soon as the child exits: the time is not rounded up to a poll.
            try:
                child.wait(timeout=0.5)
                break
            except subprocess.TimeoutExpired:
                pass
            if max_rss_mb is not None:
                polled = max(polled, _rss_mb(child.pid))
                if polled > max_rss_mb:
                    child.kill()
                    child.wait()
                    killed = True
                    break
        seconds = time.perf_counter() - start
        std.seek(0)
        out = std.read()
        err.seek(0)
        errors = err.read()
    steps = [line[6:] for line in errors.splitlines() if line.startswith("step: ")]
    if killed or child.returncode != 0:
        print(errors[-2000:], file=sys.stderr)
        return {
            "seconds": float("nan"),
            "peak_mb": polled or float("nan"),
            "failed": (
                f"stopped at {polled:,.0f} MB (limit {max_rss_mb:,.0f} MB)"
                if killed
                else f"failed (exit {child.returncode})"
            )
            + (f" during '{steps[-1]}'" if steps else ""),
        }
    return {"seconds": seconds, **json.loads(out.strip().splitlines()[-1])}


def timed(code: str, data: Path, *extra: str, max_rss_mb: float | None = None) -> dict[str, object]:
    """:func:`run`, plus the processor time (user + system) of the child and its own children:
    on a machine other jobs keep busy, wall time grows with their load, processor time much
    less."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    result = run(code, data, *extra, max_rss_mb=max_rss_mb)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {**result, "cpu_s": cpu}


def table(rows: list[dict[str, object]]) -> str:
    """A markdown table: median time and peak memory, and the ratio to bare geopandas."""
    lines = [
        "| rows | tool | time (s), median | runs (s) | peak memory (MB) | ÷ geopandas "
        "| processor time (s), median | ÷ geopandas |",
        "|---:|---|---:|---|---:|---:|---:|---:|",
    ]
    for row in rows:
        runs = ", ".join(f"{s:.1f}" for s in row["runs"])  # type: ignore[attr-defined]
        if row.get("failed"):
            lines.append(
                f"| {row['rows']:,} | {row['tool']} | {row['failed']} | — | "
                f"{row['peak_mb']:,.0f} | — | — | — |"
            )
            continue
        lines.append(
            f"| {row['rows']:,} | {row['tool']} | {row['seconds']:.1f} | {runs} | "
            f"{row['peak_mb']:,.0f} | {row['ratio']:.2f} | {row['cpu_s']:.1f} | "
            f"{row['cpu_ratio']:.2f} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000_000])
    parser.add_argument("--n", type=int, help="one size (replaces --sizes), e.g. 10000000")
    parser.add_argument(
        "--max-rss-mb",
        type=float,
        help="stop a tool whose memory passes this many MB (default: no limit)",
    )
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--dask", action="store_true", help="also time --engine dask")
    parser.add_argument("--out", type=Path, default=HERE / "results_build.md")
    args = parser.parse_args()
    compile_workers()
    if args.n is not None:
        args.sizes = [args.n]
    load_start = os.getloadavg()[0]
    rows: list[dict[str, object]] = []
    details: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.sizes:
            data = make_projects(n, Path(tmp), parts=max(1, n // 1_000_000))
            tools = {
                "geopandas sjoin + groupby": (PLAIN_GEOPANDAS, []),
                "parkmap build": (PARKMAP_BUILD, ["memory"]),
            }
            if args.dask:
                tools["parkmap build --engine dask"] = (PARKMAP_BUILD, ["dask"])
            results: dict[str, list[dict[str, object]]] = {name: [] for name in tools}
            for _ in range(args.repeats):  # alternate, so load on the machine hits all alike
                for name, (code, extra) in tools.items():
                    if results[name] and results[name][-1].get("failed"):
                        continue  # stopped or failed once: not tried again
                    # parkmap writes into a new folder made (and removed) outside the timing
                    with tempfile.TemporaryDirectory(dir=tmp) as out:
                        args_in = [*extra, out] if extra else []
                        results[name].append(
                            timed(code + EXIT, data, *args_in, max_rss_mb=args.max_rss_mb)
                        )
            first = results[next(iter(tools))]
            base = statistics.median(float(r["seconds"]) for r in first)  # type: ignore[arg-type]
            base_cpu = statistics.median(float(r["cpu_s"]) for r in first)  # type: ignore[arg-type]
            for name, runs in results.items():
                if runs[-1].get("failed"):
                    rows.append(
                        {
                            "rows": n,
                            "tool": name,
                            "failed": runs[-1]["failed"],
                            "peak_mb": runs[-1]["peak_mb"],
                            "runs": [],
                        }
                    )
                    continue
                seconds = [float(r["seconds"]) for r in runs]  # type: ignore[arg-type]
                median = statistics.median(seconds)
                cpu = statistics.median(float(r["cpu_s"]) for r in runs)  # type: ignore[arg-type]
                rows.append(
                    {
                        "rows": n,
                        "tool": name,
                        "seconds": median,
                        "runs": seconds,
                        "peak_mb": max(float(r["peak_mb"]) for r in runs),  # type: ignore[arg-type]
                        "ratio": median / base,
                        "cpu_s": cpu,
                        "cpu_ratio": cpu / base_cpu,
                    }
                )
                last = runs[-1]
                if "sizes" in last:
                    files = ", ".join(f"{k} {v:,.1f} MB" for k, v in last["sizes"].items())  # type: ignore[attr-defined]
                    details.append(f"- {n:,} rows, {name}: wrote {files}")
                if last.get("steps"):
                    steps = ", ".join(f"{k} {v} s" for k, v in last["steps"].items())  # type: ignore[attr-defined]
                    details.append(f"  - steps of the last run: {steps}")
    text = (
        f"Measured {dt.date.today().isoformat()} on this machine (2 cores, 24 GiB); "
        f"1-minute load average {load_start:.1f} at the start, {os.getloadavg()[0]:.1f} "
        "at the end.\n\n"
    )
    text += table(rows) + "\n\n" + "\n".join(details)
    print(text)
    args.out.write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()

"""Join and metrics at scale: parkmap against a plain geopandas sjoin + groupby, in one run.

Each tool runs in a fresh subprocess on the same Parquet file, so start-up is counted and the
peak memory (max RSS of the child) is the tool's own. Usage::

    python benchmarks/bench_join.py            # 1M and 10M rows
    python benchmarks/bench_join.py --sizes 1000000
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent

#: What each tool does in its subprocess; the last line it prints is a JSON summary.
PLAIN_GEOPANDAS = """
import json, sys, geopandas as gpd, pandas as pd
from parkmap.read import bundled_path
parks = gpd.read_file(bundled_path("parks.geojson"))
table = pd.read_parquet(sys.argv[1], columns=["lon", "lat", "investment_100m_cny"])
points = gpd.GeoDataFrame(table, geometry=gpd.points_from_xy(table.lon, table.lat), crs=4326)
joined = gpd.sjoin(points, parks[["park_id", "geometry"]], predicate="intersects")
sums = joined.groupby("park_id")["investment_100m_cny"].agg(["size", "sum"])
print(json.dumps({"projects_in_parks": int(sums["size"].sum()), "peak_mb": peak_mb()}))
"""

PARKMAP_MEMORY = """
import json, sys
from parkmap.pipeline import analyse
a = analyse(sys.argv[1])
print(json.dumps({"projects_in_parks": int(a.parks["projects"].sum()), "peak_mb": peak_mb()}))
"""

PARKMAP_BUILD = """
import json, sys, tempfile
from parkmap.pipeline import build
from parkmap.settings import BuildOptions, InputOptions
with tempfile.TemporaryDirectory() as out:
    a, written = build(BuildOptions(inputs=InputOptions(projects=sys.argv[1]), out=out))
    sizes = {name: path.stat().st_size for name, path in written.items()}
print(json.dumps({"projects_in_parks": int(a.parks["projects"].sum()), "peak_mb": peak_mb(),
                  "map_mb": sizes["map"] / 1e6, "geojson_mb": sizes["projects"] / 1e6}))
"""

PARKMAP_DASK = """
import json, sys
from parkmap.dask_engine import analyse_partitions
from parkmap.settings import InputOptions
if __name__ == "__main__":
    a = analyse_partitions(InputOptions(projects=sys.argv[1]))
    print(json.dumps({"projects_in_parks": int(a.parks["projects"].sum()), "peak_mb": peak_mb()}))
"""

#: Prepended to every tool: its peak memory, its own plus its finished children's (the Dask
#: workers of a LocalCluster), in MB.
PEAK = """
import resource
def peak_mb():
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return (own + children) / 1024
"""


def make_projects(n: int, folder: Path, *, seed: int = 7, parts: int = 1) -> Path:
    """Write ``n`` synthetic projects around the Qingdao parks as Parquet (a folder of parts)."""
    from parkmap.read import bundled_path, parks_from_file

    rng = np.random.default_rng(seed)
    parks = parks_from_file(bundled_path("parks.geojson"))
    west, south, east, north = parks.total_bounds
    out = folder / f"projects_{n}"
    out.mkdir(parents=True, exist_ok=True)
    per_part = -(-n // parts)
    for part in range(parts):
        m = min(per_part, n - part * per_part)
        if m <= 0:
            break
        frame = pd.DataFrame(
            {
                "project_id": [f"B{part:03d}-{i:08d}" for i in range(m)],
                "name": "示例项目",
                "industry": rng.choice(["智能家电", "新能源汽车", "新材料", "物流"], m),
                "status": rng.choice(["签约", "在建", "投产"], m),
                "investment_100m_cny": np.round(rng.lognormal(0.5, 1.0, m), 4),
                "lon": rng.uniform(west - 0.05, east + 0.05, m),
                "lat": rng.uniform(south - 0.05, north + 0.05, m),
            }
        )
        frame.to_parquet(out / f"part.{part:03d}.parquet", index=False)
    return out


def run(code: str, data: Path, *extra: str) -> dict[str, Any]:
    """Run a tool in a fresh Python; wall time, the child's peak RSS and its JSON output.
    ``extra`` arguments follow the data path on the child's command line."""
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", PEAK + code, str(data), *extra],
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        print(done.stderr[-2000:], file=sys.stderr)
        return {"seconds": float("nan"), "peak_mb": float("nan")}
    return {"seconds": seconds, **json.loads(done.stdout.strip().splitlines()[-1])}


def table(rows: list[dict[str, object]]) -> str:
    """A markdown table of the runs with time and memory ratios against plain geopandas."""
    lines = [
        "| rows | tool | time (s) | peak memory (MB) | time ÷ geopandas | projects in parks |",
        "|---:|---|---:|---:|---:|---:|",
    ]
    for row in rows:
        lines.append(
            f"| {row['rows']:,} | {row['tool']} | {row['seconds']:.1f} | {row['peak_mb']:,.0f} | "
            f"{row['ratio']:.2f} | {row.get('projects_in_parks', '—')} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000_000, 10_000_000])
    args = parser.parse_args()
    rows: list[dict[str, object]] = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.sizes:
            data = make_projects(n, Path(tmp), parts=max(1, n // 1_000_000))
            tools = [("geopandas sjoin + groupby", PLAIN_GEOPANDAS)]
            tools.append(("parkmap (in memory)", PARKMAP_MEMORY) if n <= 2_000_000 else None)
            # the whole `parkmap build`: map.html and projects.geojson too
            tools.append(("parkmap build, all outputs", PARKMAP_BUILD) if n <= 2_000_000 else None)
            tools.append(("parkmap --engine dask (2 workers)", PARKMAP_DASK))
            results = {name: run(code, data) for name, code in filter(None, tools)}
            base = results["geopandas sjoin + groupby"]["seconds"]
            for name, result in results.items():
                rows.append({"rows": n, "tool": name, "ratio": result["seconds"] / base, **result})
    text = f"Measured {dt.date.today().isoformat()} on this machine (2 cores, 24 GiB).\n\n"
    text += table(rows)
    for row in rows:
        if "map_mb" in row:
            text += (
                f"\n\n`parkmap build` at {row['rows']:,} rows wrote map.html of "
                f"{row['map_mb']:.1f} MB and projects.geojson of {row['geojson_mb']:,.0f} MB."
            )
    print(text)
    (HERE / "results_join.md").write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()

"""The Dask engine: load, convert, join and tally partitioned Parquet on a Dask cluster.

For registers too large for one machine (every registered firm in a province as a point), the
same row rules, coordinate conversion and join as the in-memory engine run on each partition on
the workers; only small per-park tallies and the rejected rows come back. The park figures are
built from those tallies by :func:`parkmap.metrics.summary_from_tallies`, the same function the
in-memory engine ends in, so ``parks.csv`` is the same.

Two things need the whole table and get a pass of their own before the partitions are
processed: row numbers (from the partition lengths) and repeated project ids (the rows of their
first occurrences).

The joined projects come back one partition at a time, in order, as Arrow tables, and are
appended to ``projects.parquet`` as they arrive (:class:`parkmap.write.ProjectsParquet`): the
client never holds more than one partition of the full table. The map and ``projects.geojson``
are made from that file by :mod:`parkmap.pipeline` (the map reads back only the columns the page
shows).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from parkmap import cell_values, metrics, read, validate, write
from parkmap.coords import records_to_wgs84
from parkmap.errors import InputError, MissingDependencyError, UsageError
from parkmap.join import join_projects_to_parks
from parkmap.plausibility import check_plausibility
from parkmap.read.tables import RawTable, parquet_project_columns
from parkmap.schema import match_headers
from parkmap.settings import OUTPUT_PARKS, OUTPUT_REJECTED, WGS84, InputOptions
from parkmap.validate import REJECTED_COLUMNS, Summary, problems, summarise

PathLike = str | os.PathLike[str]

#: Problems kept per partition for the CLI's "first few problems" (all rejections are kept).
PROBLEMS_PER_PARTITION = 20


@dataclass
class DaskAnalysis:
    """What the Dask engine computes: park figures, rejected rows, outcome counts."""

    parks: gpd.GeoDataFrame
    rejected: pd.DataFrame
    summary: Summary
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    alerts: list[str] = field(default_factory=list)
    partitions: int = 0
    #: The figures the file tells anything about (:func:`parkmap.metrics.known_figures`).
    known_figures: frozenset[str] = metrics.ALL_FIGURES
    #: The park layer as read (the parks' outlines before any figures).
    park_layer: gpd.GeoDataFrame | None = None
    #: ``projects.parquet`` when :func:`analyse_partitions` was asked to write it.
    projects_file: Path | None = None


def _require_dask() -> Any:
    try:
        import dask
        import dask.dataframe
        import distributed  # noqa: F401
    except ImportError as exc:
        raise MissingDependencyError(
            "the Dask engine needs dask-geopandas and distributed: pip install 'parkmap[dask]'"
        ) from exc
    return dask


@contextmanager
def dask_client(scheduler: str | None = None, *, n_workers: int = 2) -> Iterator[Any]:
    """A client for ``scheduler`` (an address such as ``tcp://10.0.0.5:8786``), or a
    LocalCluster of ``n_workers`` single-threaded worker processes when none is given."""
    _require_dask()
    from distributed import Client, LocalCluster

    # distributed ships py.typed but leaves Client, LocalCluster and as_completed unannotated.
    if scheduler:
        with Client(scheduler) as client:  # type: ignore[no-untyped-call,unused-ignore]
            yield client
        return
    with (
        LocalCluster(  # type: ignore[no-untyped-call,unused-ignore]
            n_workers=n_workers,
            threads_per_worker=1,
            dashboard_address=None,
            host="127.0.0.1",
            silence_logs=40,
        ) as cluster,
        Client(cluster) as client,  # type: ignore[no-untyped-call,unused-ignore]
    ):
        yield client


def _read_partitions(path: Path) -> Any:
    """A Dask frame over the Parquet file or folder with only the project columns."""
    import dask.dataframe as dd

    wanted, column = parquet_project_columns(path)
    if column is not None:
        import dask_geopandas

        frame = dask_geopandas.read_parquet(str(path), columns=[*wanted, column])
        return frame.map_partitions(_points_to_columns, meta=_points_meta(frame))
    return dd.read_parquet(str(path), columns=wanted)


def _points_to_columns(part: gpd.GeoDataFrame) -> pd.DataFrame:
    import shapely

    part = part.to_crs(WGS84) if part.crs and not part.crs.equals(WGS84) else part
    table = pd.DataFrame(part.drop(columns=part.geometry.name))
    table["lon"] = shapely.get_x(part.geometry.array)
    table["lat"] = shapely.get_y(part.geometry.array)
    return table


def _points_meta(frame: Any) -> pd.DataFrame:
    meta = pd.DataFrame(frame._meta.drop(columns=frame._meta.geometry.name))
    return meta.assign(lon=pd.Series(dtype=float), lat=pd.Series(dtype=float))


def _id_column(frame: Any) -> str | None:
    found = match_headers(frame.columns).get("project_id")
    return found[0] if found else None


def _partition_first_rows(
    part: pd.DataFrame, offset: int, id_col: str, repeated: set[str]
) -> pd.Series:
    ids = cell_values.as_text(part[id_col].reset_index(drop=True))
    rows = pd.Series(range(offset, offset + len(part)))
    hit = ids.isin(repeated)
    return rows[hit].groupby(ids[hit]).min()


def _process_partition(
    part: pd.DataFrame,
    offset: int,
    parks: gpd.GeoDataFrame,
    first_rows: dict[str, int],
    options: dict[str, Any],
) -> dict[str, Any]:
    """Row outcomes, join and tallies for one partition (runs on a worker)."""
    path = Path(options["path"])
    loaded = validate.validate_records(
        RawTable(part, path, None, "record", offset),
        investment_unit=options["investment_unit"],
        coords=options["coords"],
        first_rows=first_rows,
    )
    loaded.projects = records_to_wgs84(loaded.projects, loaded.notes)
    joined = join_projects_to_parks(
        loaded.projects, parks, declared_within_km=options["declared_within_km"]
    )
    # Plausibility per partition: the median amount and the middle of the points are the
    # partition's (a partition holds many thousand rows), not the whole file's.
    joined = check_plausibility(joined)
    counts = summarise(joined, loaded.rejected)
    table = write.projects_table(joined) if options["tables"] else None
    return {
        "table": table,
        "schema": None if table is None else table.schema,
        "tallies": metrics.status_tallies(joined),
        "known": metrics.known_figures(joined) if len(joined) else frozenset(),
        "mapped": len(joined),
        "rejected": loaded.rejected,
        "counts": counts,
        "problems": problems(joined, loaded.rejected, path=path, row_label="record")[
            :PROBLEMS_PER_PARTITION
        ],
        "notes": loaded.notes,
    }


def _without_table(result: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in result.items() if key != "table"}


def _table(result: dict[str, Any]) -> Any:
    return result["table"]


def analyse_partitions(
    inputs: InputOptions,
    *,
    scheduler: str | None = None,
    n_workers: int = 2,
    progress: Any = None,
    projects_file: PathLike | None = None,
) -> DaskAnalysis:
    """Park figures and row outcomes for a (partitioned) Parquet file, computed with Dask.

    Parameters
    ----------
    inputs
        As for :func:`parkmap.pipeline.analyse`; ``projects`` is a Parquet or GeoParquet
        file, or a folder of Parquet parts (``sheet`` does not apply).
    scheduler
        Address of a running Dask scheduler; a LocalCluster on this machine when ``None``.
    n_workers
        Worker processes of the LocalCluster.
    progress
        Optional callable ``progress(done, total)`` called as partitions finish.
    projects_file
        Where to write the joined projects as GeoParquet (``projects.parquet``), partition
        after partition in order; ``None`` writes nothing.

    Returns
    -------
    DaskAnalysis
        Record numbers count from 1 over the whole dataset, in partition order.
    """
    dask = _require_dask()
    if inputs.projects is None:
        raise UsageError("the dask engine needs project records (a Parquet file or folder)")
    path = Path(inputs.projects)
    if not path.exists():
        raise InputError(f"{path}: no such file or folder")
    if inputs.investment_unit is not None:
        cell_values.canonical_unit(inputs.investment_unit)
    park_layer = read.parks_from_files(
        list(inputs.parks) or [read.bundled_path("parks.geojson")],
        id_field=inputs.park_id_field,
        name_field=inputs.park_name_field,
        coords=inputs.parks_coords,
        encoding=inputs.parks_encoding,
    )
    frame = _read_partitions(path)
    options = {
        "path": str(path),
        "investment_unit": inputs.investment_unit,
        "coords": inputs.coords,
        "declared_within_km": inputs.declared_within_km,
        "tables": projects_file is not None,
    }
    with dask_client(scheduler, n_workers=n_workers) as client:
        lengths = frame.map_partitions(len).compute().tolist()
        offsets = [1 + sum(lengths[:i]) for i in range(len(lengths))]
        parts = frame.to_delayed()

        first_rows: dict[str, int] = {}
        id_col = _id_column(frame)
        if id_col is not None:
            ids = frame[id_col].map_partitions(cell_values.as_text, meta=(id_col, "str"))
            counts = ids[ids != ""].value_counts().compute()
            repeated = set(counts[counts > 1].index)
            if repeated:
                found = dask.compute(
                    *[
                        dask.delayed(_partition_first_rows)(p, o, id_col, repeated)
                        for p, o in zip(parts, offsets, strict=True)
                    ]
                )
                first_rows = pd.concat(found).groupby(level=0).min().astype(int).to_dict()

        parks_future = client.scatter(park_layer, broadcast=True)
        futures = [
            client.submit(_process_partition, p, o, parks_future, first_rows, options, pure=False)
            for p, o in zip(client.compute(parts), offsets, strict=True)
        ]
        from distributed import as_completed

        # Small results (tallies, rejected rows, counts) come back all at once; the tables of
        # projects stay on the workers until they are written, one partition at a time.
        small = [client.submit(_without_table, f, pure=False) for f in futures]
        # (as_completed is unannotated, as Client above.)
        completed = as_completed(small)  # type: ignore[no-untyped-call,unused-ignore]
        for done, _ in enumerate(completed, start=1):
            if progress is not None:
                progress(done, len(small))
        results = client.gather(small)
        if projects_file is not None:
            schema = write.unify_schemas([r["schema"] for r in results])
            with write.ProjectsParquet(projects_file, schema) as parquet:
                for future in futures:
                    piece = client.submit(_table, future, pure=False)
                    future.release()
                    parquet.write(piece.result())
                    piece.release()

    tallies = pd.concat([r["tallies"] for r in results], ignore_index=True)
    rejected = pd.concat(
        [r["rejected"] for r in results if len(r["rejected"])]
        or [pd.DataFrame(columns=REJECTED_COLUMNS)],
        ignore_index=True,
    )
    counts = [r["counts"] for r in results]
    summary = Summary(
        read=sum(c.read for c in counts),
        mapped=sum(c.mapped for c in counts),
        warnings=sum(c.warnings for c in counts),
        rejected=sum(c.rejected for c in counts),
    )
    # A figure is known when any partition has it, or when no row was mapped at all.
    known = frozenset().union(*(r["known"] for r in results))
    if not sum(r["mapped"] for r in results):
        known = metrics.ALL_FIGURES
    notes = list(dict.fromkeys(n for r in results for n in r["notes"]))
    notes.extend(metrics.unknown_notes(known))
    return DaskAnalysis(
        parks=metrics.summary_from_tallies(park_layer, tallies, known=known),
        rejected=rejected.astype({"row": "int64"}),
        summary=summary,
        problems=[line for r in results for line in r["problems"]],
        notes=[*park_layer.attrs.get("notes", []), *notes],
        partitions=len(results),
        known_figures=known,
        park_layer=park_layer,
        projects_file=None if projects_file is None else Path(projects_file),
    )


def write_dask_outputs(analysis: DaskAnalysis, out: PathLike) -> dict[str, Path]:
    """Write ``parks.csv`` and ``rejected.csv`` of a Dask analysis into ``out``."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    return {
        "parks": write.save_table_csv(metrics.parks_table(analysis.parks), out / OUTPUT_PARKS),
        "rejected": write.save_rejected(analysis.rejected, out / OUTPUT_REJECTED),
    }

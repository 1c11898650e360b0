"""Every writer fed Arrow data in many chunks, batches and partitions.

Arrow reads a CSV in blocks of 1 MiB and a Parquet file by row group, so a file past a megabyte
reaches the writers as columns of several chunks. Small test files never do: a writer that reads
one chunk's buffers passed 530 small-file tests and crashed on every real ledger. Here the block
size is forced small, so a few hundred rows make dozens of chunks, and each output is compared
with the one-chunk build of the same rows and read back with an independent reader.
"""

from __future__ import annotations

import io as _io
import itertools
import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pyogrio
import pytest
import shapely
from click.testing import CliRunner

from parkmap import pipeline, read
from parkmap.cli import main
from parkmap.export.tables import save_geopackage
from parkmap.geojson_out import write_point_features
from parkmap.json_text import escape_json_strings, one_array
from parkmap.read import tables
from parkmap.settings import BuildOptions, InputOptions
from parkmap.webmap import packing

#: Names that need JSON escapes; they sit in the last rows, so only a later chunk holds them.
TRICKY_NAMES = ['引号"工程"', "反斜杠\\项目", "换行\n项目", "制表\t项目", "<b>标记</b>&amp;"]
#: Small enough that a few hundred rows of CSV make dozens of Arrow chunks.
SMALL_BLOCK = 4096


@pytest.fixture(scope="module")
def ledger(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled demo records three times over (fresh ids), tricky names at the end."""
    base = pd.read_csv(read.bundled_path("projects.csv"), dtype=str, keep_default_na=False)
    parts = []
    for copy in range(3):
        part = base.copy()
        part["project_id"] = part["project_id"] + f"-{copy}"
        parts.append(part)
    table = pd.concat(parts, ignore_index=True)
    tail = len(table) - len(TRICKY_NAMES)
    table.loc[tail:, "name"] = TRICKY_NAMES
    path = tmp_path_factory.mktemp("ledger") / "ledger.csv"
    table.to_csv(path, index=False)
    assert path.stat().st_size > 10 * SMALL_BLOCK
    return path


def _build(projects: Path, out: Path, monkeypatch: pytest.MonkeyPatch, block: int | None) -> Path:
    with monkeypatch.context() as patch:
        patch.setattr(tables, "CSV_BLOCK_BYTES", block)
        pipeline.build(BuildOptions(inputs=InputOptions(projects=projects), out=out))
    return out


def test_small_blocks_really_give_many_chunks(ledger, monkeypatch):
    monkeypatch.setattr(tables, "CSV_BLOCK_BYTES", SMALL_BLOCK)
    table = tables.read_table(ledger).table
    names = pa.array(table["name"].array)
    assert isinstance(names, pa.ChunkedArray)
    assert names.num_chunks > 10


def test_build_in_many_chunks_writes_the_same_files(ledger, tmp_path, monkeypatch):
    one = _build(ledger, tmp_path / "one", monkeypatch, None)
    many = _build(ledger, tmp_path / "many", monkeypatch, SMALL_BLOCK)
    for name in ("projects.geojson", "parks.csv", "rejected.csv"):
        assert (many / name).read_bytes() == (one / name).read_bytes(), name
    # The page embeds the same packed projects (element ids aside, folium's are random).
    assert _payloads(many / "map.html") == _payloads(one / "map.html")
    # Read back independently: every name, escapes included, as the ledger has it.
    features = json.loads((many / "projects.geojson").read_text(encoding="utf-8"))["features"]
    written = {f["properties"]["project_id"]: f["properties"]["name"] for f in features}
    source = pd.read_csv(ledger, dtype=str, keep_default_na=False)
    expected = dict(zip(source["project_id"], source["name"], strict=True))
    assert written == {key: expected[key] for key in written}
    assert set(TRICKY_NAMES) <= set(written.values())


def _payloads(html_path: Path) -> list[str]:
    """The base64 payloads the page decodes (long runs of base64 text), in page order."""
    import re

    text = html_path.read_text(encoding="utf-8")
    return re.findall(r"[A-Za-z0-9+/]{400,}={0,2}", text)


def test_parquet_in_many_row_groups_builds_like_csv(ledger, tmp_path, monkeypatch):
    source = pd.read_csv(ledger, dtype=str, keep_default_na=False)
    parquet = tmp_path / "ledger.parquet"
    pq.write_table(pa.Table.from_pandas(source, preserve_index=False), parquet, row_group_size=37)
    assert pq.ParquetFile(parquet).num_row_groups > 10
    from_csv = _build(ledger, tmp_path / "csv", monkeypatch, None)
    from_parquet = _build(parquet, tmp_path / "parquet", monkeypatch, None)
    assert (from_parquet / "parks.csv").read_bytes() == (from_csv / "parks.csv").read_bytes()
    csv_features = _features(from_csv / "projects.geojson")
    parquet_features = _features(from_parquet / "projects.geojson")
    assert list(parquet_features) == list(csv_features)
    for key, props in parquet_features.items():
        # the row label differs (a spreadsheet row against a record number); the rest agrees
        assert {k: v for k, v in props.items() if k != "row"} == {
            k: v for k, v in csv_features[key].items() if k != "row"
        }


def _features(path: Path) -> dict[str, dict]:
    doc = json.loads(path.read_text(encoding="utf-8"))
    return {f["properties"]["project_id"]: f["properties"] for f in doc["features"]}


def test_geopackage_from_many_chunks_reads_back(ledger, tmp_path, monkeypatch):
    monkeypatch.setattr(tables, "CSV_BLOCK_BYTES", SMALL_BLOCK)
    analysis = pipeline.analyse(ledger)
    path = save_geopackage(analysis.parks, analysis.projects, tmp_path / "projects.gpkg")
    projects = pyogrio.read_dataframe(path, layer="projects")
    assert len(projects) == len(analysis.projects)
    assert sorted(projects["name"].dropna()) == sorted(analysis.projects["name"].dropna())
    assert set(TRICKY_NAMES) <= set(projects["name"])
    np.testing.assert_allclose(
        np.sort(shapely.get_x(projects.geometry.array)),
        np.sort(analysis.projects["lon"].to_numpy(dtype=float)),
        atol=1e-9,
    )


@pytest.mark.slow
def test_dask_engine_on_many_small_row_groups_matches_memory(ledger, tmp_path):
    source = pd.read_csv(ledger, dtype=str, keep_default_na=False)
    folder = tmp_path / "parts"
    folder.mkdir()
    for i, rows in enumerate(np.array_split(np.arange(len(source)), 5)):
        part = pa.Table.from_pandas(source.iloc[rows], preserve_index=False)
        pq.write_table(part, folder / f"part.{i}.parquet", row_group_size=23)
    runner = CliRunner()
    memory = runner.invoke(main, ["build", "--projects", str(folder), "--out", str(tmp_path / "m")])
    assert memory.exit_code == 0, memory.output
    dask = runner.invoke(
        main,
        ["build", "--engine", "dask", "--projects", str(folder), "--out", str(tmp_path / "d")],
    )
    assert dask.exit_code == 0, dask.output
    memory_parks = (tmp_path / "m" / "parks.csv").read_bytes()
    assert (tmp_path / "d" / "parks.csv").read_bytes() == memory_parks


def _chunked(values: list[str | None], pieces: int = 4) -> pa.ChunkedArray:
    bounds = np.linspace(0, len(values), pieces + 1).astype(int)
    return pa.chunked_array(
        [pa.array(values[a:b], pa.string()) for a, b in itertools.pairwise(bounds)]
    )


def test_escaper_takes_chunked_arrays_as_json_dumps_writes():
    values = ["plain", *TRICKY_NAMES, None, "", "\x00\x1f", "末尾\\"]
    escaped = escape_json_strings(_chunked(values))
    assert isinstance(escaped, pa.Array)
    expected = [None if v is None else json.dumps(v, ensure_ascii=False)[1:-1] for v in values]
    assert escaped.to_pylist() == expected


def test_one_array_of_empty_and_single_chunk():
    empty = pa.chunked_array([], type=pa.string())
    assert len(one_array(empty)) == 0
    single = pa.chunked_array([pa.array(["a", "b"])])
    assert one_array(single).to_pylist() == ["a", "b"]


def test_packing_writes_chunked_texts_like_json():
    values = ["a", *TRICKY_NAMES, "z"]
    pieces = packing.json_texts(_chunked(values, pieces=3))
    text = b"".join(bytes(p) for p in pieces).decode("utf-8")
    assert json.loads(text) == values
    rows = np.array([0, 3, 6])
    pieces = packing.json_sparse_texts(rows, _chunked([values[r] for r in rows], pieces=2))
    text = b"".join(bytes(p) for p in pieces).decode("utf-8")
    assert json.loads(text) == {str(r): values[r] for r in rows}


def test_geojson_writer_takes_arrow_backed_columns_in_chunks():
    values = [f"项目{i}" for i in range(97)] + TRICKY_NAMES
    column = pd.Series(pd.arrays.ArrowExtensionArray(_chunked(values, pieces=7)))
    props = pd.DataFrame({"name": column, "n": np.arange(len(values), dtype=float)})
    geoms = shapely.points(np.linspace(119, 121, len(values)), np.full(len(values), 36.5))
    buffer = _io.BytesIO()
    write_point_features(buffer, props, np.asarray(geoms, dtype=object), chunk_rows=10)
    doc = json.loads(buffer.getvalue().decode("utf-8"))
    assert [f["properties"]["name"] for f in doc["features"]] == values
    assert [f["properties"]["n"] for f in doc["features"]] == list(range(len(values)))


def test_geojson_written_from_chunks_reads_back_with_pyogrio(ledger, tmp_path, monkeypatch):
    out = _build(ledger, tmp_path / "many", monkeypatch, SMALL_BLOCK)
    layer = gpd.read_file(out / "projects.geojson")
    source = pd.read_csv(ledger, dtype=str, keep_default_na=False)
    assert len(layer) + len(pd.read_csv(out / "rejected.csv")) == len(source)
    assert set(TRICKY_NAMES) <= set(layer["name"])


def test_utf8_data_is_the_bytes_of_the_strings_in_every_chunk_and_slice():
    """Each buffer holds exactly its chunk's strings, sliced chunks included, for string and
    large string; empty and all-missing chunks give nothing."""
    from parkmap.json_text import utf8_data

    for kind in (pa.string(), pa.large_string()):
        column = pa.chunked_array(
            [["QD-1", "青岛"], [], [None], ["小计", "平度", "莱西"]], type=kind
        )
        assert [bytes(b) for b in utf8_data(column)] == [
            "QD-1青岛".encode(),
            "小计平度莱西".encode(),
        ]
        assert [bytes(b) for b in utf8_data(column.slice(1, 4))] == [
            "青岛".encode(),
            "小计平度".encode(),
        ]
        assert [bytes(b) for b in utf8_data(column.chunk(3).slice(1))] == ["平度莱西".encode()]

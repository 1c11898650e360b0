"""The process settings ``parkmap build`` runs under, and that it puts them back afterwards."""

from __future__ import annotations

import gc

import pyarrow as pa
import pytest
from numpy._core import multiarray

from parkmap import pipeline
from parkmap.settings import BuildOptions

DEBIAN_DEFAULT = "always defer defer+madvise [madvise] never\n"


def test_the_garbage_collector_is_paused_and_restored():
    assert gc.isenabled()
    with pipeline.collector_paused():
        assert not gc.isenabled()
    assert gc.isenabled()
    gc.disable()
    try:
        with pipeline.collector_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()  # left as the caller had it
    finally:
        gc.enable()


@pytest.mark.parametrize(
    ("setting", "advice_inside"),
    [
        (DEBIAN_DEFAULT, False),
        ("[always] defer defer+madvise madvise never\n", False),
        ("always defer [defer+madvise] madvise never\n", False),
        ("always [defer] defer+madvise madvise never\n", True),
        ("always defer defer+madvise madvise [never]\n", True),
        (None, True),  # no such file: not Linux, or no huge pages
    ],
)
def test_numpy_huge_page_advice_is_off_only_where_faults_compact_memory(
    tmp_path, monkeypatch, setting, advice_inside
):
    defrag = tmp_path / "defrag"
    if setting is not None:
        defrag.write_text(setting, encoding="ascii")
    monkeypatch.setattr(pipeline, "THP_DEFRAG", defrag)
    before = multiarray._get_madvise_hugepage()
    multiarray._set_madvise_hugepage(True)
    try:
        with pipeline.numpy_huge_pages_off():
            assert multiarray._get_madvise_hugepage() is advice_inside
        assert multiarray._get_madvise_hugepage() is True
    finally:
        multiarray._set_madvise_hugepage(before)


@pytest.fixture
def mimalloc_default(monkeypatch):
    """Arrow's default pool as its Linux wheels ship it, whatever the test run chose."""
    monkeypatch.delenv("ARROW_DEFAULT_MEMORY_POOL", raising=False)
    before = pa.default_memory_pool()
    pa.set_memory_pool(pa.mimalloc_memory_pool())
    yield
    pa.set_memory_pool(before)


def _kernel_setting(tmp_path, monkeypatch, name, text):
    path = tmp_path / name.lower()
    if text is not None:
        path.write_text(text, encoding="ascii")
    monkeypatch.setattr(pipeline, name, path)


@pytest.mark.parametrize(
    ("enabled", "backend_inside"),
    [
        ("always [madvise] never\n", "system"),
        ("[always] madvise never\n", "system"),
        ("always madvise [never]\n", "mimalloc"),
        (None, "mimalloc"),  # no such file: not Linux, or no huge pages
    ],
)
def test_arrow_allocates_with_malloc_only_where_the_kernel_gives_huge_pages(
    tmp_path, monkeypatch, mimalloc_default, enabled, backend_inside
):
    _kernel_setting(tmp_path, monkeypatch, "THP_ENABLED", enabled)
    with pipeline.arrow_pool_without_huge_pages():
        assert pa.default_memory_pool().backend_name == backend_inside
        column = pa.array(["青岛", "平度"] * 1000)  # made inside, read after: it keeps its pool
    assert pa.default_memory_pool().backend_name == "mimalloc"
    assert column.to_pylist()[:2] == ["青岛", "平度"]


def test_a_pool_the_user_chose_is_left_alone(tmp_path, monkeypatch, mimalloc_default):
    _kernel_setting(tmp_path, monkeypatch, "THP_ENABLED", "always [madvise] never\n")
    monkeypatch.setenv("ARROW_DEFAULT_MEMORY_POOL", "mimalloc")
    with pipeline.arrow_pool_without_huge_pages():
        assert pa.default_memory_pool().backend_name == "mimalloc"
    monkeypatch.delenv("ARROW_DEFAULT_MEMORY_POOL")
    pa.set_memory_pool(pa.jemalloc_memory_pool())  # not mimalloc: nothing to avoid
    with pipeline.arrow_pool_without_huge_pages():
        assert pa.default_memory_pool().backend_name == "jemalloc"


def test_build_runs_with_the_settings_and_restores_them(tmp_path, monkeypatch, mimalloc_default):
    _kernel_setting(tmp_path, monkeypatch, "THP_DEFRAG", DEBIAN_DEFAULT)
    _kernel_setting(tmp_path, monkeypatch, "THP_ENABLED", "always [madvise] never\n")
    seen = []
    analyse = pipeline.analyse

    def spy(*args, **kwargs):
        seen.append(
            (
                gc.isenabled(),
                multiarray._get_madvise_hugepage(),
                pa.default_memory_pool().backend_name,
            )
        )
        return analyse(*args, **kwargs)

    monkeypatch.setattr(pipeline, "analyse", spy)
    before = multiarray._get_madvise_hugepage()
    pipeline.build(BuildOptions(out=tmp_path / "out"))
    assert seen == [(False, False, "system")]
    assert gc.isenabled() and multiarray._get_madvise_hugepage() == before
    assert pa.default_memory_pool().backend_name == "mimalloc"


@pytest.mark.parametrize("process_ends", [False, True])
def test_the_command_leaves_the_collector_off_only_when_its_process_ends(
    tmp_path, monkeypatch, process_ends
):
    """`parkmap build` run as the command (``run()``, which ends the process without a
    teardown) never turns the collector back on, and holds its analysis until the process
    ends instead of freeing it as the command returns; called from Python the collector is
    restored and nothing is held."""
    from click.testing import CliRunner

    from parkmap import cli
    from parkmap.analysis import Analysis

    monkeypatch.setattr(cli, "_PROCESS_ENDS_WITH_COMMAND", process_ends)
    monkeypatch.setattr(cli, "_KEPT_UNTIL_EXIT", [])
    try:
        result = CliRunner().invoke(cli.main, ["build", "--out", str(tmp_path / "out")])
        assert result.exit_code == 0, result.output
        assert gc.isenabled() is not process_ends
        kept = cli._KEPT_UNTIL_EXIT
        assert [type(k) for k in kept] == ([Analysis] if process_ends else [])
    finally:
        gc.enable()


def test_the_package_imports_light_and_the_command_imports_its_libraries_collector_off():
    """``import parkmap.cli`` leaves pandas and GeoPandas unloaded; the command then imports
    them with the garbage collector off and turns it back on."""
    import subprocess
    import sys

    code = (
        "import gc, sys\n"
        "import parkmap, parkmap.cli as cli\n"
        "print(sorted({'pandas', 'geopandas', 'folium'} & set(sys.modules)))\n"
        "seen = []\n"
        "class Spy:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name in ('pandas', 'geopandas'):\n"
        "            seen.append(gc.isenabled())\n"
        "sys.meta_path.insert(0, Spy())\n"
        "cli._import_libraries()\n"
        "print(seen, gc.isenabled(), 'parkmap.pipeline' in sys.modules)\n"
        "print(parkmap.park_summary.__module__, parkmap.build.__module__)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.splitlines() == [
        "[]",
        "[False, False] True True",
        "parkmap.metrics parkmap.pipeline",
    ]

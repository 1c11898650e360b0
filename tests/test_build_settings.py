"""The process settings ``parkmap build`` runs under, and that it puts them back afterwards."""

from __future__ import annotations

import gc

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


def test_build_runs_with_the_settings_and_restores_them(tmp_path, monkeypatch):
    defrag = tmp_path / "defrag"
    defrag.write_text(DEBIAN_DEFAULT, encoding="ascii")
    monkeypatch.setattr(pipeline, "THP_DEFRAG", defrag)
    seen = []
    analyse = pipeline.analyse

    def spy(*args, **kwargs):
        seen.append((gc.isenabled(), multiarray._get_madvise_hugepage()))
        return analyse(*args, **kwargs)

    monkeypatch.setattr(pipeline, "analyse", spy)
    before = multiarray._get_madvise_hugepage()
    pipeline.build(BuildOptions(out=tmp_path / "out"))
    assert seen == [(False, False)]
    assert gc.isenabled() and multiarray._get_madvise_hugepage() == before

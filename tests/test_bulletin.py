"""The weekly bulletin: bulletin.pdf opens, its extractable text holds every park's name and the
headline figures worked out by hand (tests/snapshots.py); bulletin.md says the same."""

from __future__ import annotations

from pathlib import Path

import pdfplumber
import pypdf
import pytest
from snapshots import PARKS, write_snapshots

from parkmap.export.bulletin import md_text
from parkmap.pipeline import compare
from parkmap.settings import CompareOptions, InputOptions


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory):
    folder = tmp_path_factory.mktemp("bulletin")
    old, new, parks = write_snapshots(folder)
    done = {}
    for lang in ("zh", "en"):
        done[lang] = compare(
            CompareOptions(
                old=old,
                new=new,
                inputs=InputOptions(parks=(parks,)),
                out=folder / lang,
                lang=lang,
            )
        )
    return done


def _pages(path: Path) -> list[str]:
    with pdfplumber.open(path) as pdf:
        return [page.extract_text() or "" for page in pdf.pages]


def test_pdf_opens_with_three_a4_landscape_pages(outcomes):
    reader = pypdf.PdfReader(outcomes["zh"].files["bulletin_pdf"])
    assert len(reader.pages) == 3
    box = reader.pages[0].mediabox
    # A4 landscape: 297 × 210 mm in points
    assert float(box.width) == pytest.approx(297 / 25.4 * 72, abs=0.5)
    assert float(box.height) == pytest.approx(210 / 25.4 * 72, abs=0.5)
    assert reader.metadata.title == "园区项目周报"


def test_pdf_text_has_every_park_and_the_headline_figures(outcomes):
    pages = _pages(outcomes["zh"].files["bulletin_pdf"])
    first = pages[0]
    for _, name_zh, *_ in PARKS:
        assert name_zh in first
    # 9 → 10 projects, 33 → 60 亿元, 2 new worth 20 亿元, 1 removed, 1 up, 1 back, 1 stalled
    for label, value in [
        ("项目数", "9 → 10"),
        ("总投资（亿元）", "33.00 → 60.00"),
        ("新增项目投资（亿元）", "20.00"),
    ]:
        assert label in first and value in first
    # per park: 乙园区 3 → 4 projects, 9 → 33 亿元 (+24), rank 2 → 1
    line = next(x for x in first.splitlines() if x.startswith("乙园区"))
    assert line.split() == [
        "乙园区",
        "3",
        "→",
        "4",
        "9.00",
        "→",
        "33.00",
        "+24.00",
        "1",
        "20.00",
        "1",
        "0",
        "0",
        "2",
        "→",
        "1",
    ]
    assert "项目变化分布" in pages[1]
    for label in ("新增 (2)", "状态推进 (1)", "状态倒退 (1)", "移出 (1)"):
        assert label in pages[1]
    # the largest new projects, then the park with no progress
    assert pages[2].index("Theta") < pages[2].index("Iota")
    assert "丙园区" in pages[2].split("无进展园区", 1)[1]
    assert "第 3 / 3 页" in pages[2]


def test_english_bulletin(outcomes):
    pages = _pages(outcomes["en"].files["bulletin_pdf"])
    assert "Park projects bulletin" in pages[0]
    for _, _, name_en, *_ in PARKS:
        assert name_en in pages[0]
    assert "33.00 → 60.00" in pages[0]


def test_markdown_holds_the_same_figures(outcomes):
    md = Path(outcomes["zh"].files["bulletin_md"]).read_text(encoding="utf-8")
    assert md.startswith("# 园区项目周报\n")
    assert "- 项目数: 9 → 10" in md
    assert "- 总投资（亿元）: 33.00 → 60.00" in md
    assert "| 乙园区 | 3 → 4 | 9.00 → 33.00 | \\+24.00 | 1 | 20.00 | 1 | 0 | 0 | 2 → 1 |" in md
    assert "## 无进展园区\n\n- 丙园区\n" in md


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("=SUM(A1)", "=SUM\\(A1\\)"),
        ("<b>x</b>", "&lt;b\\>x&lt;/b\\>"),
        ("a|b", "a\\|b"),
        ("line\nbreak\x07", "line break "),
        ("$5 & *bold*", "$5 &amp; \\*bold\\*"),
    ],
)
def test_md_text_shows_user_text_literally(text, shown):
    assert md_text(text) == shown

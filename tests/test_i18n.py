"""The one text table (:mod:`parkmap.i18n`): both languages for every word, the same
placeholders in both, keys unique across groups, and no module choosing words by language."""

from __future__ import annotations

import ast
import re
import string
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from parkmap.errors import UsageError
from parkmap.i18n import STATUS_LABELS, TEXT, fmt_number, park_name, scheme_label, texts, with_unit
from parkmap.settings import LANGUAGES

PACKAGE = Path(__file__).resolve().parent.parent / "parkmap"
#: Where a language check is about fonts, not words.
FONT_CHECKS = {"fonts.py"}


def _placeholders(text: str) -> list[tuple[str, str, str | None]]:
    """``(name, format spec, conversion)`` of every ``{…}`` in ``text``, sorted."""
    return sorted(
        (name, spec or "", conversion)
        for _, name, spec, conversion in string.Formatter().parse(text)
        if name is not None
    )


WORDS = [(group, key) for group, by_lang in TEXT.items() for key in by_lang["zh"]]


@pytest.mark.parametrize("group", sorted(TEXT))
def test_every_group_has_both_languages_with_the_same_keys(group):
    assert set(TEXT[group]) == set(LANGUAGES)
    assert list(TEXT[group]["zh"]) == list(TEXT[group]["en"])


@pytest.mark.parametrize(("group", "key"), WORDS)
def test_every_word_has_both_languages_with_the_same_placeholders(group, key):
    zh, en = TEXT[group]["zh"][key], TEXT[group]["en"][key]
    assert zh.strip() and en.strip()
    assert _placeholders(zh) == _placeholders(en)


def test_keys_are_unique_across_groups_so_merging_hides_nothing():
    keys = [key for _, key in WORDS]
    assert len(keys) == len(set(keys)), sorted({k for k in keys if keys.count(k) > 1})
    assert not [k for k in keys if k.startswith("status_")]


def test_texts_merges_groups_and_adds_the_status_labels():
    every = texts("en", *TEXT)
    assert len(every) == len(WORDS) + len(STATUS_LABELS["en"])
    page = texts("zh")
    assert list(page)[: len(TEXT["map"]["zh"])] == list(TEXT["map"]["zh"])
    assert page["status_signed"] == STATUS_LABELS["zh"]["signed"]
    assert "page" not in page and texts("zh", "sheet")["page"] == "第 {page} / {pages} 页"


def test_an_unknown_language_is_a_usage_error():
    with pytest.raises(UsageError, match="unknown language 'fr'; choose one of: zh, en"):
        texts("fr")


def test_sentences_keep_their_punctuation():
    assert with_unit("zh", "面积", "km²") == "面积（km²）"
    assert with_unit("en", "Area", "km²") == "Area (km²)"
    assert scheme_label("zh", "quantiles", 5) == "分级：分位数，5 级"
    assert scheme_label("en", "natural_breaks", 4) == "Classes: natural breaks, 4"
    label_value = {lang: texts(lang, "form")["label_value"] for lang in LANGUAGES}
    assert label_value["zh"].format(label="项目数", value=3) == "项目数：3"
    assert label_value["en"].format(label="Projects", value=3) == "Projects: 3"


def test_fmt_number():
    assert fmt_number(3.14159) == "3.14"
    assert fmt_number(1234.5) == "1,234"
    assert fmt_number(12.5, 1) == "12.5"
    assert fmt_number(float("nan")) == "–"


@pytest.mark.parametrize(
    ("row", "zh", "en"),
    [
        (
            {"park_id": "a", "name": "甲园", "name_zh": "甲园", "name_en": "Park A"},
            "甲园",
            "Park A",
        ),
        # no English name: the Chinese one in English too
        ({"park_id": "b", "name": "乙园", "name_zh": "乙园", "name_en": " "}, "乙园", "乙园"),
        # the name the reader picked (--park-name-field) comes before name_zh
        ({"park_id": "c", "name": "丙园区", "name_zh": "丙园", "name_en": ""}, "丙园区", "丙园区"),
        # only an English name: it in Chinese too; nothing: the id
        ({"park_id": "d", "name": None, "name_en": "Park D"}, "Park D", "Park D"),
        ({"park_id": "e", "name": np.nan, "name_zh": pd.NA, "name_en": None}, "e", "e"),
        # a district of the context layer: no park_id, no name
        ({"kind": "district", "name_zh": "平度市", "name_en": "Pingdu"}, "平度市", "Pingdu"),
        ({"kind": "seat"}, "", ""),
    ],
)
def test_park_name(row, zh, en):
    assert park_name(row, "zh") == zh
    assert park_name(row, "en") == en
    assert park_name(pd.Series(row), "en") == en


def _language_checks(path: Path) -> list[int]:
    """Lines comparing a ``lang`` (name or attribute) with a literal: words chosen in code."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Compare):
            continue
        sides = [node.left, *node.comparators]
        named = any(
            (isinstance(n, ast.Name) and n.id == "lang")
            or (isinstance(n, ast.Attribute) and n.attr == "lang")
            for n in sides
        )
        literal = any(isinstance(n, ast.Constant) and n.value in LANGUAGES for n in sides)
        if named and literal:
            found.append(node.lineno)
    return found


def test_no_module_picks_words_by_language():
    found = {
        str(path.relative_to(PACKAGE)): lines
        for path in sorted(PACKAGE.rglob("*.py"))
        if path.name not in FONT_CHECKS and (lines := _language_checks(path))
    }
    assert not found, f"use a sentence of parkmap.i18n instead: {found}"
    js = re.compile(r"\blang\s*[!=]==?\s*[\"'](?:zh|en)[\"']")
    for path in sorted((PACKAGE / "webmap" / "js").glob("*.js")):
        assert not js.search(path.read_text(encoding="utf-8")), path.name

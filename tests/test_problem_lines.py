"""validate.problems: the messages in row order, written only when read, equal to a list."""

from __future__ import annotations

import pandas as pd
import pytest

from parkmap.validate import problems


def _tables() -> tuple[pd.DataFrame, pd.DataFrame]:
    projects = pd.DataFrame(
        {"row": [2, 5, 3, 9], "warnings": ["far away", "", "no name", "far away; no name"]}
    )
    rejected = pd.DataFrame(
        {"row": [4, 3], "column": ["经度", ""], "reason": ["not a number", "total row (小计)"]}
    )
    return projects, rejected


def test_messages_in_row_order_rejections_before_warnings_of_the_same_row():
    projects, rejected = _tables()
    lines = problems(projects, rejected, path="/some/where/台账.csv")
    expected = [
        "台账.csv: row 2: warning: far away",
        "台账.csv: row 3: rejected: total row (小计)",
        "台账.csv: row 3: warning: no name",
        "台账.csv: row 4, column 经度: rejected: not a number",
        "台账.csv: row 9: warning: far away; no name",
    ]
    assert len(lines) == 5
    assert lines == expected
    assert list(lines) == expected
    assert lines[:2] == expected[:2] and lines[-1] == expected[-1]
    assert lines[10:] == []
    with pytest.raises(IndexError):
        lines[5]


def test_records_are_named_as_records_and_nothing_is_an_empty_sequence():
    projects, rejected = _tables()
    lines = problems(projects.iloc[:1], rejected.iloc[:0], path="db", row_label="record")
    assert lines == ["db: record 2: warning: far away"]
    assert problems(projects.iloc[:0], rejected.iloc[:0], path="x.csv") == []
    assert lines != ["something else"]

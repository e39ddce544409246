"""Reading one answer from answers.toml: a value of the wrong kind gets a hint that says how to write it."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from grader.assignment import CheckFailed
from grader.checks.answers import answer


def _ctx(tmp_path, text: str):
    path = tmp_path / "answers.toml"
    path.write_text(text)
    return SimpleNamespace(files={"answers.toml": path})


def test_a_quoted_number_says_remove_the_quotes(tmp_path):
    with pytest.raises(CheckFailed) as failed:
        answer(_ctx(tmp_path, '[t]\nk = "391"\n'), "t", "k", (int, float))
    assert "should be a number, got str" in failed.value.message and "without quotes: k = 391" in failed.value.hint


def test_a_number_for_a_formula_says_quote_a_formula(tmp_path):
    with pytest.raises(CheckFailed) as failed:
        answer(_ctx(tmp_path, "[t]\nk = 391\n"), "t", "k")
    assert "should be a string, got int" in failed.value.message and "single quotes, k = '...'" in failed.value.hint

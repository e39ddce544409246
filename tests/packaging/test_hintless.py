"""docs/hintless-mistakes.md is the truth: every catalogued bug's failing check without a hint is listed there."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.packaging.hintless import documented, sweep

DOC = Path(__file__).resolve().parents[2] / "docs" / "hintless-mistakes.md"


def test_the_document_lists_rows_of_known_bugs():
    """The first table is there (empty when every catalogued failure has a hint) and names assignments only."""
    text = DOC.read_text(encoding="utf-8")
    assert "## Still without a hint" in text and "| assignment | bug | check | why there is no hint (yet) |" in text
    assert all(assignment in ("a1", "a2", "a3", "a4") for assignment, _, _ in documented(DOC))


@pytest.mark.slow
def test_every_hintless_failure_of_the_catalogues_is_documented():
    found = {(row.assignment, row.bug, row.check) for row in sweep(seed=1)}
    listed = documented(DOC)
    assert found - listed == set(), "a catalogued bug fails a check without a hint: add a hint or a row"

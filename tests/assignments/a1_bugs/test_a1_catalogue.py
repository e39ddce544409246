"""Issue #10 for a1: every catalogued bug fails under each of 20 seeds, blaming its component;
a correct submission written differently from the reference gets full marks under the same seeds."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.assignments.a1_bugs.catalogue import BUGS
from tests.assignments.a1_bugs.conftest import seeds
from tests.conftest import REFERENCE_A1, by_id, mutate

CORRECT = Path(__file__).with_name("correct_alt")


def test_the_catalogue_is_big_enough_and_names_the_issues_bug():
    assert len(BUGS) >= 15 and "dW divided by N" in BUGS


@pytest.mark.parametrize("seed", seeds())
@pytest.mark.parametrize("name", sorted(BUGS))
def test_bug_fails_and_blames_its_component(grade, name, seed):
    bug = BUGS[name]
    report = grade("a1", {"mlp.py": mutate(REFERENCE_A1, *bug.replacements)}, tasks=list(bug.tasks), seed=seed)
    checks = by_id(report)
    for check_id, blamed in bug.blamed.items():
        check = checks[check_id]
        assert check.status in ("failed", "error") and check.score == 0, (check_id, check.message)
        assert blamed in check.message + " " + check.hint, (check_id, check.message, check.hint)


@pytest.mark.parametrize("seed", seeds())
def test_differently_written_correct_submission_gets_full_marks(grade, seed):
    report = grade("a1", CORRECT, seed=seed)
    assert report.score == report.max_score, [(c.id, c.message) for c in report.checks if c.status != "passed"]

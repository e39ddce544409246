"""Issue #10 for a3: every catalogued bug fails under each of 20 seeds, blaming its component, and
never crashes the grader; a correct submission written differently gets full marks for its code."""

from __future__ import annotations

from pathlib import Path

import pytest

from grader.api import get_assignment
from tests.assignments.a3_bugs.catalogue import BN_BUGS, CONV_BUGS
from tests.assignments.a3_bugs.conftest import seeds
from tests.conftest import ROOT, by_id, mutate

CORRECT = Path(__file__).with_name("correct_alt")
CODE_TASKS = ["3.1", "3.2", "3.3", "3.4", "3.5"]
SOURCES = {"conv.py": (ROOT / "reference" / "a3" / "conv.py").read_text(),
           "batchnorm.py": (ROOT / "reference" / "a3" / "batchnorm.py").read_text()}
CASES = {**{("conv.py", k): v for k, v in CONV_BUGS.items()}, **{("batchnorm.py", k): v for k, v in BN_BUGS.items()}}


def test_the_catalogue_is_big_enough():
    assert len(CASES) >= 15


@pytest.mark.parametrize("seed", seeds())
@pytest.mark.parametrize("file, name", sorted(CASES))
def test_bug_fails_and_blames_its_component(grade, file, name, seed):
    bug = CASES[file, name]
    files = dict(SOURCES)
    files[file] = mutate(files[file], *bug.replacements)
    report = grade("a3", files, tasks=list(bug.tasks), seed=seed)  # returning at all: no exit 3
    checks = by_id(report)
    for check_id, blamed in bug.blamed.items():
        check = checks[check_id]
        assert check.status in ("failed", "error") and check.score == 0, (check_id, check.message)
        assert blamed in check.message + " " + check.hint, (check_id, check.message, check.hint)


@pytest.mark.parametrize("seed", seeds())
def test_differently_written_correct_submission_gets_full_marks(grade, seed):
    report = grade("a3", CORRECT, seed=seed, tasks=CODE_TASKS)
    assert report.score == report.max_score, [(c.id, c.message) for c in report.checks if c.status != "passed"]
    assert report.max_score == sum(c.points for c in get_assignment("a3").checks if c.task in CODE_TASKS)

"""The a2 catalogue (tests/assignments/a2_bugs): every single-bug submission fails exactly its checks, under
every seed, with a message or hint that names the blamed component; the correct submission written unlike the
reference gets full marks under the same seeds.

The default run grades each bug under 2 of the 20 seeds (a different pair per bug, so the run as a whole
touches all 20) and only the checks it must fail; ``DLGRADE_A2_SWEEP=full`` grades every bug under all 20.
"""

from __future__ import annotations

import os

import pytest

from grader.api import get_assignment
from tests.assignments.a2_bugs.bugs import ANSWERS, BUGS, CORRECT
from tests.conftest import assert_hints, failing

FULL = os.environ.get("DLGRADE_A2_SWEEP") == "full"
SEEDS = [1009 + 7919 * i for i in range(20)]
CODE_TASKS = ["2.1", "2.2", "2.3"]


def _seeds(index: int, per_bug: int = 2) -> list[int]:
    return SEEDS if FULL else [SEEDS[(per_bug * index + j) % len(SEEDS)] for j in range(per_bug)]


SWEEP = [(name, seed) for index, name in enumerate(sorted(BUGS)) for seed in _seeds(index)]


def test_catalogue_is_large_enough_and_names_real_checks():
    ids = {c.id for c in get_assignment("a2").checks}
    assert len(BUGS) >= 15
    for name, bug in BUGS.items():
        assert set(bug.fails) <= ids, name
        assert bug.source() != CORRECT


@pytest.mark.parametrize(("name", "seed"), SWEEP)
def test_bug_fails_under_every_seed_with_the_right_hint(grade, name, seed):
    bug = BUGS[name]
    report = grade("a2", {"autograd.py": bug.source(), "answers.toml": ANSWERS}, tasks=sorted(bug.fails), seed=seed)
    assert failing(report) == set(bug.fails)
    assert_hints(report, bug.fails)
    for check in report.checks:  # the component the check is about is named: "Sum.backward", "Tensor.backward"
        if check.id in bug.fails:
            assert check.name.split(":")[0] in check.message, (check.name, check.message)


@pytest.mark.parametrize("name", sorted(BUGS))
def test_bug_fails_nothing_else_in_its_tasks(grade, name):
    bug = BUGS[name]
    tasks = sorted({c.task for c in get_assignment("a2").checks if c.id in bug.fails})
    report = grade("a2", {"autograd.py": bug.source(), "answers.toml": ANSWERS}, tasks=tasks, seed=SEEDS[-1])
    assert failing(report) == set(bug.fails)


@pytest.mark.parametrize("seed", SEEDS if FULL else SEEDS[:3])
def test_correct_submission_written_differently_gets_full_marks(grade, seed):
    report = grade("a2", {"autograd.py": CORRECT, "answers.toml": ANSWERS}, tasks=CODE_TASKS, seed=seed)
    assert failing(report) == set()
    assert all(c.score == c.max_score for c in report.checks if c.status != "skipped")

"""a4's catalogue of single-bug LeNets: each fails exactly its checks under 20 seeds, blaming the right component.

The 20-seed sweep runs the structure checks (task 4.1) in this process through
``a4_bugs.inprocess`` (same checks, same wire encoding, no sandbox) so that it
stays fast; sandboxed runs of one bug per kind of evidence show the same
verdicts across the real process boundary.
"""

from __future__ import annotations

import pytest

from tests.conftest import failing as failing_checks

torch = pytest.importorskip("torch")

from tests.assignments.a4_bugs import fixtures  # noqa: E402
from tests.assignments.a4_bugs.catalogue import BUGS, CORRECT  # noqa: E402

torch_zygote, grade4 = fixtures.torch_zygote, fixtures.grade4
from tests.assignments.a4_bugs.inprocess import failing, grade_structure  # noqa: E402

SEEDS = range(20)


def _write(tmp_path, source: str):
    path = tmp_path / "lenet.py"
    path.write_text(source)
    return path


@pytest.mark.parametrize("name", sorted(BUGS))
def test_bug_fails_its_checks_under_every_seed(tmp_path, name):
    source, expected, gists = BUGS[name]
    path = _write(tmp_path, source)
    for seed in SEEDS:
        results = grade_structure(path, seed)
        assert failing(results) == expected, f"seed {seed}: {results}"
        for check_id, gist in gists.items():
            assert gist in results[check_id][1], f"seed {seed}, {check_id}: {results[check_id][1]}"


@pytest.mark.parametrize("name", sorted(CORRECT))
def test_correct_submission_written_differently_gets_full_marks(tmp_path, name):
    path = _write(tmp_path, CORRECT[name])
    for seed in SEEDS:
        results = grade_structure(path, seed)
        assert failing(results) == set(), f"seed {seed}: {results}"


# One bug of each kind of evidence: a shape misfit, a variant's blame, an exception's frame, a device error.
SANDBOXED = ("padding in conv1, fc1 sized to fit", "missing ReLU after conv2", "flatten hard-codes the batch size",
             "hard-coded .to('cpu')", "computes nothing, perfect structure", "dropout p fixed at 0.5")


@pytest.mark.parametrize("name", SANDBOXED)
def test_sandboxed_verdict_agrees(grade4, name):
    source, expected, gists = BUGS[name]
    report = grade4({"lenet.py": source}, tasks=["4.1"])
    assert failing_checks(report) == expected
    for check_id, gist in gists.items():
        check = {c.id: c for c in report.checks}[check_id]
        assert gist in f"{check.message} {check.hint}", (check_id, check.message, check.hint)

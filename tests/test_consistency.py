"""The reference earns full marks, the template earns nothing, and every check explains itself."""

from __future__ import annotations

from pathlib import Path

import pytest

from grader import api

ROOT = Path(__file__).resolve().parents[1]
ASSIGNMENTS = [a.id for a in api.list_assignments() if (ROOT / "reference" / a.id).is_dir()]


def _zygote(assignment: str, numpy_zygote):
    """The shared NumPy worker, or None (a worker of its own) for assignments that preload more."""
    return numpy_zygote if api.get_assignment(assignment).preload == ("numpy",) else None


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_reference_scores_full_marks(zygote, assignment):
    report = api.check(assignment, ROOT / "reference" / assignment, seed=11, zygote=_zygote(assignment, zygote))
    assert [c.id for c in report.checks if c.status != "passed"] == []
    assert report.score == report.max_score == api.get_assignment(assignment).total_points


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_template_scores_zero_with_not_implemented(zygote, assignment):
    report = api.check(assignment, ROOT / "student_template" / assignment, seed=11,
                       zygote=_zygote(assignment, zygote))
    assert report.score == 0
    for check in report.checks:
        assert check.status == "failed", check
        assert "not implemented" in check.message or "missing" in check.message, check


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_checks_are_documented_and_tasks_match_template_stubs(assignment):
    a = api.get_assignment(assignment)
    template = "".join(p.read_text() for p in (ROOT / "student_template" / assignment).iterdir() if p.is_file())
    for check in a.checks:
        assert check.description, f"{check.id} has no docstring"
        assert check.points > 0
    for task in a.tasks:
        assert f"Task {task}" in template, f"task {task} has no stub in the template"

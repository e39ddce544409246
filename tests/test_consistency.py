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


def test_declared_points_equal_the_checks():
    """An assignment whose checks load lazily declares its total for `dlgrade list`; it must be the real one."""
    declared = {a.id: a.points for a in api.list_assignments(load_checks=False) if a.points is not None}
    for assignment in api.list_assignments():
        if assignment.id in declared:
            assert sum(c.points for c in assignment.checks) == declared[assignment.id], assignment.id


def test_list_and_help_import_neither_numpy_nor_torch():
    import subprocess
    import sys

    probe = ("import sys; from click.testing import CliRunner; from grader.cli import main; "
             "r = CliRunner().invoke(main, {args!r}); assert r.exit_code == 0, r.output; "
             "print(sorted(m for m in ('numpy', 'torch', 'rich') if m in sys.modules))")
    for args, allowed in ((["--help"], []), (["list"], ["rich"])):
        done = subprocess.run([sys.executable, "-c", probe.format(args=args)], capture_output=True, text=True,
                              cwd=ROOT, timeout=120)
        assert done.returncode == 0, done.stderr
        assert eval(done.stdout.strip()) == allowed, (args, done.stdout)


def test_check_order_does_not_depend_on_which_check_module_was_imported_first():
    import subprocess
    import sys

    probe = ("import grader.assignments.a1.training, grader.assignments.a3.answers; from grader import api; "
             "print([c.id for c in api.get_assignment('a1').checks][:1], [c.task for c in "
             "api.get_assignment('a3').checks][:1])")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.stdout.split() == ["['linear_init']", "['3.1']"], done.stdout + done.stderr

"""Public wherever the public seeds allow: what the student build grades, and what it leaves to the staff.

A check whose expected outcome is a function of the seed and of the student's answers is graded by the
student build. Measured here: the share of hidden points per assignment (targets: at most 10 % of a1, a2
and a3, at most 40 % of a4), and that every catalogued single bug the staff build catches in a check the
student build grades is caught by the student build too, under each public seed.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from grader import api
from grader.api import get_assignment
from tests.assignments.a1_bugs.catalogue import BUGS as A1_BUGS
from tests.conftest import mutate

ROOT = Path(__file__).resolve().parents[2]
TARGETS = {"a1": 0.10, "a2": 0.10, "a3": 0.10, "a4": 0.40}
A1_SOURCE = (ROOT / "reference" / "a1" / "mlp.py").read_text()


def hidden_share(manifest: dict, assignment: str) -> float:
    """Hidden points over all points of ``assignment`` in a student build with ``manifest``."""
    checks = get_assignment(assignment).checks
    hidden = set(manifest["hidden"].get(assignment, {}))
    return sum(c.points for c in checks if c.id in hidden) / sum(c.points for c in checks)


def _caught(report: dict, ids) -> set[str]:
    return {c["id"] for c in report["checks"] if c["id"] in ids and c["status"] not in ("passed", "hidden")}


@pytest.mark.slow
def test_a1_optimizers_and_toy_trainings_are_public(student_a1):
    """The four optimizer trajectories and the toy trainings are graded for a correct a1 under every seed."""
    assert hidden_share(student_a1.pack.manifest, "a1") <= TARGETS["a1"], student_a1.pack.manifest["hidden"]["a1"]
    for seed in student_a1.pack.manifest["seeds"]:
        report = student_a1.check("a1", ROOT / "tests" / "assignments" / "a1_bugs" / "correct_alt", seed)
        hidden = [c["id"] for c in report["checks"] if c["status"] == "hidden"]
        assert hidden == [] and report["hidden_points"] == 0, (seed, hidden)


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(A1_BUGS))
def test_every_a1_bug_the_staff_build_catches_is_caught_by_the_student_build(student_a1, zygote, tmp_path, name):
    """Adam without bias correction among them: no '25/25' for a submission the staff's build fails."""
    bug = A1_BUGS[name]
    folder = tmp_path / "sub"
    folder.mkdir()
    (folder / "mlp.py").write_text(mutate(A1_SOURCE, *bug.replacements))
    for seed in student_a1.pack.manifest["seeds"]:
        staff = api.check("a1", folder, tasks=list(bug.tasks), seed=seed, zygote=zygote).to_dict()
        student = student_a1.check("a1", folder, seed, tuple(bug.tasks))
        caught = _caught(staff, bug.blamed)
        assert caught, (name, seed, "the staff build must catch the bug")
        assert _caught(student, bug.blamed) == caught, (name, seed, [
            (c["id"], c["status"], c["message"][:100]) for c in student["checks"] if c["id"] in bug.blamed])


@pytest.mark.slow
@pytest.mark.parametrize("assignment", sorted(TARGETS))
def test_hidden_points_are_within_the_targets(student_full, assignment):
    share = hidden_share(student_full.pack.manifest, assignment)
    if assignment == "a3" and share > TARGETS[assignment]:
        pytest.xfail(f"{assignment}: {share:.0%} of the points are hidden (target {TARGETS[assignment]:.0%}): "
                     "not reached yet, see docs/student-build.md")
    assert share <= TARGETS[assignment], student_full.pack.manifest["hidden"][assignment]


A3_SOURCES = {n: (ROOT / "reference" / "a3" / n).read_text() for n in ("conv.py", "batchnorm.py")}


def _a3_bugs() -> dict:
    from tests.assignments.a3_bugs.catalogue import BN_BUGS, CONV_BUGS

    return {**{("conv.py", k): v for k, v in CONV_BUGS.items()}, **{("batchnorm.py", k): v for k, v in BN_BUGS.items()}}


@pytest.mark.slow
@pytest.mark.parametrize("file, name", sorted(_a3_bugs()))
def test_every_a3_bug_the_staff_build_catches_is_caught_by_the_student_build(student_a3, zygote, tmp_path, file,
                                                                            name):
    """The small a3 build (seed 1): each catalogued bug is caught, with the staff build's hint."""
    bug = _a3_bugs()[file, name]
    folder = tmp_path / "sub"
    folder.mkdir()
    for source, text in A3_SOURCES.items():
        (folder / source).write_text(mutate(text, *bug.replacements) if source == file else text)
    for seed in student_a3.pack.manifest["seeds"]:
        staff = api.check("a3", folder, tasks=list(bug.tasks), seed=seed, zygote=zygote).to_dict()
        student = student_a3.check("a3", folder, seed, tuple(bug.tasks))
        caught = _caught(staff, bug.blamed)
        assert caught and _caught(student, bug.blamed) == caught, (name, seed)
        hints = {c["id"]: c["hint"] for c in staff["checks"]}
        assert all(c["hint"] == hints[c["id"]] for c in student["checks"] if c["id"] in caught), name


def test_a3_formula_is_public_and_names_the_missing_biases(student_a3, tmp_path):
    """[mlp_parameters] count is judged in the student build from the counts recorded at the judge's points."""
    assert "mlp_formula" not in student_a3.pack.manifest["hidden"]["a3"]
    folder = tmp_path / "sub"
    shutil.copytree(ROOT / "reference" / "a3", folder)
    seed = student_a3.pack.manifest["seeds"][0]
    right = {c["id"]: c for c in student_a3.check("a3", folder, seed, ("3.6",))["checks"]}
    assert right["mlp_formula"]["status"] == "passed", right["mlp_formula"]
    answers = folder / "answers.toml"
    answers.write_text(re.sub(r"(?m)^count = .*$", 'count = "D_in*H_1 + H_1*H_2 + H_2*D_out"', answers.read_text()))
    wrong = {c["id"]: c for c in student_a3.check("a3", folder, seed, ("3.6",))["checks"]}
    assert wrong["mlp_formula"]["status"] == "failed" and "bias" in wrong["mlp_formula"]["hint"]

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
    assert share <= TARGETS[assignment], student_full.pack.manifest["hidden"][assignment]


A3_SOURCES = {n: (ROOT / "reference" / "a3" / n).read_text() for n in ("conv.py", "batchnorm.py")}


def _a3_bugs() -> dict:
    from tests.assignments.a3_bugs.catalogue import BN_BUGS, CONV_BUGS

    return {**{("conv.py", k): v for k, v in CONV_BUGS.items()}, **{("batchnorm.py", k): v for k, v in BN_BUGS.items()}}


@pytest.mark.slow
@pytest.mark.parametrize("file, name", sorted(_a3_bugs()))
def test_every_a3_bug_the_staff_build_catches_is_caught_by_the_student_build(student_a3_public, zygote, tmp_path,
                                                                            file, name):
    """Under each public seed (1, 2, 3): each catalogued bug is caught, with the staff build's hint."""
    bug = _a3_bugs()[file, name]
    folder = tmp_path / "sub"
    folder.mkdir()
    for source, text in A3_SOURCES.items():
        (folder / source).write_text(mutate(text, *bug.replacements) if source == file else text)
    for seed in student_a3_public.pack.manifest["seeds"]:
        staff = api.check("a3", folder, tasks=list(bug.tasks), seed=seed, zygote=zygote).to_dict()
        student = student_a3_public.check("a3", folder, seed, tuple(bug.tasks))
        caught = _caught(staff, bug.blamed)
        assert caught and _caught(student, bug.blamed) == caught, (name, seed)
        hints = {c["id"]: c["hint"] for c in staff["checks"]}
        assert all(c["hint"] == hints[c["id"]] for c in student["checks"] if c["id"] in caught), name


# One wrong formula per formula question of a3 (replacing the model answer's line), and the gist of its hint.
A3_WRONG_FORMULAS = {
    "cnn_params": ("params", "'K**2 * C_1 * (C_in + C_2) + C_1 + C_2'", "Biases are excluded"),
    "cnn_macs": ("macs", "'C_in*C_1*K**2*H*W + C_1*C_2*K**2*H*W'", "stride 2"),
    "cnn_memory": ("memory_change_percent", "'25 * C_2 / C_in'", "CHANGE"),
    "batches_per_epoch": ("batches_per_epoch", "'floor(N / B)'", "round UP"),
    "total_iterations": ("total_iterations", "'E * N / B'", "round up per epoch"),
    "cross_entropy": ("loss", "'-log10(exp(z_0) / (exp(z_0) + exp(z_1) + exp(z_2)))'", "log10"),
    "mlp_formula": ("count", '"D_in*H_1 + H_1*H_2 + H_2*D_out"', "bias"),
}


def test_a3_formulas_are_public_and_name_the_known_mistakes(student_a3, tmp_path):
    """Every formula answer of a3 is judged in the student build from the values recorded at the judge's
    points: the reference passes, a known wrong formula fails with the staff build's hint. Only the two
    batch-norm matrices (3 of 39 points) are hidden."""
    hidden = set(student_a3.pack.manifest["hidden"]["a3"])
    assert hidden == {"bn_z_hat", "bn_scaled"}
    assert hidden_share(student_a3.pack.manifest, "a3") <= TARGETS["a3"]
    folder = tmp_path / "sub"
    shutil.copytree(ROOT / "reference" / "a3", folder)
    seed = student_a3.pack.manifest["seeds"][0]
    right = {c["id"]: c for c in student_a3.check("a3", folder, seed, ("3.6",))["checks"]}
    for check_id in A3_WRONG_FORMULAS:
        assert right[check_id]["status"] == "passed", right[check_id]
    answers = folder / "answers.toml"
    text = answers.read_text()
    for key, wrong, _ in A3_WRONG_FORMULAS.values():
        text = re.sub(rf"(?m)^{key} = .*$", lambda _, k=key, w=wrong: f"{k} = {w}", text)
    answers.write_text(text)
    wrong = {c["id"]: c for c in student_a3.check("a3", folder, seed, ("3.6",))["checks"]}
    staff = {c.id: c for c in api.check("a3", folder, tasks=["3.6"], seed=seed).checks}
    for check_id, (_, _, gist) in A3_WRONG_FORMULAS.items():
        assert wrong[check_id]["status"] == "failed" and gist in wrong[check_id]["hint"], wrong[check_id]
        assert wrong[check_id]["hint"] == staff[check_id].hint

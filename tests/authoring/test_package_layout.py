"""Everything an assignment owns is found in its own package: reference, template, handout, key."""

from __future__ import annotations

from pathlib import Path

import pytest

from grader import api, oracle
from grader.assignment import Assignment, Equivalent

ROOT = Path(__file__).resolve().parents[2]


def test_course_fields_resolve_inside_its_package(course):
    a = api.get_assignment(course.id)
    assert a.package == course.package and not a.builtin
    assert a.reference_package == f"{course.package}.reference"
    assert a.reference_folder == course.reference
    assert a.template_folder == course.template
    assert a.handout_path == course.folder / "handout.md" and a.handout_path.is_file()
    assert oracle.reference_module(course.id, "cell") == f"{course.package}.reference.cell"
    assert Path(oracle.load(course.id, "cell").__file__).parent == course.reference


def test_builtins_keep_the_top_level_folders_through_the_same_fields():
    a = api.get_assignment("a1", load_checks=False)
    assert a.builtin and a.package == "grader.assignments.a1"
    assert a.reference_package == "reference.a1"
    assert a.reference_folder == ROOT / "reference" / "a1"
    assert a.template_folder == ROOT / "student_template" / "a1"
    assert oracle.reference_module("a1", "mlp") == "reference.a1.mlp"
    assert a.handout_path == ROOT / "docs" / "handouts" / "a1.md"


@pytest.mark.parametrize("level", ["full", "minimal"])
def test_reference_full_marks_template_zero_mistake_named(course, monkeypatch, level):
    if level == "minimal":
        monkeypatch.setenv("DLGRADE_SANDBOX", "minimal")
    reference = api.check(course.id, course.reference, seed=3)
    assert reference.score == reference.max_score == 6
    template = api.check(course.id, course.template, seed=3)
    assert template.score == 0
    mistake = api.check(course.id, course.folder / "mistakes" / "no_bias", seed=3)
    forward = next(c for c in mistake.checks if c.id == "forward")
    assert forward.status == "failed" and "bias" in forward.hint


def test_the_assignments_own_packages_are_forbidden_to_submissions(course):
    a = api.get_assignment(course.id)
    assert course.package in a.forbidden_imports
    assert {"grader", "reference"} <= set(a.forbidden_imports)


def test_relative_and_absolute_names():
    a = Assignment(id="t9", title="t", files=("x.py",), package="my_course.t9", reference="solutions.t9",
                   template="starter", answer_key=(".key",))
    assert a.reference_package == "solutions.t9"
    assert a.answer_key_modules == ("my_course.t9.key",)
    assert {"my_course", "solutions"} <= set(a.forbidden_imports)
    b = Assignment(id="t8", title="t", files=("my_course.py",), package="my_course")
    assert b.reference_package == "my_course.reference"
    assert "my_course" not in b.forbidden_imports  # the submission's own module is never forbidden


def test_package_defaults_to_the_creating_module():
    a = Assignment(id="t7", title="t", files=("x.py",))
    assert a.package == "tests.authoring" and a.reference_package == "tests.authoring.reference"


@pytest.mark.parametrize("where,survivor,matches", [
    ("cell.py:12: + -> -", "cell.py:12: + -> -", True),
    ("cell.py:12:", "cell.py:12: + -> -", True),
    ("cell.py:12:", "cell.py:120: + -> -", False),
    ("cell.py:12: + -> -", "cell.py:12: * -> /", False),
])
def test_equivalent_matches(where, survivor, matches):
    assert Equivalent(where, "reason").matches(survivor) is matches


def test_answer_key_modules_are_found_in_the_package_and_withheld_in_the_student_build(course, monkeypatch):
    (course.folder / "key.py").write_text("DZ = 'G * (1 - tanh(z)**2)'\n")
    a = api.get_assignment(course.id)
    monkeypatch.setattr(a, "answer_key", (".key",))
    assert oracle.answer_key(course.id, ".key").DZ == "G * (1 - tanh(z)**2)"
    with pytest.raises(ValueError, match="not one of its answer_key modules"):
        oracle.answer_key(course.id, ".checks")
    monkeypatch.setattr(oracle, "STUDENT_BUILD", True)
    with pytest.raises(oracle.Unrecorded):
        oracle.answer_key(course.id, ".key")
    from grader.authoring.studentpack import course_packages

    assert course.folder / "key.py" in course_packages([a])[0].withheld

"""The student build of a course's own assignment: recorded, its checks and template shipped, no line of its
reference or key; the wheel installs alone and grades, and says 'not in this build' for the others."""

from __future__ import annotations

import shutil
import zipfile

import pytest

from tests.packaging.conftest import make_student_env


@pytest.fixture
def student(course, tmp_path):
    # A template folder left with the solution in it (markers and all): the build derives the student's files.
    (course.template / "cell.py").write_text((course.reference / "cell.py").read_text())
    return make_student_env(tmp_path, seeds=(1,), assignments=[course.id])


@pytest.mark.slow
def test_course_student_build(course, student, tmp_path):
    pack = student.pack
    assert course.id in pack.manifest["recorded"] and f"{course.id}.cell" in pack.manifest["modules"]
    names = zipfile.ZipFile(pack.wheel).namelist()
    assert f"{course.package}/checks.py" in names and f"student_template/{course.id}/cell.py" in names
    assert not any(n.startswith(f"{course.package}/reference") for n in names)
    assert not any(n.startswith(f"{course.package}/mistakes") for n in names)
    # (dlgrade's own grader/authoring/scaffold.py, the example this course was made from, is public by design)
    course_files = [n for n in names if n.startswith((f"{course.package}/", "student_template/"))]
    assert len(course_files) >= 4
    text = "\n".join(zipfile.ZipFile(pack.wheel).read(n).decode("utf-8", "replace") for n in course_files)
    assert "np.tanh(x @ W + b)" not in text  # the reference's solution
    assert "G * (1 - tanh(z)**2)" not in text and "G * (1 - np.tanh(z)**2)" not in text  # the model answer
    # Installed alone, it lists and grades the course's assignment from its recording.
    listed = student.run("list")
    assert listed.returncode == 0 and course.id in listed.stdout
    shutil.copytree(course.reference, student.cwd / "ref", ignore=shutil.ignore_patterns("__pycache__", "__init__.py"))
    assert student.run("init", course.id, "tpl").returncode == 0
    assert "SOLUTION" not in (student.cwd / "tpl" / "cell.py").read_text()
    assert student.check(course.id, student.cwd / "ref", seed=1)["score"] == 6
    assert student.check(course.id, student.cwd / "tpl", seed=1)["score"] == 0
    # Any other assignment: one sentence and exit 2, never a KeyError (exit 3).
    for other in ("a1", "a2"):
        (student.cwd / other).mkdir()
        done = student.run("check", other, str(student.cwd / other))
        assert done.returncode == 2, done.stdout + done.stderr
        assert "not in this build" in done.stderr and "Traceback" not in done.stderr


def test_the_course_gate_finds_reference_lines_and_model_answers(course, tmp_path):
    from grader import api
    from grader.authoring import studentpack

    courses = studentpack.course_packages([api.get_assignment(course.id)])
    wheel = tmp_path / "x.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr(f"{course.package}/checks.py", "def f(x, W, b):\n    return np.tanh(x @ W + b)\n")
        archive.writestr(f"{course.package}/other.py", "ANSWER = 'G * (1 - tanh(z)**2)'\n")
        archive.writestr(f"student_template/{course.id}/cell.py",
                         "def forward(x, W, b):\n    raise NotImplementedError\n")
    found = studentpack.leaks(wheel, courses, {course.package: ["G * (1 - tanh(z)**2)"]})
    assert any("checks.py: reference line cell.py:9" in f for f in found), found
    assert any("other.py: the model answer" in f for f in found), found
    assert not any("student_template" in f for f in found)

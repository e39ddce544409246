"""Fixtures of the sandbox red-team suite: hostile code run in real sessions of the shared zygote."""

from __future__ import annotations

import os

import pytest

from grader.runner.remote import Student
from grader.runner.sandbox import Limits


@pytest.fixture
def hostile(zygote, tmp_path):
    """``hostile(source, **limits)`` -> the student module ``m`` in a fresh session of the shared zygote."""
    made = []

    def make(source: str, wall_s: float = 20.0, **limits) -> Student:
        path = tmp_path / f"m{len(made)}.py"
        path.write_text(source)
        student = Student(zygote, {"m.py": path}, Limits(wall_s=wall_s, **limits))
        made.append(student)
        return student

    yield make
    for student in made:
        student.close()


@pytest.fixture
def full_sandbox(zygote, hostile):
    """Skip where this machine does not give the full sandbox (the degraded one has its own tests)."""
    student = hostile("x = 1\n")
    level = student.session.request("isolation").get("level")
    student.close()
    if os.getuid() != 0 or level != "full":
        pytest.skip(f"the full sandbox needs root, namespaces, cgroups and seccomp (here: {level})")
    return True

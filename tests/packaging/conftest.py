"""Fixtures of the student-build tests: a built wheel and a fresh virtual environment with only it installed.

The venv reuses this environment's third-party packages through a ``.pth``
line (numpy, sympy, rich, click, torch), so nothing is downloaded; dlgrade
itself comes only from the wheel (the editable staff install is not visible).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy
import pytest

from grader import api

ROOT = Path(__file__).resolve().parents[2]


class StudentEnv:
    """A venv with the student wheel: run ``dlgrade`` in it, from a folder outside the source tree."""

    def __init__(self, venv: Path, cwd: Path, pack):
        self.venv, self.cwd, self.pack = venv, cwd, pack

    def run(self, *args: str) -> subprocess.CompletedProcess:
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "DLGRADE_ORACLE")}
        env["COLUMNS"] = "400"  # tables unwrapped, so a sentence stays on one line
        return subprocess.run([str(self.venv / "bin" / "dlgrade"), *args], cwd=self.cwd, env=env,
                              capture_output=True, text=True, timeout=600)

    def python(self, code: str) -> subprocess.CompletedProcess:
        return subprocess.run([str(self.venv / "bin" / "python"), "-c", code], cwd=self.cwd, capture_output=True,
                              text=True, timeout=120)

    def check(self, assignment: str, path: Path, seed: int, tasks: tuple[str, ...] = ()) -> dict:
        options = [a for t in tasks for a in ("--task", t)]
        done = self.run("check", assignment, str(path), "--seed", str(seed), "--format", "json", *options)
        assert done.returncode in (0, 1), done.stderr
        return json.loads(done.stdout)


def make_student_env(tmp: Path, **build) -> StudentEnv:
    pack = api.build_student_pack(tmp / "dist", **build)
    venv = tmp / "venv"
    base = getattr(sys, "_base_executable", sys.executable)
    subprocess.run([base, "-m", "venv", str(venv)], check=True, timeout=300)
    site = next((venv / "lib").glob("python*/site-packages"))
    (site / "_dlgrade_test_deps.pth").write_text(str(Path(numpy.__file__).resolve().parents[1]) + "\n")
    subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "--no-deps", "--no-index",
                    "--disable-pip-version-check", str(pack.wheel)], check=True, timeout=300)
    cwd = tmp / "work"
    cwd.mkdir()
    return StudentEnv(venv, cwd, pack)


@pytest.fixture(scope="session")
def student_a3(tmp_path_factory) -> StudentEnv:
    """A small student build (a3, one public seed): quick enough for the default run."""
    return make_student_env(tmp_path_factory.mktemp("student-a3"), seeds=(1,), assignments=["a3"])


@pytest.fixture(scope="session")
def student_a3_public(tmp_path_factory) -> StudentEnv:
    """A student build of a3 with the default public seeds (its catalogue is compared with the staff build's)."""
    return make_student_env(tmp_path_factory.mktemp("student-a3-public"), assignments=["a3"])


@pytest.fixture(scope="session")
def student_full(tmp_path_factory) -> StudentEnv:
    """The student build as a course of the four built-ins would make it, with the default public seeds.

    Named, not defaulted: other tests register assignments of their own in this process (no entry point, so a
    course's ``dlgrade build-student-pack`` never sees them), and "every assignment" would include those.
    """
    return make_student_env(tmp_path_factory.mktemp("student-full"), assignments=["a1", "a2", "a3", "a4"])




@pytest.fixture(scope="session")
def student_a1(tmp_path_factory) -> StudentEnv:
    """A student build of a1 with the default public seeds: its optimizer and training checks replay."""
    return make_student_env(tmp_path_factory.mktemp("student-a1"), assignments=["a1"])


@pytest.fixture(scope="session")
def student_a2(tmp_path_factory) -> StudentEnv:
    """A student build of a2 with the default public seeds (its catalogue is compared with the staff build's)."""
    return make_student_env(tmp_path_factory.mktemp("student-a2"), assignments=["a2"])


@pytest.fixture(scope="session")
def student_a4(tmp_path_factory) -> StudentEnv:
    """A student build of a4 with the default public seeds (its structure checks replay the reference LeNet)."""
    return make_student_env(tmp_path_factory.mktemp("student-a4"), assignments=["a4"])

"""``dlgrade author new``: a working package; after ``pip install -e``, ``list`` shows it and ``verify`` passes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy
import pytest

from grader import api
from grader.errors import UsageError

ROOT = Path(__file__).resolve().parents[2]


def _venv(tmp: Path) -> Path:
    """A fresh venv that sees this dlgrade checkout and its dependencies, and nothing installed in it yet."""
    venv = tmp / "venv"
    base = getattr(sys, "_base_executable", sys.executable)
    subprocess.run([base, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=300)
    site = next((venv / "lib").glob("python*/site-packages"))
    (site / "_dlgrade_test.pth").write_text(f"{ROOT}\n{Path(numpy.__file__).resolve().parents[1]}\n")
    return venv


@pytest.mark.slow
def test_new_package_installs_lists_and_verifies(tmp_path):
    project = tmp_path / "course-k5"
    written = api.author_new("k5", project, title="A tanh layer")
    names = {p.relative_to(project).as_posix() for p in written}
    assert {"pyproject.toml", "course_k5/spec.py", "course_k5/checks.py", "course_k5/reference/cell.py",
            "course_k5/template/cell.py", "course_k5/handout.md", "tests/test_k5.py"} <= names
    assert "SOLUTION" not in (project / "course_k5" / "template" / "cell.py").read_text()
    venv = _venv(tmp_path)
    python = str(venv / "bin" / "python")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "DLGRADE_ORACLE")}
    subprocess.run([sys.executable, "-m", "pip", "--python", python, "install", "-q", "--no-deps", "--no-index",
                    "--no-build-isolation", "--disable-pip-version-check", "-e", str(project)],
                   check=True, timeout=300, env=env, capture_output=True)
    listed = subprocess.run([python, "-m", "grader.cli", "list"], capture_output=True, text=True, env={
        **env, "COLUMNS": "200"}, cwd=tmp_path, timeout=120)
    assert listed.returncode == 0, listed.stderr
    assert "k5" in listed.stdout and "A tanh layer" in listed.stdout
    verified = subprocess.run([python, "-m", "grader.cli", "author", "verify", "k5", "--seeds", "2", "--format",
                               "json"], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=600)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    result = json.loads(verified.stdout)
    assert result["reference_score"] == result["max_score"] == 6 and result["template_score"] == 0
    assert result["mutants"]["total"] > 10 and result["mutants"]["survivors"] == []
    assert {"assignment", "reference_files", "template_files", "reference_score", "template_score", "max_score",
            "mutants"} <= set(result)
    assert {"total", "caught", "equivalent", "survivors"} <= set(result["mutants"])
    # The package's own test file runs too.
    tested = subprocess.run([python, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(project / "tests")],
                            capture_output=True, text=True, env=env, cwd=tmp_path, timeout=600)
    assert tested.returncode == 0, tested.stdout[-2000:]


@pytest.mark.parametrize("bad", ["A5", "5a", "a/5", "", "a" * 40])
def test_bad_ids_are_refused(tmp_path, bad):
    with pytest.raises(UsageError):
        api.author_new(bad, tmp_path / "x")


def test_never_writes_into_a_folder_that_is_not_empty(tmp_path):
    (tmp_path / "keep.txt").write_text("mine")
    with pytest.raises(UsageError, match="not empty"):
        api.author_new("k6", tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == ["keep.txt"]

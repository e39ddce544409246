"""The Gradescope bundle runs against a fake /autograder tree and always leaves a valid results.json."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from grader import api
from grader.gradescope_bundle import build_bundle
from tests.conftest import REFERENCE_A1

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    path = tmp_path_factory.mktemp("bundle") / "autograder.zip"
    build_bundle(api.get_assignment("a1"), path)
    return path


def autograder(tmp_path, bundle, files: dict[str, str] | None, path: str | None = None) -> dict:
    root = tmp_path / "autograder"
    with zipfile.ZipFile(bundle) as z:
        z.extractall(root / "source")
    run = root / "source" / "run_autograder"
    run.chmod(0o755)
    if files is not None:
        (root / "submission").mkdir(parents=True)
        for name, text in files.items():
            (root / "submission" / name).write_text(text)
    env = {**os.environ, "DLGRADE_AUTOGRADER_ROOT": str(root), "PATH": path or f"{BIN}{os.pathsep}{os.environ['PATH']}"}
    subprocess.run([sys.executable, str(run)], env=env, check=True, timeout=300)
    return json.loads((root / "results" / "results.json").read_text())


def test_bundle_layout(bundle):
    names = zipfile.ZipFile(bundle).namelist()
    assert {"setup.sh", "run_autograder", "dlgrade-src/pyproject.toml"} <= set(names)
    assert "dlgrade-src/reference/a1/mlp.py" in names  # the staff build grades against the reference
    assert not any("__pycache__" in n for n in names)
    setup = zipfile.ZipFile(bundle).read("setup.sh").decode()
    assert "chmod -R go-rwx" in setup
    subprocess.run(["bash", "-n", "-c", setup], check=True)


def test_correct_submission_gets_the_same_percentage_as_check(tmp_path, bundle):
    results = autograder(tmp_path, bundle, {"mlp.py": REFERENCE_A1})
    total = sum(t["max_score"] for t in results["tests"])
    assert results["score"] == total == api.get_assignment("a1").total_points
    assert results["stdout_visibility"] == "hidden"
    assert all({"name", "number", "score", "max_score", "status", "output", "visibility"} <= set(t)
               for t in results["tests"])


@pytest.mark.parametrize("files", [None, {}, {"mlp.py": "import os\nos._exit(3)\n"}, {"mlp.py": "def broken(:\n"}])
def test_missing_crashing_and_broken_submissions_still_get_results(tmp_path, bundle, files):
    results = autograder(tmp_path, bundle, files)
    assert results["score"] == 0 and isinstance(results["tests"], list)


def test_results_even_when_dlgrade_itself_cannot_run(tmp_path, bundle):
    results = autograder(tmp_path, bundle, {"mlp.py": REFERENCE_A1}, path="/nonexistent")
    assert results["score"] == 0 and "could not grade" in results["output"]

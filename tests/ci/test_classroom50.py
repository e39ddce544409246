"""Classroom 50's result.json passes a validator of the collector's contract, with whole points."""

from __future__ import annotations

import importlib.util
import inspect
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from grader import api
from grader.report.classroom50 import classroom50_result, validate
from grader.result import CheckResult, Report

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
ENV = {"CLASSROOM": "dl-2026", "ASSIGNMENT": "a1-mlp", "USERNAME": "octocat", "SUBMISSION_TAG": "submit/1",
       "COMMIT_URL": "https://git.example/c/1", "RELEASE_URL": "https://git.example/r/1"}


def test_dlgrade_ci_writes_an_accepted_result(tmp_path, zygote):
    repo = tmp_path / "repo"
    api.init("a1", repo, ci=True)
    shutil.copyfile(ROOT / "examples" / "a1" / "common_mistakes" / "mlp.py", repo / "mlp.py")
    script = (repo / "classroom50" / "autograde.sh").read_text().splitlines()[-1]
    env = {**os.environ, **ENV, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}
    done = subprocess.run(["bash", "-c", script + " --seed 5"], cwd=repo, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    result = json.loads((repo / "result.json").read_text())
    assert validate(result, ENV) == []
    report = api.check("a1", repo, seed=5, zygote=zygote)
    assert abs(result["score"] / result["max-score"] - report.score / report.max_score) < 1 / result["max-score"]


def test_fractional_points_become_integers():
    report = Report("a3", "s", (CheckResult("a", "3.1", "A", "failed", 0.25, 0.5),
                                CheckResult("b", "3.1", "B", "passed", 1.5, 1.5)))
    result = classroom50_result(report, ENV)
    assert validate(result, ENV) == []
    assert (result["score"], result["max-score"]) == (4, 4 + 0) or result["max-score"] == 4
    assert all(isinstance(t["score"], int) for t in result["tests"])


def test_validator_refuses_what_the_collector_refuses():
    good = classroom50_result(Report("a1", "s", (CheckResult("a", "1", "A", "passed", 1.0, 1.0),)), ENV)
    assert validate(good, ENV) == []
    for change in ({"schema": "v0"}, {"submission": "main"}, {"score": 1.5}, {"owner": ""}, {"owner": "mallory"},
                   {"assignment_type": "group"},
                   {"commit": ""}, {"tests": [{"test-name": "x", "passed": "yes", "score": 0, "max-score": 1}]},
                   {"score": 5, "max-score": 1}):
        assert validate({**good, **change}, ENV), change
    assert validate({**good, "classroom": "other"}, ENV)


def test_missing_runner_variables_is_one_sentence(tmp_path):
    (tmp_path / "mlp.py").write_text("")
    env = {k: v for k, v in os.environ.items() if k not in ENV}
    done = subprocess.run([str(BIN / "dlgrade"), "ci", "a1", str(tmp_path), "--emit", "classroom50"],
                          cwd=tmp_path, env=env, capture_output=True, text=True)
    assert done.returncode == 2
    assert "needs the runner's environment" in done.stderr and "Traceback" not in done.stderr


# --- the real Classroom 50 runner and collector (opt-in: nothing downloads in tests) ---

SCRIPTS = Path("cli") / "gh-teacher" / "skeleton" / "dotgithub" / "scripts"


def _real(name: str):
    """``runner`` or ``collect_scores`` from the checkout DLGRADE_CLASSROOM50 names, imported from its file."""
    checkout = os.environ.get("DLGRADE_CLASSROOM50")
    if not checkout:
        pytest.skip("set DLGRADE_CLASSROOM50 to a local checkout of github.com/foundation50/classroom50 "
                    "to feed result.json to its real runner and collector")
    path = Path(checkout) / SCRIPTS / f"{name}.py"
    if not path.is_file():
        pytest.fail(f"DLGRADE_CLASSROOM50={checkout} has no {SCRIPTS / (name + '.py')}")
    spec = importlib.util.spec_from_file_location(f"real_classroom50_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _seeded(autograder: str, seed: int) -> str:
    """The template entrypoint with a fixed seed (the runner passes no arguments), so dlgrade check can compare."""
    call = "*sys.argv[1:]]"
    assert call in autograder, "the template autograder.py no longer passes its arguments on to dlgrade ci"
    return autograder.replace(call, f'*sys.argv[1:], "--seed", "{seed}"]')


def test_template_autograder_exits_0_with_result_or_2_without_the_runner_environment(tmp_path):
    template = (ROOT / "student_template" / "classroom50" / "autograder.py").read_text()
    (tmp_path / "autograder.py").write_text(template.replace("__ASSIGNMENT__", "a1"))
    checkout = tmp_path / "checkout"
    shutil.copytree(ROOT / "examples" / "a1" / "dw_divided_by_in_features", checkout)
    path = {"PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}
    bare = {k: v for k, v in os.environ.items() if k not in ENV}
    done = subprocess.run([sys.executable, str(tmp_path / "autograder.py")], cwd=checkout, env={**bare, **path},
                          capture_output=True, text=True)
    assert done.returncode == 2 and not (checkout / "result.json").exists(), done.stderr
    done = subprocess.run([sys.executable, str(tmp_path / "autograder.py"), "--seed", "3"], cwd=checkout,
                          env={**bare, **path, **ENV}, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    result = json.loads((checkout / "result.json").read_text())
    assert validate(result, ENV) == [] and result["score"] < result["max-score"]


def _group_keyword(function) -> dict:
    """The real code has said "individual" as ``is_group=False`` and as ``expected_type=...``; pass what it takes."""
    parameters = inspect.signature(function).parameters
    if "is_group" in parameters:
        return {"is_group": False}
    return {"expected_type": "individual"} if "expected_type" in parameters else {}


@pytest.mark.parametrize("source", [ROOT / "examples" / "a1" / "dw_divided_by_in_features", ROOT / "reference" / "a1"],
                         ids=["dw_divided_by_in_features", "reference"])
def test_the_real_collector_accepts_result_json(tmp_path, zygote, source, monkeypatch):
    runner, collector = _real("runner"), _real("collect_scores")
    checkout = tmp_path / "dl-2026-a1-mlp-octocat"
    shutil.copytree(source, checkout)
    bundle = tmp_path / "bundle" / "a1-mlp"
    bundle.mkdir(parents=True)
    entrypoint = bundle / "autograder.py"
    template = (ROOT / "student_template" / "classroom50" / "autograder.py").read_text()
    entrypoint.write_text(_seeded(template.replace("__ASSIGNMENT__", "a1"), 5))
    finalize = runner.Finalizer(
        workspace=checkout, github_output=str(tmp_path / "github_output"), classroom=ENV["CLASSROOM"],
        assignment=ENV["ASSIGNMENT"], username=ENV["USERNAME"], submission=ENV["SUBMISSION_TAG"],
        commit_link=ENV["COMMIT_URL"], release_link=ENV["RELEASE_URL"], review_link=ENV["COMMIT_URL"])
    # The runner execs the entrypoint with its own environment plus the helper variables; ours has dlgrade on PATH
    # (so the entrypoint installs nothing) and the seed the comparison below uses.
    for name in ("CLASSROOM", "ASSIGNMENT", "SUBMISSION_TAG"):
        monkeypatch.setenv(name, ENV[name])
    monkeypatch.setenv("PATH", f"{BIN}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setattr(runner.sys, "argv", ["runner.py"])

    assert runner.run_entrypoint(finalize, entrypoint, checkout) is None, "the runner recorded an error"
    assert runner.finalize_result(finalize, **_group_keyword(runner.finalize_result)) == 0
    result = json.loads((checkout / "result.json").read_text())
    collector.validate_result(result, ENV["CLASSROOM"], ENV["ASSIGNMENT"], ENV["USERNAME"],
                              **({"is_group": False} if "is_group" in inspect.signature(
                                  collector.validate_result).parameters else {}))
    # The runner exits 0 and publishes an accepted 0/0 result on every error, so "accepted" alone proves nothing.
    assert "status=error" not in (tmp_path / "github_output").read_text(), "the runner recorded an error"
    assert result["tests"], "the runner replaced our result with its empty error result"
    report = api.check("a1", checkout, seed=5, zygote=zygote)
    assert abs(result["score"] / result["max-score"] - report.score / report.max_score) < 1 / result["max-score"]
    assert (result["score"] == result["max-score"]) == (report.score == report.max_score)

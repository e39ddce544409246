"""Classroom 50's result.json passes a validator of the collector's contract, with whole points."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

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
    for change in ({"schema": "v0"}, {"submission": "main"}, {"score": 1.5}, {"usernames": ["a", "b"]},
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

"""The template workflow's grading step, run as Actions runs it, feeds the grading reporter correctly."""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from grader import api
from grader.report import github
from grader.result import CheckResult, Report

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
BUGGY_A1 = ROOT / "examples" / "a1" / "dw_divided_by_in_features" / "mlp.py"


def reporter_view(runners: str, env: dict) -> tuple[float, float, float]:
    """What the reporter action computes: (score it prints, total it records, max it records)."""
    printed = recorded = maximum = 0.0
    for runner in runners.split(","):
        results = json.loads(base64.b64decode(env[f"{runner.strip().upper()}_RESULTS"]).decode("utf-8"))
        tests = results["tests"]
        passed = sum(t["status"] == "pass" for t in tests)
        printed += passed / len(tests) * (results["max_score"] or 1)
        recorded += sum(t["score"] for t in tests)
        maximum += results["max_score"]
    return printed, recorded, maximum


def run_workflow_grading_step(repo: Path, tmp_path: Path) -> tuple[dict, str, dict]:
    workflow = yaml.safe_load((repo / ".github" / "workflows" / "grade.yml").read_text())
    steps = workflow["jobs"]["run-autograding-tests"]["steps"]
    grading = next(s for s in steps if s.get("id") == "dlgrade")
    output, summary = tmp_path / "github_output", tmp_path / "step_summary"
    env = {**os.environ, **workflow["env"], "GITHUB_ACTIONS": "true", "CI": "true", "GITHUB_WORKSPACE": str(repo),
           "GITHUB_OUTPUT": str(output), "GITHUB_STEP_SUMMARY": str(summary),
           "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}
    done = subprocess.run(["bash", "-e", "-c", grading["run"]], cwd=repo, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    outputs = dict(line.split("=", 1) for line in output.read_text().splitlines())
    reporter = next(s for s in steps if "autograding-grading-reporter" in s.get("uses", ""))
    reporter_env = {}
    for name, value in reporter["env"].items():
        match = re.fullmatch(r"\$\{\{\s*steps\.dlgrade\.outputs\.(\w+)\s*\}\}", value.strip())
        assert match, value
        reporter_env[name] = outputs[match.group(1)]
    return {"runners": reporter["with"]["runners"], "env": reporter_env}, summary.read_text(), \
        {"stdout": done.stdout}


def test_template_workflow_reports_the_same_percentage_as_check(tmp_path, zygote):
    repo = tmp_path / "repo"
    api.init("a1", repo, ci=True)
    shutil.copyfile(BUGGY_A1, repo / "mlp.py")
    reporter, summary, step = run_workflow_grading_step(repo, tmp_path)
    printed, recorded, maximum = reporter_view(reporter["runners"], reporter["env"])
    assert printed == recorded, "the score the student reads must be the score recorded"
    seed = int(re.search(r"--seed (\d+)", summary).group(1))
    report = api.check("a1", repo, seed=seed, zygote=zygote)
    assert report.score < report.max_score
    assert abs(recorded / maximum - report.score / report.max_score) < 1 / maximum
    assert "::error file=mlp.py" in step["stdout"] or "::error title=" in step["stdout"]
    assert "Linear.backward: dW" in summary


def test_partial_credit_never_makes_the_printed_and_recorded_scores_differ():
    checks = (CheckResult("a", "1.1", "A", "failed", 0.5, 1.5, message="half"),
              CheckResult("b", "1.1", "B", "passed", 2.0, 2.0),
              CheckResult("c", "1.2", "C", "failed", 0.9, 1.0, message="almost"),
              CheckResult("d", "1.2", "D", "error", 0.0, 0.5, message="crash"))
    report = Report("a1", "sub", checks)
    payloads = github.encoded_payloads(report)
    printed, recorded, maximum = reporter_view(",".join(payloads), {f"{k.upper()}_RESULTS": v
                                                                    for k, v in payloads.items()})
    assert printed == recorded and maximum == 10  # every point x2 makes 1.5 and 0.5 whole
    assert recorded == 1 + 4 + 1 + 0  # 0.5/1.5 of 3 units, all of B, 0.9 of 2 units but not full, D nothing


def test_large_checks_are_split_so_printed_scores_stay_exact():
    layout = github.runner_layout([("big", 50.0), ("small", 1.0)])
    assert [r.count for r in layout if r.check_id == "big"] == [16, 17, 17]
    assert all(r.count <= github.MAX_TESTS_PER_RUNNER for r in layout)
    report = Report("a1", "s", (CheckResult("big", "1", "Big", "failed", 23.0, 50.0),
                                CheckResult("small", "1", "Small", "passed", 1.0, 1.0)))
    payloads = github.encoded_payloads(report)
    printed, recorded, maximum = reporter_view(",".join(payloads), {f"{k.upper()}_RESULTS": v
                                                                    for k, v in payloads.items()})
    assert printed == recorded == 24 and maximum == 51


def test_github_without_its_variables_is_one_sentence(tmp_path):
    from click.testing import CliRunner

    from grader.cli import main

    (tmp_path / "mlp.py").write_text("")
    env = {k: v for k, v in os.environ.items() if not k.startswith("GITHUB_")}
    result = CliRunner(env={"GITHUB_OUTPUT": ""}).invoke(main, ["ci", "a1", str(tmp_path), "--emit", "github"],
                                                         env=env)
    assert result.exit_code == 2 and "needs $GITHUB_OUTPUT" in result.output


def test_annotations_point_at_the_students_line_and_escape_commands():
    check = CheckResult("x", "1.1", "Linear.forward", "error", 0.0, 2.0,
                        message="Linear.forward raised ValueError: bad\n::set-output name=x::y at mlp.py:31")
    lines = github.annotations(Report("a1", "s", (check,)), {"mlp.py": "src/mlp.py"})
    assert lines[0].startswith("::error file=src/mlp.py,line=31,title=1.1 Linear.forward::")
    assert "\n" not in lines[0] and "%0A::set-output" in lines[0]


def test_edited_workflows_are_flagged_for_the_staff(tmp_path):
    from grader.ci import tampered_ci_files

    repo = tmp_path / "repo"
    api.init("a1", repo, ci=True)
    assert tampered_ci_files(repo, "a1") == []
    workflow = repo / ".github" / "workflows" / "grade.yml"
    workflow.write_text(workflow.read_text().replace("dlgrade ci", "echo dlgrade ci"))
    (repo / "classroom50" / "autograde.sh").unlink()
    assert tampered_ci_files(repo, "a1") == [".github/workflows/grade.yml", "classroom50/autograde.sh"]


def test_the_real_grading_reporter_prints_what_it_records(tmp_path, zygote):
    """The reporter action's own code (a checkout with its node_modules, named by DLGRADE_REPORTER) reads the
    template workflow's outputs: each runner's printed points add up to the recorded total. Opt-in: nothing is
    downloaded by the tests."""
    checkout = os.environ.get("DLGRADE_REPORTER")
    if not checkout or not (Path(checkout) / "node_modules").is_dir() or not shutil.which("node"):
        import pytest

        pytest.skip("set DLGRADE_REPORTER to a checkout of classroom-resources/autograding-grading-reporter "
                    "with its node_modules (npm ci) to run the real reporter")
    repo = tmp_path / "repo"
    api.init("a1", repo, ci=True)
    shutil.copyfile(BUGGY_A1, repo / "mlp.py")
    reporter, summary, _ = run_workflow_grading_step(repo, tmp_path)
    env = {**os.environ, **reporter["env"], "INPUT_RUNNERS": reporter["runners"]}
    done = subprocess.run(["node", "src/main.js"], cwd=checkout, env=env, capture_output=True, text=True, timeout=60)
    printed = [float(p) for p in re.findall(r"Total points for \w+: ([0-9.]+)/", done.stdout)]
    recorded = re.search(r"::notice title=Autograding complete::Points ([0-9.]+)/([0-9.]+)", done.stdout)
    assert recorded, done.stdout[-2000:]
    assert len(printed) == len(reporter["runners"].split(","))
    assert abs(sum(printed) - float(recorded.group(1))) < 1e-9
    seed = int(re.search(r"--seed (\d+)", summary).group(1))
    report = api.check("a1", repo, seed=seed, zygote=zygote)
    assert abs(float(recorded.group(1)) / float(recorded.group(2)) - report.score / report.max_score) < \
        1 / float(recorded.group(2))

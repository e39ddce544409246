"""`dlgrade gradebook reconcile`: CI results that disagree with the staff grade are flagged, malformed ones too."""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from grader import api
from grader.batch.api import reconcile_ci
from grader.batch.gradebook import Gradebook
from grader.batch.reconcile import MAX_CI_BYTES
from grader.cli import main
from grader.report import classroom50, github, gradescope
from grader.result import CheckResult, Report

ENV = {"CLASSROOM": "c", "ASSIGNMENT": "a1", "USERNAME": "u", "SUBMISSION_TAG": "submit/1",
       "COMMIT_URL": "https://x/c", "RELEASE_URL": "https://x/r"}


def a1_report(partial: bool) -> Report:
    """An a1 report: every check passed, or the first one failed with half its points."""
    checks = []
    for i, c in enumerate(api.get_assignment("a1").checks):
        if partial and i == 0:
            checks.append(CheckResult(c.id, c.task, c.name, "failed", c.points / 2, c.points, message="wrong"))
        else:
            checks.append(CheckResult(c.id, c.task, c.name, "passed", c.points, c.points))
    return Report(assignment="a1", submission="x", checks=tuple(checks))


STAFF = {"alice": a1_report(partial=True), "bob": a1_report(partial=False)}
CLAIMED_BY_ALICE = a1_report(partial=False)  # alice's CI says full marks; the staff grade says otherwise


@pytest.fixture
def book(tmp_path) -> Path:
    path = tmp_path / "gb.sqlite"
    with Gradebook(path) as gb:
        run = gb.start_run("a1", "test", 1, "*", {}, {})
        for student, report in STAFF.items():
            gb.record(run, student, student, "test", "*", report)
        gb.finish_run(run, "finished")
    return path


def write(path: Path, content) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content if isinstance(content, str) else json.dumps(content))
    return path


def github_output(report: Report) -> str:
    """What `dlgrade ci --emit github` appends to $GITHUB_OUTPUT."""
    lines = [f"{runner}={payload}" for runner, payload in github.encoded_payloads(report).items()]
    return "\n".join(lines + [f"score={report.score:g}", f"max_score={report.max_score:g}"]) + "\n"


@pytest.mark.parametrize("kind", ["classroom50", "github", "gradescope"])
def test_an_agreeing_and_a_disagreeing_ci_result_of_each_kind(book, tmp_path, kind):
    ci = tmp_path / "ci"
    if kind == "classroom50":
        write(ci / "bob" / "result.json", classroom50.classroom50_result(STAFF["bob"], ENV))
        # alice's file claims bob's username: the folder the course put it in names the student, not the claim
        write(ci / "a1-alice" / "result.json", classroom50.classroom50_result(CLAIMED_BY_ALICE,
                                                                             {**ENV, "USERNAME": "bob"}))
    elif kind == "github":
        write(ci / "bob.txt", github_output(STAFF["bob"]))
        write(ci / "alice.txt", github_output(CLAIMED_BY_ALICE))
    else:
        write(ci / "bob" / "results.json", gradescope.gradescope_results(STAFF["bob"]))
        write(ci / "alice" / "results.json", gradescope.gradescope_results(CLAIMED_BY_ALICE))
    result = reconcile_ci(book, ci)
    assert result.agreed == ("bob",) and not result.without_ci
    [finding] = result.findings
    assert finding.student == "alice" and finding.kind == kind and "more than the staff grade" in finding.reason
    ci_score, ci_max = map(float, finding.ci.split("/"))
    staff_score, staff_max = map(float, finding.staff.split("/"))
    assert ci_score == ci_max == staff_max and staff_score < ci_score  # both numbers, in the CI's units
    assert finding.staff_points == f"{STAFF['alice'].score:g}/{STAFF['alice'].max_score:g}"


def test_the_same_report_agrees_in_every_kind(book, tmp_path):
    ci = tmp_path / "ci"
    write(ci / "c50" / "alice" / "result.json", classroom50.classroom50_result(STAFF["alice"], ENV))
    write(ci / "gh" / "alice.txt", github_output(STAFF["alice"]))
    one = json.dumps(github.reporter_payloads(STAFF["bob"])[next(iter(github.reporter_payloads(STAFF["bob"])))])
    write(ci / "gs" / "alice" / "results.json", gradescope.gradescope_results(STAFF["alice"]))
    result = reconcile_ci(book, ci)
    assert result.clean and result.agreed == ("alice",) and result.without_ci == ("bob",)
    write(ci / "gh" / "bob.json", one)  # one runner's payload alone: its maximum is not the assignment's
    [finding] = reconcile_ci(book, ci).findings
    assert finding.student == "bob" and "maximum differs" in finding.reason


MALFORMED = {
    "nan.json": '{"schema": "classroom50/result/v1", "score": NaN, "max-score": 10}',
    "huge.json": '{"schema": "classroom50/result/v1", "score": 1' + "0" * 5000 + ', "max-score": 10}',
    "bigfloat.json": '{"tests": [], "score": 1e400}',
    "string.json": '{"schema": "classroom50/result/v1", "score": "10", "max-score": 10}',
    "float50.json": '{"schema": "classroom50/result/v1", "score": 9.5, "max-score": 10}',
    "above.json": '{"schema": "classroom50/result/v1", "score": 11, "max-score": 10}',
    "bool.json": '{"tests": [{"score": true, "max_score": 1}]}',
    "list.json": "[1, 2, 3]",
    "deep.json": "[" * 100_000,
    "schema.json": '{"schema": "other/v9", "score": 1}',
    "notjson.json": "{not json",
    "base64.txt": "linear_forward=***not base64***\n",
    "payload.txt": "linear_forward=" + base64.b64encode(b'{"tests": "no"}').decode() + "\n",
    "binary.txt": b"\xff\xfe\x00garbage",
    "big.json": "{" + " " * (MAX_CI_BYTES + 10) + "}",
    "negative.json": '{"tests": [{"score": -5, "max_score": 1}]}',
}


def test_malformed_ci_files_are_findings_never_crashes(book, tmp_path):
    ci = tmp_path / "ci"
    for name, content in MALFORMED.items():
        write(ci / "alice" / name, content)
    os.symlink("/etc/passwd", ci / "alice" / "link.json")  # never followed
    result = reconcile_ci(book, ci)
    assert not result.agreed and len(result.findings) == len(MALFORMED)
    assert all(f.reason.startswith("malformed CI file: ") and f.student == "alice" for f in result.findings)
    reasons = {Path(f.path).name: f.reason for f in result.findings}
    assert "NaN" in reasons["nan.json"] and "too large" in reasons["huge.json"]
    assert "nested too deeply" in reasons["deep.json"] and "KiB" in reasons["big.json"]
    assert "base64" in reasons["base64.txt"] and "whole number" in reasons["float50.json"]
    assert all(len(r) < 200 and "\n" not in r for r in reasons.values())


def test_cli_lists_both_numbers_and_exits_1(book, tmp_path):
    ci = tmp_path / "ci"
    write(ci / "alice" / "result.json", classroom50.classroom50_result(CLAIMED_BY_ALICE, ENV))
    write(ci / "nobody" / "result.json", classroom50.classroom50_result(STAFF["bob"], {**ENV, "USERNAME": "zed"}))
    write(ci / "bob" / "result.json", '{"schema": "classroom50/result/v1", "score": NaN}')
    out = tmp_path / "findings.csv"
    result = CliRunner().invoke(main, ["gradebook", "reconcile", "--ci", str(ci), "--gradebook", str(book),
                                       "-o", str(out)])
    assert result.exit_code == 1, result.output
    assert "0 agree, 3 to look at" in result.output
    rows = out.read_text().splitlines()
    assert rows[0].startswith("student,ci_file") and len(rows) == 4
    assert any(r.startswith("alice,") and "more than the staff grade" in r for r in rows)
    assert any(r.startswith(",") and "names no student" in r for r in rows)
    assert any(r.startswith("bob,") and "malformed" in r for r in rows)
    missing = CliRunner().invoke(main, ["gradebook", "reconcile", "--ci", str(tmp_path / "nope"), "--gradebook",
                                        str(book)])
    assert missing.exit_code == 2 and "no such file or folder" in missing.output


def test_a_classroom50_result_is_matched_by_its_owner(book, tmp_path):
    """Classroom 50's runner names the student in ``owner``; a file named after nobody is matched by it."""
    doc = classroom50.classroom50_result(CLAIMED_BY_ALICE, {**ENV, "OWNER": "alice", "USERNAME": "alice"})
    doc.pop("usernames", None)
    doc["owner"] = "alice"
    write(tmp_path / "ci" / "collected-1" / "result.json", doc)
    result = reconcile_ci(book, tmp_path / "ci")
    assert [f.student for f in result.findings] == ["alice"], result  # her CI claims full marks: flagged

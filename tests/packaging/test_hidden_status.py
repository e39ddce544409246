"""A hidden check (student build) scores nothing, counts in no maximum, and every report says so."""

from __future__ import annotations

import json

import pytest

from grader.report import classroom50, github, render
from grader.report.points import score_line
from grader.result import CheckResult, Report

HIDDEN = CheckResult("b", "3.6", "[cnn_block] params", "hidden", 0.0, 11.0,
                     message="hidden in the student build: graded by the staff's build.")
PASSED = CheckResult("a", "3.1", "conv", "passed", 25.0, 25.0)
STAFF_LINE = "11 more points are graded by the staff"
ENV = {"CLASSROOM": "c", "ASSIGNMENT": "a3", "USERNAME": "s", "SUBMISSION_TAG": "submit/1", "COMMIT_URL": "u",
       "RELEASE_URL": "r"}


def test_hidden_checks_are_reported_and_not_counted():
    report = Report("a3", "sub/", (PASSED, HIDDEN), {"seed": 1})
    assert (report.score, report.max_score, report.hidden_points) == (25.0, 25.0, 11.0)
    text = render(report, "terminal")
    assert "· hidden" in text and "1 check(s) hidden in this student build" in text.replace("\n", " ")
    assert Report.from_dict(report.to_dict()).checks[1].status == "hidden"
    failing = Report("a3", "sub/", (*report.checks, CheckResult("c", "3.2", "dx", "failed", 0.0, 1.0)))
    assert not failing.all_passed and failing.max_score == 26.0


def test_the_score_line_names_hidden_points_and_never_says_all_passed():
    line = score_line(Report("a3", "sub/", (PASSED, HIDDEN)))
    assert line.text == ("25/25 on the checks this build can grade (every check this build grades passed); "
                         f"{STAFF_LINE}")
    assert not line.all_passed
    assert score_line(Report("a3", "sub/", (PASSED,))).text == "25/25 (all checks passed)"
    failing = score_line(Report("a3", "sub/", (PASSED, HIDDEN, CheckResult("c", "3.2", "dx", "failed", 0, 1))))
    assert failing.text == f"25/26 on the checks this build can grade (1 check(s) need work); {STAFF_LINE}"


@pytest.mark.parametrize("format_name", ["terminal", "markdown", "html", "json", "junit", "gradescope"])
def test_every_format_separates_hidden_points(format_name):
    """No report says "all checks passed" while a point is hidden; each names the staff's points."""
    hidden = render(Report("a3", "sub/", (PASSED, HIDDEN), {"seed": 1}), format_name)
    assert "all checks passed" not in hidden
    if format_name == "json":
        document = json.loads(hidden)
        assert (document["score"], document["max_score"], document["hidden_points"]) == (25.0, 25.0, 11.0)
    else:
        assert STAFF_LINE in " ".join(hidden.split()), hidden
    if format_name in ("terminal", "markdown", "html"):
        assert "all checks passed" in render(Report("a3", "sub/", (PASSED,)), format_name)
    if format_name == "gradescope":
        tests = json.loads(hidden)["tests"]
        assert [t["max_score"] for t in tests] == [25.0, 0.0] and "staff" in tests[1]["name"]
    if format_name == "junit":
        assert 'skipped="1"' in hidden and "<failure" not in hidden


def test_ci_formats_count_hidden_points_nowhere():
    report = Report("a3", "sub/", (PASSED, HIDDEN), {"seed": 1})
    result = classroom50.classroom50_result(report, ENV)
    assert classroom50.validate(result) == []
    assert (result["score"], result["max-score"]) == (25, 25)
    assert result["tests"][1]["max-score"] == 0 and "staff" in result["tests"][1]["message"]
    summary = github.step_summary(report)
    assert STAFF_LINE in summary and "all checks passed" not in summary
    assert github.annotations(report) == []
    names = [t["name"] for p in github.reporter_payloads(report).values() for t in p["tests"]]
    assert any("graded by the staff's build" in n for n in names)

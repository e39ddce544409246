"""A hidden check (student build) scores nothing, counts in no maximum, and is said so in the report."""

from __future__ import annotations

from grader.report import render
from grader.result import CheckResult, Report


def test_hidden_checks_are_reported_and_not_counted():
    report = Report("a3", "sub/", (
        CheckResult("a", "3.1", "conv", "passed", 2.0, 2.0),
        CheckResult("b", "3.6", "[cnn_block] params", "hidden", 0.0, 1.0,
                    message="hidden in the student build: graded by the staff's build."),
    ), {"seed": 1})
    assert (report.score, report.max_score, report.all_passed) == (2.0, 2.0, True)
    text = render(report, "terminal")
    assert "· hidden" in text and "1 check(s) hidden in this student build" in text.replace("\n", " ")
    assert Report.from_dict(report.to_dict()).checks[1].status == "hidden"
    failing = Report("a3", "sub/", (*report.checks, CheckResult("c", "3.2", "dx", "failed", 0.0, 1.0)))
    assert not failing.all_passed and failing.max_score == 3.0

"""The analytics page names the students whose submission did not run at all (a missing file, a syntax error):
a count alone sends the TA back to the gradebook to find who to write to."""

from __future__ import annotations

import re

from grader.batch.analytics import render_page
from grader.result import CheckResult, Report


def report(student: str, message: str | None) -> Report:
    return Report("a4", student, tuple(
        CheckResult(c, "4.1", f"check {c}", "error" if message else "passed", 0.0 if message else 1.0, 1.0,
                    message=message or "", duration_s=0.01) for c in ("c0", "c1", "c2")))


def test_submissions_where_nothing_ran_are_listed_with_their_students():
    syntax = "importing lenet.py failed: SyntaxError: expected ':' (lenet.py, line 34)"
    reports = {"10006": report("10006", syntax), "10014": report("10014", syntax),
               "10007": report("10007", "missing: lenet.py was not found in the submission."),
               "10001": report("10001", None)}
    page = render_page("a4", reports)
    section = re.search(r"Submissions where nothing ran(.*?)</table>", page, re.S).group(1)
    rows = re.findall(r"<tr><td>(.*?)</td><td><pre>(.*?)</pre>", section, re.S)
    assert [(who, why[:9]) for who, why in rows] == [("2: 10006, 10014", "importing"), ("1: 10007", "missing: ")]
    assert "10001" not in section

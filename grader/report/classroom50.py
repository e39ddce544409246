"""Classroom 50: the ``result.json`` its collector accepts.

Checked against Classroom 50's own runner and collector (docs/ci.md names the
files): the runner executes the course's ``autograder.py`` in the student's
checkout, discards its output if it exits non-zero, stamps ``owner``,
``assignment_type`` and ``datetime`` itself, and then both it and the collector
check that ``schema`` is ``classroom50/result/v1``; that ``classroom`` and
``assignment`` match the repository and ``owner`` is the repository's student
(there is no ``usernames`` field); that ``assignment_type`` is ``individual``;
that ``submission`` starts with ``submit/``; that ``commit``,
``release``, ``review`` and ``datetime`` are non-empty strings; and that
``score``, ``max-score`` and every test's ``score`` and ``max-score`` are
non-negative integers with score <= max-score, each test having a
``test-name`` and a boolean ``passed``. Points become whole units
(``points.check_units``), so the percentage changes only by rounding.
The runner provides the repository's facts in the environment.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping

from grader.errors import UsageError
from grader.report.points import check_units
from grader.report.sanitize import visible
from grader.result import Report

SCHEMA = "classroom50/result/v1"
ENVIRONMENT = {"classroom": "CLASSROOM", "assignment": "ASSIGNMENT", "username": "USERNAME",
               "submission": "SUBMISSION_TAG", "commit": "COMMIT_URL", "release": "RELEASE_URL"}


def classroom50_result(report: Report, env: Mapping[str, str], now: _dt.datetime | None = None) -> dict:
    """The ``result.json`` document for ``report``, with the repository's facts from ``env``."""
    missing = [name for name in ENVIRONMENT.values() if not env.get(name)]
    if missing:
        raise UsageError(f"--emit classroom50 needs the runner's environment: {', '.join(missing)} not set.")
    submission = env["SUBMISSION_TAG"]
    if not submission.startswith("submit/"):
        raise UsageError(f"SUBMISSION_TAG is {submission!r}; Classroom 50 submissions are tagged submit/...")
    # A check hidden in a student build is listed with 0 of 0 points and says so: its points are the staff's.
    rows = check_units(report)
    graded = [r for r in rows if not r.hidden]
    tests = [{"test-name": visible(f"{r.check.task} {r.check.name}"), "passed": r.check.status == "passed",
              "score": 0 if r.hidden else r.earned, "max-score": 0 if r.hidden else r.units,
              "message": visible(" ".join(p for p in (r.check.message, r.check.hint) if p))[:1000]}
             for r in rows]
    moment = (now or _dt.datetime.now(_dt.UTC)).isoformat(timespec="seconds")
    return {
        "schema": SCHEMA,
        "classroom": env["CLASSROOM"],
        "assignment": env["ASSIGNMENT"],
        # The runner overwrites these two with what it knows; we write them so the file is complete on its own.
        "owner": env.get("OWNER") or env["USERNAME"],
        "assignment_type": env.get("ASSIGNMENT_TYPE") or "individual",
        "submission": submission,
        "commit": env["COMMIT_URL"],
        "release": env["RELEASE_URL"],
        # The runner always passes REVIEW_URL, falling back itself to the commit; we do the same.
        "review": env.get("REVIEW_URL") or env["COMMIT_URL"],
        "datetime": moment,
        "score": sum(r.earned for r in graded),
        "max-score": sum(r.units for r in graded),
        "tests": tests,
    }


def validate(result: dict, env: Mapping[str, str] | None = None) -> list[str]:
    """Every way ``result`` breaks the collector's contract (empty when it is accepted)."""
    problems = []

    def whole(value) -> bool:
        return isinstance(value, int) and not isinstance(value, bool) and value >= 0

    if result.get("schema") != SCHEMA:
        problems.append("schema is not classroom50/result/v1")
    for key in ("classroom", "assignment", "commit", "release", "review", "datetime", "submission"):
        if not isinstance(result.get(key), str) or not result.get(key):
            problems.append(f"{key} is not a non-empty string")
    if not str(result.get("submission", "")).startswith("submit/"):
        problems.append("submission does not start with submit/")
    owner = result.get("owner")
    if not (isinstance(owner, str) and owner):
        problems.append("owner is not a non-empty string")
    if result.get("assignment_type") != "individual":
        problems.append("assignment_type is not individual")
    if env is not None:
        for key, variable in (("classroom", "CLASSROOM"), ("assignment", "ASSIGNMENT")):
            if result.get(key) != env.get(variable):
                problems.append(f"{key} does not match the repository")
        if str(owner).lower() != str(env.get("OWNER") or env.get("USERNAME")).lower():
            problems.append("owner does not match the repository")
    if not (whole(result.get("score")) and whole(result.get("max-score"))
            and result["score"] <= result["max-score"]):
        problems.append("score and max-score are not non-negative integers with score <= max-score")
    tests = result.get("tests")
    if not isinstance(tests, list):
        problems.append("tests is not a list")
        tests = []
    for i, test in enumerate(tests):
        if not isinstance(test, dict):
            problems.append(f"tests[{i}] is not an object")
            continue
        named = isinstance(test.get("test-name"), str) and test["test-name"]
        if not named or not isinstance(test.get("passed"), bool):
            problems.append(f"tests[{i}] lacks test-name or a boolean passed")
        if not (whole(test.get("score")) and whole(test.get("max-score")) and test["score"] <= test["max-score"]):
            problems.append(f"tests[{i}] score/max-score are not non-negative integers with score <= max-score")
    return problems

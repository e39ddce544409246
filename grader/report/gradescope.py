"""Gradescope: the ``results.json`` an autograder writes to ``/autograder/results/``.

Each check is a test with its name, number (the task), score, max_score,
status and output (the message and hint, control characters escaped);
checks a course marks hidden are shown ``after_published``; the student's
printed output stays hidden (``stdout_visibility``). A numeric detail a course
names (a4's test accuracy) also goes on the leaderboard.
"""

from __future__ import annotations

import json

from grader.report import register_format
from grader.report.points import score_line
from grader.report.sanitize import visible
from grader.result import Report

LEADERBOARD_DETAILS = {"test_accuracy": ("Test accuracy", "desc")}


def gradescope_results(report: Report, hidden: frozenset[str] = frozenset()) -> dict:
    """The results.json document; ``hidden`` holds check ids shown only after grades are published."""
    tests, leaderboard = [], []
    for check in report.checks:
        if check.status == "skipped":
            continue
        output = "\n".join(part for part in (check.message, check.hint and f"hint: {check.hint}") if part)
        hidden_here = check.status == "hidden"  # a student build: the staff's points, shown as 0 of 0 here
        tests.append({
            "name": visible(f"{check.task} {check.name}" + (" (graded by the staff)" if hidden_here else "")),
            "number": check.task,
            "score": check.score,
            "max_score": 0.0 if hidden_here else check.max_score,
            "status": "passed" if check.status == "passed" else "failed",
            "output": visible(output or check.status),
            "visibility": "after_published" if check.id in hidden else "visible",
        })
        for key, (name, order) in LEADERBOARD_DETAILS.items():
            value = check.details.get(key) if isinstance(check.details, dict) else None
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                leaderboard.append({"name": name, "value": round(float(value), 4), "order": order})
    seed = report.diagnostics.get("seed")
    return {
        "score": report.score,
        "output": f"dlgrade {report.assignment}: {score_line(report).text}"
                  + (f" (seed {seed})" if seed is not None else ""),
        "stdout_visibility": "hidden",
        "visibility": "visible",
        "tests": tests,
        **({"leaderboard": leaderboard} if leaderboard else {}),
    }


@register_format("gradescope")
def render_gradescope(report: Report) -> str:
    return json.dumps(gradescope_results(report), indent=2, allow_nan=False, default=str) + "\n"

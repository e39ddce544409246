"""GitHub Actions: the grading reporter's payload, the step summary, and annotations.

The reporter action (``autograding-grading-reporter``) reads, for each id in
its ``runners`` input, the environment variable ``<ID>_RESULTS``: base64 of a
JSON object ``{"version", "status", "max_score", "tests": [...]}``. It prints
each runner's score as ``passed tests / all tests * max_score`` but records the
sum of the tests' ``score`` fields. dlgrade makes the two agree for every
submission: one runner per check, each test worth exactly one unit
(``points.check_units``), so a check of 3 units is three tests of which the
earned ones pass, and a runner's ``max_score`` is its number of tests (at most
21, where that division and product are exact in floating point).
"""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass

from grader.report.literal import code_span, fence, plain
from grader.report.points import check_units, scale_for, score_line
from grader.report.sanitize import visible
from grader.result import Report

WHERE = re.compile(r"\bat (?:notebook )?([\w.\- ]+\.py):(\d+)")
# (p / n) * n is exact in binary floating point for every p <= n <= 21, so no runner holds more tests.
MAX_TESTS_PER_RUNNER = 21


@dataclass(frozen=True)
class Runner:
    """One reporter runner: ``count`` one-unit tests of a check, from its unit ``start`` on."""

    id: str
    check_id: str
    start: int
    count: int


def runner_layout(checks: list[tuple[str, float]]) -> list[Runner]:
    """The runners of an assignment whose checks are ``(id, points)``: one per check (split if large).

    The layout depends only on the assignment, so ``dlgrade init --ci`` can write the workflow's
    ``runners`` input and environment once, and every later grading fills the same runners.
    """
    scale = scale_for([points for _, points in checks])
    layout = []
    for check_id, points in checks:
        units = round(points * scale)
        parts = max(1, -(-units // MAX_TESTS_PER_RUNNER))
        for part in range(parts):
            start = part * units // parts
            count = (part + 1) * units // parts - start
            layout.append(Runner(check_id if parts == 1 else f"{check_id}_part{part + 1}", check_id, start, count))
    return layout


def assignment_layout(assignment) -> list[Runner]:
    return runner_layout([(c.id, c.points) for c in assignment.checks])


def _test_name(check, index: int, units: int) -> str:
    name = f"{check.task} {check.name}"
    return name if units == 1 else f"{name} [{index + 1}/{units}]"


def reporter_payloads(report: Report) -> dict[str, dict]:
    """Per runner, the JSON the reporter reads: one one-unit test per point unit of the check."""
    rows = {row.check.id: row for row in check_units(report)}
    layout = runner_layout([(row.check.id, row.check.max_score) for row in rows.values()])
    payloads = {}
    for runner in layout:
        row = rows[runner.check_id]
        check = row.check
        message = visible(" ".join(part for part in (check.message, check.hint) if part))[:1000]
        tests = []
        for index in range(runner.start, runner.start + runner.count):
            passed = index < row.earned
            name = _test_name(check, index, row.units)
            name += " (hidden: graded by the staff's build)" if row.hidden else ""
            tests.append({
                "name": visible(name),
                "status": "pass" if passed else ("error" if check.status in ("error", "timeout") else "fail"),
                "score": 1 if passed else 0,
                "message": "" if passed else message,
                "test_code": f"dlgrade check {report.assignment} --task {check.id}",
                "filename": "",
                "line_no": 0,
                "execution_time": f"{check.duration_s:.2f}s",
            })
        failed = any(t["status"] != "pass" for t in tests)
        payloads[runner.id] = {"version": 1, "status": "fail" if failed else "pass", "max_score": len(tests),
                               "tests": tests}
    return payloads


def encoded_payloads(report: Report) -> dict[str, str]:
    """``reporter_payloads`` as the base64 texts the grading step's outputs carry, by runner id."""
    return {runner: base64.b64encode(json.dumps(payload).encode()).decode()
            for runner, payload in reporter_payloads(report).items()}


def workflow_runners(assignment) -> tuple[str, str]:
    """The reporter step's ``runners`` input and its ``env`` lines (indented for the template)."""
    layout = assignment_layout(assignment)
    runners = ",".join(r.id for r in layout)
    env = "\n".join(f'          {r.id.upper()}_RESULTS: "${{{{ steps.dlgrade.outputs.{r.id} }}}}"' for r in layout)
    return runners, env


def step_summary(report: Report) -> str:
    """A Markdown summary for ``$GITHUB_STEP_SUMMARY``: the score, a table, each problem with its hint.

    GitHub renders the summary as Markdown with some HTML. Everything a submission can reach is shown
    literally (``grader.report.literal``): messages in fenced blocks, hints in code spans, names and cells
    escaped, so no student text adds a heading (a fake "36 / 36"), a link, an image or HTML.
    """
    line = score_line(report)
    lines = [f"## dlgrade {plain(report.assignment)}: {line.points}", "", f"Score: {plain(line.text)}", "",
             "| Task | Check | Points | Status |", "| --- | --- | --- | --- |"]
    for check in report.checks:
        if check.status == "skipped":
            continue
        mark = {"passed": "✅", "timeout": "⏱", "hidden": "·"}.get(check.status, "❌")
        score = "" if check.status == "hidden" else f"{check.score:g}/{check.max_score:g}"
        lines.append(f"| {plain(check.task)} | {plain(check.name)} | {score} | {mark} {plain(check.status)} |")
    problems = [c for c in report.checks if c.status not in ("passed", "skipped", "hidden")]
    for check in problems:
        lines += ["", f"**{plain(check.task)} {plain(check.name)}**:"]
        if check.message:
            lines += ["", fence(check.message)]
        if check.hint:
            lines += ["", f"hint: {code_span(check.hint)}"]
    seed = report.diagnostics.get("seed")
    if seed is not None:
        lines += ["", f"Reproduce locally: {code_span(f'dlgrade check {report.assignment} . --seed {seed}')}"]
    return "\n".join(lines) + "\n"


def _escape_data(text: str) -> str:
    """Workflow-command data escaping (%, CR, LF), after control characters are made visible."""
    return visible(text).replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def annotations(report: Report, files: dict[str, str] | None = None) -> list[str]:
    """``::error``/``::warning`` workflow commands for problems, at the student's file and line when known.

    ``files`` maps a graded file name to the path the student sees in the repository.
    """
    files = files or {}
    commands = []
    for check in report.checks:
        if check.status in ("passed", "skipped", "hidden"):
            continue
        level = "warning" if check.status == "undecided" else "error"
        properties = [f"title={_escape_property(f'{check.task} {check.name}')}"]
        match = WHERE.search(check.message)
        if match and match.group(1) in files:
            properties.insert(0, f"file={_escape_property(files[match.group(1)])},line={match.group(2)}")
        elif match:
            properties.insert(0, f"file={_escape_property(match.group(1))},line={match.group(2)}")
        text = " ".join(part for part in (check.message, check.hint and f"hint: {check.hint}") if part)
        commands.append(f"::{level} {','.join(properties)}::{_escape_data(text)}")
    return commands

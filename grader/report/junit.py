"""JUnit XML, which GitLab, Jenkins, Azure Pipelines and most other CIs display.

One ``testsuite`` per submission, one ``testcase`` per check (``classname``
is the task); failed checks carry a ``failure``, crashes and timeouts an
``error``, unselected checks ``skipped``. Student text is escaped three times over:
control characters and lone surrogates made visible, characters XML 1.0 forbids
or discourages (U+FFFF, U+FDD0...) escaped visibly (``sanitize.xml_text``), then
XML-escaped: one student's text can never make the document malformed.
"""

from __future__ import annotations

from xml.sax.saxutils import escape, quoteattr

from grader.report import register_format
from grader.report.points import score_line
from grader.report.sanitize import xml_text
from grader.result import UNSCORED, Report


def _attr(text: str) -> str:
    return quoteattr(xml_text(text))


def junit_xml(report: Report, suite_name: str | None = None) -> str:
    """The report as a JUnit XML document."""
    checks = report.checks
    failures = sum(c.status in ("failed", "undecided") for c in checks)
    errors = sum(c.status in ("error", "timeout") for c in checks)
    skipped = sum(c.status in UNSCORED for c in checks)  # hidden in a student build: the staff grade it
    total_time = sum(c.duration_s for c in checks)
    name = suite_name or f"dlgrade {report.assignment}"
    lines = ['<?xml version="1.0" encoding="UTF-8"?>',
             f'<testsuites name={_attr(name)} tests="{len(checks)}" failures="{failures}" errors="{errors}" '
             f'skipped="{skipped}" time="{total_time:.3f}">',
             f'  <testsuite name={_attr(name)} tests="{len(checks)}" failures="{failures}" errors="{errors}" '
             f'skipped="{skipped}" time="{total_time:.3f}">',
             f'    <properties><property name="score" value="{report.score:g}"/>'
             f'<property name="max_score" value="{report.max_score:g}"/>'
             f'<property name="hidden_points" value="{report.hidden_points:g}"/>'
             f'<property name="score_line" value={_attr(score_line(report).text)}/></properties>']
    for check in checks:
        head = (f'    <testcase classname={_attr(f"{report.assignment}.{check.task}")} name={_attr(check.name)} '
                f'time="{check.duration_s:.3f}"')
        text = escape(xml_text("\n".join(p for p in (check.message, check.hint and f"hint: {check.hint}") if p)))
        summary = _attr(f"{check.score:g}/{check.max_score:g}: {check.message[:200]}")
        if check.status == "passed":
            lines.append(head + "/>")
        elif check.status == "skipped":
            lines.append(head + "><skipped/></testcase>")
        elif check.status == "hidden":
            lines.append(head + f"><skipped message={_attr(check.message)}/></testcase>")
        elif check.status in ("error", "timeout"):
            lines.append(head + f'><error type="{check.status}" message={summary}>{text}</error></testcase>')
        else:
            lines.append(head + f'><failure type="{check.status}" message={summary}>{text}</failure></testcase>')
    lines += ["  </testsuite>", "</testsuites>", ""]
    return "\n".join(lines)


@register_format("junit")
def render_junit(report: Report) -> str:
    return junit_xml(report)

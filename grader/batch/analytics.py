"""The class analytics page: one self-contained HTML file a TA opens in any browser, offline.

Score histogram, per-check failure rates and durations (matplotlib PNGs embedded
as data URIs), the class's most common wrong outcomes per check with their
hints and counts, and pairs of students with suspiciously identical wrong
outputs. Nothing is fetched and nothing runs: the page has no script and a
Content-Security-Policy that forbids any; all student text is escaped.
"""

from __future__ import annotations

import base64
import statistics
from collections import Counter
from html import escape
from pathlib import Path

from grader.batch.similarity import common_mistakes, suspicious_pairs, whole_submission_failures
from grader.report.html import page
from grader.report.plot import figure_png, new_figure
from grader.report.sanitize import visible
from grader.result import Report

BAR, FAIL = "#4c72b0", "#c44e52"
WHO_SHOWN = 30  # students named per reason in "Submissions where nothing ran"


def _text(value) -> str:
    return escape(visible(str(value)))


def _img(png: bytes, alt: str) -> str:
    return f'<img alt="{escape(alt)}" src="data:image/png;base64,{base64.b64encode(png).decode()}">'


def _checks(reports: dict[str, Report]) -> list[tuple[str, str]]:
    """(id, label) of every check that ran for at least one student, in the assignment's order."""
    seen: dict[str, str] = {}
    ran = {c.id for r in reports.values() for c in r.checks if c.status != "skipped"}
    for report in reports.values():
        for check in report.checks:
            if check.id in ran:
                seen.setdefault(check.id, f"{check.task} {check.name}")
    return list(seen.items())


def score_histogram(reports: dict[str, Report]) -> bytes:
    figure = new_figure()
    axis = figure.add_subplot()
    scores = [r.score for r in reports.values()]
    top = max((r.max_score for r in reports.values()), default=1) or 1
    axis.hist(scores, bins=min(20, max(5, int(top) + 1)), range=(0, top), color=BAR, edgecolor="white")
    axis.set_xlabel(f"score (out of {top:g})")
    axis.set_ylabel("students")
    axis.set_title("Scores")
    return figure_png(figure)


def failure_rates(reports: dict[str, Report], checks) -> bytes:
    figure = new_figure(6.4, 0.8 + 0.22 * len(checks))
    axis = figure.add_subplot()
    rates = []
    for check_id, _ in checks:
        ran = [c for r in reports.values() for c in r.checks if c.id == check_id and c.status != "skipped"]
        rates.append(sum(c.status != "passed" for c in ran) / len(ran) if ran else 0.0)
    axis.barh([label for _, label in checks], rates, color=FAIL)
    axis.set_xlim(0, 1)
    axis.invert_yaxis()
    axis.set_xlabel("fraction of students not passing")
    axis.set_title("Failure rate per check")
    axis.tick_params(axis="y", labelsize=7)
    return figure_png(figure)


def durations(reports: dict[str, Report], checks) -> bytes:
    figure = new_figure(6.4, 0.8 + 0.22 * len(checks))
    axis = figure.add_subplot()
    data = [[c.duration_s for r in reports.values() for c in r.checks if c.id == check_id and c.status != "skipped"]
            or [0.0] for check_id, _ in checks]
    axis.boxplot(data, orientation="horizontal", tick_labels=[label for _, label in checks], showfliers=True)
    axis.invert_yaxis()
    axis.set_xlabel("seconds (parent-measured, per student)")
    axis.set_title("Duration per check")
    axis.tick_params(axis="y", labelsize=7)
    return figure_png(figure)


def render_page(assignment: str, reports: dict[str, Report], missing: list[str] | None = None,
                min_checks: int = 3) -> str:
    """The whole page as HTML text."""
    checks = _checks(reports)
    scores = [r.score for r in reports.values()]
    top = max((r.max_score for r in reports.values()), default=0)
    body = [f"<h1>dlgrade {_text(assignment)}: class analytics</h1>",
            f"<p>{len(reports)} students graded"
            + (f", {len(missing)} missing" if missing else "")
            + (f"; mean {statistics.mean(scores):.2f}, median {statistics.median(scores):g} out of {top:g}"
               if scores else "") + ".</p>"]
    if reports:
        body += ["<h2>Scores</h2>", _img(score_histogram(reports), "score histogram"),
                 "<h2>Failure rate per check</h2>", _img(failure_rates(reports, checks), "failure rate per check"),
                 "<h2>Duration per check</h2>", _img(durations(reports, checks), "duration per check")]
    whole = whole_submission_failures(reports)
    if whole:
        body.append("<h2>Submissions where nothing ran</h2><p>Every check failed the same way (counted once here, "
                    "not per check below).</p><table><tr><th>Students</th><th>Why</th></tr>")
        for message, count in Counter(whole.values()).most_common():  # who, so that the TA knows whom to write to
            who = sorted(s for s, m in whole.items() if m == message)
            names = ", ".join(who[:WHO_SHOWN]) + (f" and {len(who) - WHO_SHOWN} more" if len(who) > WHO_SHOWN else "")
            body.append(f"<tr><td>{count}: {_text(names)}</td><td><pre>{_text(message[:600])}</pre></td></tr>")
        body.append("</table>")
    mistakes = common_mistakes({s: r for s, r in reports.items() if s not in whole})
    body.append("<h2>Most common wrong outcomes per check</h2>")
    if mistakes:
        body.append("<table><tr><th>Check</th><th>Students</th><th>What they were told</th><th>Hint</th></tr>")
        for check_id, label in checks:
            for m in mistakes.get(check_id, []):
                body.append(f"<tr><td>{_text(label)}</td><td>{m.count}</td><td><pre>{_text(m.message[:600])}</pre>"
                            f"</td><td>{_text(m.hint)}</td></tr>")
        body.append("</table>")
    else:
        body.append("<p>No wrong outcome: every check passed for every student.</p>")
    pairs = suspicious_pairs(reports, min_checks=min_checks)
    body.append(f"<h2>Students with identical rare wrong outputs (on {min_checks} or more checks)</h2>")
    if pairs:
        body.append("<table><tr><th>Student</th><th>Student</th><th>Checks with the same wrong output</th></tr>")
        for p in pairs:
            body.append(f"<tr><td>{_text(p.first)}</td><td>{_text(p.second)}</td>"
                        f"<td>{len(p.checks)}: {_text(', '.join(p.checks))}</td></tr>")
        body.append("</table><p>Same seed, same rare wrong values: a lead to look at, not a proof.</p>")
    else:
        body.append("<p>None found.</p>")
    if missing:
        body.append(f"<h2>Missing</h2><p>{_text(', '.join(missing))}</p>")
    return page(f"dlgrade {assignment}: class analytics", "\n".join(body))


def write_page(assignment: str, reports: dict[str, Report], path: Path, missing: list[str] | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_page(assignment, reports, missing), encoding="utf-8")
    return path

"""The class analytics page: one self-contained HTML file a TA opens in any browser, offline.

Score histogram, per-check failure rates and durations (matplotlib PNGs embedded
as data URIs), who did not pass each check, the class's most common wrong
outcomes per check with their hints, counts and students, pairs of students
with suspiciously identical wrong outputs, and the most similar pairs of code
(``grader.batch.similar_code``). Each student named links to their feedback
page (the ``feedback`` export's file names) when the page is told where it is.
Nothing is fetched and nothing runs: the page has no script and a
Content-Security-Policy that forbids any; all student text is escaped.
"""

from __future__ import annotations

import base64
import statistics
from collections import Counter
from html import escape
from pathlib import Path
from urllib.parse import quote

from grader.batch.similarity import common_mistakes, failures, suspicious_pairs, whole_submission_failures
from grader.report.html import page
from grader.report.plot import figure_png, new_figure
from grader.report.sanitize import visible
from grader.result import Report

BAR, FAIL = "#4c72b0", "#c44e52"
WHO_SHOWN = 30  # students named per cell ("and N more" after them)
SIMILAR_SHOWN = 10  # pairs of similar code shown (all of them: `dlgrade gradebook similar`)


def _text(value) -> str:
    return escape(visible(str(value)))


class _People:
    """Names students as ``id (name)``, each a link to their feedback page when ``feedback`` (a relative URL
    prefix such as ``feedback/``) is given; everything escaped."""

    def __init__(self, names: dict[str, str] | None, feedback: str | None, students=()):
        from grader.batch.exports import file_names  # the feedback export's own names, clashes resolved alike

        self.names, self.feedback = names or {}, feedback
        self.files = file_names(students)

    def one(self, student: str) -> str:
        from grader.batch.exports import safe_name

        label = _text(people_label(student, self.names))
        if self.feedback is None:
            return label
        href = quote(f"{self.feedback}{self.files.get(student) or safe_name(student)}.html", safe="/._-@+")
        return f'<a href="{escape(href, quote=True)}">{label}</a>'

    def many(self, students) -> str:
        students = list(students)
        shown = ", ".join(self.one(s) for s in students[:WHO_SHOWN])
        return shown + (f" and {len(students) - WHO_SHOWN} more" if len(students) > WHO_SHOWN else "")


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


def score_histogram(scores: list[float], top: float) -> bytes:
    figure = new_figure()
    axis = figure.add_subplot()
    top = top or 1
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
                min_checks: int = 3, names: dict[str, str] | None = None, feedback: str | None = None,
                similar=None, grades: dict[str, tuple[float, float]] | None = None) -> str:
    """The whole page as HTML text.

    ``names`` maps ids to names; ``feedback`` is the URL of the feedback pages' folder relative to this page
    (``feedback/``), to link each student; ``similar`` a ``similar_code.ClassSimilarity`` to show its top pairs;
    ``grades`` each student's grade of record as (total, max) (late penalty and the staff's changes applied;
    default: the grader's scores), which the scores' histogram, mean and median count.
    """
    people = _People(names, feedback, reports)
    checks = _checks(reports)
    grades = grades or {s: (r.score, r.max_score) for s, r in reports.items()}
    scores = [total for total, _ in grades.values()]
    top = max((most for _, most in grades.values()), default=0)
    body = [f"<h1>dlgrade {_text(assignment)}: class analytics</h1>",
            f"<p>{len(reports)} students graded"
            + (f", {len(missing)} missing" if missing else "")
            + (f"; mean {statistics.mean(scores):.2f}, median {statistics.median(scores):g} out of {top:g}"
               if scores else "") + ".</p>"]
    if reports:
        body += ["<h2>Scores</h2>", _img(score_histogram(scores, top), "score histogram"),
                 "<h2>Failure rate per check</h2>", _img(failure_rates(reports, checks), "failure rate per check"),
                 "<h2>Duration per check</h2>", _img(durations(reports, checks), "duration per check")]
    whole = whole_submission_failures(reports)
    if whole:
        body.append("<h2>Submissions where nothing ran</h2><p>Every check failed the same way (counted once here, "
                    "not per check below).</p><table><tr><th>Students</th><th>Why</th></tr>")
        for message, count in Counter(whole.values()).most_common():  # who, so that the TA knows whom to write to
            who = sorted(s for s, m in whole.items() if m == message)
            body.append(f"<tr><td>{count}: {people.many(who)}</td><td><pre>{_text(message[:600])}</pre></td></tr>")
        body.append("</table>")
    rest = {s: r for s, r in reports.items() if s not in whole}
    failed = failures(rest)
    body.append("<h2>Who did not pass each check</h2>")
    if failed:
        body.append("<table><tr><th>Check</th><th>Students</th></tr>")
        for check_id, label in checks:
            if check_id in failed:
                body.append(f"<tr><td>{_text(label)}</td><td>{len(failed[check_id])}: "
                            f"{people.many(failed[check_id])}</td></tr>")
        body.append("</table>")
    else:
        body.append("<p>Everyone passed every check (or nothing ran: above).</p>")
    mistakes = common_mistakes(rest)
    body.append("<h2>Most common wrong outcomes per check</h2>")
    if mistakes:
        body.append("<table><tr><th>Check</th><th>Students</th><th>What they were told</th><th>Hint</th></tr>")
        for check_id, label in checks:
            for m in mistakes.get(check_id, []):
                body.append(f"<tr><td>{_text(label)}</td><td>{m.count}: {people.many(m.students)}</td>"
                            f"<td><pre>{_text(m.message[:600])}</pre></td><td>{_text(m.hint)}</td></tr>")
        body.append("</table>")
    else:
        body.append("<p>No wrong outcome: every check passed for every student.</p>")
    pairs = suspicious_pairs(reports, min_checks=min_checks)
    body.append(f"<h2>Students with identical rare wrong outputs (on {min_checks} or more checks)</h2>")
    if pairs:
        body.append("<table><tr><th>Student</th><th>Student</th><th>Checks with the same wrong output</th></tr>")
        for p in pairs:
            body.append(f"<tr><td>{people.one(p.first)}</td><td>{people.one(p.second)}</td>"
                        f"<td>{len(p.checks)}: {_text(', '.join(p.checks))}</td></tr>")
        body.append("</table><p>Same seed, same rare wrong values: a lead to look at, not a proof.</p>")
    else:
        body.append("<p>None found.</p>")
    if similar is not None:
        body += _similar_section(similar, people)
    if missing:
        body.append(f"<h2>Missing</h2><p>{_text(', '.join(people_label(s, names) for s in missing))}</p>")
    return page(f"dlgrade {assignment}: class analytics", "\n".join(body))


def people_label(student: str, names: dict[str, str] | None) -> str:
    name = (names or {}).get(student, "")
    return f"{student} ({name})" if name else student


def _similar_section(similar, people: _People) -> list[str]:
    """The top pairs of similar code (identical ones first), with how they were found."""
    shown = similar.pairs[:SIMILAR_SHOWN]
    out = [f"<h2>Similar code (at least {similar.minimum:.0%}; identical first)</h2>"]
    if shown:
        out.append("<table><tr><th>Student</th><th>Student</th><th>Similarity</th><th>Same files</th></tr>")
        for p in shown:
            out.append(f"<tr><td>{people.one(p.first)}</td><td>{people.one(p.second)}</td>"
                       f"<td>{p.similarity:.0%}</td><td>{'yes' if p.identical else ''}</td></tr>")
        out.append("</table>")
    else:
        out.append("<p>None found.</p>")
    more = f" {len(similar.pairs) - len(shown)} more: <code>dlgrade gradebook similar</code>." \
        if len(similar.pairs) > len(shown) else ""
    out.append(f"<p>{similar.compared} submissions compared with comments, formatting and names ignored"
               f"{' and the starter code subtracted' if similar.template else ' (starter code not found)'}. "
               f"Similar code is a lead to read, not proof.{more}</p>")
    if similar.without_code:
        out.append(f"<p>No code kept for {len(similar.without_code)} student(s) (graded before dlgrade kept it): "
                   f"rerun the same <code>dlgrade grade</code> command to keep it.</p>")
    return out


def write_page(assignment: str, reports: dict[str, Report], path: Path, missing: list[str] | None = None,
               names: dict[str, str] | None = None, feedback: str | None = None, similar=None,
               grades: dict[str, tuple[float, float]] | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_page(assignment, reports, missing, names=names, feedback=feedback, similar=similar,
                                grades=grades), encoding="utf-8")
    return path

"""Per-student feedback pages of a class: the report, the student's name, the staff's changes, true rerun advice.

The page is the ``markdown`` or ``html`` report of the student's latest result
with three differences, so that a student can act on it:

- its title names the student (``Jane Doe (12345)``), not the staging folder;
- checks the staff changed show the points of record, and a "Staff notes"
  block under the title gives the grade of record and every change with its
  comment, who and when (``overrides.FinalGrade.notes``);
- the rerun advice is true in the build the student has: the course's student
  build accepts only its public seeds (``packaging.build.PUBLIC_SEEDS`` unless
  the course built it with others), so a class seed is never offered as
  ``--seed``; a public one is.
"""

from __future__ import annotations

from dataclasses import replace

from grader.report.html import text as html_text
from grader.report.literal import plain as md_cell
from grader.result import Report

DEFAULT_PUBLIC_SEEDS = (1, 2, 3)  # grader.packaging.build.PUBLIC_SEEDS (not imported: batch stays off packaging)


def seed_advice(assignment: str, seed, public: tuple[int, ...] = DEFAULT_PUBLIC_SEEDS) -> str:
    """What the student can run to check again, true in the student build (plain text, no markup)."""
    if seed is None:
        return f"Check your work again with `dlgrade check {assignment} .`."
    if seed in public:
        return (f"Graded with seed {seed}, one of the public seeds: `dlgrade check {assignment} . --seed {seed}` "
                f"runs the same inputs.")
    seeds = ", ".join(map(str, public))
    return (f"Graded with seed {seed}, the staff's seed for the class. Your copy of dlgrade (the course's student "
            f"build) accepts only its public seeds ({seeds}, unless your course chose others), so it cannot rerun "
            f"seed {seed}: run `dlgrade check {assignment} .` and it picks a public seed. The input values, and so "
            f"the numbers in the messages, differ from seed to seed; which cases each check tests does not.")


def title(student: str, name: str) -> str:
    return f"{name} ({student})" if name else student


def record_report(report: Report, final) -> Report:
    """``report`` with the points of record of the checks the staff changed, and without its seed line."""
    checks = []
    for check in report.checks:
        record = final.check(check.id)
        if record is None or record.override is None:
            checks.append(check)
            continue
        staff = "excused by the staff" if record.excused else (f"set to {record.points:g}/{record.max:g} by the "
                                                                f"staff (the grader gave {check.score:g}/"
                                                                f"{check.max_score:g})")
        message = f"[{staff}: {record.override.comment}]" + (f"\n{check.message}" if check.message else "")
        checks.append(replace(check, score=record.points, max_score=record.max, message=message))
    diagnostics = {k: v for k, v in report.diagnostics.items() if k != "seed"}
    return replace(report, checks=tuple(checks), diagnostics=diagnostics)


def markdown_page(student: str, name: str, report: Report, final) -> str:
    from grader.report import render

    body = render(replace(record_report(report, final), submission=title(student, name)), "markdown")
    head, _, rest = body.partition("\n\n")
    notes = final.notes()
    block = []
    if notes:
        block += ["## Staff notes", "", f"**Grade: {final.total_text()}** (the grader's "
                  f"{final.raw:g}/{final.raw_max:g})", ""] + [f"- {md_cell(n)}" for n in notes] + [""]
    block += [seed_advice(report.assignment, report.diagnostics.get("seed")), ""]  # our text: no student's
    end = [f"**Grade of record: {final.total_text()}** (with the staff notes above)", ""] if notes else []
    return "\n".join([head, "", *block, rest.rstrip("\n"), "", *end])


def html_page(student: str, name: str, report: Report, final) -> str:
    from html import escape

    from grader.report import render

    body = render(replace(record_report(report, final), submission=title(student, name)), "html")
    notes = final.notes()
    block = []
    if notes:
        block += ["<h2>Staff notes</h2>", f"<p><b>Grade: {html_text(final.total_text())}</b> (the grader's "
                  f"{final.raw:g}/{final.raw_max:g})</p>", "<ul>", *[f"<li>{html_text(n)}</li>" for n in notes],
                  "</ul>"]
    advice = seed_advice(report.assignment, report.diagnostics.get("seed"))
    parts = advice.split("`")  # code spans in the advice (its own text: the assignment id is escaped like all)
    block.append("<p>" + "".join(f"<code>{escape(p)}</code>" if i % 2 else escape(p)
                                 for i, p in enumerate(parts)) + "</p>")
    head, marker, rest = body.partition("</h1>")
    if notes:
        end = f"<p><b>Grade of record: {html_text(final.total_text())}</b> (with the staff notes above)</p>"
        rest = rest.replace("\n</body>", f"\n{end}\n</body>", 1)
    return head + marker + "\n" + "\n".join(block) + rest

"""Exports of the gradebook's latest grades: CSV, Canvas, Gradescope, JUnit XML, per-student feedback.

Each takes the latest graded submission per student (``Gradebook.latest``)
plus the roster's missing students, and writes files; none reruns anything.

- ``csv``: one row per student, first column ``student``, one column per check id, ``total``, ``max``, then
  ``commit`` and ``flags`` for grades of a repository's commit (``dlgrade grade --deadline``; flags are
  ``rewritten-history``, ``ci-file-changed:PATH``, ``no-commit-before-deadline``, ``not-cloned``, ``;``-separated),
  and last ``status`` (``graded``, ``missing``, or ``not graded`` for a repository that could not be cloned).
- ``canvas``: Canvas's gradebook import layout: ``Student``, ``ID``, ``SIS User ID``, ``SIS Login ID``,
  ``Section``, then one column for the assignment; a ``Points Possible`` row under the header.
- ``gradescope``: ``PATH/STUDENT/results.json`` in the autograder results format (``score``, ``tests`` with
  ``name``, ``number``, ``score``, ``max_score``, ``status``, ``output``, ``visibility``).
- ``junit``: one ``<testsuite>`` per student, one ``<testcase>`` per check.
- ``feedback``: ``PATH/STUDENT.md`` and ``PATH/STUDENT.html`` with the terminal report's content.
- ``analytics``: the class page (``grader.batch.analytics``).

Every file is valid and inert for its reader whatever a student put in an id, a
name or a message: CSV cells go through ``grader.report.spreadsheet`` (no formula
in any cell or part of one), XML through ``sanitize.xml_text``, JSON, Markdown and
HTML through ``visible`` and the report formats. A new export writes CSV with
``open_csv`` from there.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import defaultdict
from pathlib import Path
from xml.etree import ElementTree as ET

from grader.batch.gradebook import Gradebook, Graded
from grader.errors import UsageError
from grader.report.sanitize import visible, xml_text
from grader.report.spreadsheet import defuse, open_csv
from grader.result import Report

FORMATS = ("csv", "canvas", "gradescope", "junit", "feedback", "analytics")
_SAFE = re.compile(r"[^A-Za-z0-9._@+-]+")


def safe_name(student: str) -> str:
    """A file name for ``student`` (ids come from file names an LMS wrote, so they are not trusted as paths)."""
    name = _SAFE.sub("_", student).strip("._") or "student"
    return name[:120]


def file_names(students) -> dict[str, str]:
    """A distinct file name per student: ``safe_name``, with a digest of the id added where two would meet.

    ``.alice``, ``=alice`` and ``Alice`` all make ``alice``-like names (the last on a case-insensitive disk), so
    one student's id could choose the file another student's feedback goes to. The one student whose id is
    already its safe name keeps it; every other student of a shared name gets ``NAME-xxxxxxxx``.
    """
    names = {s: safe_name(s) for s in students}
    for width in (8, 64):  # 64: an id chosen to equal another's NAME-xxxxxxxx gets the whole digest instead
        groups: dict[str, list[str]] = defaultdict(list)
        for student, name in names.items():
            groups[name.casefold()].append(student)
        for group in (g for g in groups.values() if len(g) > 1):
            owners = [s for s in group if names[s] == s]
            for student in group:
                if len(owners) != 1 or student != owners[0]:
                    digest = hashlib.sha256(student.encode("utf-8", "surrogatepass")).hexdigest()
                    names[student] = f"{safe_name(student)[:100]}-{digest[:width]}"
    return names


def _check_columns(graded: list[Graded]) -> list[tuple[str, float]]:
    columns: dict[str, float] = {}
    for g in graded:
        for check in g.report.checks:
            columns.setdefault(check.id, check.max_score)
    return list(columns.items())


# The names other modules imported before ``grader.report.spreadsheet`` (the one place) existed: new code
# writes ``with open_csv(path) as writer`` from there, which defuses every cell by itself.
_formula_safe = defuse


def _open_csv(path: Path):
    path.parent.mkdir(parents=True, exist_ok=True)
    return open(path, "w", newline="", encoding="utf-8")


def _repository_cells(record: dict | None) -> list[str]:
    """``commit`` and ``flags`` for a grade of a repository's commit (empty for any other submission)."""
    from grader.batch.repositories import flags

    if not record:
        return ["", ""]
    return [record.get("commit") or "", ";".join(flags(record))]


def export_csv(graded: list[Graded], missing: dict[str, str], path: Path,
               not_graded: dict[str, dict] | None = None, names: dict[str, str] | None = None) -> list[Path]:
    columns = _check_columns(graded)
    with open_csv(path) as writer:  # every text cell defused, numbers kept numbers
        writer.writerow(["student", "name", *[c for c, _ in columns], "total", "max", "commit", "flags", "status"])
        for g in graded:
            scores = {c.id: c for c in g.report.checks}
            writer.writerow([g.student, g.name,
                             *[float(scores[c].score) if c in scores and scores[c].status != "skipped" else ""
                               for c, _ in columns],
                             float(g.report.score), float(g.report.max_score), *_repository_cells(g.repository),
                             "graded"])
        for student, record in sorted((not_graded or {}).items()):  # no grade: neither a score nor a zero
            writer.writerow([student, (names or {}).get(student, ""),
                             *[""] * len(columns), "", "", *_repository_cells(record), "not graded"])
        for student, name in sorted(missing.items()):
            writer.writerow([student, name, *[""] * len(columns), 0, "", "", "", "missing"])
    return [path]


def export_canvas(graded: list[Graded], missing: dict[str, str], path: Path, assignment: str) -> list[Path]:
    column = f"dlgrade {assignment}"
    possible = max((g.report.max_score for g in graded), default=0)
    with open_csv(path) as writer:
        writer.writerow(["Student", "ID", "SIS User ID", "SIS Login ID", "Section", column])
        writer.writerow(["    Points Possible", "", "", "", "", float(possible)])
        for g in graded:
            writer.writerow([g.name or g.student, g.student, "", "", "", float(g.report.score)])
        for student, name in sorted(missing.items()):
            writer.writerow([name or student, student, "", "", "", 0])
    return [path]


def gradescope_results(report: Report) -> dict:
    """One submission's results in Gradescope's autograder results.json layout."""
    from grader.report.markdown import more_printed, printed_lines

    tests = []
    for check in report.checks:
        if check.status == "skipped":
            continue
        text = "\n".join(part for part in (check.message, f"hint: {check.hint}" if check.hint else "") if part)
        if check.output.strip():
            lines, more = printed_lines(check.output)
            text += "\nyour code printed:\n" + "\n".join(lines) + more_printed(check.output, more)
        tests.append({"name": visible(f"{check.task} {check.name}"), "number": visible(check.id), "score": check.score,
                      "max_score": check.max_score, "status": "passed" if check.status == "passed" else "failed",
                      "output": visible(text), "visibility": "visible"})
    seed = report.diagnostics.get("seed")
    return {"score": report.score, "execution_time": round(float(report.diagnostics.get("duration_s") or 0), 3),
            "output": visible(f"dlgrade {report.assignment}, seed {seed}"), "visibility": "visible",
            "stdout_visibility": "hidden", "tests": tests}


def export_gradescope(graded: list[Graded], path: Path) -> list[Path]:
    written = []
    names = file_names(g.student for g in graded)
    for g in graded:
        target = path / names[g.student] / "results.json"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(gradescope_results(g.report), indent=2, allow_nan=False) + "\n",
                          encoding="utf-8")
        written.append(target)
    return written


def export_junit(graded: list[Graded], path: Path) -> list[Path]:
    suites = ET.Element("testsuites", name="dlgrade")
    for g in graded:
        checks = [c for c in g.report.checks]
        suite = ET.SubElement(suites, "testsuite", name=xml_text(g.student), tests=str(len(checks)),
                              failures=str(sum(c.status in ("failed", "undecided") for c in checks)),
                              errors=str(sum(c.status in ("error", "timeout") for c in checks)),
                              skipped=str(sum(c.status == "skipped" for c in checks)),
                              time=f"{sum(c.duration_s for c in checks):.3f}")
        for c in checks:
            case = ET.SubElement(suite, "testcase", classname=xml_text(f"{g.report.assignment}.{g.student}"),
                                 name=xml_text(f"{c.task} {c.name} ({c.score:g}/{c.max_score:g})"),
                                 time=f"{c.duration_s:.3f}")
            body = xml_text("\n".join(p for p in (c.message, f"hint: {c.hint}" if c.hint else "") if p))
            if c.status == "skipped":
                ET.SubElement(case, "skipped", message=xml_text(c.message))
            elif c.status in ("failed", "undecided"):
                ET.SubElement(case, "failure", message=xml_text(c.message[:500])).text = body
            elif c.status != "passed":
                ET.SubElement(case, "error", message=xml_text(c.message[:500]), type=xml_text(c.status)).text = body
            if c.output.strip():
                ET.SubElement(case, "system-out").text = xml_text(c.output)
    path.parent.mkdir(parents=True, exist_ok=True)
    ET.ElementTree(suites).write(path, encoding="utf-8", xml_declaration=True)
    return [path]


def export_feedback(graded: list[Graded], path: Path) -> list[Path]:
    from grader.report import render

    path.mkdir(parents=True, exist_ok=True)
    written = []
    names = file_names(g.student for g in graded)
    for g in graded:
        for fmt, suffix in (("markdown", ".md"), ("html", ".html")):
            target = path / f"{names[g.student]}{suffix}"
            target.write_text(render(g.report, fmt), encoding="utf-8")
            written.append(target)
    return written


def export(book: Gradebook, format_name: str, path: Path, assignment: str | None = None) -> list[Path]:
    """Write ``format_name`` for the latest grades of ``assignment`` (the only one in the gradebook if omitted)."""
    if format_name not in FORMATS:
        raise UsageError(f"unknown export format {format_name!r}; use one of {', '.join(FORMATS)}")
    assignments = sorted({g.report.assignment for g in book.latest()})
    if assignment is None:
        if len(assignments) > 1:
            raise UsageError(f"the gradebook holds {', '.join(assignments)}: choose one with --assignment")
        assignment = assignments[0] if assignments else None
    if assignment is None or assignment not in assignments:
        raise UsageError(f"nothing graded for {assignment or 'any assignment'} in the gradebook {book.path}")
    graded = book.latest(assignment)
    names = book.names(assignment)
    not_graded = {s: r for s, r in book.not_cloned(assignment).items() if s not in {g.student for g in graded}}
    missing = {s: n for s, n in names.items() if s not in {g.student for g in graded} and s not in not_graded}
    path = Path(path)
    if format_name == "csv":
        return export_csv(graded, missing, path, not_graded, names)
    if format_name == "canvas":
        return export_canvas(graded, missing, path, assignment)
    if format_name == "gradescope":
        return export_gradescope(graded, path)
    if format_name == "junit":
        return export_junit(graded, path)
    if format_name == "analytics":
        from grader.batch.analytics import write_page

        return [write_page(assignment, {g.student: g.report for g in graded}, path, sorted(missing))]
    return export_feedback(graded, path)

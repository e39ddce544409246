"""Exports of the gradebook's latest grades: CSV, Canvas, Gradescope, JUnit XML, per-student feedback.

Each takes the latest graded submission per student (``Gradebook.latest``)
plus the roster's missing students, and writes files; none reruns anything.

Every grade written is the grade of record (``grade_of_record``: the late penalty in force and the staff's
overrides and excuses applied by ``grader.batch.overrides.final_grade``).

- ``csv``: one row per student: ``student`` (the id), ``name``, one column per check id (its points of record,
  ``excused``, or empty when not run), ``raw`` (the grader's score), ``late`` (days late; ``true`` where only the
  LMS's marker says late; empty when unknown), ``penalty`` (points), ``override`` (the staff's changes,
  ``backward=1.5;adam=excused;total=40``), ``total`` (the grade of record; ``EX`` when the whole assignment is
  excused), ``max``, then ``commit`` and ``flags`` for grades of a repository's commit (``dlgrade grade
  --deadline``; flags are ``rewritten-history``, ``ci-file-changed:PATH``, ``no-commit-before-deadline``,
  ``not-cloned``, ``;``-separated), and last ``status`` (``graded``, ``missing``, or ``not graded``: the grader
  could not grade them, see ``faults``).
- ``canvas``, ``moodle``, ``moodle-feedback``: written back into the LMS's own files (``grader.batch.lms_exports``).
- ``gradescope``: ``PATH/STUDENT/results.json`` in the autograder results format (``score``, ``tests`` with
  ``name``, ``number``, ``score``, ``max_score``, ``status``, ``output``, ``visibility``).
- ``junit``: one ``<testsuite>`` per student, one ``<testcase>`` per check.
- ``feedback``: ``PATH/STUDENT.md`` and ``PATH/STUDENT.html`` with the terminal report's content, the student's
  name, the staff's notes and rerun advice the student build accepts (``grader.batch.feedback``).
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
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree import ElementTree as ET

from grader.batch import late, lms_exports
from grader.batch.gradebook import Gradebook, Graded
from grader.batch.lms_exports import Written
from grader.batch.overrides import final_grade
from grader.errors import UsageError
from grader.report.sanitize import visible, xml_text
from grader.report.spreadsheet import SafeWriter, defuse, open_csv
from grader.result import Report

FORMATS = ("csv", "canvas", "moodle", "moodle-feedback", "gradescope", "junit", "feedback", "analytics")
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


# Every CSV cell dlgrade writes passes one function (``grader.report.spreadsheet``); the LMS exports that
# set single cells of the LMS's own files call it under this name.
_cell = defuse


@dataclass(frozen=True)
class Standing:
    """A student's grade of record, as every export shows it: raw score, lateness, penalty, override, total."""

    raw: float
    max: float
    penalty: float
    total: float
    late: str = ""  # the CSV's late cell (``Lateness.late_text``)
    override: str = ""  # the staff's changes in force: "backward=1.5;adam=excused;total=40", or ""
    excused: bool = False
    checks: dict[str, str] = field(default_factory=dict)  # per check id: its points of record, or "excused"
    notes: tuple[str, ...] = ()  # plain sentences for the student: late, penalty, the staff's changes

    @property
    def total_text(self) -> str:
        return "excused" if self.excused else f"{self.total:g}/{self.max:g}"


def grade_of_record(g: Graded, lateness: dict | None = None) -> Standing:
    """The grade of record of ``g``: its raw score, the late penalty in force (``lateness``: the gradebook's
    latest ``lateness`` row) and the staff's overrides (``grader.batch.overrides.final_grade`` computes the total:
    the one function both features call)."""
    row = lateness or {}
    penalty = g.penalty  # from the same row, applied by ``Gradebook.latest``
    found = late.Lateness(row.get("submitted_at", ""), row.get("time_source", ""), bool(row.get("marker")),
                          row.get("due", ""), row.get("late_days"), row.get("penalty_percent") or 0.0)
    notes = [found.describe()] if found.describe() else []
    final = final_grade(g.report, g.overrides, penalty)
    checks = {c.id: _check_cell(final, c.id) for c in final.checks}
    return Standing(g.report.score, final.max, penalty, final.total, found.late_text(), _override_cell(final),
                    final.excused, {k: v for k, v in checks.items() if v}, tuple(notes + final.notes()))


def _repository_cells(record: dict | None) -> list[str]:
    """``commit`` and ``flags`` for a grade of a repository's commit (empty for any other submission)."""
    from grader.batch.repositories import flags

    if not record:
        return ["", ""]
    return [record.get("commit") or "", ";".join(flags(record))]


def _check_cell(final, check_id: str) -> str:
    """A check's points of record: the staff's or the grader's, ``excused``, or empty when it did not run."""
    check = final.check(check_id)
    if check is None or (not check.counted and not check.excused):
        return ""
    return "excused" if check.excused else f"{check.points:g}"


def _override_cell(final) -> str:
    """The staff's changes in force, ``;``-separated: ``backward=1.5``, ``adam=excused``, ``total=40``."""
    return ";".join(f"{o.check}={'excused' if o.action == 'excuse' else f'{o.points:g}'}" for o in final.changes)


def _total_cell(final) -> str:
    return "EX" if final.excused else f"{final.total:g}"  # Canvas's import reads EX as excused


def export_csv(graded: list[Graded], missing: dict[str, str], path: Path,
               not_graded: dict[str, dict] | None = None, names: dict[str, str] | None = None,
               standings: dict[str, Standing] | None = None) -> list[Path]:
    columns = _check_columns(graded)
    standings = standings or {g.student: grade_of_record(g) for g in graded}
    with open_csv(path) as writer:  # every text cell defused, numbers kept numbers
        writer.writerow(["student", "name", *[c for c, _ in columns], "raw", "late", "penalty", "override", "total",
                         "max", "commit", "flags", "status"])
        for g in graded:
            standing = standings[g.student]
            writer.writerow([g.student, g.name, *[_number(standing.checks.get(c, "")) for c, _ in columns],
                             float(standing.raw), standing.late, float(standing.penalty) if standing.penalty else "",
                             standing.override, "EX" if standing.excused else float(standing.total),
                             float(standing.max), *_repository_cells(g.repository), "graded"])
        for student, record in sorted((not_graded or {}).items()):  # no grade: neither a score nor a zero
            writer.writerow([student, (names or {}).get(student, ""),
                             *[""] * len(columns), "", "", "", "", "", "", *_repository_cells(record), "not graded"])
        for student, name in sorted(missing.items()):
            writer.writerow([student, name, *[""] * len(columns), "", "", "", "", 0, "", "", "", "missing"])
    return [path]


def _number(text: str) -> float | str:
    """A cell of points as a number (``excused`` and empty cells stay text)."""
    try:
        return float(text)
    except ValueError:
        return text


def export_canvas(graded: list[Graded], missing: dict[str, str], path: Path, assignment: str,
                  standings: dict[str, Standing] | None = None, lms_column: str | None = None) -> Written:
    """Without a Canvas gradebook export as roster: a new column that Canvas matches on ``ID`` (Canvas user ids)."""
    standings = standings or {g.student: grade_of_record(g) for g in graded}
    column = lms_column or f"dlgrade {assignment}"
    possible = max((s.max for s in standings.values()), default=0)
    with open_csv(path) as writer:
        writer.writerow(["Student", "ID", "SIS User ID", "SIS Login ID", "Section", column])
        writer.writerow(["    Points Possible", "", "", "", "", float(possible)])
        for g in graded:
            standing = standings[g.student]
            writer.writerow([g.name or g.student, g.student, "", "", "",
                             "EX" if standing.excused else float(standing.total)])
        for student, name in sorted(missing.items()):
            writer.writerow([name or student, student, "", "", "", 0])
    return Written([path], [f"canvas: no Canvas gradebook export as roster, so a new column {column!r} matched on "
                            f"ID: the ids must be Canvas user ids (a Canvas download's). Grade with --roster set to "
                            f"the course's gradebook export (Grades > Export) to fill its own column"])


def gradescope_results(report: Report, final=None) -> dict:
    """One submission's results in Gradescope's autograder results.json layout (with the staff's changes in
    ``final``, an ``overrides.FinalGrade``: each test's points of record, ``score`` the grade of record)."""
    from grader.report.markdown import more_printed, printed_lines

    tests = []
    for check in report.checks:
        record = final.check(check.id) if final is not None else None
        if check.status == "skipped" and not (record and record.override):
            continue
        text = "\n".join(part for part in (check.message, f"hint: {check.hint}" if check.hint else "") if part)
        if check.output.strip():
            lines, more = printed_lines(check.output)
            text += "\nyour code printed:\n" + "\n".join(lines) + more_printed(check.output, more)
        score, max_score = check.score, check.max_score
        if record is not None and record.override is not None:
            change = record.override
            score, max_score = record.points, record.max
            staff = "excused by the staff" if record.excused else \
                f"set to {record.points:g}/{record.max:g} by the staff (the grader gave {check.score:g})"
            text = f"{staff}: {change.comment}" + (f"\n{text}" if text else "")
        tests.append({"name": visible(f"{check.task} {check.name}"), "number": visible(check.id), "score": score,
                      "max_score": max_score, "status": "passed" if check.status == "passed" else "failed",
                      "output": visible(text), "visibility": "visible"})
    seed = report.diagnostics.get("seed")
    output = f"dlgrade {report.assignment}, seed {seed}"
    if final is not None:
        output = "\n".join([output, *final.notes()])
    return {"score": final.total if final is not None else report.score,
            "execution_time": round(float(report.diagnostics.get("duration_s") or 0), 3),
            "output": visible(output), "visibility": "visible", "stdout_visibility": "hidden", "tests": tests}


def export_gradescope(graded: list[Graded], path: Path) -> list[Path]:
    written = []
    names = file_names(g.student for g in graded)
    for g in graded:
        target = path / names[g.student] / "results.json"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(gradescope_results(g.report, g.final), indent=2, allow_nan=False) + "\n",
                          encoding="utf-8")
        written.append(target)
    return written


def export_junit(graded: list[Graded], path: Path) -> list[Path]:
    suites = ET.Element("testsuites", name="dlgrade")
    for g in graded:
        checks = [c for c in g.report.checks]
        final = g.final
        excused = {c.id for c in checks if (record := final.check(c.id)) is not None and record.excused}
        counted = [c for c in checks if c.id not in excused]  # an excused check is written as skipped
        suite = ET.SubElement(suites, "testsuite", name=xml_text(g.student), tests=str(len(checks)),
                              failures=str(sum(c.status in ("failed", "undecided") for c in counted)),
                              errors=str(sum(c.status in ("error", "timeout") for c in counted)),
                              skipped=str(sum(c.status == "skipped" for c in counted) + len(excused)),
                              time=f"{sum(c.duration_s for c in checks):.3f}")
        properties = ET.SubElement(suite, "properties")
        for key, value in (("raw", f"{final.raw:g}"), ("total", _total_cell(final)), ("max", f"{final.max:g}"),
                           *((f"override:{o.check}", xml_text(f"{o.describe()}: {o.comment} ({o.who}, {o.at})"))
                             for o in final.changes)):
            ET.SubElement(properties, "property", name=xml_text(key), value=value)
        for c in checks:
            record = final.check(c.id)
            points = f"{record.points:g}/{record.max:g}" if record.override else f"{c.score:g}/{c.max_score:g}"
            case = ET.SubElement(suite, "testcase", classname=xml_text(f"{g.report.assignment}.{g.student}"),
                                 name=xml_text(f"{c.task} {c.name} ({points})"), time=f"{c.duration_s:.3f}")
            body = xml_text("\n".join(p for p in (c.message, f"hint: {c.hint}" if c.hint else "") if p))
            if record.excused:
                ET.SubElement(case, "skipped", message=xml_text(f"excused by the staff: {record.override.comment}"))
            elif c.status == "skipped":
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
    """``STUDENT.md`` and ``STUDENT.html`` per student: named, with the staff's changes (``grader.batch.feedback``)."""
    from grader.batch.feedback import html_page, markdown_page

    path.mkdir(parents=True, exist_ok=True)
    written = []
    names = file_names(g.student for g in graded)
    for g in graded:
        final = g.final
        for page, suffix in ((markdown_page, ".md"), (html_page, ".html")):
            target = path / f"{names[g.student]}{suffix}"
            target.write_text(page(g.student, g.name, g.report, final), encoding="utf-8")
            written.append(target)
    return written


def write_similar_csv(pairs, names: dict[str, str], path: Path | None) -> None:
    """``dlgrade gradebook similar --format csv``: one row per pair, to ``path`` or standard output."""
    import sys

    header = ["rank", "first", "first_name", "second", "second_name", "similarity", "first_share", "second_share",
              "shared", "identical"]
    rows = [[rank, p.first, names.get(p.first, ""), p.second, names.get(p.second, ""), p.similarity, p.first_share,
             p.second_share, p.shared, str(p.identical).lower()] for rank, p in enumerate(pairs, 1)]
    if path is None:
        SafeWriter(sys.stdout).writerows([header, *rows])
        return
    with open_csv(path) as writer:
        writer.writerows([header, *rows])


def _roster(book: Gradebook, assignment: str, roster: Path | None):
    """The roster given here, else the one the last ``dlgrade grade --roster`` kept in the gradebook."""
    from grader.batch import lmscsv
    from grader.batch.roster import load_roster, rebuild

    if roster is not None:
        loaded = load_roster(Path(roster))
        kept = book.roster(assignment)
        column = kept["id_column"] if kept and kept["id_column"] in loaded.candidates else None
        if column is None:
            return loaded.choose({g.student for g in book.latest(assignment)})[0]
        return rebuild(loaded, column)
    kept = book.roster(assignment)
    if kept is None:
        return None
    table = lmscsv.parse(bytes(kept["content"]).decode("utf-8", "surrogateescape"))
    table.path = Path(kept["file_name"])
    return rebuild(table, kept["id_column"])


def export(book: Gradebook, format_name: str, path: Path, assignment: str | None = None,
           roster: Path | None = None, lms_column: str | None = None, feedback_dir: Path | None = None) -> Written:
    """Write ``format_name`` for the latest grades of ``assignment`` (the only one in the gradebook if omitted).

    Returns the files written (a list), with ``notes`` for the summary (students not on an LMS roster, ...).
    ``roster`` replaces the roster kept in the gradebook (Canvas and Moodle formats write it back).
    ``feedback_dir``: for ``analytics``, where the ``feedback`` export is (default ``feedback/`` beside the
    page): each student named on the page links to their page there."""
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
    not_graded = {s: r for s, r in book.not_graded(assignment).items() if s not in {g.student for g in graded}}
    missing = {s: n for s, n in names.items() if s not in {g.student for g in graded} and s not in not_graded}
    lateness = book.lateness(assignment)
    standings = {g.student: grade_of_record(g, lateness.get(g.student)) for g in graded}
    path = Path(path)
    if format_name == "csv":
        return Written(export_csv(graded, missing, path, not_graded, names, standings))
    if format_name in ("canvas", "moodle", "moodle-feedback"):
        class_roster = _roster(book, assignment, roster)
        if format_name == "canvas":
            if class_roster is None or class_roster.kind != "canvas":
                return export_canvas(graded, missing, path, assignment, standings, lms_column)
            title = _title(assignment)
            possible = max((s.max for s in standings.values()), default=0)
            return lms_exports.export_canvas_roster(class_roster, standings, set(missing), path, assignment, title,
                                                    lms_column, possible)
        if format_name == "moodle":
            return lms_exports.export_moodle(class_roster, standings, {g.student: g.report for g in graded},
                                             set(missing), path, assignment)
        from grader.report import render

        return lms_exports.export_moodle_feedback(graded, names, class_roster, path,
                                                  lambda g: render(g.report, "html"))
    if format_name == "gradescope":
        return Written(export_gradescope(graded, path))
    if format_name == "junit":
        return Written(export_junit(graded, path))
    if format_name == "analytics":
        import os

        from grader.batch.analytics import write_page
        from grader.batch.similar_code import class_similarity

        folder = Path(feedback_dir) if feedback_dir is not None else path.parent / "feedback"
        link = os.path.relpath(folder.absolute(), path.parent.absolute()).replace(os.sep, "/").rstrip("/") + "/"
        reports = {g.student: g.report for g in graded}
        return Written([write_page(assignment, reports, path, sorted(missing), names=names,
                           feedback=link, similar=class_similarity(book, assignment),
                           grades={s: (st.total, st.max) for s, st in standings.items() if not st.excused})])
    return Written(export_feedback(graded, path))


def _title(assignment: str) -> str:
    try:
        from grader import api

        return api.get_assignment(assignment).title
    except Exception:  # noqa: BLE001 - an assignment no longer installed: find the column by its id only
        return ""

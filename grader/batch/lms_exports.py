"""Exports that an LMS imports without hand edits: Canvas's gradebook, Moodle's worksheet and feedback files.

- ``canvas``: the Canvas gradebook export given as roster, written back with exactly its columns and rows;
  only the assignment's column is filled (chosen with ``--lms-column "A1: NumPy network (884211)"``, or
  found by the assignment's id or title), and its ``Points Possible`` cell. Names, SIS fields and every
  other cell keep their bytes. Students graded but not on the roster are listed, never added as rows.
  Without a Canvas roster: the old layout (``Student``, ``ID``, ``SIS User ID``, ``SIS Login ID``,
  ``Section``, one new column), which Canvas matches on ``ID``, so the ids must be Canvas user ids.
- ``moodle``: the grading worksheet given as roster, with ``Grade`` and ``Feedback comments`` (plain text,
  one line: Moodle shows it as HTML, so no markup) filled; every other cell keeps its bytes. A total is
  scaled to the worksheet's ``Maximum Grade`` when that differs (said in the summary).
- ``moodle-feedback``: ``-o feedback.zip`` with one ``Full Name_12345_assignsubmission_file_/feedback.html``
  per graded participant: the folder names of Moodle's download, which "Upload multiple feedback files in a
  zip" maps back to participants by their number.

Missing students (on the roster, no submission) get 0, as in every export.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

from grader.batch.roster import CANVAS_ASSIGNMENT, Roster
from grader.errors import UsageError
from grader.report.sanitize import visible

MAX_FEEDBACK = 1500


class Written(list):
    """The files an export wrote (a list of paths), with ``notes`` for the TA's summary."""

    def __init__(self, paths=(), notes=()):
        super().__init__(paths)
        self.notes = tuple(notes)


def _number(value: float, decimals: int | None = None) -> str:
    return f"{value:.{decimals}f}" if decimals is not None else f"{round(value, 4):g}"


def canvas_column(roster: Roster, assignment: str, title: str, lms_column: str | None) -> str:
    """The roster's column for this assignment: ``lms_column`` (the header, or its Canvas id), else the one
    whose name holds the assignment's id (``A1``) or title; anything else is one plain sentence (exit 2)."""
    columns = roster.assignment_columns()
    listed = "; ".join(f'"{c}"' for c in columns) or "none"
    if lms_column:
        exact = [c for c in roster.header if c == lms_column.strip()]
        by_id = [c for c in columns if (m := CANVAS_ASSIGNMENT.match(c)) and m["id"] == lms_column.strip()]
        if exact or len(by_id) == 1:
            return (exact or by_id)[0]
        raise UsageError(f"the roster has no column {lms_column!r}; its assignment columns are: {listed}")
    word = re.compile(rf"(?<![A-Za-z0-9]){re.escape(assignment)}(?![A-Za-z0-9])", re.IGNORECASE)
    found = [c for c in columns if word.search(CANVAS_ASSIGNMENT.match(c)["name"])]
    if len(found) != 1 and title:
        found = [c for c in columns if title.lower() in c.lower()] or found
    if len(found) == 1:
        return found[0]
    raise UsageError(f"cannot tell which column of the roster is {assignment} "
                     f"({'several match' if found else 'none names it'}): pass --lms-column with one of: {listed}")


def export_canvas_roster(roster: Roster, standings: dict, missing: set[str], path: Path, assignment: str,
                         title: str, lms_column: str | None, possible: float) -> Written:
    """The Canvas gradebook export ``roster``, with the assignment's column and its Points Possible filled."""
    from grader.batch import lmscsv

    column = canvas_column(roster, assignment, title, lms_column)
    index = roster.index(column)
    table = roster.table
    for record in table.records[1:]:
        if record.values and record.values[0].strip().startswith("Points Possible"):
            lmscsv.set_value(record, index, _number(possible))
    on_roster = roster.by_id()
    for student, row in on_roster.items():
        if student in standings:
            standing = standings[student]
            lmscsv.set_value(table.records[row], index, "EX" if standing.excused else _number(standing.total))
        elif student in missing:
            lmscsv.set_value(table.records[row], index, "0")
    table.write(path)
    notes = [f"canvas: column {column!r} filled for {sum(s in standings for s in on_roster)} student(s) "
             f"(rows matched on {roster.id_column!r})"]
    outside = sorted(set(standings) - set(on_roster))
    if outside:
        notes.append(f"not on the roster, so not in the file (add them in Canvas, then export again): "
                     f"{', '.join(outside)}")
    return Written([path], notes)


def feedback_text(assignment: str, standing, report) -> str:
    """One line of plain text for Moodle's Feedback comments: the score, what to fix, the staff's notes."""
    parts = [f"dlgrade {assignment}: {standing.total_text}."]
    for check in report.checks:
        if check.status in ("skipped", "hidden") or (check.status == "passed" and check.score >= check.max_score):
            continue
        message = check.message.splitlines()[0] if check.message else check.status
        parts.append(f"{check.task} {check.name} {check.score:g}/{check.max_score:g}: {message}")
    parts.extend(standing.notes)
    text = visible(" ".join(p.strip() for p in parts), keep_newlines=False)
    text = text.replace("<", "\u2039").replace(">", "\u203a")  # no markup: Moodle shows this field as HTML
    return text if len(text) <= MAX_FEEDBACK else text[:MAX_FEEDBACK - 1] + "\u2026"


def export_moodle(roster: Roster | None, standings: dict, reports: dict, missing: set[str], path: Path,
                  assignment: str) -> Written:
    """The Moodle grading worksheet ``roster`` with Grade and Feedback comments filled, the rest untouched."""
    from grader.batch import lmscsv
    from grader.batch.exports import _cell  # every CSV cell dlgrade writes passes one function

    if roster is None or roster.kind != "moodle":
        raise UsageError("--format moodle writes back Moodle's grading worksheet: grade with --roster "
                         "worksheet.csv (Assignment > View all submissions > Download grading worksheet), or pass "
                         "it here with --roster")
    if "Grade" not in roster.header:
        raise UsageError(f"the worksheet {roster.table.path or ''} has no Grade column")
    grade_at = roster.index("Grade")
    comment_at = roster.index("Feedback comments") if "Feedback comments" in roster.header else None
    notes = [] if comment_at is not None else [
        "moodle: the worksheet has no 'Feedback comments' column (turn on feedback comments in the assignment's "
        "settings and download it again); grades only"]
    scaled = set()
    locked = []
    on_roster = roster.by_id()
    for student, row in on_roster.items():
        if student not in standings and student not in missing:
            continue
        if "Grade can be changed" in roster.header and roster.cell(row, "Grade can be changed").lower() == "no":
            locked.append(student)
            continue
        standing = standings.get(student)
        total, top = (standing.total, standing.max) if standing else (0.0, 0.0)
        worksheet_max = _float(roster.cell(row, "Maximum Grade")) if "Maximum Grade" in roster.header else None
        if worksheet_max and top and abs(worksheet_max - top) > 1e-9:
            total = total / top * worksheet_max
            scaled.add(f"/{top:g} to /{worksheet_max:g}")
        record = roster.table.records[row]
        lmscsv.set_value(record, grade_at, _number(total, 2))
        if comment_at is not None:
            text = feedback_text(assignment, standing, reports[student]) if standing else \
                f"dlgrade {assignment}: no submission was found for you in the download that was graded."
            lmscsv.set_value(record, comment_at, _cell(text))
    roster.table.write(path)
    if scaled:
        notes.append(f"moodle: totals scaled {', '.join(sorted(scaled))} (the worksheet's Maximum Grade)")
    if locked:
        notes.append(f"moodle: 'Grade can be changed' is No, left as they are: {', '.join(sorted(locked))}")
    outside = sorted(set(standings) - set(on_roster))
    if outside:
        notes.append(f"not in the worksheet, so not in the file: {', '.join(outside)}")
    return Written([path], notes)


def _float(text: str) -> float | None:
    try:
        return float(text.replace(",", "."))
    except ValueError:
        return None


def _folder_name(name: str) -> str:
    """A participant's name as a folder name Moodle's importer splits on ``_`` (so none inside it)."""
    cleaned = re.sub(r"[\x00-\x1f/\\_:*?\"<>|]+", " ", name).strip(" .")
    return cleaned[:80] or "Participant"


def export_moodle_feedback(graded: list, names: dict[str, str], roster: Roster | None, path: Path,
                           render) -> Written:
    """``path`` (a .zip): ``Full Name_12345_assignsubmission_file_/feedback.html`` per graded participant."""
    if path.suffix.lower() != ".zip":
        raise UsageError(f"--format moodle-feedback writes a zip to upload: give -o a name ending in .zip "
                         f"(got {path})")
    participant = {}
    if roster is not None and roster.kind == "moodle":
        participant = {s: roster.student_id(row, "Identifier") for s, row in roster.by_id().items()}
    skipped = []
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for g in graded:
            number = participant.get(g.student) or (g.student if g.student.isdigit() else "")
            if not number:
                skipped.append(g.student)
                continue
            folder = f"{_folder_name(names.get(g.student) or g.name or 'Participant')}_{number}_assignsubmission_file_"
            archive.writestr(f"{folder}/feedback.html", render(g))
    notes = [f"moodle-feedback: {len(graded) - len(skipped)} feedback file(s); upload the zip with "
             f"'Upload multiple feedback files in a zip'"]
    if skipped:
        notes.append(f"no Moodle participant number for (not in the zip): {', '.join(sorted(skipped))}")
    return Written([path], notes)

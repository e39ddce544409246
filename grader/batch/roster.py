"""A class roster, read as the LMS exports it: who is in the class, their names, and which id matches.

Three kinds are recognised from the header:

- ``canvas``: Canvas's gradebook export (``Student`` as "Last, First", ``ID``, ``SIS User ID``,
  ``SIS Login ID``, ``Section``, one column per assignment ``Name (id)``, a ``Points Possible`` row
  under the header, sometimes a ``Manual Posting`` row; "Student, Test" is Canvas's Student View user, not a
  student, and is left as it is). Candidate ids: ``ID`` (the Canvas user id
  that names the files of a Canvas download), ``SIS User ID``, ``SIS Login ID``.
- ``moodle``: Moodle's grading worksheet (``Identifier`` "Participant 12345", ``Full name``,
  ``Email address``, ``Status``, ``Grade``, ..., ``Last modified (submission)``, ``Feedback comments``).
  Candidate ids: the number of ``Identifier`` (the number in a Moodle download's folder names),
  ``ID number``, ``Email address``, ``Username``.
- ``plain``: any CSV with an id column (``id``, ``student_id``, ``sid``, ``SIS User ID``, ``login``,
  ``email``) and ``name`` or ``First Name`` + ``Last Name``.

The id column used is the candidate that matches the most submissions (``Roster.choose``), and the
run's summary says which. The table is kept as read (``grader.batch.lmscsv``), so the Canvas and Moodle
exports write the same file back with only the grade cells changed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from pathlib import Path

from grader.batch import lmscsv
from grader.errors import UsageError
from grader.text import encodable

ID_COLUMNS = ("id", "student_id", "student id", "sid", "sis user id", "login", "email")
CANVAS_IDS = ("ID", "SIS User ID", "SIS Login ID", "Integration ID")
MOODLE_IDS = ("Identifier", "ID number", "Email address", "Username")
CANVAS_ASSIGNMENT = re.compile(r"^(?P<name>.*\S)\s*\((?P<id>\d+)\)$")
_DIGITS = re.compile(r"(\d+)\s*$")


@dataclass(frozen=True)
class Roster:
    """A roster as read: its kind, the table (for a byte-faithful export), and the id column chosen."""

    kind: str  # "canvas", "moodle" or "plain"
    table: lmscsv.Table
    header: tuple[str, ...]
    rows: tuple[int, ...]  # indexes of the student records in ``table.records``
    candidates: tuple[str, ...]  # id columns, most likely first
    id_column: str

    def index(self, column: str) -> int:
        return self.header.index(column)

    def cell(self, row: int, column: str) -> str:
        values = self.table.records[row].values
        i = self.index(column)
        return values[i].strip() if i < len(values) else ""

    def student_id(self, row: int, column: str | None = None) -> str:
        """The id of one row in ``column`` (the chosen one): Moodle's "Participant 12345" is ``12345``."""
        column = column or self.id_column
        value = self.cell(row, column)
        if self.kind == "moodle" and column == "Identifier":
            match = _DIGITS.search(value)
            return match.group(1) if match else ""
        return value

    def name(self, row: int) -> str:
        """The student's name as a person writes it: Canvas's "Doe, Jane" is "Jane Doe"."""
        if self.kind == "canvas":
            last, _, first = self.cell(row, "Student").partition(",")
            return encodable(" ".join(p for p in (first.strip(), last.strip()) if p))
        if self.kind == "moodle":
            return encodable(self.cell(row, "Full name"))
        lowered = {c.strip().lower(): c for c in self.header}
        if "name" in lowered:
            return encodable(self.cell(row, lowered["name"]))
        parts = [self.cell(row, lowered[c]) for c in ("first name", "last name") if c in lowered]
        return encodable(" ".join(p for p in parts if p))

    def by_id(self, column: str | None = None) -> dict[str, int]:
        """``{student id: row index}`` over the rows that have one."""
        ids: dict[str, int] = {}
        for row in self.rows:
            student = self.student_id(row, column)
            if student:
                ids.setdefault(student, row)
        return ids

    def names(self) -> dict[str, str]:
        """``{student id: name}`` in the chosen id column."""
        return {student: self.name(row) for student, row in self.by_id().items()}

    def choose(self, found: set[str]) -> tuple[Roster, str]:
        """The roster keyed on the candidate column that matches the most of ``found`` (the submissions' ids),
        and one sentence saying which, for the run's summary."""
        if not found:
            return self, f"roster: ids from its column {self.id_column!r}"
        counts = [(len(found & set(self.by_id(c))), -i, c) for i, c in enumerate(self.candidates)]
        best, _, column = max(counts)
        chosen = replace(self, id_column=column)
        if best == 0:
            return chosen, (f"roster: no column matches the submissions' ids (tried {', '.join(self.candidates)}); "
                            f"every submission is 'not on the roster'")
        return chosen, f"roster: column {column!r} matches {best} of {len(found)} submissions"

    def assignment_columns(self) -> list[str]:
        """Canvas's assignment columns (``Name (id)``), in order."""
        return [c for c in self.header if CANVAS_ASSIGNMENT.match(c)]

    def submission_times(self) -> dict[str, tuple[str, bool]]:
        """Moodle's ``{id: (Last modified (submission), marked late)}``; empty for other kinds."""
        if self.kind != "moodle" or "Last modified (submission)" not in self.header:
            return {}
        times = {}
        for student, row in self.by_id().items():
            when = self.cell(row, "Last modified (submission)")
            status = self.cell(row, "Status").lower() if "Status" in self.header else ""
            times[student] = ("" if when in ("", "-") else when, " late" in f" {status}")
        return times


def _kind(header: list[str]) -> str:
    if "Student" in header and "ID" in header and "SIS User ID" in header:
        return "canvas"
    if "Identifier" in header and "Full name" in header:
        return "moodle"
    return "plain"


def load_roster(path: Path) -> Roster:
    """Read a Canvas gradebook export, a Moodle grading worksheet or a plain ``id,name`` CSV."""
    return from_table(lmscsv.read(Path(path), "roster"), path)


def rebuild(source: Roster | lmscsv.Table, column: str) -> Roster:
    """A roster (or a kept table) keyed on ``column``, as a grading run chose it."""
    roster = source if isinstance(source, Roster) else from_table(source, source.path or "the kept roster")
    return replace(roster, id_column=column) if column in roster.candidates else roster


def from_table(table: lmscsv.Table, path: object) -> Roster:
    """The roster in ``table`` (read from ``path``, named in errors)."""
    header = [h.strip() for h in table.header]
    if header:
        header[0] = header[0].lstrip("\ufeff")
    kind = _kind(header)
    if kind == "canvas":
        candidates = tuple(c for c in CANVAS_IDS if c in header)
    elif kind == "moodle":
        candidates = tuple(c for c in MOODLE_IDS if c in header)
    else:
        lowered = {h.lower(): h for h in header if h}
        candidates = tuple(lowered[c] for c in ID_COLUMNS if c in lowered)
        if not candidates:
            raise UsageError(f"the roster {path} has no id column (one of: {', '.join(ID_COLUMNS)}; or a Canvas "
                             f"gradebook export, or a Moodle grading worksheet)")
    rows = []
    for index, record in enumerate(table.records[1:], start=1):
        values = [v.strip() for v in record.values]
        if not any(values):
            continue
        first = values[0] if values else ""
        if kind == "canvas" and (first in ("", "Student, Test") or first.startswith("Points Possible")):
            continue  # the Points Possible and Manual Posting rows, and Canvas's own test student: not students
        rows.append(index)
    return Roster(kind, table, tuple(header), tuple(rows), candidates, candidates[0])


def read_roster(path: Path) -> dict[str, str]:
    """``{student id: name}`` from the roster at ``path`` (keyed on its most likely id column)."""
    return load_roster(path).names()

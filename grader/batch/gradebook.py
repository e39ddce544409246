"""The gradebook: one SQLite file (WAL), written only by the parent, that loses and duplicates nothing.

Tables:
  runs         one row per ``dlgrade grade``: dlgrade's version, the seed, the machine, the isolation
               layers that were active, the selection of tasks, when it started and finished.
  submissions  one row per graded (assignment, student, submission hash) in a run: the score and the
               whole report as JSON. A regrade adds a row; old rows stay (history).
  results      one row per check of each graded submission.
  students     names from the roster.

Each student's submission row and check rows are written in one transaction,
so a run killed at any moment (SIGINT, SIGKILL, a full disk) leaves every
student either fully graded or not graded at all; a rerun skips a submission
already graded with the same hash, dlgrade version and selection of tasks.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from grader.errors import UsageError
from grader.result import Report

SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY, assignment TEXT NOT NULL, started_at TEXT NOT NULL, finished_at TEXT,
    status TEXT NOT NULL, dlgrade_version TEXT NOT NULL, seed INTEGER NOT NULL, selection TEXT NOT NULL,
    machine TEXT NOT NULL, isolation TEXT NOT NULL DEFAULT '{}', options TEXT NOT NULL DEFAULT '{}');
CREATE TABLE IF NOT EXISTS submissions (
    id INTEGER PRIMARY KEY, run_id INTEGER NOT NULL REFERENCES runs(id), assignment TEXT NOT NULL,
    student TEXT NOT NULL, submission_hash TEXT NOT NULL, dlgrade_version TEXT NOT NULL, selection TEXT NOT NULL,
    source TEXT NOT NULL, score REAL NOT NULL, max_score REAL NOT NULL, graded_at TEXT NOT NULL,
    report TEXT NOT NULL,
    UNIQUE (run_id, assignment, student));
CREATE INDEX IF NOT EXISTS submissions_key ON submissions (assignment, student, submission_hash, dlgrade_version);
CREATE TABLE IF NOT EXISTS results (
    submission_id INTEGER NOT NULL REFERENCES submissions(id), check_id TEXT NOT NULL, task TEXT NOT NULL,
    name TEXT NOT NULL, status TEXT NOT NULL, score REAL NOT NULL, max_score REAL NOT NULL,
    message TEXT NOT NULL, hint TEXT NOT NULL, duration_s REAL NOT NULL, output TEXT NOT NULL,
    PRIMARY KEY (submission_id, check_id));
CREATE TABLE IF NOT EXISTS students (assignment TEXT NOT NULL, student TEXT NOT NULL, name TEXT NOT NULL,
    PRIMARY KEY (assignment, student));
"""


class GradebookError(UsageError):
    """The gradebook file cannot be opened or written (a full disk, a read-only folder, not a gradebook)."""


@dataclass(frozen=True)
class Graded:
    """The latest graded submission of one student."""

    student: str
    name: str
    run_id: int
    submission_hash: str
    report: Report


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class Gradebook:
    """An open gradebook; every write is one short transaction."""

    def __init__(self, path: Path, create: bool = True):
        self.path = Path(path)
        if not create and not self.path.is_file():
            raise GradebookError(f"no gradebook at {self.path} (grade a class first, or pass --gradebook FILE)")
        try:
            self.db = sqlite3.connect(self.path, isolation_level=None, timeout=30)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")
            self.db.execute("PRAGMA foreign_keys=ON")
            self.db.executescript(SCHEMA)
        except sqlite3.DatabaseError as exc:
            raise GradebookError(f"cannot open the gradebook {self.path}: {exc}") from None

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Gradebook:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _write(self, what: str, statements) -> object:
        """Run ``statements(cursor)`` in one IMMEDIATE transaction; a failure rolls it all back."""
        try:
            self.db.execute("BEGIN IMMEDIATE")
            try:
                result = statements(self.db.cursor())
                self.db.execute("COMMIT")
                return result
            except BaseException:
                self.db.execute("ROLLBACK")
                raise
        except (sqlite3.DatabaseError, OSError) as exc:
            reason = str(exc).rstrip(".")
            raise GradebookError(f"could not {what} in the gradebook {self.path} ({reason}); nothing of it was "
                                 f"saved, every student saved before is intact: free some space and rerun to "
                                 f"continue") from None

    # runs -------------------------------------------------------------------------------------------------------
    def start_run(self, assignment: str, version: str, seed: int, selection: str, machine: dict,
                  options: dict) -> int:
        return self._write("record the run", lambda c: c.execute(
            "INSERT INTO runs (assignment, started_at, status, dlgrade_version, seed, selection, machine, options) "
            "VALUES (?, ?, 'running', ?, ?, ?, ?, ?)",
            (assignment, _now(), version, seed, selection, json.dumps(machine), json.dumps(options))).lastrowid)

    def finish_run(self, run_id: int, status: str, isolation: dict | None = None) -> None:
        def update(c):
            c.execute("UPDATE runs SET finished_at = ?, status = ? WHERE id = ?", (_now(), status, run_id))
            if isolation:
                c.execute("UPDATE runs SET isolation = ? WHERE id = ?", (json.dumps(isolation), run_id))
        self._write("close the run", update)

    def runs(self) -> list[dict]:
        rows = self.db.execute(
            "SELECT r.id, r.assignment, r.started_at, r.finished_at, r.status, r.dlgrade_version, r.seed, "
            "r.selection, r.machine, r.isolation, COUNT(s.id) FROM runs r LEFT JOIN submissions s ON s.run_id = r.id "
            "GROUP BY r.id ORDER BY r.id").fetchall()
        keys = ("id", "assignment", "started_at", "finished_at", "status", "dlgrade_version", "seed", "selection",
                "machine", "isolation", "graded")
        runs = [dict(zip(keys, row)) for row in rows]
        for run in runs:
            run["machine"], run["isolation"] = json.loads(run["machine"]), json.loads(run["isolation"])
        return runs

    def latest_seed(self, assignment: str) -> int | None:
        row = self.db.execute("SELECT seed FROM runs WHERE assignment = ? ORDER BY id DESC LIMIT 1",
                              (assignment,)).fetchone()
        return row[0] if row else None

    # students ---------------------------------------------------------------------------------------------------
    def set_names(self, assignment: str, names: dict[str, str]) -> None:
        self._write("record the roster", lambda c: c.executemany(
            "INSERT INTO students (assignment, student, name) VALUES (?, ?, ?) "
            "ON CONFLICT (assignment, student) DO UPDATE SET name = excluded.name",
            [(assignment, s, n) for s, n in names.items()]))

    def names(self, assignment: str) -> dict[str, str]:
        return dict(self.db.execute("SELECT student, name FROM students WHERE assignment = ?", (assignment,)))

    # submissions ------------------------------------------------------------------------------------------------
    def already_graded(self, assignment: str, student: str, submission_hash: str, version: str,
                       selection: str) -> bool:
        return self.db.execute(
            "SELECT 1 FROM submissions WHERE assignment = ? AND student = ? AND submission_hash = ? "
            "AND dlgrade_version = ? AND selection = ? LIMIT 1",
            (assignment, student, submission_hash, version, selection)).fetchone() is not None

    def record(self, run_id: int, student: str, submission_hash: str, version: str, selection: str,
               report: Report) -> None:
        """Save one student's report: the submission row and every check row, in one transaction."""
        def insert(c):
            submission_id = c.execute(
                "INSERT INTO submissions (run_id, assignment, student, submission_hash, dlgrade_version, selection, "
                "source, score, max_score, graded_at, report) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (run_id, report.assignment, student, submission_hash, version, selection, report.submission,
                 report.score, report.max_score, _now(), json.dumps(report.to_dict(), default=str))).lastrowid
            c.executemany(
                "INSERT INTO results VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [(submission_id, r.id, r.task, r.name, r.status, r.score, r.max_score, r.message, r.hint,
                  r.duration_s, r.output) for r in report.checks])
        self._write(f"save {student}'s grades", insert)

    def latest(self, assignment: str | None = None) -> list[Graded]:
        """The most recent graded submission of every student (of ``assignment``, or of every assignment)."""
        rows = self.db.execute(
            "SELECT s.student, COALESCE(n.name, ''), s.run_id, s.submission_hash, s.report FROM submissions s "
            "LEFT JOIN students n ON n.assignment = s.assignment AND n.student = s.student "
            "WHERE s.id IN (SELECT MAX(id) FROM submissions GROUP BY assignment, student) "
            "AND (? IS NULL OR s.assignment = ?) ORDER BY s.assignment, s.student", (assignment, assignment))
        return [Graded(s, n, r, h, Report.from_dict(json.loads(rep))) for s, n, r, h, rep in rows]

    def history(self, student: str) -> list[dict]:
        rows = self.db.execute(
            "SELECT id, run_id, assignment, submission_hash, dlgrade_version, score, max_score, graded_at, report "
            "FROM submissions WHERE student = ? ORDER BY id", (student,)).fetchall()
        keys = ("id", "run_id", "assignment", "submission_hash", "dlgrade_version", "score", "max_score", "graded_at")
        return [{**dict(zip(keys, row[:-1])), "report": Report.from_dict(json.loads(row[-1]))} for row in rows]

    def run_reports(self, run_id: int) -> dict[str, Report]:
        if self.db.execute("SELECT 1 FROM runs WHERE id = ?", (run_id,)).fetchone() is None:
            raise UsageError(f"no run {run_id} in the gradebook {self.path} (see `dlgrade gradebook list`)")
        rows = self.db.execute("SELECT student, report FROM submissions WHERE run_id = ?", (run_id,))
        return {s: Report.from_dict(json.loads(rep)) for s, rep in rows}

"""The gradebook: one SQLite file (WAL), written only by the parent, that loses and duplicates nothing.

Tables:
  runs         one row per ``dlgrade grade``: dlgrade's version, the seed, the machine, the isolation
               layers that were active, the selection of tasks, when it started and finished.
  submissions  one row per graded (assignment, student, submission hash) in a run: the score and the
               whole report as JSON. A regrade adds a row; old rows stay (history).
  results      one row per check of each graded submission.
  students     names from the roster.
  repositories one row per repository regraded from its commits (``dlgrade grade --deadline``): the source,
               branch, deadline, the commit graded with its committer and author dates, whether its history
               looks rewritten, the CI files that differ from the template, and the failure (one sentence)
               when nothing was graded. Tied to its submission row (written in the same transaction);
               a repository that could not be cloned has a row with no submission.
  not_graded   one row per student a run could not grade (anything but a repository: those have their
               ``repositories`` row), with the reason in one sentence. No grade, not a zero: a rerun tries
               again, and a later submission row supersedes it.
  overrides    every staff change to a grade (``dlgrade gradebook override`` / ``excuse``), oldest first: the
               student, the check (or ``total``), points / excuse / removal, the comment, who (the OS user) and
               when. Kept per (assignment, student, check), not per submission, so a regrade keeps them
               (``grader.batch.overrides``). Never updated or deleted: a removal is a row too.
  sources      the Python files of each graded submission (by assignment and submission hash), read from the
               submission with the same bounds as ``dlgrade check``: for ``dlgrade gradebook similar``.
  rosters      the roster each ``dlgrade grade --roster`` was given, as its bytes (a Canvas gradebook export or a
               Moodle grading worksheet is written back by the exports with only the grade cells changed),
               with its kind and the id column that matched the submissions. The latest one per assignment
               is the one used.
  lateness     per run and student: the submission time the layout carried (and where from), the LMS's late
               marker, the due time that applied (an extension moved it), the days late, the policy and the
               penalty (percent and points), with the raw score and the total after the penalty. Written only
               by a run; the latest row per (assignment, student) is the one in force (``grader.batch.late``).

The last two are created when a gradebook is opened (``CREATE TABLE IF NOT EXISTS``), without a schema version of
their own: nothing else changes, so an older dlgrade still reads the file.

Schema versions (``PRAGMA user_version``): 0 is the first layout; 1 adds ``repositories``; 2 adds
``not_graded``; 3 adds ``overrides`` and ``sources``. Opening an older gradebook adds what is missing and keeps
every row, so old gradebooks stay readable.

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

from grader.batch.late import penalty_points
from grader.batch.overrides import Override, final_grade, in_force
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
CREATE TABLE IF NOT EXISTS rosters (
    id INTEGER PRIMARY KEY, run_id INTEGER REFERENCES runs(id), assignment TEXT NOT NULL, kind TEXT NOT NULL,
    id_column TEXT NOT NULL, file_name TEXT NOT NULL, content BLOB NOT NULL, recorded_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS lateness (
    id INTEGER PRIMARY KEY, run_id INTEGER NOT NULL REFERENCES runs(id), assignment TEXT NOT NULL,
    student TEXT NOT NULL, submitted_at TEXT NOT NULL, time_source TEXT NOT NULL, marker INTEGER NOT NULL,
    due TEXT NOT NULL, late_days REAL, policy TEXT NOT NULL, penalty_percent REAL NOT NULL, raw REAL,
    penalty REAL NOT NULL, total REAL, recorded_at TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS lateness_student ON lateness (assignment, student);
"""
LATENESS_COLUMNS = ("submitted_at", "time_source", "marker", "due", "late_days", "policy", "penalty_percent", "raw",
                    "penalty", "total")
SCHEMA_VERSION = 3
MIGRATIONS = {1: """
CREATE TABLE IF NOT EXISTS repositories (
    id INTEGER PRIMARY KEY, run_id INTEGER NOT NULL REFERENCES runs(id),
    submission_id INTEGER UNIQUE REFERENCES submissions(id), assignment TEXT NOT NULL, student TEXT NOT NULL,
    source TEXT NOT NULL, branch TEXT NOT NULL, deadline TEXT NOT NULL, commit_hash TEXT NOT NULL,
    committed_at TEXT NOT NULL, authored_at TEXT NOT NULL, rewritten INTEGER NOT NULL,
    ci_files_changed TEXT NOT NULL, failure TEXT NOT NULL, kind TEXT NOT NULL, recorded_at TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS repositories_student ON repositories (assignment, student);
""", 2: """
CREATE TABLE IF NOT EXISTS not_graded (
    id INTEGER PRIMARY KEY, run_id INTEGER NOT NULL REFERENCES runs(id), assignment TEXT NOT NULL,
    student TEXT NOT NULL, source TEXT NOT NULL, reason TEXT NOT NULL, recorded_at TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS not_graded_student ON not_graded (assignment, student);
""", 3: """
CREATE TABLE IF NOT EXISTS overrides (
    id INTEGER PRIMARY KEY, assignment TEXT NOT NULL, student TEXT NOT NULL, check_id TEXT NOT NULL,
    action TEXT NOT NULL, points REAL, comment TEXT NOT NULL, who TEXT NOT NULL, at TEXT NOT NULL,
    was TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS overrides_student ON overrides (assignment, student);
CREATE TABLE IF NOT EXISTS sources (
    assignment TEXT NOT NULL, submission_hash TEXT NOT NULL, name TEXT NOT NULL, text TEXT NOT NULL,
    PRIMARY KEY (assignment, submission_hash, name));
"""}
REPOSITORY_COLUMNS = ("source", "branch", "deadline", "commit_hash", "committed_at", "authored_at", "rewritten",
                      "ci_files_changed", "failure", "kind")


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
    repository: dict | None = None  # the ``repositories`` record when graded from a repository's commit
    overrides: tuple[Override, ...] = ()  # the staff's changes in force (``grader.batch.overrides``)
    penalty: float = 0.0  # late-penalty points in force (``lateness`` table's latest row, applied by ``latest``)

    @property
    def final(self):
        """The grade of record: the report with the late penalty and the staff's changes (``final_grade``)."""
        return final_grade(self.report, self.overrides, self.penalty)


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
            self.db.execute("PRAGMA synchronous=NORMAL")
            self.db.execute("PRAGMA foreign_keys=ON")
            self.db.executescript(SCHEMA)  # a new file gets its tables in place, before WAL: the WAL is for grades
            self._migrate()
            self.db.execute("PRAGMA journal_mode=WAL")
        except sqlite3.DatabaseError as exc:
            raise GradebookError(f"cannot open the gradebook {self.path}: {exc}") from None

    def _migrate(self) -> None:
        """Bring an older gradebook to ``SCHEMA_VERSION``: only additions, every existing row kept."""
        version = self.db.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise GradebookError(f"the gradebook {self.path} was written by a newer dlgrade (schema {version}); "
                                 f"upgrade dlgrade to read it")
        for step in range(version + 1, SCHEMA_VERSION + 1):
            self.db.execute("BEGIN IMMEDIATE")
            try:
                for statement in MIGRATIONS[step].split(";"):
                    if statement.strip():
                        self.db.execute(statement)
                self.db.execute(f"PRAGMA user_version = {step}")
                self.db.execute("COMMIT")
            except BaseException:
                self.db.execute("ROLLBACK")
                raise

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
                if self.db.in_transaction:  # SQLite already rolled back after a full disk: say why, not that
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
               report: Report, repository: dict | None = None, sources: dict[str, str] | None = None) -> None:
        """Save one student's report: the submission row, every check row, its repository and its Python files
        (``sources``, kept once per content hash), in one transaction."""
        def insert(c):
            if sources:
                self._insert_sources(c, report.assignment, submission_hash, sources)
            submission_id = c.execute(
                "INSERT INTO submissions (run_id, assignment, student, submission_hash, dlgrade_version, selection, "
                "source, score, max_score, graded_at, report) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (run_id, report.assignment, student, submission_hash, version, selection, report.submission,
                 report.score, report.max_score, _now(), json.dumps(report.to_dict(), default=str))).lastrowid
            c.executemany(
                "INSERT INTO results VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [(submission_id, r.id, r.task, r.name, r.status, r.score, r.max_score, r.message, r.hint,
                  r.duration_s, r.output) for r in report.checks])
            if repository is not None:
                self._insert_repository(c, run_id, submission_id, report.assignment, student, repository)
        self._write(f"save {student}'s grades", insert)

    @staticmethod
    def _insert_repository(c, run_id: int, submission_id: int | None, assignment: str, student: str,
                           record: dict) -> None:
        c.execute(
            "INSERT INTO repositories (run_id, submission_id, assignment, student, source, branch, deadline, "
            "commit_hash, committed_at, authored_at, rewritten, ci_files_changed, failure, kind, recorded_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (run_id, submission_id, assignment, student, record["source"], record["branch"], record["deadline"],
             record["commit"], record["committed"], record["authored"], int(bool(record["rewritten"])),
             json.dumps(list(record["ci_files_changed"])), record["failure"], record["kind"], _now()))

    def record_repository_failure(self, run_id: int, assignment: str, student: str, record: dict) -> None:
        """Keep a repository that could not be cloned (no grade: it is graded on a rerun)."""
        self._write(f"save why {student}'s repository was not graded",
                    lambda c: self._insert_repository(c, run_id, None, assignment, student, record))

    def record_not_graded(self, run_id: int, assignment: str, student: str, source: str, reason: str) -> None:
        """Keep why one student could not be graded in this run (one sentence; no grade, a rerun tries again)."""
        self._write(f"save why {student} was not graded", lambda c: c.execute(
            "INSERT INTO not_graded (run_id, assignment, student, source, reason, recorded_at) "
            "VALUES (?, ?, ?, ?, ?, ?)", (run_id, assignment, student, source, reason, _now())))

    def not_graded(self, assignment: str) -> dict[str, dict]:
        """Students whose latest run left them without a grade (any cause) and who have no grade since.

        Each value has the keys of a ``repositories`` record (``failure`` the reason, ``kind`` e.g. ``not-cloned``
        for a repository; empty for any other submission), so exports treat both alike.
        """
        rows = self.db.execute(
            "SELECT student, run_id, source, reason FROM not_graded r WHERE assignment = ? "
            "AND id IN (SELECT MAX(id) FROM not_graded GROUP BY assignment, student) "
            "AND NOT EXISTS (SELECT 1 FROM submissions s WHERE s.assignment = r.assignment "
            "AND s.student = r.student AND s.run_id > r.run_id)", (assignment,)).fetchall()
        found = {student: (run_id, {"source": source, "branch": "", "deadline": "", "commit": "", "committed": "",
                                    "authored": "", "rewritten": False, "ci_files_changed": [], "failure": reason,
                                    "kind": ""})
                 for student, run_id, source, reason in rows}
        repository_runs = dict(self.db.execute(
            "SELECT student, MAX(run_id) FROM repositories WHERE assignment = ? GROUP BY student", (assignment,)))
        for student, record in self.not_cloned(assignment).items():
            if student not in found or repository_runs.get(student, 0) >= found[student][0]:
                found[student] = (repository_runs.get(student, 0), record)
        return {student: record for student, (_, record) in sorted(found.items())}

    @staticmethod
    def _repository(row) -> dict | None:
        if row is None or row[0] is None:
            return None
        record = dict(zip(("source", "branch", "deadline", "commit", "committed", "authored", "rewritten",
                           "ci_files_changed", "failure", "kind"), row))
        record["rewritten"] = bool(record["rewritten"])
        record["ci_files_changed"] = json.loads(record["ci_files_changed"])
        return record

    def repository(self, submission_id: int) -> dict | None:
        """The repository record of one submission row (None when it was not graded from a repository)."""
        return self._repository(self.db.execute(
            f"SELECT {', '.join(REPOSITORY_COLUMNS)} FROM repositories WHERE submission_id = ?",
            (submission_id,)).fetchone())

    def latest_repositories(self) -> list[dict]:
        """The latest repository record of every (assignment, student), with ``assignment``, ``student``, ``run_id``."""
        rows = self.db.execute(
            f"SELECT assignment, student, run_id, {', '.join(REPOSITORY_COLUMNS)} FROM repositories "
            "WHERE id IN (SELECT MAX(id) FROM repositories GROUP BY assignment, student) "
            "ORDER BY assignment, student").fetchall()
        return [{"assignment": a, "student": s, "run_id": r, **self._repository(rest)} for a, s, r, *rest in rows]

    def not_cloned(self, assignment: str) -> dict[str, dict]:
        """Students whose latest repository regrade was not graded (not cloned, an unreadable commit date, a failure
        while grading it) and who have no grade since, by student."""
        rows = self.db.execute(
            f"SELECT student, {', '.join(REPOSITORY_COLUMNS)} FROM repositories r WHERE assignment = ? "
            "AND submission_id IS NULL AND id IN (SELECT MAX(id) FROM repositories GROUP BY assignment, student) "
            "AND NOT EXISTS (SELECT 1 FROM submissions s WHERE s.assignment = r.assignment "
            "AND s.student = r.student AND s.run_id > r.run_id)", (assignment,)).fetchall()
        return {row[0]: self._repository(row[1:]) for row in rows}

    def latest(self, assignment: str | None = None) -> list[Graded]:
        """The most recent graded submission of every student (of ``assignment``, or of every assignment)."""
        rows = self.db.execute(
            "SELECT s.student, COALESCE(n.name, ''), s.run_id, s.submission_hash, s.report, "
            f"{', '.join('p.' + c for c in REPOSITORY_COLUMNS)} FROM submissions s "
            "LEFT JOIN students n ON n.assignment = s.assignment AND n.student = s.student "
            "LEFT JOIN repositories p ON p.submission_id = s.id "
            "WHERE s.id IN (SELECT MAX(id) FROM submissions GROUP BY assignment, student) "
            "AND (? IS NULL OR s.assignment = ?) ORDER BY s.assignment, s.student", (assignment, assignment))
        changes = self.overrides_in_force(assignment)
        percents = self._penalty_percents(assignment)
        graded = []
        for s, n, r, h, rep, *repo in rows:
            report = Report.from_dict(json.loads(rep))
            penalty = penalty_points(report.score, percents.get((report.assignment, s), 0.0))
            graded.append(Graded(s, n, r, h, report, self._repository(repo),
                                 tuple(changes.get((report.assignment, s), ())), penalty))
        return graded

    def _penalty_percents(self, assignment: str | None) -> dict[tuple[str, str], float]:
        """The late penalty in force (percent) per (assignment, student): each one's latest ``lateness`` row."""
        rows = self.db.execute(
            "SELECT assignment, student, penalty_percent FROM lateness WHERE id IN (SELECT MAX(id) FROM lateness "
            "WHERE ? IS NULL OR assignment = ? GROUP BY assignment, student)", (assignment, assignment))
        return {(a, s): percent or 0.0 for a, s, percent in rows}

    def history(self, student: str) -> list[dict]:
        rows = self.db.execute(
            "SELECT id, run_id, assignment, submission_hash, dlgrade_version, score, max_score, graded_at, report "
            "FROM submissions WHERE student = ? ORDER BY id", (student,)).fetchall()
        keys = ("id", "run_id", "assignment", "submission_hash", "dlgrade_version", "score", "max_score", "graded_at")
        return [{**dict(zip(keys, row[:-1])), "report": Report.from_dict(json.loads(row[-1])),
                 "repository": self.repository(row[0])} for row in rows]

    def run_reports(self, run_id: int) -> dict[str, Report]:
        if self.db.execute("SELECT 1 FROM runs WHERE id = ?", (run_id,)).fetchone() is None:
            raise UsageError(f"no run {run_id} in the gradebook {self.path} (see `dlgrade gradebook list`)")
        rows = self.db.execute("SELECT student, report FROM submissions WHERE run_id = ?", (run_id,))
        return {s: Report.from_dict(json.loads(rep)) for s, rep in rows}

    # overrides --------------------------------------------------------------------------------------------------
    def add_override(self, assignment: str, change: Override) -> None:
        """Append one staff change (a removal too) to the history."""
        self._write(f"save the change to {change.student}'s {change.check}", lambda c: c.execute(
            "INSERT INTO overrides (assignment, student, check_id, action, points, comment, who, at, was) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (assignment, change.student, change.check, change.action, change.points, change.comment, change.who,
             change.at, change.was)))

    def override_history(self, assignment: str | None = None, student: str | None = None
                         ) -> list[tuple[str, Override]]:
        """Every staff change, oldest first, as (assignment, change); of one assignment and student if given."""
        rows = self.db.execute(
            "SELECT assignment, student, check_id, action, points, comment, who, at, was FROM overrides "
            "WHERE (? IS NULL OR assignment = ?) AND (? IS NULL OR student = ?) ORDER BY id",
            (assignment, assignment, student, student))
        return [(a, Override(*rest)) for a, *rest in rows]

    def overrides_in_force(self, assignment: str | None = None) -> dict[tuple[str, str], list[Override]]:
        """The changes in force per (assignment, student)."""
        history: dict[tuple[str, str], list[Override]] = {}
        for a, change in self.override_history(assignment):
            history.setdefault((a, change.student), []).append(change)
        return {key: in_force(changes) for key, changes in history.items()}

    # sources ----------------------------------------------------------------------------------------------------
    def has_sources(self, assignment: str, submission_hash: str) -> bool:
        return self.db.execute("SELECT 1 FROM sources WHERE assignment = ? AND submission_hash = ? LIMIT 1",
                               (assignment, submission_hash)).fetchone() is not None

    @staticmethod
    def _insert_sources(c, assignment: str, submission_hash: str, files: dict[str, str]) -> None:
        c.executemany("INSERT OR IGNORE INTO sources (assignment, submission_hash, name, text) VALUES (?, ?, ?, ?)",
                      [(assignment, submission_hash, name, text) for name, text in sorted(files.items())])

    def keep_sources(self, assignment: str, submission_hash: str, files: dict[str, str]) -> None:
        """Keep the Python files of one submission graded before dlgrade kept them (once per content hash)."""
        if files:
            self._write("keep the submission's code",
                        lambda c: self._insert_sources(c, assignment, submission_hash, files))

    def sources(self, assignment: str, submission_hash: str) -> dict[str, str]:
        return dict(self.db.execute("SELECT name, text FROM sources WHERE assignment = ? AND submission_hash = ? "
                                    "ORDER BY name", (assignment, submission_hash)))

    # rosters and lateness (LMS round trips, late work) --------------------------------------------------------------
    def set_roster(self, run_id: int | None, assignment: str, kind: str, id_column: str, file_name: str,
                   content: bytes) -> None:
        """Keep the roster a run was given, as its bytes (the Canvas and Moodle exports write it back)."""
        self._write("keep the roster", lambda c: c.execute(
            "INSERT INTO rosters (run_id, assignment, kind, id_column, file_name, content, recorded_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)", (run_id, assignment, kind, id_column, file_name, content, _now())))

    def roster(self, assignment: str) -> dict | None:
        """The latest roster kept for ``assignment``: ``kind``, ``id_column``, ``file_name``, ``content``."""
        row = self.db.execute("SELECT kind, id_column, file_name, content FROM rosters WHERE assignment = ? "
                              "ORDER BY id DESC LIMIT 1", (assignment,)).fetchone()
        return dict(zip(("kind", "id_column", "file_name", "content"), row)) if row else None

    def record_lateness(self, run_id: int, assignment: str, rows: dict[str, dict]) -> None:
        """One row per student (``LATENESS_COLUMNS``), all in one transaction."""
        def insert(c):
            c.executemany(
                f"INSERT INTO lateness (run_id, assignment, student, {', '.join(LATENESS_COLUMNS)}, recorded_at) "
                f"VALUES (?, ?, ?, {', '.join('?' * len(LATENESS_COLUMNS))}, ?)",
                [(run_id, assignment, student, *[row[k] for k in LATENESS_COLUMNS], _now())
                 for student, row in sorted(rows.items())])
        if rows:
            self._write("save the submission times and late penalties", insert)

    def lateness(self, assignment: str) -> dict[str, dict]:
        """The latest lateness row of every student of ``assignment`` (``LATENESS_COLUMNS`` and ``run_id``)."""
        rows = self.db.execute(
            f"SELECT student, run_id, {', '.join(LATENESS_COLUMNS)} FROM lateness WHERE id IN "
            "(SELECT MAX(id) FROM lateness WHERE assignment = ? GROUP BY student)", (assignment,)).fetchall()
        return {student: {"run_id": run, **dict(zip(LATENESS_COLUMNS, rest))} for student, run, *rest in rows}

    def run_options(self, assignment: str) -> list[tuple[int, dict]]:
        """``(run id, options)`` of every run of ``assignment``, newest first (a rerun reuses the last late policy)."""
        rows = self.db.execute("SELECT id, options FROM runs WHERE assignment = ? ORDER BY id DESC", (assignment,))
        return [(run_id, json.loads(options)) for run_id, options in rows]

"""``grade_class``: the library call behind ``dlgrade grade``.

Discover the students (or, with a ``deadline``, clone each listed repository
and unpack its last commit before it: ``grader.batch.repositories``), skip
those already graded (same hash, dlgrade version and tasks), send the rest
to an executor (local processes or Dask), and save each result in the
gradebook as it arrives, in the parent only. ``progress`` receives a
``Progress`` after every student, so the CLI can draw a bar without this
module knowing about rich.
"""

from __future__ import annotations

import hashlib
import os
import platform
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from importlib import metadata
from pathlib import Path

from grader import api, tempfolders
from grader.batch import late
from grader.batch.discover import Discovery, Entry, discover_download, extract_zip, owners, submission_hash
from grader.batch.faults import crash_sentence, machine_wide
from grader.batch.gradebook import Gradebook
from grader.batch.repositories import GRADER_FAILURE, Regrade, check_branch, read_sources, regrade_class, zero_report
from grader.batch.roster import Roster, load_roster
from grader.engine import default_jobs
from grader.errors import UsageError
from grader.result import Report
from grader.text import encodable, encodable_data, from_os


def dlgrade_version() -> str:
    try:
        return metadata.version("dlgrade")
    except metadata.PackageNotFoundError:
        return "0+unknown"


def machine() -> dict:
    return {"node": platform.node(), "system": platform.system(), "machine": platform.machine(),
            "cpus": os.cpu_count(), "python": platform.python_version()}


@dataclass(frozen=True)
class Progress:
    """Where a class grading stands, after each student."""

    total: int
    done: int
    passed: int
    failed: int
    errored: int
    skipped: int
    elapsed_s: float
    last: str = ""
    phase: str = "grading"  # or "cloning" (--deadline: repositories are snapshotted before grading starts)

    @property
    def eta_s(self) -> float | None:
        graded = self.done - self.skipped
        left = self.total - self.done
        return None if graded <= 0 else self.elapsed_s / graded * left


@dataclass(frozen=True)
class ClassResult:
    """What one ``dlgrade grade`` did."""

    run_id: int
    gradebook: Path
    seed: int
    graded: dict[str, Report] = field(default_factory=dict)
    skipped: tuple[str, ...] = ()
    errors: dict[str, str] = field(default_factory=dict)  # student -> why the grader could not grade them
    missing: tuple[str, ...] = ()  # on the roster, no submission
    unknown: tuple[str, ...] = ()  # submitted, not on the roster
    duration_s: float = 0.0
    repositories: dict[str, dict] = field(default_factory=dict)  # student -> repository record (--deadline)
    notes: tuple[str, ...] = ()  # lines for the run's summary: the layout, the roster's id column, the late policy
    incomplete: dict[str, tuple[str, ...]] = field(default_factory=dict)  # student -> expected files not handed in
    unplaced: dict[str, tuple[str, ...]] = field(default_factory=dict)  # student ("" for none) -> files not graded
    lateness: dict[str, late.Lateness] = field(default_factory=dict)  # student -> late or marked late only


def _outcome(report: Report) -> str:
    if report.all_passed:
        return "passed"
    if any(c.status in ("error", "timeout") for c in report.checks):
        return "errored"
    return "failed"


def _executor(name: str, jobs: int, scheduler: str | None, assignment):
    if name == "local":
        from grader.batch.local import LocalExecutor
        return LocalExecutor(jobs, assignment)
    if name == "dask":
        from grader.batch.dask_executor import DaskExecutor
        return DaskExecutor(scheduler, jobs)
    raise UsageError(f"unknown executor {name!r}; use local or dask")


def grade_class(assignment: str, submissions: str | Path, *, gradebook: str | Path = "gradebook.sqlite",
                jobs: int = 1, roster: str | Path | None = None, tasks: list[str] | None = None,
                seed: int | None = None, budget_s: float | None = None, timeout_scale: float = 1.0,
                executor: str = "local", scheduler: str | None = None, regrade: bool = False,
                progress: Callable[[Progress], None] | None = None, deadline: datetime | None = None,
                branch: str = "HEAD", due: datetime | None = None, late_policy: str | None = None,
                extensions: str | Path | None = None, keep_late_policy: bool = True) -> ClassResult:
    """Grade every submission in ``submissions`` for ``assignment`` into the gradebook; see the module doc.

    With ``deadline`` (a time-zone-aware datetime), ``submissions`` lists repositories (a text file, GitHub
    Classroom's CSV, or a folder of clones: ``repositories.read_sources``); each is graded at its last commit
    on ``branch`` at or before the deadline, and the gradebook keeps the commit, its dates and the flags.

    With ``due`` (aware), each submission's time (``grader.batch.late``) gives its days late and, with
    ``late_policy``, a penalty; ``extensions`` (a CSV) moves the due time of some students. Without ``due``
    the last run's policy is kept (``keep_late_policy=False`` drops it); without any, nothing is deducted.
    """
    spec = api.get_assignment(assignment)
    api.require(spec)  # a module the grader or the sandbox needs (torch, a declared package): exit 2, not N failures
    api.validate_tasks(spec, tasks)
    submissions = Path(submissions)
    if not submissions.exists():
        raise UsageError(f"no such file or folder: {submissions}")
    if deadline is not None:
        if deadline.tzinfo is None:
            raise UsageError("the deadline needs a time zone, e.g. 2026-11-02T23:59:00+01:00")
        check_branch(branch)
    elif submissions.is_file() and submissions.suffix.lower() != ".zip" and _looks_like_a_list(submissions):
        raise UsageError(f"{submissions} looks like a list of repositories: add --deadline ISO8601 to grade each "
                         f"one's last commit before the deadline")
    class_roster = load_roster(Path(roster)) if roster else None
    names: dict[str, str] = {}
    version, selection = dlgrade_version(), ",".join(sorted(tasks)) if tasks else "*"
    started = time.perf_counter()
    tempfolders.remove_abandoned()  # what earlier runs killed outright (SIGKILL, out of memory) left behind
    staging_folder = tempfolders.TempFolder("dlgrade-class-")
    staging = staging_folder.path
    book = Gradebook(Path(gradebook))
    runner = None
    try:
        if executor == "local":  # its workers and zygote start now, while the submissions are read and hashed
            runner = _executor(executor, jobs, scheduler, spec)
        plan = late.resolve_plan(due, late_policy, Path(extensions) if extensions else None, keep_late_policy,
                                 book.run_options(spec.id))
        root = submissions
        regrades: dict[str, Regrade] = {}
        unpacked: dict[Path, str] = {}  # files of the class's zip that could not be extracted, and why
        twice: dict[str, str] = {}  # students with two submissions: which to grade is the staff's call
        found_download = Discovery("", [])
        if deadline is not None:
            sources = read_sources(submissions)
            cloned: list[str] = []

            def cloning(r: Regrade) -> None:
                cloned.append(r.student)
                if progress:
                    progress(Progress(len(sources), len(cloned), 0, 0, 0, 0, time.perf_counter() - started,
                                      r.student, phase="cloning"))

            regrades = {r.student: r for r in regrade_class(sources, deadline, staging / "repositories", branch,
                                                            spec.id, threads=max(4, jobs), each=cloning)}
            entries = [Entry(r.student, r.snapshot.folder, "repository") for r in regrades.values() if r.snapshot]
        elif submissions.is_file():
            if submissions.suffix.lower() != ".zip":
                raise UsageError(f"{submissions} is not a folder or a .zip of submissions")
            root = extract_zip(submissions, staging / "download", unpacked)
            found_download = discover_download(root, staging / "regrouped", spec.files, twice)
        else:
            found_download = discover_download(root, staging / "regrouped", spec.files, twice)
        if found_download.layout:
            entries = found_download.entries
        if not entries and not regrades and not twice:
            raise UsageError(f"no submissions found in {submissions} (expected folders, .zip or .ipynb files, "
                             f"or an LMS download)")
        found = {e.student for e in entries} | set(regrades) | set(twice)
        notes: list[str] = []
        if found_download.layout not in ("", "folder"):
            notes.append(f"layout: {found_download.layout} download, {len(entries)} student(s)")
        if class_roster is not None:
            class_roster, sentence = class_roster.choose(found)
            notes.append(sentence)
            names = class_roster.names()
        if names:
            book.set_names(spec.id, names)
        known = book.names(spec.id)  # a name from a roster, now or before, wins over one from a file name
        found_names = {e.student: e.name for e in entries if e.name and e.student not in names and
                       not known.get(e.student)}
        if found_names:
            book.set_names(spec.id, found_names)
        if seed is None:
            seed = book.latest_seed(spec.id)
        seed = secrets.randbelow(2**31) if seed is None else int(seed)
        todo: list[tuple[Entry, str]] = []
        skipped = []
        hashes_zero: dict[str, str] = {}  # nothing in time: a zero, skipped on a rerun with the same deadline
        for student, r in regrades.items():
            if r.snapshot is None and not r.not_graded:
                digest = hashlib.sha256(f"{r.kind}\0{r.deadline}\0{r.branch}".encode()).hexdigest()
                if not regrade and book.already_graded(spec.id, student, digest, version, selection):
                    skipped.append(student)
                else:
                    hashes_zero[student] = digest
        failed = {**twice, **owners(unpacked, entries)}  # student -> why they cannot be graded, found before grading
        for entry in entries:
            if entry.student in failed:
                continue
            try:
                digest = submission_hash(entry.path)
            except Exception as exc:  # noqa: BLE001 - an unreadable file or our bug: this student only
                if machine_wide(exc):
                    raise
                failed[entry.student] = crash_sentence(exc, "reading the submission's files")
                continue
            if not regrade and book.already_graded(spec.id, entry.student, digest, version, selection):
                skipped.append(entry.student)
                _keep_code(book, spec, entry.path, digest, staging)  # graded before dlgrade kept code
            else:
                todo.append((entry, digest))
        run_id = book.start_run(spec.id, version, seed, selection, machine(),
                                {"jobs": jobs, "executor": executor, "budget_s": budget_s,
                                 "timeout_scale": timeout_scale, "tasks": tasks or [], **plan.to_options()})
        if class_roster is not None:
            book.set_roster(run_id, spec.id, class_roster.kind, class_roster.id_column,
                            Path(roster).name, class_roster.table.render().encode("utf-8", "surrogateescape"))
        counts = {"passed": 0, "failed": 0, "errored": 0}
        graded: dict[str, Report] = {}
        errors: dict[str, str] = {}
        isolation: dict = {}
        hashes = {e.student: d for e, d in todo}
        sources = {e.student: _source(e, staging) for e in entries}

        def not_graded(student: str, why: str) -> None:
            """``student`` has no grade this run, for ``why`` (one sentence): kept in the gradebook, retried on a
            rerun; the rest of the class goes on."""
            why = encodable(why)
            errors[student] = why
            if student in regrades:
                record = {**regrades[student].to_record(), "failure": why}
                record["kind"] = record["kind"] if regrades[student].not_graded else GRADER_FAILURE
                book.record_repository_failure(run_id, spec.id, student, record)
            else:
                book.record_not_graded(run_id, spec.id, student, sources.get(student, student), why)

        def save(student: str, digest: str, report: dict) -> None:
            """Record ``student``'s report (every string in it made encodable: what a submission printed or raised
            is text to keep, escaped); a failure for this one report, unless the disk is full, is theirs alone."""
            try:
                graded_report = _named(Report.from_dict(encodable_data(report)), student, regrades, sources)
                if entry_notes.get(student):  # what the download's reading did: shown in the feedback too
                    graded_report = replace(graded_report, diagnostics={
                        **graded_report.diagnostics, "submission_notes": [
                            *entry_notes[student], *graded_report.diagnostics.get("submission_notes", [])]})
                book.record(run_id, student, digest, version, selection, graded_report,
                            regrades[student].to_record() if student in regrades else None,
                            _code(book, spec, paths.get(student), digest, staging))
            except Exception as exc:  # noqa: BLE001 - our bug for this one report: this student only
                if machine_wide(exc):  # a full disk: every next student would fail alike
                    raise
                not_graded(student, crash_sentence(exc, "saving the grade"))
                return
            graded[student] = graded_report
            counts[_outcome(graded_report)] += 1
            if not isolation:
                isolation.update(graded_report.diagnostics.get("isolation") or {})

        total = len(entries) + len(twice) + len(regrades) - sum(1 for r in regrades.values() if r.snapshot)
        paths = {e.student: e.path for e, _ in todo}
        entry_notes = {e.student: [encodable(n) for n in _entry_notes(e)] for e, _ in todo}

        def tell(last: str) -> None:
            if progress:
                progress(Progress(total, len(skipped) + len(graded) + len(errors), counts["passed"],
                                  counts["failed"], counts["errored"] + len(errors), len(skipped),
                                  time.perf_counter() - started, last))

        tell("")
        # The cores go to submissions side by side first; what is left, to each submission's own checks.
        check_jobs = 1 if executor == "dask" else max(1, default_jobs() // max(1, jobs))
        scratch = staging / "scratch"  # the workers' staging folders: removed below even if a worker was killed
        scratch.mkdir()
        jobs_list = [{"assignment": spec.id, "student": e.student, "path": str(e.path), "tasks": tasks, "seed": seed,
                      "timeout_scale": timeout_scale, "budget_s": budget_s, "check_jobs": check_jobs,
                      "scratch": str(scratch)} for e, _ in todo]
        status = "interrupted"
        try:
            for student, why in sorted(failed.items()):  # those who cannot be graded, first
                not_graded(student, why)
                tell(student)
            for student, r in sorted(regrades.items()):  # then the repositories with nothing to run
                if r.not_graded:
                    not_graded(student, r.failure)
                    tell(student)
                elif student in hashes_zero:
                    save(student, hashes_zero[student], zero_report(spec, r, tasks).to_dict())
                    tell(student)
            if jobs_list and runner is None:
                runner = _executor(executor, jobs, scheduler, spec)
            for result in (runner.run(jobs_list) if jobs_list else ()):
                student = result["student"]
                if "report" in result:
                    save(student, hashes[student], result["report"])
                else:
                    not_graded(student, result.get("internal_error") or "the worker gave no report and no reason")
                tell(student)
            late_found = _record_lateness(book, run_id, spec.id, plan, entries, regrades, class_roster, graded)
            status = "finished"
        finally:
            if runner is not None:
                runner.close()
                runner = None
            try:
                book.finish_run(run_id, status, isolation)
            except UsageError:
                if status == "finished":
                    raise
        if plan.due is not None:
            notes.append(plan.describe())
        incomplete = {e.student: e.incomplete for e in entries if e.incomplete}
        unplaced = {e.student: e.unplaced for e in entries if e.unplaced}
        if found_download.unplaced:
            unplaced[""] = found_download.unplaced
        return ClassResult(run_id=run_id, gradebook=Path(gradebook), seed=seed, graded=graded,
                           skipped=tuple(skipped), errors=errors, notes=tuple(notes), incomplete=incomplete,
                           unplaced=unplaced, lateness=late_found,
                           missing=tuple(sorted(set(names) - found)) if names else (),
                           unknown=tuple(sorted(found - set(names))) if names else (),
                           duration_s=round(time.perf_counter() - started, 3),
                           repositories={s: r.to_record() for s, r in regrades.items()})
    finally:
        if runner is not None:
            runner.close()
        book.close()
        staging_folder.remove()


def _source(entry: Entry, staging: Path) -> str:
    """What the gradebook calls a submission: its path, or (regrouped or unzipped into the run's staging folder,
    which is gone after the run) its layout and student."""
    if entry.path.is_relative_to(staging):
        return f"{entry.layout} submission of {entry.student}"
    return from_os(entry.path)


def _named(report: Report, student: str, regrades: dict[str, Regrade], sources: dict[str, str]) -> Report:
    """``report`` naming the submission the gradebook can point to: a repository's commit, or ``_source``."""
    if student in regrades:  # name the commit, not the staging folder that is gone after the run
        snap = regrades[student].snapshot
        return replace(report, submission=encodable(f"{snap.source} @ {snap.commit[:12]}")) if snap else report
    return replace(report, submission=sources[student])


def _code(book: Gradebook, spec, path: Path | None, digest: str, staging: Path) -> dict[str, str] | None:
    """The submission's Python files, to keep with its grade for ``dlgrade gradebook similar`` (None when the
    gradebook has them already: kept once per content hash, or when they cannot be read: the code serves
    only ``similar`` and never costs a student a grade)."""
    from grader.batch.similar_code import read_code

    if path is None or book.has_sources(spec.id, digest):  # no files: a repository with nothing in time
        return None
    try:
        return read_code(path, spec.files, staging / "code" / digest[:16], spec.notebook_statements)
    except Exception as exc:  # noqa: BLE001 - an unreadable file or our bug: no code kept, the grade is saved
        if machine_wide(exc):
            raise
        return None


def _keep_code(book: Gradebook, spec, path: Path, digest: str, staging: Path) -> None:
    """Keep the code of a submission graded before dlgrade kept code. Best effort: the code serves only
    ``gradebook similar``, so a gradebook that cannot take it (a full disk) is reported when a grade is saved."""
    try:
        code = _code(book, spec, path, digest, staging)
        if code:
            book.keep_sources(spec.id, digest, code)
    except Exception:  # noqa: BLE001 - best effort for one student; a full disk is reported when a grade is saved
        pass


def _entry_notes(entry: Entry) -> list[str]:
    """What reading the download did to one student's files, for their report."""
    notes = list(entry.notes)
    if entry.unplaced:
        notes.append(f"not graded (not a file this assignment reads): {', '.join(entry.unplaced)}")
    if entry.late_marker:
        notes.append(f"the {entry.layout} download marks this submission late")
    return notes


def _record_lateness(book: Gradebook, run_id: int, assignment: str, plan: late.LatePlan, entries: list[Entry],
                     regrades: dict[str, Regrade], roster: Roster | None,
                     graded: dict[str, Report]) -> dict[str, late.Lateness]:
    """Each student's submission time, lateness and penalty, saved in the gradebook; returns the late ones.

    Times come only from what the layout carries (never a file's mtime): Gradescope's metadata, the Moodle
    worksheet given as roster, the commit a repository is graded at. A row is written for every student of
    the run, so that a rerun with another policy (or none) replaces the penalty."""
    moodle_times = roster.submission_times() if roster is not None else {}
    raws = {g.student: g.report.score for g in book.latest(assignment)}
    raws.update({s: r.score for s, r in graded.items()})
    sources: dict[str, tuple[str, str, bool]] = {}
    for entry in entries:
        if entry.student in regrades:
            continue
        when, source = entry.submitted_at, f"{entry.layout} metadata" if entry.submitted_at else ""
        marker = entry.late_marker
        if not when and entry.student in moodle_times:
            when, flagged = moodle_times[entry.student]
            source, marker = ("Moodle worksheet" if when else ""), marker or flagged
        sources[entry.student] = (when, source, marker)
    for student, regrade in regrades.items():
        if regrade.snapshot is not None:
            sources[student] = (regrade.snapshot.committed, "commit date", False)
    rows, found = {}, {}
    for student, (when, source, marker) in sources.items():
        if student not in raws:
            continue  # not graded (yet): its lateness is recorded with its grade
        result = plan.assess(student, when, source, marker)
        rows[student] = late.gradebook_row(result, plan, raws[student])
        if result.late_days or (result.marker and result.late_days is None):
            found[student] = result
    book.record_lateness(run_id, assignment, rows)
    return found


def _looks_like_a_list(path: Path) -> bool:
    """A small text file (not a zip): most likely a list of repositories given without --deadline."""
    try:
        with open(path, "rb") as f:
            head = f.read(4096)
    except OSError:
        return False
    return bool(head) and b"\0" not in head and not head.startswith(b"PK")


# --- reading the gradebook (dlgrade gradebook ...) ------------------------------------------------------------


@dataclass(frozen=True)
class Change:
    """One check whose outcome differs between two runs for one student."""

    student: str
    check: str
    before: str
    after: str


def list_runs(gradebook: str | Path) -> list[dict]:
    """Every run with its version, seed, machine, isolation layers and how many students it graded."""
    with Gradebook(Path(gradebook), create=False) as book:
        return book.runs()


def flagged_repositories(gradebook: str | Path) -> list[dict]:
    """Each student's latest repository regrade that needs a human look, with its ``flags`` (see ``repositories``)."""
    from grader.batch.repositories import flags

    with Gradebook(Path(gradebook), create=False) as book:
        records = book.latest_repositories()
    return [{**r, "flags": flags(r)} for r in records if flags(r)]


def student_history(gradebook: str | Path, student: str) -> list[dict]:
    """Every graded submission of ``student``, oldest first, each with its ``report``."""
    with Gradebook(Path(gradebook), create=False) as book:
        history = book.history(student)
        rosters = [(a, n[student]) for (a,) in book.db.execute("SELECT DISTINCT assignment FROM students")
                   if student in (n := book.names(a))] if not history else []
        failures = [(a, f[student]["failure"]) for (a,) in book.db.execute("SELECT DISTINCT assignment FROM runs")
                    if student in (f := book.not_graded(a))] if not history else []
    if failures:  # tried, not graded: say why, and that a rerun tries again
        assignment, why = failures[0]
        raise UsageError(f"{student!r} was not graded for {assignment}: {why.rstrip('.')}; rerun `dlgrade grade` "
                         f"to try again")
    if rosters:  # on a roster, never graded: not a typo
        assignment, name = rosters[0]
        raise UsageError(f"no grades for student {student!r} ({name}, on the roster of {assignment}): no submission "
                         f"was found for them, so the exports give them 0 as missing")
    if not history:
        raise UsageError(f"no grades for student {student!r} in the gradebook {gradebook}")
    return history


def diff_runs(gradebook: str | Path, run_a: int, run_b: int) -> tuple[list[Change], list[str], list[str]]:
    """(changed checks, students graded only in run_a, only in run_b) between two runs."""
    with Gradebook(Path(gradebook), create=False) as book:
        a, b = book.run_reports(run_a), book.run_reports(run_b)
    changes = []
    for student in sorted(set(a) & set(b)):
        before = {c.id: c for c in a[student].checks}
        for check in b[student].checks:
            old = before.get(check.id)
            old_text = f"{old.status} {old.score:g}/{old.max_score:g}" if old else "absent"
            new_text = f"{check.status} {check.score:g}/{check.max_score:g}"
            if old_text != new_text:
                changes.append(Change(student, check.id, old_text, new_text))
    return changes, sorted(set(a) - set(b)), sorted(set(b) - set(a))


def export_grades(gradebook: str | Path, format_name: str, output: str | Path,
                  assignment: str | None = None, roster: str | Path | None = None,
                  lms_column: str | None = None, feedback_dir: str | Path | None = None) -> list[Path]:
    """Write the latest grades as ``format_name`` (``exports.FORMATS``) to ``output``.

    Returns the files written (a list) with ``notes`` for the summary. ``roster`` (a Canvas gradebook export
    or a Moodle grading worksheet) replaces the one kept from ``dlgrade grade --roster``; ``lms_column`` names
    the Canvas column to fill; ``feedback_dir`` is where the class page links each student's feedback."""
    from grader.batch.exports import export

    with Gradebook(Path(gradebook), create=False) as book:
        return export(book, format_name, Path(output), assignment, Path(roster) if roster else None, lms_column,
                      feedback_dir)


def reconcile_ci(gradebook: str | Path, ci: str | Path, assignment: str | None = None):
    """Compare the CI results under ``ci`` with the latest staff grades (``grader.batch.reconcile``)."""
    from grader.batch.reconcile import reconcile

    with Gradebook(Path(gradebook), create=False) as book:
        assignments = sorted({g.report.assignment for g in book.latest()})
        if assignment is None and len(assignments) > 1:
            raise UsageError(f"the gradebook holds {', '.join(assignments)}: choose one with --assignment")
        assignment = assignment or (assignments[0] if assignments else None)
        if assignment is None or assignment not in assignments:
            raise UsageError(f"nothing graded for {assignment or 'any assignment'} in the gradebook {gradebook}")
        graded = {g.student: g.report for g in book.latest(assignment)}
    return reconcile(graded, Path(ci), assignment)


# --- staff changes and who failed what (dlgrade gradebook override / excuse / show --check) ---------------------


def _one_assignment(book: Gradebook, assignment: str | None) -> str:
    """``assignment``, or the only one graded in ``book``; one sentence when that is ambiguous or absent."""
    assignments = sorted({g.report.assignment for g in book.latest()})
    if assignment is None and len(assignments) > 1:
        raise UsageError(f"the gradebook holds {', '.join(assignments)}: choose one with --assignment")
    assignment = assignment or (assignments[0] if assignments else None)
    if assignment is None or assignment not in assignments:
        raise UsageError(f"nothing graded for {assignment or 'any assignment'} in the gradebook {book.path}")
    return assignment


def _graded_student(book: Gradebook, assignment: str, student: str):
    graded = next((g for g in book.latest(assignment) if g.student == student), None)
    if graded is None:
        name = book.names(assignment).get(student)
        if name is not None:
            raise UsageError(f"{student} ({name}) is on the roster of {assignment} but has no graded submission: "
                             f"grade one first")
        raise UsageError(f"no grades for student {student!r} in {assignment} (see `dlgrade gradebook export "
                         f"--format csv` for the ids)")
    return graded


def change_grade(gradebook: str | Path, student: str, check: str, action: str, comment: str,
                 points: float | None = None, assignment: str | None = None, bonus: bool = False):
    """Record one staff change (``points``, ``excuse`` or ``remove``) to ``student``'s ``check`` (or ``total``).

    Returns (the change, the grade of record before, after). Refuses, in one sentence, an unknown student or
    check, a missing comment and points outside [0, max] (above only with ``bonus``): ``overrides.validate``.
    """
    from grader.batch.gradebook import _now
    from grader.batch.overrides import Override, current_user, validate
    from grader.text import encodable

    comment = encodable(comment).strip()
    if not comment:
        raise UsageError("say why with --comment: every change to a grade is kept with its reason")
    with Gradebook(Path(gradebook), create=False) as book:
        assignment = _one_assignment(book, assignment)
        before = _graded_student(book, assignment, student)
        was = validate(before.report, list(before.overrides), check, action, points, bonus)
        change = Override(student, check, action, None if points is None else float(points), comment,
                          encodable(current_user()), _now(), was)
        book.add_override(assignment, change)
        after = _graded_student(book, assignment, student)
    return change, before.final, after.final


def staff_changes(gradebook: str | Path, student: str) -> dict[str, dict]:
    """Per assignment graded for ``student``: ``final`` (the grade of record) and ``history`` (every change)."""
    with Gradebook(Path(gradebook), create=False) as book:
        history = book.override_history(student=student)
        return {g.report.assignment: {"final": g.final, "history": [c for a, c in history
                                                                    if a == g.report.assignment]}
                for g in book.latest() if g.student == student}


@dataclass(frozen=True)
class Failure:
    """One student who did not pass a check, with the first line of what they were told."""

    student: str
    name: str
    status: str
    points: str  # "0.5/2", or "excused"
    message: str
    changed: bool  # the staff changed this check's points


def who_failed(gradebook: str | Path, check: str, assignment: str | None = None) -> tuple[str, list[Failure]]:
    """(the assignment, every student whose latest result did not pass ``check``), by student id."""
    with Gradebook(Path(gradebook), create=False) as book:
        assignment = _one_assignment(book, assignment)
        graded = book.latest(assignment)
    from grader.batch.overrides import unknown_check

    ids = list(dict.fromkeys(c.id for g in graded for c in g.report.checks))
    if check not in ids:
        raise UsageError(unknown_check(assignment, check, ids))
    failures = []
    for g in graded:
        result = next((c for c in g.report.checks if c.id == check), None)
        if result is None or result.status in ("passed", "skipped", "hidden"):
            continue
        final = g.final.check(check)
        points = "excused" if final.excused else f"{final.points:g}/{final.raw_max:g}"
        first = (result.message.strip().splitlines() or [""])[0]
        failures.append(Failure(g.student, g.name, result.status, points, first, final.override is not None))
    return assignment, failures


def similar_submissions(gradebook: str | Path, assignment: str | None = None, minimum: float | None = None):
    """Pairs of students with similar code (``grader.batch.similar_code.ClassSimilarity``): leads, not verdicts."""
    from grader.batch.similar_code import DEFAULT_MIN, class_similarity

    with Gradebook(Path(gradebook), create=False) as book:
        assignment = _one_assignment(book, assignment)
        return class_similarity(book, assignment, DEFAULT_MIN if minimum is None else minimum), book.names(assignment)

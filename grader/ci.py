"""Autograding in CI: grade once, then write what each platform reads.

``run`` grades a submission (a student's repository checkout, usually ``.``)
and emits, for each platform asked for:

- ``github``: the grading reporter's payload as the step output ``dlgrade``
  (``$GITHUB_OUTPUT``), a Markdown summary (``$GITHUB_STEP_SUMMARY``) and
  ``::error`` annotations at the student's file and line;
- ``classroom50``: ``result.json`` in the working folder;
- ``junit``: JUnit XML (``dlgrade-junit.xml``) for GitLab, Jenkins, Azure;
- ``gradescope``: ``results.json`` (``/autograder/results/results.json``).

A submission that cannot be read at all (no files, a broken zip) still gets a
grade of zero with the reason in every output, so a CI step never ends
without a result. Grades here are feedback the student controls (they own the
repository); the authoritative grade is the staff's regrade (``dlgrade grade``).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from grader import api
from grader.errors import SubmissionError, UsageError
from grader.report import classroom50, github, gradescope, junit
from grader.result import CheckResult, Report

EMITTERS = ("github", "classroom50", "junit", "gradescope")
GRADESCOPE_RESULTS = Path("/autograder/results/results.json")
JUNIT_FILE = "dlgrade-junit.xml"
CLASSROOM50_FILE = "result.json"


@dataclass(frozen=True)
class CiOutcome:
    """The report and what was written for the platforms."""

    report: Report
    written: tuple[str, ...]
    annotations: tuple[str, ...]


def unreadable_report(assignment, path: Path, reason: str) -> Report:
    """A zero for every check, with ``reason``: for submissions that cannot be read at all."""
    checks = tuple(CheckResult(c.id, c.task, c.name, "failed", 0.0, c.points, message=f"not graded: {reason}",
                               hint="Check that your repository holds the assignment's files at its top level.")
                   for c in assignment.checks)
    return Report(assignment=assignment.id, submission=str(path), checks=checks,
                  diagnostics={"submission_error": reason})


def grade_for_ci(assignment: str, path: Path, *, seed: int | None = None, progress=None) -> Report:
    """Grade ``path``; a submission that cannot be read becomes a report of zeros, never an exit 2."""
    a = api.get_assignment(assignment)
    api.require(a)
    try:
        return api.check(a, path, seed=seed, progress=progress)
    except SubmissionError as exc:
        return unreadable_report(a, path, str(exc))


def _hidden(assignment: str) -> frozenset[str]:
    checks = api.get_assignment(assignment).checks
    return frozenset(c.id for c in checks if getattr(c, "hidden", False))


def emit(report: Report, emits: list[str], env: Mapping[str, str], cwd: Path, *,
         gradescope_path: Path = GRADESCOPE_RESULTS, junit_path: Path | None = None,
         submission: Path | None = None) -> CiOutcome:
    """Write the outputs of ``emits`` for ``report``; raise ``UsageError`` if a platform's variables are missing."""
    unknown = [e for e in emits if e not in EMITTERS]
    if unknown:
        raise UsageError(f"unknown --emit {', '.join(unknown)}; choose from {', '.join(EMITTERS)}")
    written: list[str] = []
    notes: list[str] = []

    def to_github() -> None:
        output = env.get("GITHUB_OUTPUT")
        payloads = github.encoded_payloads(report)  # once: written below and compared with the workflow
        if not output:
            raise UsageError("--emit github needs $GITHUB_OUTPUT, which GitHub Actions sets for each step.")
        with open(output, "a", encoding="utf-8") as f:
            for runner, payload in payloads.items():
                f.write(f"{runner}={payload}\n")
            f.write(f"score={report.score:g}\nmax_score={report.max_score:g}\nhidden_points={report.hidden_points:g}\n")
        written.append(output)
        summary = env.get("GITHUB_STEP_SUMMARY")
        if summary:
            with open(summary, "a", encoding="utf-8") as f:
                f.write(github.step_summary(report))
            written.append(summary)
        workflow = cwd / ".github" / "workflows" / "grade.yml"
        if workflow.is_file():
            expected = ",".join(payloads)
            text = workflow.read_bytes()[:1 << 20].decode(errors="replace")  # the student's file: bounded
            listed = [line.split(":", 1)[1].strip() for line in text.splitlines()
                      if line.strip().startswith("runners:")]
            if listed and listed[0] != expected:
                notes.append("::warning title=dlgrade workflow::The workflow's reporter runners differ from this "
                             "dlgrade's checks, so the recorded points may be off: regenerate the workflow with "
                             "dlgrade init ASSIGNMENT . --ci --force")
        folder = submission if submission is not None and submission.is_dir() else cwd
        files = {name: os.path.relpath(folder / name, cwd) for name in api.get_assignment(report.assignment).files}
        notes.extend(github.annotations(report, files))

    def to_classroom50() -> None:
        target = cwd / CLASSROOM50_FILE
        target.write_text(json.dumps(classroom50.classroom50_result(report, env), indent=2) + "\n")
        written.append(str(target))

    def to_junit() -> None:
        target = junit_path or cwd / JUNIT_FILE
        target.write_text(junit.junit_xml(report), encoding="utf-8")
        written.append(str(target))

    def to_gradescope() -> None:
        gradescope_path.parent.mkdir(parents=True, exist_ok=True)
        document = gradescope.gradescope_results(report, _hidden(report.assignment))
        gradescope_path.write_text(json.dumps(document, indent=2, allow_nan=False, default=str) + "\n")
        written.append(str(gradescope_path))

    writers = {"github": to_github, "classroom50": to_classroom50, "junit": to_junit, "gradescope": to_gradescope}
    for name in dict.fromkeys(emits):
        writers[name]()
    return CiOutcome(report=report, written=tuple(written), annotations=tuple(notes))


def tampered_ci_files(repository: Path, assignment: str) -> list[str]:
    """The CI files in ``repository`` that differ from what ``dlgrade init --ci`` writes for ``assignment``.

    A student owns their repository, workflow included: the staff regrade flags repositories whose grading
    workflow or scripts were edited (or removed), since their CI results are then not the course's.
    """
    import hashlib
    import tempfile

    with tempfile.TemporaryDirectory(prefix="dlgrade-manifest-") as scratch:
        expected_root = Path(scratch)
        try:
            api.init(assignment, expected_root, ci=True)
        except UsageError:  # no starter files (a course's own assignment without a template): no CI to compare
            return []
        changed = []
        for name in api.CI_FILES:
            if not (expected_root / name).is_file():
                continue  # this assignment's template has no such CI file: nothing to compare with
            expected = (expected_root / name).read_bytes()
            path = repository / name
            try:
                actual = path.read_bytes() if path.is_file() and not path.is_symlink() else None
            except OSError:
                actual = None
            if actual is None or hashlib.sha256(actual).digest() != hashlib.sha256(expected).digest():
                changed.append(name)
        return changed

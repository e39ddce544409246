"""The library surface: what the CLI, the tests and integrations call.

    from grader import api
    report = api.check("a1", "my_submission/")
    print(report.score, report.max_score)
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from grader import engine
from grader.assignment import Assignment, all_assignments, get_assignment
from grader.errors import UsageError
from grader.result import Report
from grader.runner.sandbox import Zygote
from grader.submission import load_submission

__all__ = ["list_assignments", "get_assignment", "check", "Zygote"]


def list_assignments() -> list[Assignment]:
    """Every registered assignment, built-in and from plugins, sorted by id."""
    return all_assignments()


def check(assignment: str | Assignment, path: str | Path, *, tasks: list[str] | None = None,
          seed: int | None = None, zygote: Zygote | None = None, timeout_scale: float = 1.0,
          data: dict[str, str | Path] | None = None, progress: Callable[[str], None] | None = None) -> Report:
    """Grade the submission at ``path`` (folder, .zip or .ipynb) and return its report.

    Pass a ``zygote`` to reuse one preloaded worker across many submissions, and
    ``timeout_scale`` to stretch (or shrink) every time limit. ``data`` maps data set
    names to folders (``{"cifar10": "/data/cifar-10-batches-py"}``); ``progress``
    receives one line of text as checks and long trainings advance.
    """
    if isinstance(assignment, str):
        assignment = get_assignment(assignment)
    if tasks:
        known = {c.task for c in assignment.checks} | {c.id for c in assignment.checks}
        unknown = [t for t in tasks if t not in known]
        if unknown:
            raise UsageError(f"unknown task {', '.join(unknown)} for {assignment.id}; tasks are "
                             f"{', '.join(assignment.tasks)}")
    data = {name: Path(folder) for name, folder in (data or {}).items()}
    for name, folder in data.items():
        if not folder.is_dir():
            raise UsageError(f"--data {name}={folder}: no such folder")
    staging = Path(tempfile.mkdtemp(prefix="dlgrade-submission-"))
    try:
        submission = load_submission(path, assignment.files, staging)
        return engine.grade(assignment, submission, tasks=tasks, seed=seed, zygote=zygote,
                            timeout_scale=timeout_scale, data=data, progress=progress)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def doctor(namespaces: bool = True):
    """Start one probe session and report which isolation layers this machine gives it, and for each
    missing one what to change (``dlgrade doctor``). Returns a ``grader.runner.doctor.DoctorReport``."""
    from grader.runner.doctor import probe

    return probe(namespaces=namespaces)

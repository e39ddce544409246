"""The library surface: what the CLI, the tests and integrations call.

    from grader import api
    report = api.check("a1", "my_submission/")
    print(report.score, report.max_score)
"""

from __future__ import annotations

import secrets
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from grader import oracle, tempfolders
from grader.assignment import Assignment, all_assignments, get_assignment
from grader.errors import InternalError, UsageError
from grader.result import Report
from grader.submission import load_submission

if TYPE_CHECKING:
    from grader.runner.sandbox import Zygote

__all__ = ["list_assignments", "get_assignment", "check", "Zygote", "require", "default_submission",
           "starter_files", "answer_keys", "init", "build_student_pack"]


def __getattr__(name: str):
    """``api.Zygote`` without importing the sandbox (and NumPy) for commands that grade nothing."""
    if name == "Zygote":
        from grader.runner.sandbox import Zygote

        return Zygote
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def list_assignments(load_checks: bool = True) -> list[Assignment]:
    """Every registered assignment, built-in and from plugins, sorted by id.

    ``load_checks=False`` is for listings: an assignment whose checks are imported lazily (a4, torch)
    then shows its declared points without paying for the import.
    """
    return all_assignments(load_checks)


def check(assignment: str | Assignment, path: str | Path, *, tasks: list[str] | None = None,
          seed: int | None = None, zygote: Zygote | None = None, timeout_scale: float = 1.0,
          data: dict[str, str | Path] | None = None, progress: Callable[[str], None] | None = None,
          budget_s: float | None = None, jobs: int | None = None,
          staging_dir: str | Path | None = None) -> Report:
    """Grade the submission at ``path`` (folder, .zip or .ipynb) and return its report.

    Pass a ``zygote`` to reuse one preloaded worker across many submissions, and
    ``timeout_scale`` to stretch (or shrink) every time limit. ``data`` maps data set
    names to folders (``{"cifar10": "/data/cifar-10-batches-py"}``); ``progress``
    receives one line of text as checks and long trainings advance. ``budget_s`` bounds the
    whole grading in wall-clock seconds (default: the assignment's ``budget_s`` times
    ``timeout_scale``); checks it leaves no time for are reported with status ``not_run``.
    ``jobs`` sessions run at once (default: the cores available; 1 runs the checks one after another).
    The submission is unpacked into a new folder inside ``staging_dir`` (default: the system's temporary
    folder), removed when grading ends.
    """
    if isinstance(assignment, str):
        assignment = get_assignment(assignment, load_checks=False)
    require(assignment)
    if budget_s is not None and not (isinstance(budget_s, (int, float)) and 0 < budget_s < float("inf")):
        raise UsageError(f"the budget must be a positive number of seconds, not {budget_s!r}")
    if oracle.STUDENT_BUILD:  # answers were recorded for these seeds only
        seeds = oracle.public_seeds()
        if seed is not None and int(seed) not in seeds:
            raise UsageError(f"--seed {seed}: this student build was recorded with seeds "
                             f"{', '.join(map(str, seeds))} only; pick one of them (or leave --seed out).")
        seed = secrets.choice(seeds) if seed is None else int(seed)
    data = {name: Path(folder) for name, folder in (data or {}).items()}
    for name, folder in data.items():
        if not folder.is_dir():
            raise UsageError(f"--data {name}={folder}: no such folder")
    launched = None
    if zygote is None:  # start the worker now: its imports overlap ours (the checks, NumPy)
        from grader.runner.sandbox import Zygote

        zygote = launched = Zygote(preload=assignment.preload, wait=False)
        tempfolders.remove_abandoned()  # what earlier gradings killed outright left behind (a batch does it once)
    try:
        report = _grade(assignment.load_checks(), path, tasks=tasks, seed=seed, zygote=zygote,
                        timeout_scale=timeout_scale, data=data, progress=progress, budget_s=budget_s, jobs=jobs,
                        staging_dir=staging_dir)
    finally:
        if launched is not None:
            launched.close()
    if launched is not None:
        report.diagnostics["worker_startup_s"] = round(launched.startup_s, 4)
    return report


def validate_tasks(assignment: Assignment, tasks: list[str] | None) -> None:
    """Raise ``UsageError`` for a --task that names neither a task nor a check of ``assignment``."""
    known = {c.task for c in assignment.checks} | {c.id for c in assignment.checks}
    unknown = [t for t in tasks or () if t not in known]
    if unknown:
        raise UsageError(f"unknown task {', '.join(unknown)} for {assignment.id}; tasks are "
                         f"{', '.join(assignment.tasks)}")


def _grade(assignment: Assignment, path: str | Path, *, tasks, zygote, staging_dir, **options) -> Report:
    """Stage the submission and grade it (``check`` has validated the options)."""
    validate_tasks(assignment, tasks)
    staging = tempfolders.TempFolder("dlgrade-submission-", dir=staging_dir)
    try:
        # A notebook's imports of forbidden modules stay, so that the import is reported as the violation it is.
        submission = load_submission(path, assignment.files, staging.path, assignment.notebook_statements,
                                     assignment.importable + assignment.forbidden_imports)
        from grader import engine  # NumPy and the sandbox's wire format: imported when there is something to grade

        return engine.grade(assignment, submission, tasks=tasks, zygote=zygote, **options)
    finally:
        staging.remove()


INSTALL_HINTS = {"torch": "PyTorch (pip install 'dlgrade[torch]')"}


def require(assignment: Assignment) -> None:
    """Raise ``UsageError`` if the grader lacks a module this assignment needs (a4 without torch)."""
    missing = assignment.missing_requirements
    if missing:
        needs = ", ".join(INSTALL_HINTS.get(name, name) for name in missing)
        raise UsageError(f"{assignment.id} cannot be graded here: it needs {needs}, which is not installed.")


def default_submission(assignment: str | Assignment, folder: str | Path = ".") -> Path:
    """``folder`` (the current one) if it holds one of the assignment's files; else ``UsageError``."""
    if isinstance(assignment, str):
        assignment = get_assignment(assignment)
    folder = Path(folder)
    if any((folder / name).is_file() for name in assignment.files):
        return folder
    raise UsageError(f"no {' or '.join(assignment.files)} in the current folder; give the path of your submission, "
                     f"e.g. dlgrade check {assignment.id} my_submission/")


def starter_files(assignment: str | Assignment) -> list[Path]:
    """The starter files of ``assignment`` (the handout's names with TODO stubs)."""
    if isinstance(assignment, str):
        assignment = get_assignment(assignment)
    folder = assignment.template_folder
    if folder is None:
        return []
    return sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith((".", "__")))


def answer_keys(assignment: str | Assignment) -> dict[str, list[str]]:
    """The tables and keys of the assignment's ``answers.toml`` (from its starter file), if it has one."""
    import tomllib

    for path in starter_files(assignment):
        if path.name == "answers.toml":
            data = tomllib.loads(path.read_text(encoding="utf-8"))
            return {table: list(keys) for table, keys in data.items() if isinstance(keys, dict)}
    return {}


CI_FILES = (".github/workflows/grade.yml", ".github/dlgrade-requirements.txt", "classroom50/autograde.sh",
            "classroom50/autograder.py")


def ci_files_folder() -> Path:
    """Where dlgrade's own CI files are (the installed ``student_template`` package): every assignment's
    ``init --ci`` writes them from here, whatever its own package holds."""
    import student_template

    root = Path(student_template.__file__).resolve().parent
    missing = [name for name in CI_FILES if not (root / name).is_file()]
    if missing:
        raise InternalError(f"this dlgrade installation lacks its CI files ({', '.join(missing)} in {root}).")
    return root


def init(assignment: str | Assignment, folder: str | Path, force: bool = False, ci: bool = False) -> list[Path]:
    """Write the starter files of ``assignment`` into ``folder``; never overwrite unless ``force``.

    With ``ci``, also the autograding workflow for GitHub Actions and the Classroom 50 script, set up for
    this assignment (for a course's template repository).
    """
    if isinstance(assignment, str):
        assignment = get_assignment(assignment)
    sources = starter_files(assignment)
    copies: dict[Path, Path | str] = {Path(p.name): p for p in sources}
    if not sources:  # a course's assignment whose template was never written: derived from its reference
        from grader.authoring.markers import derive_files, has_markers, student_files

        reference = assignment.reference_folder
        if reference is not None and any(has_markers(p.read_text(encoding="utf-8", errors="replace"))
                                         for p in reference.glob("*") if p.is_file()):
            copies = {Path(n): text for n, text in derive_files(reference, None, student_files(assignment)).items()}
    if not copies:
        raise UsageError(f"{assignment.id} has no starter files installed.")
    if ci:
        root = ci_files_folder()
        copies.update({Path(name): root / name for name in CI_FILES})
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"{folder} exists and is not a folder.")
    existing = [folder / name for name in copies if (folder / name).exists()]
    if existing and not force:
        raise UsageError(f"{existing[0]} already exists; nothing was written (use --force to overwrite).")
    written = []
    for name, source in copies.items():
        target = folder / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(source, str):  # derived from the reference's solution markers
            target.write_text(source, encoding="utf-8")
        elif name.as_posix() in CI_FILES:
            from grader.report.github import workflow_runners

            runners, runner_env = workflow_runners(assignment)
            text = source.read_text().replace("__ASSIGNMENT__", assignment.id)
            text = text.replace("__RUNNERS__", runners).replace("__RUNNER_ENV__", runner_env)
            target.write_text(text)
            target.chmod(source.stat().st_mode & 0o777)
        else:
            from grader.authoring.markers import derive, has_markers

            text = source.read_text(encoding="utf-8", errors="surrogateescape")
            if has_markers(text):  # a template written with solution markers: the student never sees them
                target.write_text(derive(text, source.name).text, encoding="utf-8")
            else:
                shutil.copyfile(source, target)
        written.append(target)
    return written


def build_student_pack(out: str | Path, *, seeds: tuple[int, ...] | None = None,
                       assignments: list[str] | None = None):
    """Write the student wheel (no reference, no answer keys, recorded expectations) into ``out``.

    Returns a ``grader.packaging.build.StudentPack`` (the wheel's path, its manifest, what
    the inspection saw). Needs the staff's source tree; nothing is downloaded.
    """
    from grader.packaging.build import PUBLIC_SEEDS
    from grader.packaging.build import build_student_pack as build

    if oracle.STUDENT_BUILD:
        raise UsageError("this is a student build: build-student-pack runs only in the staff's build.")
    return build(Path(out), seeds=tuple(seeds or PUBLIC_SEEDS), assignments=assignments)


def doctor(namespaces: bool = True):
    """Start one probe session and report which isolation layers this machine gives it, and for each
    missing one what to change (``dlgrade doctor``). Returns a ``grader.runner.doctor.DoctorReport``."""
    from grader.runner.doctor import probe

    caps = {a.id: a.session_memory_mb for a in all_assignments(load_checks=False)}
    return probe(namespaces=namespaces, caps=caps)


# --- authoring a course's own assignment (grader.authoring) ------------------------------------------------------

def author_new(assignment: str, folder: str | Path, *, package: str | None = None, title: str | None = None,
               force: bool = False) -> list[Path]:
    """Write a complete, working assignment package into ``folder`` (``dlgrade author new``)."""
    from grader.authoring.scaffold import new_assignment

    return new_assignment(assignment, Path(folder), package=package, title=title, force=force)


def author_template(assignment: str, out: str | Path | None = None) -> list[Path]:
    """Derive ``assignment``'s student files from its reference's solution markers (``dlgrade author template``)."""
    from grader.authoring.markers import write_template

    return write_template(get_assignment(assignment), Path(out) if out is not None else None)


def author_verify(assignment: str, *, seeds: int = 3, mutants: int | None = 100,
                  min_mutation_score: float | None = None, jobs: int | None = None, progress=None):
    """The assignment's acceptance test (``dlgrade author verify``): a ``grader.authoring.verify.VerifyResult``."""
    from grader.authoring.verify import verify

    return verify(assignment, seeds=seeds, mutant_limit=mutants, min_mutation_score=min_mutation_score, jobs=jobs,
                  progress=progress)

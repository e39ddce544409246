"""Assignments, their checks, and the registry both built-ins and courses use.

An assignment module creates an ``Assignment`` and decorates check functions
with ``@assignment.check(task=..., name=..., points=...)``. A check function
receives a ``CheckContext`` and either returns (full marks; a returned string
is shown as the message), raises ``CheckFailed`` (with a message, a hint and
optional partial credit) or ``CheckUndecided`` (left to the staff). It runs
in the trusted parent; the student's code is reached only through
``ctx.student`` (see ``grader.runner.remote``).

Built-in assignments are listed in ``DEFAULT_ASSIGNMENTS``; a course adds its
own through the ``dlgrade.assignments`` entry-point group, exactly the same way.
"""

from __future__ import annotations

import importlib
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING

from grader.errors import UnknownAssignment, UsageError

DEFAULT_ASSIGNMENTS = (
    "grader.assignments.a1",
    "grader.assignments.a2",
    "grader.assignments.a3",
    "grader.assignments.a4",  # skipped when torch is not installed
)
ENTRY_POINT_GROUP = "dlgrade.assignments"
if TYPE_CHECKING:
    import numpy as np

# No submission may import the grader or its reference solutions, whatever the assignment.
ALWAYS_FORBIDDEN = ("grader", "reference", "student_template")


class CheckFailed(Exception):
    """Raised by a check: the student's result is wrong (possibly partly right)."""

    def __init__(self, message: str, hint: str = "", fraction: float = 0.0):
        super().__init__(message)
        self.message, self.hint, self.fraction = message, hint, float(fraction)


class CheckUndecided(Exception):
    """Raised by a check that cannot decide (e.g. an answer too hard to evaluate): staff will grade it."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Check:
    """One scored check. ``id`` is unique in its assignment; ``task`` groups checks."""

    id: str
    task: str
    name: str
    points: float
    func: Callable
    files: tuple[str, ...]
    wall_s: float
    description: str = ""
    depends_on: tuple[str, ...] = ()  # check ids or component names whose failure explains this check's
    exclusive: bool = False  # runs with no other session beside it, nor another grading's timing (it measures time)
    # Checks with the same group name run one after another in one sandboxed process per submission,
    # each on a fresh import of the submission (grader/runner/groups.py); "" is a process of its own.
    process_group: str = ""


@dataclass
class CheckContext:
    """What a check function works with: a seeded RNG and the remote student."""

    check: Check
    seed: int
    rng: np.random.Generator
    student: object  # grader.runner.remote.Student
    files: dict[str, Path] = field(default_factory=dict)  # the staged submission files, read-only
    data: dict[str, Path] = field(default_factory=dict)  # data sets the staff pointed to (--data NAME=PATH)
    details: dict = field(default_factory=dict)  # JSON-able extras for the report (e.g. learning curves)
    progress: Callable[[str], None] = lambda text: None  # a line of progress, for long checks
    # Components this check depends on whose own checks failed earlier in this run (empty unless the
    # assignment isolates components): a check may then use the grader's part for it (docs/grading-policy.md).
    failed_components: tuple[str, ...] = ()


@dataclass
class Assignment:
    """A graded assignment: the files it expects and the checks that score them."""

    id: str
    title: str
    files: tuple[str, ...]
    summary: str = ""
    forbidden_imports: tuple[str, ...] = ()
    preload: tuple[str, ...] = ("numpy",)
    drivers: Path | None = None
    default_wall_s: float = 20.0
    budget_s: float = 55.0  # wall-clock seconds for a whole submission (--budget): a run ends within a minute
    memory_mb: int | None = 1536  # address-space allowance per session; None for CUDA (see a4)
    # The memory cap of a whole session (its processes and its tmpfs /scratch, /tmp and /dev/shm together), in
    # its cgroup; one process may take up to 3/4 of it (docs/security.md, "Memory").
    session_memory_mb: int = 1024
    questions: str = ""
    checks: list[Check] = field(default_factory=list)
    # Modules the grader itself needs for this assignment (a4: torch); without them it says so and exits 2.
    requires: tuple[str, ...] = ()
    # The starter files ``dlgrade init`` copies; built-ins find theirs in the installed ``student_template``.
    template: Path | None = None
    # What a notebook submission runs: "definitions" (imports, functions, classes, constants) or "all".
    notebook_statements: str = "definitions"
    # Packages a submission may import beyond the standard library (top-level names). Empty: the preloaded
    # ones. A notebook's import of anything else (matplotlib, tqdm...) is left out with a note.
    packages: tuple[str, ...] = ()
    # Whether checks may run side by side. False where the parent's own part of a check uses process-wide
    # state (a4: torch's global random generator and thread pool), so two checks would disturb each other.
    parallel_checks: bool = True
    # Named parts of the submission and the checks that test each one (e.g. "Linear": its five checks).
    # A check's ``depends_on`` may name them; see docs/grading-policy.md.
    components: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # One mistake counted once: checks that depend on a component which failed its own checks use the
    # grader's part for it where they can. False: every check uses the student's parts only.
    isolate_components: bool = True
    # Modules that register the checks, imported on first need rather than with the assignment, for
    # assignments whose checks import something heavy (a4: torch); ``points`` is then their declared
    # total, so that `dlgrade list` can show it without importing them (a test keeps the two equal).
    check_modules: tuple[str, ...] = ()
    points: float | None = None
    # A one-time cost of the answer checks (a2: SymPy's import and first simplification), paid in a
    # background thread while the sandbox starts, when answer checks are selected.
    warm_up: Callable[[], None] | None = None

    def __post_init__(self) -> None:
        # The submission's own modules are never forbidden: a2's autograd.py is not the autograd package.
        own = {name[:-3] for name in self.files if name.endswith(".py")}
        names = dict.fromkeys((*self.forbidden_imports, *ALWAYS_FORBIDDEN))
        self.forbidden_imports = tuple(n for n in names if n not in own)

    @property
    def importable(self) -> tuple[str, ...]:
        """Top-level modules a submission can import besides the standard library: packages and its own files."""
        own = [name[:-3] for name in self.files if name.endswith(".py")]
        return tuple(dict.fromkeys([*(p.split(".")[0] for p in (self.packages or self.preload)), *own]))

    def check(self, task: str, name: str, points: float, files: tuple[str, ...] | None = None,
              wall_s: float | None = None, depends_on: tuple[str, ...] = (), exclusive: bool = False,
              process_group: str = "") -> Callable:
        """Register the decorated function as a check of this assignment.

        ``depends_on`` lists check ids or component names (``components``) whose failure
        explains a failure of this check: the report groups such failures under their root cause.
        ``exclusive`` checks (timings) run alone, never beside another session, and hold the machine's timing
        lock (``grader.checks.timing.machine_lock``) so no other grading's timing runs beside them either.
        ``process_group``: checks that name the same group share one process per submission, one after
        another in the order they are registered (cheap short checks where a process costs more than the
        check; see ``grader.runner.groups`` for what they share).
        """
        if process_group and exclusive:
            raise ValueError("an exclusive check (a timing) runs in a process of its own, not in a process group")

        def register(func: Callable) -> Callable:
            check_id = func.__name__
            if any(c.id == check_id for c in self.checks):
                raise ValueError(f"duplicate check id {check_id!r} in {self.id}")
            doc = (func.__doc__ or "").strip().splitlines()
            self.checks.append(Check(
                id=check_id, task=task, name=name, points=float(points), func=func,
                files=tuple(files or self.files), wall_s=wall_s or self.default_wall_s,
                description=doc[0] if doc else "", depends_on=tuple(depends_on), exclusive=exclusive,
                process_group=process_group,
            ))
            return func

        return register

    def dependencies(self, check: Check) -> tuple[str, ...]:
        """The check ids ``check`` depends on, components expanded to their checks, in order."""
        ids: list[str] = []
        for item in check.depends_on:
            for check_id in self.components.get(item, (item,)):
                if check_id != check.id and check_id not in ids:
                    ids.append(check_id)
        return tuple(ids)

    @property
    def missing_requirements(self) -> list[str]:
        """The modules in ``requires`` that are not installed (found without importing them)."""
        import importlib.util

        return [name for name in self.requires if importlib.util.find_spec(name) is None]

    @property
    def template_folder(self) -> Path | None:
        """Where the starter files are: ``template``, else the installed ``student_template/<id>``."""
        if self.template is not None:
            return self.template
        try:
            import student_template
        except ImportError:
            return None
        folder = Path(student_template.__file__).parent / self.id
        return folder if folder.is_dir() else None

    def load_checks(self) -> Assignment:
        """Import ``check_modules`` (once), which registers the checks; returns the assignment.

        The checks are kept in the order of ``check_modules`` (and of registration within a module),
        whichever module was imported first: a report's order never depends on import order.
        """
        with _LOADING:
            for module in self.check_modules:
                importlib.import_module(module)
            rank = {module: i for i, module in enumerate(self.check_modules)}
            self.checks.sort(key=lambda c: rank.get(getattr(c.func, "__module__", None), len(rank)))
        return self

    @property
    def total_points(self) -> float:
        if not self.checks and self.points is not None:  # checks not imported yet: the declared total
            return self.points
        return sum(c.points for c in self.checks)

    @property
    def tasks(self) -> list[str]:
        seen: list[str] = []
        for c in self.checks:
            if c.task not in seen:
                seen.append(c.task)
        return sorted(seen, key=_task_key)


def _task_key(task: str) -> list:
    return [int(p) if p.isdigit() else p for p in re.split(r"[.]", task)]


_registry: dict[str, Assignment] = {}
_unavailable: dict[str, str] = {}  # assignment id -> why it could not be loaded
_loaded = False
_plugins_loaded = False
# Held while assignments and their checks are imported and registered. A Dask worker grades several
# submissions at once in threads of one process: unguarded, one thread could look an assignment up while
# another was half-way through registering it ("unknown assignment"), or two threads importing the
# assignments' modules in different orders met in Python's import deadlock detection.
_LOADING = threading.RLock()


def register(assignment: Assignment) -> Assignment:
    """Add an assignment to the registry (later registrations replace earlier ones)."""
    _registry[assignment.id] = assignment
    return assignment


def _load_builtin(module: str) -> None:
    try:
        importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name != "torch":
            raise
        _unavailable[module.rsplit(".", 1)[-1]] = ("it needs PyTorch, which is not installed here: "
                                                  "pip install 'dlgrade[torch]'")


def _load_plugins() -> None:
    global _plugins_loaded
    if _plugins_loaded:
        return
    _plugins_loaded = True
    for entry in metadata.entry_points(group=ENTRY_POINT_GROUP):
        loaded = entry.load()
        if isinstance(loaded, Assignment):
            register(loaded)


def _load_all() -> None:
    global _loaded
    if _loaded:
        return
    _loaded = True
    for module in DEFAULT_ASSIGNMENTS:
        _load_builtin(module)
    _load_plugins()


def all_assignments(load_checks: bool = True) -> list[Assignment]:
    """Every assignment; ``load_checks=False`` leaves lazily declared checks unimported (for listings)."""
    with _LOADING:
        return _all_assignments(load_checks)


def _all_assignments(load_checks: bool) -> list[Assignment]:
    _load_all()
    listed = [_registry[k] for k in sorted(_registry)]
    if load_checks:
        listed = [a for a in listed if _with_checks(a) is not None]
    return listed


def _with_checks(assignment: Assignment) -> Assignment | None:
    """The assignment with its checks imported; None (noted in ``_unavailable``) when they need torch."""
    try:
        return assignment.load_checks()
    except ModuleNotFoundError as exc:
        if exc.name != "torch":
            raise
        _unavailable[assignment.id] = ("it needs PyTorch, which is not installed here: "
                                       "pip install 'dlgrade[torch]'")
        return None


def get_assignment(name: str, load_checks: bool = True) -> Assignment:
    """The assignment ``name``, importing only its own modules when it is a built-in (start-up stays short).

    ``load_checks=False`` returns it before its ``check_modules`` are imported (its spec is enough to
    start a worker while they are).
    """
    with _LOADING:
        return _get_assignment(name, load_checks)


def _get_assignment(name: str, load_checks: bool) -> Assignment:
    builtin = {module.rsplit(".", 1)[-1]: module for module in DEFAULT_ASSIGNMENTS}
    if name in builtin and name not in _registry:
        _load_builtin(builtin[name])
    if name not in _registry and name not in _unavailable:
        _load_plugins()
    if name in _registry and load_checks and _with_checks(_registry[name]) is None:
        del _registry[name]
    if name in _unavailable and name not in _registry:
        raise UsageError(f"assignment {name!r} is not available: {_unavailable[name]}")
    if name not in _registry:
        _load_all()
        raise UnknownAssignment(name, sorted(_registry))
    return _registry[name]

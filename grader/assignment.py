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
import importlib.util
import re
import sys
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


@dataclass(frozen=True)
class Equivalent:
    """A mutant of the reference that the author declares equivalent (``dlgrade author verify``).

    ``where`` is how verify names the survivor, ``file:line: change`` (``lstm.py:12: + -> -``), or a prefix of it
    (``lstm.py:12:`` for every change on that line); ``reason`` says why no check can tell it from the reference
    (e.g. "the bias is zero-initialised, so dropping it changes nothing").
    """

    where: str
    reason: str

    def matches(self, survivor: str) -> bool:
        return survivor == self.where or (self.where.endswith(":") and survivor.startswith(self.where))


@dataclass(frozen=True)
class Mistake:
    """A wrong submission an assignment ships to prove a check's hint (``dlgrade author verify`` grades it).

    ``folder`` holds the submission's files, relative to the assignment's package; grading it must fail
    ``check`` with a hint that contains ``hint``. Every check should fail on some submission: these are them.
    """

    folder: str
    check: str
    hint: str


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
    template: Path | str | None = None
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
    # What the assignment owns, found inside its own package (a course's assignment is a package of its
    # own, registered through the entry point). ``package``: that package (default: the package of the
    # module that creates the Assignment). ``reference``: the package holding the reference modules that
    # ``oracle.load(id, module)`` imports, relative to ``package`` when it starts with "." (default
    # ".reference"; the built-ins keep the top-level ``reference.<id>``). ``template`` (above) may be a
    # folder name relative to the package (default "template" when there is one). ``handout``: the
    # handout's file, relative to the package. ``answer_key``: modules (relative to the package, like
    # ".key") holding answers the student build must never ship.
    package: str = ""
    reference: str = ""
    handout: str = ""
    answer_key: tuple[str, ...] = ()
    # ``dlgrade author verify``: mutants of the reference declared equivalent (never counted as survivors),
    # and the points the untouched template may score (what the author gives away).
    equivalent_mutants: tuple[Equivalent, ...] = ()
    given_points: float = 0.0
    mistakes: tuple[Mistake, ...] = ()

    def __post_init__(self) -> None:
        if not self.package:
            self.package = _creator_package()
        if not self.reference:
            self.reference = (f"reference.{self.id}" if self.package.startswith("grader.assignments")
                              or not self.package else ".reference")
        # The submission's own modules are never forbidden: a2's autograd.py is not the autograd package.
        # Nor may it import the assignment's own package (its checks, its key) or its reference, wherever
        # they live: a course's ``course_a5.reference`` is forbidden as the built-ins' ``reference`` is.
        own = {name[:-3] for name in self.files if name.endswith(".py")}
        mine = tuple(n.split(".")[0] for n in (self.package, self.reference_package) if n and n != "__main__")
        names = dict.fromkeys((*self.forbidden_imports, *ALWAYS_FORBIDDEN, *mine))
        self.forbidden_imports = tuple(n for n in names if n not in own)

    @property
    def importable(self) -> tuple[str, ...]:
        """Top-level modules a submission can import besides the standard library: packages and its own files."""
        own = [name[:-3] for name in self.files if name.endswith(".py")]
        return tuple(dict.fromkeys([*self.sandbox_packages, *own]))

    @property
    def sandbox_packages(self) -> tuple[str, ...]:
        """The third-party packages a session's root shows (with what they need): ``packages``, else ``preload``."""
        return tuple(dict.fromkeys(p.split(".")[0] for p in (self.packages or self.preload)))

    @property
    def builtin(self) -> bool:
        """Whether this is one of dlgrade's own assignments (its files in the checkout's top-level folders)."""
        return self.package.startswith("grader.assignments.")

    @property
    def reference_package(self) -> str:
        """The absolute name of the package holding the reference modules."""
        return _absolute(self.reference, self.package)

    @property
    def package_folder(self) -> Path | None:
        """The folder of ``package`` (found without importing it), or None."""
        return _folder(self.package)

    @property
    def reference_folder(self) -> Path | None:
        """The folder of the reference package, or None when it is not installed (a student build)."""
        return _folder(self.reference_package)

    @property
    def handout_path(self) -> Path | None:
        """The handout's file: ``handout`` inside the package (built-ins: docs/handouts/<id>.md in a checkout)."""
        if self.handout and self.package_folder is not None:
            return self.package_folder / self.handout
        if self.builtin:
            page = Path(__file__).resolve().parents[1] / "docs" / "handouts" / f"{self.id}.md"
            return page if page.is_file() else None
        return None

    @property
    def answer_key_modules(self) -> tuple[str, ...]:
        """The absolute names of the ``answer_key`` modules."""
        return tuple(_absolute(name, self.package) for name in self.answer_key)

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
        """The modules in ``requires`` and the packages a submission may import (``sandbox_packages``) that are
        not installed (found without importing them): the assignment cannot be graded on this machine."""
        import importlib.util

        names = dict.fromkeys((*self.requires, *self.sandbox_packages))
        return [name for name in names if importlib.util.find_spec(name) is None]

    @property
    def template_folder(self) -> Path | None:
        """Where the starter files are: ``template`` (a path, or a folder name relative to the package), else
        the package's ``template/`` folder, else the installed ``student_template/<id>``."""
        if isinstance(self.template, Path):
            return self.template
        folder = self.package_folder
        own = self.template if isinstance(self.template, str) else "template"
        if folder is not None and not self.builtin and (folder / own).is_dir():
            return folder / own
        # The student build ships a course's template among the built-ins' (student_template/<id>).
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


def _creator_package() -> str:
    """The package of the module whose code called ``Assignment(...)`` (skipping the dataclass's __init__)."""
    frame = sys._getframe(1)
    while frame is not None and frame.f_globals.get("__name__") == __name__:
        frame = frame.f_back
    if frame is None:
        return ""
    name = frame.f_globals.get("__name__", "")
    package = frame.f_globals.get("__package__")
    if package is None:
        package = name.rpartition(".")[0]
    return package or ("" if name == "__main__" else name)


def _absolute(name: str, package: str) -> str:
    if not name.startswith("."):
        return name
    return (package + name) if package else name.lstrip(".")


def _folder(module: str) -> Path | None:
    """A package's folder (its parent packages are imported, never it), or None when it is not found."""
    if not module:
        return None
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        return None
    if spec is None:
        return None
    if spec.submodule_search_locations:
        return Path(next(iter(spec.submodule_search_locations)))
    return Path(spec.origin).parent if spec.origin else None


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

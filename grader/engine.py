"""Grade one staged submission: run each check in a fresh sandboxed process of its own.

Before any check runs, the engine scans the source for forbidden imports (in
the parent) and imports each student module once in a probe session, so a
missing file, a syntax error or an import that hangs is reported once, by
name, for exactly the checks that need that file, without paying a timeout
per check. Each check then gets a fresh process, forked by the submission's
sandbox (``grader.runner.hosts``), or its turn in the one process of its
``process_group`` (``grader.runner.groups``).

Outcomes: the check function returning means full marks; ``CheckFailed``,
a missing name, student exceptions, timeouts and crashes each map to a
``CheckResult`` with their own message. Anything else is a bug in the grader
and raises ``InternalError`` (exit code 3), never a zero for the student.
"""

from __future__ import annotations

import contextlib
import os
import platform
import secrets
import signal
import threading
import time
import zlib
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import replace

import numpy as np

from grader import oracle
from grader.assignment import ALWAYS_FORBIDDEN, Assignment, Check, CheckContext, CheckFailed, CheckUndecided
from grader.checks import timing
from grader.checks.imports import forbidden_imports
from grader.errors import GraderError, InternalError, UsageError
from grader.notebook import locate
from grader.result import OUTPUT_CUT_LINE, CheckResult, Report
from grader.runner import wire
from grader.runner.groups import SharedProcess
from grader.runner.hosts import HostPool
from grader.runner.remote import LoadError, MissingName, Student, StudentCodeError
from grader.runner.sandbox import CallTimeout, Limits, WorkerDied, Zygote
from grader.submission import Submission

PROBE_WALL_S = 10.0
HOST_CPU_S = 10**6  # a host's own CPU limit: each check's process lowers it to the check's
OUTPUT_IN_RESULT = 2000
MIN_CHECK_S = 0.05  # a check is not started with less budget than this left
SIGNAL_NAMES = {signal.SIGINT: "SIGINT", signal.SIGTERM: "SIGTERM"}


def check_seed(seed: int, check_id: str) -> np.random.Generator:
    """Each check's own generator: independent of the order or selection of checks."""
    return np.random.default_rng([seed, zlib.crc32(check_id.encode())])


def _where(info: dict, origins: dict[str, tuple[str, ...]]) -> str:
    """ " at mlp.py:12", or " at notebook cell 3, line 2" for code that came from a notebook."""
    where = info.get("where")
    if not isinstance(where, str) or not where:
        return ""
    name, _, line = where.rpartition(":")
    if name in origins and line.isdigit():
        located = locate(origins[name], int(line))
        if located:
            return f" at notebook {located}"
    return f" at {where}"


def describe_student_error(exc: StudentCodeError, origins: dict[str, tuple[str, ...]] | None = None
                           ) -> tuple[str, str, str]:
    """(status, message, hint) for an exception raised by student code."""
    info = wire.sanitize_error(exc.info)  # a forged record (``where`` an int, ``type`` a list) is read safely
    kind, text = info.get("type", "Exception"), info.get("message", "")
    where = _where(info, origins or {})
    line = f": `{info['line'].strip()}`" if info.get("line") else ""
    if info.get("forbidden"):
        return ("failed", f"{exc.label} tried to import {', '.join(info['forbidden'])}, which this assignment "
                f"does not allow.", "Use NumPy only.")
    if kind == "NotImplementedError":
        return "failed", f"not implemented yet: {text or exc.label}", ""
    if kind == "SystemExit":
        return "error", f"{exc.label} called sys.exit({text}); the grader treats that as a crash.", \
            "Remove exit() / sys.exit() calls from your module."
    if isinstance(exc, LoadError):
        return "error", f"{exc.label} failed: {kind}: {text}{where}{line}", ""
    if kind == "OSError" and ("File too large" in text or "Errno 27" in text):
        return ("error", f"your code printed more than the grader keeps{where}, so the check was stopped.",
                "Remove print() calls from methods that run many times (forward, backward, training loops).")
    if kind == "MemoryError":
        return "error", f"{exc.label} ran out of memory{where}.", "Avoid creating huge arrays or lists."
    return "error", f"{exc.label} raised {kind}: {text}{where}{line}", exc.hint


class _StoppableStudent(Student):
    """A ``Student`` whose session is ended as soon as it exists if grading was interrupted meanwhile."""

    def __init__(self, grading: _Grading, *args):
        super().__init__(*args)
        self._grading = grading

    @property
    def session(self):
        if self._grading.interrupted:
            raise WorkerDied("grading was interrupted")
        session = super().session
        if self._grading.interrupted:  # the signal came while the session was being started
            session.kill()
        return session


class _Grading:
    """State of one grading run: the zygote, the seed, what the probe found."""

    def __init__(self, assignment: Assignment, submission: Submission, zygote: Zygote, seed: int,
                 timeout_scale: float = 1.0, data: dict | None = None, progress=None, budget_s: float = float("inf"),
                 deadline: float | None = None):
        self.assignment, self.submission, self.zygote, self.seed = assignment, submission, zygote, seed
        self.budget_s = budget_s
        self.deadline = time.monotonic() + budget_s if deadline is None else deadline
        self.interrupted: str | None = None  # the name of the signal that stopped grading
        self._running: set[Student] = set()  # sessions running now (several with jobs > 1)
        self.timeout_scale, self.data = timeout_scale, dict(data or {})
        self.progress = progress or (lambda text: None)
        self.blocked: dict[str, tuple[str, str, str]] = {}  # file -> (status, message, hint)
        self.isolation: dict = {}
        self.results: dict[str, CheckResult] = {}  # check id -> result, as checks finish
        self.groups: dict[str, SharedProcess] = {}  # process group -> its process (grader.runner.groups)
        # Each check still gets a fresh process, forked from a sandbox built once for this submission.
        self.hosts = HostPool(zygote, submission.files, Limits(wall_s=PROBE_WALL_S, cpu_s=HOST_CPU_S,
                                                               memory_mb=assignment.memory_mb,
                                                               session_mb=assignment.session_memory_mb),
                              assignment.forbidden_imports, assignment.drivers, assignment.sandbox_packages)

    def left_s(self) -> float:
        """Seconds left of the submission's budget."""
        return self.deadline - time.monotonic()

    def out_of_time(self) -> bool:
        return self.left_s() < MIN_CHECK_S

    def stop(self, signum: int, frame=None) -> None:
        """Signal handler: remember the signal and end the running session, so its call returns at once.

        A second signal while the first is being handled stops at once (``KeyboardInterrupt``); the
        ``finally`` blocks still close the worker and remove the staging folder.
        """
        if self.interrupted:
            raise KeyboardInterrupt
        self.interrupted = SIGNAL_NAMES.get(signum, f"signal {signum}")
        self.hosts.kill()
        for current in list(self._running):
            try:
                current.close()
            except Exception:  # noqa: BLE001 - never raise out of a signal handler; run() closes it again
                pass

    def not_run(self, check: Check) -> CheckResult:
        """The result of a check that the budget or an interruption left no time for."""
        if self.interrupted:
            message = f"not run: grading was interrupted ({self.interrupted}) before this check."
        else:
            message = f"not run: the submission used its whole {self.budget_s:g} s budget."
        return CheckResult(check.id, check.task, check.name, "not_run", 0.0, check.points, message=message,
                           hint="Make the checks before this one finish quickly (an infinite loop?)."
                           if not self.interrupted else "")

    def student(self, wall_s: float, group: SharedProcess | None = None) -> Student:
        """The student of one check: a process of its own from the hosts, or its turn in ``group``'s process."""
        wall_s = max(min(wall_s * self.timeout_scale, self.left_s()), MIN_CHECK_S)  # capped by the budget left
        limits = Limits(wall_s=wall_s, cpu_s=int(wall_s) + 5, memory_mb=self.assignment.memory_mb,
                        session_mb=self.assignment.session_memory_mb)
        return _StoppableStudent(self, self.zygote, self.submission.files, limits,
                                 self.assignment.forbidden_imports, self.assignment.drivers, group or self.hosts,
                                 self.assignment.sandbox_packages)

    def shared_process(self, checks: list[Check]) -> SharedProcess:
        """The one process of a group's ``checks`` (the same object for the same group), whose CPU limit is
        the sum of theirs."""
        name = checks[0].process_group
        if name not in self.groups:
            self.groups[name] = SharedProcess(self.hosts, sum(int(c.wall_s * self.timeout_scale) + 5
                                                              for c in checks))
        return self.groups[name]

    def probe(self, group: SharedProcess | None = None) -> None:
        """Block files that are missing, use forbidden imports, or fail to import.

        The imports run in ``group``'s process when given (the first process group's checks then start
        in the process that imported the submission, which each of them imports afresh anyway), else in
        a process of their own."""
        a = self.assignment
        for name in a.files:
            if not self.submission.has(name):
                guess = self.submission.did_you_mean(name)
                others = [n for n in self.submission.seen if n not in self.submission.files
                          and n.endswith(name[name.rfind("."):])]  # e.g. model.py where lenet.py was expected
                hint = (f"Did you mean {guess}? Rename it to {name}." if guess else
                        f"The submission holds {others[0]} but no {name}: rename it to {name} (the handout's "
                        f"file name)." if len(others) == 1 else
                        f"The submission must contain {', '.join(a.files)} at its top level.")
                self.blocked[name] = ("failed", f"missing: {name} was not found in the submission.", hint)
                continue
            source = self.submission.files[name].read_text(encoding="utf-8", errors="replace")
            bad = forbidden_imports(source, a.forbidden_imports)
            if bad:
                why = ("submissions may not use the grader or its reference solutions"
                       if set(bad) <= set(ALWAYS_FORBIDDEN) else f"{a.id} must be written from scratch")
                self.blocked[name] = ("failed", f"violation: {name} imports {', '.join(bad)}; {why}.",
                                      "Remove the import and implement it yourself.")
        for name in a.files:
            if name in self.blocked or not name.endswith(".py"):
                continue
            student = self.student(PROBE_WALL_S, group)
            self._running.add(student)
            try:
                session = student.session
                if not self.isolation:  # asked before any student code runs in the process
                    self.isolation = {**session.isolation, **session.request("isolation")}
                student.module(name[:-3])
            except StudentCodeError as exc:
                self.blocked[name] = describe_student_error(exc, self.submission.origins)
            except CallTimeout:
                if self.interrupted or self.out_of_time():
                    return  # the budget ran out or grading was stopped: every remaining check is not run
                limit = PROBE_WALL_S * self.timeout_scale
                self.blocked[name] = ("timeout", f"importing {name} did not finish within {limit:g} s.",
                                      "Move long-running code under `if __name__ == \"__main__\":`.")
            except WorkerDied as exc:
                if self.interrupted:
                    return
                self.blocked[name] = ("error", f"importing {name} ended the process: {exc}",
                                      "Remove exit() / os._exit() calls from your module.")
            finally:
                self._running.discard(student)
                student.close()

    def run(self, check: Check, group: SharedProcess | None = None) -> CheckResult:
        turn = timing.machine_lock(stop=lambda: self.interrupted is not None) if check.exclusive else None
        with turn or contextlib.nullcontext():
            # An exclusive check (a timing) waits for the machine's timing lock before its session starts, so
            # no other grading's timing runs beside it; the wait is not the student's, so it extends the budget.
            self.deadline += timing.waited_for_lock()
            result = self._run(check, group)
        self.results[check.id] = result
        return result

    def _run(self, check: Check, group: SharedProcess | None = None) -> CheckResult:
        started = time.perf_counter()
        context = None

        def result(status: str, score: float, message: str = "", hint: str = "", output: str = "") -> CheckResult:
            return CheckResult(id=check.id, task=check.task, name=check.name, status=status, score=round(score, 6),
                               max_score=check.points, message=message, hint=hint,
                               duration_s=round(time.perf_counter() - started, 4),
                               output=_kept(output), details=dict(context.details) if context else {})

        if check.id in oracle.hidden_checks(self.assignment.id):  # the student build cannot grade it
            return result("hidden", 0.0, oracle.HIDDEN_MESSAGE, oracle.hidden_checks(self.assignment.id)[check.id])
        if self.interrupted or self.out_of_time():
            return self.not_run(check)
        for name in check.files:
            if name in self.blocked:
                status, message, hint = self.blocked[name]
                return result(status, 0.0, message, hint)
        limit = check.wall_s * self.timeout_scale
        capped = limit > self.left_s()  # this check gets only what is left of the budget
        student = self.student(check.wall_s, group)
        self._running.add(student)
        context = CheckContext(check=check, seed=self.seed, rng=check_seed(self.seed, check.id), student=student,
                               files=dict(self.submission.files), data=self.data,
                               progress=lambda text: self.progress(f"{check.task} {check.name}: {text}"),
                               failed_components=failed_components(self.assignment, check, self.results))
        try:
            with oracle.session(self.assignment.id, check.id, self.seed):
                message = check.func(context)
            return result("passed", check.points, message if isinstance(message, str) else "", "",
                          student.output())
        except oracle.Unrecorded:
            return result("hidden", 0.0, oracle.HIDDEN_MESSAGE,
                          "This check needs a reference answer the student build did not record for these inputs.",
                          student.output())
        except CheckUndecided as undecided:
            return result("undecided", 0.0, undecided.message, "A member of the staff will grade this part.",
                          student.output())
        except CheckFailed as failure:
            if self.interrupted:
                return self.not_run(check)
            fraction = min(max(failure.fraction, 0.0), 1.0)
            message = failure.message
            if capped and self.out_of_time():  # e.g. a speed check that caught its own (shortened) time-out
                message += f" (The submission's {self.budget_s:g} s budget ran out during this check.)"
            return result("failed", fraction * check.points, message, failure.hint, student.output())
        except MissingName as missing:
            return result("failed", 0.0, f"missing: {missing.name} is not defined.",
                          "Use the names and signatures of the handout exactly.", student.output())
        except StudentCodeError as exc:
            status, message, hint = describe_student_error(exc, self.submission.origins)
            return result(status, 0.0, message, hint, student.output())
        except CallTimeout:
            if self.interrupted:
                return self.not_run(check)
            if capped:
                return result("timeout", 0.0, f"stopped when the submission's {self.budget_s:g} s budget ran out.",
                              "Look for an infinite loop, or vectorize slow Python loops.", student.output())
            return result("timeout", 0.0, f"did not finish within {limit:g} s and was stopped.",
                          "Look for an infinite loop, or vectorize slow Python loops.", student.output())
        except WorkerDied as exc:
            if self.interrupted:
                return self.not_run(check)
            return result("error", 0.0, f"{exc}", "", student.output())
        except GraderError:
            raise  # the staff's problem (e.g. a malformed data folder), reported with its own exit code
        except Exception as exc:  # a bug in the check itself
            if self.interrupted:  # or a check that met the session ended under it by the signal
                return self.not_run(check)
            raise InternalError(f"check {self.assignment.id}/{check.id} raised {type(exc).__name__}: {exc}") from exc
        finally:
            self._running.discard(student)
            student.close()


FAILING = ("failed", "error", "timeout")


def _kept(output: str) -> str:
    """The first ``OUTPUT_IN_RESULT`` characters of what the student printed, in whole lines, ending with the
    sandbox's "output truncated" line when anything was dropped (so that no report counts what it never saw)."""
    if len(output) <= OUTPUT_IN_RESULT:
        return output
    cut = "\n" + OUTPUT_CUT_LINE
    return output[:OUTPUT_IN_RESULT - len(cut)].rsplit("\n", 1)[0] + cut


def failed_components(assignment: Assignment, check: Check, done: dict[str, CheckResult]) -> tuple[str, ...]:
    """Components ``check`` depends on that failed one of their own checks earlier in this run.

    Empty when the assignment does not isolate components: then every check uses the student's parts.
    """
    if not assignment.isolate_components:
        return ()
    return tuple(name for name in check.depends_on if name in assignment.components
                 and any(done[c].status in FAILING for c in assignment.components[name] if c in done))


def attribute_root_causes(assignment: Assignment, results: list[CheckResult]) -> list[CheckResult]:
    """Mark each failed check whose declared dependency failed with that dependency as its root cause.

    One mistake, counted once in the report: a failed ``Linear.backward: dW`` explains the failed
    training checks that use it, and the report shows them grouped under it. Chains are followed to
    the first failure; a dependency that failed with the very same message (a missing file) is no cause.
    """
    by_id = {r.id: r for r in results}
    checks = {c.id: c for c in assignment.checks}

    def cause(result: CheckResult, seen: set[str]) -> str:
        for dep in assignment.dependencies(checks[result.id]) if result.id in checks else ():
            found = by_id.get(dep)
            if dep in seen or found is None or found.status not in FAILING or found.message == result.message:
                continue
            return cause(found, seen | {dep}) or dep
        return ""

    return [replace(r, root_cause=cause(r, {r.id})) if r.status in FAILING and not r.root_cause else r
            for r in results]


def default_jobs() -> int:
    """Sessions run at once by default: the cores this process may use (each session has one BLAS thread)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def critical_path_ranks(assignment: Assignment, checks: list[Check]) -> dict[str, float]:
    """Each check's time limit plus the longest chain of checks waiting on it: a bound on how late
    the run can end if it starts last. Checks with the highest rank start first, so that long checks
    (a1's trainings) are not left waiting behind short ones they do not need."""
    dependents: dict[str, list[str]] = {c.id: [] for c in checks}
    for check in checks:
        for dep in assignment.dependencies(check):
            if dep in dependents:
                dependents[dep].append(check.id)
    limits = {c.id: c.wall_s for c in checks}
    ranks: dict[str, float] = {}

    def rank(check_id: str, seen: frozenset) -> float:
        if check_id not in ranks:
            later = [rank(d, seen | {check_id}) for d in dependents[check_id] if d not in seen]
            ranks[check_id] = limits[check_id] + max(later, default=0.0)
        return ranks[check_id]

    for check in checks:
        rank(check.id, frozenset())
    return ranks


def run_checks(grading: _Grading, checks: list[Check], jobs: int = 1) -> dict[str, CheckResult]:
    """Run ``checks``, ``jobs`` sessions at a time; results keyed by check id (the caller keeps the order).

    Checks that run student code are independent sessions (each a fresh process), so they run side by
    side (``jobs`` at a time, unless the assignment says otherwise). The checks of one ``process_group``
    are one unit: they run one after another, in registration order, in one process. A check that
    depends on other checks (``depends_on``, e.g. training on ``Linear.backward``) starts only once
    they have finished, since whether it uses the grader's stand-in for a part depends on their
    outcome; among the units ready to start, those on the longest chain go first
    (``critical_path_ranks``). Outcomes do not depend on this order. Afterwards, in this thread: checks
    that only read ``answers.toml`` (the symbolic judge forks, and a fork is only safe from a process
    whose other threads are idle) and ``exclusive`` ones (timings, which another session beside them
    would distort; each also holds the machine's timing lock, see ``grader.checks.timing``).
    """
    if not grading.assignment.parallel_checks:
        jobs = 1
    with_code = [c for c in checks if any(name.endswith(".py") for name in c.files) and not c.exclusive]
    without_code = [c for c in checks if c not in with_code]  # answer checks and exclusive ones, one by one
    results: dict[str, CheckResult] = {}
    selected = {c.id for c in checks}
    ranks = critical_path_ranks(grading.assignment, with_code)
    units: list[tuple[Check, ...]] = []
    for check in with_code:
        if not check.process_group:
            units.append((check,))
        elif not any(u[0].process_group == check.process_group for u in units):
            units.append(tuple(c for c in with_code if c.process_group == check.process_group))
    order = {u: i for i, u in enumerate(units)}
    pending = sorted(units, key=lambda u: (-max(ranks[c.id] for c in u), order[u]))

    def run(unit: tuple[Check, ...]) -> list[CheckResult]:
        if len(unit) == 1 and not unit[0].process_group:
            grading.progress(f"{unit[0].task} {unit[0].name}")
            return [grading.run(unit[0])]
        group = grading.shared_process(list(unit))
        try:
            done = []
            for check in unit:
                grading.progress(f"{check.task} {check.name}")
                done.append(grading.run(check, group))
            return done
        finally:
            group.close()

    def ready(running: int) -> list[tuple[Check, ...]]:
        """The units to start now: dependencies finished; the first pending one if nothing can run."""
        found = [u for u in pending if all(dep in results or dep not in selected or any(dep == c.id for c in u)
                                           for c in u for dep in grading.assignment.dependencies(c))]
        return found or (pending[:1] if not running else [])

    if jobs == 1:
        while pending:
            unit = ready(0)[0]
            pending.remove(unit)
            results.update((r.id, r) for r in run(unit))
    else:
        with ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="dlgrade-check") as pool:
            running: dict = {}
            try:
                while pending or running:
                    for unit in ready(len(running))[:jobs - len(running)]:
                        pending.remove(unit)
                        running[pool.submit(run, unit)] = unit
                    done, _ = wait(running, return_when=FIRST_COMPLETED)
                    for future in done:
                        running.pop(future)
                        results.update((r.id, r) for r in future.result())
            except BaseException:
                for future in running:
                    future.cancel()
                raise
    for check in without_code:
        results[check.id] = run((check,))[0]
    return results


@contextlib.contextmanager
def _signals_handled(handler):
    """Route SIGINT and SIGTERM to ``handler`` while grading (main thread only), then restore the old handlers."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.signal(sig, handler) for sig in SIGNAL_NAMES}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def grade(assignment: Assignment, submission: Submission, *, tasks: list[str] | None = None,
          seed: int | None = None, zygote: Zygote | None = None, timeout_scale: float = 1.0,
          data: dict | None = None, progress=None, budget_s: float | None = None,
          jobs: int | None = None) -> Report:
    """Run the assignment's checks (or those of ``tasks``) against a staged submission.

    ``timeout_scale`` multiplies every time limit (slow machines, or tests of timeouts); ``jobs`` is the
    number of sessions run at once (default: the cores available).
    ``budget_s`` bounds the whole grading in wall-clock seconds (default: the
    assignment's ``budget_s`` times ``timeout_scale``); each check's limit is
    capped by what is left, and checks the budget leaves no time for are
    reported as ``not_run``. SIGINT and SIGTERM stop grading the same way: the
    running sessions are ended, the rest are ``not_run``, and the report says
    which signal in ``diagnostics["interrupted"]``.
    """
    jobs = default_jobs() if jobs is None else max(1, int(jobs))
    seed = secrets.randbelow(2**31) if seed is None else int(seed)
    budget_s = float(assignment.budget_s * timeout_scale if budget_s is None else budget_s)
    if not budget_s > 0:
        raise UsageError(f"the budget must be a positive number of seconds, not {budget_s:g}")
    started = time.perf_counter()
    deadline = time.monotonic() + budget_s
    grading = None
    interrupted: list[str] = []

    def early_stop(signum, frame=None):  # a signal before the grading state exists (e.g. during worker start)
        interrupted.append(SIGNAL_NAMES.get(signum, str(signum)))

    own_zygote = zygote is None
    with _signals_handled(lambda signum, frame: grading.stop(signum) if grading else early_stop(signum)):
        try:
            if own_zygote:
                zygote = Zygote(preload=assignment.preload)
            grading = _Grading(assignment, submission, zygote, seed, timeout_scale, data, progress, budget_s,
                               deadline)
            grading.interrupted = interrupted[0] if interrupted else None
            selected = [c for c in assignment.checks if not tasks or c.task in tasks or c.id in tasks]
            if assignment.warm_up and any(not any(name.endswith(".py") for name in c.files) for c in selected):
                # e.g. SymPy's one-time costs, overlapping the probe session instead of an answer's budget
                threading.Thread(target=assignment.warm_up, name="dlgrade-warm-up", daemon=True).start()
            if not grading.interrupted:
                if jobs > 1 and assignment.parallel_checks:  # the hosts of the checks side by side, meanwhile
                    threading.Thread(target=grading.hosts.prepare, args=(jobs - 1,), daemon=True,
                                     name="dlgrade-hosts").start()
                grouped = [c for c in selected if c.process_group]
                grading.probe(grading.shared_process([c for c in selected
                                                      if c.process_group == grouped[0].process_group])
                              if grouped else None)
            try:
                ran = run_checks(grading, selected, jobs)
            finally:
                for group in grading.groups.values():
                    group.close()
                grading.hosts.close()
            results = [ran[c.id] if c.id in ran else
                       CheckResult(c.id, c.task, c.name, "skipped", 0.0, c.points, message="not selected with --task")
                       for c in assignment.checks]
        finally:
            if own_zygote and zygote is not None:
                zygote.close()
    results = attribute_root_causes(assignment, results)
    diagnostics = {
        "seed": seed,
        "timeout_scale": timeout_scale,
        "budget_s": budget_s,
        "reproduce": f"dlgrade check {assignment.id} SUBMISSION --seed {seed}",
        "isolation": grading.isolation,
        "worker_startup_s": round(zygote.startup_s, 4) if own_zygote else None,
        "duration_s": round(time.perf_counter() - started, 4),
        "jobs": jobs,
        "submission_notes": list(submission.notes),
        "files_found": sorted(submission.files),
        "python": platform.python_version(),
        "numpy": np.__version__,
    }
    if grading.interrupted:
        diagnostics["interrupted"] = grading.interrupted
    return Report(assignment=assignment.id, submission=submission.source, checks=tuple(results),
                  diagnostics=diagnostics)

"""Grade one staged submission: run each check in its own sandbox session.

Before any check runs, the engine scans the source for forbidden imports (in
the parent) and imports each student module once in a probe session, so a
missing file, a syntax error or an import that hangs is reported once, by
name, for exactly the checks that need that file, without paying a timeout
per check. Each check then gets a fresh session forked from the zygote.

Outcomes: the check function returning means full marks; ``CheckFailed``,
a missing name, student exceptions, timeouts and crashes each map to a
``CheckResult`` with their own message. Anything else is a bug in the grader
and raises ``InternalError`` (exit code 3), never a zero for the student.
"""

from __future__ import annotations

import platform
import secrets
import time
import zlib

import numpy as np

from grader import oracle
from grader.assignment import ALWAYS_FORBIDDEN, Assignment, Check, CheckContext, CheckFailed, CheckUndecided
from grader.checks.imports import forbidden_imports
from grader.errors import GraderError, InternalError
from grader.result import CheckResult, Report
from grader.runner.remote import LoadError, MissingName, Student, StudentCodeError
from grader.runner.sandbox import CallTimeout, Limits, WorkerDied, Zygote
from grader.submission import Submission

PROBE_WALL_S = 10.0
OUTPUT_IN_RESULT = 2000


def check_seed(seed: int, check_id: str) -> np.random.Generator:
    """Each check's own generator: independent of the order or selection of checks."""
    return np.random.default_rng([seed, zlib.crc32(check_id.encode())])


def describe_student_error(exc: StudentCodeError) -> tuple[str, str, str]:
    """(status, message, hint) for an exception raised by student code."""
    info = exc.info
    kind, text = info.get("type", "Exception"), info.get("message", "")
    where = f" at {info['where']}" if info.get("where") else ""
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
    if kind == "MemoryError":
        return "error", f"{exc.label} ran out of memory{where}.", "Avoid creating huge arrays or lists."
    return "error", f"{exc.label} raised {kind}: {text}{where}{line}", ""


class _Grading:
    """State of one grading run: the zygote, the seed, what the probe found."""

    def __init__(self, assignment: Assignment, submission: Submission, zygote: Zygote, seed: int,
                 timeout_scale: float = 1.0, data: dict | None = None, progress=None):
        self.assignment, self.submission, self.zygote, self.seed = assignment, submission, zygote, seed
        self.timeout_scale, self.data = timeout_scale, dict(data or {})
        self.progress = progress or (lambda text: None)
        self.blocked: dict[str, tuple[str, str, str]] = {}  # file -> (status, message, hint)
        self.isolation: dict = {}

    def student(self, wall_s: float) -> Student:
        wall_s *= self.timeout_scale
        limits = Limits(wall_s=wall_s, cpu_s=int(wall_s) + 5, memory_mb=self.assignment.memory_mb)
        return Student(self.zygote, self.submission.files, limits, self.assignment.forbidden_imports,
                       self.assignment.drivers)

    def probe(self) -> None:
        """Block files that are missing, use forbidden imports, or fail to import."""
        a = self.assignment
        for name in a.files:
            if not self.submission.has(name):
                self.blocked[name] = ("failed", f"missing: {name} was not found in the submission.",
                                      f"The submission must contain {', '.join(a.files)} at its top level.")
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
            student = self.student(PROBE_WALL_S)
            try:
                session = student.session  # asked before any student code runs in it:
                self.isolation = {**session.isolation, **session.request("isolation")}
                student.module(name[:-3])
            except StudentCodeError as exc:
                self.blocked[name] = describe_student_error(exc)
            except CallTimeout:
                limit = PROBE_WALL_S * self.timeout_scale
                self.blocked[name] = ("timeout", f"importing {name} did not finish within {limit:g} s.",
                                      "Move long-running code under `if __name__ == \"__main__\":`.")
            except WorkerDied as exc:
                self.blocked[name] = ("error", f"importing {name} ended the process: {exc}",
                                      "Remove exit() / os._exit() calls from your module.")
            finally:
                student.close()

    def run(self, check: Check) -> CheckResult:
        started = time.perf_counter()
        context = None

        def result(status: str, score: float, message: str = "", hint: str = "", output: str = "") -> CheckResult:
            return CheckResult(id=check.id, task=check.task, name=check.name, status=status, score=round(score, 6),
                               max_score=check.points, message=message, hint=hint,
                               duration_s=round(time.perf_counter() - started, 4),
                               output=output[:OUTPUT_IN_RESULT], details=dict(context.details) if context else {})

        if check.id in oracle.hidden_checks(self.assignment.id):  # the student build cannot grade it
            return result("hidden", 0.0, oracle.HIDDEN_MESSAGE, oracle.hidden_checks(self.assignment.id)[check.id])
        for name in check.files:
            if name in self.blocked:
                status, message, hint = self.blocked[name]
                return result(status, 0.0, message, hint)
        student = self.student(check.wall_s)
        context = CheckContext(check=check, seed=self.seed, rng=check_seed(self.seed, check.id), student=student,
                               files=dict(self.submission.files), data=self.data,
                               progress=lambda text: self.progress(f"{check.task} {check.name}: {text}"))
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
            fraction = min(max(failure.fraction, 0.0), 1.0)
            return result("failed", fraction * check.points, failure.message, failure.hint, student.output())
        except MissingName as missing:
            return result("failed", 0.0, f"missing: {missing.name} is not defined.",
                          "Use the names and signatures of the handout exactly.", student.output())
        except StudentCodeError as exc:
            status, message, hint = describe_student_error(exc)
            return result(status, 0.0, message, hint, student.output())
        except CallTimeout:
            limit = check.wall_s * self.timeout_scale
            return result("timeout", 0.0, f"did not finish within {limit:g} s and was stopped.",
                          "Look for an infinite loop, or vectorize slow Python loops.", student.output())
        except WorkerDied as exc:
            return result("error", 0.0, f"{exc}", "", student.output())
        except GraderError:
            raise  # the staff's problem (e.g. a malformed data folder), reported with its own exit code
        except Exception as exc:  # a bug in the check itself
            raise InternalError(f"check {self.assignment.id}/{check.id} raised {type(exc).__name__}: {exc}") from exc
        finally:
            student.close()


def grade(assignment: Assignment, submission: Submission, *, tasks: list[str] | None = None,
          seed: int | None = None, zygote: Zygote | None = None, timeout_scale: float = 1.0,
          data: dict | None = None, progress=None) -> Report:
    """Run the assignment's checks (or those of ``tasks``) against a staged submission.

    ``timeout_scale`` multiplies every time limit (slow machines, or tests of timeouts).
    """
    seed = secrets.randbelow(2**31) if seed is None else int(seed)
    started = time.perf_counter()
    own_zygote = zygote is None
    if own_zygote:
        zygote = Zygote(preload=assignment.preload)
    try:
        grading = _Grading(assignment, submission, zygote, seed, timeout_scale, data, progress)
        grading.probe()
        results = []
        for check in assignment.checks:
            if tasks and check.task not in tasks and check.id not in tasks:
                results.append(CheckResult(check.id, check.task, check.name, "skipped", 0.0, check.points,
                                           message="not selected with --task"))
            else:
                grading.progress(f"{check.task} {check.name}")
                results.append(grading.run(check))
    finally:
        if own_zygote:
            zygote.close()
    diagnostics = {
        "seed": seed,
        "timeout_scale": timeout_scale,
        "reproduce": f"dlgrade check {assignment.id} SUBMISSION --seed {seed}",
        "isolation": grading.isolation,
        "worker_startup_s": round(zygote.startup_s, 4) if own_zygote else None,
        "duration_s": round(time.perf_counter() - started, 4),
        "submission_notes": list(submission.notes),
        "files_found": sorted(submission.files),
        "python": platform.python_version(),
        "numpy": np.__version__,
    }
    return Report(assignment=assignment.id, submission=submission.source, checks=tuple(results),
                  diagnostics=diagnostics)

"""Timing checks whose verdict does not depend on the machine's load.

A speed check that compares wall-clock seconds with a fixed limit grades the machine as much
as the submission: a student failed a3's ``conv_speed`` in a batch (2.6 s against 2 s) and
passed alone three times of three. ``judge`` measures so that load cannot change the verdict:

- **CPU time, read by the parent.** The student's call is charged the CPU time that every
  process of its session used (``grader.runner.cputime``: the session's cgroup, or its
  processes in ``/proc``), never a number the sandbox reports. Waiting behind other
  processes costs no CPU time.
- **Against a trusted baseline, in the same moment.** Around each call the parent runs a
  grader-owned workload (``yardstick``, or any callable; never the reference solution,
  which the sandbox never sees) and measures its own thread's CPU time. The verdict is the
  ratio student / baseline, so a slower or busier machine moves both alike, and the limit
  holds on any machine: "at most 140 times the baseline". Whatever the session burns
  while the baseline runs is charged to the student, so slowing the baseline down from
  inside the sandbox only costs the student.
- **The wall clock, less the load.** Code that sleeps, or waits for work whose CPU time
  escapes the count, uses little CPU; so the call's wall-clock time less the time the
  session's threads waited in a run queue for a CPU (the kernel's schedstat: that wait is
  the load) counts too, divided by ``ACTIVE_SLACK`` (the parent's side of the call). Where
  that wait cannot be read, the wall-clock ratio against the baseline counts, divided by
  ``WALL_SLACK``; where the session's CPU time cannot be read (the degraded sandbox), the
  wall-clock ratio alone decides.
- **Best of several, and a re-measure before any point is lost.** The first repetition
  within the limit passes; a failing first round is measured again after a pause, each
  repetition on fresh inputs (so a cache of earlier answers gains nothing), and each
  repetition's outputs must be right (``verify``). A CPU-time ratio more than ``DECISIVE``
  times the limit is not measured again: load does not make CPU time that much longer
  (beside a busy neighbour it grew by under 15% in our measurements; the wall clock grew 5-10 times).
- **One timing at a time per machine.** ``machine_lock`` is a file lock (``flock``) held by
  the parent around the measured part; the engine takes it for every ``exclusive=True``
  check before the check's session starts (and the wait does not count against the
  submission's budget), so in a batch two timings never overlap. The sandbox cannot see
  the lock file (a private ``/tmp``); the lock is released when its holder exits, is
  reentrant in one thread, and a wait longer than ``LOCK_WAIT_S`` measures without it
  (saying so in the details) rather than wait forever.

A course's own speed check::

    from grader.checks import timing

    @A.check("2", "fast enough", points=2, wall_s=30, exclusive=True)
    def speed(ctx):
        kernel = ctx.student.module("kernel")
        result = timing.judge(ctx, inputs=lambda r: ctx.rng.standard_normal(SHAPE),
                              student=lambda x: kernel.call("run", x),
                              baseline=timing.yardstick(elements=SIZE, passes=PASSES), limit=40,
                              verify=lambda x, got: assert_close("run", got, expected(x)))
        if not result.passed:
            raise CheckFailed(f"run {result.describe()}.", "Vectorize the loops.")
        return f"run {result.describe()}."
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

from grader.runner import cputime

REPETITIONS = 3  # the first round: the best of up to this many
REMEASURE = 3  # a second round, after a pause, before a failing verdict costs points
REMEASURE_PAUSE_S = 0.5
ACTIVE_SLACK = 1.25  # the wall clock less the run-queue wait counts divided by this ...
ROUND_TRIP_S = 0.02  # ... after this much for the parent's side of the call (sending the inputs, reading the results)
WALL_SLACK = 3.0  # where that wait cannot be read: the wall-clock ratio counts divided by this
DECISIVE = 1.5  # a CPU-time ratio this many times over the limit is final without more repetitions
DECISIVE_WALL = 10.0  # the same, where only the wall clock can be read
BASELINE_RUNS = 3  # the baseline runs once before and twice after each student call; its median run is the unit
LOCK_WAIT_S = 120.0
LOCK_POLL_S = 0.05
LOCK_ENV = "DLGRADE_TIMING_LOCK"  # another lock file (e.g. one shared by several users of a machine)


@dataclass(frozen=True)
class Run:
    """One repetition: the student's call and the baseline around it, all measured by the parent."""

    student_wall_s: float
    student_cpu_s: float | None  # every process of the session, during the whole repetition; None: unreadable
    baseline_wall_s: float  # the median of the baseline's runs around the call
    baseline_cpu_s: float
    student_wait_s: float | None = None  # of the session's threads and the parent's in a run queue, during the call

    @property
    def cpu_ratio(self) -> float | None:
        if self.student_cpu_s is None:
            return None
        return self.student_cpu_s / max(self.baseline_cpu_s, 1e-6)

    @property
    def wall_ratio(self) -> float:
        return self.student_wall_s / max(self.baseline_wall_s, 1e-6)

    @property
    def active_s(self) -> float | None:
        """The call's wall-clock time less what the session waited for a CPU (the machine's load)."""
        return None if self.student_wait_s is None else max(self.student_wall_s - self.student_wait_s, 0.0)

    @property
    def ratio(self) -> float:
        """What is judged: the CPU-time ratio, unless the wall clock says the call spent its time otherwise
        (sleeping, or waiting for work done where its CPU time escapes the count)."""
        if self.cpu_ratio is None:
            return self.wall_ratio
        if self.active_s is None:
            return max(self.cpu_ratio, self.wall_ratio / WALL_SLACK)
        active = max(self.active_s - ROUND_TRIP_S, 0.0)
        return max(self.cpu_ratio, active / max(self.baseline_cpu_s, 1e-6) / ACTIVE_SLACK)

    def to_dict(self) -> dict:
        return {"student_wall_s": round(self.student_wall_s, 4),
                "student_cpu_s": None if self.student_cpu_s is None else round(self.student_cpu_s, 4),
                "student_wait_s": None if self.student_wait_s is None else round(self.student_wait_s, 4),
                "baseline_wall_s": round(self.baseline_wall_s, 5), "baseline_cpu_s": round(self.baseline_cpu_s, 5),
                "ratio": round(self.ratio, 2)}


@dataclass(frozen=True)
class Timing:
    """The outcome of ``judge``: every repetition, the limit, and how the measurement was made."""

    runs: tuple[Run, ...]
    limit: float
    cpu_source: str  # "cgroup", "processes", or "" (the wall clock only)
    exclusive: str  # "yes", or why the measurement shared the machine with another timing
    remeasured: bool = False

    @property
    def best(self) -> Run:
        return min(self.runs, key=lambda r: r.ratio)

    @property
    def passed(self) -> bool:
        return bool(self.runs) and self.best.ratio <= self.limit

    def describe(self) -> str:
        """One sentence for the report: the best repetition, in seconds and as a ratio, against the limit."""
        best = self.best
        allowed = self.limit * (best.baseline_cpu_s if self.cpu_source else best.baseline_wall_s)
        if self.cpu_source and best.cpu_ratio is not None and best.ratio == best.cpu_ratio:
            spent = f"used {best.student_cpu_s:.2f} s of CPU time"
        elif best.active_s is not None and best.cpu_ratio is not None:
            spent = f"took {best.active_s:.2f} s, not counting the time it waited for a CPU"
        else:
            spent = f"took {best.student_wall_s:.2f} s"
        count = len(self.runs)
        tries = "" if count == 1 else f", the best of {count} runs" + (" (a failing round measured again)"
                                                                      if self.remeasured else "")
        return (f"{spent}{tries}: {best.ratio:.0f} times the grader's baseline measured in the same moment; "
                f"the limit is {self.limit:g} times (about {allowed:.2f} s on this machine)")

    def to_dict(self) -> dict:
        return {"limit_ratio": self.limit, "ratio": round(self.best.ratio, 2), "passed": self.passed,
                "cpu_time_from": self.cpu_source or "unavailable (wall clock against the baseline)",
                "exclusive": self.exclusive, "remeasured": self.remeasured,
                "runs": [r.to_dict() for r in self.runs]}


def yardstick(elements: int, passes: int, seed: int = 0) -> Callable[[], None]:
    """A grader-owned baseline workload: ``passes`` multiply-adds over ``elements`` float64 numbers.

    Plain element-wise NumPy (one thread, no BLAS), costing what a vectorized kernel of the same size
    costs; it computes nothing of any assignment, so it gives nothing away where it ships (the student
    build). Size it like the timed call (e.g. a convolution's output elements times its multiply-adds
    per element), so that the ratio does not depend on the input's shape.
    """
    elements, passes = max(int(elements), 1), max(int(passes), 1)
    data = np.random.default_rng(seed).standard_normal(elements)
    total, scaled = np.empty(elements), np.empty(elements)

    def run() -> None:
        total.fill(0.0)
        for k in range(passes):
            np.multiply(data, 1.0 + k * 1e-3, out=scaled)
            np.add(total, scaled, out=total)

    return run


def judge(ctx, *, inputs: Callable[[int], object], student: Callable[[object], object],
          baseline: Callable[[], object], limit: float, verify: Callable[[object, object], None] | None = None,
          repetitions: int = REPETITIONS, remeasure: int = REMEASURE) -> Timing:
    """Time ``student(inputs(r))`` against ``baseline()`` for repetitions r = 0, 1, ... and return the verdict.

    ``inputs(r)`` draws repetition r's inputs (fresh values; outside the measurement), ``student`` makes the
    timed call(s) into the sandbox, ``verify(args, value)`` raises ``CheckFailed`` if a timed result is wrong
    (outside the measurement), ``limit`` is the largest ratio student / baseline that passes. A
    ``CallTimeout`` of the student's call propagates. The runs go into ``ctx.details["timing"]``.
    """
    session = ctx.student.session
    found = cputime.reader(session)
    clock, source = (found.read, found.source) if found else ((lambda: None), "")
    runs: list[Run] = []
    remeasured, exclusive = False, "no: not measured"
    try:
        with machine_lock() as exclusive:
            baseline()  # once untimed: first-touch costs of its arrays
            for round_index, count in enumerate((repetitions, remeasure)):
                if round_index:
                    if not runs or _decisive(runs[-1], limit, source) or not _time_for(session, runs[-1], 2):
                        break
                    remeasured = True
                    time.sleep(REMEASURE_PAUSE_S)
                for _ in range(count):
                    if runs and not _time_for(session, runs[-1]):
                        break
                    args = inputs(len(runs))
                    run, value = _measure(lambda: student(args), baseline, clock)
                    runs.append(run)
                    if verify is not None:
                        verify(args, value)
                    if run.ratio <= limit or _decisive(run, limit, source):
                        break
                if runs and (runs[-1].ratio <= limit or _decisive(runs[-1], limit, source)):
                    break
    finally:  # the runs so far go into the report also when a timed result was wrong or a call timed out
        timing = Timing(tuple(runs), float(limit), source, exclusive, remeasured)
        if runs:
            ctx.details["timing"] = timing.to_dict()
    return timing


def _measure(call: Callable[[], object], baseline: Callable[[], object],
             clock: Callable[[], cputime.Reading | None]) -> tuple[Run, object]:
    """One repetition: baseline, the student's call, baseline twice more. The session's CPU time counts over all
    of it (whatever it burns while the baseline runs is its own); its run-queue wait and this thread's count
    during the call only (the load the call met)."""
    walls, cpus = [], []

    def timed_baseline() -> None:
        wall, cpu = time.perf_counter(), time.thread_time()
        baseline()
        cpus.append(time.thread_time() - cpu)
        walls.append(time.perf_counter() - wall)

    before = clock()
    timed_baseline()
    own_before = _own_wait()
    started = time.perf_counter()
    value = call()
    student_wall = time.perf_counter() - started
    own_after = _own_wait()
    during = clock()
    for _ in range(BASELINE_RUNS - 1):
        timed_baseline()
    after = clock()
    unit_wall, unit_cpu = float(np.median(walls)), float(np.median(cpus))
    if before is None or after is None:
        return Run(student_wall, None, unit_wall, unit_cpu), value
    wait = None
    if None not in (during, own_before, own_after) and before.wait_s is not None and during.wait_s is not None:
        wait = max(during.wait_s - before.wait_s, 0.0) + max(own_after - own_before, 0.0)
    return Run(student_wall, max(after.cpu_s - before.cpu_s, 0.0), unit_wall, unit_cpu, wait), value


def _own_wait() -> float | None:
    """Seconds this thread has waited in a run queue (its schedstat), or None where the kernel does not say."""
    try:
        with open(f"/proc/self/task/{threading.get_native_id()}/schedstat") as f:
            return int(f.read().split()[1]) / 1e9
    except (OSError, IndexError, ValueError):
        return None


def _decisive(run: Run, limit: float, source: str) -> bool:
    """Over the limit by more than load could explain: no repetition would change the verdict."""
    return run.ratio > limit * (DECISIVE if source and run.cpu_ratio is not None else DECISIVE_WALL)


def _time_for(session, last: Run, count: int = 1) -> bool:
    """Whether the session's wall-clock limit leaves room for ``count`` more repetitions like ``last``."""
    deadline = getattr(session, "deadline", None)
    if deadline is None:
        return True
    needed = count * 1.5 * (last.student_wall_s + BASELINE_RUNS * last.baseline_wall_s) + 0.5
    return deadline - time.monotonic() > needed


# ------------------------------------------------------------------ one timing at a time per machine

_held = threading.local()


def lock_path() -> str:
    """The machine's timing lock file: ``$DLGRADE_TIMING_LOCK``, or one per user in the temporary folder."""
    return os.environ.get(LOCK_ENV) or os.path.join(tempfile.gettempdir(), f"dlgrade-timing-{os.getuid()}.lock")


@contextlib.contextmanager
def machine_lock(wait_s: float = LOCK_WAIT_S, stop: Callable[[], bool] = lambda: False) -> Iterator[str]:
    """Hold the machine's timing lock while the block runs; yields "yes" or why the block runs without it.

    Reentrant in one thread (the engine holds it around an exclusive check, ``judge`` again inside). The
    lock is a ``flock`` on a file of this user (opened without following links): the kernel drops it when
    the holder exits, so a killed grader never leaves it held, and a holder that keeps it longer than
    ``wait_s`` is waited for no longer; nor is it once ``stop()`` says so (grading was interrupted).
    """
    if getattr(_held, "depth", 0):
        _held.depth += 1
        try:
            yield _held.state
        finally:
            _held.depth -= 1
        return
    fd, state = _acquire(wait_s, stop)
    _held.depth, _held.state = 1, state
    try:
        yield state
    finally:
        _held.depth = 0
        if fd is not None:
            os.close(fd)  # closing the descriptor releases the flock


def waited_for_lock() -> float:
    """Seconds this thread waited for the lock it holds now (0 when it holds none)."""
    return getattr(_held, "waited", 0.0) if getattr(_held, "depth", 0) else 0.0


def _acquire(wait_s: float, stop: Callable[[], bool]) -> tuple[int | None, str]:
    started = time.monotonic()
    _held.waited = 0.0
    try:
        fd = os.open(lock_path(), os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    except OSError as exc:
        return None, f"no: the timing lock {lock_path()} cannot be opened ({exc.strerror})"
    try:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                _held.waited = time.monotonic() - started
                return fd, "yes"
            except BlockingIOError:
                _held.waited = time.monotonic() - started
                if _held.waited > wait_s or stop():
                    os.close(fd)
                    return None, f"no: another timing held the machine's timing lock for over {_held.waited:.0f} s"
                time.sleep(LOCK_POLL_S)
    except OSError as exc:
        os.close(fd)
        return None, f"no: the timing lock cannot be taken ({exc.strerror})"
    except BaseException:  # e.g. a second Ctrl-C while waiting
        os.close(fd)
        raise

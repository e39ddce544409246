"""grader.checks.timing: a speed verdict that the machine's load does not change.

A course's own assignment, made here, times a student's kernel with ``timing.judge``
against the grader's yardstick. The same submission must get the same verdict idle and
beside two busy processes: a fast one passes both times, a slow one fails both times.
Hiding the work (a sleep, a child process reaped behind the parent's back, a background
burner) fails too, and timings of two gradings never overlap on one machine.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import subprocess
import sys
import textwrap
import threading
import time

import numpy as np
import pytest

from grader import api
from grader.assignment import Assignment, CheckFailed, register
from grader.checks import timing
from tests.conftest import by_id

ELEMENTS, PASSES = 100_000, 300  # the yardstick: about 25 ms of CPU time
LIMIT = 5.0
FACTOR = sum(1.0 + k * 1e-3 for k in range(PASSES))

TIMED = register(Assignment(id="test-timing", title="a timed kernel (tests/checks/test_timing.py)",
                            files=("kernel.py",), default_wall_s=20.0))


@TIMED.check("1", "kernel: fast enough", points=2, exclusive=True)
def kernel_speed(ctx) -> str:
    """run(x, passes) against the yardstick of the same size, on fresh inputs each repetition."""
    kernel = ctx.student.module("kernel")

    def verify(x, got) -> None:
        if not (isinstance(got, np.ndarray) and got.shape == x.shape and np.allclose(got, x * FACTOR, rtol=1e-9)):
            raise CheckFailed("run(x) returned a wrong result.")

    result = timing.judge(ctx, inputs=lambda r: ctx.rng.standard_normal(ELEMENTS),
                          student=lambda x: kernel.call("run", x, PASSES),
                          baseline=timing.yardstick(ELEMENTS, PASSES), limit=LIMIT, verify=verify)
    if not result.passed:
        raise CheckFailed(f"run(x) {result.describe()}.", "Make fewer passes over the data.")
    return f"run(x) {result.describe()}."


KERNEL = """
import numpy as np


def _work(x, passes):
    total = np.zeros_like(x)
    for k in range(passes):
        total += x * (1.0 + k * 1e-3)
    return total
"""
FAST = KERNEL + """

def run(x, passes):
    return _work(x, passes)
"""
SLOW = KERNEL + """

def run(x, passes):
    for _ in range(11):  # the same result, 12 times the work
        _work(x, passes)
    return _work(x, passes)
"""
SLEEPS = KERNEL + """
import time


def run(x, passes):
    time.sleep(0.5)  # little CPU time, but 20 times the yardstick on the wall clock
    return _work(x, passes)
"""
HIDES_IN_A_CHILD = KERNEL + """
import os
import pickle
import signal


def run(x, passes):
    # The work is done 12 times over in a child that the kernel reaps by itself (SIGCHLD ignored), so its
    # CPU time is never added to a parent's: only the wall clock, less the load, shows it.
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)
    read, write = os.pipe()
    if os.fork() == 0:
        for _ in range(11):
            _work(x, passes)
        os.write(write, pickle.dumps(_work(x, passes)))
        os._exit(0)
    os.close(write)
    chunks = []
    while chunk := os.read(read, 1 << 20):
        chunks.append(chunk)
    return pickle.loads(b"".join(chunks))
"""
BURNS_IN_THE_BACKGROUND = KERNEL + """
import threading
import time


def _burn():
    while True:  # slows the grader's baseline down, if it could
        sum(range(10000))


def run(x, passes):
    threading.Thread(target=_burn, daemon=True).start()
    time.sleep(0.05)
    return _work(x, passes)
"""


@contextlib.contextmanager
def busy(count: int = 2):
    """``count`` pure-Python busy loops, each a process of its own, for the block's duration."""
    loops = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(count)]
    try:
        time.sleep(0.2)  # running before the block measures anything
        yield
    finally:
        for loop in loops:
            loop.kill()
            loop.wait()


def _speed(zygote, make_submission, source: str, seed: int = 1):
    report = api.check(TIMED, make_submission({"kernel.py": source}), seed=seed, zygote=zygote)
    return by_id(report)["kernel_speed"]


@pytest.mark.parametrize("source, passes", [(FAST, True), (SLOW, False)], ids=["fast-kernel", "slow-kernel"])
def test_the_same_verdict_idle_and_beside_two_busy_processes(zygote, make_submission, source, passes):
    idle = _speed(zygote, make_submission, source)
    with busy(2):
        loaded = _speed(zygote, make_submission, source, seed=2)
    for result in (idle, loaded):
        assert (result.status == "passed") is passes, (result.message, result.details)
        assert result.details["timing"]["cpu_time_from"] in ("cgroup", "processes"), result.details
        assert "times the grader's baseline" in result.message
    if not passes:
        assert idle.hint == "Make fewer passes over the data."
        assert len(idle.details["timing"]["runs"]) == 1  # far over the limit: load cannot explain it


@pytest.mark.parametrize("source", [SLEEPS, HIDES_IN_A_CHILD, BURNS_IN_THE_BACKGROUND],
                         ids=["sleeps", "work in an auto-reaped child", "background burner"])
def test_time_spent_out_of_sight_of_the_cpu_count_still_fails(zygote, make_submission, source):
    result = _speed(zygote, make_submission, source)
    assert result.status == "failed", (result.message, result.details)


def test_a_wrong_timed_result_fails_however_fast(zygote, make_submission):
    result = _speed(zygote, make_submission, FAST.replace("return _work(x, passes)", "return x * 0"))
    assert result.status == "failed" and "wrong result" in result.message


def test_a_slow_result_is_measured_again_before_it_fails():
    """Just over the limit: every repetition of both rounds is spent before the verdict (nothing decisive)."""
    runs = iter([timing.Run(0.06, 0.06, 0.01, 0.01, 0.0)] * 10)

    class Session:
        deadline = time.monotonic() + 60

    class Context:
        student = type("Student", (), {"session": Session()})()
        details: dict = {}

    original = timing._measure
    timing._measure = lambda call, baseline, clock: (next(runs), None)
    try:
        result = timing.judge(Context(), inputs=lambda r: r, student=lambda a: a, baseline=lambda: None, limit=5.0)
    finally:
        timing._measure = original
    assert not result.passed and result.remeasured
    assert len(result.runs) == timing.REPETITIONS + timing.REMEASURE
    assert "a failing round measured again" in result.describe()


def test_the_machine_lock_is_reentrant_and_gives_up_after_its_wait(tmp_path, monkeypatch):
    monkeypatch.setenv(timing.LOCK_ENV, str(tmp_path / "timing.lock"))
    with timing.machine_lock() as outer, timing.machine_lock() as inner:
        assert outer == inner == "yes"
        got = []
        other = threading.Thread(target=lambda: got.append(timing.machine_lock(wait_s=0.2).__enter__()))
        other.start()  # another thread is another holder: it waits, then measures without the lock
        other.join()
        assert got and got[0].startswith("no: another timing held")
        stopped = []
        other = threading.Thread(target=lambda: stopped.append(timing.machine_lock(stop=lambda: True).__enter__()))
        other.start()  # an interrupted grading stops waiting at once
        other.join(timeout=5)
        assert stopped and stopped[0].startswith("no: ")


def test_an_exclusive_check_waits_for_another_gradings_timing_and_is_not_charged_for_it(
        zygote, make_submission, tmp_path, monkeypatch):
    lock = tmp_path / "timing.lock"
    monkeypatch.setenv(timing.LOCK_ENV, str(lock))
    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import fcntl, os, sys, time
        fd = os.open({str(lock)!r}, os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX)
        print("held", flush=True)
        time.sleep(3.0)
        """)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        started = time.monotonic()
        report = api.check(TIMED, make_submission({"kernel.py": FAST}), seed=1, zygote=zygote, budget_s=2.5)
        waited = time.monotonic() - started
    finally:
        holder.kill()
        holder.wait()
    result = by_id(report)["kernel_speed"]
    assert waited > 3.0  # the other grading's timing ran first
    assert result.status == "passed", result.message  # the wait did not use up the 2.5 s budget
    assert result.details["timing"]["exclusive"] == "yes"
    fd = os.open(lock, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # released when the check ended
    finally:
        os.close(fd)

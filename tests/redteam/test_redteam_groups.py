"""Red team: checks of one ``process_group`` share a process (grader/runner/groups.py); what must still hold.

Each check imports the submission afresh and sees only its own output; a check that hangs or ends
the process costs that check alone, and the next one gets a new process; the group runs in the same
order whatever ``--jobs`` is. The a4 structure checks are such a group (tests/redteam/test_redteam_a4.py
grades hostile LeNets through it).
"""

from __future__ import annotations

import pytest

from grader import api
from grader.assignment import Assignment, CheckFailed, register

pytestmark = pytest.mark.usefixtures("full_sandbox")

ACTIONS: dict[str, str] = {}  # check id -> the function of the submission it calls (set by ``grade``)
GROUPED = register(Assignment(id="test-groups", title="process groups", files=("m.py",), default_wall_s=5.0))


def _record(ctx, name: str):
    """Record the process and the module's import count, then do what the test asked of check ``name``."""
    module = ctx.student.module("m")
    ctx.details["pid"] = module.call("pid")
    ctx.details["count"] = module.call("bump")
    if name in ACTIONS:
        module.call(ACTIONS[name])
    if ctx.details["count"] != 1:
        raise CheckFailed(f"module state carried over: count {ctx.details['count']}")


@GROUPED.check("1", "first", points=1, process_group="g")
def first(ctx):
    _record(ctx, "first")


@GROUPED.check("1", "second", points=1, process_group="g")
def second(ctx):
    _record(ctx, "second")


@GROUPED.check("1", "third", points=1, process_group="g")
def third(ctx):
    _record(ctx, "")


@GROUPED.check("1", "alone", points=1)
def alone(ctx):
    _record(ctx, "")


SOURCE = """
import os, sys, time
count = 0
def bump():
    global count
    count += 1
    return count
def pid():
    return os.getpid()
def hang():
    while True:
        pass
def die():
    os._exit(0)
def shout():
    print("only in this check's output")
def mess():
    sys.modules["json"] = None      # breaks a module the next check's driver code might use
    open("/tmp/left-behind", "w").write("x")
class Jam:
    def write(self, text):
        return len(text)
    def flush(self):
        raise RuntimeError("jammed")
def jam():
    sys.stdout = Jam()              # the group's ``begin`` flushes it before the next check: begin itself raises
def lurk():                         # a thread that waits for the next check's import, then holds the GIL for good
    import threading
    this = sys.modules["m"]
    def wait():
        while sys.modules.get("m", this) is this:
            time.sleep(0.001)
        10 ** (10 ** 9)
    threading.Thread(target=wait, daemon=True).start()
"""


def grade(tmp_path, zygote, jobs: int = 1, **actions):
    folder = tmp_path / "sub"
    folder.mkdir(exist_ok=True)
    (folder / "m.py").write_text(SOURCE)
    ACTIONS.clear()
    ACTIONS.update(actions)
    report = api.check(GROUPED, folder, zygote=zygote, jobs=jobs, seed=1)
    return {c.id: c for c in report.checks}


def test_the_group_shares_one_process_and_each_check_imports_afresh(tmp_path, zygote):
    checks = grade(tmp_path, zygote)
    assert all(c.status == "passed" for c in checks.values()), {c.id: c.message for c in checks.values()}
    assert checks["first"].details["pid"] == checks["second"].details["pid"] == checks["third"].details["pid"]
    assert checks["alone"].details["pid"] != checks["first"].details["pid"]  # not in the group: its own process


def test_a_check_that_hangs_costs_only_itself(tmp_path, zygote):
    checks = grade(tmp_path, zygote, first="hang")
    assert checks["first"].status == "timeout"
    assert checks["second"].status == checks["third"].status == "passed"
    assert checks["second"].details["pid"] == checks["third"].details["pid"]  # a new process, shared again


def test_a_check_that_ends_the_process_costs_only_itself(tmp_path, zygote):
    checks = grade(tmp_path, zygote, second="die")
    assert checks["first"].status == checks["third"].status == "passed"
    assert checks["second"].status == "error" and "process ended" in checks["second"].message


def test_each_check_reports_only_its_own_output(tmp_path, zygote):
    checks = grade(tmp_path, zygote, first="shout")
    assert "only in this check's output" in checks["first"].output
    assert checks["second"].output == checks["third"].output == ""


def test_the_group_runs_in_order_whatever_the_jobs(tmp_path, zygote):
    one = grade(tmp_path, zygote, jobs=1, first="mess")
    three = grade(tmp_path, zygote, jobs=3, first="mess")
    strip = lambda checks: {i: (c.status, c.message) for i, c in checks.items()}  # noqa: E731
    assert strip(one) == strip(three)
    assert all(c.status == "passed" for c in one.values())  # the parent decides; the student's mess is its own


def test_without_a_pid_namespace_the_group_still_imports_afresh(tmp_path):
    """The degraded sandbox has no hosts: the group's process is a session of its own, and ``begin`` finds the
    submission's modules by walking them instead of through the host's import finder."""
    from grader.runner.sandbox import Zygote

    with Zygote(namespaces=False) as minimal:
        checks = grade(tmp_path, minimal, first="hang")
    assert checks["first"].status == "timeout"
    assert checks["second"].status == checks["third"].status == "passed"
    assert checks["second"].details["pid"] == checks["third"].details["pid"]


def test_a_check_that_breaks_begin_costs_the_next_one_nothing(tmp_path, zygote):
    """Student code that makes the worker's ``begin`` raise: the next check gets a fresh process, never a grader
    error (exit 3)."""
    ACTIONS.clear()
    ACTIONS["first"] = "sabotage"
    folder = tmp_path / "sub"
    folder.mkdir()
    (folder / "m.py").write_text(SOURCE + (
        "def sabotage():\n"
        "    import gc\n"
        "    for obj in gc.get_objects():\n"
        "        if isinstance(obj, dict) and 'begin' in obj and callable(obj.get('begin')):\n"
        "            obj['begin'] = None\n"
        "    for obj in gc.get_objects():\n"
        "        if type(obj).__name__ == 'Session' and hasattr(obj, 'op_begin'):\n"
        "            obj.op_begin = lambda: 1 / 0\n"))
    checks = {c.id: c for c in api.check(GROUPED, folder, zygote=zygote, jobs=1, seed=1).checks}
    assert checks["second"].status == checks["third"].status == "passed"


def test_a_check_that_makes_begin_raise_costs_nothing(tmp_path, zygote):
    """Student code that makes the next check's ``begin`` raise (a sys.stdout whose flush raises) leaves the
    process unusable: the next check gets a fresh one, as a lone check would, instead of an error (or, for a check
    whose first request is not an import, an internal grader error: a4's output_shapes, tests/redteam/
    test_redteam_a4.py)."""
    checks = grade(tmp_path, zygote, first="jam")
    assert all(c.status == "passed" for c in checks.values()), {c.id: c.message for c in checks.values()}


def test_a_thread_left_by_a_check_costs_the_next_check_at_most(tmp_path, zygote):
    """What a group's checks share (threads a check started) can only lower the submission's own results, and only
    until a check of the group ends the process: a thread that hangs the next check times that check out (or hangs
    the ``begin`` after it, which then gets a fresh process). Accepted (grader/runner/groups.py, docs/security.md)."""
    checks = grade(tmp_path, zygote, first="lurk")
    assert checks["first"].status == "passed"
    # The thread wakes at the second check's import: it times the second check out, or (if that check's few calls
    # win the race) hangs the third one's begin, which then gets a fresh process. Either way the rest pass.
    assert checks["second"].status in ("timeout", "passed")
    assert checks["third"].status == checks["alone"].status == "passed"


def test_sigint_while_the_group_runs_stops_it_at_once(tmp_path, zygote):
    """SIGINT mid-group (the first check hangs, 1 s into its 5 s limit): the group's process is killed and every
    check of the group not yet finished is not_run (a check that ran to its limit would be a timeout)."""
    import os
    import signal
    import threading

    folder = tmp_path / "sub"
    folder.mkdir()
    (folder / "m.py").write_text(SOURCE)
    ACTIONS.clear()
    ACTIONS.update(first="hang")
    timer = threading.Timer(1.0, os.kill, (os.getpid(), signal.SIGINT))
    timer.start()
    try:
        report = api.check(GROUPED, folder, zygote=zygote, jobs=1, seed=1)
    finally:
        timer.cancel()
    assert report.diagnostics.get("interrupted") == "SIGINT"
    statuses = {c.id: c.status for c in report.checks}
    assert statuses["first"] == statuses["second"] == statuses["third"] == "not_run", statuses


def test_each_timeout_in_a_group_reuses_the_submissions_host(tmp_path, zygote):
    """A check of the group that times out ends the group's process; the next check's process is forked by the
    same host, returned to the pool, instead of a new sandbox per timeout left alive until the submission ends."""
    from grader.runner.groups import SharedProcess
    from grader.runner.hosts import HostPool
    from grader.runner.sandbox import CallTimeout, Limits

    path = tmp_path / "m.py"
    path.write_text(SOURCE)
    pool = HostPool(zygote, {"m.py": path}, Limits(wall_s=10, cpu_s=100))
    group = SharedProcess(pool, 100)
    try:
        for _ in range(3):
            session = group.session(Limits(wall_s=0.5))
            session.request("load", "module", "m", "")
            with pytest.raises(CallTimeout):
                session.request("call", "m", "hang", [], {})
            session.close()
        assert group.started == 3 and len(pool._all) == 1
    finally:
        group.close()
        pool.close()

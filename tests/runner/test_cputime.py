"""grader.runner.cputime: a session's CPU time as the kernel counts it, read from outside, children included."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from types import SimpleNamespace

from grader.runner import cputime

BURNS_IN_A_GRANDCHILD = textwrap.dedent("""
    import os, sys, time
    sys.stdin.readline()
    pid = os.fork()
    if pid == 0:
        end = time.process_time() + 0.3
        while time.process_time() < end:
            pass
        os._exit(0)
    os.waitpid(pid, 0)
    print("done", flush=True)
    sys.stdin.readline()
""")


def test_the_cpu_time_of_a_process_tree_counts_a_reaped_child():
    process = subprocess.Popen([sys.executable, "-c", BURNS_IN_A_GRANDCHILD], stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, text=True)
    try:
        clock = cputime.reader(SimpleNamespace(pids=[0, process.pid], isolation={"pid_namespace": True}))
        assert clock is not None and clock.source == "processes"
        before = clock.read()
        process.stdin.write("go\n")
        process.stdin.flush()
        assert process.stdout.readline().strip() == "done"
        after = clock.read()
        assert 0.25 <= after.cpu_s - before.cpu_s <= 1.0
        assert after.wait_s is None or after.wait_s >= before.wait_s
    finally:
        process.kill()
        process.wait()
    time.sleep(0.05)
    assert clock.read() is None  # the session is gone


def test_no_clock_without_a_pid_namespace():
    """Outside a PID namespace a process can leave the tree, so its CPU time is not trusted."""
    assert cputime.reader(SimpleNamespace(pids=[0, 1], isolation={"pid_namespace": False})) is None


def test_cgroup_usage_files_of_both_versions(tmp_path):
    v2, v1 = tmp_path / "cpu.stat", tmp_path / "cpuacct.usage"
    v2.write_text("usage_usec 2500000\nuser_usec 2000000\nsystem_usec 500000\n")
    v1.write_text("1250000000\n")
    assert cputime._read_usage(str(v2)) == 2.5
    assert cputime._read_usage(str(v1)) == 1.25
    assert cputime._read_usage(str(tmp_path / "missing" / "cpu.stat")) is None

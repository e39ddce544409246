"""The CPU time a sandboxed session has used, read by the parent from the kernel's own accounting.

A timing check that judges wall-clock seconds judges the machine's load as much as the
student's code: beside a busy neighbour the same call takes twice as long. The CPU time
the session's processes used does not grow with the queue they waited in, so timing
checks (``grader.checks.timing``) judge it. It is read here, in the trusted parent, never
asked of the sandbox, and it covers every process of the session, so work handed to a
child process, a thread or a ``setsid`` daemon is counted as well:

- **the session's own cgroup**, where it has CPU accounting (cgroup v2's ``cpu.stat``, or
  v1's ``cpuacct.usage``): exact, nanoseconds, every process the session ever started;
- otherwise **the session's processes**, found in ``/proc`` as the descendants of the
  sandbox's PID 1 (in a PID namespace every process it starts stays one, and orphans are
  reparented to it): each live thread's time on a CPU (``schedstat``, nanoseconds; at
  least ``utime + stime`` in clock ticks, which still count the threads that ended), plus
  ``cutime + cstime`` (what their reaped children used). One gap: a child reaped
  automatically (``SIGCHLD`` ignored) takes its time with it; ``grader.checks.timing``
  therefore also judges the wall clock less the run-queue wait.

Beside the CPU time, ``Reading.wait_s`` is how long the session's live threads waited in a
run queue for a CPU: the part of the wall clock that is the machine's load, not the code.

Without a PID namespace (the degraded sandbox) a process can leave the tree, so no reader
is offered and timing checks fall back to the wall clock against a baseline. This module
only reads; the cgroups themselves belong to ``grader.runner.isolation.cgroups``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

CGROUP_BASE = "/sys/fs/cgroup"
CGROUP_PREFIX = "dlgrade-"  # a session's own cgroup (never the grader's): grader.runner.isolation.cgroups.PREFIX
TICK_S = 1.0 / os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 0.01


@dataclass(frozen=True)
class Reading:
    """What a session's processes have used so far: CPU seconds, and seconds their live threads waited in a run
    queue for a CPU (the machine's load: ``/proc/PID/task/TID/schedstat``; None where it cannot be read)."""

    cpu_s: float
    wait_s: float | None


class Clock:
    """Reads one session's CPU time (and run-queue wait) on demand, from outside the sandbox."""

    def __init__(self, root: int, usage_file: str | None):
        self._root, self._usage = root, usage_file
        self.source = "cgroup" if usage_file else "processes"

    def read(self) -> Reading | None:
        """The session's use so far, or None once it can no longer be read (the session ended)."""
        tree = _tree(self._root)
        if tree is None:
            return None
        cpu, wait = 0.0, 0.0
        for pid, (own, reaped) in tree.items():
            threads = _threads(pid)
            if threads is None:
                wait = None
            else:
                if wait is not None:
                    wait += threads[1]
                own = max(own, threads[0])  # live threads in nanoseconds; ticks still count threads that ended
            cpu += own + reaped
        cpu = _read_usage(self._usage) if self._usage else cpu
        return None if cpu is None else Reading(cpu, wait)


def reader(session) -> Clock | None:
    """A ``Clock`` of ``session``'s processes; None where their CPU time cannot be trusted (no PID namespace)
    or read."""
    pids = getattr(session, "pids", None)
    if not pids or not (getattr(session, "isolation", None) or {}).get("pid_namespace"):
        return None
    root = int(pids[-1])  # the sandbox's PID 1
    usage = _cgroup_usage_file(root)
    if usage is not None and _read_usage(usage) is None:
        usage = None
    clock = Clock(root, usage)
    return clock if clock.read() is not None else None


def _cgroup_usage_file(pid: int) -> str | None:
    """The CPU usage file of ``pid``'s own dlgrade cgroup, or None where it has none with CPU accounting."""
    try:
        with open(f"/proc/{pid}/cgroup") as f:
            lines = f.read().splitlines()
    except OSError:
        return None
    candidates = []
    for line in lines:
        _, controllers, path = line.split(":", 2) if line.count(":") >= 2 else ("", "", "")
        if not os.path.basename(path).startswith(CGROUP_PREFIX):
            continue
        relative = path.lstrip("/")
        if controllers == "":  # cgroup v2 (the whole hierarchy, or the "unified" one of a hybrid system)
            candidates += [os.path.join(CGROUP_BASE, relative, "cpu.stat"),
                           os.path.join(CGROUP_BASE, "unified", relative, "cpu.stat")]
        elif "cpuacct" in controllers.split(","):
            candidates += [os.path.join(CGROUP_BASE, controllers, relative, "cpuacct.usage"),
                           os.path.join(CGROUP_BASE, "cpuacct", relative, "cpuacct.usage")]
    return next((c for c in candidates if os.path.isfile(c)), None)


def _read_usage(path: str) -> float | None:
    try:
        with open(path) as f:
            text = f.read()
    except OSError:
        return None
    if path.endswith("cpuacct.usage"):
        return int(text.strip()) / 1e9 if text.strip().isdigit() else None
    for line in text.splitlines():
        key, _, value = line.partition(" ")
        if key == "usage_usec" and value.strip().isdigit():
            return int(value) / 1e6
    return None


def _stat(pid: int) -> tuple[int, float, float] | None:
    """(parent pid, CPU seconds of the process, of its reaped children) from ``/proc/PID/stat``."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read()
    except OSError:
        return None
    fields = data[data.rfind(b")") + 2:].split()  # the name, in parentheses, may hold spaces and ")"
    try:
        return (int(fields[1]), (int(fields[11]) + int(fields[12])) * TICK_S,  # utime + stime
                (int(fields[13]) + int(fields[14])) * TICK_S)  # cutime + cstime
    except (IndexError, ValueError):
        return None


def _tree(root: int) -> dict[int, tuple[float, float]] | None:
    """``root`` and every process descended from it, now: pid -> (its CPU seconds, its reaped children's)."""
    stats: dict[int, tuple[int, float, float]] = {}
    try:
        names = os.listdir("/proc")
    except OSError:
        return None
    for name in names:
        if name.isdigit():
            found = _stat(int(name))
            if found is not None:
                stats[int(name)] = found
    if root not in stats:
        return None
    children: dict[int, list[int]] = {}
    for pid, (parent, _, _) in stats.items():
        children.setdefault(parent, []).append(pid)
    tree, todo = {}, [root]
    while todo:
        pid = todo.pop()
        if pid not in tree:
            tree[pid] = stats[pid][1:]
            todo += children.get(pid, [])
    return tree


def _threads(pid: int) -> tuple[float, float] | None:
    """(seconds on a CPU, seconds waiting in a run queue) of the live threads of ``pid``, from each thread's
    schedstat (nanoseconds); None where the kernel does not keep it."""
    try:
        threads = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return 0.0, 0.0  # ended meanwhile
    ran = waited = 0
    for tid in threads:
        try:
            with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                fields = f.read().split()
            ran, waited = ran + int(fields[0]), waited + int(fields[1])
        except FileNotFoundError:
            continue
        except (OSError, IndexError, ValueError):
            return None
    return ran / 1e9, waited / 1e9

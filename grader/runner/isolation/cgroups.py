"""Memory, process and CPU caps over a session's processes as a whole: one cgroup per session.

cgroup v1 (separate ``memory``, ``pids`` and ``cpu`` hierarchies) or v2 (one unified
hierarchy), whichever is mounted at /sys/fs/cgroup. Root creates the session cgroups at
the top of each hierarchy; an ordinary user (a TA at the partial level) can have them
only inside a cgroup v2 subtree the system delegated to them (``delegated_base``; a
systemd user scope: ``systemd-run --user --scope -p Delegate=yes dlgrade ...``).

The session parent joins the cgroup itself before forking the student process, so every
process the student starts, and every page it writes to its tmpfs folders (the kernel
charges those to the writer's cgroup), is counted from its first instruction; the student
never sees cgroupfs (it is not in the session's root), so cannot leave.

Every session gets the same CPU weight and a quota (one core by default), so whatever a
submission forks or ``setsid``s, it takes no more than its share of the machine.

Removal costs no polling: the session parent removes the cgroup once the student's PID
namespace is empty (waitpid on its init returns only after the kernel has killed and reaped
every process in it), after moving itself out.
"""

from __future__ import annotations

import os

BASE = "/sys/fs/cgroup"
PREFIX = "dlgrade-"
CONTROLLERS = ("memory", "pids", "cpu")
CPU_PERIOD_US = 100_000
CPU_WEIGHT_V2, CPU_SHARES_V1 = 100, 1024  # each hierarchy's default: every session weighs the same
DELEGATE_FIX = ("run dlgrade inside a cgroup delegated to you: systemd-run --user --scope -p Delegate=yes "
                "dlgrade ... (cgroup v2 with systemd), or as root")


def hierarchies(base: str = BASE) -> dict[str, str]:
    """Controller -> the folder under which a session's cgroup for it is made.

    v2 (``base`` holds ``cgroup.controllers``): ``base`` itself for each controller it offers;
    v1: ``base/<controller>`` for each mounted one (``cpu`` may be a link to ``cpu,cpuacct``)."""
    if os.path.exists(os.path.join(base, "cgroup.controllers")):
        try:
            with open(os.path.join(base, "cgroup.controllers")) as f:
                available = f.read().split()
        except OSError:
            return {}
        return {c: base for c in CONTROLLERS if c in available}
    return {c: os.path.join(base, c) for c in CONTROLLERS if os.path.exists(os.path.join(base, c, "tasks"))}


def own_v2_path(proc_cgroup: str) -> str | None:
    """This process's cgroup v2 path (``/user.slice/...``) from the text of /proc/self/cgroup, or None."""
    for line in proc_cgroup.splitlines():
        if line.startswith("0::"):
            return line[3:].strip() or "/"
    return None


def delegated_base(mount: str = BASE, proc_cgroup: str | None = None, uid: int | None = None) -> str | None:
    """The cgroup v2 folder delegated to this (non-root) user that sessions' cgroups can be made in, or None.

    Delegated means: v2 is mounted at ``mount``, this process's own cgroup there belongs to ``uid`` and its
    ``cgroup.procs`` and ``cgroup.subtree_control`` are writable, and the memory and pids controllers
    are available in it. That is what ``systemd-run --user --scope -p Delegate=yes`` gives."""
    uid = os.getuid() if uid is None else uid
    if not os.path.exists(os.path.join(mount, "cgroup.controllers")):
        return None
    if proc_cgroup is None:
        try:
            with open("/proc/self/cgroup") as f:
                proc_cgroup = f.read()
        except OSError:
            return None
    path = own_v2_path(proc_cgroup)
    if path is None or path == "/":
        return None
    folder = os.path.join(mount, path.lstrip("/"))
    try:
        if os.stat(folder).st_uid != uid:
            return None
        for name in ("cgroup.procs", "cgroup.subtree_control"):
            if os.stat(os.path.join(folder, name)).st_uid != uid:
                return None
        with open(os.path.join(folder, "cgroup.controllers")) as f:
            available = f.read().split()
    except OSError:
        return None
    return folder if {"memory", "pids"} <= set(available) else None


def prepare_delegated(folder: str, leaf: str) -> bool:
    """Make ``folder`` (a delegated cgroup) able to hold sessions' cgroups: move every process in it into the
    child ``leaf`` (cgroup v2 lets a cgroup hand controllers to its children only while it holds no process),
    then enable the controllers for its children. True when memory and pids are enabled."""
    leaf_path = os.path.join(folder, leaf)
    try:
        os.makedirs(leaf_path, exist_ok=True)
        for pid in _pids(folder):
            _try_write(leaf_path, "cgroup.procs", str(pid))
        with open(os.path.join(folder, "cgroup.controllers")) as f:
            offered = f.read().split()
        available = [c for c in CONTROLLERS if c in offered]
        for controller in available:
            _try_write(folder, "cgroup.subtree_control", f"+{controller}")
        with open(os.path.join(folder, "cgroup.subtree_control")) as f:
            enabled = set(f.read().split())
    except OSError:
        return False
    return {"memory", "pids"} <= enabled


def session_base() -> str | None:
    """Where sessions' cgroups go: ``BASE`` for root, a delegated v2 folder for another user, else None."""
    if os.getuid() == 0:
        if os.path.exists(os.path.join(BASE, "cgroup.controllers")):  # v2: let the top's children have them
            for controller in CONTROLLERS:
                _try_write(BASE, "cgroup.subtree_control", f"+{controller}")
        return BASE
    folder = delegated_base()
    return folder if folder and prepare_delegated(folder, PREFIX + "rest") else None


class SessionCgroup:
    """The cgroup(s) of one session; ``paths`` lists the folders made, to remove later."""

    def __init__(self, name: str, base: str | None = BASE):
        self.name, self.base = name, base
        self.paths: list[str] = []
        self.memory = self.pids = self.cpu = False

    def create(self, memory_mb: int | None, max_pids: int | None, cpus: float | None = 1.0) -> SessionCgroup:
        """Make the cgroups: ``memory_mb`` for the whole session (processes and the pages of its tmpfs
        folders, swap none), ``max_pids`` processes, an equal CPU weight and ``cpus`` cores at most."""
        if self.base is None:
            return self
        v2 = os.path.exists(os.path.join(self.base, "cgroup.controllers"))
        for controller, base in hierarchies(self.base).items():
            path = os.path.join(base, self.name)
            if path not in self.paths:
                try:
                    os.mkdir(path)
                except FileExistsError:
                    pass
                except OSError:
                    continue
                self.paths.append(path)
            try:
                if controller == "memory" and memory_mb:
                    limit = str(int(memory_mb) * 1024 * 1024)
                    _write(path, "memory.max" if v2 else "memory.limit_in_bytes", limit)
                    _try_write(path, "memory.swap.max" if v2 else "memory.memsw.limit_in_bytes", "0" if v2 else limit)
                    self.memory = True
                if controller == "pids" and max_pids:
                    _write(path, "pids.max", str(int(max_pids)))
                    self.pids = True
                if controller == "cpu" and cpus:
                    quota = max(1000, int(float(cpus) * CPU_PERIOD_US))
                    if v2:
                        _write(path, "cpu.weight", str(CPU_WEIGHT_V2))
                        _write(path, "cpu.max", f"{quota} {CPU_PERIOD_US}")
                    else:
                        _write(path, "cpu.shares", str(CPU_SHARES_V1))
                        _write(path, "cpu.cfs_period_us", str(CPU_PERIOD_US))
                        _write(path, "cpu.cfs_quota_us", str(quota))
                    self.cpu = True
            except OSError:
                pass
        return self

    def join(self) -> bool:
        """Move the calling process in (its children inherit the cgroup)."""
        ok = bool(self.paths)
        for path in self.paths:
            try:
                _write(path, "cgroup.procs", str(os.getpid()))
            except OSError:
                ok = False
        return ok

    def memory_path(self) -> str | None:
        """The folder whose memory figures (``oom_kills``) are this session's."""
        for path in self.paths:
            if os.path.exists(os.path.join(path, "memory.max")) or os.path.exists(
                    os.path.join(path, "memory.limit_in_bytes")):
                return path
        return None

    def kill_remaining(self) -> None:
        """Kill whatever is still inside (only needed where there was no PID namespace)."""
        for path in self.paths:
            if _try_write(path, "cgroup.kill", "1"):
                continue
            for pid in _pids(path):
                if pid != os.getpid():
                    try:
                        os.kill(pid, 9)
                    except OSError:
                        pass

    def remove(self) -> None:
        """Leave the cgroup and remove it: once, no polling (its processes are already gone)."""
        for path in self.paths:
            parent = os.path.dirname(path)
            if not _try_write(parent, "cgroup.procs", str(os.getpid())) and self.base != BASE:
                # A delegated v2 folder holds no process of its own: back to the leaf its processes went to.
                _try_write(os.path.join(parent, PREFIX + "rest"), "cgroup.procs", str(os.getpid()))
            try:
                os.rmdir(path)
            except FileNotFoundError:
                pass
            except OSError:
                _retry_rmdir(path)
        self.paths = []


def oom_kills(path: str | None) -> int:
    """How many processes the kernel killed in cgroup ``path`` for going over its memory cap (0 if unknown)."""
    if not path:
        return 0
    for name in ("memory.events", "memory.oom_control"):
        try:
            with open(os.path.join(path, name)) as f:
                for line in f:
                    key, _, value = line.partition(" ")
                    if key == "oom_kill":
                        return int(value)
        except (OSError, ValueError):
            continue
    return 0


def _retry_rmdir(path: str) -> None:
    """A just-killed process may still be being torn down; wait for it without a busy loop."""
    import time

    for delay in (0.001, 0.005, 0.02, 0.1, 0.5):
        time.sleep(delay)
        try:
            os.rmdir(path)
            return
        except FileNotFoundError:
            return
        except OSError:
            continue


def _write(folder: str, name: str, value: str) -> None:
    with open(os.path.join(folder, name), "w") as f:
        f.write(value)


def _try_write(folder: str, name: str, value: str) -> bool:
    try:
        _write(folder, name, value)
        return True
    except OSError:
        return False


def _pids(folder: str) -> list[int]:
    try:
        with open(os.path.join(folder, "cgroup.procs")) as f:
            return [int(line) for line in f if line.strip()]
    except (OSError, ValueError):
        return []


def leftovers(prefix: str, base: str | None = BASE) -> list[str]:
    """Cgroup folders whose name starts with ``prefix`` (a zygote's), in every hierarchy."""
    if base is None:
        return []
    found = []
    folders = set(hierarchies(base).values())
    if base == BASE:
        folders |= {os.path.join(BASE, c) for c in CONTROLLERS}
    for folder in folders:
        try:
            found += [os.path.join(folder, n) for n in os.listdir(folder) if n.startswith(prefix)]
        except OSError:
            pass
    return found


def remove_leftovers(prefix: str, base: str | None = BASE) -> None:
    for path in leftovers(prefix, base):
        for pid in _pids(path):
            try:
                os.kill(pid, 9)
            except OSError:
                pass
        try:
            os.rmdir(path)
        except OSError:
            _retry_rmdir(path)

"""Memory and process caps over a session's processes as a whole: one cgroup per session.

cgroup v1 (separate ``memory`` and ``pids`` hierarchies) or v2 (one unified
hierarchy), whichever is mounted at /sys/fs/cgroup. Only root can create them.
The session parent joins the cgroup itself before forking the student process,
so every process the student starts is counted from its first instruction; the
student never sees cgroupfs (it is not in the session's root), so cannot leave.

Removal costs no polling: the session parent removes the cgroup once the
student's PID namespace is empty (waitpid on its init returns only after the
kernel has killed and reaped every process in it), after moving itself out.
"""

from __future__ import annotations

import os

BASE = "/sys/fs/cgroup"
PREFIX = "dlgrade-"
# Above the per-process address-space limit, so that one process meets a clean MemoryError first and the
# cgroup only stops several processes that together take too much (the kernel kills them then).
HEADROOM_MB = 512


def hierarchies() -> dict[str, str]:
    """Controller -> mounted hierarchy folder, for ``memory`` and ``pids``."""
    if os.path.exists(os.path.join(BASE, "cgroup.controllers")):  # v2 is the mounted hierarchy
        try:
            with open(os.path.join(BASE, "cgroup.controllers")) as f:
                available = f.read().split()
        except OSError:
            return {}
        return {c: BASE for c in ("memory", "pids") if c in available}
    return {c: os.path.join(BASE, c) for c in ("memory", "pids") if os.path.exists(os.path.join(BASE, c, "tasks"))}


class SessionCgroup:
    """The cgroup(s) of one session; ``paths`` lists the folders made, to remove later."""

    def __init__(self, name: str):
        self.name = name
        self.paths: list[str] = []
        self.memory = self.pids = False

    def create(self, memory_mb: int | None, max_pids: int | None) -> SessionCgroup:
        if os.getuid() != 0:
            return self
        for controller, base in hierarchies().items():
            path = os.path.join(base, self.name)
            if path not in self.paths:
                try:
                    os.mkdir(path)
                except OSError:
                    continue
                self.paths.append(path)
            v2 = base == BASE
            try:
                if controller == "memory" and memory_mb:
                    limit = str((int(memory_mb) + HEADROOM_MB) * 1024 * 1024)
                    _write(path, "memory.max" if v2 else "memory.limit_in_bytes", limit)
                    _try_write(path, "memory.swap.max" if v2 else "memory.memsw.limit_in_bytes", "0" if v2 else limit)
                    self.memory = True
                if controller == "pids" and max_pids:
                    _write(path, "pids.max", str(int(max_pids)))
                    self.pids = True
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
            _try_write(parent, "cgroup.procs", str(os.getpid()))
            try:
                os.rmdir(path)
            except FileNotFoundError:
                pass
            except OSError:
                _retry_rmdir(path)
        self.paths = []


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


def leftovers(prefix: str) -> list[str]:
    """Cgroup folders whose name starts with ``prefix`` (a zygote's), in every hierarchy."""
    found = []
    for base in set(hierarchies().values()) | {os.path.join(BASE, "memory"), os.path.join(BASE, "pids")}:
        try:
            found += [os.path.join(base, n) for n in os.listdir(base) if n.startswith(prefix)]
        except OSError:
            pass
    return found


def remove_leftovers(prefix: str) -> None:
    for path in leftovers(prefix):
        for pid in _pids(path):
            try:
                os.kill(pid, 9)
            except OSError:
                pass
        try:
            os.rmdir(path)
        except OSError:
            _retry_rmdir(path)

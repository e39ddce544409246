"""What isolation this machine gives a sandbox session, and what to change to get the full sandbox.

``probe()`` starts one real session (a zygote, one spawn, one call) and reads back the
layers it reports: the same dict that lands in every report's ``diagnostics.isolation``.
"""

from __future__ import annotations

import os
import platform
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from grader.runner.isolation import cgroups, filesystem
from grader.runner.sandbox import PROCESS_SHARE, Limits, Zygote

NAMESPACE_FIX = ("run dlgrade as root, or as an ordinary user with unprivileged user namespaces enabled "
                 "(sysctl kernel.unprivileged_userns_clone=1 and user.max_user_namespaces=10000); in a container, "
                 "give it CAP_SYS_ADMIN (docker run --cap-add SYS_ADMIN --security-opt seccomp=unconfined)")
CGROUP_FIX = ("run dlgrade as root on a machine with the memory, pids and cpu cgroup controllers (cgroup v1 at "
              "/sys/fs/cgroup/memory, /sys/fs/cgroup/pids and /sys/fs/cgroup/cpu, or enabled in cgroup v2); as an "
              f"ordinary user, {cgroups.DELEGATE_FIX[4:]}; otherwise memory is limited per process only and a "
              "submission may take every core")
# Layer -> (what it gives, what to change when it is missing).
LAYERS = {
    "pid_namespace": ("the session sees only its own processes; all die with it", NAMESPACE_FIX),
    "network_namespace": ("no network", NAMESPACE_FIX),
    "ipc_namespace": ("System V shared memory and semaphores die with the session", NAMESPACE_FIX),
    "uts_namespace": ("its own host name", NAMESPACE_FIX),
    "mount_namespace": ("its own mount table", NAMESPACE_FIX),
    "allowlist_root": ("a root file system of only the interpreter, the libraries and the submission",
                       NAMESPACE_FIX),
    "proc_private": ("a /proc of its own PID namespace", "run dlgrade as root (a container's masked /proc "
                                                         "cannot be mounted from a user namespace)"),
    "read_only_filesystem": ("nothing outside its scratch, /tmp and /dev/shm is writable", NAMESPACE_FIX),
    "unprivileged_user": ("not root: uid 65534 when dlgrade runs as root",
                          "run dlgrade as an ordinary user, or as root with namespaces available"),
    "no_new_privs": ("no set-uid or file-capability gains", "a Linux kernel of 3.5 or newer"),
    "no_capabilities": ("no capabilities at all", "a Linux kernel (capabilities are a Linux feature)"),
    "seccomp": ("mount, ptrace, bpf, keyrings, namespaces... refused by the kernel",
                "pip install pyseccomp, with the system's libseccomp (apt-get install libseccomp2)"),
    "memory_cgroup": ("memory capped for the session as a whole: its processes and its tmpfs folders", CGROUP_FIX),
    "pids_cgroup": ("a process cap that the session cannot lift", CGROUP_FIX),
    "cpu_cgroup": ("an equal CPU weight and a quota of one core, whatever the session forks", CGROUP_FIX),
}


@dataclass(frozen=True)
class Layer:
    """One isolation layer: whether a session had it, what it gives, and the fix when it is missing."""

    name: str
    active: bool
    gives: str
    fix: str


@dataclass(frozen=True)
class DoctorReport:
    """The isolation a session gets on this machine (``level`` is "full", "partial" or "minimal")."""

    level: str
    layers: tuple[Layer, ...]
    rlimits: tuple[str, ...]
    user: str
    system: str
    python: str
    session_ms: float
    raw: dict
    forced_off: bool = False
    memory: tuple[str, ...] = ()  # the memory figures of a session, one line each (see ``memory_lines``)

    def to_dict(self) -> dict:
        return {"level": self.level, "user": self.user, "system": self.system, "python": self.python,
                "session_ms": self.session_ms, "forced_off": self.forced_off, "rlimits": list(self.rlimits),
                "memory": list(self.memory),
                "layers": [{"name": x.name, "active": x.active, "gives": x.gives,
                            **({} if x.active else {"fix": x.fix})} for x in self.layers]}


def memory_lines(caps: dict[str, int], capped: bool) -> tuple[str, ...]:
    """What a session may use, for each distinct cap among ``caps`` (assignment id -> session MiB), and
    whether the cap holds here (``capped``: the probe session had its memory cgroup)."""
    by_cap: dict[int, list[str]] = {}
    for name, cap in sorted(caps.items()):
        by_cap.setdefault(int(cap), []).append(name)
    lines = []
    for cap, names in sorted(by_cap.items()):
        sizes = filesystem.folder_sizes(cap)
        folders = ", ".join(f"{folder} {mb} MiB" for folder, mb in sizes.items())
        lines.append(f"{', '.join(names)}: {cap} MiB per session, its processes and its folders together "
                     f"({folders}); one process may allocate at most {int(cap * PROCESS_SHARE)} MiB of it")
    if not capped:
        user = os.getuid() if hasattr(os, "getuid") else -1
        how = cgroups.DELEGATE_FIX if user != 0 else "enable the memory controller"
        lines.append(f"not enforced here: no memory cgroup for this user ({how}); each process is limited "
                     "on its own")
    return tuple(lines)


def probe(namespaces: bool = True, caps: dict[str, int] | None = None) -> DoctorReport:
    """Start one probe session and report its layers; ``caps`` (assignment id -> session memory cap in MiB)
    adds the memory figures of each."""
    with tempfile.TemporaryDirectory(prefix="dlgrade-doctor-") as folder:
        source = Path(folder) / "probe.py"
        source.write_text("def ok():\n    return 1\n")
        with Zygote(namespaces=namespaces) as zygote:
            forced_off = not zygote.namespaces
            started = time.perf_counter()
            session = zygote.spawn({"probe.py": source}, Limits(wall_s=20))
            try:
                layers = {**session.isolation, **session.request("isolation")}
                session.request("load", "module", "probe", "")
                session.request("call", "probe", "ok", [], {})
            finally:
                session.close()
            elapsed = time.perf_counter() - started
    report = from_layers(layers, elapsed * 1000, forced_off)
    lines = memory_lines(caps or {"default": filesystem.DEFAULT_SESSION_MB}, bool(layers.get("memory_cgroup")))
    return DoctorReport(**{**report.__dict__, "memory": lines})


def from_layers(layers: dict, session_ms: float = 0.0, forced_off: bool = False) -> DoctorReport:
    rows = tuple(Layer(name, bool(layers.get(name)), gives, fix) for name, (gives, fix) in LAYERS.items())
    uid = os.getuid() if hasattr(os, "getuid") else -1
    return DoctorReport(level=str(layers.get("level", "minimal")), layers=rows,
                        rlimits=tuple(str(x) for x in layers.get("rlimits", [])),
                        user="root" if uid == 0 else f"uid {uid}", system=f"{platform.system()} {platform.release()}",
                        python=sys.version.split()[0], session_ms=round(session_ms, 1), raw=dict(layers),
                        forced_off=forced_off)

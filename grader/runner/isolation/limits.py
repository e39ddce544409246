"""Per-process limits and identity of the student process: rlimits, uid nobody, no capabilities.

Applied in the student process after its root is built and before any student code runs.
"""

from __future__ import annotations

import ctypes
import os
import resource

from . import syscalls

NOBODY = 65534


def apply_rlimits(limits: dict, address_space: bool = True, processes: bool = True) -> list[str]:
    """Set CPU, address space, file size, process and open-file limits; returns the names that held.

    ``processes=False`` where a pids cgroup caps the session: RLIMIT_NPROC counts every process of
    the uid on the whole machine, so parallel sessions (all uid 65534) would starve each other."""
    applied = []
    vm = _current_vm_bytes()
    table = {
        "cpu_s": (resource.RLIMIT_CPU, lambda v: int(v)),
        "memory_mb": (resource.RLIMIT_AS, lambda v: vm + int(v) * 1024 * 1024),
        "file_mb": (resource.RLIMIT_FSIZE, lambda v: int(v) * 1024 * 1024),
        "processes": (resource.RLIMIT_NPROC, lambda v: int(v)),
        "open_files": (resource.RLIMIT_NOFILE, lambda v: int(v)),
    }
    for key, (res, convert) in table.items():
        if limits.get(key) is None or (key == "memory_mb" and not address_space) or (
                key == "processes" and not processes):
            continue
        value = convert(limits[key])
        try:
            resource.setrlimit(res, (value, value))
            applied.append(key)
        except (ValueError, OSError):
            pass
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    return applied


def _current_vm_bytes() -> int:
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:  # no /proc (macOS, or a session root without one)
        return 0


def interpreter_readable_by_others(paths) -> bool:
    """Whether an unprivileged user could reach these files on the host (every folder up to / o+x)."""
    for path in paths:
        path = os.path.abspath(path)
        while True:
            try:
                mode = os.stat(path).st_mode
            except OSError:
                return False
            if not mode & 0o001:
                return False
            parent = os.path.dirname(path)
            if parent == path:
                break
            path = parent
    return True


def drop_bounding_set() -> bool:
    """Remove every capability from the bounding set (needs CAP_SETPCAP: call while still privileged)."""
    if not syscalls.libc():
        return False
    ok = True
    for cap in range(64):
        if not syscalls.prctl(syscalls.PR_CAPBSET_DROP, cap) and cap < 38:
            ok = False
    return ok


def become_nobody() -> bool:
    """Switch to uid/gid 65534 with no supplementary groups; False if not permitted."""
    if os.getuid() != 0:
        return False
    try:
        os.setgroups([])
        os.setgid(NOBODY)
        os.setuid(NOBODY)
    except OSError:
        return False
    return os.getuid() == NOBODY and os.geteuid() == NOBODY


def no_new_privs() -> bool:
    """execve can never grant privileges again (set-uid files, file capabilities)."""
    return syscalls.prctl(syscalls.PR_SET_NO_NEW_PRIVS, 1)


def drop_capabilities() -> bool:
    """Empty the effective, permitted and inheritable sets (matters as root or in a user namespace)."""
    c = syscalls.libc()
    if not (c and hasattr(c, "capset")):
        return False

    class Header(ctypes.Structure):
        _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]

    class Data(ctypes.Structure):
        _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]

    header, data = Header(0x20080522, 0), (Data * 2)()
    if c.capset(ctypes.byref(header), ctypes.byref(data)) != 0:
        return False
    try:
        with open("/proc/self/status") as f:
            return all(line.split()[1] == "0" * 16 for line in f if line.startswith(("CapEff", "CapPrm")))
    except OSError:
        return True

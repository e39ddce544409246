"""Kernel namespaces of a session: user (when not root), PID, network, IPC and UTS.

The session parent enters them before forking the student process, which thus
becomes PID 1 of its own PID namespace: when it dies the kernel kills every
process the student started, and SysV IPC objects die with the IPC namespace.
"""

from __future__ import annotations

import os

from . import syscalls

LAYERS = (("pid_namespace", syscalls.CLONE_NEWPID), ("network_namespace", syscalls.CLONE_NEWNET),
          ("ipc_namespace", syscalls.CLONE_NEWIPC), ("uts_namespace", syscalls.CLONE_NEWUTS))


def enter_user_namespace() -> bool:
    """Enter a new user namespace mapping our own uid and gid to themselves; False if the OS refuses.

    Gives capabilities inside the namespace only, which is enough for the other namespaces and
    the mounts that build the session's root, without being root on the host.
    """
    uid, gid = os.getuid(), os.getgid()
    if not syscalls.unshare(syscalls.CLONE_NEWUSER):
        return False
    try:
        with open("/proc/self/setgroups", "w") as f:
            f.write("deny")
        with open("/proc/self/uid_map", "w") as f:
            f.write(f"{uid} {uid} 1")
        with open("/proc/self/gid_map", "w") as f:
            f.write(f"{gid} {gid} 1")
    except OSError:
        return False
    return True


def enter_namespaces() -> dict[str, bool]:
    """Unshare each namespace separately, so that the report says exactly which ones hold."""
    return {name: syscalls.unshare(flag) for name, flag in LAYERS}

"""Thin ctypes access to the Linux calls the standard library lacks (mount, unshare, prctl...)."""

from __future__ import annotations

import ctypes
import os
import sys

CLONE_NEWNS = 0x00020000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000
CLONE_NEWCGROUP = 0x02000000
NAMESPACE_FLAGS = (CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC, CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET,
                   CLONE_NEWCGROUP)

PR_SET_PDEATHSIG = 1
# pivot_root has no libc wrapper; its number by architecture.
SYS_PIVOT_ROOT = {"x86_64": 155, "aarch64": 41, "riscv64": 41}.get(os.uname().machine, 155)
PR_CAPBSET_DROP = 24
PR_SET_NO_NEW_PRIVS = 38

_libc = None


def libc():
    """The C library, or None where it cannot be loaded (then every layer here reports False)."""
    global _libc
    if _libc is None and sys.platform.startswith("linux"):
        try:
            _libc = ctypes.CDLL(None, use_errno=True)
        except OSError:
            _libc = False
    return _libc or None


def unshare(flags: int) -> bool:
    c = libc()
    return bool(c) and c.unshare(flags) == 0


def prctl(option: int, arg: int) -> bool:
    c = libc()
    return bool(c) and c.prctl(option, ctypes.c_ulong(arg), 0, 0, 0) == 0


def die_with_parent(signum: int) -> bool:
    """Ask the kernel to send ``signum`` to us when our parent ends (PR_SET_PDEATHSIG)."""
    return prctl(PR_SET_PDEATHSIG, int(signum))


def check(result: int, what: str) -> None:
    if result != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")

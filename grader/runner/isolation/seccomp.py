"""A seccomp filter that refuses (EPERM) what a numerical program never needs.

Built with libseccomp through ``pyseccomp`` (pure ctypes over the system's
libseccomp.so.2), so no BPF is written by hand. Everything not listed is allowed:
this is a deny list of the kernel's attack surface (mount, namespaces, ptrace,
keyrings, bpf, perf, modules...), on top of the allowlist root and the uid switch.
Where pyseccomp or libseccomp is missing the session runs without it and reports
``seccomp: False``.
"""

from __future__ import annotations

import ctypes
import errno
import tempfile

from . import syscalls

REFUSED = (
    "mount", "umount2", "pivot_root", "chroot", "move_mount", "open_tree", "fsopen", "fsconfig", "fsmount",
    "fspick", "mount_setattr", "ptrace", "process_vm_readv", "process_vm_writev", "kcmp", "pidfd_getfd",
    "keyctl", "add_key", "request_key", "bpf", "perf_event_open", "unshare", "setns",
    "kexec_load", "kexec_file_load", "init_module", "finit_module", "delete_module", "reboot",
    "swapon", "swapoff", "acct", "syslog", "quotactl", "quotactl_fd", "open_by_handle_at", "name_to_handle_at",
    "userfaultfd", "io_uring_setup", "io_uring_enter", "io_uring_register", "sethostname", "setdomainname",
    "settimeofday", "clock_settime", "clock_adjtime", "adjtimex", "personality", "lookup_dcookie",
    "vhangup", "nfsservctl", "uselib", "iopl", "ioperm", "fanotify_init",
)

try:  # imported by the zygote before any session, so libseccomp is already loaded when a session locks down
    import pyseccomp
except (ImportError, OSError):  # pragma: no cover - depends on the machine
    pyseccomp = None


def available() -> bool:
    return pyseccomp is not None


def compile_filter() -> bytes | None:
    """The filter as BPF bytes, built once (in the zygote: building it costs about 15 ms, loading it
    in each session a few microseconds); None where libseccomp is unavailable."""
    if pyseccomp is None:
        return None
    try:
        f = pyseccomp.SyscallFilter(pyseccomp.ALLOW)
        for name in REFUSED:
            try:
                f.add_rule(pyseccomp.ERRNO(errno.EPERM), name)
            except (RuntimeError, ValueError, OSError):
                pass  # a call this kernel or libseccomp does not know
        # clone with any namespace flag; clone3 passes its flags in memory that a filter cannot read,
        # so it gets ENOSYS and the C library falls back to clone (threads and fork keep working).
        for flag in syscalls.NAMESPACE_FLAGS:
            f.add_rule(pyseccomp.ERRNO(errno.EPERM), "clone", pyseccomp.Arg(0, pyseccomp.MASKED_EQ, flag, flag))
        try:
            f.add_rule(pyseccomp.ERRNO(errno.ENOSYS), "clone3")
        except (RuntimeError, ValueError, OSError):
            pass
        with tempfile.TemporaryFile() as out:
            f.export_bpf(out)
            out.seek(0)
            program = out.read()
    except (RuntimeError, ValueError, OSError):
        return None
    return program if program and len(program) % 8 == 0 else None


class _Program(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_char_p)]


def install(program: bytes | None) -> bool:
    """Load a compiled filter into the calling process (and so into every process it starts).
    Needs no_new_privs (or CAP_SYS_ADMIN) first."""
    c = syscalls.libc()
    if not program or not c:
        return False
    pr_set_seccomp, seccomp_mode_filter = 22, 2
    prog = _Program(len(program) // 8, program)
    return c.prctl(pr_set_seccomp, seccomp_mode_filter, ctypes.byref(prog), 0, 0) == 0

"""The untrusted side: a zygote that forks one sandboxed session per check.

Started by ``grader.runner.sandbox`` as ``python -I worker.py`` with a scrubbed
environment. It imports only the standard library, NumPy and ``wire`` (plus
whatever ``--preload`` names, e.g. torch), so that the interpreter and import
start-up are paid once; each session is then a ``fork`` (milliseconds).

Process tree of one session::

    zygote ── P (trusted: setsid, unshare, reports pids, waits) ── S (student)

P enters new PID and network namespaces when the kernel allows it, so S is
PID 1 of its own namespace: when S is killed, the kernel kills every process
the student started. S applies resource limits, drops root to ``nobody``,
changes into the scratch directory, redirects stdout/stderr to capped files and
only then imports student code. Everything S sends back is untrusted data that
the parent validates.
"""

from __future__ import annotations

import ctypes
import importlib
import importlib.abc
import importlib.util
import json
import os
import resource
import signal
import socket
import sys
import traceback

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import wire  # noqa: E402

CLONE_NEWNET = 0x40000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNS = 0x00020000
CLONE_NEWUSER = 0x10000000
PR_SET_PDEATHSIG = 1
NOBODY = 65534


# ------------------------------------------------------------------- zygote


def zygote_main(control_fd: int) -> None:
    """Serve spawn requests from the parent until it closes the control socket."""
    control = socket.socket(fileno=control_fd)
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # sessions are reaped automatically
    wire.send_message(control, {"ready": True, "pid": os.getpid()})
    while True:
        try:
            msg, fds, _, _ = socket.recv_fds(control, 1 << 16, 1)
        except OSError:
            return
        if not msg:
            return
        request = json.loads(msg)
        channel = fds[0]
        pid = os.fork()
        if pid == 0:
            try:
                control.close()
                _session_parent(channel, request)
            except BaseException:
                traceback.print_exc()  # lands in the zygote's log, for the staff
            finally:
                os._exit(0)
        os.close(channel)


def _session_parent(channel_fd: int, request: dict) -> None:
    """Process P: isolate, fork the student process S, report both pids."""
    os.setsid()
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    libc = ctypes.CDLL(None, use_errno=True)
    layers = {"process_group": True, "user_namespace": False, "pid_namespace": False, "network_namespace": False,
              "read_only_filesystem": False, "pids_cgroup": False}
    root = os.getuid() == 0
    namespaces = request.get("namespaces", True) and hasattr(libc, "unshare")
    privileged = root
    if namespaces and not root:
        # An unprivileged user namespace (most Linux laptops allow one) brings the same PID, network and
        # mount isolation as root has, with capabilities only inside it.
        privileged = layers["user_namespace"] = _user_namespace(libc)
    if namespaces and privileged:
        for flag, name in ((CLONE_NEWPID, "pid_namespace"), (CLONE_NEWNET, "network_namespace")):
            layers[name] = libc.unshare(flag) == 0
    stdout_fd = os.open(request["stdout"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    drop_to_nobody = root and _readable_by_nobody()
    if namespaces and privileged:
        layers["read_only_filesystem"] = _read_only_root(libc, request["scratch"], request.get("hide", []))
    go_read, go_write = os.pipe()
    child = os.fork()
    if child == 0:
        os.close(go_write)
        os.read(go_read, 1)  # wait until P has told the parent our pid
        os.close(go_read)
        _session_main(channel_fd, stdout_fd, request, layers, libc, drop_to_nobody)
        os._exit(0)
    os.close(go_read)
    os.close(stdout_fd)
    cgroup = _pids_cgroup(child, request["limits"].get("processes"))
    layers["pids_cgroup"] = cgroup is not None
    channel = socket.socket(fileno=channel_fd)
    wire.send_message(channel, {"ready": True, "pids": [os.getpid(), child], "isolation": layers,
                                "cgroup": cgroup})
    channel.detach()
    os.close(channel_fd)
    os.write(go_write, b"x")
    os.close(go_write)
    os.waitpid(child, 0)


def _user_namespace(libc) -> bool:
    """Enter a new user namespace mapping our own uid and gid to themselves; False if the OS refuses."""
    uid, gid = os.getuid(), os.getgid()
    if libc.unshare(CLONE_NEWUSER) != 0:
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


def _readable_by_nobody() -> bool:
    """Whether an unprivileged user could still import the interpreter's files."""
    for path in {sys.base_prefix, sys.prefix, os.path.dirname(wire.__file__), os.path.dirname(os.__file__)}:
        path = os.path.abspath(path)
        while True:
            mode = os.stat(path).st_mode
            if not mode & 0o001:
                return False
            parent = os.path.dirname(path)
            if parent == path:
                break
            path = parent
    return True


def _read_only_root(libc, scratch: str, hide: list[str]) -> bool:
    """In a private mount namespace, make / read-only except the scratch folder, and
    cover the folders in ``hide`` (the reference solutions) with empty ones."""
    ms_rdonly, ms_remount, ms_bind, ms_rec, ms_private = 1, 32, 4096, 16384, 1 << 18
    if libc.unshare(CLONE_NEWNS) != 0:
        return False
    ok = libc.mount(None, b"/", None, ms_rec | ms_private, None) == 0
    ok = ok and libc.mount(scratch.encode(), scratch.encode(), None, ms_bind, None) == 0
    ok = ok and libc.mount(None, b"/", None, ms_remount | ms_bind | ms_rdonly, None) == 0
    for extra in (b"/dev/shm", b"/tmp"):
        if os.path.ismount(extra):
            libc.mount(None, extra, None, ms_remount | ms_bind | ms_rdonly, None)
    for folder in hide:
        if os.path.isdir(folder):
            ok = ok and libc.mount(b"none", folder.encode(), b"tmpfs", ms_rdonly, b"size=4k") == 0
    return bool(ok)


def _pids_cgroup(pid: int, max_pids) -> str | None:
    """Put S in a fresh cgroup with a process cap (root only; RLIMIT_NPROC spares root)."""
    if os.getuid() != 0 or not max_pids:
        return None
    for base in ("/sys/fs/cgroup/pids", "/sys/fs/cgroup"):
        if not os.path.exists(os.path.join(base, "cgroup.procs")):
            continue
        path = os.path.join(base, f"dlgrade-{pid}")
        try:
            os.mkdir(path)
            with open(os.path.join(path, "pids.max"), "w") as f:
                f.write(str(int(max_pids)))
            with open(os.path.join(path, "cgroup.procs"), "w") as f:
                f.write(str(pid))
            return path
        except OSError:
            try:
                os.rmdir(path)
            except OSError:
                pass
    return None


def _session_main(channel_fd: int, stdout_fd: int, request: dict, layers: dict, libc, drop_to_nobody: bool) -> None:
    """Process S: lock down, then serve calls on the channel."""
    if hasattr(libc, "prctl"):
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    limits = request["limits"]
    scratch = request["scratch"]
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.dup2(stdout_fd, 1)
    os.dup2(stdout_fd, 2)
    os.close(stdout_fd)
    os.close(devnull)
    os.closerange(3, channel_fd)
    os.closerange(channel_fd + 1, 4096)
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # oversize writes fail with EFBIG
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)

    layers = {  # what S itself applied; P reports the namespaces and cgroup in its ready message
        "rlimits": _apply_limits(limits),
        "unprivileged_user": _drop_privileges() if drop_to_nobody else os.getuid() != 0,
        "no_capabilities": _drop_capabilities(libc),
    }
    os.chdir(scratch)
    os.environ.clear()
    os.environ.update({"HOME": scratch, "TMPDIR": scratch, "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"})
    sys.stdout = open(1, "w", buffering=1, closefd=False, errors="replace")
    sys.stderr = open(2, "w", buffering=1, closefd=False, errors="replace")
    sys.path.insert(0, scratch)
    Session(socket.socket(fileno=channel_fd), request, layers).serve()


def _drop_capabilities(libc) -> bool:
    """Give up every capability and forbid regaining any (matters when uid is 0 or in a user namespace)."""
    if not (hasattr(libc, "prctl") and hasattr(libc, "capset")):
        return False
    pr_set_no_new_privs, pr_capbset_drop = 38, 24
    libc.prctl(pr_set_no_new_privs, 1, 0, 0, 0)
    for cap in range(64):
        libc.prctl(pr_capbset_drop, cap, 0, 0, 0)

    class Header(ctypes.Structure):
        _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]

    class Data(ctypes.Structure):
        _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]

    header, data = Header(0x20080522, 0), (Data * 2)()
    return libc.capset(ctypes.byref(header), ctypes.byref(data)) == 0


def _apply_limits(limits: dict) -> list[str]:
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
        if limits.get(key) is None:
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
    except OSError:  # no /proc (macOS): the address-space limit is not enforced there anyway
        return 0


def _drop_privileges() -> bool:
    if os.getuid() != 0:
        return False
    try:
        os.setgroups([])
        os.setgid(NOBODY)
        os.setuid(NOBODY)
    except OSError:
        return False
    return True


# ------------------------------------------------------------------ session


class ForbiddenImport(ImportError):
    """Raised for a module a from-scratch assignment may not import."""


class _ImportGuard(importlib.abc.MetaPathFinder):
    def __init__(self, forbidden: list[str], seen: list[str]):
        self.forbidden, self.seen = set(forbidden), seen

    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in self.forbidden:
            self.seen.append(name)
            raise ForbiddenImport(f"importing {name!r} is not allowed in this assignment")
        return None


class _AsHandle:
    """Wraps a value that must go back as a handle even if it is plain data."""

    def __init__(self, value):
        self.value = value


class Session:
    """Execute the parent's requests against student objects kept behind handles."""

    def __init__(self, channel: socket.socket, request: dict, layers: dict):
        self.channel = channel
        self.layers = layers
        self.request = request
        self.objects: dict[int, object] = {}
        self.modules: dict[str, object] = {}
        self.forbidden_seen: list[str] = []
        forbidden = request.get("forbidden_imports") or []
        if forbidden:
            for name in forbidden:
                sys.modules.pop(name, None)
            sys.meta_path.insert(0, _ImportGuard(forbidden, self.forbidden_seen))

    def serve(self) -> None:
        ops = {"load": self.op_load, "call": self.op_call, "get": self.op_get, "set": self.op_set,
               "ref": self.op_ref, "map": self.op_map,
               "isolation": lambda: self.layers}
        while True:
            try:
                header, blobs = wire.recv_message(self.channel)
            except EOFError:
                return
            arrays: list[bytes] = []
            try:
                args = wire.decode(header.get("args", []), blobs, self._resolve)
                result = ops[header["op"]](*args)
                reply = {"value": wire.encode(result, arrays, self._to_handle)}
            except BaseException as exc:  # student code may raise anything, SystemExit included
                arrays = []
                reply = {"error": self._describe(exc)}
            wire.send_message(self.channel, reply, arrays)

    # handles ---------------------------------------------------------------

    def _to_handle(self, obj) -> dict:
        if isinstance(obj, _AsHandle):
            obj = obj.value
        key = len(self.objects) + 1
        self.objects[key] = obj
        name = type(obj).__name__
        if isinstance(obj, __import__("numpy").ndarray):
            name = f"ndarray[dtype={obj.dtype}]"
        return {"__handle__": key, "type": name}

    def _resolve(self, handle: wire.Handle):
        return self.objects[handle.id]

    def _target(self, target):
        if isinstance(target, str):
            if target not in self.modules:
                raise LookupError(f"module {target!r} was not loaded")
            return self.modules[target]
        return target

    # operations ------------------------------------------------------------

    def op_load(self, kind: str, name: str, path: str):
        """Import a student module (by name, from scratch) or a grader driver file (by path)."""
        if kind == "driver":
            spec = importlib.util.spec_from_file_location(name, path)
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
        else:
            module = importlib.import_module(name)
        self.modules[name] = module
        return True

    def op_call(self, target, attr, args, kwargs):
        obj = self._target(target)
        func = getattr(obj, attr) if attr else obj
        return func(*args, **kwargs)

    def op_map(self, target, attr, arglist):
        func = getattr(self._target(target), attr)
        return [func(*args) for args in arglist]

    def op_get(self, target, attr):
        return getattr(self._target(target), attr)

    def op_set(self, target, attr, value):
        setattr(self._target(target), attr, value)
        return None

    def op_ref(self, target, attr):
        value = getattr(self._target(target), attr) if attr else self._target(target)
        return _AsHandle(value)

    def _describe(self, exc: BaseException) -> dict:
        frames = traceback.extract_tb(exc.__traceback__)
        scratch = self.request["scratch"]
        student = [f for f in frames if f.filename.startswith(scratch)]
        where = student[-1] if student else None
        missing = None
        if isinstance(exc, AttributeError) and getattr(exc, "obj", None) is not None:
            missing = getattr(exc, "name", None)
        if isinstance(exc, ModuleNotFoundError):
            missing = exc.name
        return {
            "type": type(exc).__name__,
            "message": str(exc)[:2000],
            "where": f"{os.path.basename(where.filename)}:{where.lineno}" if where else None,
            "line": (where.line or "")[:300] if where else None,
            "student_frames": len(student),
            "missing": missing,
            "forbidden": list(self.forbidden_seen),
            "traceback": "".join(traceback.format_exception(exc))[-4000:],
        }


if __name__ == "__main__":
    preload = [m for m in os.environ.get("DLGRADE_PRELOAD", "").split(",") if m]
    for module_name in preload:
        try:
            importlib.import_module(module_name)
        except ImportError:
            pass
    if "torch" in sys.modules:  # load the lazy meta-device kernels once, not in every session (about 2 s)
        torch = sys.modules["torch"]
        torch.nn.functional.conv2d(torch.empty(1, 3, 8, 8, device="meta"), torch.empty(2, 3, 3, 3, device="meta"))
    zygote_main(int(sys.argv[1]))

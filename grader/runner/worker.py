"""The untrusted side: a zygote that forks sandboxed sessions (a host per submission, see ``Host``).

Started by ``grader.runner.sandbox`` as ``python -I worker.py FD HOME`` with a scrubbed
environment. It imports only the standard library, NumPy, ``wire`` and the layer
modules of ``isolation/`` (plus whatever ``DLGRADE_PRELOAD`` names, e.g. torch), so that
the interpreter, the imports, the allowlist and the seccomp program are paid once; each
session is then a ``fork`` (milliseconds).

Process tree of one session::

    zygote ── P (trusted: cgroup, namespaces, waits, removes the cgroup) ─┬─ S (student, or a host)
                                                                          └─ R (a host's: renews its folders)

P joins the session's memory, pids and CPU cgroup and (when not root) a user namespace, then
enters new PID, network, IPC and UTS namespaces, so S is PID 1 of its own namespace: when S
dies the kernel kills every process the student started. For a host (one sandbox per
submission, a fresh process per check) P also forks R before the PID namespace, outside it:
R enters S's mount namespace and, after each check, replaces the writable folders with fresh
ones (``filesystem.renew_folders``); S asks it over a socket and cannot otherwise reach it. S enters a
mount namespace, builds its allowlist root and pivots into it (``isolation.filesystem``),
applies rlimits, becomes uid 65534 with no capabilities and no_new_privs, loads the
seccomp filter, and only then imports student code. Everything S sends back is untrusted
data that the parent validates. When the parent closes the control socket (or dies),
the zygote ends every session, removes the cgroups and its folder, and exits.
"""

from __future__ import annotations

import gc
import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import json
import os
import resource
import selectors
import signal
import socket
import struct
import sys
import traceback

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import wire  # noqa: E402
from isolation import cgroups, filesystem, limits, namespaces, packages, seccomp, syscalls  # noqa: E402
from isolation.level import isolation_level  # noqa: E402

# ------------------------------------------------------------------- zygote


def zygote_main(control_fd: int, listener: socket.socket | None = None) -> None:
    """Serve spawn requests from the parent until it closes the control socket (or dies), then end
    every session it started and remove their cgroups (the caller then removes the folder): even a SIGKILLed
    parent leaves nothing.

    With a ``listener``, also serve other processes of the same user that connect to its Unix socket
    (``dlgrade grade``'s workers share one zygote): each connection's sessions end when it closes."""
    control = socket.socket(fileno=control_fd)
    prefix = f"{cgroups.PREFIX}{os.getpid()}-"
    base = cgroups.session_base()  # where sessions' cgroups go: root's, a delegated folder, or none
    sessions: set[int] = set()
    clients: dict[socket.socket, set[int]] = {control: set()}  # connection -> the sessions it asked for

    def stop(signum, frame):
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    try:  # however it ends, every session it started ends with it (the folder goes in the caller's ``finally``)
        plan = filesystem.plan()
        program = seccomp.compile_filter()
        hello = {"ready": True, "pid": os.getpid(), "seccomp": program is not None}
        selector = selectors.DefaultSelector()
        for sock in (control, listener):
            if sock is not None:
                selector.register(sock, selectors.EVENT_READ)
        wire.send_message(control, hello)
        try:  # the preloaded packages' paths, resolved while the parent gets ready (a request meanwhile waits)
            plan.session([m for m in os.environ.get("DLGRADE_PRELOAD", "").split(",") if m])
        except Exception:  # noqa: BLE001 - resolved again (and reported) on the first request
            pass
        while os.getppid() != 1:
            for key, _ in selector.select():
                _reap(sessions, block=False)
                for pids in clients.values():  # forget the reaped: the pid may come back as another worker's session
                    pids &= sessions
                sock = key.fileobj
                if sock is listener:
                    _accept(listener, selector, clients, hello)
                    continue
                try:
                    msg, fds, _, _ = socket.recv_fds(sock, 1 << 16, 1)
                except OSError:
                    msg, fds = b"", []
                if not msg or not fds:
                    for fd in fds:
                        os.close(fd)
                    if sock is control:
                        return
                    _drop_client(sock, selector, clients, sessions)
                    continue
                try:
                    request = json.loads(msg)
                except (ValueError, RecursionError):  # e.g. "[" * 60000: never end the zygote of every worker
                    os.close(fds[0])
                    continue
                if not isinstance(request, dict):
                    os.close(fds[0])
                    continue
                channel = fds[0]
                try:  # the paths of the assignment's packages: computed on a first request, then a dict lookup
                    paths, request["purge"] = plan.session(request.get("packages") or ())
                except Exception as exc:  # noqa: BLE001 - broken metadata must not end the zygote of every worker
                    paths, request["purge"] = list(plan.base), sorted(plan.loaded - {"numpy"})
                    print(f"dlgrade: the packages of {request.get('packages')} could not be resolved: {exc}",
                          file=sys.stderr)
                pid = os.fork()
                if pid == 0:
                    try:
                        for other in [*clients, listener]:
                            if other is not None:
                                other.close()
                        _session_parent(channel, request, paths, prefix, program, base)
                    except BaseException:
                        traceback.print_exc()  # lands in the zygote's log, for the staff
                    finally:
                        os._exit(0)
                sessions.add(pid)
                clients[sock].add(pid)
                os.close(channel)
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        for pid in sessions:
            _signal(pid, signal.SIGTERM)  # each session parent kills its student, removes its cgroup
        _reap(sessions, block=True)
        cgroups.remove_leftovers(prefix, base)


def _accept(listener: socket.socket, selector, clients: dict, hello: dict) -> None:
    try:
        conn, _ = listener.accept()
    except OSError:
        return
    creds = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    pid, uid, _ = struct.unpack("3i", creds)
    # A session (uid 65534) or another user: refused. So is a session that kept the grader's uid (the partial level,
    # or root where the interpreter is closed to others) yet can reach the socket (no allowlist root): a peer may
    # have any file copied or bound into a session it asks for, as this user.
    if uid != os.getuid() or not _same_namespaces(pid):
        conn.close()
        return
    try:
        wire.send_message(conn, hello)
    except OSError:
        conn.close()
        return
    clients[conn] = set()
    selector.register(conn, selectors.EVENT_READ)


def _same_namespaces(pid: int) -> bool:
    """Whether process ``pid`` shares this process's mount and network namespaces, as ``dlgrade grade``'s workers
    do and a session never does where namespaces exist. Without /proc to tell, only the uid check remains."""
    for kind in ("mnt", "net"):
        try:
            ours = os.readlink(f"/proc/self/ns/{kind}")
        except OSError:
            continue
        try:
            if os.readlink(f"/proc/{pid}/ns/{kind}") != ours:
                return False
        except OSError:  # gone already, or hidden from us: refused
            return False
    return True


def _drop_client(conn: socket.socket, selector, clients: dict, sessions: set[int]) -> None:
    """A worker closed its connection (or died): end the sessions it started, as at shutdown."""
    selector.unregister(conn)
    for pid in clients.pop(conn) & sessions:  # only children not yet reaped (see the loop): their pids are not reused
        _signal(pid, signal.SIGTERM)
    conn.close()


def _reap(pids: set[int], block: bool) -> None:
    for pid in list(pids):
        try:
            done, _ = os.waitpid(pid, 0 if block else os.WNOHANG)
        except ChildProcessError:
            done = pid
        if done:
            pids.discard(pid)


def _signal(pid: int, signum: int) -> None:
    try:
        os.kill(pid, signum)
    except OSError:
        pass


def _session_parent(channel_fd: int, request: dict, plan: list[str], prefix: str, program: bytes | None,
                    base: str | None = cgroups.BASE) -> None:
    """Process P: cgroup and namespaces, fork the student process S (and a host's R), report the pids, wait
    for S, then remove the cgroup. P is trusted; S (PID 1 of its namespace) cannot see or signal it."""
    os.setsid()
    child = 0

    def stop(signum, frame):  # the zygote is closing, or died: end the session, then clean up below
        if child:
            _signal(child, signal.SIGKILL)
        else:
            raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    syscalls.die_with_parent(signal.SIGTERM)
    layers = {"process_group": True, "user_namespace": False, "pid_namespace": False, "network_namespace": False,
              "ipc_namespace": False, "uts_namespace": False}
    root = os.getuid() == 0
    wanted = bool(request.get("namespaces", True)) and syscalls.libc() is not None
    privileged = root
    limits_ = request["limits"]
    group = cgroups.SessionCgroup(f"{prefix}{os.getpid()}", base)
    if base is not None:  # before the user namespace: the cgroup's files belong to the user outside it
        group.create(limits_.get("session_mb"), limits_.get("processes"), limits_.get("cpus"))
        joined = group.join()
        layers["memory_cgroup"], layers["pids_cgroup"] = joined and group.memory, joined and group.pids
        layers["cpu_cgroup"] = joined and group.cpu
    if wanted and not root:
        # An unprivileged user namespace (most Linux laptops allow one) brings the same namespaces
        # and mounts as root has, with capabilities only inside it.
        privileged = layers["user_namespace"] = namespaces.enter_user_namespace()
    renewer, renewer_pid = None, 0
    if request.get("host") and wanted and privileged:
        renewer, theirs = socket.socketpair()
        renewer_pid = os.fork()
        if renewer_pid == 0:  # R: outside the PID namespace S is about to be init of, so S cannot end it
            theirs.close()
            try:
                _renewer(renewer, request, plan, limits.NOBODY if root else None)
            finally:
                os._exit(0)
        renewer.close()
        renewer = theirs
    if wanted and privileged:
        layers.update(namespaces.enter_namespaces())
    stdout_fd = os.open(request["stdout"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    go_read, go_write = os.pipe()
    child = os.fork()
    if child == 0:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        os.close(go_write)
        os.read(go_read, 1)  # wait until P has told the parent our pid
        os.close(go_read)
        _session_main(channel_fd, stdout_fd, request, layers, plan, wanted and privileged, program,
                      renewer.fileno() if renewer else None)
        os._exit(0)
    os.close(go_read)
    os.close(stdout_fd)
    if renewer is not None:
        renewer.close()
    channel = socket.socket(fileno=channel_fd)
    wire.send_message(channel, {"ready": True, "pids": [os.getpid(), child], "isolation": layers,
                                "cgroup": group.memory_path() if layers.get("memory_cgroup") else None})
    channel.close()
    os.write(go_write, b"x")
    os.close(go_write)
    try:
        os.waitpid(child, 0)  # returns once S, and so its whole PID namespace, is gone
    except ChildProcessError:
        pass
    if renewer_pid:  # R has nothing left to renew; it leaves the cgroup before the cgroup is removed
        _signal(renewer_pid, signal.SIGKILL)
        try:
            os.waitpid(renewer_pid, 0)
        except ChildProcessError:
            pass
    if not layers["pid_namespace"]:
        group.kill_remaining()
    group.remove()


def _renewer(sock: socket.socket, request: dict, plan: list[str], owner: int | None) -> None:
    """Process R of a host: after each check, replace the host's writable folders with fresh ones.

    R is trusted and never runs student code. It reads the submission's files now, then waits for the host S
    to send its mount namespace (once its root is built), enters it, and answers each "r" (S has killed every
    process of the check) with "k" once ``/tmp``, ``/scratch`` and ``/dev/shm`` are new tmpfs mounts, as the
    first check received them. It lives outside S's PID namespace (S cannot see or signal it), and ends when S
    closes the socket (S died) or when P dies."""
    syscalls.die_with_parent(signal.SIGKILL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    keep = sock.fileno()
    os.closerange(3, keep)  # the grader's channel among them: only S may hold it, or S's death goes unseen
    os.closerange(keep + 1, 4096)
    contents = filesystem.read_submission(request.get("files", {}))
    binds = [p for p in plan + list(request.get("binds", [])) if p.startswith(("/tmp/", "/dev/shm/", "/scratch/"))]
    sizes = filesystem.folder_sizes(request["limits"].get("session_mb"))
    _, fds, _, _ = socket.recv_fds(sock, 16, 1)
    if not fds:
        return
    syscalls.setns(fds[0], syscalls.CLONE_NEWNS)
    os.close(fds[0])
    os.chdir("/")
    while sock.recv(16):
        try:
            filesystem.renew_folders(binds, contents, owner, sizes)
            sock.sendall(b"k")
        except OSError as exc:
            sock.sendall(b"e" + str(exc)[:200].encode(errors="replace"))


def _session_main(channel_fd: int, stdout_fd: int, request: dict, layers: dict, plan: list[str],
                  privileged: bool, program: bytes | None, renewer_fd: int | None = None) -> None:
    """Process S: build the root, lock down, then serve calls on the channel."""
    syscalls.die_with_parent(signal.SIGKILL)
    os.setpgid(0, 0)  # the parent kills the group where there is no PID namespace
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.dup2(stdout_fd, 1)
    os.dup2(stdout_fd, 2)
    os.close(stdout_fd)
    os.close(devnull)
    for low, high in _gaps(3, 4096, {channel_fd, renewer_fd}):
        os.closerange(low, high)
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # oversize writes fail with EFBIG
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)

    root = os.getuid() == 0
    files = request.get("files", {})
    layers = {**layers, "mount_namespace": False, "allowlist_root": False, "proc_private": False,
              "read_only_filesystem": False}
    layers.setdefault("memory_cgroup", False)
    layers.setdefault("pids_cgroup", False)
    layers.setdefault("cpu_cgroup", False)
    scratch = request["scratch"]
    if privileged and syscalls.unshare(syscalls.CLONE_NEWNS):
        layers["mount_namespace"] = True
        try:
            held = filesystem.build_root(request["new_root"], plan + list(request.get("binds", [])),
                                         filesystem.site_folders(), files, limits.NOBODY if root else None,
                                         mount_proc=layers["pid_namespace"],
                                         sizes=filesystem.folder_sizes(request["limits"].get("session_mb")))
            scratch = filesystem.SCRATCH
            layers.update(allowlist_root=True, read_only_filesystem=True, proc_private=held["proc"])
        except OSError as exc:
            layers["allowlist_error"] = str(exc)[:300]
    if not layers["allowlist_root"]:
        filesystem.copy_submission(files, scratch, limits.NOBODY if root else None)
        if layers["mount_namespace"]:
            layers["read_only_filesystem"] = filesystem.read_only_host_root(scratch, request.get("hide", []))
    if layers["uts_namespace"]:
        try:
            socket.sethostname("sandbox")
        except OSError:
            pass
    request = {**request, "scratch": scratch}
    layers["rlimits"] = limits.apply_rlimits(request["limits"], processes=not layers["pids_cgroup"])
    if root or layers["user_namespace"]:
        limits.drop_bounding_set()
    if root and (layers["allowlist_root"] or limits.interpreter_readable_by_others(_interpreter_paths())):
        layers["unprivileged_user"] = limits.become_nobody()
    else:
        layers["unprivileged_user"] = os.getuid() != 0
    if root and not layers["unprivileged_user"] and not layers["allowlist_root"]:
        # A capability-less root must own its scratch to use it (no DAC override left).
        for path in [scratch, *(os.path.join(scratch, n) for n in os.listdir(scratch))]:
            os.chown(path, 0, 0, follow_symlinks=False)
    layers["no_new_privs"] = limits.no_new_privs()
    layers["no_capabilities"] = limits.drop_capabilities()
    layers["seccomp"] = seccomp.install(program)
    layers["level"] = isolation_level(layers)
    os.chdir(scratch)
    os.environ.clear()
    os.environ.update({"HOME": scratch, "TMPDIR": "/tmp" if layers["allowlist_root"] else scratch,
                       "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"})
    sys.stdout = open(1, "w", buffering=1, closefd=False, errors="replace")
    sys.stderr = open(2, "w", buffering=1, closefd=False, errors="replace")
    sys.path.insert(0, scratch)
    channel = socket.socket(fileno=channel_fd)
    renewer = socket.socket(fileno=renewer_fd) if renewer_fd is not None else None
    if renewer is not None and not (request.get("host") and layers["allowlist_root"]):
        renewer.close()  # R sees the end and exits: only a host in its own root has folders to renew
        renewer = None
    forget_modules(request.get("purge") or ())
    if request.get("host"):
        Host(channel, request, layers, renewer).serve()
    else:
        Session(channel, request, layers).serve()


def _gaps(low: int, high: int, keep: set) -> list[tuple[int, int]]:
    """The ranges of [low, high) around the descriptors in ``keep`` (None ignored), for ``os.closerange``."""
    ranges = []
    for fd in sorted(k for k in keep if k is not None):
        ranges.append((low, fd))
        low = fd + 1
    return ranges + [(low, high)]


def _interpreter_paths() -> set[str]:
    return {sys.base_prefix, sys.prefix, os.path.dirname(wire.__file__), os.path.dirname(os.__file__)}


# --------------------------------------------------------------------- host

PR_SET_DUMPABLE, PR_GET_DUMPABLE = 4, 3
MAX_HOST_REQUEST = 1 << 16


class Host:
    """A session that never runs student code: it forks one fresh ``Session`` per check.

    Built once per submission (namespaces, cgroup, allowlist root, uid, seccomp: the costly part), it
    then serves two requests from the parent: ``fork`` (with the new session's channel and stdout
    file as passed descriptors) and ``reap``, which ends every other process of the PID namespace
    (this host is its PID 1) once a check is over, so nothing a check started outlives it. Each
    child starts from the host's state, which no student code has touched: exactly what a freshly
    spawned session would see, for a few milliseconds instead of tens.
    """

    def __init__(self, channel: socket.socket, request: dict, layers: dict, renewer: socket.socket | None = None):
        self.channel, self.request, self.layers = channel, request, layers
        self.renewer = renewer if renewer is not None and self._send_mount_namespace(renewer) else None
        c = syscalls.libc()
        self.dumpable = c.prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) if c else 1  # each child gets it back
        scratch = request["scratch"]
        # What a check may change that the next would see: its writable folders. Kept as they were
        # before any check (the submission's files, read now) and put back after each one.
        self.folders = [scratch] + (["/tmp", "/dev/shm"] if layers.get("allowlist_root") else [])
        # What was there before any check (e.g. the read-only binds of an interpreter installed under /tmp)
        # stays; only what the checks added goes.
        self.before = {folder: set(os.listdir(folder)) for folder in self.folders}
        self.modes = {folder: os.stat(folder).st_mode & 0o7777 for folder in self.folders}
        self.originals = {}
        for name in os.listdir(scratch):
            path = os.path.join(scratch, name)
            with open(path, "rb") as f:
                self.originals[path] = f.read()
        # Compiled once here for every check (parsing only: no student code runs in the host).
        sources = {p: d for p, d in self.originals.items() if p.endswith(".py")}
        for path in request.get("binds", []):
            if path.endswith(".py"):
                with open(path, "rb") as f:
                    sources[path] = f.read()
        for path, data in sources.items():
            try:
                _COMPILED[path] = (data, compile(data, path, "exec", dont_inherit=True))
            except (SyntaxError, ValueError, RecursionError, MemoryError):
                pass  # the check's own import reports it
        global _FINDER
        _FINDER = _CompiledFinder(scratch)
        sys.meta_path.insert(0, _FINDER)

    @staticmethod
    def _send_mount_namespace(renewer: socket.socket) -> bool:
        """Hand R this root's mount namespace, which it enters to renew the folders; False (and R told to
        end) where /proc cannot give it."""
        try:
            fd = os.open("/proc/self/ns/mnt", os.O_RDONLY)
        except OSError:
            renewer.close()
            return False
        try:
            socket.send_fds(renewer, [b"n"], [fd])
        except OSError:
            renewer.close()
            return False
        finally:
            os.close(fd)
        return True

    def serve(self) -> None:
        # Children are reaped by the kernel; a child's memory cannot be read or written by its siblings
        # through this process (not dumpable: /proc/1/mem and /proc/1/fd are closed to them).
        signal.signal(signal.SIGCHLD, signal.SIG_IGN)
        # As its namespace's init the kernel already drops the signals a check sends it unless it handles them;
        # Python handles SIGINT, so ignore both that and SIGTERM here (the parent ends a host with SIGKILL).
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        syscalls.prctl(PR_SET_DUMPABLE, 0)
        gc.freeze()  # the children's collector leaves the host's objects alone: fewer copy-on-write faults
        while True:
            try:
                header, fds = self._receive()
            except (EOFError, OSError, ValueError):
                return
            op = header.get("op")
            try:
                if op == "fork" and len(fds) == 2:
                    self._fork(*fds, header)
                    fds = []
                    reply = {"value": True}
                elif op == "reap":
                    _kill_all_others()
                    self._reset_folders()
                    reply = {"value": True}
                else:
                    reply = {"error": {"type": "ValueError", "message": f"unknown host request {op!r}"}}
            except OSError as exc:  # e.g. no process left under the pids cap
                reply = {"error": {"type": "OSError", "message": str(exc)[:300]}}
            for fd in fds:
                os.close(fd)
            wire.send_message(self.channel, reply)

    def _receive(self) -> tuple[dict, list[int]]:
        """One small request (8-byte length, then JSON) and the descriptors sent with it."""
        data, fds, _, _ = socket.recv_fds(self.channel, MAX_HOST_REQUEST, 2)
        data = bytearray(data)
        while True:
            size = int.from_bytes(data[:8], "big") if len(data) >= 8 else None
            if size is not None and (size > MAX_HOST_REQUEST or len(data) >= 8 + size):
                break
            more = self.channel.recv(MAX_HOST_REQUEST)
            if not more:
                raise EOFError
            data += more
        if size > MAX_HOST_REQUEST:
            raise ValueError("host request too large")
        header = json.loads(bytes(data[8:8 + size]))
        return (header if isinstance(header, dict) else {}), list(fds)

    def _reset_folders(self) -> None:
        """Give the next check the writable folders the first one received: fresh tmpfs mounts made by R, or
        (where the host has no R: no root of its own, so only /scratch is writable) emptied and refilled."""
        if self.renewer is not None:
            os.chdir("/")  # hold nothing of the old folders, or their pages could not be freed
            try:
                self.renewer.sendall(b"r")
                answer = self.renewer.recv(256)
            finally:
                os.chdir(self.request["scratch"])
            if answer != b"k":
                raise OSError(f"the writable folders could not be renewed: {answer[1:].decode(errors='replace')}")
            return
        for folder in self.folders:
            try:
                os.chmod(folder, self.modes[folder])
            except OSError:
                pass
            for name in os.listdir(folder):
                path = os.path.join(folder, name)
                if name in self.before[folder] and path not in self.originals:
                    continue
                filesystem.remove_tree(path, force=True)
                try:
                    os.unlink(path)  # not a folder (remove_tree leaves those)
                except OSError:
                    pass
        for path, data in self.originals.items():
            with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644), "wb") as f:
                f.write(data)

    def _fork(self, channel_fd: int, stdout_fd: int, header: dict) -> None:
        pid = os.fork()
        if pid:
            os.close(channel_fd)
            os.close(stdout_fd)
            return
        try:
            syscalls.die_with_parent(signal.SIGKILL)
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            syscalls.prctl(PR_SET_DUMPABLE, self.dumpable)
            signal.signal(signal.SIGINT, signal.default_int_handler)  # as a freshly started session has them
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            self.channel.close()
            if self.renewer is not None:
                self.renewer.close()
            os.dup2(stdout_fd, 1)
            os.dup2(stdout_fd, 2)
            os.close(stdout_fd)
            cpu_s = header.get("cpu_s")
            if isinstance(cpu_s, int) and cpu_s > 0:
                soft, hard = resource.getrlimit(resource.RLIMIT_CPU)
                if hard == resource.RLIM_INFINITY or cpu_s <= hard:
                    resource.setrlimit(resource.RLIMIT_CPU, (cpu_s, cpu_s))
            Session(socket.socket(fileno=channel_fd), self.request, self.layers).serve()
        finally:
            os._exit(0)


_COMPILED: dict[str, tuple[bytes, object]] = {}  # path -> (source, code object), filled by a host


class _CompiledOnce(importlib.machinery.SourceFileLoader):
    """Loads a file with the code its host compiled, while the file still holds that source."""

    def get_code(self, fullname):
        source = self.get_data(self.path)
        compiled = _COMPILED.get(self.path)
        if compiled is not None and compiled[0] == source:
            return compiled[1]
        return self.source_to_code(source, self.path)


class _CompiledFinder(importlib.abc.MetaPathFinder):
    """Finds the submission's modules in scratch (as the path finder would) with ``_CompiledOnce``.

    First on ``sys.meta_path``, it is asked about every module not imported yet, so it also notes
    which of them come from scratch (``from_scratch``): what a process group's ``begin`` forgets,
    without walking every module torch loaded (which copies their pages in each child)."""

    def __init__(self, scratch: str):
        self.scratch = scratch
        self.from_scratch: set[str] = set()

    def find_spec(self, name, path=None, target=None):
        top = name.partition(".")[0]
        file = os.path.join(self.scratch, f"{name}.py")
        if top in self.from_scratch or os.path.exists(os.path.join(self.scratch, top)) or os.path.exists(
                os.path.join(self.scratch, f"{top}.py")):
            self.from_scratch.add(name)
        if "." in name or file not in _COMPILED:
            return None
        return importlib.util.spec_from_file_location(name, file, loader=_CompiledOnce(name, file))


_FINDER: _CompiledFinder | None = None  # installed by a host: its children import through it


def _kill_all_others() -> None:
    """SIGKILL every process of this PID namespace but its init (this host), and wait until they are gone."""
    try:
        os.kill(-1, signal.SIGKILL)
    except OSError:
        pass  # nothing left to kill
    for _ in range(1000):  # children are reaped by the kernel (SIGCHLD ignored); wait for the last one
        try:
            os.waitpid(-1, 0)
        except ChildProcessError:
            return


# ------------------------------------------------------------------ session


def forget_modules(tops) -> None:
    """Drop from ``sys.modules`` every module of the top-level packages ``tops``: third-party modules the zygote
    loaded (for another assignment, or for itself) that this session's assignment neither declares nor needs.
    Their files are not in the session's root either, so importing one fails as if it were not installed."""
    tops = set(tops)
    if tops:
        for name in [n for n in sys.modules if n.partition(".")[0] in tops]:
            del sys.modules[name]


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
               "ref": self.op_ref, "map": self.op_map, "begin": self.op_begin,
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
            spec = importlib.util.spec_from_file_location(name, path, loader=_CompiledOnce(name, path))
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
        else:
            module = importlib.import_module(name)
        self.modules[name] = module
        return True

    def op_begin(self):
        """The next check of a process group starts here: forget every handle and module of the last one, so
        its imports execute the submission's modules afresh, and start its output from empty.

        Hygiene for the student's own sake, not a defence: student code in this process can undo any of it,
        and can only change its own results by doing so (grader/runner/groups.py)."""
        self.objects.clear()
        self.modules.clear()
        self.forbidden_seen.clear()
        if _FINDER is not None and _FINDER in sys.meta_path:  # a host's child: the finder noted them
            for name in _FINDER.from_scratch:
                sys.modules.pop(name, None)
            _FINDER.from_scratch.clear()
        else:
            scratch = self.request["scratch"].rstrip("/") + "/"
            for name, module in list(sys.modules.items()):
                try:  # the module's own dict, not getattr: torch's modules have __getattr__ hooks that import
                    file = object.__getattribute__(module, "__dict__").get("__file__")
                except (AttributeError, TypeError):
                    continue
                if isinstance(file, str) and file.startswith(scratch):
                    sys.modules.pop(name, None)
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):
                pass
        try:
            os.ftruncate(1, 0)
            os.lseek(1, 0, os.SEEK_SET)  # fd 2 shares this offset (one open file description)
        except OSError:
            pass
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


def _end_start_up(signum, frame):
    raise SystemExit(0)


if __name__ == "__main__":
    # The parent may die (or give up) while the imports below run, which take seconds with torch: from the
    # first instruction its death ends this process through the ``finally`` below, which removes the folder.
    signal.signal(signal.SIGTERM, _end_start_up)
    syscalls.die_with_parent(signal.SIGTERM)
    home = sys.argv[2]
    # What /proc/PID/cmdline shows of this process and every fork of it, sessions and hosts included: no path
    # of the grader's machine (interpreter, this script, the zygote's folder), which a check could read.
    syscalls.set_title("dlgrade-sandbox")
    try:
        # A listening socket the parent bound (so that workers may connect at once; they are answered once ready).
        shared = socket.socket(fileno=int(sys.argv[3])) if len(sys.argv) > 3 else None
        preload = [m for m in os.environ.get("DLGRADE_PRELOAD", "").split(",") if m]
        for module_name in preload:
            packages.record_import(module_name)  # noting what came with it, which its sessions then need
        if "numpy" in sys.modules:  # NumPy loads its random module on first use: once here, not in every check
            importlib.import_module("numpy.random")
        if "torch" in sys.modules:  # load the lazy meta-device kernels once, not in every session (about 2 s)
            torch = sys.modules["torch"]
            torch.nn.functional.conv2d(torch.empty(1, 3, 8, 8, device="meta"), torch.empty(2, 3, 3, 3, device="meta"))
        zygote_main(int(sys.argv[1]), shared)
    finally:
        if os.path.basename(home).startswith("dlgrade-"):  # after the sessions in it have ended (zygote_main)
            filesystem.remove_tree(home)
        # Skip the interpreter's own teardown (about 40 ms with NumPy loaded), which the parent would
        # otherwise wait for at the end of every run.
        sys.stderr.flush()
        os._exit(0)

"""Start and stop sandboxed sessions; the only code that starts processes.

A ``Zygote`` is one ``python -I`` process with a scrubbed environment and the
heavy imports done. ``Zygote.spawn`` forks a ``Session`` from it in a few
milliseconds. The engine asks for one session per submission, a host that forks
a fresh process per check (``grader.runner.hosts``); tests and tools may ask for
one session per check directly. Nothing a session starts can outlive it.

Every call on a session has a wall-clock deadline enforced here, in the
parent, by SIGKILL of the session's process group and PID-namespace init.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from grader.lazy import OnFirstUse
from grader.result import OUTPUT_CUT_LINE
from grader.runner.isolation import cgroups
from grader.runner.isolation.filesystem import DEFAULT_SESSION_MB, remove_tree
from grader.tempfolders import TempFolder

# The wire format needs NumPy; launching the worker does not, so the parent can start it before that import.
wire = OnFirstUse("grader.runner.wire")

WORKER_SCRIPT = Path(__file__).with_name("worker.py")
# Folders a session must not read: the reference solutions (hidden when the OS allows).
HIDDEN_FOLDERS = (Path(__file__).resolve().parents[2] / "reference",)
STDOUT_KEEP_BYTES = 8192
PROCESS_SHARE = 0.75  # of the session's memory cap, at most, for one process's own allocations


@dataclass(frozen=True)
class Limits:
    """Resource limits of one session (one check).

    ``session_mb`` caps the whole session in its memory cgroup: every process plus the files in its tmpfs
    ``/scratch``, ``/tmp`` and ``/dev/shm`` (whose sizes are fractions of it, ``filesystem.folder_sizes``).
    ``memory_mb`` is the address space one process may add (RLIMIT_AS; None: no such limit, as CUDA needs),
    kept to at most ``PROCESS_SHARE`` of the session's cap so that one process alone meets a clean
    MemoryError before the cgroup's cap, which then only stops several processes that together take too much.
    ``cpus``: the CPU quota of the session in cores (every session has the same weight)."""

    wall_s: float = 20.0
    cpu_s: int = 30
    memory_mb: int | None = 1536
    file_mb: int = 16
    processes: int = 64
    open_files: int = 256
    session_mb: int = DEFAULT_SESSION_MB
    cpus: float = 1.0

    @property
    def process_mb(self) -> int | None:
        """The address space one process may add: ``memory_mb``, within ``PROCESS_SHARE`` of the cap."""
        if self.memory_mb is None:
            return None
        return min(int(self.memory_mb), int(self.session_mb * PROCESS_SHARE))

    def for_worker(self) -> dict:
        return {"cpu_s": self.cpu_s, "memory_mb": self.process_mb, "file_mb": self.file_mb,
                "processes": self.processes, "open_files": self.open_files, "session_mb": int(self.session_mb),
                "cpus": float(self.cpus)}


class SessionError(Exception):
    """Base of what can go wrong in a session because of the student's code."""


class CallTimeout(SessionError):
    """A call ran past the session's wall-clock budget; the session was killed."""


class WorkerDied(SessionError):
    """The session process ended (or broke the protocol) during a call."""


class RemoteError(SessionError):
    """Student code raised an exception; ``info`` is the worker's description."""

    def __init__(self, info: dict):
        super().__init__(f"{info.get('type')}: {info.get('message')}")
        self.info = info


def scrubbed_environment(preload: tuple[str, ...]) -> dict[str, str]:
    """The zygote's whole environment: nothing from the user's is inherited."""
    threads = "1"
    return {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "OMP_NUM_THREADS": threads,
        "OPENBLAS_NUM_THREADS": threads,
        "MKL_NUM_THREADS": threads,
        "NUMEXPR_NUM_THREADS": threads,
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONHASHSEED": "0",
        "DLGRADE_PRELOAD": ",".join(preload),
    }


def _wait_exit(process: subprocess.Popen, timeout: float) -> None:
    """``process.wait(timeout)`` without its sleep-polling (which overshoots by up to half the wait):
    block on a pidfd where Linux has them."""
    try:
        fd = os.pidfd_open(process.pid)
    except (AttributeError, OSError):  # not Linux 5.3+, or the process is already reaped
        process.wait(timeout=timeout)
        return
    try:
        if not select.select([fd], [], [], timeout)[0]:
            raise subprocess.TimeoutExpired(process.args, timeout)
        process.wait()
    finally:
        os.close(fd)


# A Unix socket's path must fit in 108 bytes; a long TMPDIR (a cluster job's, say) can make ours longer.
SOCKET_PATH_MAX = 107


@contextlib.contextmanager
def _short_path(address: str):
    """``address``, or where it is too long for a Unix socket, the same file reached through a descriptor of
    its folder (``/proc/self/fd/N/zygote.sock``), which the kernel resolves like any path."""
    if len(os.fsencode(address)) <= SOCKET_PATH_MAX:
        yield address
        return
    folder = os.open(os.path.dirname(address), os.O_RDONLY | os.O_DIRECTORY)
    try:
        yield f"/proc/self/fd/{folder}/{os.path.basename(address)}"
    finally:
        os.close(folder)


def _listen(address: str) -> socket.socket:
    """A Unix socket only this user may connect to (mode 0600; the zygote also checks each peer's uid)."""
    old = os.umask(0o177)
    try:
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        with _short_path(address) as path:
            listener.bind(path)
    finally:
        os.umask(old)
    listener.listen(64)
    return listener


class Zygote:
    """A preloaded worker interpreter that forks sessions on request.

    ``namespaces=False`` (or ``DLGRADE_SANDBOX=minimal`` in the environment) runs the
    sessions without namespaces, allowlist root or separate uid where that needs them,
    as on a machine that offers none: the degraded sandbox, reported as such.
    """

    def __init__(self, preload: tuple[str, ...] = ("numpy",), namespaces: bool = True, wait: bool = True,
                 listen: bool = False):
        """Start the worker interpreter. ``wait=False`` returns at once, so the caller's own imports
        overlap the worker's; the first ``spawn`` then waits for it to be ready. ``listen=True``: other
        processes of this user may share it through ``Zygote.attach(zygote.address)`` (the workers of
        ``dlgrade grade``, so that its imports, torch's among them, are paid once per machine)."""
        self._folder = TempFolder("dlgrade-zygote-")  # locked while we live: a later run removes it if we are killed
        self._setup(preload, namespaces, self._folder.path)
        self.address = str(self._root / "zygote.sock") if listen else ""
        listener = _listen(self.address) if listen else None
        ours, theirs = socket.socketpair()
        self._process: subprocess.Popen | None = subprocess.Popen(
            [sys.executable, "-I", str(WORKER_SCRIPT), str(theirs.fileno()), str(self._root),
             *([str(listener.fileno())] if listener else [])],
            pass_fds=[theirs.fileno(), *([listener.fileno()] if listener else [])],
            env=scrubbed_environment(preload),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=open(self._root / "zygote.log", "wb"),
            cwd=self._root,
            start_new_session=True,
        )
        theirs.close()
        if listener is not None:
            listener.close()  # the zygote holds it now
        self._control = ours
        self._control.settimeout(120)
        if wait:
            self.ready()

    def _setup(self, preload: tuple[str, ...], namespaces: bool, root: Path) -> None:
        """The state an owned and an attached zygote share; ``root`` holds the sessions' folders."""
        self.preload = preload
        self.namespaces = namespaces and os.environ.get("DLGRADE_SANDBOX", "") != "minimal"
        self._lock = threading.Lock()
        self._closed = False
        self._hello: dict | None = None
        self._counter = 0
        self.startup_s = 0.0
        self._root = root
        os.chmod(root, 0o711)
        self._started = time.perf_counter()

    @classmethod
    def attach(cls, address: str, preload: tuple[str, ...] = ("numpy",), namespaces: bool = True) -> Zygote:
        """This process's own connection to a zygote another process started with ``listen=True``.

        Spawning works as on the zygote itself; ``close`` ends only the sessions of this connection
        (as does this process's death), never the zygote, which its owner closes."""
        self = cls.__new__(cls)
        self._folder = None  # inside the owner's folder, which its owner removes
        self._setup(preload, namespaces, Path(tempfile.mkdtemp(prefix=f"c{os.getpid()}-", dir=Path(address).parent)))
        self._process = None
        self.address = ""
        self._control = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._control.settimeout(120)
        try:
            with _short_path(address) as path:
                self._control.connect(path)
        except OSError as exc:
            self._control.close()
            remove_tree(self._root)
            # An owner that was emptying its folder as we came (its run is ending) could not remove it because
            # of ours: leave it as the owner meant to. rmdir removes only an empty folder.
            with contextlib.suppress(OSError):
                os.rmdir(self._root.parent)
            raise RuntimeError(f"cannot reach the shared worker interpreter at {address}: {exc}") from None
        return self

    def ready(self) -> None:
        """Wait until the worker has done its imports (once); raise ``RuntimeError`` if it failed to start."""
        if self._hello is not None:
            return
        with self._lock:
            if self._hello is not None:
                return
            try:
                hello, _ = wire.recv_message(self._control)
            except (EOFError, OSError, wire.WireError) as exc:
                try:
                    log = (self._root / "zygote.log").read_text(errors="replace")[-2000:]
                except OSError:  # attached: the log is the owner's
                    log = ""
                self.close()
                raise RuntimeError(f"the worker interpreter failed to start: {exc}\n{log}") from None
            self.startup_s = time.perf_counter() - self._started
            self._hello = hello

    @property
    def seccomp_available(self) -> bool:
        self.ready()
        return bool(self._hello.get("seccomp"))

    def spawn(self, files: dict[str, Path], limits: Limits, forbidden_imports=(), drivers: Path | None = None,
              host: bool = False, packages: tuple[str, ...] | None = None) -> Session:
        """Fork a new session whose scratch folder holds copies of ``files``; ``drivers``, a grader
        file the session loads by path, is shown read-only at that path inside the session's root.
        ``host=True``: a session that forks a fresh one per check instead (``grader.runner.hosts``).
        ``packages``: the third-party packages the session may import (``Assignment.sandbox_packages``;
        default: this zygote's preload); its root shows them and what they need, nothing else."""
        self.ready()
        with self._lock:
            self._counter += 1
            home = self._root / f"s{self._counter}"
        scratch = home / "scratch"  # used only where the session cannot have a private tmpfs scratch
        scratch.mkdir(parents=True)
        (home / "root").mkdir(mode=0o700)
        if os.getuid() == 0:
            # The session runs as nobody, or as a capability-less root; either must be able to write here.
            os.chmod(home, 0o711)
            os.chmod(scratch, 0o700)
            os.chown(scratch, 65534, 65534)
        request = {
            "files": {name: str(Path(source).absolute()) for name, source in files.items()},
            "scratch": str(scratch),
            "new_root": str(home / "root"),
            "stdout": str(home / "stdout.txt"),
            "limits": limits.for_worker(),
            "namespaces": self.namespaces,
            "forbidden_imports": list(forbidden_imports),
            "hide": [str(p) for p in HIDDEN_FOLDERS],
            "binds": [str(Path(drivers).resolve())] if drivers else [],
            "host": host,
            "packages": list(self.preload if packages is None else packages),
        }
        ours, theirs = socket.socketpair()
        try:
            with self._lock:
                socket.send_fds(self._control, [json.dumps(request).encode()], [theirs.fileno()])
        finally:
            theirs.close()
        ours.settimeout(30)
        try:
            header, _ = wire.recv_message(ours)
        except (EOFError, OSError, wire.WireError) as exc:
            ours.close()
            remove_tree(home)
            raise RuntimeError(f"the sandbox could not start a session: {exc}") from None
        cgroup = header.get("cgroup")
        return Session(ours, home, header["pids"], header["isolation"], limits,
                       cgroup=cgroup if isinstance(cgroup, str) else None)

    def close(self) -> None:
        """End every session, then the zygote; remove the temporary folder and every cgroup.

        Idempotent, takes no lock and never raises, so it is safe to call from a signal handler
        (e.g. the CLI's SIGINT/SIGTERM handler) and again from ``finally``/``__exit__``.
        """
        if self._closed:
            return
        self._closed = True
        try:
            self._control.close()  # the zygote sees EOF: it stops each session and removes its cgroups
        except OSError:
            pass
        if self._process is None:  # attached: the zygote and its cgroups belong to another process
            remove_tree(self._root)
            return
        try:
            _wait_exit(self._process, timeout=10)
        except (subprocess.TimeoutExpired, OSError, RuntimeError):
            try:
                os.killpg(self._process.pid, signal.SIGKILL)
            except OSError:
                pass
        if os.getuid() == 0:
            cgroups.remove_leftovers(f"{cgroups.PREFIX}{self._process.pid}-")
        self._folder.remove()

    def __enter__(self) -> Zygote:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


@dataclass
class Session:
    """One sandboxed student process, driven by request/response calls."""

    channel: socket.socket
    home: Path
    pids: list[int]
    isolation: dict
    limits: Limits
    cgroup: str | None = None  # the session's memory cgroup (read only; the session parent owns and removes it)
    started: float = field(default_factory=time.monotonic)
    alive: bool = True
    stdout_path: Path | None = None  # where the student's output goes (default: home/stdout.txt)
    on_close: Callable[[], None] | None = field(default=None, repr=False)
    oom_before: int = 0  # the cgroup's out-of-memory kills when this session (or check) began

    def __post_init__(self) -> None:
        self.oom_before = cgroups.oom_kills(self.cgroup)

    def ended_for_memory(self) -> bool:
        """Whether the kernel killed a process of this session for going over its memory cap since it began."""
        return cgroups.oom_kills(self.cgroup) > self.oom_before

    def death_message(self) -> str:
        """Why the process ended during a call, as far as the parent can tell."""
        if self.ended_for_memory():
            return (f"the process was stopped for using more than the session's {self.limits.session_mb} MiB of "
                    "memory (all its processes and the files in /scratch, /tmp and /dev/shm together)")
        return ("the process ended during the call (did your code call os._exit, exec, crash the interpreter, or "
                "use more memory than the session allows?)")

    @property
    def deadline(self) -> float:
        return self.started + self.limits.wall_s

    def request(self, op: str, *args):
        """Run one operation in the worker and return its decoded (untrusted) value."""
        if not self.alive:
            raise WorkerDied("the session already ended")
        arrays: list[bytes] = []
        payload = wire.encode(list(args), arrays)
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            self.kill()
            raise CallTimeout(f"over the {self.limits.wall_s:g} s time limit")
        try:
            self.channel.settimeout(remaining)
            wire.send_message(self.channel, {"op": op, "args": payload}, arrays)
            header, blobs = wire.recv_message(self.channel)
        except TimeoutError:
            self.kill()
            raise CallTimeout(f"over the {self.limits.wall_s:g} s time limit") from None
        except (EOFError, OSError):
            self.kill()
            raise WorkerDied(self.death_message()) from None
        except wire.WireError as exc:
            self.kill()
            raise WorkerDied(f"sent back malformed data ({exc})") from None
        try:
            if "error" in header:
                info = header["error"]
                if not isinstance(info, dict):
                    raise wire.WireError("malformed error report")
                raise RemoteError(wire.sanitize_error(info))
            return wire.decode(header.get("value"), blobs)
        except (wire.WireError, RecursionError) as exc:
            raise WorkerDied(f"sent back malformed data ({exc})") from None

    def output(self) -> str:
        """The first few KiB of what the student's code printed."""
        try:
            with open(self.stdout_path or self.home / "stdout.txt", "rb") as f:
                data = f.read(STDOUT_KEEP_BYTES + 1)
        except OSError:
            return ""
        text = data[:STDOUT_KEEP_BYTES].decode("utf-8", errors="replace")
        text = text.replace(f"{self.home}/scratch/", "").replace("/scratch/", "")
        return text + ("\n" + OUTPUT_CUT_LINE if len(data) > STDOUT_KEEP_BYTES else "")

    def kill(self) -> None:
        """Kill the student process: PID 1 of its namespace, so the kernel kills all it started
        (and its process group, where there is no PID namespace). The trusted session parent
        then removes the session's cgroup by itself."""
        self.alive = False
        student = self.pids[-1]
        for kill in (os.kill, os.killpg):
            try:
                kill(student, signal.SIGKILL)
            except OSError:
                pass
        self.channel.close()

    def close(self) -> None:
        self.kill()
        remove_tree(self.home)

"""One sandbox per submission, one fresh process per check: cheap sessions without shared state.

Building a session (cgroup, namespaces, allowlist root, uid, seccomp) costs tens of
milliseconds; a submission has dozens of checks. A ``Host`` is a session built once
per submission that runs no student code: for each check it forks a child that
starts from its untouched state (the worker's ``Host``), so every check still sees a
freshly started submission, and only the fork is paid. When the check ends, the host
kills every process the check left in its PID namespace, so nothing a check started
outlives it, and has its writable folders (``/scratch``, ``/tmp``, ``/dev/shm``) replaced by fresh
mounts, so nothing a check wrote there reaches the next. Checks of one submission share the host's
root and cgroup, never another submission's.

A ``HostPool`` lends each running check a host of its own (so two checks running
side by side never share a memory cgroup) and keeps the hosts between checks. A call
that times out ends the check's processes the same way; a host that stops answering
is killed whole (the kernel ends its PID namespace) and the pool starts another.
Where sessions get no PID namespace (the degraded sandbox), a host could not end what
a check started, so the pool is not used and each check gets a session of its own
from the zygote, as before.
"""

from __future__ import annotations

import json
import os
import socket
import threading
from dataclasses import dataclass
from pathlib import Path

from grader.runner.sandbox import Limits, Session, WorkerDied, Zygote, wire

HOST_REPLY_S = 10.0  # a host answers fork and reap at once; one that does not is killed


class Host:
    """A sandboxed process of one submission that forks a fresh session per check."""

    def __init__(self, session: Session):
        self._session = session  # the host's own channel, pids and home
        self.isolation = session.isolation
        self._counter = 0
        self._unanswered = 0  # requests sent whose answer is not read yet

    @property
    def alive(self) -> bool:
        return self._session.alive

    def fork(self, limits: Limits) -> HostedSession:
        """A new session for one check: a fresh child of the host, with its own channel and output file."""
        self._counter += 1
        stdout = self._session.home / f"check{self._counter}.txt"
        ours, theirs = socket.socketpair()
        out = os.open(stdout, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            self._send({"op": "fork", "cpu_s": int(limits.cpu_s)}, [theirs.fileno(), out])
        except BaseException:
            ours.close()
            raise
        finally:
            theirs.close()
            os.close(out)
        return HostedSession(ours, self._session.home, self._session.pids, self.isolation, limits,
                             cgroup=self._session.cgroup, host=self, stdout_path=stdout)

    def reap(self) -> None:
        """End every process the last check left behind. The host's answer is read before its next
        request, so the check that ended does not wait for it; a host that does not answer is killed."""
        self._send({"op": "reap"}, wait=False)

    def _send(self, header: dict, fds: list[int] = (), wait: bool = True):
        if not self.alive:
            raise WorkerDied("the submission's sandbox already ended")
        body = json.dumps(header).encode()
        try:
            self._session.channel.settimeout(HOST_REPLY_S)
            while self._unanswered:  # e.g. the reap after the last check
                self._answer()
            socket.send_fds(self._session.channel, [len(body).to_bytes(8, "big") + body], list(fds))
            self._unanswered += 1
            if wait:
                return self._answer()
        except (OSError, EOFError, wire.WireError):
            self.kill()
            raise WorkerDied("the submission's sandbox stopped answering") from None
        return None

    def _answer(self):
        reply, _ = wire.recv_message(self._session.channel)
        self._unanswered -= 1
        if "error" in reply or "value" not in reply:
            raise WorkerDied(f"the submission's sandbox refused: {str(reply.get('error'))[:200]}")
        return reply["value"]

    def kill(self) -> None:
        """Kill the host and everything in its PID namespace."""
        self._session.kill()

    def close(self) -> None:
        self._session.close()


@dataclass
class HostedSession(Session):
    """A check's session, forked by a ``Host``. Ending it (a time-out, a crash, the check is over) asks
    the host to kill every process the check left; a host that does not answer is killed whole."""

    host: Host | None = None

    def kill(self) -> None:
        if not self.alive:
            return
        self.alive = False
        self.channel.close()
        if self.host is not None and self.host.alive:
            try:
                self.host.reap()
            except WorkerDied:
                pass  # the host was killed: the pool starts another

    def close(self) -> None:
        self.kill()
        try:
            os.unlink(self.stdout_path)
        except OSError:
            pass
        if self.on_close is not None:
            self.on_close()


class HostPool:
    """The hosts of one submission: each running check borrows one, returns it when done."""

    def __init__(self, zygote: Zygote, files: dict[str, Path], limits: Limits, forbidden_imports=(),
                 drivers: Path | None = None, packages: tuple[str, ...] | None = None):
        self._zygote, self._files, self._limits = zygote, files, limits
        self._forbidden, self._drivers, self._packages = tuple(forbidden_imports), drivers, packages
        self._idle: list[Host] = []
        self._all: list[Host] = []
        self._lock = threading.Lock()
        self._closed = False
        self.usable = True  # False once a host turns out to have no PID namespace

    def session(self, limits: Limits) -> Session:
        """A fresh session for one check: forked by a host of this submission, or spawned where hosts
        cannot be used. Its ``close`` returns the host to the pool."""
        host = self._lease()
        if host is None:
            return self._zygote.spawn(self._files, limits, self._forbidden, drivers=self._drivers,
                                      packages=self._packages)
        try:
            session = host.fork(limits)
        except WorkerDied:
            host.close()
            return self._zygote.spawn(self._files, limits, self._forbidden, drivers=self._drivers,
                                      packages=self._packages)
        session.on_close = lambda: self._give_back(host)
        return session

    def _lease(self) -> Host | None:
        with self._lock:
            while self._idle:
                host = self._idle.pop()
                if host.alive:
                    return host
                host.close()
        return self._build()

    def _build(self) -> Host | None:
        """A new host for this submission; None where hosts cannot be used (or the pool is closed)."""
        if not self.usable or self._closed:
            return None
        session = self._zygote.spawn(self._files, self._limits, self._forbidden, drivers=self._drivers, host=True,
                                     packages=self._packages)
        host = Host(session)
        if not host.isolation.get("pid_namespace"):
            host.close()
            self.usable = False
            return None
        with self._lock:
            if not self._closed:
                self._all.append(host)
                return host
        host.close()
        return None

    def prepare(self, count: int) -> None:
        """Build ``count`` hosts ahead of need (e.g. in a thread while the probe runs), for checks that
        will run side by side; never raises (a host that cannot be built now is built when needed)."""
        for _ in range(count):
            try:
                host = self._build()
            except (RuntimeError, OSError):
                return
            if host is None:
                return
            self._give_back(host)

    def _give_back(self, host: Host) -> None:
        with self._lock:
            if host.alive and not self._closed:
                self._idle.append(host)
                return
        host.close()

    def kill(self) -> None:
        """Kill every host now (an interruption); safe from a signal handler."""
        self._closed = True
        for host in list(self._all):
            host.kill()

    def close(self) -> None:
        self._closed = True
        with self._lock:
            hosts, self._all, self._idle = self._all, [], []
        for host in hosts:
            host.close()

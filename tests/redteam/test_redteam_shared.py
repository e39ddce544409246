"""Red team: the one zygote that ``dlgrade grade``'s workers share (``Zygote(listen=True)``, ``Zygote.attach``).

A peer the zygote accepts may ask for a session with any request: any host file copied into a scratch folder
it names, any path bound into its root, nothing hidden. So only the grader's own workers may connect. What
must hold: a session cannot reach the socket or is refused by it (its uid, or, where it kept the grader's uid,
its own namespaces); a malformed request does not end the zygote the other workers share; a worker that dies
leaves no session running.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import time
from pathlib import Path

import pytest

from grader.runner import wire
from grader.runner.isolation import syscalls
from grader.runner.remote import Student
from grader.runner.sandbox import Limits, Zygote

PROBE = """
import os, socket
def reach(address):
    found = os.path.exists(address)
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(5)
            sock.connect(address)
            hello = sock.recv(1 << 12)
    except OSError as exc:
        return [found, type(exc).__name__]
    return [found, "hello" if hello else "closed"]
"""


@pytest.fixture(scope="module")
def shared():
    with Zygote(listen=True) as zygote:
        yield zygote


def _running(pid: int) -> bool:
    """Whether ``pid`` is still running (a zombie is not: the zygote reaps its children at its next request)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rpartition(")")[2].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def _gone(pid: int, within_s: float = 10.0) -> bool:
    deadline = time.monotonic() + within_s
    while _running(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    return not _running(pid)


def _spawn_request(tmp: Path, files: dict[str, str], scratch: Path) -> dict:
    """What a hostile peer would ask for: the grader's files copied into a folder it reads, no namespaces."""
    return {"files": files, "scratch": str(scratch), "new_root": str(tmp / "root"), "stdout": str(tmp / "out.txt"),
            "limits": Limits().for_worker(), "namespaces": False, "forbidden_imports": [], "hide": [], "binds": [],
            "host": False}


def test_a_session_of_the_shared_zygote_cannot_reach_its_socket(shared, tmp_path):
    """From inside a session (the full sandbox: uid 65534 in an allowlist root) the socket is not even there; where
    the root is not built, the uid check or the namespace check refuses it (the tests below)."""
    path = tmp_path / "m.py"
    path.write_text(PROBE)
    student = Student(Zygote.attach(shared.address), {"m.py": path}, Limits(wall_s=20))
    try:
        found, outcome = student.module("m").call("reach", shared.address)
        level = student.session.request("isolation").get("level")
    finally:
        student.close()
        student._zygote.close()
    assert outcome != "hello", (found, outcome)
    if level == "full":
        assert found is False and outcome == "FileNotFoundError"


def test_a_peer_with_the_graders_uid_in_namespaces_of_its_own_is_refused(shared, tmp_path):
    """A session that kept the grader's uid (the partial level's user namespace maps it to itself; root stays root,
    without capabilities, where the interpreter is closed to others) and can see the socket (no allowlist root)
    passes the uid check. Accepted, it could have the zygote copy any file, the reference solutions among them,
    into a folder of its choosing. Its own mount and network namespaces give it away: refused."""
    if os.getuid() != 0:
        pytest.skip("entering namespaces while keeping this uid needs root (or a user namespace) here")
    secret = tmp_path / "secret.txt"
    secret.write_text("the answer key")
    os.chmod(secret, 0o600)
    loot = tmp_path / "loot"
    loot.mkdir()
    (tmp_path / "root").mkdir()
    request = json.dumps(_spawn_request(tmp_path, {"loot.txt": str(secret)}, loot)).encode()
    pid = os.fork()
    if pid == 0:
        code = 3
        try:
            if not syscalls.unshare(syscalls.CLONE_NEWNS | syscalls.CLONE_NEWNET):
                code = 4
            else:
                with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
                    sock.settimeout(20)
                    sock.connect(shared.address)
                    try:
                        wire.recv_message(sock)  # the zygote's hello: accepted
                    except EOFError:
                        os._exit(0)  # refused
                    ours, theirs = socket.socketpair()
                    socket.send_fds(sock, [request], [theirs.fileno()])
                    ours.settimeout(20)
                    wire.recv_message(ours)  # the session is ready: its files are copied
                    code = 1
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert not (loot / "loot.txt").exists(), "the zygote copied the grader's file for a namespaced peer"
    assert os.waitstatus_to_exitcode(status) == 0


def test_the_workers_own_connection_still_works(shared, tmp_path):
    """The namespace check refuses no worker: a process of the grader's (same namespaces, same uid) is served."""
    client = Zygote.attach(shared.address)
    try:
        path = tmp_path / "m.py"
        path.write_text("x = 1\n")
        session = client.spawn({"m.py": path}, Limits(wall_s=20))
        assert session.request("load", "module", "m", "") is True
        session.close()
    finally:
        client.close()


@pytest.mark.parametrize("payload", [b"[" * 60000, b"{" * 60000, b"\xff\xfe not json", b"[1, 2]", b"\"text\""],
                         ids=["deep-list", "deep-dict", "not-json", "a-list", "a-string"])
def test_a_malformed_request_leaves_the_zygote_to_the_other_workers(shared, tmp_path, payload):
    """Nested JSON deep enough to raise RecursionError used to end the zygote, so every worker's next spawn failed."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(20)
        sock.connect(shared.address)
        wire.recv_message(sock)
        ours, theirs = socket.socketpair()
        socket.send_fds(sock, [payload], [theirs.fileno()])
        theirs.close()
        ours.settimeout(20)
        try:  # the zygote drops the request (no session: EOF), or its child fails on it (EOF too)
            wire.recv_message(ours)
        except (EOFError, OSError, wire.WireError):
            pass
        ours.close()
    test_the_workers_own_connection_still_works(shared, tmp_path)


def test_a_worker_killed_mid_check_leaves_no_session(shared, tmp_path):
    """SIGKILL of an attached process (a local worker): its connection closes, and the zygote ends its sessions."""
    path = tmp_path / "m.py"
    path.write_text("import time\ndef wait():\n    time.sleep(600)\n")
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(read)
            client = Zygote.attach(shared.address)
            session = client.spawn({"m.py": path}, Limits(wall_s=600))
            session.request("load", "module", "m", "")
            os.write(write, json.dumps(session.pids).encode())
            session.request("call", "m", "wait", [], {})
        finally:
            os._exit(0)
    os.close(write)
    try:
        pids = json.loads(os.read(read, 1000) or b"[]")  # one write: the pids (or EOF if the child failed)
    finally:
        os.close(read)
    assert pids, "the worker did not start its session"
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    assert _gone(pids[-1]), "the killed worker's student process is still running"
    assert _gone(pids[0]), "the killed worker's session parent is still running"


def test_a_closed_connection_never_signals_a_reused_pid(shared, tmp_path):
    """A connection's sessions are signalled by pid when it closes. The pid of one of its sessions that already
    ended may be reused by another worker's session (pid_max is often 32768: a long batch wraps): that session
    must survive. The reuse is forced through /proc/sys/kernel/ns_last_pid."""
    if os.getuid() != 0 or not os.access("/proc/sys/kernel/ns_last_pid", os.W_OK):
        pytest.skip("forcing a pid needs root")
    path = tmp_path / "m.py"
    path.write_text("x = 1\n")
    first, second = Zygote.attach(shared.address), Zygote.attach(shared.address)
    try:
        for _ in range(20):  # another process of the machine may take the pid first: try again
            ended = first.spawn({"m.py": path}, Limits(wall_s=20))
            reused = ended.pids[0]  # its session parent, a child of the zygote
            ended.close()
            time.sleep(0.3)
            second.spawn({"m.py": path}, Limits(wall_s=20)).close()  # the zygote reaps it at its next request
            with open("/proc/sys/kernel/ns_last_pid", "w") as f:
                f.write(str(reused - 1))
            victim = second.spawn({"m.py": path}, Limits(wall_s=20))
            if victim.pids[0] == reused:
                break
            victim.close()
        else:
            pytest.skip("could not get the pid reused (a busy machine)")
        assert victim.request("load", "module", "m", "") is True
        first.close()
        time.sleep(0.5)  # the zygote handles the closed connection
        assert victim.request("get", "m", "x") == 1, "another worker's session was ended"
        victim.close()
    finally:
        first.close()
        second.close()

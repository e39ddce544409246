"""One zygote for all of ``dlgrade grade``'s workers (``Zygote(listen=True)`` and ``Zygote.attach``).

The workers connect through a Unix socket: only the same user may, sessions (uid 65534) and other users
are refused; each connection's sessions are its own and end with it; the zygote outlives its clients
and only its owner ends it.
"""

from __future__ import annotations

import os
import socket
import stat
import time
from pathlib import Path

import pytest

from grader.runner.sandbox import Limits, Zygote

SOURCE = "import os\ndef uid():\n    return os.getuid()\ndef pid():\n    return os.getpid()\n"


@pytest.fixture(scope="module")
def shared():
    with Zygote(listen=True) as zygote:
        yield zygote


def _session(zygote: Zygote, tmp_path: Path):
    path = tmp_path / "m.py"
    path.write_text(SOURCE)
    session = zygote.spawn({"m.py": path}, Limits(wall_s=20))
    session.request("load", "module", "m", "")
    return session


def test_an_attached_process_gets_sandboxed_sessions(shared, tmp_path):
    client = Zygote.attach(shared.address)
    try:
        session = _session(client, tmp_path)
        uid = session.request("call", "m", "uid", [], {})
        assert uid == (65534 if os.getuid() == 0 else os.getuid())
        session.close()
    finally:
        client.close()
    assert not client._root.exists()  # the connection's own folder goes with it
    session = _session(shared, tmp_path)  # the zygote outlives its clients and still serves its owner
    assert session.request("call", "m", "pid", [], {}) > 0
    session.close()


def test_closing_a_connection_ends_its_sessions_only(shared, tmp_path):
    first, second = Zygote.attach(shared.address), Zygote.attach(shared.address)
    try:
        kept = _session(second, tmp_path)
        ended = _session(first, tmp_path)
        student = ended.pids[-1]  # the student's process (its session parent is reaped at the zygote's next request)
        first.close()
        deadline = time.monotonic() + 10
        while os.path.exists(f"/proc/{student}") and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not os.path.exists(f"/proc/{student}")
        assert kept.request("call", "m", "uid", [], {}) is not None  # the other worker's session runs on
        kept.close()
    finally:
        second.close()


def test_only_this_user_may_connect(shared):
    mode = os.stat(shared.address).st_mode
    assert stat.S_ISSOCK(mode) and stat.S_IMODE(mode) == 0o600
    if os.getuid() != 0:
        pytest.skip("connecting as another user needs root to become one")
    pid = os.fork()
    if pid == 0:  # as the sessions' user: the socket's mode refuses the connection
        code = 1
        try:
            os.setgid(65534)
            os.setuid(65534)
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
                try:
                    sock.connect(shared.address)
                except PermissionError:
                    code = 0
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0


def test_a_peer_of_another_user_is_refused_even_if_it_reaches_the_socket(shared):
    if os.getuid() != 0:
        pytest.skip("needs root to become another user")
    os.chmod(shared.address, 0o666)  # as if the mode were lost: the uid check on accept still refuses
    try:
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                os.setgid(65534)
                os.setuid(65534)
                with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
                    sock.settimeout(30)
                    sock.connect(shared.address)
                    code = 0 if sock.recv(1) == b"" else 2  # closed without the zygote's hello
            finally:
                os._exit(code)
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0
    finally:
        os.chmod(shared.address, 0o600)


def test_a_long_temporary_folder_still_shares_the_zygote(tmp_path, monkeypatch):
    """A Unix socket's path must fit in 108 bytes; a cluster job's TMPDIR can be longer than that leaves."""
    import tempfile

    long = tmp_path / ("t" * 60) / ("m" * 60)
    long.mkdir(parents=True)
    monkeypatch.setattr(tempfile, "tempdir", str(long))
    path = tmp_path / "m.py"
    path.write_text("x = 41\n")
    with Zygote(listen=True) as shared:
        assert len(shared.address) > 108
        worker = Zygote.attach(shared.address)
        try:
            session = worker.spawn({"m.py": path}, Limits(wall_s=20))
            assert session.request("load", "module", "m", "") is True
            assert session.request("get", "m", "x") == 41
            session.close()
        finally:
            worker.close()


def test_attaching_to_a_zygote_that_is_ending_leaves_its_folder_gone(tmp_path):
    """A worker that comes as the owner empties its folder (the run was killed) must not keep that folder."""
    ending = tmp_path / "dlgrade-zygote-ending"
    ending.mkdir()  # emptied by its zygote: the socket is gone
    with pytest.raises(RuntimeError, match="cannot reach the shared worker interpreter"):
        Zygote.attach(str(ending / "zygote.sock"))
    assert not ending.exists()


def test_a_failed_attach_never_removes_a_live_zygotes_folder(tmp_path):
    live = tmp_path / "dlgrade-zygote-live"
    live.mkdir()
    (live / "zygote.log").write_text("")  # a live zygote's folder is never empty
    with pytest.raises(RuntimeError):
        Zygote.attach(str(live / "zygote.sock"))
    assert [p.name for p in live.iterdir()] == ["zygote.log"]

"""A TA's first `dlgrade grade`: Ctrl-C in the middle of a submission leaves nothing behind in the temp folder."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from tests.conftest import ROOT, with_prelude


def _as_from_a_terminal() -> None:
    """Ctrl-C reaches the run as from a TA's terminal, whatever this test process inherited."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


def test_ctrl_c_while_a_submission_is_graded_leaves_no_staging_folder(tmp_path):
    root, tmp = tmp_path / "class", tmp_path / "tmp"
    root.mkdir()
    tmp.mkdir()
    (root / "sleepy").mkdir()  # still being graded when Ctrl-C comes
    (root / "sleepy" / "mlp.py").write_text(with_prelude("import time\ntime.sleep(600)\n"))
    command = [sys.executable, "-m", "grader.cli", "grade", "a1", str(root), "--gradebook", str(tmp_path / "gb.sqlite"),
               "--jobs", "1", "--task", "1.1", "--seed", "3"]
    process = subprocess.Popen(command, cwd=ROOT, env={**os.environ, "TMPDIR": str(tmp)}, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, text=True, start_new_session=True,
                               preexec_fn=_as_from_a_terminal)
    try:
        deadline = time.monotonic() + 120
        while not list(tmp.rglob("mlp.py")):  # the worker staged the submission: it is being graded
            assert process.poll() is None and time.monotonic() < deadline, "the run ended before Ctrl-C"
            time.sleep(0.05)
        time.sleep(1.0)
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=60)
        assert process.returncode == 130, stderr
    finally:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + 10  # the zygote removes its folders when its last connection closes
    while list(tmp.iterdir()) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert sorted(p.name for p in tmp.iterdir()) == []

"""The local pool: a worker killed mid-grading loses nothing (its submissions are graded again by a fresh pool)."""

from __future__ import annotations

import os
import signal
import threading
import time

from grader.batch.local import LocalExecutor
from tests.batch.conftest import REFERENCE_A1, with_prelude


def test_a_killed_worker_loses_no_submission(make_submission):
    slow = make_submission({"mlp.py": with_prelude("import time\ntime.sleep(2)\n")})
    jobs = [{"assignment": "a1", "student": name, "path": str(path), "tasks": ["1.3"], "seed": 1}
            for name, path in (("slow", slow), ("correct", make_submission({"mlp.py": REFERENCE_A1})))]
    executor = LocalExecutor(1)
    killed = []

    def kill_the_worker() -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not killed:
            pool = executor._pool
            processes = list((getattr(pool, "_processes", None) or {}).keys()) if pool else []
            if processes:
                time.sleep(1.0)
                os.kill(processes[0], signal.SIGKILL)
                killed.append(processes[0])
            time.sleep(0.05)

    killer = threading.Thread(target=kill_the_worker)
    killer.start()
    results = {r["student"]: r for r in executor.run(jobs)}
    killer.join()
    assert killed
    assert set(results) == {"slow", "correct"}
    assert all("report" in r for r in results.values()), results
    assert all(r["pid"] != killed[0] for r in results.values())


def test_a_very_long_tmpdir_still_grades_and_leaves_nothing(tmp_path):
    """A cluster job's TMPDIR can be too long for the Unix sockets of the shared zygote and of
    multiprocessing's forkserver: the class is graded all the same, and the folder is left empty."""
    import subprocess
    import sys

    from tests.batch.conftest import ROOT

    temp = tmp_path / ("t" * 60) / ("m" * 60)
    temp.mkdir(parents=True)
    root = tmp_path / "class"
    for name in ("alice", "bob"):
        (root / name).mkdir(parents=True)
        (root / name / "mlp.py").write_text(REFERENCE_A1)
    run = subprocess.run([sys.executable, "-m", "grader.cli", "grade", "a1", str(root), "--jobs", "2", "--task", "1.1",
                          "--gradebook", str(tmp_path / "gb.sqlite")], cwd=ROOT, capture_output=True, text=True,
                         timeout=300, env={**os.environ, "TMPDIR": str(temp)})
    assert run.returncode == 0 and "Traceback" not in run.stderr, run.stderr
    assert "2 graded" in run.stderr
    assert list(temp.iterdir()) == []


def test_a_worker_knows_when_its_grader_has_ended(monkeypatch):
    """Then a failure to reach the grader's zygote is the run ending, not this student's crash to report."""
    import subprocess
    import sys

    from grader.batch import worker

    child = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE)
    monkeypatch.setattr(worker, "_grader", os.pidfd_open(child.pid))
    try:
        assert not worker._grader_ended()
        child.stdin.close()
        child.wait(timeout=30)
        assert worker._grader_ended()
    finally:
        os.close(worker._grader)
    monkeypatch.setattr(worker, "_grader", None)  # a Dask worker's thread: never ended by this test
    assert not worker._grader_ended()

"""--executor dask against a real LocalCluster started here: the same scores as `dlgrade check` alone."""

from __future__ import annotations

import pytest

from grader import api
from grader.batch.api import grade_class
from grader.batch.dask_executor import needs_gpu
from tests.batch.conftest import TASKS, make_class

distributed = pytest.importorskip("distributed")


def test_dask_local_cluster_grades_like_check_alone(tmp_path, zygote):
    root = tmp_path / "class"
    made = make_class(root, 6)
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None)
    with cluster:  # workers are threads here: quick to start; each grades in its own sandboxed sessions
        on_dask = grade_class("a1", root, gradebook=tmp_path / "dask.sqlite", tasks=TASKS, seed=11,
                              timeout_scale=0.3, executor="dask", scheduler=cluster.scheduler_address)
    assert set(on_dask.graded) == set(made) and not on_dask.errors
    for student, (kind, path) in made.items():
        if kind == "malformed":
            continue  # `check` exits 2 on it; test_grade_class covers that case
        alone = api.check("a1", path, tasks=TASKS, seed=11, timeout_scale=0.3, zygote=zygote)
        assert [(c.id, c.status, c.score) for c in on_dask.graded[student].checks] == \
            [(c.id, c.status, c.score) for c in alone.checks]
    assert on_dask.graded["s000"].diagnostics["isolation"]  # still graded in sandboxed sessions


def test_only_a4_training_asks_for_a_gpu():
    assert needs_gpu({"assignment": "a4", "tasks": None})
    assert needs_gpu({"assignment": "a4", "tasks": ["4.2"]})
    assert not needs_gpu({"assignment": "a4", "tasks": ["4.1"]})
    assert not needs_gpu({"assignment": "a1", "tasks": None})


def test_an_unreachable_scheduler_is_one_clear_error(tmp_path, monkeypatch):
    from grader.batch import dask_executor
    from grader.errors import UsageError

    monkeypatch.setattr(dask_executor, "CONNECT_TIMEOUT", "1s")
    make_class(tmp_path / "class", 1)
    with pytest.raises(UsageError, match="cannot reach the Dask scheduler"):
        grade_class("a1", tmp_path / "class", gradebook=tmp_path / "gb.sqlite", executor="dask",
                    scheduler="tcp://127.0.0.1:1")


def test_a_worker_with_several_threads_grades_like_check_alone(tmp_path, zygote):
    """``dask worker`` runs as many tasks at once as it has threads (one per core by default): several
    ``grade_one`` in one fresh process, which must neither share a submission's staging nor race on the
    registry of assignments."""
    import socket
    import subprocess
    import sys
    import time

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    address = f"tcp://127.0.0.1:{port}"
    dask = [sys.executable, "-m", "dask"]
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    scheduler = subprocess.Popen([*dask, "scheduler", "--host", "127.0.0.1", "--port", str(port),
                                  "--no-dashboard"], **quiet)
    worker = subprocess.Popen([*dask, "worker", address, "--nthreads", "3", "--nworkers", "1", "--no-dashboard",
                               "--local-directory", str(tmp_path / "worker")], **quiet)
    try:
        with distributed.Client(address, timeout="60s") as client:
            deadline = time.monotonic() + 60
            while not client.scheduler_info()["workers"] and time.monotonic() < deadline:
                assert worker.poll() is None, "the dask worker command ended"
                time.sleep(0.2)
            assert client.scheduler_info()["workers"], "no worker joined the scheduler within 60 s"
        root = tmp_path / "class"
        made = make_class(root, 6)
        on_dask = grade_class("a1", root, gradebook=tmp_path / "dask.sqlite", tasks=TASKS, seed=11,
                              timeout_scale=0.3, executor="dask", scheduler=address)
    finally:
        for process in (worker, scheduler):
            process.terminate()
        for process in (worker, scheduler):
            process.wait(timeout=30)
    assert set(on_dask.graded) == set(made) and not on_dask.errors
    for student, (kind, path) in made.items():
        if kind == "malformed":
            continue
        alone = api.check("a1", path, tasks=TASKS, seed=11, timeout_scale=0.3, zygote=zygote)
        assert [(c.id, c.status, c.score) for c in on_dask.graded[student].checks] == \
            [(c.id, c.status, c.score) for c in alone.checks], student

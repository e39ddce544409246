"""The Dask executor: submissions graded on Dask workers, results back to the parent's gradebook.

``--scheduler ADDR`` connects to a running cluster (dask-jobqueue on Slurm/PBS,
dask-kubernetes, or ``dask worker`` processes started by hand); without it a
``LocalCluster`` of ``--jobs`` single-threaded worker processes is started.
A Dask task cannot be cancelled while it runs and its memory limit is per
worker, so nothing here relies on Dask for either: each submission still runs
in its own sandboxed sessions (``grade_one``), with the same wall-clock, CPU
and memory limits as ``dlgrade check``.

Training checks that want an accelerator (``GPU_TASKS``) ask for the ``GPU``
worker resource when some worker offers it (start one worker per GPU with
``CUDA_VISIBLE_DEVICES=i dask worker ADDR --resources GPU=1``); on a cluster
without such workers they run on any worker.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

from grader.batch.faults import crash_sentence
from grader.batch.worker import grade_one
from grader.errors import UsageError
from grader.text import encodable

GPU_TASKS = {"a4": {"4.2"}}
CONNECT_TIMEOUT = "10s"


def _import_distributed():
    try:
        import distributed
    except ImportError:
        raise UsageError("--executor dask needs Dask: pip install 'dlgrade[dask]'") from None
    return distributed


def needs_gpu(job: dict) -> bool:
    """Whether the job selects a check of a task that trains (and so prefers a GPU worker)."""
    from grader import api

    gpu_tasks = GPU_TASKS.get(job["assignment"], set())
    if not gpu_tasks:
        return False
    checks = api.get_assignment(job["assignment"]).checks
    selected = job.get("tasks")
    return any(c.task in gpu_tasks and (not selected or c.task in selected or c.id in selected) for c in checks)


class DaskExecutor:
    """Send each job to a Dask worker; ``run`` yields each result dict as it completes."""

    def __init__(self, scheduler: str | None, jobs: int = 1):
        distributed = _import_distributed()
        self._cluster = None
        try:
            if scheduler:
                self.client = distributed.Client(scheduler, timeout=CONNECT_TIMEOUT)
            else:
                self._cluster = distributed.LocalCluster(n_workers=max(1, jobs), threads_per_worker=1,
                                                         processes=True, dashboard_address=None)
                self.client = distributed.Client(self._cluster)
        except (OSError, TimeoutError) as exc:
            raise UsageError(f"cannot reach the Dask scheduler {scheduler}: {exc}") from None

    def _has_gpu_workers(self) -> bool:
        workers = self.client.scheduler_info().get("workers", {})
        return any(info.get("resources", {}).get("GPU", 0) >= 1 for info in workers.values())

    def run(self, jobs: list[dict]) -> Iterator[dict]:
        distributed = _import_distributed()
        gpu = self._has_gpu_workers()
        futures = {}
        refused = []
        for index, job in enumerate(jobs):
            try:
                resources = {"GPU": 1} if gpu and needs_gpu(job) else None
                # The key names the job by its place, not the student id: an id is the LMS's text, not Dask's.
                future = self.client.submit(grade_one, job, key=f"dlgrade-{index:05d}-{uuid.uuid4().hex[:8]}",
                                            pure=False, resources=resources)
            except Exception as exc:  # noqa: BLE001 - e.g. this job cannot be serialized: this student only
                refused.append({"student": job["student"],
                                "internal_error": crash_sentence(exc, "sending this submission to Dask")})
                continue
            futures[future] = job
        yield from refused
        try:
            for future in distributed.as_completed(futures):
                job = futures[future]
                try:
                    yield future.result()
                except Exception as exc:  # noqa: BLE001 - e.g. KilledWorker: the grader's failure, not the student's
                    yield {"student": job["student"], "internal_error": encodable(
                        f"the Dask worker failed: {type(exc).__name__}: {' '.join(str(exc).split())}"[:300])}
        finally:
            for future in futures:
                future.cancel()

    def close(self) -> None:
        self.client.close()
        if self._cluster is not None:
            self._cluster.close()

"""The local executor: N worker processes on this machine, results back to the parent as they finish.

Start-up is paid once per machine, not once per worker:

- the workers are forked by a ``forkserver`` (a fresh interpreter, nothing forked from the parent:
  no CUDA or thread state copied) that imported the worker module, the assignment's checks and what
  they need (a4: torch, imported, never initialised on a device or run), so each worker starts warm
  (where the forkserver cannot start, as under a very long TMPDIR, each worker is a fresh interpreter);
- the workers share one zygote, started here (``Zygote(listen=True)``): each connects to it and
  gets sessions of its own, exactly as from a zygote of its own (``Zygote.attach``).

Each worker sets one BLAS thread and ignores Ctrl-C (the parent decides), and each dies with the
parent. If a worker is killed, the pool breaks: the submissions still in flight are resubmitted to
a fresh pool, at most ``MAX_ATTEMPTS`` times each.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from multiprocessing import forkserver

from grader.assignment import Assignment
from grader.batch.faults import crash_sentence
from grader.batch.worker import grade_one, init_process
from grader.runner.sandbox import Zygote

MAX_ATTEMPTS = 3


class LocalExecutor:
    """Grade jobs in ``jobs`` worker processes; ``run`` yields each result dict as it arrives."""

    def __init__(self, jobs: int, assignment: Assignment | None = None):
        self.jobs = max(1, int(jobs))
        self._pool: ProcessPoolExecutor | None = None
        self._context = multiprocessing.get_context("forkserver")
        preload = ["grader.batch.worker"]
        self.zygote: Zygote | None = None
        if assignment is not None:
            preload += [*assignment.check_modules, *assignment.requires]
            self.zygote = Zygote(preload=assignment.preload, wait=False, listen=True)
        self._context.set_forkserver_preload(preload)  # a forkserver started earlier keeps its own
        try:
            forkserver.ensure_running()  # its imports start now, beside the zygote's
        except OSError:
            # multiprocessing puts the forkserver's socket under TMPDIR, and a long one (a cluster job's) makes
            # its path too long for a Unix socket: start each worker afresh instead (slower to start, same work).
            self._context = multiprocessing.get_context("spawn")

    def _new_pool(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(max_workers=self.jobs, mp_context=self._context, initializer=init_process,
                                   initargs=(os.getpid(),))

    def run(self, jobs: list[dict]) -> Iterator[dict]:
        attempts = {job["student"]: 0 for job in jobs}
        waiting = list(jobs)
        try:
            while waiting:
                self._pool = self._new_pool()
                futures = {}
                for job in waiting:
                    attempts[job["student"]] += 1
                    sent = {**job, "zygote": self.zygote.address} if self.zygote is not None else job
                    futures[self._pool.submit(grade_one, sent)] = job
                waiting = []
                pending = set(futures)
                while pending:
                    done, pending = wait(pending, return_when=FIRST_COMPLETED)
                    for future in done:
                        job = futures[future]
                        try:
                            yield future.result()
                        except BrokenProcessPool:
                            if attempts[job["student"]] >= MAX_ATTEMPTS:
                                yield {"student": job["student"], "internal_error":
                                       f"a worker process died {MAX_ATTEMPTS} times while grading this submission"}
                            else:
                                waiting.append(job)
                        except Exception as exc:  # noqa: BLE001 - e.g. its job or result could not be pickled
                            yield {"student": job["student"],
                                   "internal_error": crash_sentence(exc, "sending this submission to a worker")}
                self._pool.shutdown(wait=True)
                self._pool = None
        finally:
            self.close()

    def close(self) -> None:
        if self._pool is not None:
            processes = list((getattr(self._pool, "_processes", None) or {}).values())
            self._pool.shutdown(wait=False, cancel_futures=True)
            for process in processes:
                if process.is_alive():
                    process.kill()
            self._pool = None
        if self.zygote is not None:
            self.zygote.close()
            self.zygote = None

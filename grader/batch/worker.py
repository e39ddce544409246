"""Grade one submission inside a worker process (local pool or Dask worker).

Each worker process keeps one preloaded ``Zygote`` per assignment, so the
interpreter and import start-up is paid once per worker, not per student;
each check still runs in its own sandboxed session forked from it. Only plain
data goes back to the parent: the report as a dict, or one line saying why the
grader (not the student) failed.
"""

from __future__ import annotations

import atexit
import ctypes
import inspect
import os
import select
import signal
import sys
import threading
import time

from grader import api
from grader.batch.faults import crash_sentence
from grader.errors import GraderError, SubmissionError
from grader.result import Report
from grader.text import encodable, encodable_data, from_os

BLAS_THREADS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS")
_local = threading.local()
_grader: int | None = None  # a pidfd of the grader a local worker serves (init_process); None in Dask


def init_process(grader_pid: int | None = None) -> None:
    """Worker set-up: one BLAS thread, Ctrl-C handled by the parent only, exit when ``grader_pid`` (the
    process that started the pool; by default this one's parent) dies."""
    for name in BLAS_THREADS:
        os.environ[name] = "1"
    if "torch" in sys.modules:  # imported by the forkserver before this process existed; no thread pool yet
        sys.modules["torch"].set_num_threads(1)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    atexit.register(_exit_without_teardown)  # registered last, so it runs first when the pool lets the worker go
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG: the forkserver's death
    except (OSError, AttributeError):
        pass
    _die_with(grader_pid or os.getppid())


def _die_with(pid: int) -> None:
    """SIGKILL this process as soon as ``pid`` ends. A forkserver's workers are its children, not the
    grader's, and hold the pipe that would tell it the grader died: only this wakes them."""
    global _grader
    try:
        watched = os.pidfd_open(pid)
    except ProcessLookupError:
        os._exit(1)
    except (AttributeError, OSError):  # no pidfds (not Linux 5.3+): the parent-death signal above remains
        return

    _grader = watched

    def watch() -> None:
        select.select([watched], [], [])
        os.kill(os.getpid(), signal.SIGKILL)

    threading.Thread(target=watch, name="dlgrade-die-with-grader", daemon=True).start()


def _grader_ended() -> bool:
    """Whether the grader this local worker serves has ended (we are about to be killed with it): a moment
    in which its shared zygote is already gone, which is no failure of the student's grading."""
    return _grader is not None and bool(select.select([_grader], [], [], 0)[0])


def _exit_without_teardown() -> None:
    """End a local worker at once when the pool shuts it down: nothing is left to save (each result went back when
    it was ready; a zygote removes its sessions and folder when its control socket closes), and tearing down an
    interpreter that imported torch takes about 0.6 s per worker, paid at the end of every ``dlgrade grade``."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:  # noqa: BLE001 - a closed stream: nothing to flush
            pass
    os._exit(0)


def _zygote(assignment, address: str | None = None) -> api.Zygote:
    """This worker's zygote for ``assignment``: its connection to the one the local executor shares
    (``address``), or (Dask workers) one of its own."""
    zygotes = getattr(_local, "zygotes", None)
    if zygotes is None:
        zygotes = _local.zygotes = {}
    if assignment.id not in zygotes:
        zygotes[assignment.id] = (api.Zygote.attach(address, preload=assignment.preload) if address
                                  else api.Zygote(preload=assignment.preload))
    return zygotes[assignment.id]


def _drop_zygote(assignment_id: str) -> None:
    zygote = getattr(_local, "zygotes", {}).pop(assignment_id, None)
    if zygote is not None:
        try:
            zygote.close()
        except Exception:  # noqa: BLE001 - already broken; nothing left to save
            pass


def unreadable_report(assignment, source: str, reason: str, tasks) -> Report:
    """What ``dlgrade check`` refuses with exit 2 (not a zip, too large...) is a zero, with the reason, in a batch."""
    return Report.not_graded(assignment, source, f"the submission could not be read: {reason}",
                             "Submit a folder, a .zip or an .ipynb with the handout's file names.", tasks,
                             {"unreadable": reason})


def _staging_dir(folder: str | None) -> str | None:
    """Where to stage the submission: the run's own temporary folder, which the parent removes, since a worker
    killed mid-submission (Ctrl-C, a broken pool) cannot clean up after itself. A Dask worker on another machine
    may not see that folder: it keeps the system's default. Passed to ``check`` rather than set in
    ``tempfile.tempdir``, which is one for the whole process and so raced between a Dask worker's threads."""
    return folder if folder and os.path.isdir(folder) else None


def grade_one(job: dict) -> dict:
    """Grade ``job`` (assignment, student, path, tasks, seed, timeout_scale, budget_s); return plain data.

    Never raises for one student's input: a report (with every string made encodable, so that a lone surrogate
    a submission printed or raised is escaped text, not the end of the class's gradebook), or ``internal_error``,
    one sentence (a crash's traceback is saved to a file that the sentence names).
    """
    out = {"student": job.get("student", "?"), "pid": os.getpid()}
    try:
        return encodable_data({**out, **_grade(job)})
    except Exception as exc:  # noqa: BLE001 - a bug of ours for this one input: this student's "not graded"
        return encodable_data({**out, "internal_error": crash_sentence(exc, "grading this submission")})


def _grade(job: dict) -> dict:
    started = time.perf_counter()
    assignment = api.get_assignment(job["assignment"])
    # Sessions at once within this submission: the cores the batch's --jobs workers leave (1 by default).
    kwargs = {"tasks": job.get("tasks"), "seed": job["seed"], "timeout_scale": job.get("timeout_scale", 1.0),
              "jobs": max(1, int(job.get("check_jobs", 1)))}
    if job.get("budget_s") is not None and "budget_s" in inspect.signature(api.check).parameters:
        kwargs["budget_s"] = job["budget_s"]
    for attempt in (1, 2):
        try:
            report = api.check(assignment, job["path"], zygote=_zygote(assignment, job.get("zygote")),
                               staging_dir=_staging_dir(job.get("scratch")), **kwargs)
        except SubmissionError as exc:
            report = unreadable_report(assignment, from_os(job["path"]), encodable(exc), job.get("tasks"))
        except GraderError as exc:
            return {"internal_error": crash_sentence(exc, "grading this submission")}
        except Exception as exc:  # noqa: BLE001 - e.g. the zygote died: start a fresh one and retry once
            if _grader_ended():  # killed: its zygote is going too, and nobody reads a result or a crash report
                os._exit(1)
            _drop_zygote(assignment.id)
            if attempt == 2:
                return {"internal_error": crash_sentence(exc, "grading this submission")}
            continue
        return {"report": report.to_dict(), "worker_s": round(time.perf_counter() - started, 4)}
    raise AssertionError("unreachable")

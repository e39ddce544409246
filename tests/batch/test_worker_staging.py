"""A batch worker stages each submission in the run's folder without touching the process-wide temporary folder.

A Dask worker runs several ``grade_one`` at once in threads of one process: setting ``tempfile.tempdir`` for
the length of one grading raced between them, and a thread could restore another's folder after it was
removed, failing every later grading in that process.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from grader import api
from grader.batch import worker
from grader.errors import SubmissionError


def test_staging_goes_to_the_run_folder_and_leaves_tempdir_alone(tmp_path, monkeypatch):
    seen = {}

    def record(path, files, staging, *args, **kwargs):
        seen["staging"], seen["tempdir"] = staging, tempfile.tempdir
        raise SubmissionError("stop here: only the staging is under test")

    monkeypatch.setattr(api, "load_submission", record)
    monkeypatch.setattr(worker, "_zygote", lambda assignment, address=None: object())
    before = tempfile.tempdir
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    result = worker.grade_one({"assignment": "a1", "student": "s", "path": str(tmp_path), "seed": 1,
                               "scratch": str(scratch)})
    assert "unreadable" in result["report"]["diagnostics"]
    assert seen["staging"].parent == scratch
    assert seen["tempdir"] == before == tempfile.tempdir
    assert not list(scratch.iterdir())  # removed after grading


def test_a_scratch_folder_this_machine_cannot_see_falls_back_to_the_default(tmp_path, monkeypatch):
    seen = {}

    def record(path, files, staging, *args, **kwargs):
        seen["staging"] = staging
        raise SubmissionError("stop here")

    monkeypatch.setattr(api, "load_submission", record)
    monkeypatch.setattr(worker, "_zygote", lambda assignment, address=None: object())
    worker.grade_one({"assignment": "a1", "student": "s", "path": str(tmp_path), "seed": 1,
                      "scratch": str(tmp_path / "elsewhere")})
    assert seen["staging"].parent == Path(tempfile.gettempdir())

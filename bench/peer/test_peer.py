"""One pytest test per check of the assignment, run against the submission in this process."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from conftest import ASSIGNMENT, SUBMISSION
from inprocess import LocalStudent

from grader import api
from grader.assignment import CheckContext
from grader.engine import check_seed
from grader.submission import load_submission

_assignment = api.get_assignment(ASSIGNMENT)
_staging = Path(tempfile.mkdtemp(prefix="dlgrade-peer-"))
_submission = load_submission(SUBMISSION, _assignment.files, _staging)


@pytest.mark.parametrize("check", _assignment.checks, ids=lambda c: c.id)
def test_check(check):
    student = LocalStudent(_staging, _submission.files, _assignment.drivers)
    context = CheckContext(check=check, seed=1, rng=check_seed(1, check.id), student=student,
                           files=dict(_submission.files))
    check.func(context)

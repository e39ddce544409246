"""Fixtures shared by a4's sandboxed tests (imported by the test modules that use them)."""

from __future__ import annotations

import pytest

from grader import api
from grader.assignments.a4.spec import A4
from grader.runner.sandbox import Zygote


@pytest.fixture(scope="module")
def torch_zygote():
    with Zygote(preload=A4.preload) as z:  # as in a real run (torch._dynamo preloaded for the meta device)
        yield z


@pytest.fixture
def grade4(torch_zygote, make_submission):
    def run(files, tasks=None, seed=7, **kwargs):
        path = files if not isinstance(files, dict) else make_submission(files)
        return api.check("a4", path, tasks=tasks, seed=seed, zygote=torch_zygote, **kwargs)
    return run

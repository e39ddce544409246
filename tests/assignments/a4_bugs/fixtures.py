"""Fixtures shared by a4's sandboxed tests (imported by the test modules that use them)."""

from __future__ import annotations

import pytest

from grader import api
from grader.runner.sandbox import Zygote


@pytest.fixture(scope="module")
def torch_zygote():
    with Zygote(preload=("numpy", "torch")) as z:
        yield z


@pytest.fixture
def grade4(torch_zygote, make_submission):
    def run(files, tasks=None, seed=7, **kwargs):
        path = files if not isinstance(files, dict) else make_submission(files)
        return api.check("a4", path, tasks=tasks, seed=seed, zygote=torch_zygote, **kwargs)
    return run

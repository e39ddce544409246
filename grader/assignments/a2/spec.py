"""The a2 assignment object; its checks live in ops.py, graph.py and derivations.py."""

from __future__ import annotations

from pathlib import Path

from grader.assignments.a1.spec import FROM_SCRATCH_FORBIDDEN
from grader.authoring import Assignment, register

A2 = register(Assignment(
    id="a2",
    title="Autograd by hand (NumPy)",
    files=("autograd.py",),
    summary="Forward and backward of 13 ops, Tensor.backward over a graph (topological order, accumulation), "
            "and written derivations of gradients in answers.toml.",
    forbidden_imports=FROM_SCRATCH_FORBIDDEN,
    drivers=Path(__file__).with_name("drivers.py"),
    check_modules=(  # in task order
        "grader.assignments.a2.ops",
        "grader.assignments.a2.graph",
        "grader.assignments.a2.derivations",
    ),
    points=51.0,  # the sum of the checks' points (tests/test_consistency.py keeps it so)
))

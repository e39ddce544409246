"""The a2 assignment object; its checks live in ops.py, graph.py and derivations.py."""

from __future__ import annotations

from pathlib import Path

from grader.assignments.a1.spec import FROM_SCRATCH_FORBIDDEN
from grader.authoring import Assignment, Equivalent, register

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
    # Mutants of reference/a2/autograd.py that compute the same thing as the reference (dlgrade author verify).
    equivalent_mutants=(
        Equivalent("autograd.py:128: drop .copy()", "Sum.backward without the copy returns NumPy's read-only "
                                                    "broadcast view: the same values and shape, and the handout's "
                                                    "engine never writes into a gradient an op returns (it adds "
                                                    "into a fresh array)."),
        Equivalent("autograd.py:191: >= -> >", "Sigmoid: at x = 0 both branches give 1/2, so which one takes 0 "
                                               "changes nothing."),
    ),
))

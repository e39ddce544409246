"""Assignment a1: a neural network from scratch in NumPy (handouts.md, a1)."""

from grader.assignments.a1 import layers, optimizers, training  # noqa: F401  (registering checks)
from grader.assignments.a1.spec import A1

__all__ = ["A1"]

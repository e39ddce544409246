"""Assignment a4: LeNet in PyTorch (handouts.md, a4). Needs torch in the grader's environment."""

from grader.assignments.a4 import structure  # noqa: F401, I001  (registering checks, in task order)
from grader.assignments.a4 import training  # noqa: F401
from grader.assignments.a4.spec import A4

__all__ = ["A4"]

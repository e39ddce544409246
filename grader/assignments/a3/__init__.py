"""Assignment a3: convolution, pooling and batch norm by hand, plus numeric answers (handouts.md, a3)."""

from grader.assignments.a3 import convolution  # noqa: F401, I001  (registering checks, in task order)
from grader.assignments.a3 import normalization  # noqa: F401
from grader.assignments.a3 import answers  # noqa: F401
from grader.assignments.a3.spec import A3

__all__ = ["A3"]

"""Assignment a2: autograd by hand, and derivations checked symbolically (handouts.md, a2)."""

from grader.assignments.a2 import ops  # noqa: F401, I001  (registering checks, in task order)
from grader.assignments.a2 import graph  # noqa: F401
from grader.assignments.a2 import derivations  # noqa: F401
from grader.assignments.a2.spec import A2

__all__ = ["A2"]

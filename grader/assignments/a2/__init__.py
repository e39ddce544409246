"""Assignment a2: autograd by hand, and derivations checked symbolically (handouts.md, a2).

The checks live in ops.py, graph.py, derivations.py, imported when a2 is graded or shown
(``A2.check_modules``), so that listing the assignments imports none of them.
"""

from grader.assignments.a2.spec import A2

__all__ = ["A2"]

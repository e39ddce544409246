"""Assignment a3: convolution, pooling and batch norm by hand, plus numeric answers (handouts.md, a3).

The checks live in convolution.py, normalization.py, answers.py, imported when a3 is graded or shown
(``A3.check_modules``), so that listing the assignments imports none of them.
"""

from grader.assignments.a3.spec import A3

__all__ = ["A3"]

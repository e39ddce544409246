"""Assignment a1: a neural network from scratch in NumPy (handouts.md, a1).

The checks live in layers.py, optimizers.py, training.py, imported when a1 is graded or shown
(``A1.check_modules``), so that listing the assignments imports none of them.
"""

from grader.assignments.a1.spec import A1

__all__ = ["A1"]

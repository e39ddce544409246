"""Assignment a4: LeNet in PyTorch (handouts.md, a4). Needs torch in the grader's environment.

Its checks (structure.py, training.py) import torch, so they are imported only when a4 is graded or shown
(``A4.check_modules``): `dlgrade list` stays fast and works without torch.
"""

from grader.assignments.a4.spec import A4

__all__ = ["A4"]

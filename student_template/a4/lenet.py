"""a4 — LeNet in PyTorch, trained on CIFAR-10.

Layers (in this order):
    conv 3->6 (5x5), ReLU, max-pool 2; conv 6->16 (5x5), ReLU, max-pool 2;
    [BatchNorm2d after EACH pooling, when batch_norm=True];
    flatten to 400 features (keep the batch dimension: any batch size must work);
    fc 400->120, ReLU, [Dropout(dropout) when dropout > 0]; fc 120->84, ReLU, [Dropout(dropout)];
    fc 84->num_classes, returning LOGITS (no softmax: CrossEntropyLoss applies it).
The plain model has 62,006 parameters. forward must work on any device: create no tensor
on a fixed device inside forward. Task 4.2 (training) has no code of its own: the grader trains
your model with its own recipe and measures the test accuracy.
Check your work with:  dlgrade check a4 path/to/your/folder
"""

from __future__ import annotations

import torch
from torch import nn


class LeNet(nn.Module):
    def __init__(self, num_classes: int = 10, batch_norm: bool = False, dropout: float = 0.0):
        super().__init__()
        raise NotImplementedError("Task 4.1: LeNet.__init__")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(N, 3, 32, 32) -> logits (N, num_classes)."""
        raise NotImplementedError("Task 4.1: LeNet.forward")

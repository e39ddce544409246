"""Reference solution of a4: LeNet for 3x32x32 images.

conv 3->6 5x5, ReLU, maxpool 2; conv 6->16 5x5, ReLU, maxpool 2; [BatchNorm2d after
each pooling]; flatten 400; fc 400->120, ReLU, [Dropout]; fc 120->84, ReLU, [Dropout];
fc 84->num_classes (logits: no softmax, CrossEntropyLoss applies it).
"""

from __future__ import annotations

import torch
from torch import nn


class LeNet(nn.Module):
    def __init__(self, num_classes: int = 10, batch_norm: bool = False, dropout: float = 0.0):
        super().__init__()

        def norm(channels: int) -> nn.Module:
            return nn.BatchNorm2d(channels) if batch_norm else nn.Identity()

        def drop() -> nn.Module:
            return nn.Dropout(dropout) if dropout > 0 else nn.Identity()

        self.features = nn.Sequential(
            nn.Conv2d(3, 6, 5), nn.ReLU(), nn.MaxPool2d(2), norm(6),
            nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), norm(16),
        )
        self.classifier = nn.Sequential(
            nn.Linear(400, 120), nn.ReLU(), drop(),
            nn.Linear(120, 84), nn.ReLU(), drop(),
            nn.Linear(84, num_classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(N, 3, 32, 32) -> logits (N, num_classes)."""
        return self.classifier(torch.flatten(self.features(x), 1))

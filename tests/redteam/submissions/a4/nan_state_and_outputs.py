"""Reports NaN for every tensor of its state_dict and returns NaN logits."""

import torch
from torch import nn


class LeNet(nn.Module):
    def __init__(self, num_classes=10, batch_norm=False, dropout=0.0):
        super().__init__()
        self.conv1, self.conv2 = nn.Conv2d(3, 6, 5), nn.Conv2d(6, 16, 5)
        self.fc1, self.fc2, self.fc3 = nn.Linear(400, 120), nn.Linear(120, 84), nn.Linear(84, num_classes)

    def state_dict(self, *args, **kwargs):
        return {k: torch.full_like(v, float("nan")) for k, v in super().state_dict(*args, **kwargs).items()}

    def forward(self, x):
        return torch.full((x.shape[0], self.fc3.out_features), float("nan"))

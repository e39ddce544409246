"""A LeNet with every layer of the handout whose forward computes nothing (the honest version of the attacks)."""

import torch
from torch import nn


class LeNet(nn.Module):
    def __init__(self, num_classes=10, batch_norm=False, dropout=0.0):
        super().__init__()
        self.conv1, self.conv2 = nn.Conv2d(3, 6, 5), nn.Conv2d(6, 16, 5)
        if batch_norm:
            self.bn1, self.bn2 = nn.BatchNorm2d(6), nn.BatchNorm2d(16)
        self.fc1, self.fc2, self.fc3 = nn.Linear(400, 120), nn.Linear(120, 84), nn.Linear(84, num_classes)
        self.num_classes = num_classes

    def forward(self, x):
        return torch.zeros(x.shape[0], self.num_classes, device=x.device)

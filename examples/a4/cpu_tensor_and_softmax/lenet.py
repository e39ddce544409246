"""A student's LeNet with two classic bugs: a tensor made on the CPU inside forward, and a
softmax before CrossEntropyLoss. It also hard-codes nothing else, so the structure checks pass."""

import torch
import torch.nn.functional as F
from torch import nn


class LeNet(nn.Module):
    def __init__(self, num_classes=10, batch_norm=False, dropout=0.0):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 6, 5)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.bn1 = nn.BatchNorm2d(6) if batch_norm else None
        self.bn2 = nn.BatchNorm2d(16) if batch_norm else None
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, num_classes)
        self.p = dropout

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        if self.bn1 is not None:
            x = self.bn1(x)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        if self.bn2 is not None:
            x = self.bn2(x)
        x = x.view(x.size(0), -1)
        x = F.dropout(F.relu(self.fc1(x)), self.p, self.training)
        x = F.dropout(F.relu(self.fc2(x)), self.p, self.training)
        x = self.fc3(x) + torch.zeros(x.size(0), 1)  # BUG: made on the CPU, breaks on a GPU
        return F.softmax(x, dim=1)  # BUG: CrossEntropyLoss already applies log-softmax

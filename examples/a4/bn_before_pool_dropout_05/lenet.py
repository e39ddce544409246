"""A student's LeNet with batch norm placed before each pooling and dropout fixed at 0.5."""

from torch import nn


class LeNet(nn.Module):
    def __init__(self, num_classes=10, batch_norm=False, dropout=0.0):
        super().__init__()
        bn = (lambda c: nn.BatchNorm2d(c)) if batch_norm else (lambda c: nn.Identity())
        drop = (lambda: nn.Dropout(0.5)) if dropout else (lambda: nn.Identity())  # BUG: ignores `dropout`
        self.net = nn.Sequential(
            nn.Conv2d(3, 6, 5), nn.ReLU(), bn(6), nn.MaxPool2d(2),  # BUG: batch norm before the pooling
            nn.Conv2d(6, 16, 5), nn.ReLU(), bn(16), nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Linear(400, 120), nn.ReLU(), drop(),
            nn.Linear(120, 84), nn.ReLU(), drop(),
            nn.Linear(84, num_classes),
        )

    def forward(self, x):
        return self.net(x)

"""Attacks the structure group's shared process (grader/runner/groups.py): state that outlives ``begin``.

At its first import it stashes a memory in ``builtins`` (which no check's fresh import resets), keeps its own
module in ``sys.modules`` under a name ``begin`` does not forget, takes the host's import finder off
``sys.meta_path``, writes a ``torch.py`` into /scratch (so that ``begin`` forgets every torch module imported
later), and starts a thread that keeps zeroing the weights of every model it finds. Each later check replays
the outputs it gave before for the same input. None of it can make the parent's comparison with the reference
pass: the forward still computes nothing.
"""

import builtins
import gc
import os
import sys
import threading
import time

import torch
from torch import nn

MEMORY = builtins.__dict__.setdefault("_lenet_memory", {"imports": 0, "outputs": {}})
MEMORY["imports"] += 1
sys.modules.setdefault("_lenet_kept", sys.modules[__name__])
sys.meta_path[:] = [f for f in sys.meta_path if type(f).__name__ != "_CompiledFinder"]
try:
    with open(os.path.join(os.getcwd(), "torch.py"), "w") as f:
        f.write("raise ImportError('shadowed')\n")
except OSError:
    pass


def _zero_weights():
    while True:
        for obj in gc.get_objects():
            if isinstance(obj, nn.Module) and type(obj).__name__ == "LeNet":
                with torch.no_grad():
                    for p in obj.parameters():
                        p.zero_()
        time.sleep(0.01)


if MEMORY["imports"] == 1:
    threading.Thread(target=_zero_weights, daemon=True).start()


class LeNet(nn.Module):
    def __init__(self, num_classes=10, batch_norm=False, dropout=0.0):
        super().__init__()
        self.conv1, self.conv2 = nn.Conv2d(3, 6, 5), nn.Conv2d(6, 16, 5)
        if batch_norm:
            self.bn1, self.bn2 = nn.BatchNorm2d(6), nn.BatchNorm2d(16)
        self.fc1, self.fc2, self.fc3 = nn.Linear(400, 120), nn.Linear(120, 84), nn.Linear(84, num_classes)
        self.num_classes = num_classes

    def forward(self, x):
        key = (tuple(x.shape), float(x.sum()) if x.device.type != "meta" else 0.0)
        if key not in MEMORY["outputs"]:
            MEMORY["outputs"][key] = torch.zeros(x.shape[0], self.num_classes)
        return MEMORY["outputs"][key].to(x.device)

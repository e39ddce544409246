"""The a4 catalogue: single-bug LeNets, each with the checks it must fail and the component the hint must name.

Most bugs are written into ``STUDENT``, a LeNet in the style students write
(named layers, functional ReLU and pooling); a few into the reference. Each
entry: (source, failing check ids, {check id: text its message or hint must
contain}). ``CORRECT`` holds submissions written differently from the
reference that must get full marks.
"""

from __future__ import annotations

from tests.conftest import ROOT, mutate

REFERENCE = (ROOT / "reference" / "a4" / "lenet.py").read_text()
STRUCTURE = ("structure_layers", "structure_batch_norm", "structure_dropout", "parameter_counts", "output_shapes",
             "returns_logits", "train_eval", "device_safe")

STUDENT = '''import torch
import torch.nn.functional as F
from torch import nn


class LeNet(nn.Module):
    def __init__(self, num_classes=10, batch_norm=False, dropout=0.0):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 6, 5)
        self.pool = nn.MaxPool2d(2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.bn2 = nn.BatchNorm2d(16) if batch_norm else nn.Identity()
        self.bn1 = nn.BatchNorm2d(6) if batch_norm else nn.Identity()
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, num_classes)
        self.p = dropout
        self.drop = nn.Dropout(dropout)

    def forward(self, x):
        x = self.bn1(self.pool(F.relu(self.conv1(x))))
        x = self.bn2(self.pool(F.relu(self.conv2(x))))
        x = torch.flatten(x, 1)
        x = self.drop(F.relu(self.fc1(x)))
        x = self.drop(F.relu(self.fc2(x)))
        return self.fc3(x)
'''


def student(*replacements: tuple[str, str]) -> str:
    return mutate(STUDENT, *replacements)


ALL_BUT_SHAPES = set(STRUCTURE) - {"output_shapes"}

BUGS = {
    "padding in conv1, fc1 sized to fit": (
        student(("nn.Conv2d(3, 6, 5)", "nn.Conv2d(3, 6, 5, padding=2)"),
                ("nn.Linear(16 * 5 * 5, 120)", "nn.Linear(16 * 6 * 6, 120)")),
        ALL_BUT_SHAPES, {"structure_layers": "conv1 has padding=2", "parameter_counts": "conv1 has padding=2"}),
    "padding in conv1, fc1 left at 400": (
        student(("nn.Conv2d(3, 6, 5)", "nn.Conv2d(3, 6, 5, padding=2)")),
        set(STRUCTURE), {"structure_layers": "conv1 has padding=2", "output_shapes": "conv1 has padding=2"}),
    "conv2 kernel 3x3": (
        student(("nn.Conv2d(6, 16, 5)", "nn.Conv2d(6, 16, 3)"), ("nn.Linear(16 * 5 * 5, 120)", "nn.Linear(576, 120)")),
        ALL_BUT_SHAPES, {"structure_layers": "conv2: kernel size 3x3", "parameter_counts": "conv2: kernel size 3x3"}),
    "missing ReLU after conv2": (
        student(("self.pool(F.relu(self.conv2(x)))", "self.pool(self.conv2(x))")),
        {"structure_layers"}, {"structure_layers": "ReLU after conv2 is missing"}),
    "sigmoid where the handout has ReLU": (
        student(*[(f"F.relu(self.{layer}(x))", f"torch.sigmoid(self.{layer}(x))")
                  for layer in ("conv1", "conv2", "fc1", "fc2")]),
        {"structure_layers"}, {"structure_layers": "activations are sigmoids"}),
    "sigmoid after fc1 only": (
        student(("F.relu(self.fc1(x))", "torch.sigmoid(self.fc1(x))")),
        {"structure_layers"}, {"structure_layers": "fc1 is followed by a sigmoid"}),
    "softmax at the end": (
        student(("return self.fc3(x)", "return F.softmax(self.fc3(x), dim=1)")),
        {"returns_logits"}, {"returns_logits": "softmax after fc3"}),
    "ReLU after fc3": (
        student(("return self.fc3(x)", "return F.relu(self.fc3(x))")),
        {"returns_logits"}, {"returns_logits": "ReLU follows fc3"}),
    "batch norm on fc1 instead of after the first pooling": (
        student(("self.bn1 = nn.BatchNorm2d(6) if batch_norm else nn.Identity()",
                 "self.bn1 = nn.BatchNorm1d(120) if batch_norm else nn.Identity()"),
                ("x = self.bn1(self.pool(F.relu(self.conv1(x))))", "x = self.pool(F.relu(self.conv1(x)))"),
                ("x = self.drop(F.relu(self.fc1(x)))", "x = self.drop(F.relu(self.bn1(self.fc1(x))))")),
        {"structure_batch_norm", "parameter_counts", "train_eval", "device_safe", "output_shapes"},
        {"structure_batch_norm": "on fc1's output", "parameter_counts": "bn:",
         "output_shapes": "self.bn1(self.fc1(x))"}),
    "batch norm before the pooling": (
        student(("self.bn1(self.pool(F.relu(self.conv1(x))))", "self.pool(self.bn1(F.relu(self.conv1(x))))"),
                ("self.bn2(self.pool(F.relu(self.conv2(x))))", "self.pool(self.bn2(F.relu(self.conv2(x))))")),
        {"structure_batch_norm"}, {"structure_batch_norm": "bn: the batch norms come BEFORE the max-pools"}),
    "dropout active in eval": (
        student(("x = self.drop(F.relu(self.fc1(x)))", "x = F.dropout(F.relu(self.fc1(x)), self.p, True)"),
                ("x = self.drop(F.relu(self.fc2(x)))", "x = F.dropout(F.relu(self.fc2(x)), self.p, True)")),
        {"train_eval"}, {"train_eval": "dropout"}),
    "dropout p fixed at 0.5": (
        student(("self.drop = nn.Dropout(dropout)", "self.drop = nn.Dropout(0.5)")),
        {"structure_dropout"}, {"structure_dropout": "dropout: the rate is 0.5"}),
    "dropout only after fc1": (
        student(("x = self.drop(F.relu(self.fc2(x)))", "x = F.relu(self.fc2(x))")),
        {"structure_dropout"}, {"structure_dropout": "dropout: only after fc1"}),
    "num_classes ignored": (
        student(("nn.Linear(84, num_classes)", "nn.Linear(84, 10)")),
        {"parameter_counts", "output_shapes"}, {"parameter_counts": "fc3", "output_shapes": "num_classes"}),
    "layer created inside forward": (
        student(("        self.fc1 = nn.Linear(16 * 5 * 5, 120)\n", ""),
                ("x = self.drop(F.relu(self.fc1(x)))", "x = self.drop(F.relu(nn.Linear(400, 120)(x)))")),
        ALL_BUT_SHAPES, {"structure_layers": "fc1 (Linear(400, 120)) is not among the model's parameters",
                         "parameter_counts": "created inside forward"}),
    "flatten hard-codes the batch size": (
        student(("x = torch.flatten(x, 1)", "x = x.view(64, 400)")),
        set(STRUCTURE), {"structure_layers": "flatten", "output_shapes": "flatten"}),
    "flatten merges the batch": (
        student(("x = torch.flatten(x, 1)", "x = x.reshape(1, -1)")),
        {"structure_layers", "structure_batch_norm", "structure_dropout", "parameter_counts", "output_shapes",
         "returns_logits", "train_eval", "device_safe"},
        {"structure_layers": "flatten merges the batch"}),
    "hard-coded .cuda()": (
        student(("x = self.bn1(self.pool(F.relu(self.conv1(x))))",
                 "x = x.cuda()\n        x = self.bn1(self.pool(F.relu(self.conv1(x))))")),
        set(STRUCTURE), {"device_safe": "x = x.cuda()", "structure_layers": "fixed device"}),
    "hard-coded .to('cpu')": (
        student(("return self.fc3(x)", "return self.fc3(x).to('cpu')")),
        {"device_safe"}, {"device_safe": "self.fc3(x).to('cpu')"}),
    "tensor made on the CPU in forward": (
        student(("return self.fc3(x)", "return self.fc3(x) + torch.zeros(1, 1)")),
        {"device_safe"}, {"device_safe": "torch.zeros(1, 1)"}),
    "average pooling": (
        student(("self.pool = nn.MaxPool2d(2)", "self.pool = nn.AvgPool2d(2)")),
        {"structure_layers"}, {"structure_layers": "pool: average pooling"}),
    "conv1 without bias": (
        student(("nn.Conv2d(3, 6, 5)", "nn.Conv2d(3, 6, 5, bias=False)")),
        {"parameter_counts"}, {"parameter_counts": "conv1 was created with bias=False"}),
    "fc2 has 100 units": (
        student(("nn.Linear(120, 84)", "nn.Linear(120, 100)"), ("nn.Linear(84, num_classes)",
                                                                 "nn.Linear(100, num_classes)")),
        ALL_BUT_SHAPES, {"structure_layers": "fc2: 100 outputs", "parameter_counts": "fc2"}),
    "computes nothing, perfect structure": (
        student(("        x = self.bn1(self.pool(F.relu(self.conv1(x))))\n",
                 "        return torch.zeros(x.shape[0], self.fc3.out_features)\n")),
        ALL_BUT_SHAPES, {"structure_layers": "differ from the reference LeNet",
                         "parameter_counts": "structure cannot be confirmed"}),
}

CORRECT = {
    "reference": REFERENCE,
    "student style (named layers, bn2 registered before bn1, F.relu, nn.Dropout)": STUDENT,
    "one nn.Sequential with nn.Flatten, fc layers registered first": '''import torch
from torch import nn


class LeNet(nn.Module):
    def __init__(self, num_classes=10, batch_norm=False, dropout=0.0):
        super().__init__()
        head = [nn.Linear(400, 120), nn.ReLU(), nn.Dropout(dropout), nn.Linear(120, 84), nn.ReLU(),
                nn.Dropout(dropout), nn.Linear(84, num_classes)]
        self.head = nn.Sequential(*head)
        layers = [nn.Conv2d(3, 6, kernel_size=(5, 5)), nn.ReLU(inplace=True), nn.MaxPool2d(2, 2)]
        if batch_norm:
            layers.append(nn.BatchNorm2d(6))
        layers += [nn.Conv2d(6, 16, 5, stride=1, padding=0), nn.ReLU(inplace=True), nn.MaxPool2d(kernel_size=2)]
        if batch_norm:
            layers.append(nn.BatchNorm2d(16))
        self.body = nn.Sequential(*layers, nn.Flatten())

    def forward(self, x):
        return self.head(self.body(x))
''',
    "functional calls (F.conv2d through layers, F.dropout with self.training)": '''import torch
import torch.nn.functional as F
from torch import nn


class LeNet(nn.Module):
    def __init__(self, num_classes: int = 10, batch_norm: bool = False, dropout: float = 0.0):
        super().__init__()
        self.c1, self.c2 = nn.Conv2d(3, 6, 5), nn.Conv2d(6, 16, 5)
        self.norms = nn.ModuleList([nn.BatchNorm2d(6), nn.BatchNorm2d(16)]) if batch_norm else None
        self.f1, self.f2, self.f3 = nn.Linear(400, 120), nn.Linear(120, 84), nn.Linear(84, num_classes)
        self.dropout = dropout

    def forward(self, x):
        for i, conv in enumerate((self.c1, self.c2)):
            x = F.max_pool2d(F.conv2d(x, conv.weight, conv.bias).relu(), kernel_size=2)
            if self.norms is not None:
                x = self.norms[i](x)
        x = x.view(x.size(0), -1)
        for fc in (self.f1, self.f2):
            x = F.dropout(F.relu(fc(x)), p=self.dropout, training=self.training)
        return self.f3(x)
''',
}

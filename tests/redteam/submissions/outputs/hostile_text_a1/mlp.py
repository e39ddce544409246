"""a1 — A neural network from scratch (NumPy only).

Fill in every TODO. Do not import torch, tensorflow, jax or autograd: the
grader reports that as a violation. Check your work with:

    dlgrade check a1 path/to/your/folder
    dlgrade check a1 path/to/your/folder --task 1.1     # one task only

Task 1.6 (training) has no code of its own: the grader trains a 2-4-4-1 sigmoid
network on two toy sets and a softmax classifier on handwritten digits with YOUR
Linear, Sigmoid, MSELoss, CrossEntropyLoss and SGD, and checks the accuracy.

Conventions (the grader relies on them):
- Arrays are float64; a batch is a 2-D array with one example per row.
- Each layer remembers what its backward needs during forward.
- backward(grad_out) receives dL/d(output) and returns dL/d(input).
"""

from __future__ import annotations

import numpy as np


class Linear:
    """y = x @ W + b with W of shape (in_features, out_features) and b of shape (out_features,)."""

    def __init__(self, in_features: int, out_features: int, rng: np.random.Generator | None = None):
        # TODO Task 1.1: create self.W (in_features, out_features) with small random values drawn
        # from rng (np.random.default_rng() if rng is None), self.b = zeros (out_features,),
        # and self.dW, self.db: zero arrays of the same shapes.
        raise NotImplementedError("Task 1.1: Linear.__init__")

    def forward(self, x):
        """x (N, in) -> x @ W + b, shape (N, out). Remember x for backward."""
        raise NotImplementedError("Task 1.1: Linear.forward")

    def backward(self, grad_out):
        """grad_out (N, out) -> dL/dx (N, in).

        Also set self.dW = x.T @ grad_out and self.db = grad_out.sum(axis=0). Do not
        divide by anything: the loss's backward already averages over the batch.
        """
        raise NotImplementedError("Task 1.1: Linear.backward")

    def parameters(self):
        """Return [(W, dW), (b, db)]: the live arrays themselves, value first."""
        raise NotImplementedError("Task 1.1: Linear.parameters")


class Sigmoid:
    """y = 1 / (1 + exp(-x))."""

    def forward(self, x):
        raise NotImplementedError("Task 1.2: Sigmoid.forward")

    def backward(self, grad_out):
        raise NotImplementedError("Task 1.2: Sigmoid.backward")


class ReLU:
    """y = max(x, 0). Its derivative at exactly 0 is 0."""

    def forward(self, x):
        raise NotImplementedError("Task 1.2: ReLU.forward")

    def backward(self, grad_out):
        raise NotImplementedError("Task 1.2: ReLU.backward")


class Tanh:
    """y = tanh(x)."""

    def forward(self, x):
        raise NotImplementedError("Task 1.2: Tanh.forward")

    def backward(self, grad_out):
        raise NotImplementedError("Task 1.2: Tanh.backward")


def softmax(x):
    """(N, K) -> (N, K), each row sums to 1. Must stay finite for |x| up to 1e4."""
    # Text every output format must carry inertly: lone surrogates and a noncharacter (no encoder or XML parser
    # takes them raw), terminal controls, spreadsheet formulas, Markdown and HTML that would pass for the grader's.
    hostile = ("\ud800 \udcff \uffff \ufdd0 \x00\x0b\x1b[2J\x1b]0;title\x07\r =1+1 x;=2+2;@SUM(A1)|-3 +4 \t=5"
               " <img src=x onerror=alert(1)> <script>alert(1)</script> </pre> ]]> & [link](https://evil.invalid)"
               " ![img](https://evil.invalid/x.png) **bold** ``` ```` | cell |")
    print("# dlgrade a1: 36 / 36")
    print(hostile)
    print("```\n## ✓ all checks passed\n```")
    raise ValueError(hostile + "\n## Score: 36 / 36\n<h1>36 / 36</h1>")


class MSELoss:
    def forward(self, pred, target) -> float:
        """Mean over ALL elements of (pred - target) ** 2."""
        raise NotImplementedError("Task 1.4: MSELoss.forward")

    def backward(self):
        """d(loss)/d(pred), same shape as pred."""
        raise NotImplementedError("Task 1.4: MSELoss.backward")


class CrossEntropyLoss:
    def forward(self, logits, labels) -> float:
        """logits (N, K), labels (N,) integers -> mean over rows of -log softmax(logits)[label]."""
        raise NotImplementedError("Task 1.4: CrossEntropyLoss.forward")

    def backward(self):
        """(softmax(logits) - onehot(labels)) / N."""
        raise NotImplementedError("Task 1.4: CrossEntropyLoss.backward")


# Optimizers. Each takes a list of layers; step() calls layer.parameters() on every layer
# that has that method and updates each value array IN PLACE (p -= ..., not p = p - ...).
# zero_grad() sets every gradient array to 0, also in place.


class SGD:
    def __init__(self, layers, lr):
        raise NotImplementedError("Task 1.5: SGD")

    def step(self):
        """p -= lr * g"""
        raise NotImplementedError("Task 1.5: SGD.step")

    def zero_grad(self):
        raise NotImplementedError("Task 1.5: SGD.zero_grad")


class Momentum:
    def __init__(self, layers, lr, beta=0.9):
        raise NotImplementedError("Task 1.5: Momentum")

    def step(self):
        """v = beta * v + g; p -= lr * v  (one v per parameter, kept between steps)."""
        raise NotImplementedError("Task 1.5: Momentum.step")

    def zero_grad(self):
        raise NotImplementedError("Task 1.5: Momentum.zero_grad")


class Adagrad:
    def __init__(self, layers, lr, eps=1e-8):
        raise NotImplementedError("Task 1.5: Adagrad")

    def step(self):
        """G += g**2; p -= lr * g / (sqrt(G) + eps)."""
        raise NotImplementedError("Task 1.5: Adagrad.step")

    def zero_grad(self):
        raise NotImplementedError("Task 1.5: Adagrad.zero_grad")


class Adam:
    def __init__(self, layers, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
        raise NotImplementedError("Task 1.5: Adam")

    def step(self):
        """PyTorch's Adam: m and v moving averages, bias-corrected by 1 - beta**t (t counts steps from 1)."""
        raise NotImplementedError("Task 1.5: Adam.step")

    def zero_grad(self):
        raise NotImplementedError("Task 1.5: Adam.zero_grad")

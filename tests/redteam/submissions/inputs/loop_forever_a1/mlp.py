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
        while True:  # loops forever
            pass

    def forward(self, x):
        """x (N, in) -> x @ W + b, shape (N, out). Remember x for backward."""
        while True:  # loops forever
            pass

    def backward(self, grad_out):
        """grad_out (N, out) -> dL/dx (N, in).

        Also set self.dW = x.T @ grad_out and self.db = grad_out.sum(axis=0). Do not
        divide by anything: the loss's backward already averages over the batch.
        """
        while True:  # loops forever
            pass

    def parameters(self):
        """Return [(W, dW), (b, db)]: the live arrays themselves, value first."""
        while True:  # loops forever
            pass


class Sigmoid:
    """y = 1 / (1 + exp(-x))."""

    def forward(self, x):
        while True:  # loops forever
            pass

    def backward(self, grad_out):
        while True:  # loops forever
            pass


class ReLU:
    """y = max(x, 0). Its derivative at exactly 0 is 0."""

    def forward(self, x):
        while True:  # loops forever
            pass

    def backward(self, grad_out):
        while True:  # loops forever
            pass


class Tanh:
    """y = tanh(x)."""

    def forward(self, x):
        while True:  # loops forever
            pass

    def backward(self, grad_out):
        while True:  # loops forever
            pass


def softmax(x):
    """(N, K) -> (N, K), each row sums to 1. Must stay finite for |x| up to 1e4."""
    while True:  # loops forever
        pass


class MSELoss:
    def forward(self, pred, target) -> float:
        """Mean over ALL elements of (pred - target) ** 2."""
        while True:  # loops forever
            pass

    def backward(self):
        """d(loss)/d(pred), same shape as pred."""
        while True:  # loops forever
            pass


class CrossEntropyLoss:
    def forward(self, logits, labels) -> float:
        """logits (N, K), labels (N,) integers -> mean over rows of -log softmax(logits)[label]."""
        while True:  # loops forever
            pass

    def backward(self):
        """(softmax(logits) - onehot(labels)) / N."""
        while True:  # loops forever
            pass


# Optimizers. Each takes a list of layers; step() calls layer.parameters() on every layer
# that has that method and updates each value array IN PLACE (p -= ..., not p = p - ...).
# zero_grad() sets every gradient array to 0, also in place.


class SGD:
    def __init__(self, layers, lr):
        while True:  # loops forever
            pass

    def step(self):
        """p -= lr * g"""
        while True:  # loops forever
            pass

    def zero_grad(self):
        while True:  # loops forever
            pass


class Momentum:
    def __init__(self, layers, lr, beta=0.9):
        while True:  # loops forever
            pass

    def step(self):
        """v = beta * v + g; p -= lr * v  (one v per parameter, kept between steps)."""
        while True:  # loops forever
            pass

    def zero_grad(self):
        while True:  # loops forever
            pass


class Adagrad:
    def __init__(self, layers, lr, eps=1e-8):
        while True:  # loops forever
            pass

    def step(self):
        """G += g**2; p -= lr * g / (sqrt(G) + eps)."""
        while True:  # loops forever
            pass

    def zero_grad(self):
        while True:  # loops forever
            pass


class Adam:
    def __init__(self, layers, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
        while True:  # loops forever
            pass

    def step(self):
        """PyTorch's Adam: m and v moving averages, bias-corrected by 1 - beta**t (t counts steps from 1)."""
        while True:  # loops forever
            pass

    def zero_grad(self):
        while True:  # loops forever
            pass

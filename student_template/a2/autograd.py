"""a2 — Autograd by hand (NumPy only).

`Tensor` and `Op` are given, except `Tensor.backward`. Implement forward and backward of
every op below, then `Tensor.backward`. Written derivations go into answers.toml.
Check your work with:  dlgrade check a2 path/to/your/folder   (or --task 2.1)

Conventions:
- forward(ctx, *inputs, **params) receives NumPy arrays and returns an array; store in the
  dict `ctx` whatever backward needs.
- backward(ctx, G) receives the upstream gradient G (the shape of the output) and returns a
  tuple with one gradient per input, each of that input's shape (a 1-tuple for one input).
"""

from __future__ import annotations

import numpy as np


class Tensor:
    """A value in the graph: ``value`` (ndarray) and ``grad`` (None until backward has run)."""

    def __init__(self, value, op=None, ctx=None, parents=()):
        self.value = np.asarray(value, dtype=np.float64)
        self.grad = None
        self.op, self.ctx, self.parents = op, ctx, tuple(parents)

    def backward(self):
        """Compute d(self)/d(t) into t.grad for every tensor t that self depends on.

        Seed the gradient of self with ones (self may be non-scalar), then visit the graph in
        reverse topological order so that each op's backward runs exactly once, and ACCUMULATE
        (add) into tensors used more than once.
        """
        raise NotImplementedError("Task 2.3: Tensor.backward")


class Op:
    """An operation. Subclasses implement forward and backward as static methods."""

    @staticmethod
    def forward(ctx: dict, *inputs, **params) -> np.ndarray:
        raise NotImplementedError

    @staticmethod
    def backward(ctx: dict, grad_output) -> tuple:
        raise NotImplementedError

    @classmethod
    def apply(cls, *tensors, **params) -> Tensor:
        """Given: run forward on the tensors' values and record the node in the graph."""
        ctx: dict = {}
        value = cls.forward(ctx, *(t.value for t in tensors), **params)
        return Tensor(value, op=cls, ctx=ctx, parents=tensors)


class Add(Op):
    """z = x + y (same shapes)."""

    @staticmethod
    def forward(ctx, x, y):
        raise NotImplementedError("Task 2.1: Add.forward")

    @staticmethod
    def backward(ctx, G):
        raise NotImplementedError("Task 2.1: Add.backward")


class Multiply(Op):
    """z = x * y, element-wise (same shapes)."""

    @staticmethod
    def forward(ctx, x, y):
        raise NotImplementedError("Task 2.1: Multiply.forward")

    @staticmethod
    def backward(ctx, G):
        raise NotImplementedError("Task 2.1: Multiply.backward")


class Divide(Op):
    """z = x / y, element-wise (same shapes)."""

    @staticmethod
    def forward(ctx, x, y):
        raise NotImplementedError("Task 2.1: Divide.forward")

    @staticmethod
    def backward(ctx, G):
        raise NotImplementedError("Task 2.1: Divide.backward")


class Sigmoid(Op):
    """y = 1 / (1 + exp(-x))."""

    @staticmethod
    def forward(ctx, x):
        raise NotImplementedError("Task 2.1: Sigmoid.forward")

    @staticmethod
    def backward(ctx, G):
        raise NotImplementedError("Task 2.1: Sigmoid.backward")


class ReLU(Op):
    """y = max(x, 0); its derivative at exactly 0 is 0."""

    @staticmethod
    def forward(ctx, x):
        raise NotImplementedError("Task 2.1: ReLU.forward")

    @staticmethod
    def backward(ctx, G):
        raise NotImplementedError("Task 2.1: ReLU.backward")


class Exp(Op):
    """y = exp(x)."""

    @staticmethod
    def forward(ctx, x):
        raise NotImplementedError("Task 2.1: Exp.forward")

    @staticmethod
    def backward(ctx, G):
        raise NotImplementedError("Task 2.1: Exp.backward")


class Log(Op):
    """y = log(x) (natural log)."""

    @staticmethod
    def forward(ctx, x):
        raise NotImplementedError("Task 2.1: Log.forward")

    @staticmethod
    def backward(ctx, G):
        raise NotImplementedError("Task 2.1: Log.backward")


class MatMul(Op):
    """Z = X @ W with X (n, f) and W (f, m)."""

    @staticmethod
    def forward(ctx, x, w):
        raise NotImplementedError("Task 2.2: MatMul.forward")

    @staticmethod
    def backward(ctx, G):
        raise NotImplementedError("Task 2.2: MatMul.backward")


class Sum(Op):
    """x.sum(axis); axis=None sums everything to a scalar (a 0-d array)."""

    @staticmethod
    def forward(ctx, x, axis=None):
        raise NotImplementedError("Task 2.2: Sum.forward")

    @staticmethod
    def backward(ctx, G):
        raise NotImplementedError("Task 2.2: Sum.backward")


class Expand(Op):
    """Insert a new axis at `axis` and repeat `size` times: (n,) with axis=1, size=16 -> (n, 16)."""

    @staticmethod
    def forward(ctx, x, axis, size):
        raise NotImplementedError("Task 2.2: Expand.forward")

    @staticmethod
    def backward(ctx, G):
        raise NotImplementedError("Task 2.2: Expand.backward")


class Normalize(Op):
    """Rows divided by their sums: x / x.sum(axis=1, keepdims=True)."""

    @staticmethod
    def forward(ctx, x):
        raise NotImplementedError("Task 2.2: Normalize.forward")

    @staticmethod
    def backward(ctx, G):
        raise NotImplementedError("Task 2.2: Normalize.backward")


class Squeeze(Op):
    """Remove the axis `axis` (of size 1)."""

    @staticmethod
    def forward(ctx, x, axis):
        raise NotImplementedError("Task 2.2: Squeeze.forward")

    @staticmethod
    def backward(ctx, G):
        raise NotImplementedError("Task 2.2: Squeeze.backward")


class Unsqueeze(Op):
    """Insert an axis of size 1 at `axis`."""

    @staticmethod
    def forward(ctx, x, axis):
        raise NotImplementedError("Task 2.2: Unsqueeze.forward")

    @staticmethod
    def backward(ctx, G):
        raise NotImplementedError("Task 2.2: Unsqueeze.backward")

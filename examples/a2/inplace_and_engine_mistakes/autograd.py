"""A student's a2 with three mistakes the grader used to miss under some seeds (marked BUG).

Each passes when tried alone on the lucky shape; `dlgrade check a2` fails each by name under every seed:
a Sum gradient broadcast along the wrong axis, a ReLU backward that writes into G, and an engine that
fills .grad on the leaves only.
"""

from __future__ import annotations

import numpy as np


class Tensor:
    """A value in the graph: ``value`` (ndarray) and ``grad`` (None until backward has run)."""

    def __init__(self, value, op=None, ctx=None, parents=()):
        self.value = np.asarray(value, dtype=np.float64)
        self.grad = None
        self.op, self.ctx, self.parents = op, ctx, tuple(parents)

    def backward(self) -> None:
        """Seed d(self)/d(self) = ones, then visit each op once, outputs before inputs."""
        order, seen = [], set()

        def visit(tensor):
            if id(tensor) in seen:
                return
            seen.add(id(tensor))
            for parent in tensor.parents:
                visit(parent)
            order.append(tensor)

        visit(self)
        grads = {id(self): np.ones_like(self.value)}
        for tensor in reversed(order):
            grad = grads.get(id(tensor))
            if grad is None:
                continue
            if tensor.op is None:  # BUG: only leaves get .grad; the handout says every tensor does
                tensor.grad = grad if tensor.grad is None else tensor.grad + grad
                continue
            for parent, parent_grad in zip(tensor.parents, tensor.op.backward(tensor.ctx, grad)):
                grads[id(parent)] = grads[id(parent)] + parent_grad if id(parent) in grads else parent_grad


class Op:
    """An operation: forward computes the value, backward the gradient of each input."""

    @staticmethod
    def forward(ctx: dict, *inputs, **params) -> np.ndarray:
        raise NotImplementedError

    @staticmethod
    def backward(ctx: dict, grad_output) -> tuple:
        raise NotImplementedError

    @classmethod
    def apply(cls, *tensors, **params) -> Tensor:
        ctx: dict = {}
        value = cls.forward(ctx, *(t.value for t in tensors), **params)
        return Tensor(value, op=cls, ctx=ctx, parents=tensors)


class Add(Op):
    """z = x + y; dx = G, dy = G."""

    @staticmethod
    def forward(ctx, x, y):
        return x + y

    @staticmethod
    def backward(ctx, G):
        return G, G


class Multiply(Op):
    """z = x * y; dx = G * y, dy = G * x."""

    @staticmethod
    def forward(ctx, x, y):
        ctx["x"], ctx["y"] = x, y
        return x * y

    @staticmethod
    def backward(ctx, G):
        return G * ctx["y"], G * ctx["x"]


class Divide(Op):
    """z = x / y; dx = G / y, dy = -G * x / y**2."""

    @staticmethod
    def forward(ctx, x, y):
        ctx["x"], ctx["y"] = x, y
        return x / y

    @staticmethod
    def backward(ctx, G):
        x, y = ctx["x"], ctx["y"]
        return G / y, -G * x / y**2


class MatMul(Op):
    """Z = X @ W; dX = G @ W.T, dW = X.T @ G."""

    @staticmethod
    def forward(ctx, x, w):
        ctx["x"], ctx["w"] = x, w
        return x @ w

    @staticmethod
    def backward(ctx, G):
        return G @ ctx["w"].T, ctx["x"].T @ G


class Sum(Op):
    """z = x.sum(axis); dx = G broadcast back to x's shape."""

    @staticmethod
    def forward(ctx, x, axis=None):
        ctx["shape"], ctx["axis"] = x.shape, axis
        return np.asarray(np.sum(x, axis=axis))

    @staticmethod
    def backward(ctx, G):
        return (np.broadcast_to(G, ctx["shape"]).copy(),)  # BUG: right for axis 0 only


class Expand(Op):
    """Insert a new axis and repeat ``size`` times; dx = G summed over that axis."""

    @staticmethod
    def forward(ctx, x, axis, size):
        ctx["axis"] = axis
        return np.repeat(np.expand_dims(x, axis), size, axis=axis)

    @staticmethod
    def backward(ctx, G):
        return (G.sum(axis=ctx["axis"]),)


class Normalize(Op):
    """Z = X / S with S = X.sum(axis=1, keepdims=True); dX = G / S - (G * X).sum(1, keepdims) / S**2."""

    @staticmethod
    def forward(ctx, x):
        s = x.sum(axis=1, keepdims=True)
        ctx["x"], ctx["s"] = x, s
        return x / s

    @staticmethod
    def backward(ctx, G):
        x, s = ctx["x"], ctx["s"]
        return (G / s - (G * x).sum(axis=1, keepdims=True) / s**2,)


class Squeeze(Op):
    """Remove an axis of size 1; dx = G with the axis put back."""

    @staticmethod
    def forward(ctx, x, axis):
        ctx["axis"] = axis
        return np.squeeze(x, axis=axis)

    @staticmethod
    def backward(ctx, G):
        return (np.expand_dims(G, ctx["axis"]),)


class Unsqueeze(Op):
    """Insert an axis of size 1; dx = G with that axis removed."""

    @staticmethod
    def forward(ctx, x, axis):
        ctx["axis"] = axis
        return np.expand_dims(x, axis)

    @staticmethod
    def backward(ctx, G):
        return (np.squeeze(G, axis=ctx["axis"]),)


class Sigmoid(Op):
    """y = 1 / (1 + exp(-x)); dx = G * y * (1 - y)."""

    @staticmethod
    def forward(ctx, x):
        e = np.exp(-np.abs(x))
        y = np.where(x >= 0, 1 / (1 + e), e / (1 + e))
        ctx["y"] = y
        return y

    @staticmethod
    def backward(ctx, G):
        y = ctx["y"]
        return (G * y * (1 - y),)


class ReLU(Op):
    """y = max(x, 0); dx = G where x > 0, else 0."""

    @staticmethod
    def forward(ctx, x):
        ctx["mask"] = x > 0
        return np.where(ctx["mask"], x, 0.0)

    @staticmethod
    def backward(ctx, G):
        G[~ctx["mask"]] = 0.0  # BUG: writes into G, which other ops may share
        return (G,)


class Exp(Op):
    """y = exp(x); dx = G * y."""

    @staticmethod
    def forward(ctx, x):
        ctx["y"] = np.exp(x)
        return ctx["y"]

    @staticmethod
    def backward(ctx, G):
        return (G * ctx["y"],)


class Log(Op):
    """y = log(x); dx = G / x."""

    @staticmethod
    def forward(ctx, x):
        ctx["x"] = x
        return np.log(x)

    @staticmethod
    def backward(ctx, G):
        return (G / ctx["x"],)

"""A correct a2 submission written unlike the reference: einsum, reshape, np.stack, Kahn's topological
order, float32 masks, in-place accumulation into arrays it owns. It must get full marks under every seed.
"""

from __future__ import annotations

from collections import deque

import numpy as np


class Tensor:
    """A value in the graph: ``value`` (ndarray) and ``grad`` (None until backward has run)."""

    def __init__(self, value, op=None, ctx=None, parents=()):
        self.value = np.asarray(value, dtype=np.float64)
        self.grad = None
        self.op, self.ctx, self.parents = op, ctx, tuple(parents)

    def backward(self):
        # Kahn's algorithm: count how many consumers each tensor has inside the graph of self.
        consumers, stack, seen = {}, [self], {id(self)}
        while stack:
            tensor = stack.pop()
            for parent in tensor.parents:
                consumers[id(parent)] = consumers.get(id(parent), 0) + 1
                if id(parent) not in seen:
                    seen.add(id(parent))
                    stack.append(parent)
        totals = {id(self): np.ones(self.value.shape)}
        ready = deque([self])
        while ready:
            tensor = ready.popleft()
            total = totals.pop(id(tensor))
            tensor.grad = total
            if tensor.op is None:
                continue
            for parent, g in zip(tensor.parents, tensor.op.backward(tensor.ctx, total)):
                if id(parent) in totals:
                    totals[id(parent)] += g  # our own copy: adding in place is safe
                else:
                    totals[id(parent)] = np.array(g, dtype=np.float64, copy=True)
                consumers[id(parent)] -= 1
                if consumers[id(parent)] == 0:
                    ready.append(parent)


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
        ctx: dict = {}
        value = cls.forward(ctx, *(t.value for t in tensors), **params)
        return Tensor(value, op=cls, ctx=ctx, parents=tensors)


class Add(Op):
    @staticmethod
    def forward(ctx, x, y):
        return np.add(x, y)

    @staticmethod
    def backward(ctx, G):
        return G.copy(), G.copy()


class Multiply(Op):
    @staticmethod
    def forward(ctx, x, y):
        ctx["xy"] = (x, y)
        return np.multiply(x, y)

    @staticmethod
    def backward(ctx, G):
        x, y = ctx["xy"]
        return np.multiply(G, y), np.multiply(G, x)


class Divide(Op):
    @staticmethod
    def forward(ctx, x, y):
        inv = 1.0 / y
        ctx["x"], ctx["inv"] = x, inv
        return x * inv

    @staticmethod
    def backward(ctx, G):
        scaled = G * ctx["inv"]
        return scaled, -scaled * ctx["x"] * ctx["inv"]


class MatMul(Op):
    @staticmethod
    def forward(ctx, x, w):
        ctx["x"], ctx["w"] = x, w
        return np.einsum("nf,fm->nm", x, w)

    @staticmethod
    def backward(ctx, G):
        return np.einsum("nm,fm->nf", G, ctx["w"]), np.einsum("nf,nm->fm", ctx["x"], G)


class Sum(Op):
    @staticmethod
    def forward(ctx, x, axis=None):
        ctx["shape"], ctx["axis"] = x.shape, axis
        return np.add.reduce(x, axis=axis)

    @staticmethod
    def backward(ctx, G):
        shape = ctx["shape"]
        if ctx["axis"] is None:
            return (np.full(shape, float(G)),)
        kept = list(shape)
        kept[ctx["axis"]] = 1
        return (np.asarray(G).reshape(kept) * np.ones(shape),)


class Expand(Op):
    @staticmethod
    def forward(ctx, x, axis, size):
        ctx["axis"] = axis
        return np.stack([x] * size, axis=axis)

    @staticmethod
    def backward(ctx, G):
        return (np.add.reduce(G, axis=ctx["axis"]),)


class Normalize(Op):
    @staticmethod
    def forward(ctx, x):
        s = np.einsum("ij->i", x)[:, None]
        ctx["x"], ctx["s"] = x, s
        return x / s

    @staticmethod
    def backward(ctx, G):
        x, s = ctx["x"], ctx["s"]
        return ((G - np.einsum("ij,ij->i", G, x)[:, None] / s) / s,)


class Squeeze(Op):
    @staticmethod
    def forward(ctx, x, axis):
        ctx["shape"] = x.shape
        shape = list(x.shape)
        del shape[axis]
        return x.reshape(shape)

    @staticmethod
    def backward(ctx, G):
        return (G.reshape(ctx["shape"]),)


class Unsqueeze(Op):
    @staticmethod
    def forward(ctx, x, axis):
        ctx["shape"] = x.shape
        shape = list(x.shape)
        shape.insert(axis % (x.ndim + 1), 1)
        return x.reshape(shape)

    @staticmethod
    def backward(ctx, G):
        return (G.reshape(ctx["shape"]),)


class Sigmoid(Op):
    @staticmethod
    def forward(ctx, x):
        y = 0.5 * (1.0 + np.tanh(0.5 * x))
        ctx["y"] = y
        return y

    @staticmethod
    def backward(ctx, G):
        y = ctx["y"]
        return (G * y * (1.0 - y),)


class ReLU(Op):
    @staticmethod
    def forward(ctx, x):
        mask = (x > 0).astype(np.float32)  # float32 is exact for 0 and 1; the products stay float64
        ctx["mask"] = mask
        return x * mask

    @staticmethod
    def backward(ctx, G):
        return (G * ctx["mask"],)


class Exp(Op):
    @staticmethod
    def forward(ctx, x):
        y = np.exp(x)
        ctx["y"] = y
        return y

    @staticmethod
    def backward(ctx, G):
        return (G * ctx["y"],)


class Log(Op):
    @staticmethod
    def forward(ctx, x):
        ctx["x"] = x
        return np.log(x)

    @staticmethod
    def backward(ctx, G):
        return (G * np.reciprocal(ctx["x"]),)

"""Reference solution of a1: a neural network from scratch in NumPy.

The grader's oracle: every a1 check compares the student's results with these.
Each layer keeps what its backward needs from the last forward call.
"""

from __future__ import annotations

import numpy as np


class Linear:
    """y = x @ W + b.

    Args:
        in_features: size of each input row.
        out_features: size of each output row.
        rng: generator for the initial weights (a fresh default one if None).
    """

    def __init__(self, in_features: int, out_features: int, rng: np.random.Generator | None = None):
        rng = rng if rng is not None else np.random.default_rng()
        bound = 1.0 / np.sqrt(in_features)
        self.W = rng.uniform(-bound, bound, size=(in_features, out_features))
        self.b = np.zeros(out_features)
        self.dW = np.zeros_like(self.W)
        self.db = np.zeros_like(self.b)
        self.x = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        """x (N, in) -> x @ W + b, shape (N, out)."""
        self.x = x
        return x @ self.W + self.b

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        """grad_out (N, out) -> dL/dx (N, in); sets dW = x.T @ grad_out, db = grad_out.sum(0)."""
        self.dW[...] = self.x.T @ grad_out
        self.db[...] = grad_out.sum(axis=0)
        return grad_out @ self.W.T

    def parameters(self) -> list[tuple[np.ndarray, np.ndarray]]:
        return [(self.W, self.dW), (self.b, self.db)]


class Sigmoid:
    """y = 1 / (1 + exp(-x)); dy/dx = y (1 - y)."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        # exp of a non-positive number only: no overflow for large |x|.
        e = np.exp(-np.abs(x))
        self.y = np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))
        return self.y

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        return grad_out * self.y * (1.0 - self.y)


class ReLU:
    """y = max(x, 0); dy/dx = 1 where x > 0, else 0 (0 at x = 0)."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.mask = x > 0
        return np.where(self.mask, x, 0.0)

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        return np.where(self.mask, grad_out, 0.0)


class Tanh:
    """y = tanh(x); dy/dx = 1 - y**2."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.y = np.tanh(x)
        return self.y

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        return grad_out * (1.0 - self.y**2)


def softmax(x: np.ndarray) -> np.ndarray:
    """Row-wise softmax; subtracting the row max keeps exp finite."""
    z = np.exp(x - x.max(axis=1, keepdims=True))
    return z / z.sum(axis=1, keepdims=True)


def log_softmax(x: np.ndarray) -> np.ndarray:
    shifted = x - x.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


class MSELoss:
    """L = mean((pred - target)**2) over all elements; dL/dpred = 2 (pred - target) / size."""

    def forward(self, pred: np.ndarray, target: np.ndarray) -> float:
        self.diff = pred - target
        return float(np.mean(self.diff**2))

    def backward(self) -> np.ndarray:
        return 2.0 * self.diff / self.diff.size


class CrossEntropyLoss:
    """L = mean over rows of -log softmax(logits)[label]; dL/dlogits = (softmax - onehot) / N."""

    def forward(self, logits: np.ndarray, labels: np.ndarray) -> float:
        self.logits, self.labels = logits, np.asarray(labels, dtype=np.int64)
        n = logits.shape[0]
        return float(-log_softmax(logits)[np.arange(n), self.labels].mean())

    def backward(self) -> np.ndarray:
        n = self.logits.shape[0]
        grad = softmax(self.logits)
        grad[np.arange(n), self.labels] -= 1.0
        return grad / n


def _parameters(layers) -> list[tuple[np.ndarray, np.ndarray]]:
    return [pair for layer in layers if hasattr(layer, "parameters") for pair in layer.parameters()]


class _Optimizer:
    def __init__(self, layers):
        self.layers = list(layers)

    def zero_grad(self) -> None:
        for _, grad in _parameters(self.layers):
            grad[...] = 0.0


class SGD(_Optimizer):
    """p -= lr * g."""

    def __init__(self, layers, lr: float):
        super().__init__(layers)
        self.lr = lr

    def step(self) -> None:
        for p, g in _parameters(self.layers):
            p -= self.lr * g


class Momentum(_Optimizer):
    """v = beta * v + g; p -= lr * v (one v per parameter, kept across steps)."""

    def __init__(self, layers, lr: float, beta: float = 0.9):
        super().__init__(layers)
        self.lr, self.beta = lr, beta
        self.velocity: dict[int, np.ndarray] = {}

    def step(self) -> None:
        for p, g in _parameters(self.layers):
            v = self.velocity.setdefault(id(p), np.zeros_like(p))
            v *= self.beta
            v += g
            p -= self.lr * v


class Adagrad(_Optimizer):
    """G += g**2; p -= lr * g / (sqrt(G) + eps)."""

    def __init__(self, layers, lr: float, eps: float = 1e-8):
        super().__init__(layers)
        self.lr, self.eps = lr, eps
        self.sum_sq: dict[int, np.ndarray] = {}

    def step(self) -> None:
        for p, g in _parameters(self.layers):
            s = self.sum_sq.setdefault(id(p), np.zeros_like(p))
            s += g**2
            p -= self.lr * g / (np.sqrt(s) + self.eps)


class Adam(_Optimizer):
    """PyTorch's Adam: m, v moving averages with bias correction 1 - beta**t."""

    def __init__(self, layers, lr: float = 1e-3, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8):
        super().__init__(layers)
        self.lr, self.beta1, self.beta2, self.eps = lr, beta1, beta2, eps
        self.t = 0
        self.m: dict[int, np.ndarray] = {}
        self.v: dict[int, np.ndarray] = {}

    def step(self) -> None:
        self.t += 1
        for p, g in _parameters(self.layers):
            m = self.m.setdefault(id(p), np.zeros_like(p))
            v = self.v.setdefault(id(p), np.zeros_like(p))
            m[...] = self.beta1 * m + (1 - self.beta1) * g
            v[...] = self.beta2 * v + (1 - self.beta2) * g**2
            m_hat = m / (1 - self.beta1**self.t)
            v_hat = v / (1 - self.beta2**self.t)
            p -= self.lr * m_hat / (np.sqrt(v_hat) + self.eps)

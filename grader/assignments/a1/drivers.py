"""Grader-written helpers for a1 that run INSIDE the sandbox, next to student code.

They exist for speed (a training loop of thousands of steps would cost as many
round trips) and to give optimizers layers whose arrays the grader controls.
They run in the untrusted process, so nothing they return is believed: they
return raw data (parameters, predictions) and the parent judges it. This file
imports only NumPy and is loaded by path, never as part of ``grader``.
"""

import numpy as np


class ParamLayer:
    """A layer with fixed parameter arrays, for testing optimizers in isolation."""

    def __init__(self, shapes, seed):
        rng = np.random.default_rng(seed)
        self.params = [rng.standard_normal(shape) for shape in shapes]
        self.grads = [np.zeros(shape) for shape in shapes]

    def parameters(self):
        return list(zip(self.params, self.grads))

    def set_grads(self, grads):
        for g, new in zip(self.grads, grads):
            g[...] = new

    def values(self):
        return [p.copy() for p in self.params]

    def gradients(self):
        return [g.copy() for g in self.grads]


class NoParamLayer:
    """A layer without ``parameters``: optimizers must skip it."""


def outputs_with_attribute(obj, attr, values, method, args):
    """Set ``obj.attr`` to each value in turn and return ``obj.method(*args)`` each time."""
    outputs = []
    for value in values:
        setattr(obj, attr, value)
        outputs.append(np.array(getattr(obj, method)(*args), dtype=np.float64))
    return outputs


def _initialize(linear, rng):
    """Overwrite the student's initial weights in place, so training depends only on their maths."""
    linear.W[...] = rng.standard_normal(linear.W.shape) / np.sqrt(linear.W.shape[0])
    linear.b[...] = 0.0


def train_sigmoid_mlp(student, x, y, sizes, epochs, lr, seed):
    """Train sizes[0]-...-sizes[-1] sigmoid layers with MSE and SGD; return predictions on x."""
    rng = np.random.default_rng(seed)
    layers = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        linear = student.Linear(fan_in, fan_out, rng=rng)
        _initialize(linear, rng)
        layers += [linear, student.Sigmoid()]
    loss = student.MSELoss()
    optimizer = student.SGD(layers, lr=lr)
    losses = []
    for epoch in range(epochs):
        optimizer.zero_grad()
        out = x
        for layer in layers:
            out = layer.forward(out)
        value = loss.forward(out, y)
        if epoch % max(1, epochs // 20) == 0:
            losses.append(float(value))
        grad = loss.backward()
        for layer in reversed(layers):
            grad = layer.backward(grad)
        optimizer.step()
    out = x
    for layer in layers:
        out = layer.forward(out)
    return np.asarray(out, dtype=np.float64), np.asarray(losses, dtype=np.float64)


def train_softmax_classifier(student, x_train, y_train, x_test, epochs, lr, batch_size, seed):
    """Train Linear + CrossEntropyLoss with minibatch SGD; return test logits (labels stay outside)."""
    rng = np.random.default_rng(seed)
    layer = student.Linear(x_train.shape[1], int(y_train.max()) + 1, rng=rng)
    _initialize(layer, rng)
    loss = student.CrossEntropyLoss()
    optimizer = student.SGD([layer], lr=lr)
    n = x_train.shape[0]
    losses = []
    for _ in range(epochs):
        order = rng.permutation(n)
        total = 0.0
        for start in range(0, n, batch_size):
            idx = order[start:start + batch_size]
            optimizer.zero_grad()
            total += float(loss.forward(layer.forward(x_train[idx]), y_train[idx])) * len(idx)
            layer.backward(loss.backward())
            optimizer.step()
        losses.append(total / n)
    return np.asarray(layer.forward(x_test), dtype=np.float64), np.asarray(losses, dtype=np.float64)


def fill_parameters(layer, values):
    """Write ``values`` into the arrays ``layer.parameters()`` returns, in place."""
    for (value, grad), (new_value, new_grad) in zip(layer.parameters(), values):
        value[...] = new_value
        grad[...] = new_grad

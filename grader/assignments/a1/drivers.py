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


def _parts(student, substitutes):
    """The student's module, with the grader's stand-in for each component named in ``substitutes``.

    ``substitutes`` maps a component name to its source, sent by the parent only to sessions that
    train with it (one mistake counted once, see docs/grading-policy.md); they never exist elsewhere.
    """
    if not substitutes:
        return student
    parts = {name: getattr(student, name) for name in ("Linear", "Sigmoid", "MSELoss", "CrossEntropyLoss", "SGD")
             if hasattr(student, name)}
    for name, source in substitutes.items():
        namespace = {"np": np}
        exec(compile(source, "<grader stand-in>", "exec"), namespace)
        parts[name] = namespace[name]
    return type("Parts", (), parts)


def train_sigmoid_mlp(student, x, y, sizes, epochs, lr, seed, substitutes=None):
    """Train sizes[0]-...-sizes[-1] sigmoid layers with MSE and SGD; return [(W, b)...] and losses.

    The parent computes the predictions from the returned parameters itself.
    """
    parts = _parts(student, substitutes)
    rng = np.random.default_rng(seed)
    layers, linears = [], []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        linear = parts.Linear(fan_in, fan_out, rng=rng)
        _initialize(linear, rng)
        linears.append(linear)
        layers += [linear, parts.Sigmoid()]
    loss = parts.MSELoss()
    optimizer = parts.SGD(layers, lr=lr)
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
    return [[np.asarray(lin.W, dtype=np.float64), np.asarray(lin.b, dtype=np.float64)] for lin in linears], \
        np.asarray(losses, dtype=np.float64)


def train_softmax_classifier(student, x_train, y_train, n_classes, epochs, lr, batch_size, seed, substitutes=None):
    """Train Linear + CrossEntropyLoss with minibatch SGD; return (W, b) and losses (test data stay outside)."""
    parts = _parts(student, substitutes)
    rng = np.random.default_rng(seed)
    layer = parts.Linear(x_train.shape[1], n_classes, rng=rng)
    _initialize(layer, rng)
    loss = parts.CrossEntropyLoss()
    optimizer = parts.SGD([layer], lr=lr)
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
    return [np.asarray(layer.W, dtype=np.float64), np.asarray(layer.b, dtype=np.float64)], \
        np.asarray(losses, dtype=np.float64)


def fill_parameters(layer, values):
    """Write ``values`` into the arrays ``layer.parameters()`` returns, in place."""
    for (value, grad), (new_value, new_grad) in zip(layer.parameters(), values):
        value[...] = new_value
        grad[...] = new_grad

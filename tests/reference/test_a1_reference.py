"""The a1 oracle is itself verified twice: by finite differences and against PyTorch.

Inputs are drawn by Hypothesis in float64. PyTorch is an independent oracle
that the grader never uses at run time; these tests skip without it.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from grader.assignments.a1.optimizers import _Params
from grader.checks.gradcheck import numeric_gradient
from reference.a1 import mlp

torch = pytest.importorskip("torch")

SETTINGS = settings(max_examples=25, deadline=None)
small = st.floats(-5, 5, allow_nan=False, allow_infinity=False)


def batch(max_rows=6, max_cols=6):
    return st.tuples(st.integers(1, max_rows), st.integers(1, max_cols)).flatmap(
        lambda shape: arrays(np.float64, shape, elements=small))


def fd(f, x):
    return numeric_gradient(lambda points: [f(p) for p in points], x)


@SETTINGS
@given(batch(), st.integers(1, 5), st.integers(0, 2**31))
def test_linear_backward(x, out_features, seed):
    rng = np.random.default_rng(seed)
    layer = mlp.Linear(x.shape[1], out_features, rng=rng)
    layer.b[...] = rng.standard_normal(out_features)
    G = rng.standard_normal((x.shape[0], out_features))
    layer.forward(x)
    dx = layer.backward(G)
    tx = torch.tensor(x, requires_grad=True)
    tW = torch.tensor(layer.W, requires_grad=True)
    tb = torch.tensor(layer.b, requires_grad=True)
    (tx @ tW + tb).backward(torch.tensor(G))
    assert np.allclose(dx, tx.grad.numpy()) and np.allclose(layer.dW, tW.grad.numpy())
    assert np.allclose(layer.db, tb.grad.numpy())
    assert np.allclose(dx, fd(lambda p: float(np.sum(G * (p @ layer.W + layer.b))), x), atol=1e-5)


@SETTINGS
@given(batch(), st.sampled_from(["Sigmoid", "ReLU", "Tanh"]), st.integers(0, 2**31))
def test_activations(x, name, seed):
    G = np.random.default_rng(seed).standard_normal(x.shape)
    layer = getattr(mlp, name)()
    y = layer.forward(x)
    dx = layer.backward(G)
    tx = torch.tensor(x, requires_grad=True)
    ty = {"Sigmoid": torch.sigmoid, "ReLU": torch.relu, "Tanh": torch.tanh}[name](tx)
    ty.backward(torch.tensor(G))
    assert np.allclose(y, ty.detach().numpy()) and np.allclose(dx, tx.grad.numpy())
    if name != "ReLU":
        assert np.allclose(dx, fd(lambda p: float(np.sum(G * getattr(mlp, name)().forward(p))), x), atol=1e-5)


@SETTINGS
@given(batch(max_cols=8))
def test_softmax_is_stable_and_matches_torch(x):
    for scale in (1.0, 2e3):
        assert np.allclose(mlp.softmax(x * scale), torch.softmax(torch.tensor(x * scale), dim=1).numpy())


@SETTINGS
@given(batch(), st.integers(0, 2**31))
def test_losses(pred, seed):
    rng = np.random.default_rng(seed)
    target = rng.standard_normal(pred.shape)
    loss = mlp.MSELoss()
    tp = torch.tensor(pred, requires_grad=True)
    tl = torch.nn.functional.mse_loss(tp, torch.tensor(target))
    tl.backward()
    assert np.isclose(loss.forward(pred, target), tl.item()) and np.allclose(loss.backward(), tp.grad.numpy())

    labels = rng.integers(0, pred.shape[1], size=pred.shape[0])
    ce = mlp.CrossEntropyLoss()
    tp = torch.tensor(pred, requires_grad=True)
    tl = torch.nn.functional.cross_entropy(tp, torch.tensor(labels))
    tl.backward()
    assert np.isclose(ce.forward(pred, labels), tl.item()) and np.allclose(ce.backward(), tp.grad.numpy())
    assert np.allclose(ce.backward(), fd(lambda p: mlp.CrossEntropyLoss().forward(p, labels), pred), atol=1e-6)


@pytest.mark.parametrize("name, kwargs, torch_factory", [
    ("SGD", {"lr": 0.1}, lambda p: torch.optim.SGD(p, lr=0.1)),
    ("Momentum", {"lr": 0.05, "beta": 0.8}, lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.8)),
    ("Adagrad", {"lr": 0.1, "eps": 1e-8}, lambda p: torch.optim.Adagrad(p, lr=0.1, eps=1e-8)),
    ("Adam", {"lr": 0.01, "beta1": 0.8, "beta2": 0.9}, lambda p: torch.optim.Adam(p, lr=0.01, betas=(0.8, 0.9))),
])
def test_optimizers_match_torch(name, kwargs, torch_factory):
    rng = np.random.default_rng(0)
    values = [rng.standard_normal((3, 4)), rng.standard_normal(4)]
    layer = _Params(values)
    optimizer = getattr(mlp, name)([layer, object()], **kwargs)
    params = [torch.tensor(v, requires_grad=True) for v in values]
    torch_optimizer = torch_factory(params)
    for _ in range(5):
        grads = [rng.standard_normal(v.shape) for v in values]
        for g, new in zip(layer.grads, grads):
            g[...] = new
        for p, new in zip(params, grads):
            p.grad = torch.tensor(new)
        optimizer.step()
        torch_optimizer.step()
    for mine, theirs in zip(layer.values, params):
        assert np.allclose(mine, theirs.detach().numpy(), rtol=1e-10, atol=1e-12)

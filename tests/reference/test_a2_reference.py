"""The a2 oracle against PyTorch and finite differences, on Hypothesis-drawn inputs."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from grader.assignments.a2.cases import cases
from grader.assignments.a2.ops import CASES, _reference
from grader.checks.gradcheck import numeric_gradient
from reference.a2 import autograd as ref

torch = pytest.importorskip("torch")


def torch_forward(name, inputs, params):
    t = inputs
    if name == "Add":
        return t[0] + t[1]
    if name == "Multiply":
        return t[0] * t[1]
    if name == "Divide":
        return t[0] / t[1]
    if name == "MatMul":
        return t[0] @ t[1]
    if name == "Sum":
        return t[0].sum() if params.get("axis") is None else t[0].sum(dim=params["axis"])
    if name == "Expand":
        return t[0].unsqueeze(params["axis"]).repeat_interleave(params["size"], dim=params["axis"])
    if name == "Normalize":
        return t[0] / t[0].sum(dim=1, keepdim=True)
    if name == "Squeeze":
        return t[0].squeeze(params["axis"])
    if name == "Unsqueeze":
        return t[0].unsqueeze(params["axis"])
    return {"Sigmoid": torch.sigmoid, "ReLU": torch.relu, "Exp": torch.exp, "Log": torch.log}[name](t[0])


@settings(max_examples=15, deadline=None)
@given(st.sampled_from(CASES), st.integers(0, 2**31))
def test_ops_match_torch_and_finite_differences(op, seed):
    """Every case of the op's fixed list, values drawn from Hypothesis' seed."""
    rng = np.random.default_rng(seed)
    for case in cases(op.name, rng):
        inputs, params = list(case.inputs), case.params
        out, _ = _reference(op.name, case)
        G = rng.standard_normal(out.shape)
        _, grads = _reference(op.name, case, G)
        tensors = [torch.tensor(x, requires_grad=True) for x in inputs]
        t_out = torch_forward(op.name, tensors, params)
        assert np.allclose(out, t_out.detach().numpy()), (op.name, case.label)
        t_out.backward(torch.tensor(G))
        for i, (mine, t) in enumerate(zip(grads, tensors)):
            assert np.allclose(mine, t.grad.numpy()), (op.name, case.label, i)
            if op.name != "ReLU":  # not differentiable at its exact zeros
                def evaluate(points, i=i, case=case):
                    return [float(np.sum(G * _reference(op.name, type(case)((*inputs[:i], p, *inputs[i + 1:]),
                                                                            params))[0])) for p in points]
                assert np.allclose(mine, numeric_gradient(evaluate, inputs[i]), atol=1e-5), (op.name, case.label)


def test_case_lists_cover_every_axis_each_run():
    """The seed varies values only: two seeds give the same shapes and parameters."""
    for op in CASES:
        one, two = cases(op.name, np.random.default_rng(1)), cases(op.name, np.random.default_rng(2))
        assert [c.label for c in one] == [c.label for c in two]
        assert any(not np.array_equal(a.inputs[0], b.inputs[0]) for a, b in zip(one, two))
    for name, ndim_extra in (("Sum", 0), ("Expand", 1), ("Squeeze", 0), ("Unsqueeze", 1)):
        seen = {(c.inputs[0].ndim, c.params["axis"]) for c in cases(name, np.random.default_rng(0))}
        for ndim in {n for n, _ in seen}:
            axes = {a for n, a in seen if n == ndim and a is not None}
            assert any(a < 0 for a in axes) or name == "Squeeze" and ndim == 2 or ndim == 1, (name, ndim)
            assert {a % (ndim + ndim_extra) for a in axes} >= set(range(ndim + ndim_extra)) or \
                name == "Squeeze", (name, ndim, axes)


def test_tensor_backward_matches_torch_on_a_diamond():
    rng = np.random.default_rng(0)
    a = rng.uniform(0.5, 2.0, (3, 4))
    leaf = ref.Tensor(a)
    u = ref.Sigmoid.apply(leaf)
    root = ref.Sum.apply(ref.Add.apply(ref.Exp.apply(u), ref.Log.apply(u)))
    root.backward()
    t = torch.tensor(a, requires_grad=True)
    tu = torch.sigmoid(t)
    (torch.exp(tu) + torch.log(tu)).sum().backward()
    assert np.allclose(leaf.grad, t.grad.numpy())

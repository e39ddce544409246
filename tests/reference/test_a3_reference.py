"""The a3 oracle: vectorized conv against the loop version and PyTorch; batch norm against PyTorch."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reference.a3 import batchnorm, conv, conv_loops

torch = pytest.importorskip("torch")
F = torch.nn.functional

problems = st.tuples(st.integers(1, 3), st.integers(1, 3), st.integers(1, 3), st.integers(1, 4), st.integers(1, 4),
                     st.integers(1, 3), st.integers(0, 2), st.integers(0, 2**31))


@settings(max_examples=25, deadline=None)
@given(problems)
def test_conv_matches_loops_and_torch(problem):
    n, c, f, kh, kw, stride, padding, seed = problem
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, c, kh + int(rng.integers(0, 5)), kw + int(rng.integers(0, 5))))
    w, b = rng.standard_normal((f, c, kh, kw)), rng.standard_normal(f)
    y = conv.conv2d_forward(x, w, b, stride, padding)
    assert np.allclose(y, conv_loops.conv2d_forward(x, w, b, stride, padding))
    tx, tw, tb = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    ty = F.conv2d(tx, tw, tb, stride=stride, padding=padding)
    assert np.allclose(y, ty.detach().numpy())
    G = rng.standard_normal(y.shape)
    ty.backward(torch.tensor(G))
    mine, loops = conv.conv2d_backward(G, x, w, b, stride, padding), conv_loops.conv2d_backward(G, x, w, b, stride,
                                                                                              padding)
    for a, b_, t in zip(mine, loops, (tx, tw, tb)):
        assert np.allclose(a, b_) and np.allclose(a, t.grad.numpy())


@settings(max_examples=25, deadline=None)
@given(st.sampled_from([(2, 2), (3, 1), (2, 1), (3, 2)]), st.integers(0, 2**31))
def test_maxpool_matches_torch_and_loops_with_ties(kernel_stride, seed):
    kernel, stride = kernel_stride
    rng = np.random.default_rng(seed)
    x = np.round(rng.standard_normal((2, 2, 7, 6)))
    tx = torch.tensor(x, requires_grad=True)
    ty = F.max_pool2d(tx, kernel, stride)
    assert np.allclose(conv.maxpool2d_forward(x, kernel, stride), ty.detach().numpy())
    G = rng.standard_normal(ty.shape)
    assert np.allclose(conv.maxpool2d_backward(G, x, kernel, stride), conv_loops.maxpool2d_backward(G, x, kernel,
                                                                                                     stride))


@settings(max_examples=20, deadline=None)
@given(st.integers(1, 3), st.integers(1, 3), st.integers(1, 4), st.integers(0, 6), st.integers(0, 2**31))
def test_conv1d_matrix_matches_torch(c_out, c_in, k, extra, seed):
    rng = np.random.default_rng(seed)
    length = k + extra
    w, x = rng.standard_normal((c_out, c_in, k)), rng.standard_normal((c_in, length))
    y = F.conv1d(torch.tensor(x)[None], torch.tensor(w))[0].numpy()
    assert np.allclose(conv.conv1d_matrix(w, length) @ x.ravel(), y.ravel())
    g = rng.standard_normal(y.shape)
    tx = torch.tensor(x, requires_grad=True)
    F.conv1d(tx[None], torch.tensor(w))[0].backward(torch.tensor(g))
    assert np.allclose(conv.conv1d_backward_matrix(w, length) @ g.ravel(), tx.grad.numpy().ravel())


@pytest.mark.parametrize("shape", [(5, 4), (4, 3, 2, 3), (2, 1)])
def test_batchnorm_matches_torch(shape):
    rng = np.random.default_rng(1)
    x, c = rng.standard_normal(shape), shape[1]
    gamma, beta, rm, rv = rng.uniform(0.5, 2, c), rng.standard_normal(c), rng.standard_normal(c), rng.uniform(0.5, 2, c)
    tx = torch.tensor(x, requires_grad=True)
    tg, tb = torch.tensor(gamma, requires_grad=True), torch.tensor(beta, requires_grad=True)
    trm, trv = torch.tensor(rm.copy()), torch.tensor(rv.copy())
    ty = F.batch_norm(tx, trm, trv, tg, tb, training=True, momentum=0.1, eps=1e-5)
    out, cache = batchnorm.batchnorm_forward(x, gamma, beta, rm, rv, True)
    assert np.allclose(out, ty.detach().numpy()) and np.allclose(rm, trm.numpy()) and np.allclose(rv, trv.numpy())
    G = rng.standard_normal(shape)
    ty.backward(torch.tensor(G))
    for mine, theirs in zip(batchnorm.batchnorm_backward(G, cache), (tx, tg, tb)):
        assert np.allclose(mine, theirs.grad.numpy())
    eval_out, _ = batchnorm.batchnorm_forward(x, gamma, beta, rm, rv, False)
    assert np.allclose(eval_out, F.batch_norm(torch.tensor(x), trm, trv, tg, tb, training=False).detach().numpy())

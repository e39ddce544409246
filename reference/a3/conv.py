"""Reference solution of a3's conv.py: convolution, max pooling, convolution as a matrix.

Vectorized: windows are a strided view of the padded input (no copies until
the matrix product), so forward and backward are one BLAS call each plus a
loop over the KH*KW kernel offsets. ``conv_loops.py`` is the plain loop
version these are tested against. Layouts: x (N, C, H, W), w (F, C, KH, KW).
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


def _windows(x: np.ndarray, kh: int, kw: int, stride: int, padding: int) -> np.ndarray:
    """(N, C, H_out, W_out, KH, KW) view of the padded input's receptive fields."""
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    return sliding_window_view(xp, (kh, kw), axis=(2, 3))[:, :, ::stride, ::stride]


def conv2d_forward(x, w, b, stride=1, padding=0):
    """out[n, f, i, j] = sum_{c, p, q} x_pad[n, c, i*s + p, j*s + q] * w[f, c, p, q] + b[f] (cross-correlation)."""
    n, f = x.shape[0], w.shape[0]
    win = _windows(x, w.shape[2], w.shape[3], stride, padding)
    ho, wo = win.shape[2], win.shape[3]
    cols = win.transpose(0, 2, 3, 1, 4, 5).reshape(n * ho * wo, -1)
    out = cols @ w.reshape(f, -1).T + b
    return out.reshape(n, ho, wo, f).transpose(0, 3, 1, 2)


def conv2d_backward(grad_out, x, w, b, stride=1, padding=0):
    """Return (dx, dw, db) for conv2d_forward(x, w, b, stride, padding) and upstream grad_out."""
    n, c, h, wd = x.shape
    f, _, kh, kw = w.shape
    win = _windows(x, kh, kw, stride, padding)
    ho, wo = win.shape[2], win.shape[3]
    g = grad_out.transpose(0, 2, 3, 1).reshape(n * ho * wo, f)
    cols = win.transpose(0, 2, 3, 1, 4, 5).reshape(n * ho * wo, -1)
    dw = (g.T @ cols).reshape(w.shape)
    db = grad_out.sum(axis=(0, 2, 3))
    dcols = (g @ w.reshape(f, -1)).reshape(n, ho, wo, c, kh, kw)
    dxp = np.zeros((n, c, h + 2 * padding, wd + 2 * padding))
    for p in range(kh):
        for q in range(kw):
            dxp[:, :, p:p + stride * ho:stride, q:q + stride * wo:stride] += dcols[..., p, q].transpose(0, 3, 1, 2)
    dx = dxp[:, :, padding:padding + h, padding:padding + wd]
    return dx, dw, db


def maxpool2d_forward(x, kernel=2, stride=2):
    """Max over each kernel x kernel window."""
    win = sliding_window_view(x, (kernel, kernel), axis=(2, 3))[:, :, ::stride, ::stride]
    return win.max(axis=(4, 5))


def maxpool2d_backward(grad_out, x, kernel=2, stride=2):
    """Route each gradient to its window's maximum; ties go to the first maximum in row-major order."""
    win = sliding_window_view(x, (kernel, kernel), axis=(2, 3))[:, :, ::stride, ::stride]
    n, c, ho, wo = win.shape[:4]
    first = win.reshape(n, c, ho, wo, kernel * kernel).argmax(axis=4)  # argmax returns the first maximum
    rows = np.arange(ho)[None, None, :, None] * stride + first // kernel
    cols = np.arange(wo)[None, None, None, :] * stride + first % kernel
    dx = np.zeros_like(x, dtype=np.float64)
    nn, cc = np.meshgrid(np.arange(n), np.arange(c), indexing="ij")
    np.add.at(dx, (nn[:, :, None, None], cc[:, :, None, None], rows, cols), grad_out)
    return dx


def conv1d_matrix(w, length):
    """A with Y.flatten() == A @ X.flatten() for a stride-1, unpadded 1-D cross-correlation.

    X is (C_in, length), Y is (C_out, length - K + 1), both flattened channel-major.
    """
    c_out, c_in, k = w.shape
    l_out = length - k + 1
    a = np.zeros((c_out * l_out, c_in * length))
    o, c, t, p = np.meshgrid(np.arange(c_out), np.arange(c_in), np.arange(l_out), np.arange(k), indexing="ij")
    a[o * l_out + t, c * length + t + p] = w[o, c, p]
    return a


def conv1d_backward_matrix(w, length):
    """B with dL/dX.flatten() == B @ dL/dY.flatten(): the transpose of conv1d_matrix."""
    return conv1d_matrix(w, length).T

"""Plain loop versions of conv2d and max pooling: slow, obviously right, for testing conv.py."""

from __future__ import annotations

import numpy as np


def conv2d_forward(x, w, b, stride=1, padding=0):
    n, c, h, wd = x.shape
    f, _, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    ho, wo = (h + 2 * padding - kh) // stride + 1, (wd + 2 * padding - kw) // stride + 1
    out = np.zeros((n, f, ho, wo))
    for i in range(n):
        for o in range(f):
            for r in range(ho):
                for s in range(wo):
                    window = xp[i, :, r * stride:r * stride + kh, s * stride:s * stride + kw]
                    out[i, o, r, s] = np.sum(window * w[o]) + b[o]
    return out


def conv2d_backward(grad_out, x, w, b, stride=1, padding=0):
    n, c, h, wd = x.shape
    f, _, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    dxp, dw = np.zeros_like(xp), np.zeros_like(w)
    for i in range(n):
        for o in range(f):
            for r in range(grad_out.shape[2]):
                for s in range(grad_out.shape[3]):
                    g = grad_out[i, o, r, s]
                    rows, cols = slice(r * stride, r * stride + kh), slice(s * stride, s * stride + kw)
                    dw[o] += g * xp[i, :, rows, cols]
                    dxp[i, :, rows, cols] += g * w[o]
    return dxp[:, :, padding:padding + h, padding:padding + wd], dw, grad_out.sum(axis=(0, 2, 3))


def maxpool2d_backward(grad_out, x, kernel=2, stride=2):
    dx = np.zeros_like(x)
    n, c, ho, wo = grad_out.shape
    for i in range(n):
        for ch in range(c):
            for r in range(ho):
                for s in range(wo):
                    window = x[i, ch, r * stride:r * stride + kernel, s * stride:s * stride + kernel]
                    p, q = divmod(int(np.argmax(window)), kernel)
                    dx[i, ch, r * stride + p, s * stride + q] += grad_out[i, ch, r, s]
    return dx

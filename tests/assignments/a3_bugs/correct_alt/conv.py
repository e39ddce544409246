"""A correct a3 conv.py written unlike the reference: a loop over kernel offsets with einsum
(no im2col), pooling by comparing shifted views, conv1d built row by row."""

import numpy as np


def _pad(x, p):
    if p == 0:
        return x
    out = np.zeros(x.shape[:2] + (x.shape[2] + 2 * p, x.shape[3] + 2 * p), dtype=x.dtype)
    out[:, :, p:-p, p:-p] = x
    return out


def _out_size(size, k, stride, padding):
    return (size + 2 * padding - k) // stride + 1


def conv2d_forward(x, w, b, stride=1, padding=0):
    n, c, h, wd = x.shape
    f, _, kh, kw = w.shape
    ho, wo = _out_size(h, kh, stride, padding), _out_size(wd, kw, stride, padding)
    xp = _pad(x, padding)
    out = np.empty((n, f, ho, wo))
    out[...] = b.reshape(1, f, 1, 1)
    for p in range(kh):
        for q in range(kw):
            patch = xp[:, :, p:p + stride * (ho - 1) + 1:stride, q:q + stride * (wo - 1) + 1:stride]
            out += np.einsum("nchw,fc->nfhw", patch, w[:, :, p, q])
    return out


def conv2d_backward(grad_out, x, w, b, stride=1, padding=0):
    n, c, h, wd = x.shape
    f, _, kh, kw = w.shape
    ho, wo = grad_out.shape[2], grad_out.shape[3]
    xp = _pad(x, padding)
    dxp = np.zeros_like(xp, dtype=np.float64)
    dw = np.zeros(w.shape)
    for p in range(kh):
        for q in range(kw):
            rows = slice(p, p + stride * (ho - 1) + 1, stride)
            cols = slice(q, q + stride * (wo - 1) + 1, stride)
            dw[:, :, p, q] = np.einsum("nfhw,nchw->fc", grad_out, xp[:, :, rows, cols])
            dxp[:, :, rows, cols] += np.einsum("nfhw,fc->nchw", grad_out, w[:, :, p, q])
    dx = dxp[:, :, padding:padding + h, padding:padding + wd]
    db = np.einsum("nfhw->f", grad_out)
    return dx, dw, db


def maxpool2d_forward(x, kernel=2, stride=2):
    n, c, h, w = x.shape
    ho, wo = (h - kernel) // stride + 1, (w - kernel) // stride + 1
    best = np.full((n, c, ho, wo), -np.inf)
    for p in range(kernel):
        for q in range(kernel):
            best = np.maximum(best, x[:, :, p:p + stride * (ho - 1) + 1:stride, q:q + stride * (wo - 1) + 1:stride])
    return best


def maxpool2d_backward(grad_out, x, kernel=2, stride=2):
    n, c, h, w = x.shape
    ho, wo = grad_out.shape[2], grad_out.shape[3]
    best = maxpool2d_forward(x, kernel, stride)
    taken = np.zeros((n, c, ho, wo), dtype=bool)
    dx = np.zeros(x.shape)
    for p in range(kernel):  # row-major order over the window: the first maximum wins
        for q in range(kernel):
            rows = slice(p, p + stride * (ho - 1) + 1, stride)
            cols = slice(q, q + stride * (wo - 1) + 1, stride)
            hit = (x[:, :, rows, cols] == best) & ~taken
            taken |= hit
            dx[:, :, rows, cols] += np.where(hit, grad_out, 0.0)
    return dx


def conv1d_matrix(w, length):
    c_out, c_in, k = w.shape
    l_out = length - k + 1
    rows = []
    for o in range(c_out):
        for t in range(l_out):
            row = np.zeros((c_in, length))
            row[:, t:t + k] = w[o]
            rows.append(row.ravel())
    return np.array(rows)


def conv1d_backward_matrix(w, length):
    return np.ascontiguousarray(conv1d_matrix(w, length).T)

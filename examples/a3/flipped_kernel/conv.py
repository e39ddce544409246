"""A student's a3 conv.py that computes a true convolution (the kernel flipped): a classic mistake.

This student has not written batchnorm.py yet: its checks report it missing."""

import numpy as np


def conv2d_forward(x, w, b, stride=1, padding=0):
    N, C, H, W = x.shape
    F, _, KH, KW = w.shape
    x = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    H_out = (H + 2 * padding - KH) // stride + 1
    W_out = (W + 2 * padding - KW) // stride + 1
    out = np.zeros((N, F, H_out, W_out))
    for n in range(N):
        for f in range(F):
            for i in range(H_out):
                for j in range(W_out):
                    total = b[f]
                    for c in range(C):
                        for p in range(KH):
                            for q in range(KW):
                                total += x[n, c, i * stride + p, j * stride + q] * w[f, c, KH - 1 - p, KW - 1 - q]  # BUG
                    out[n, f, i, j] = total
    return out


def conv2d_backward(grad_out, x, w, b, stride=1, padding=0):
    N, C, H, W = x.shape
    F, _, KH, KW = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    dxp = np.zeros_like(xp)
    dw = np.zeros_like(w)
    db = np.zeros_like(b)
    for n in range(N):
        for f in range(F):
            for i in range(grad_out.shape[2]):
                for j in range(grad_out.shape[3]):
                    g = grad_out[n, f, i, j]
                    db[f] += g
                    for c in range(C):
                        for p in range(KH):
                            for q in range(KW):
                                dw[f, c, p, q] += g * xp[n, c, i * stride + p, j * stride + q]
                                dxp[n, c, i * stride + p, j * stride + q] += g * w[f, c, p, q]
    return dxp[:, :, padding:padding + H, padding:padding + W], dw, db


def maxpool2d_forward(x, kernel=2, stride=2):
    N, C, H, W = x.shape
    H_out, W_out = (H - kernel) // stride + 1, (W - kernel) // stride + 1
    out = np.zeros((N, C, H_out, W_out))
    for i in range(H_out):
        for j in range(W_out):
            out[:, :, i, j] = x[:, :, i * stride:i * stride + kernel, j * stride:j * stride + kernel].max(axis=(2, 3))
    return out


def maxpool2d_backward(grad_out, x, kernel=2, stride=2):
    dx = np.zeros_like(x)
    N, C, H_out, W_out = grad_out.shape
    for n in range(N):
        for c in range(C):
            for i in range(H_out):
                for j in range(W_out):
                    window = x[n, c, i * stride:i * stride + kernel, j * stride:j * stride + kernel]
                    p, q = np.unravel_index(np.argmax(window), window.shape)
                    dx[n, c, i * stride + p, j * stride + q] += grad_out[n, c, i, j]
    return dx


def conv1d_matrix(w, length):
    C_out, C_in, K = w.shape
    L_out = length - K + 1
    A = np.zeros((C_out * L_out, C_in * length))
    for o in range(C_out):
        for t in range(L_out):
            for c in range(C_in):
                for k in range(K):
                    A[o * L_out + t, c * length + t + k] = w[o, c, k]
    return A


def conv1d_backward_matrix(w, length):
    return conv1d_matrix(w, length).T

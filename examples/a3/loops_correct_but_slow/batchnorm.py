"""A student's batchnorm.py (correct).

Statistics are per feature for (N, D) inputs and per channel for (N, C, H, W).
Training mode uses the batch mean and biased variance and updates the running
statistics in place as PyTorch does (momentum 0.1 weights the NEW value; the
running variance uses the unbiased batch variance).
"""

from __future__ import annotations

import numpy as np


def _axes(x: np.ndarray) -> tuple[int, ...]:
    return (0,) if x.ndim == 2 else (0, 2, 3)


def _shape(x: np.ndarray, v: np.ndarray) -> np.ndarray:
    return v if x.ndim == 2 else v.reshape(1, -1, 1, 1)


def batchnorm_forward(x, gamma, beta, running_mean, running_var, training, momentum=0.1, eps=1e-5):
    """out = gamma * (x - mean) / sqrt(var + eps) + beta; returns (out, cache)."""
    axes = _axes(x)
    if training:
        mean, var = x.mean(axis=axes), x.var(axis=axes)
        m = x.size // mean.size
        running_mean[...] = (1 - momentum) * running_mean + momentum * mean
        running_var[...] = (1 - momentum) * running_var + momentum * var * m / (m - 1)
    else:
        mean, var = running_mean, running_var
    inv_std = 1.0 / np.sqrt(var + eps)
    x_hat = (x - _shape(x, mean)) * _shape(x, inv_std)
    out = _shape(x, gamma) * x_hat + _shape(x, beta)
    return out, (x_hat, gamma, inv_std, axes)


def batchnorm_backward(grad_out, cache):
    """(dx, dgamma, dbeta) in training mode: the mean and variance depend on x too."""
    x_hat, gamma, inv_std, axes = cache
    m = grad_out.size // gamma.size
    dbeta = grad_out.sum(axis=axes)
    dgamma = (grad_out * x_hat).sum(axis=axes)
    shape = (lambda v: v) if len(axes) == 1 else (lambda v: v.reshape(1, -1, 1, 1))
    d_hat = grad_out * shape(gamma)
    dx = shape(inv_std) / m * (m * d_hat - shape(d_hat.sum(axis=axes)) - x_hat * shape((d_hat * x_hat).sum(axis=axes)))
    return dx, dgamma, dbeta

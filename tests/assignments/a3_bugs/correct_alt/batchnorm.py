"""A correct a3 batchnorm.py written unlike the reference: 4-D inputs moved to (N*H*W, C) and back,
the backward through the explicit mean and variance terms."""

import numpy as np


def _to_2d(x):
    if x.ndim == 2:
        return x, None
    n, c, h, w = x.shape
    return x.transpose(0, 2, 3, 1).reshape(-1, c), (n, c, h, w)


def _from_2d(y, shape):
    if shape is None:
        return y
    n, c, h, w = shape
    return y.reshape(n, h, w, c).transpose(0, 3, 1, 2)


def batchnorm_forward(x, gamma, beta, running_mean, running_var, training, momentum=0.1, eps=1e-5):
    flat, shape = _to_2d(x)
    m = flat.shape[0]
    if training:
        mu = flat.sum(axis=0) / m
        var = ((flat - mu) ** 2).sum(axis=0) / m
        running_mean *= 1 - momentum
        running_mean += momentum * mu
        running_var *= 1 - momentum
        running_var += momentum * var * (m / (m - 1))
    else:
        mu, var = running_mean.copy(), running_var.copy()
    std = np.sqrt(var + eps)
    xhat = (flat - mu) / std
    out = _from_2d(xhat * gamma + beta, shape)
    return out, {"xhat": xhat, "std": std, "gamma": gamma, "shape": shape, "centered": flat - mu}


def batchnorm_backward(grad_out, cache):
    g, shape = _to_2d(grad_out)
    xhat, std, gamma, centered = cache["xhat"], cache["std"], cache["gamma"], cache["centered"]
    m = g.shape[0]
    dbeta = g.sum(axis=0)
    dgamma = (g * xhat).sum(axis=0)
    dxhat = g * gamma
    dvar = (dxhat * centered).sum(axis=0) * -0.5 * std**-3
    dmu = -(dxhat / std).sum(axis=0) + dvar * (-2.0 / m) * centered.sum(axis=0)
    dx = dxhat / std + dvar * 2.0 * centered / m + dmu / m
    return _from_2d(dx, shape), dgamma, dbeta

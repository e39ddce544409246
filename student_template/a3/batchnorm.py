"""a3 — Batch normalization by hand (NumPy only).

x is (N, D) (statistics per feature) or (N, C, H, W) (statistics per channel, over N, H, W).
"""

from __future__ import annotations

import numpy as np


def batchnorm_forward(x, gamma, beta, running_mean, running_var, training, momentum=0.1, eps=1e-5):
    """-> (out, cache).

    Training mode: normalize with the batch mean and the BIASED batch variance, and update
    running_mean and running_var IN PLACE as PyTorch does:
        running_mean = (1 - momentum) * running_mean + momentum * batch_mean
        running_var  = (1 - momentum) * running_var  + momentum * UNBIASED batch variance
    Eval mode: normalize with running_mean and running_var, and change nothing.
    """
    raise NotImplementedError("Task 3.5: batchnorm_forward")


def batchnorm_backward(grad_out, cache):
    """-> (dx, dgamma, dbeta), training mode (the batch statistics depend on x)."""
    raise NotImplementedError("Task 3.5: batchnorm_backward")

"""a3 — Convolution and pooling by hand (NumPy only).

Layouts: x (N, C, H, W), w (F, C, KH, KW), b (F,). conv2d is a CROSS-correlation, like
torch.nn.functional.conv2d: the kernel is not flipped. H_out = (H + 2*padding - KH) // stride + 1.
Check your work with:  dlgrade check a3 path/to/your/folder   (or --task 3.1)
The grader also times conv2d on a 16x3x32x32 batch: vectorize your loops.
"""

from __future__ import annotations

import numpy as np


def conv2d_forward(x, w, b, stride=1, padding=0):
    """-> out of shape (N, F, H_out, W_out)."""
    raise NotImplementedError("Task 3.1: conv2d_forward")


def conv2d_backward(grad_out, x, w, b, stride=1, padding=0):
    """-> (dx, dw, db), the gradients of the loss with respect to x, w and b."""
    raise NotImplementedError("Task 3.2: conv2d_backward")


def maxpool2d_forward(x, kernel=2, stride=2):
    """-> (N, C, H_out, W_out), the maximum of each kernel x kernel window."""
    raise NotImplementedError("Task 3.3: maxpool2d_forward")


def maxpool2d_backward(grad_out, x, kernel=2, stride=2):
    """-> dx. Each window's gradient goes to its maximum; ties: the FIRST maximum in row-major order."""
    raise NotImplementedError("Task 3.3: maxpool2d_backward")


def conv1d_matrix(w, length):
    """w (C_out, C_in, K), no padding, stride 1 -> A with Y.flatten() == A @ X.flatten(),
    X (C_in, length) and Y (C_out, length - K + 1), both flattened channel-major (row-major)."""
    raise NotImplementedError("Task 3.4: conv1d_matrix")


def conv1d_backward_matrix(w, length):
    """-> B with dL/dX.flatten() == B @ dL/dY.flatten()."""
    raise NotImplementedError("Task 3.4: conv1d_backward_matrix")

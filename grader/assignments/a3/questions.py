"""The numeric, matrix and formula questions of a3: every value they state, and the truths.

Truths are computed from the stated values (the batch-norm matrices with the
reference implementation), never typed in.
"""

from __future__ import annotations

import math

import numpy as np

from grader.authoring import Tolerance
from reference.a3 import batchnorm as ref_bn

EXACT = Tolerance(rtol=0.0, atol=1e-9)
THREE_FIGURES = Tolerance(digits=3)

# [cnn_block]: Conv2d(3->16, 3x3, stride 1, padding 1) -> ReLU -> Conv2d(16->32, 3x3, stride 2, padding 1)
BLOCK_INPUT = (3, 32, 32)
BLOCK_LAYERS = ((3, 16, 3, 1, 1), (16, 32, 3, 2, 1))  # (in, out, kernel, stride, padding)


def _block():
    c, h, w = BLOCK_INPUT
    params = macs = 0
    for c_in, c_out, k, s, p in BLOCK_LAYERS:
        h, w = (h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1
        params += c_in * c_out * k * k
        macs += c_out * h * w * c_in * k * k
        c = c_out
    before = math.prod(BLOCK_INPUT)
    return params, macs, 100.0 * (c * h * w - before) / before


BLOCK_PARAMS, BLOCK_MACS, BLOCK_MEMORY_CHANGE = _block()

# [batchnorm_numeric]: normalize each column (feature) of X with the batch mean and biased variance, eps = 0.
BN_X = np.array([[1.0, 2.0, 3.0, 4.0], [3.0, 2.0, 1.0, 0.0], [5.0, 8.0, 2.0, 6.0]])
BN_GAMMA = np.array([1.0, 2.0, 0.5, 1.0])
BN_BETA = np.array([0.0, 1.0, -1.0, 0.5])
BN_Z_HAT, _ = ref_bn.batchnorm_forward(BN_X, np.ones(4), np.zeros(4), np.zeros(4), np.ones(4), True, eps=0.0)
BN_Y = BN_GAMMA * BN_Z_HAT + BN_BETA
BN_Z_HAT_UNBIASED = (BN_X - BN_X.mean(0)) / BN_X.std(0, ddof=1)
BN_Z_HAT_ROWS = (BN_X - BN_X.mean(1, keepdims=True)) / BN_X.std(1, keepdims=True)

# [training_iterations]: N samples, batch size B, E epochs; the last smaller batch is kept.
N_SAMPLES, BATCH, EPOCHS = 50_000, 128, 10
BATCHES_PER_EPOCH = math.ceil(N_SAMPLES / BATCH)
TOTAL_ITERATIONS = BATCHES_PER_EPOCH * EPOCHS

# [cross_entropy]: softmax output p for one example whose true class is 0; natural log.
CE_PROBS = (0.7, 0.2, 0.1)
CE_VALUE = -math.log(CE_PROBS[0])

# [mlp_parameters]: fully connected D_in -> H_1 -> H_2 -> D_out, every layer with a bias.
MLP_SYMBOLS = ("D_in", "H_1", "H_2", "D_out")
MLP_COUNT = "D_in * H_1 + H_1 + H_1 * H_2 + H_2 + H_2 * D_out + D_out"
MLP_NO_BIAS = "D_in * H_1 + H_1 * H_2 + H_2 * D_out"

DESCRIPTION = f"""\
[cnn_block] A block Conv2d(3->16, 3x3, stride 1, padding 1) -> ReLU -> Conv2d(16->32, 3x3, stride 2,
  padding 1) on one input image of 3x32x32.
  params = number of weights, biases EXCLUDED; macs = multiply-adds of both convolutions;
  memory_change_percent = percent change of the feature map's size from the input (3x32x32) to the
  block's output (a number like 50.0 for +50%).
[batchnorm_numeric] X = {BN_X.tolist()} (3 samples, 4 features), gamma = {BN_GAMMA.tolist()},
  beta = {BN_BETA.tolist()}, eps = 0, batch mean and biased variance per feature (column).
  z_hat = the normalized 3x4 matrix; y = gamma * z_hat + beta (3x4). Three decimals suffice.
[training_iterations] N = {N_SAMPLES} samples, batch size B = {BATCH}, E = {EPOCHS} epochs, the last smaller
  batch is kept. batches_per_epoch, total_iterations.
[cross_entropy] A softmax output p = {list(CE_PROBS)} for an example of true class 0: loss (natural log).
[mlp_parameters] count = the number of parameters (weights and biases) of a fully connected network
  D_in -> H_1 -> H_2 -> D_out, as a formula in D_in, H_1, H_2, D_out (e.g. "D_in * H_1 + ...").
"""

"""The matrix and formula questions of a3: every value they state, and the truths.

The batch-norm matrices are computed from the stated values with the reference
implementation, never typed in. The other answers are formulas in named sizes;
``tests/assignments/test_a3_checks.py`` checks the block's formulas against a
convolution run on arrays of those sizes.
"""

from __future__ import annotations

import numpy as np

from reference.a3 import batchnorm as ref_bn

# [cnn_block]: Conv2d(C_in->C_1, KxK, stride 1, padding (K-1)/2) -> ReLU -> Conv2d(C_1->C_2, KxK, stride 2,
# padding (K-1)/2) on one C_in x H x W input, K odd, H and W even: the output is C_2 x H/2 x W/2. Formulas.
BLOCK_SYMBOLS = ("C_in", "C_1", "C_2", "K", "H", "W")
BLOCK_ODD, BLOCK_EVEN = ("K",), ("H", "W")  # so that the block's sizes are exact, as the question states
BLOCK_PARAMS = "C_in * C_1 * K**2 + C_1 * C_2 * K**2"
BLOCK_MACS = "C_1 * H * W * C_in * K**2 + C_2 * (H / 2) * (W / 2) * C_1 * K**2"
BLOCK_MEMORY_CHANGE = "100 * (C_2 * (H / 2) * (W / 2) - C_in * H * W) / (C_in * H * W)"
# Known wrong answers (the hints are in answers.py: the student build keeps them, not these formulas).
BLOCK_PARAMS_MISTAKES = {
    "biases": "C_in * C_1 * K**2 + C_1 + C_1 * C_2 * K**2 + C_2",
    "first only": "C_in * C_1 * K**2",
    "second only": "C_1 * C_2 * K**2",
    "K not squared": "C_in * C_1 * K + C_1 * C_2 * K",
}
BLOCK_MACS_MISTAKES = {
    "stride ignored": "C_1 * H * W * C_in * K**2 + C_2 * H * W * C_1 * K**2",
    "first only": "C_1 * H * W * C_in * K**2",
    "second only": "C_2 * (H / 2) * (W / 2) * C_1 * K**2",
    "weights only": BLOCK_PARAMS,
}
BLOCK_MEMORY_MISTAKES = {
    "ratio": "100 * C_2 * (H / 2) * (W / 2) / (C_in * H * W)",
    "fraction": "(C_2 * (H / 2) * (W / 2) - C_in * H * W) / (C_in * H * W)",
    "sign": "100 * (C_in * H * W - C_2 * (H / 2) * (W / 2)) / (C_in * H * W)",
    "over the output": "100 * (C_2 * (H / 2) * (W / 2) - C_in * H * W) / (C_2 * (H / 2) * (W / 2))",
    "stride ignored": "100 * (C_2 - C_in) / C_in",
    "first output": "100 * (C_1 - C_in) / C_in",
}

# [batchnorm_numeric]: normalize each column (feature) of X with the batch mean and biased variance, eps = 0.
BN_X = np.array([[1.0, 2.0, 3.0, 4.0], [3.0, 2.0, 1.0, 0.0], [5.0, 8.0, 2.0, 6.0]])
BN_GAMMA = np.array([1.0, 2.0, 0.5, 1.0])
BN_BETA = np.array([0.0, 1.0, -1.0, 0.5])
BN_Z_HAT, _ = ref_bn.batchnorm_forward(BN_X, np.ones(4), np.zeros(4), np.zeros(4), np.ones(4), True, eps=0.0)
BN_Y = BN_GAMMA * BN_Z_HAT + BN_BETA
BN_Z_HAT_UNBIASED = (BN_X - BN_X.mean(0)) / BN_X.std(0, ddof=1)
BN_Z_HAT_ROWS = (BN_X - BN_X.mean(1, keepdims=True)) / BN_X.std(1, keepdims=True)

# [training_iterations]: N samples, batch size B, E epochs; the last smaller batch is kept. Formulas.
BATCH_SYMBOLS = ("N", "B", "E")
BATCHES_PER_EPOCH = "ceil(N / B)"
TOTAL_ITERATIONS = "E * ceil(N / B)"
BATCHES_MISTAKES = {"no rounding": "N / B", "floor": "floor(N / B)", "plus one": "floor(N / B) + 1"}
TOTAL_MISTAKES = {"no rounding": "E * N / B", "floor": "E * floor(N / B)", "rounded once": "ceil(E * N / B)",
                  "plus one": "E * (floor(N / B) + 1)"}

# [cross_entropy]: the loss of one example of true class 0 from its logits z_0, z_1, z_2 (softmax, then minus
# the natural log of class 0's probability). A formula.
CE_SYMBOLS = ("z_0", "z_1", "z_2")
CE_LOSS = "-z_0 + log(exp(z_0) + exp(z_1) + exp(z_2))"
CE_MISTAKES = {
    "log10": "(-z_0 + log(exp(z_0) + exp(z_1) + exp(z_2))) / log(10)",
    "log2": "(-z_0 + log(exp(z_0) + exp(z_1) + exp(z_2))) / log(2)",
    "sign": "z_0 - log(exp(z_0) + exp(z_1) + exp(z_2))",
    "no softmax": "-log(z_0)",
    "no normalization": "-z_0",
}

# [mlp_parameters]: fully connected D_in -> H_1 -> H_2 -> D_out, every layer with a bias.
MLP_SYMBOLS = ("D_in", "H_1", "H_2", "D_out")
MLP_COUNT = "D_in * H_1 + H_1 + H_1 * H_2 + H_2 + H_2 * D_out + D_out"
MLP_NO_BIAS = "D_in * H_1 + H_1 * H_2 + H_2 * D_out"
MLP_MISTAKES = {"no biases": MLP_NO_BIAS}

# Every formula question, ([table], key) -> (symbols, model formula, known wrong forms): what the student
# build's answer gates (grader/packaging) look for in the wheel. Not kept in the student build.
FORMULAS = {
    ("cnn_block", "params"): (BLOCK_SYMBOLS, BLOCK_PARAMS, BLOCK_PARAMS_MISTAKES),
    ("cnn_block", "macs"): (BLOCK_SYMBOLS, BLOCK_MACS, BLOCK_MACS_MISTAKES),
    ("cnn_block", "memory_change_percent"): (BLOCK_SYMBOLS, BLOCK_MEMORY_CHANGE, BLOCK_MEMORY_MISTAKES),
    ("training_iterations", "batches_per_epoch"): (BATCH_SYMBOLS, BATCHES_PER_EPOCH, BATCHES_MISTAKES),
    ("training_iterations", "total_iterations"): (BATCH_SYMBOLS, TOTAL_ITERATIONS, TOTAL_MISTAKES),
    ("cross_entropy", "loss"): (CE_SYMBOLS, CE_LOSS, CE_MISTAKES),
    ("mlp_parameters", "count"): (MLP_SYMBOLS, MLP_COUNT, MLP_MISTAKES),
}

DESCRIPTION = f"""\
[cnn_block] A block Conv2d(C_in->C_1, KxK, stride 1, padding (K-1)/2) -> ReLU -> Conv2d(C_1->C_2, KxK,
  stride 2, padding (K-1)/2) on one input image of C_in x H x W, where K is odd and H and W are even (so the
  first convolution keeps H x W and the second halves them exactly). Formulas in C_in, C_1, C_2, K, H, W:
  params = number of weights, biases EXCLUDED; macs = multiply-adds of both convolutions;
  memory_change_percent = percent change of the feature map's size from the input (C_in x H x W) to the
  block's output (a +50% change is 50).
[batchnorm_numeric] X = {BN_X.tolist()} (3 samples, 4 features), gamma = {BN_GAMMA.tolist()},
  beta = {BN_BETA.tolist()}, eps = 0, batch mean and biased variance per feature (column).
  z_hat = the normalized 3x4 matrix; y = gamma * z_hat + beta (3x4). Three decimals suffice.
[training_iterations] N samples, batch size B, E epochs, the last smaller batch is kept. Formulas in N, B, E
  (ceil and floor round up and down): batches_per_epoch, total_iterations.
[cross_entropy] One example of true class 0 with logits z_0, z_1, z_2: loss = the cross-entropy of the
  softmax of the logits (natural log), as a formula in z_0, z_1, z_2 (exp and log are available).
[mlp_parameters] count = the number of parameters (weights and biases) of a fully connected network
  D_in -> H_1 -> H_2 -> D_out, as a formula in D_in, H_1, H_2, D_out (e.g. "D_in * H_1 + ...").
"""

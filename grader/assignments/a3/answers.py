"""a3 task 3.6: the numeric, matrix and formula answers in answers.toml."""

from __future__ import annotations

import math

import numpy as np

from grader.assignments.a3 import questions as q
from grader.assignments.a3.spec import A3
from grader.authoring import (
    CheckContext,
    CheckFailed,
    answer,
    formula_points,
    formula_value,
    judge_formula,
    judge_matrix,
    judge_number,
    oracle,
    warm_formulas,
)

A3.questions = q.DESCRIPTION  # the numeric questions, shown by `dlgrade show a3`
A3.warm_up = warm_formulas  # mpmath, for the formula answers: warmed while the sandbox starts

FILES = ("answers.toml",)
NUMBER = (int, float)


@A3.check("3.6", "[cnn_block] params", points=1, files=FILES)
def cnn_params(ctx: CheckContext) -> str:
    """Weights of both convolutions, biases excluded."""
    return judge_number("[cnn_block] params", answer(ctx, "cnn_block", "params", NUMBER), q.BLOCK_PARAMS, q.EXACT,
                        mistakes=[(q.BLOCK_PARAMS + 16 + 32, "Biases are excluded from this count."),
                                  (3 * 16 * 9, "Count both convolutions.")])


@A3.check("3.6", "[cnn_block] macs", points=1, files=FILES)
def cnn_macs(ctx: CheckContext) -> str:
    """Multiply-adds: output elements times C_in * KH * KW, for both convolutions."""
    stride_ignored = 16 * 32 * 32 * 27 + 32 * 32 * 32 * 144
    return judge_number("[cnn_block] macs", answer(ctx, "cnn_block", "macs", NUMBER), q.BLOCK_MACS, q.EXACT,
                        mistakes=[(stride_ignored, "The second convolution has stride 2: its output is 16x16."),
                                  (16 * 32 * 32 * 27, "Add the second convolution's multiply-adds.")])


@A3.check("3.6", "[cnn_block] memory_change_percent", points=1, files=FILES)
def cnn_memory(ctx: CheckContext) -> str:
    """Percent change of the feature map size from the input to the block's output."""
    ratio = 100 * (q.BLOCK_MEMORY_CHANGE + 100) / 100
    return judge_number("[cnn_block] memory_change_percent", answer(ctx, "cnn_block", "memory_change_percent",
                                                                   NUMBER), q.BLOCK_MEMORY_CHANGE, q.THREE_FIGURES,
                        mistakes=[(ratio, "That is the output size as a percent of the input; the CHANGE is "
                                          "(new - old) / old * 100."),
                                  (q.BLOCK_MEMORY_CHANGE / 100, "Give a percentage (e.g. 50.0 for +50%), not a "
                                                                "fraction.")])


@A3.check("3.6", "[batchnorm_numeric] z_hat", points=2, files=FILES)
def bn_z_hat(ctx: CheckContext) -> str:
    """The normalized 3x4 matrix; partial credit per correct row."""
    return judge_matrix("[batchnorm_numeric] z_hat", answer(ctx, "batchnorm_numeric", "z_hat", (list,)), q.BN_Z_HAT,
                        mistakes=[(q.BN_Z_HAT_UNBIASED, "Use the biased variance (divide by N = 3)."),
                                  (q.BN_Z_HAT_ROWS, "Normalize each feature (column) over the batch, not each row.")])


@A3.check("3.6", "[batchnorm_numeric] y", points=1, files=FILES)
def bn_scaled(ctx: CheckContext) -> str:
    """gamma * z_hat + beta; partial credit per correct row."""
    return judge_matrix("[batchnorm_numeric] y", answer(ctx, "batchnorm_numeric", "y", (list,)), q.BN_Y,
                        mistakes=[(q.BN_Z_HAT * q.BN_BETA + q.BN_GAMMA, "gamma scales and beta shifts: "
                                                                        "y = gamma * z_hat + beta.")])


@A3.check("3.6", "[training_iterations] batches_per_epoch", points=1, files=FILES)
def batches_per_epoch(ctx: CheckContext) -> str:
    """ceil(N / B) with the last smaller batch kept."""
    got = answer(ctx, "training_iterations", "batches_per_epoch", NUMBER)
    if isinstance(got, float) and not got.is_integer():
        raise CheckFailed(f"[training_iterations] batches_per_epoch = {got} is not a whole number.",
                          "A count of batches is an integer: the last smaller batch counts as one.")
    return judge_number("[training_iterations] batches_per_epoch", got, q.BATCHES_PER_EPOCH, q.EXACT,
                        mistakes=[(q.N_SAMPLES // q.BATCH, "The last, smaller batch is kept: round UP.")])


@A3.check("3.6", "[training_iterations] total_iterations", points=1, files=FILES)
def total_iterations(ctx: CheckContext) -> str:
    """Batches per epoch times epochs."""
    return judge_number("[training_iterations] total_iterations", answer(ctx, "training_iterations",
                                                                         "total_iterations", NUMBER),
                        q.TOTAL_ITERATIONS, q.EXACT,
                        mistakes=[((q.N_SAMPLES // q.BATCH) * q.EPOCHS, "The last, smaller batch of each epoch is "
                                                                        "an iteration too: round up per epoch.")])


@A3.check("3.6", "[cross_entropy] loss", points=1, files=FILES)
def cross_entropy(ctx: CheckContext) -> str:
    """-ln p[true class]."""
    return judge_number("[cross_entropy] loss", answer(ctx, "cross_entropy", "loss", NUMBER), q.CE_VALUE,
                        q.THREE_FIGURES,
                        mistakes=[(-math.log10(q.CE_PROBS[0]), "You used log10: cross-entropy uses the natural log."),
                                  (-math.log2(q.CE_PROBS[0]), "You used log2: cross-entropy uses the natural log.")])


def _counts_at(points: list[dict[str, int]]) -> dict:
    """The true count and the no-bias count at each of the judge's points (staff build: from the formulas)."""
    return {name: np.array([formula_value(formula, q.MLP_SYMBOLS, point) for point in points], dtype=np.int64)
            for name, formula in (("count", q.MLP_COUNT), ("no_bias", q.MLP_NO_BIAS))}


@A3.check("3.6", "[mlp_parameters] count", points=2, files=FILES)
def mlp_formula(ctx: CheckContext) -> str:
    """The parameter count of D_in -> H_1 -> H_2 -> D_out, as a formula."""
    seed = int(ctx.rng.integers(2**31))
    points = formula_points(q.MLP_SYMBOLS, seed)
    # The counts at the judge's points, a function of the seed alone: the student build replays them (it has
    # neither formula), so this check is public there; the arrays travel in the recording's .npz.
    counts = oracle.computed("a3", "[mlp_parameters] counts at the judge's points", lambda: _counts_at(points),
                             points)

    def at(name: str):
        return lambda point: int(counts[name][points.index(point)])

    verdict = judge_formula(answer(ctx, "mlp_parameters", "count"), q.MLP_SYMBOLS, at("count"),
                            ((at("no_bias"), "Each layer also has one bias per output unit."),), seed=seed)
    if verdict.status != "passed":
        raise CheckFailed(verdict.message, verdict.hint)
    return verdict.message

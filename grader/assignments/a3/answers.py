"""a3 task 3.6: the matrix and formula answers in answers.toml.

Every answer but the batch-norm matrices is a formula in named sizes, judged by ``judge_formula`` at random
integer points drawn from the check's seed. The truth and each known mistake at those points are a function
of the seed alone, so the check records them (``oracle.computed``): the student build replays the values and
judges the student's formula without shipping any formula (questions.py's are removed there), with the same
hints, which live here.
"""

from __future__ import annotations

from fractions import Fraction

from grader.assignments.a3 import questions as q
from grader.assignments.a3.spec import A3
from grader.authoring import (
    CheckContext,
    CheckFailed,
    Function,
    answer,
    formula_points,
    formula_value,
    judge_formula,
    judge_matrix,
    oracle,
    warm_formulas,
)

A3.questions = q.DESCRIPTION  # the questions, shown by `dlgrade show a3`
A3.warm_up = warm_formulas  # mpmath, for the formula answers: warmed while the sandbox starts

FILES = ("answers.toml",)
BOTH = "Count both convolutions."
ROUND_UP_NOT_PLUS_ONE = "When B divides N there is no smaller batch: round up instead of adding one."


def _log_base(base: int):
    def meaning(x):
        import sympy

        return sympy.log(x, base)
    return meaning


# Logs a cross-entropy answer may wrongly use: readable, so that they get their hint instead of "unknown".
LOG10, LOG2 = Function("log10", _log_base(10)), Function("log2", _log_base(2))


def _judge(ctx: CheckContext, table: str, key: str, symbols: tuple[str, ...], formulas, hints: dict[str, str],
           points: list[dict[str, int]], vocabulary: tuple = ()) -> str:
    """``[table] key``, a formula, judged at ``points`` against the truth and the known mistakes there.

    ``formulas()`` gives ``{"truth": ..., mistake name: ...}`` (questions.py; the student build has none),
    ``hints`` mistake name -> hint. The values at the points are recorded as exact strings (an integer, or
    a fraction good to 60 digits).
    """
    def compute() -> dict[str, list[str]]:
        return {name: [str(formula_value(formula, symbols, point, vocabulary)) for point in points]
                for name, formula in formulas().items()}

    values = oracle.computed("a3", f"[{table}] {key} at the judge's points", compute, points)

    def at(name: str):
        return lambda point: Fraction(values[name][points.index(point)])

    verdict = judge_formula(answer(ctx, table, key), symbols, at("truth"),
                            tuple((at(name), hint) for name, hint in hints.items()), points=points,
                            vocabulary=vocabulary)
    if verdict.status != "passed":
        raise CheckFailed(verdict.message, verdict.hint)
    return verdict.message


def _seed(ctx: CheckContext) -> int:
    return int(ctx.rng.integers(2**31))


def _block_points(ctx: CheckContext) -> list[dict[str, int]]:
    """Sizes as the question states them: K odd, H and W even."""
    return formula_points(q.BLOCK_SYMBOLS, _seed(ctx), odd=q.BLOCK_ODD, even=q.BLOCK_EVEN)


@A3.check("3.6", "[cnn_block] params", points=1, files=FILES)
def cnn_params(ctx: CheckContext) -> str:
    """Weights of both convolutions, biases excluded, as a formula."""
    return _judge(ctx, "cnn_block", "params", q.BLOCK_SYMBOLS,
                  lambda: {"truth": q.BLOCK_PARAMS, **q.BLOCK_PARAMS_MISTAKES},
                  {"biases": "Biases are excluded from this count.", "first only": BOTH, "second only": BOTH,
                   "K not squared": "A K x K kernel has K squared weights for each pair of input and output "
                                    "channels."},
                  _block_points(ctx))


@A3.check("3.6", "[cnn_block] macs", points=1, files=FILES)
def cnn_macs(ctx: CheckContext) -> str:
    """Multiply-adds of both convolutions (one per weight each output element sees), as a formula."""
    return _judge(ctx, "cnn_block", "macs", q.BLOCK_SYMBOLS,
                  lambda: {"truth": q.BLOCK_MACS, **q.BLOCK_MACS_MISTAKES},
                  {"stride ignored": "The second convolution has stride 2: its output has half the height and "
                                     "half the width of its input.",
                   "first only": "Add the multiply-adds of both convolutions.",
                   "second only": "Add the multiply-adds of both convolutions.",
                   "weights only": "That is the number of weights: each weight is used once per output position "
                                   "of its convolution."},
                  _block_points(ctx))


@A3.check("3.6", "[cnn_block] memory_change_percent", points=1, files=FILES)
def cnn_memory(ctx: CheckContext) -> str:
    """Percent change of the feature map size from the input to the block's output, as a formula."""
    return _judge(ctx, "cnn_block", "memory_change_percent", q.BLOCK_SYMBOLS,
                  lambda: {"truth": q.BLOCK_MEMORY_CHANGE, **q.BLOCK_MEMORY_MISTAKES},
                  {"ratio": "That is the output size as a percent of the input; the CHANGE is "
                            "(new - old) / old * 100.",
                   "fraction": "Give a percentage (50 for +50%), not a fraction.",
                   "sign": "The change is new minus old: a larger output is a positive change.",
                   "over the output": "Divide by the size of the input (the old size), not of the output.",
                   "stride ignored": "The second convolution has stride 2: it halves the height and the width.",
                   "first output": "The block's output is the second convolution's (its channels), not the "
                                   "first's."},
                  _block_points(ctx))


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


def _batch_points(ctx: CheckContext) -> list[dict[str, int]]:
    """The judge's points, with one where B divides N and one where it does not, under every seed: so that
    rounding down, not rounding and adding one are each caught whatever the seed."""
    points = formula_points(q.BATCH_SYMBOLS, _seed(ctx))
    first, second = points[0], points[1]
    first["N"] = first["B"] * (1 + first["N"] % 5)  # no smaller batch
    second["N"] = second["B"] * (second["N"] % 3) + 1 + second["N"] % (second["B"] - 1)  # a smaller last batch
    return points


@A3.check("3.6", "[training_iterations] batches_per_epoch", points=1, files=FILES)
def batches_per_epoch(ctx: CheckContext) -> str:
    """Batches in one epoch with the last smaller batch kept, as a formula in N and B."""
    return _judge(ctx, "training_iterations", "batches_per_epoch", q.BATCH_SYMBOLS,
                  lambda: {"truth": q.BATCHES_PER_EPOCH, **q.BATCHES_MISTAKES},
                  {"no rounding": "A count of batches is a whole number: the last, smaller batch counts as one.",
                   "floor": "The last, smaller batch is kept: round UP, not down.",
                   "plus one": ROUND_UP_NOT_PLUS_ONE},
                  _batch_points(ctx))


@A3.check("3.6", "[training_iterations] total_iterations", points=1, files=FILES)
def total_iterations(ctx: CheckContext) -> str:
    """Batches per epoch times epochs, as a formula in N, B and E."""
    return _judge(ctx, "training_iterations", "total_iterations", q.BATCH_SYMBOLS,
                  lambda: {"truth": q.TOTAL_ITERATIONS, **q.TOTAL_MISTAKES},
                  {"no rounding": "Each epoch has a whole number of batches: round up per epoch.",
                   "floor": "The last, smaller batch of each epoch is an iteration too: round up per epoch.",
                   "rounded once": "Each epoch ends with its own smaller batch: round up per epoch, then count "
                                   "the epochs.",
                   "plus one": ROUND_UP_NOT_PLUS_ONE},
                  _batch_points(ctx))


@A3.check("3.6", "[cross_entropy] loss", points=1, files=FILES)
def cross_entropy(ctx: CheckContext) -> str:
    """Minus the natural log of the softmax's probability of class 0, as a formula in the logits."""
    return _judge(ctx, "cross_entropy", "loss", q.CE_SYMBOLS, lambda: {"truth": q.CE_LOSS, **q.CE_MISTAKES},
                  {"log10": "You used log10: cross-entropy uses the natural log.",
                   "log2": "You used log2: cross-entropy uses the natural log.",
                   "sign": "The loss is MINUS the log of the true class's probability, so it is positive.",
                   "no softmax": "The logits are not probabilities: take their softmax first.",
                   "no normalization": "The softmax divides by the sum of the exponentials of all three logits: "
                                       "the log of that sum belongs in the loss."},
                  formula_points(q.CE_SYMBOLS, _seed(ctx)), vocabulary=(LOG10, LOG2))


@A3.check("3.6", "[mlp_parameters] count", points=2, files=FILES)
def mlp_formula(ctx: CheckContext) -> str:
    """The parameter count of D_in -> H_1 -> H_2 -> D_out, as a formula."""
    return _judge(ctx, "mlp_parameters", "count", q.MLP_SYMBOLS, lambda: {"truth": q.MLP_COUNT, **q.MLP_MISTAKES},
                  {"no biases": "Each layer also has one bias per output unit."},
                  formula_points(q.MLP_SYMBOLS, _seed(ctx)))

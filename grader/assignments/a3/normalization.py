"""a3 task 3.5: batch norm forward (training and eval, (N, D) and (N, C, H, W)), running statistics, backward.

Deterministic coverage: every check runs both layouts, (N, D) and (N, C, H, W)
(batch 1 included where the statistics are defined), on every run; the seed
varies values and sizes within each case. Shapes are checked before values.
The running statistics are also checked with momentum and eps not given
(the handout's defaults, 0.1 and 1e-5).
"""

from __future__ import annotations

import contextlib

import numpy as np

from grader.assignments.a3.spec import A3
from grader.authoring import (
    CheckContext,
    CheckFailed,
    StudentCodeError,
    assert_close,
    expect_shape,
    oracle,
    own_forward,
    unpack,
    verify_gradient,
    weighted_sums,
)

ref = oracle.load("a3", "batchnorm")  # the reference, or its recorded stand-in in the student build

FILES = ("batchnorm.py",)


def _problem(rng, four_d: bool, batch: int | None = None):
    c = int(rng.integers(2, 5))
    n = batch if batch is not None else int(rng.integers(3, 7))
    shape = (n, c, int(rng.integers(2, 4)), int(rng.integers(3, 5))) if four_d else (n, c)
    x = 2 * rng.standard_normal(shape) + rng.standard_normal(c).reshape((1, c) + (1,) * (len(shape) - 2))
    gamma, beta = rng.uniform(0.5, 2.0, c), rng.standard_normal(c)
    return x, gamma, beta, rng.standard_normal(c), rng.uniform(0.5, 2.0, c)


def _axes(x):
    return (0,) if x.ndim == 2 else (0, 2, 3)


def _b(x, v):
    return v if x.ndim == 2 else v.reshape(1, -1, 1, 1)


CASES = ((False, None), (True, None), (True, 1))  # (N, D); (N, C, H, W); (1, C, H, W)


def shape_mistakes(shape: tuple[int, ...]) -> dict[str, tuple[int, ...]]:
    """Output shapes of plausible layout mistakes, to name them in a hint."""
    if len(shape) != 4:
        return {"the layout (your output is transposed)": shape[::-1]}
    n, c, h, w = shape
    return {"the 4-D layout (BN reshaped to 2-D: reshape the result back to (N, C, H, W))": (n * h * w, c),
            "the 4-D layout (your output is (N, C*H*W))": (n, c * h * w),
            "the channels-first layout (your output is channels-last)": (n, h, w, c),
            "the per-channel statistics (your output has one row per channel)": (c,)}


def output(name: str, got, x) -> np.ndarray:
    """The student's batch-norm output, shape checked before any arithmetic on it."""
    return expect_shape(name, got, x.shape, "batchnorm_forward returns an output of the input's shape.",
                        ignored=shape_mistakes(x.shape))


PER_CHANNEL = ("A broadcasting error on an (N, C, H, W) input: the statistics are per channel, taken over axes 0, 2 "
               "and 3 together, so the batch mean and variance have one value per channel (shape (C,), like "
               "running_mean), and are reshaped to (1, C, 1, 1) to normalize x.")


def broadcasting_on_4d(exc: StudentCodeError, x) -> bool:
    """Whether the student's forward raised NumPy's broadcasting error on a 4-D input (the per-channel mistakes)."""
    return x.ndim == 4 and exc.broadcasting


def _forward(ctx: CheckContext, x, gamma, beta, rm, rv, training, momentum=0.1, eps=1e-5):
    module = ctx.student.module("batchnorm").as_object()
    try:
        returned = ctx.student.drivers().call("bn_forward", module, x, gamma, beta, rm.copy(), rv.copy(), training,
                                              momentum, eps)
    except StudentCodeError as exc:
        if broadcasting_on_4d(exc, x):
            exc.hint = PER_CHANNEL  # the engine reports the error (message, the student's line) with this hint
        raise
    out, new_rm, new_rv = unpack("batchnorm_forward", returned, 3)
    c = (x.shape[1],)
    return (output(f"batchnorm_forward(...)[0] on x {x.shape}", out, x),
            expect_shape("running_mean", new_rm, c, "Update running_mean in place; it keeps its shape (C,)."),
            expect_shape("running_var", new_rv, c, "Update running_var in place; it keeps its shape (C,)."))


def _train_check(ctx: CheckContext, four_d: bool, batch: int | None = None) -> None:
    x, gamma, beta, rm, rv = _problem(ctx.rng, four_d, batch)
    out, _, _ = _forward(ctx, x, gamma, beta, rm, rv, True)
    expected, _ = ref.batchnorm_forward(x, gamma, beta, rm.copy(), rv.copy(), True)
    axes = _axes(x)
    unbiased = _b(x, gamma) * (x - x.mean(axis=axes, keepdims=True)) / np.sqrt(
        x.var(axis=axes, keepdims=True, ddof=1) + 1e-5) + _b(x, beta)
    eval_mode, _ = ref.batchnorm_forward(x, gamma, beta, rm.copy(), rv.copy(), False)
    hints = [(unbiased, "Normalize with the BIASED batch variance (divide by m); the unbiased one is only for the "
                        "running variance."),
             (eval_mode, "In training mode use the batch statistics, not the running ones.")]
    if four_d:
        per_feature = _b(x, gamma) * (x - x.mean(axis=0, keepdims=True)) / np.sqrt(x.var(axis=0, keepdims=True)
                                                                                       + 1e-5) + _b(x, beta)
        hints.append((per_feature, "For (N, C, H, W) the statistics are per channel, over N, H and W (axes 0, 2, 3)."))
    assert_close(f"batchnorm_forward (training) on x {x.shape}", out, expected, mistakes=hints)


@A3.check("3.5", "batchnorm_forward: training mode, (N, D)", points=2, files=FILES)
def bn_train_2d(ctx: CheckContext) -> None:
    """Batch mean and biased variance per feature, then gamma and beta."""
    _train_check(ctx, False)


@A3.check("3.5", "batchnorm_forward: training mode, (N, C, H, W)", points=2, files=FILES)
def bn_train_4d(ctx: CheckContext) -> None:
    """Statistics per channel over N, H and W, for batch 1 and > 1."""
    _train_check(ctx, True)
    _train_check(ctx, True, batch=1)


@A3.check("3.5", "batchnorm_forward: running statistics updated in place", points=2, files=FILES)
def bn_running_stats(ctx: CheckContext) -> None:
    """PyTorch's rule: momentum weights the new value; the running variance uses the unbiased variance."""
    for four_d, batch in CASES:
        x, gamma, beta, rm, rv = _problem(ctx.rng, four_d, batch)
        _, got_rm, got_rv = _forward(ctx, x, gamma, beta, rm, rv, True, momentum=0.2)
        want_rm, want_rv = rm.copy(), rv.copy()
        ref.batchnorm_forward(x, gamma, beta, want_rm, want_rv, True, momentum=0.2)
        if np.array_equal(got_rm, rm) and np.array_equal(got_rv, rv):
            raise CheckFailed("running_mean and running_var are unchanged after a training-mode forward.",
                              "Update them IN PLACE (running_mean[...] = ...), so the caller's arrays change.")
        axes, m = _axes(x), x.size // x.shape[1]
        mean, var = x.mean(axis=axes), x.var(axis=axes)
        assert_close(f"running_mean after training on x {x.shape} (momentum 0.2)", got_rm, want_rm,
                     mistakes=[(0.2 * rm + 0.8 * mean, "The momentum weights the NEW batch value: "
                                                       "(1 - momentum) * running + momentum * batch.")])
        assert_close(f"running_var after training on x {x.shape} (momentum 0.2)", got_rv, want_rv,
                     mistakes=[(0.8 * rv + 0.2 * var, "The running variance uses the UNBIASED batch variance "
                                                      f"(times m / (m - 1), m = {m})."),
                               (0.2 * rv + 0.8 * var * m / (m - 1), "The momentum weights the NEW batch value.")])
    x, gamma, beta, rm, rv = _problem(ctx.rng, False)
    _, got_rm, got_rv = _forward(ctx, x, gamma, beta, rm, rv, True, momentum=None, eps=None)
    want_rm, want_rv = rm.copy(), rv.copy()
    ref.batchnorm_forward(x, gamma, beta, want_rm, want_rv, True)
    for name, got, want in (("running_mean", got_rm, want_rm), ("running_var", got_rv, want_rv)):
        try:
            assert_close(f"{name} after training on x {x.shape} with momentum and eps not given", got, want)
        except CheckFailed as failure:
            failure.hint = failure.hint or "momentum defaults to 0.1 and eps to 1e-5 (the handout's signature)."
            raise


@A3.check("3.5", "batchnorm_forward: eval mode", points=1, files=FILES)
def bn_eval(ctx: CheckContext) -> None:
    """Normalize with the running statistics and leave them unchanged, in both layouts."""
    for four_d, batch in CASES:
        x, gamma, beta, rm, rv = _problem(ctx.rng, four_d, batch)
        out, got_rm, got_rv = _forward(ctx, x, gamma, beta, rm, rv, False)
        expected, _ = ref.batchnorm_forward(x, gamma, beta, rm.copy(), rv.copy(), False)
        train, _ = ref.batchnorm_forward(x, gamma, beta, rm.copy(), rv.copy(), True)
        assert_close(f"batchnorm_forward (eval) on x {x.shape}", out, expected,
                     mistakes=[(train, "In eval mode normalize with running_mean and running_var, not the batch's.")])
        if not (np.array_equal(got_rm, rm) and np.array_equal(got_rv, rv)):
            raise CheckFailed("Eval mode changed running_mean or running_var.", "Update them only in training mode.")


@contextlib.contextmanager
def forward_first(name: str):
    """A wrong-shaped output of the student's own forward, met while checking ``name`` by finite differences,
    fails with the hint to fix the forward first (graded alone, the backward has no forward check to point to)."""
    try:
        yield
    except CheckFailed as failure:
        raise CheckFailed(failure.message, failure.hint or (
            f"Your batchnorm_forward does not return an array of the input's shape, so {name} cannot be checked "
            "against it: fix batchnorm_forward first (its own checks, task 3.5, name what is off).")) from None


def _backward(ctx: CheckContext, which: int) -> None:
    for four_d, batch in CASES:
        _backward_case(ctx, which, *_problem(ctx.rng, four_d, batch)[:3])


def _backward_case(ctx: CheckContext, which: int, x, gamma, beta) -> None:
    G = ctx.rng.standard_normal(x.shape)
    module = ctx.student.module("batchnorm").as_object()
    drivers = ctx.student.drivers()
    returned = drivers.call("bn_backward", module, x, gamma, beta, G)
    if not isinstance(returned, (list, tuple)) or len(returned) != 3:
        raise CheckFailed("batchnorm_backward should return a tuple (dx, dgamma, dbeta).")
    c = gamma.shape
    returned = (expect_shape(f"dx from batchnorm_backward on x {x.shape}", returned[0], x.shape,
                             "dx has the shape of x.", ignored=shape_mistakes(x.shape)),
                expect_shape(f"dgamma from batchnorm_backward on x {x.shape}", returned[1], c,
                             "dgamma has one value per feature or channel: sum over the other axes."),
                expect_shape(f"dbeta from batchnorm_backward on x {x.shape}", returned[2], c,
                             "dbeta has one value per feature or channel: sum over the other axes."))
    _, cache = ref.batchnorm_forward(x, gamma, beta, np.zeros_like(gamma), np.ones_like(gamma), True)
    dx, dgamma, dbeta = ref.batchnorm_backward(G, cache)
    x_hat, _, inv_std, axes = cache
    if which == 0:
        def evaluate(points):
            with forward_first("dx"):
                return weighted_sums("batchnorm_forward", drivers.call("bn_outputs", module, list(points), gamma,
                                                                       beta), len(points), G)

        verify_gradient(ctx, f"dx from batchnorm_backward on x {x.shape}", returned[0], dx,
                        own_forward(ctx, evaluate), x,
                        mistakes=[(G * _b(x, gamma * inv_std), "You treated the batch mean and variance as "
                                   "constants: they depend on x, which adds two more terms to dx.")])
        return
    for name, got, want, arg in (("dgamma", returned[1], dgamma, gamma), ("dbeta", returned[2], dbeta, beta)):
        def evaluate(points, name=name):
            with forward_first(name):
                return [weighted_sums("batchnorm_forward", drivers.call(
                    "bn_outputs", module, [x], p if name == "dgamma" else gamma, p if name == "dbeta" else beta), 1,
                    G)[0] for p in points]

        verify_gradient(ctx, f"{name} from batchnorm_backward on x {x.shape}", got, want,
                        own_forward(ctx, evaluate), arg,
                        mistakes=[(G.mean(axis=axes) if name == "dbeta" else (G * x_hat).mean(axis=axes),
                                   f"{name} is a SUM over the batch (and space), not a mean.")])


@A3.check("3.5", "batchnorm_backward: dx", points=2, files=FILES, depends_on=("batchnorm_forward",))
def bn_backward_dx(ctx: CheckContext) -> None:
    """dx including the terms through the batch mean and variance."""
    _backward(ctx, 0)


@A3.check("3.5", "batchnorm_backward: dgamma and dbeta", points=1, files=FILES,
          depends_on=("batchnorm_forward",))
def bn_backward_params(ctx: CheckContext) -> None:
    """dgamma = sum(G * x_hat), dbeta = sum(G), per feature or channel."""
    _backward(ctx, 1)

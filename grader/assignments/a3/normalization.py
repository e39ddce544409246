"""a3 task 3.5: batch norm forward (training and eval, (N, D) and (N, C, H, W)), running statistics, backward."""

from __future__ import annotations

import numpy as np

from grader import oracle
from grader.assignment import CheckContext, CheckFailed
from grader.assignments.a3.spec import A3
from grader.checks.compare import arrays, as_array, assert_close, unpack
from grader.checks.gradcheck import verify_gradient

ref = oracle.load("a3", "batchnorm")  # the reference, or its recorded stand-in in the student build

FILES = ("batchnorm.py",)


def _problem(rng, four_d: bool):
    c = int(rng.integers(2, 5))
    shape = (int(rng.integers(3, 7)), c, int(rng.integers(2, 4)), int(rng.integers(2, 4))) if four_d else (
        int(rng.integers(3, 8)), c)
    x = 2 * rng.standard_normal(shape) + rng.standard_normal(c).reshape((1, c) + (1,) * (len(shape) - 2))
    gamma, beta = rng.uniform(0.5, 2.0, c), rng.standard_normal(c)
    return x, gamma, beta, rng.standard_normal(c), rng.uniform(0.5, 2.0, c)


def _axes(x):
    return (0,) if x.ndim == 2 else (0, 2, 3)


def _b(x, v):
    return v if x.ndim == 2 else v.reshape(1, -1, 1, 1)


def _forward(ctx: CheckContext, x, gamma, beta, rm, rv, training, momentum=0.1, eps=1e-5):
    module = ctx.student.module("batchnorm").as_object()
    out, new_rm, new_rv = unpack("batchnorm_forward", ctx.student.drivers().call(
        "bn_forward", module, x, gamma, beta, rm.copy(), rv.copy(), training, momentum, eps), 3)
    return as_array("batchnorm_forward(...)[0]", out), as_array("running_mean", new_rm), as_array("running_var",
                                                                                                   new_rv)


def _train_check(ctx: CheckContext, four_d: bool) -> None:
    x, gamma, beta, rm, rv = _problem(ctx.rng, four_d)
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
    """Statistics per channel over N, H and W."""
    _train_check(ctx, True)


@A3.check("3.5", "batchnorm_forward: running statistics updated in place", points=2, files=FILES)
def bn_running_stats(ctx: CheckContext) -> None:
    """PyTorch's rule: momentum weights the new value; the running variance uses the unbiased variance."""
    for four_d in (False, True):
        x, gamma, beta, rm, rv = _problem(ctx.rng, four_d)
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


@A3.check("3.5", "batchnorm_forward: eval mode", points=1, files=FILES)
def bn_eval(ctx: CheckContext) -> None:
    """Normalize with the running statistics and leave them unchanged."""
    x, gamma, beta, rm, rv = _problem(ctx.rng, bool(ctx.rng.integers(2)))
    out, got_rm, got_rv = _forward(ctx, x, gamma, beta, rm, rv, False)
    expected, _ = ref.batchnorm_forward(x, gamma, beta, rm.copy(), rv.copy(), False)
    train, _ = ref.batchnorm_forward(x, gamma, beta, rm.copy(), rv.copy(), True)
    assert_close(f"batchnorm_forward (eval) on x {x.shape}", out, expected,
                 mistakes=[(train, "In eval mode normalize with running_mean and running_var, not the batch's.")])
    if not (np.array_equal(got_rm, rm) and np.array_equal(got_rv, rv)):
        raise CheckFailed("Eval mode changed running_mean or running_var.", "Update them only in training mode.")


def _backward(ctx: CheckContext, which: int) -> None:
    x, gamma, beta, _, _ = _problem(ctx.rng, bool(ctx.rng.integers(2)))
    G = ctx.rng.standard_normal(x.shape)
    module = ctx.student.module("batchnorm").as_object()
    drivers = ctx.student.drivers()
    returned = drivers.call("bn_backward", module, x, gamma, beta, G)
    if not isinstance(returned, (list, tuple)) or len(returned) != 3:
        raise CheckFailed("batchnorm_backward should return a tuple (dx, dgamma, dbeta).")
    _, cache = ref.batchnorm_forward(x, gamma, beta, np.zeros_like(gamma), np.ones_like(gamma), True)
    dx, dgamma, dbeta = ref.batchnorm_backward(G, cache)
    x_hat, _, inv_std, axes = cache
    if which == 0:
        def evaluate(points):
            outs = arrays("batchnorm_forward", drivers.call("bn_outputs", module, list(points), gamma, beta),
                          len(points))
            return [float(np.sum(G * o)) for o in outs]

        verify_gradient(ctx, f"dx from batchnorm_backward on x {x.shape}", returned[0], dx, evaluate, x,
                        mistakes=[(G * _b(x, gamma * inv_std), "You treated the batch mean and variance as "
                                   "constants: they depend on x, which adds two more terms to dx.")])
        return
    for name, got, want, arg in (("dgamma", returned[1], dgamma, gamma), ("dbeta", returned[2], dbeta, beta)):
        def evaluate(points, name=name):
            outs = [arrays("batchnorm_forward", drivers.call("bn_outputs", module, [x], p if name == "dgamma"
                                                             else gamma, p if name == "dbeta" else beta), 1)[0]
                    for p in points]
            return [float(np.sum(G * o)) for o in outs]

        verify_gradient(ctx, f"{name} from batchnorm_backward on x {x.shape}", got, want, evaluate, arg,
                        mistakes=[(G.mean(axis=axes) if name == "dbeta" else (G * x_hat).mean(axis=axes),
                                   f"{name} is a SUM over the batch (and space), not a mean.")])


@A3.check("3.5", "batchnorm_backward: dx", points=2, files=FILES)
def bn_backward_dx(ctx: CheckContext) -> None:
    """dx including the terms through the batch mean and variance."""
    _backward(ctx, 0)


@A3.check("3.5", "batchnorm_backward: dgamma and dbeta", points=1, files=FILES)
def bn_backward_params(ctx: CheckContext) -> None:
    """dgamma = sum(G * x_hat), dbeta = sum(G), per feature or channel."""
    _backward(ctx, 1)

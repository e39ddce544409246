"""a3 tasks 3.1-3.4: conv2d forward and backward, speed, max pooling, 1-D convolution as a matrix.

Correctness checks use small inputs so that a correct loop implementation
passes them quickly; one separate check times conv2d on a realistic batch and
says so when it is too slow, instead of a silent kill.
"""

from __future__ import annotations

import time

import numpy as np

from grader import oracle
from grader.assignment import CheckContext, CheckFailed
from grader.assignments.a3.spec import A3
from grader.checks.compare import arrays, as_array, assert_close
from grader.checks.gradcheck import verify_gradient
from grader.runner.sandbox import CallTimeout

ref = oracle.load("a3", "conv")  # the reference, or its recorded stand-in in the student build

SPEED_SHAPE, SPEED_FILTERS = (16, 3, 32, 32), 8
SPEED_LIMIT_S = 2.0
SPEED_WALL_S = 30.0


def _problem(rng, stride=1, padding=0, square=True):
    n, c, f = int(rng.integers(1, 4)), int(rng.integers(1, 4)), int(rng.integers(1, 5))
    kh = int(rng.integers(2, 4))
    kw = kh if square else int(rng.choice([k for k in (1, 2, 3, 4) if k != kh]))
    h = int(rng.integers(kh + 2, kh + 6))
    w = h if square else int(rng.integers(kw + 2, kw + 7))
    x, wt, b = rng.standard_normal((n, c, h, w)), rng.standard_normal((f, c, kh, kw)), rng.standard_normal(f)
    return x, wt, b, {"stride": stride, "padding": padding}


def _output_shape_hint(got_shape, x, w, stride, padding) -> str:
    def shape(s, p):
        height = (x.shape[2] + 2 * p - w.shape[2]) // s + 1
        return (x.shape[0], w.shape[0], height, (x.shape[3] + 2 * p - w.shape[3]) // s + 1)

    if got_shape == shape(1, padding) and stride != 1:
        return f"Your output has the shape of stride 1: step the window by stride = {stride}."
    if got_shape == shape(stride, 0) and padding:
        return f"Your output has the shape of padding 0: pad the input with {padding} zeros on each side."
    for p in (padding - 1, padding + 1):
        if p >= 0 and got_shape == shape(stride, p):
            return "The output size is off by the padding: H_out = (H + 2*padding - KH) // stride + 1."
    return "H_out = (H + 2*padding - KH) // stride + 1 (and the same for W)."


def _forward(ctx: CheckContext, stride: int, padding: int, square: bool) -> None:
    x, w, b, kw = _problem(ctx.rng, stride, padding, square)
    got = ctx.student.module("conv").call("conv2d_forward", x, w, b, **kw)
    expected = ref.conv2d_forward(x, w, b, **kw)
    flipped = ref.conv2d_forward(x, w[:, :, ::-1, ::-1], b, **kw)
    got_array = as_array("conv2d_forward(...)", got)
    if got_array.shape != expected.shape:
        raise CheckFailed(f"conv2d_forward on x {x.shape}, w {w.shape}, stride {stride}, padding {padding} has shape "
                          f"{got_array.shape}, expected {expected.shape}.",
                          _output_shape_hint(got_array.shape, x, w, stride, padding))
    assert_close(f"conv2d_forward on x {x.shape}, w {w.shape}, stride {stride}, padding {padding}", got_array,
                 expected, mistakes=[(flipped, "You flipped the kernel (true convolution); conv2d here is a "
                                               "cross-correlation, like torch's: use w as it is."),
                                     (expected - b[None, :, None, None], "The bias b is missing.")])


@A3.check("3.1", "conv2d_forward: stride 1, no padding", points=2, files=("conv.py",))
def conv_forward_basic(ctx: CheckContext) -> None:
    """Several channels and filters, square kernels, against the reference (which matches torch)."""
    _forward(ctx, 1, 0, True)


@A3.check("3.1", "conv2d_forward: stride and padding", points=2, files=("conv.py",))
def conv_forward_stride_padding(ctx: CheckContext) -> None:
    """Stride 2 and padding 1 or 2."""
    _forward(ctx, 2, int(ctx.rng.integers(1, 3)), True)


@A3.check("3.1", "conv2d_forward: non-square kernels and inputs", points=1, files=("conv.py",))
def conv_forward_shapes(ctx: CheckContext) -> None:
    """KH != KW and H != W, with padding."""
    _forward(ctx, 1, 1, False)


def _backward(ctx: CheckContext, which: int) -> None:
    x, w, b, kw = _problem(ctx.rng, int(ctx.rng.integers(1, 3)), int(ctx.rng.integers(0, 2)), square=False)
    G = ctx.rng.standard_normal(ref.conv2d_forward(x, w, b, **kw).shape)
    module = ctx.student.module("conv")
    returned = module.call("conv2d_backward", G, x, w, b, **kw)
    if not isinstance(returned, (list, tuple)) or len(returned) != 3:
        raise CheckFailed("conv2d_backward should return a tuple (dx, dw, db).")
    expected = ref.conv2d_backward(G, x, w, b, **kw)
    args = [x, w, b]
    name = ("dx", "dw", "db")[which]
    drivers = ctx.student.drivers()
    obj = module.as_object()

    def evaluate(points):
        arglist = [[*args[:which], p, *args[which + 1:]] for p in points]
        outs = arrays("conv2d_forward", drivers.call("call_many", obj, "conv2d_forward", arglist, kw), len(points))
        return [float(np.sum(G * o)) for o in outs]

    mistakes = []
    if which == 1:
        mistakes.append((expected[1][:, :, ::-1, ::-1], "dw is flipped: for a cross-correlation, dw[f, c, p, q] "
                                                        "sums grad_out * x_pad at offset (p, q), unflipped."))
    if which == 2:
        mistakes.append((G.mean(axis=(0, 2, 3)), "db sums grad_out over the batch and both spatial axes."))
    verify_gradient(ctx, f"{name} from conv2d_backward (stride {kw['stride']}, padding {kw['padding']})",
                    returned[which], expected[which], evaluate, args[which], mistakes=mistakes)


@A3.check("3.2", "conv2d_backward: dx", points=2, files=("conv.py",))
def conv_backward_dx(ctx: CheckContext) -> None:
    """dx with stride and padding, against the reference and by finite differences of your forward."""
    _backward(ctx, 0)


@A3.check("3.2", "conv2d_backward: dw", points=2, files=("conv.py",))
def conv_backward_dw(ctx: CheckContext) -> None:
    """dw with stride and padding."""
    _backward(ctx, 1)


@A3.check("3.2", "conv2d_backward: db", points=1, files=("conv.py",))
def conv_backward_db(ctx: CheckContext) -> None:
    """db: grad_out summed over batch and space."""
    _backward(ctx, 2)


@A3.check("3.2", "conv2d: fast enough on a 16x3x32x32 batch", points=2, files=("conv.py",), wall_s=SPEED_WALL_S)
def conv_speed(ctx: CheckContext) -> str:
    """Forward and backward of a 3x3 conv with 8 filters on a real-sized batch, timed by the grader."""
    x = ctx.rng.standard_normal(SPEED_SHAPE)
    w, b = ctx.rng.standard_normal((SPEED_FILTERS, SPEED_SHAPE[1], 3, 3)), np.zeros(SPEED_FILTERS)
    G = ctx.rng.standard_normal((SPEED_SHAPE[0], SPEED_FILTERS, *SPEED_SHAPE[2:]))
    module = ctx.student.module("conv")
    batch = "x".join(map(str, SPEED_SHAPE))
    started = time.perf_counter()
    try:
        out = module.call("conv2d_forward", x, w, b, stride=1, padding=1)
        module.call("conv2d_backward", G, x, w, b, stride=1, padding=1)
    except CallTimeout:
        raise CheckFailed(f"conv2d forward + backward did not finish within {SPEED_WALL_S:g} s on a {batch} batch "
                          "and was stopped.", "Vectorize the inner loops: build all windows at once (im2col or "
                          "np.lib.stride_tricks.sliding_window_view) and use one matrix product.") from None
    elapsed = time.perf_counter() - started
    try:
        assert_close("conv2d_forward on the timing batch", out, ref.conv2d_forward(x, w, b, 1, 1))
    except CheckFailed as failure:
        failure.message = f"The speed check needs a correct forward: {failure.message}"
        raise
    started = time.perf_counter()
    ref.conv2d_backward(G, x, w, b, 1, 1)
    reference_s = time.perf_counter() - started
    if elapsed > SPEED_LIMIT_S:
        raise CheckFailed(f"conv2d forward + backward took {elapsed:.1f} s on a {batch} batch (limit "
                          f"{SPEED_LIMIT_S:g} s; the reference takes {reference_s:.3f} s).",
                          "Vectorize the inner loops: build all windows at once (im2col or sliding_window_view) "
                          "and use one matrix product.")
    return f"forward + backward took {elapsed:.2f} s on a {batch} batch."


@A3.check("3.3", "maxpool2d_forward", points=1, files=("conv.py",))
def maxpool_forward(ctx: CheckContext) -> None:
    """Max over windows, kernel 2 stride 2 and kernel 3 stride 1."""
    for kernel, stride in ((2, 2), (3, 1)):
        x = ctx.rng.standard_normal((2, 3, 7, 6))
        got = ctx.student.module("conv").call("maxpool2d_forward", x, kernel=kernel, stride=stride)
        assert_close(f"maxpool2d_forward(x {x.shape}, kernel={kernel}, stride={stride})", got,
                     ref.maxpool2d_forward(x, kernel, stride))


@A3.check("3.3", "maxpool2d_backward (ties: the first maximum)", points=2, files=("conv.py",))
def maxpool_backward(ctx: CheckContext) -> None:
    """The gradient goes to each window's first maximum, overlapping windows add up."""
    for kernel, stride in ((2, 2), (3, 1)):
        x = np.round(ctx.rng.standard_normal((2, 2, 6, 6)), 0)  # rounding makes ties common
        G = ctx.rng.standard_normal(ref.maxpool2d_forward(x, kernel, stride).shape)
        got = ctx.student.module("conv").call("maxpool2d_backward", G, x, kernel=kernel, stride=stride)
        expected = ref.maxpool2d_backward(G, x, kernel, stride)
        spread = np.zeros_like(x)
        for i in range(G.shape[2]):
            for j in range(G.shape[3]):
                rows, cols = slice(i * stride, i * stride + kernel), slice(j * stride, j * stride + kernel)
                spread[:, :, rows, cols] += G[:, :, i:i + 1, j:j + 1]
        ties = np.zeros_like(x)
        win = np.lib.stride_tricks.sliding_window_view(x, (kernel, kernel), axis=(2, 3))[:, :, ::stride, ::stride]
        mask = win == win.max(axis=(4, 5), keepdims=True)
        for i in range(G.shape[2]):
            for j in range(G.shape[3]):
                ties[:, :, i * stride:i * stride + kernel, j * stride:j * stride + kernel] += (
                    mask[:, :, i, j] * G[:, :, i, j, None, None])
        assert_close(f"maxpool2d_backward(kernel={kernel}, stride={stride}) on x with ties", got, expected,
                     mistakes=[(spread, "You spread each gradient over the whole window: it belongs to the "
                                        "window's maximum only."),
                               (spread / kernel**2, "You averaged the gradient over the window (average pooling); "
                                                    "max pooling sends it to the maximum only."),
                               (ties, "On ties, send the gradient to the FIRST maximum (row-major order) only.")])


def _conv1d_problem(rng):
    c_out, c_in, k = int(rng.integers(1, 4)), int(rng.integers(1, 4)), int(rng.integers(2, 4))
    return rng.standard_normal((c_out, c_in, k)), int(rng.integers(k + 2, k + 6))


@A3.check("3.4", "conv1d_matrix", points=2, files=("conv.py",))
def conv1d_matrix(ctx: CheckContext) -> None:
    """Y.flatten() == A @ X.flatten() for a stride-1, unpadded 1-D cross-correlation."""
    w, length = _conv1d_problem(ctx.rng)
    expected = ref.conv1d_matrix(w, length)
    assert_close(f"conv1d_matrix(w {w.shape}, length={length})", ctx.student.module("conv").call(
        "conv1d_matrix", w, length), expected,
        mistakes=[(ref.conv1d_matrix(w[:, :, ::-1], length), "You flipped the kernel: the layer is a "
                                                              "cross-correlation.")])


@A3.check("3.4", "conv1d_backward_matrix", points=1, files=("conv.py",))
def conv1d_backward_matrix(ctx: CheckContext) -> None:
    """dL/dX.flatten() == B @ dL/dY.flatten(), i.e. B = A.T."""
    w, length = _conv1d_problem(ctx.rng)
    expected = ref.conv1d_backward_matrix(w, length)
    assert_close(f"conv1d_backward_matrix(w {w.shape}, length={length})", ctx.student.module("conv").call(
        "conv1d_backward_matrix", w, length), expected)

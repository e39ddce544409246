"""a3 tasks 3.1-3.4: conv2d forward and backward, speed, max pooling, 1-D convolution as a matrix.

Deterministic coverage: every check runs the same list of cases on every run
(padding 0 and > 0, stride 1 and > 1, batch 1 and > 1, odd and even, square
and non-square sizes, one and several channels); the seed varies the values
and jitters sizes within their class (parity kept), never which cases run.
One case of each function is called without stride, padding or kernel: the
handout states their defaults (stride=1, padding=0; kernel=2, stride=2).
Every output's shape is checked before any arithmetic on it, and a wrong
shape names the argument that was most likely ignored.

Correctness checks use small inputs so that a correct loop implementation
passes them quickly; one separate check times conv2d on a realistic batch
against a grader-owned baseline run in the same moment (CPU time measured by
the parent: ``grader.checks.timing``, ``speed.py``), on batches whose shape
and values are drawn fresh, and checks the timed calls' outputs too.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from grader.assignments.a3 import speed
from grader.assignments.a3.spec import A3
from grader.authoring import (
    CallTimeout,
    CheckContext,
    CheckFailed,
    StudentCodeError,
    assert_close,
    expect_shape,
    oracle,
    own_forward,
    timing,
    unpack,
    verify_gradient,
    weighted_sums,
)

ref = oracle.load("a3", "conv")  # the reference, or its recorded stand-in in the student build

SPEED_FILTERS = 8
SPEED_WALL_S = 30.0
FORWARD = ("conv_forward_basic", "conv_forward_stride_padding", "conv_forward_shapes")


@dataclass(frozen=True)
class Case:
    """One conv2d problem class: sizes (jittered by the seed, parity kept), stride and padding."""

    n: int
    c: int
    f: int
    kh: int
    kw: int
    h: int
    w: int
    stride: int = 1
    padding: int = 0
    defaults: bool = False  # called without stride and padding: the handout's defaults, 1 and 0

    def draw(self, rng: np.random.Generator):
        h, w = self.h + 2 * int(rng.integers(0, 2)), self.w + 2 * int(rng.integers(0, 2))
        x = rng.standard_normal((self.n, self.c, h, w))
        wt, b = rng.standard_normal((self.f, self.c, self.kh, self.kw)), rng.standard_normal(self.f)
        return x, wt, b, {"stride": self.stride, "padding": self.padding}


BASIC = (Case(1, 1, 2, 3, 3, 7, 7, defaults=True), Case(3, 2, 4, 2, 2, 6, 6))
STRIDED = (Case(1, 2, 3, 3, 3, 8, 8, stride=2, padding=1), Case(2, 3, 1, 3, 3, 9, 9, stride=3, padding=2),
           Case(3, 1, 2, 2, 2, 7, 7, stride=2, padding=2))
NON_SQUARE = (Case(2, 2, 3, 3, 2, 7, 10, padding=1), Case(1, 3, 2, 1, 3, 6, 5, stride=2))
BACKWARD = (Case(3, 2, 4, 3, 3, 6, 7, defaults=True), Case(1, 2, 3, 2, 3, 7, 8, stride=2, padding=1),
            Case(2, 3, 1, 3, 2, 9, 6, stride=2), Case(1, 1, 2, 3, 3, 5, 5, padding=2),
            Case(4, 1, 3, 2, 2, 5, 6, stride=1, padding=1),
            Case(2, 2, 2, 2, 3, 5, 4, padding=3))  # padding wider than the kernel: every padded row and column


def _label(x, w, kw, defaults: bool = False) -> str:
    if defaults:
        return f"x {x.shape}, w {w.shape}, stride and padding not given (the defaults, 1 and 0)"
    return f"x {x.shape}, w {w.shape}, stride {kw['stride']}, padding {kw['padding']}"


def passed(case: Case, kw: dict) -> dict:
    """The keyword arguments a case passes: none when it tests the handout's defaults."""
    return {} if case.defaults else kw


def output_shape_mistakes(x, w, stride: int, padding: int) -> dict[str, tuple[int, ...]]:
    """The output shape each plausible ignored argument gives, for naming it in a hint."""
    def shape(s, p):
        return (x.shape[0], w.shape[0], (x.shape[2] + 2 * p - w.shape[2]) // s + 1,
                (x.shape[3] + 2 * p - w.shape[3]) // s + 1)

    expected = shape(stride, padding)
    mistakes = {}
    if stride != 1:
        mistakes[f"stride = {stride}"] = shape(1, padding)
    if padding:
        mistakes[f"padding = {padding}"] = shape(stride, 0)
        mistakes["padding on one side only (pad both sides)"] = (
            expected[0], expected[1], (x.shape[2] + padding - w.shape[2]) // stride + 1,
            (x.shape[3] + padding - w.shape[3]) // stride + 1)
    mistakes["the channels-first layout (your output is channels-last, (N, H_out, W_out, F))"] = (
        expected[0], expected[2], expected[3], expected[1])
    return {k: v for k, v in mistakes.items() if v != expected}


def forward_output(name: str, got, x, w, kw) -> np.ndarray:
    """The student's conv2d output as an array of the right shape, or a failure that names the ignored argument."""
    expected = ref.conv2d_forward(x, w, np.zeros(w.shape[0]), **kw).shape
    return expect_shape(name, got, expected, "H_out = (H + 2*padding - KH) // stride + 1 (and the same for W).",
                        ignored=output_shape_mistakes(x, w, kw["stride"], kw["padding"]))


def _forward(ctx: CheckContext, cases: tuple[Case, ...]) -> None:
    conv = ctx.student.module("conv")
    for case in cases:
        x, w, b, kw = case.draw(ctx.rng)
        name = f"conv2d_forward on {_label(x, w, kw, case.defaults)}"
        got = forward_output(name, conv.call("conv2d_forward", x, w, b, **passed(case, kw)), x, w, kw)
        expected = ref.conv2d_forward(x, w, b, **kw)
        flipped = ref.conv2d_forward(x, w[:, :, ::-1, ::-1], b, **kw)
        assert_close(name, got, expected,
                     mistakes=[(flipped, "You flipped the kernel (true convolution); conv2d here is a "
                                         "cross-correlation, like torch's: use w as it is."),
                               (expected - b[None, :, None, None], "The bias b is missing.")])


@A3.check("3.1", "conv2d_forward: stride 1, no padding", points=2, files=("conv.py",))
def conv_forward_basic(ctx: CheckContext) -> None:
    """Batch 1 and 3, one and several channels, odd and even sizes, against the reference (which matches torch)."""
    _forward(ctx, BASIC)


@A3.check("3.1", "conv2d_forward: stride and padding", points=2, files=("conv.py",))
def conv_forward_stride_padding(ctx: CheckContext) -> None:
    """Stride 2 and 3, padding 1 and 2, batch 1 and > 1."""
    _forward(ctx, STRIDED)


@A3.check("3.1", "conv2d_forward: non-square kernels and inputs", points=1, files=("conv.py",))
def conv_forward_shapes(ctx: CheckContext) -> None:
    """KH != KW and H != W, with and without padding, stride 1 and 2."""
    _forward(ctx, NON_SQUARE)


def backward_parts(name: str, returned, x, w, b) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(dx, dw, db) from conv2d_backward, each checked for shape before use."""
    dx, dw, db = unpack(name, returned, 3)
    return (expect_shape(f"dx from {name}", dx, x.shape), expect_shape(f"dw from {name}", dw, w.shape),
            expect_shape(f"db from {name}", db, b.shape, "db has one value per filter: sum over batch and space."))


PADDED_BUFFER = ("Your conv2d_backward passed the cases before this one (padding 0 first) but raised a broadcasting "
                 "error with padding = {padding}: the buffer that collects the gradient of the padded input has the "
                 "padded input's shape, padding added on BOTH sides of H and of W, before the padding is cut off.")


def _backward(ctx: CheckContext, which: int) -> None:
    module = ctx.student.module("conv")
    drivers = ctx.student.drivers()
    obj = module.as_object()
    name = ("dx", "dw", "db")[which]
    for case in BACKWARD:
        x, w, b, kw = case.draw(ctx.rng)
        G = ctx.rng.standard_normal(ref.conv2d_forward(x, w, b, **kw).shape)
        try:
            returned = module.call("conv2d_backward", G, x, w, b, **passed(case, kw))
        except StudentCodeError as exc:
            if kw["padding"] and exc.broadcasting:  # the cases before this one (padding 0 first) all passed
                exc.hint = PADDED_BUFFER.format(padding=kw["padding"])
            raise
        if not isinstance(returned, (list, tuple)) or len(returned) != 3:
            raise CheckFailed("conv2d_backward should return a tuple (dx, dw, db).")
        expected = ref.conv2d_backward(G, x, w, b, **kw)
        args = [x, w, b]
        dx_shape = np.shape(returned[0])
        if which == 0 and kw["padding"] == 0 and len(dx_shape) == 4 and 0 in dx_shape:
            raise CheckFailed(f"dx from conv2d_backward ({_label(x, w, kw)}) has shape {dx_shape}, expected "
                              f"{x.shape}: it is empty.", "With padding = 0, cutting the padding off with a negative "
                              "end (dxp[..., p:-p]) keeps nothing, since -0 is 0: end the slice at p + H (and p + W).")

        def evaluate(points, x=x, w=w, b=b, kw=kw, G=G, args=args):
            arglist = [[*args[:which], p, *args[which + 1:]] for p in points]
            outs = drivers.call("call_many", obj, "conv2d_forward", arglist, kw)
            try:
                return weighted_sums(f"conv2d_forward (called to check {name} by finite differences)", outs,
                                     len(points), G)
            except CheckFailed as failure:
                raise CheckFailed(failure.message, failure.hint or (
                    f"Your conv2d_forward returns the wrong shape, so {name} cannot be checked against it: fix "
                    "conv2d_forward first (its own check, task 3.1, names what is off).")) from None

        mistakes = []
        n = x.shape[0]
        n_, f_, ho_, wo_ = G.shape
        if which == 0:  # the classic: the gradient of a convolution where the forward is a correlation
            unflipped = ref.conv2d_backward(G, x, np.ascontiguousarray(w[:, :, ::-1, ::-1]), b, **kw)[0]
            mistakes.append((unflipped, "dx is missing the kernel flip: the forward is a cross-correlation, so dx "
                                        "is grad_out (zero-padded) correlated with the kernel rotated by 180 degrees "
                                        "(w[:, :, ::-1, ::-1]); yours correlates it with w as it is."))
        if which in (0, 1):  # grad_out (N, F, H_out, W_out) reshaped into rows of F without moving F last first
            mixed = ref.conv2d_backward(np.ascontiguousarray(G.reshape(n_, ho_, wo_, f_).transpose(0, 3, 1, 2)), x, w,
                                        b, **kw)[which]
            mistakes.append((mixed, "grad_out is (N, F, H_out, W_out): move F last (transpose(0, 2, 3, 1)) before "
                                    "reshaping it into one row per output position; a plain reshape mixes the axes."))
        if which == 1:
            mistakes.append((expected[1][:, :, ::-1, ::-1], "dw is flipped: for a cross-correlation, dw[f, c, p, q] "
                                                            "sums grad_out * x_pad at offset (p, q), unflipped."))
        if which == 2:
            mistakes.append((G.mean(axis=(0, 2, 3)), "db sums grad_out over the batch and both spatial axes."))
        if n > 1:
            mistakes.append((expected[which] / n, f"Your {name} is divided by N = {n}: the gradient of a sum over "
                                                  "the batch is not averaged here."))
        verify_gradient(ctx, f"{name} from conv2d_backward ({_label(x, w, kw, case.defaults)})", returned[which],
                        expected[which], own_forward(ctx, evaluate), args[which], mistakes=mistakes,
                        constants={"N (the batch size)": n} if n > 1 else None)


@A3.check("3.2", "conv2d_backward: dx", points=2, files=("conv.py",), depends_on=("conv2d_forward",))
def conv_backward_dx(ctx: CheckContext) -> None:
    """dx for stride 1 and 2, padding 0 and > 0, batch 1 and > 1, against the reference and finite differences."""
    _backward(ctx, 0)


@A3.check("3.2", "conv2d_backward: dw", points=2, files=("conv.py",), depends_on=("conv2d_forward",))
def conv_backward_dw(ctx: CheckContext) -> None:
    """dw on the same cases."""
    _backward(ctx, 1)


@A3.check("3.2", "conv2d_backward: db", points=1, files=("conv.py",), depends_on=("conv2d_forward",))
def conv_backward_db(ctx: CheckContext) -> None:
    """db: grad_out summed over batch and space."""
    _backward(ctx, 2)


def _consistent(module, x, w, b, G, kw, out, dx, batch: str) -> None:
    """The timed outputs equal what the same code returns, untimed, on the first two samples alone.

    Used when the student's conv2d already failed its correctness checks (counted there): a
    submission that recognises the timed batch and returns anything fast still fails here.
    """
    k = 2
    small_out = forward_output("conv2d_forward on the first two samples", module.call(
        "conv2d_forward", x[:k], w, b, **kw), x[:k], w, kw)
    small = unpack("conv2d_backward on the first two samples", module.call("conv2d_backward", G[:k], x[:k], w, b,
                                                                            **kw), 3)
    small_dx = expect_shape("dx from conv2d_backward on the first two samples", small[0], x[:k].shape)
    assert_close(f"the timed conv2d_forward on a {batch} batch (first two samples, against your own untimed "
                 "result)", out[:k], small_out)
    assert_close(f"dx from the timed conv2d_backward on a {batch} batch (first two samples, against your own "
                 "untimed result)", dx[:k], small_dx)


def _verify_timed(ctx: CheckContext, module, rng: np.random.Generator, kw: dict):
    """The check of every timed result: the first repetition's against the reference (or, when conv2d failed
    its own checks, against the student's own untimed results), later ones at sampled positions."""
    def verify(args, returned) -> None:
        r, x, w, b, G = args
        batch = "x".join(map(str, x.shape))
        try:
            out, got = returned
            out = expect_shape(f"the timed conv2d_forward on a {batch} batch", out, (x.shape[0], w.shape[0],
                               *x.shape[2:]), "H_out = (H + 2*padding - KH) // stride + 1 (and the same for W).",
                               ignored=output_shape_mistakes(x, w, kw["stride"], kw["padding"]))
            parts = backward_parts("the timed conv2d_backward", got, x, w, b)
            if r == 0:
                expected = (ref.conv2d_forward(x, w, b, **kw), *ref.conv2d_backward(G, x, w, b, **kw))
                right = [np.allclose(g, e, rtol=1e-6, atol=1e-8) for g, e in zip((out, *parts), expected)]
            else:
                right = speed.sampled_parts(x, w, b, G, kw["padding"], (out, *parts), rng)
            if ctx.failed_components and any(right):  # correctness is charged there, once: here self-consistency
                _consistent(module, x, w, b, G, kw, out, parts[0], batch)
            elif r == 0:
                assert_close(f"the timed conv2d_forward on a {batch} batch", out, expected[0])
                for part, g, e in zip(("dx", "dw", "db"), parts, expected[1:]):
                    assert_close(f"{part} from the timed conv2d_backward on a {batch} batch", g, e)
            elif not all(right):
                raise speed.sampled_failure(("out", "dx", "dw", "db")[right.index(False)], batch)
        except CheckFailed as failure:
            failure.message = f"The speed check needs correct results from the timed calls: {failure.message}"
            raise

    return verify


@A3.check("3.2", "conv2d: fast enough on a 16x3x32x32 batch", points=2, files=("conv.py",), wall_s=SPEED_WALL_S,
          depends_on=("conv2d_forward", "conv2d_backward"), exclusive=True)
def conv_speed(ctx: CheckContext) -> str:
    """Forward and backward of a 3x3 conv with 8 filters on a real-sized batch, against a baseline, by the grader.

    The batch's shape is drawn once (about 16x3x32x32), its values fresh for every repetition. The
    parent measures the CPU time of the student's session during the calls and the CPU time of a
    grader-owned yardstick of the same size run in the same moment (``grader.checks.timing``): the
    ratio decides, so the machine's load does not. The timed calls' outputs must be right:
    recognising the timed input and returning anything fast scores nothing.
    """
    rng = ctx.rng
    shape = (int(rng.integers(14, 19)), 3, int(rng.integers(30, 35)), int(rng.integers(30, 35)))
    kw = {"stride": 1, "padding": 1}
    sampling = np.random.default_rng(int(rng.integers(2**62)))  # where later repetitions' outputs are checked
    batch = "x".join(map(str, shape))
    module = ctx.student.module("conv")

    def inputs(r: int):
        x = rng.standard_normal(shape)
        w, b = rng.standard_normal((SPEED_FILTERS, 3, 3, 3)), rng.standard_normal(SPEED_FILTERS)
        return r, x, w, b, rng.standard_normal((shape[0], SPEED_FILTERS, *shape[2:]))

    def student(args):
        _, x, w, b, G = args
        return module.call("conv2d_forward", x, w, b, **kw), module.call("conv2d_backward", G, x, w, b, **kw)

    try:
        result = timing.judge(ctx, inputs=inputs, student=student, limit=speed.LIMIT,
                              baseline=speed.yardstick(shape, (SPEED_FILTERS, 3, 3, 3)),
                              verify=_verify_timed(ctx, module, sampling, kw))
    except CallTimeout:
        raise CheckFailed(f"conv2d forward + backward did not finish within {SPEED_WALL_S:g} s on a {batch} batch "
                          "and was stopped.", "Vectorize the inner loops: build all windows at once (im2col or "
                          "np.lib.stride_tricks.sliding_window_view) and use one matrix product.") from None
    if not result.passed:
        raise CheckFailed(f"conv2d forward + backward on a {batch} batch {result.describe()}.",
                          "Vectorize the inner loops: build all windows at once (im2col or sliding_window_view) "
                          "and use one matrix product.")
    return f"forward + backward on a {batch} batch {result.describe()} (timed by the grader)."


POOL_CASES = ((2, 2, (1, 2, 7, 6)), (3, 1, (3, 1, 6, 5)), (2, 1, (2, 3, 5, 8)))
POOL_DEFAULTS = (2, 2)  # the handout's kernel=2, stride=2: the case with these is called without them


def _pool_output(name: str, got, x, kernel: int, stride: int) -> np.ndarray:
    expected = ref.maxpool2d_forward(x, kernel, stride).shape
    n, c, h, w = x.shape
    ignored = {f"stride = {stride}": (n, c, h - kernel + 1, w - kernel + 1),
               f"kernel = {kernel}": (n, c, (h - 2) // stride + 1, (w - 2) // stride + 1),
               "the channels-first layout": (n, expected[2], expected[3], c)}
    return expect_shape(name, got, expected, "H_out = (H - kernel) // stride + 1 (and the same for W).",
                        ignored={k: v for k, v in ignored.items() if v != expected})


def _pool_call(function: str, x: np.ndarray, kernel: int, stride: int) -> tuple[str, dict]:
    """How a pooling case is named and the keyword arguments it passes (none for the handout's defaults)."""
    if (kernel, stride) == POOL_DEFAULTS:
        return f"{function}(x {x.shape}) (kernel and stride not given: the defaults, 2 and 2)", {}
    return f"{function}(x {x.shape}, kernel={kernel}, stride={stride})", {"kernel": kernel, "stride": stride}


def _pool_windows(x: np.ndarray, kernel: int, stride: int) -> np.ndarray:
    """The pooling windows of x, (N, C, H_out, W_out, kernel, kernel): for naming known mistakes."""
    every = np.lib.stride_tricks.sliding_window_view(x, (kernel, kernel), axis=(2, 3))
    return every[:, :, ::stride, ::stride]


@A3.check("3.3", "maxpool2d_forward", points=1, files=("conv.py",))
def maxpool_forward(ctx: CheckContext) -> None:
    """Max over windows: kernel 2 stride 2, kernel 3 stride 1, kernel 2 stride 1; batch 1 and > 1, odd and even."""
    for kernel, stride, shape in POOL_CASES:
        x = ctx.rng.standard_normal(shape)
        name, kw = _pool_call("maxpool2d_forward", x, kernel, stride)
        got = _pool_output(name, ctx.student.module("conv").call("maxpool2d_forward", x, **kw), x, kernel, stride)
        assert_close(name, got, ref.maxpool2d_forward(x, kernel, stride),
                     mistakes=[(_pool_windows(x, kernel, stride).min(axis=(4, 5)),
                                "Your pooling keeps each window's minimum: max-pooling keeps the largest value."),
                               (_pool_windows(x, kernel, stride).mean(axis=(4, 5)),
                                "Your pooling averages each window: max-pooling keeps the largest value.")])


@A3.check("3.3", "maxpool2d_backward (ties: the first maximum)", points=2, files=("conv.py",),
          depends_on=("maxpool_forward",))
def maxpool_backward(ctx: CheckContext) -> None:
    """The gradient goes to each window's first maximum, overlapping windows add up."""
    for kernel, stride, shape in POOL_CASES:
        x = np.round(ctx.rng.standard_normal(shape), 0)  # rounding makes ties common
        G = ctx.rng.standard_normal(ref.maxpool2d_forward(x, kernel, stride).shape)
        name, kw = _pool_call("maxpool2d_backward", x, kernel, stride)
        got = ctx.student.module("conv").call("maxpool2d_backward", G, x, **kw)
        name += " on x with ties"
        got = expect_shape(name, got, x.shape, "The gradient has the shape of the input x.")
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
        assert_close(name, got, expected,
                     mistakes=[(spread, "You spread each gradient over the whole window: it belongs to the "
                                        "window's maximum only."),
                               (spread / kernel**2, "You averaged the gradient over the window (average pooling); "
                                                    "max pooling sends it to the maximum only."),
                               (ties, "On ties, send the gradient to the FIRST maximum (row-major order) only."),
                               (_to_last_maximum(x, G, kernel, stride),
                                "On ties, the gradient goes to the FIRST maximum in row-major order (the one "
                                "np.argmax picks); yours goes to the last.")])


def _to_last_maximum(x: np.ndarray, G: np.ndarray, kernel: int, stride: int) -> np.ndarray:
    """Max-pooling's gradient routed to each window's LAST maximum (row-major): a known mistake on ties."""
    windows = _pool_windows(x, kernel, stride)
    n, c, ho, wo = windows.shape[:4]
    backwards = windows.reshape(n, c, ho, wo, -1)[..., ::-1]
    position = kernel * kernel - 1 - np.argmax(backwards, axis=4)
    routed = np.zeros_like(x, dtype=np.float64)
    for i in range(ho):
        for j in range(wo):
            for a in range(n):
                for k in range(c):
                    r, q = divmod(int(position[a, k, i, j]), kernel)
                    routed[a, k, i * stride + r, j * stride + q] += G[a, k, i, j]
    return routed


CONV1D_CASES = ((1, 2, 3, 6), (3, 1, 2, 5), (2, 3, 1, 4))  # (C_out, C_in, K, length): one and several channels


def _conv1d(ctx: CheckContext, function: str, reference) -> None:
    for c_out, c_in, k, length in CONV1D_CASES:
        w, length = ctx.rng.standard_normal((c_out, c_in, k)), length + 2 * int(ctx.rng.integers(0, 2))
        expected = reference(w, length)
        name = f"{function}(w {w.shape}, length={length})"
        got = expect_shape(name, ctx.student.module("conv").call(function, w, length), expected.shape,
                           "A has one row per output element, C_out * (length - K + 1), and one column per input "
                           "element, C_in * length." if function == "conv1d_matrix" else
                           "B maps dL/dY to dL/dX: C_in * length rows, C_out * (length - K + 1) columns.",
                           ignored={"the transpose (rows and columns swapped)": expected.T.shape})
        flipped = reference(w[:, :, ::-1], length)
        assert_close(name, got, expected,
                     mistakes=[(flipped, "You flipped the kernel: the layer is a cross-correlation.")]
                     if k > 1 else [])


@A3.check("3.4", "conv1d_matrix", points=2, files=("conv.py",))
def conv1d_matrix(ctx: CheckContext) -> None:
    """Y.flatten() == A @ X.flatten() for a stride-1, unpadded 1-D cross-correlation."""
    _conv1d(ctx, "conv1d_matrix", ref.conv1d_matrix)


@A3.check("3.4", "conv1d_backward_matrix", points=1, files=("conv.py",), depends_on=("conv1d_matrix",))
def conv1d_backward_matrix(ctx: CheckContext) -> None:
    """dL/dX.flatten() == B @ dL/dY.flatten(), i.e. B = A.T."""
    _conv1d(ctx, "conv1d_backward_matrix", ref.conv1d_backward_matrix)

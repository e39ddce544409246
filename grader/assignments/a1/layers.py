"""a1 tasks 1.1-1.4: Linear, activations, softmax and losses.

Every check builds its own random inputs (shapes too, so hard-coded shapes
fail), runs the student's code in the sandbox, and compares with
``reference.a1.mlp`` here in the parent. Gradients are also checked by
finite differences of the student's own forward (``verify_gradient``).
"""

from __future__ import annotations

import functools

import numpy as np

from grader.assignments.a1.spec import A1
from grader.authoring import (
    CheckContext,
    CheckFailed,
    RngSeed,
    as_array,
    as_scalar,
    assert_close,
    fmt,
    oracle,
    own_forward,
    verify_gradient,
    weighted_sums,
)

ref = oracle.load("a1", "mlp")  # the reference, or its recorded stand-in in the student build


def dims(rng: np.random.Generator, batch: int | None = None) -> tuple[int, int, int]:
    """Three distinct sizes (N, in, out), so a wrong scale factor can be named; N = ``batch`` if given."""
    n, i, o = rng.choice(np.arange(2, 10), size=3, replace=False)
    return int(batch or n), int(i), int(o)


BATCHES = (None, 1)  # every batch check runs a batch of several rows (first: it names mistakes), then one row


def every_batch(func):
    """Run a check's body for each of ``BATCHES``: coverage that never depends on the seed."""
    @functools.wraps(func)
    def run(ctx: CheckContext) -> None:
        for batch in BATCHES:
            func(ctx, batch)
    return run


def _linear(ctx: CheckContext, i: int, o: int):
    """A student Linear with known W and b."""
    layer = ctx.student.module("mlp").call("Linear", i, o, rng=RngSeed(ctx.seed))
    W, b = ctx.rng.standard_normal((i, o)), ctx.rng.standard_normal(o)
    layer.set("W", W)
    layer.set("b", b)
    return layer, W, b


# ------------------------------------------------------------------ Task 1.1


@A1.check("1.1", "Linear: initial attributes", points=1)
def linear_init(ctx: CheckContext) -> None:
    """W (in, out) random, b (out,), dW and db of the same shapes."""
    _, i, o = dims(ctx.rng)
    layer = ctx.student.module("mlp").call("Linear", i, o, rng=RngSeed(ctx.seed))
    expected = {"W": (i, o), "b": (o,), "dW": (i, o), "db": (o,)}
    values = {name: as_array(f"Linear({i}, {o}).{name}", layer.get(name)) for name in expected}
    for name, shape in expected.items():
        if values[name].shape != shape:
            raise CheckFailed(f"Linear({i}, {o}).{name} has shape {values[name].shape}, expected shape {shape}.",
                              "W is (in_features, out_features) so that forward is x @ W + b.")
    W = values["W"]
    if np.ptp(W) == 0:
        raise CheckFailed(f"Linear({i}, {o}).W is constant ({fmt(W.flat[0])} everywhere).",
                          "Initialize W with small random values: identical weights never become different.")


@A1.check("1.1", "Linear.forward", points=2)
@every_batch
def linear_forward(ctx: CheckContext, batch: int | None) -> None:
    """x @ W + b on a random batch."""
    n, i, o = dims(ctx.rng, batch)
    layer, W, b = _linear(ctx, i, o)
    x = ctx.rng.standard_normal((n, i))
    assert_close(f"Linear({i}, {o}).forward(x) for x of shape {x.shape}", layer.call("forward", x), x @ W + b,
                 mistakes=[(x @ W, "The bias b is missing from your forward."),
                           (x @ W - b, "You subtract b; forward is x @ W + b.")])


def _linear_backward(ctx: CheckContext, which: str) -> None:
    for batch in BATCHES:
        _linear_backward_case(ctx, which, batch)


def _linear_backward_case(ctx: CheckContext, which: str, batch: int | None) -> None:
    n, i, o = dims(ctx.rng, batch)
    layer, W, b = _linear(ctx, i, o)
    x, G = ctx.rng.standard_normal((n, i)), ctx.rng.standard_normal((n, o))
    layer.call("forward", x)
    dx = layer.call("backward", G)
    constants = {"N (the batch size)": n, "in_features": i, "out_features": o}
    drivers = ctx.student.drivers()

    def through_attribute(attr):
        def evaluate(points):
            return weighted_sums("Linear.forward", drivers.call("outputs_with_attribute", layer, attr, list(points),
                                                                "forward", [x]), len(points), G)
        return evaluate

    if which == "dx":
        def evaluate(points):
            return weighted_sums("Linear.forward", layer.map("forward", [(p,) for p in points]), len(points), G)
        verify_gradient(ctx, "dx = Linear.backward(grad_out)", dx, G @ W.T, own_forward(ctx, evaluate), x,
                        constants=constants,
                        mistakes=[(G @ W.T / n, "Do not divide dx by the batch size.")])
    elif which == "dW":
        verify_gradient(ctx, "Linear.dW after backward", layer.get("dW"), x.T @ G,
                        own_forward(ctx, through_attribute("W")), W,
                        constants=constants,
                        mistakes=[(x.T @ G / i, f"dW is your gradient divided by in_features = {i}: do not "
                                                "scale dW, the loss's backward already divides by N."),
                                  (x.T @ G / n, f"dW is divided by N = {n}: do not average here, the loss's "
                                                "backward already divides by N.")])
    else:
        verify_gradient(ctx, "Linear.db after backward", layer.get("db"), G.sum(axis=0),
                        own_forward(ctx, through_attribute("b")), b,
                        constants=constants,
                        mistakes=[(G.mean(axis=0), "db is a mean over the batch; it should be the sum "
                                                   "grad_out.sum(axis=0) (the loss already averages).")])


@A1.check("1.1", "Linear.backward: dx", depends_on=("Linear.forward",), points=2)
def linear_backward_dx(ctx: CheckContext) -> None:
    """The returned gradient with respect to x."""
    _linear_backward(ctx, "dx")


@A1.check("1.1", "Linear.backward: dW", depends_on=("Linear.forward",), points=2)
def linear_backward_dW(ctx: CheckContext) -> None:
    """dW = x.T @ grad_out, without extra scaling."""
    _linear_backward(ctx, "dW")


@A1.check("1.1", "Linear.backward: db", depends_on=("Linear.forward",), points=1)
def linear_backward_db(ctx: CheckContext) -> None:
    """db = grad_out.sum(axis=0)."""
    _linear_backward(ctx, "db")


@A1.check("1.1", "Linear.parameters", points=1)
def linear_parameters(ctx: CheckContext) -> None:
    """[(W, dW), (b, db)], the live arrays themselves."""
    n, i, o = dims(ctx.rng)
    layer, W, b = _linear(ctx, i, o)
    pairs = layer.call("parameters")
    if not isinstance(pairs, (list, tuple)) or len(pairs) != 2 or any(
            not isinstance(p, (list, tuple)) or len(p) != 2 for p in pairs):
        raise CheckFailed("Linear.parameters() should return [(W, dW), (b, db)]: a list of two (value, grad) pairs.")
    assert_close("parameters()[0][0] (W)", pairs[0][0], W, mistakes=[])
    assert_close("parameters()[1][0] (b)", pairs[1][0], b)
    fills = [[np.full((i, o), 1.5), np.full((i, o), 2.5)], [np.full(o, 3.5), np.full(o, 4.5)]]
    ctx.student.drivers().call("fill_parameters", layer, fills)
    for name, expected in (("W", 1.5), ("dW", 2.5), ("b", 3.5), ("db", 4.5)):
        if not np.all(as_array(f"layer.{name}", layer.get(name)) == expected):
            raise CheckFailed(f"Writing into the arrays returned by parameters() did not change layer.{name}.",
                              "Return the layer's own arrays, not copies, so optimizers can update them in place.")


# ------------------------------------------------------------------ Task 1.2


def _activation(ctx: CheckContext, cls: str, part: str) -> None:
    for batch in BATCHES:
        _activation_case(ctx, cls, part, batch)


def _activation_case(ctx: CheckContext, cls: str, part: str, batch: int | None) -> None:
    n, d, _ = dims(ctx.rng, batch)
    x = 3 * ctx.rng.standard_normal((n, d))
    if cls == "ReLU":
        x.flat[:: max(2, x.size // 3)] = 0.0
    reference = getattr(ref, cls)()
    expected_y = reference.forward(x)
    layer = ctx.student.module("mlp").call(cls)
    y = layer.call("forward", x)
    if part == "forward":
        mistakes = {"Sigmoid": [(1 / (1 + np.exp(x)), "You computed 1 / (1 + exp(x)); sigmoid uses exp(-x).")],
                    "ReLU": [(np.abs(x), "ReLU is max(x, 0), not |x|.")],
                    "Tanh": []}[cls]
        assert_close(f"{cls}.forward(x)", y, expected_y, mistakes=mistakes)
        return
    G = ctx.rng.standard_normal(x.shape)
    got = layer.call("backward", G)
    local = reference.backward(np.ones_like(x))
    mistakes = [(local, f"You returned the local derivative of {cls} only: multiply it by grad_out.")]
    if cls == "Sigmoid":
        mistakes.append((G * x * (1 - x), "Use the sigmoid's output y, not its input x: dy/dx = y (1 - y)."))
    if cls == "Tanh":
        mistakes.append((G * (1 - x**2), "Use the output y = tanh(x), not x: dy/dx = 1 - y**2."))
        mistakes.append((G * (1 - expected_y), "Your local derivative is 1 - y: the derivative of tanh is 1 minus "
                                               "the SQUARE of its output y = tanh(x)."))
    if cls == "ReLU":
        mistakes.append((np.where(x >= 0, G, 0.0), "The derivative of ReLU at exactly 0 is 0: use x > 0, not x >= 0."))
    assert_close(f"{cls}.backward(grad_out)", got, reference.backward(G), mistakes=mistakes)
    x_smooth = x + np.where(x >= 0, 0.1, -0.1)  # away from ReLU's kink for finite differences
    layer.call("forward", x_smooth)
    reference.forward(x_smooth)

    def evaluate(points):
        return weighted_sums(f"{cls}.forward", layer.map("forward", [(p,) for p in points]), len(points), G)

    verify_gradient(ctx, f"{cls}.backward(grad_out)", layer.call("backward", G), reference.backward(G),
                    own_forward(ctx, evaluate),
                    x_smooth)


for _cls in ("Sigmoid", "ReLU", "Tanh"):
    for _part in ("forward", "backward"):
        def _make(cls=_cls, part=_part):
            def check(ctx: CheckContext) -> None:
                _activation(ctx, cls, part)
            check.__name__ = f"{cls.lower()}_{part}"
            check.__doc__ = f"{cls}.{part} on a random batch."
            return check
        A1.check("1.2", f"{_cls}.{_part}", points=1,
                 depends_on=(f"{_cls}.forward",) if _part == "backward" else ())(_make())


# ------------------------------------------------------------------ Task 1.3


@A1.check("1.3", "softmax: values", points=1)
@every_batch
def softmax_values(ctx: CheckContext, batch: int | None) -> None:
    """Row-wise softmax of a random (N, K) array."""
    n, k, _ = dims(ctx.rng, batch)
    x = ctx.rng.standard_normal((n, k))
    # Normalized over each column, with or without the stabilizing row maximum subtracted first (the
    # row maximum does not cancel in a column's sum, so the two are different arrays).
    hint = "Each ROW must sum to 1: normalize over axis=1, not axis=0."
    shifted = np.exp(x - x.max(axis=1, keepdims=True))
    column_wise = [(np.exp(x) / np.exp(x).sum(axis=0, keepdims=True), hint),
                   (shifted / shifted.sum(axis=0, keepdims=True), hint)]
    assert_close("softmax(x)", ctx.student.module("mlp").call("softmax", x), ref.softmax(x), mistakes=column_wise)


@A1.check("1.3", "softmax: numerical stability at |x| = 1e4", points=1, depends_on=("softmax_values",))
@every_batch
def softmax_stability(ctx: CheckContext, batch: int | None) -> None:
    """Finite, correct values for logits as large as 1e4 in magnitude."""
    n, k, _ = dims(ctx.rng, batch)
    x = ctx.rng.uniform(-1e4, 1e4, size=(n, k))
    x[0, :] = 1e4 - ctx.rng.uniform(0, 5, size=k)
    got = as_array("softmax(x)", ctx.student.module("mlp").call("softmax", x))
    if got.shape == x.shape and not np.isfinite(got).all():
        raise CheckFailed("softmax(x) is not finite for x with entries near ±1e4 (exp overflows).",
                          "Subtract each row's maximum before exp: softmax(x) = softmax(x - max(x)).")
    assert_close("softmax(x) for |x| up to 1e4", got, ref.softmax(x))


# ------------------------------------------------------------------ Task 1.4


@A1.check("1.4", "MSELoss: value", points=1)
@every_batch
def mse_forward(ctx: CheckContext, batch: int | None) -> None:
    """Mean over all elements of (pred - target)**2."""
    n, d, _ = dims(ctx.rng, batch)
    pred, target = ctx.rng.standard_normal((n, d)), ctx.rng.standard_normal((n, d))
    sq = (pred - target) ** 2
    got = as_scalar("MSELoss.forward(pred, target)", ctx.student.module("mlp").call("MSELoss").call(
        "forward", pred, target))
    assert_close("MSELoss.forward(pred, target)", np.float64(got), np.mean(sq),
                 mistakes=[(sq.sum() / n, "You averaged over rows only; MSE is the mean over ALL elements."),
                           (sq.sum(), "You summed the squared errors; MSE is their mean."),
                           (np.mean(sq) / 2, "There is an extra factor 1/2: MSE is mean((pred - target)**2).")])


@A1.check("1.4", "MSELoss: gradient", points=1, depends_on=("MSELoss.forward",))
@every_batch
def mse_backward(ctx: CheckContext, batch: int | None) -> None:
    """2 (pred - target) / pred.size."""
    n, d, _ = dims(ctx.rng, batch)
    pred, target = ctx.rng.standard_normal((n, d)), ctx.rng.standard_normal((n, d))
    loss = ctx.student.module("mlp").call("MSELoss")
    loss.call("forward", pred, target)
    diff = pred - target
    verify_gradient(ctx, "MSELoss.backward()", loss.call("backward"), 2 * diff / diff.size, own_forward(
                    ctx, lambda points: [as_scalar("MSELoss.forward", v) for v in
                                    loss.map("forward", [(p, target) for p in points])]),
                    pred, constants={"N (the batch size)": n, "the number of columns": d},
                    mistakes=[(diff / diff.size, "A factor 2 is missing: d/dp (p - t)**2 = 2 (p - t)."),
                              (2 * diff / n, "Divide by the number of elements (pred.size), not by N only.")])


@A1.check("1.4", "CrossEntropyLoss: value", points=1, depends_on=("softmax_values",))
@every_batch
def ce_forward(ctx: CheckContext, batch: int | None) -> None:
    """Mean over rows of -log softmax(logits)[label]."""
    n, k, _ = dims(ctx.rng, batch)
    logits, labels = 2 * ctx.rng.standard_normal((n, k)), ctx.rng.integers(0, k, size=n)
    expected = ref.CrossEntropyLoss().forward(logits, labels)
    per_row = -np.log(ref.softmax(logits)[np.arange(n), labels])
    got = as_scalar("CrossEntropyLoss.forward(logits, labels)",
                    ctx.student.module("mlp").call("CrossEntropyLoss").call("forward", logits, labels))
    assert_close("CrossEntropyLoss.forward(logits, labels)", np.float64(got), expected,
                 mistakes=[(per_row.sum(), "You summed over the batch; the loss is the mean over rows."),
                           (expected / np.log(10), "You used log10; cross-entropy uses the natural log.")])


@A1.check("1.4", "CrossEntropyLoss: gradient", points=1, depends_on=("CrossEntropyLoss.forward", "softmax_values"))
@every_batch
def ce_backward(ctx: CheckContext, batch: int | None) -> None:
    """(softmax(logits) - onehot(labels)) / N."""
    n, k, _ = dims(ctx.rng, batch)
    logits, labels = 2 * ctx.rng.standard_normal((n, k)), ctx.rng.integers(0, k, size=n)
    loss = ctx.student.module("mlp").call("CrossEntropyLoss")
    loss.call("forward", logits, labels)
    onehot = np.eye(k)[labels]
    probs = ref.softmax(logits)
    verify_gradient(ctx, "CrossEntropyLoss.backward()", loss.call("backward"), (probs - onehot) / n, own_forward(
                    ctx, lambda points: [as_scalar("CrossEntropyLoss.forward", v) for v in
                                    loss.map("forward", [(p, labels) for p in points])]),
                    logits, constants={"N (the batch size)": n, "K (the number of classes)": k},
                    mistakes=[(probs / n, "Subtract the one-hot labels: the gradient is (softmax - onehot) / N."),
                              (probs - onehot, "Divide by N: the loss is a mean over the batch.")])


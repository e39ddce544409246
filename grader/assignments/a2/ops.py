"""a2 tasks 2.1 and 2.2: every op's forward, and its backward for each input.

A backward is verified against the reference for a random upstream gradient,
must return exactly zero for a zero upstream gradient (catches backwards that
ignore G), and must agree with finite differences of the student's own
forward (directional probes, per element only to locate an error).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from grader import oracle
from grader.assignment import CheckContext, CheckFailed
from grader.assignments.a2.spec import A2
from grader.checks.compare import arrays, as_array, assert_close, unpack
from grader.checks.gradcheck import directional_check

ref = oracle.load("a2", "autograd")  # the reference, or its recorded stand-in in the student build


@dataclass(frozen=True)
class OpCase:
    """How to draw inputs and parameters for one op, and its known wrong backwards."""

    name: str
    task: str
    draw: Callable[[np.random.Generator], tuple[list[np.ndarray], dict]]
    mistakes: Callable[[list, dict, np.ndarray], list[list[tuple[np.ndarray, str]]]] = lambda x, p, G: []
    names: tuple[str, ...] = ("x", "y")
    smooth: bool = True  # finite differences make sense at the drawn points


def _shape(rng, ndim=2):
    return tuple(int(d) for d in rng.choice(np.arange(2, 6), size=ndim, replace=False))


def _pair(rng, domain=None):
    shape = _shape(rng)
    y = rng.standard_normal(shape)
    if domain == "nonzero":
        y = rng.uniform(0.5, 2.0, shape) * rng.choice([-1.0, 1.0], shape)
    return [rng.standard_normal(shape), y], {}


def _one(rng, low=None):
    shape = _shape(rng)
    return [rng.uniform(0.3, 3.0, shape) if low else 2 * rng.standard_normal(shape)], {}


def _relu(rng):
    x = 2 * rng.standard_normal(_shape(rng))
    x.flat[:: max(2, x.size // 3)] = 0.0
    return [x], {}


def _matmul(rng):
    n, f, m = _shape(rng, 3)
    return [rng.standard_normal((n, f)), rng.standard_normal((f, m))], {}


def _sum(rng):
    return [rng.standard_normal(_shape(rng))], {"axis": [None, 0, 1][int(rng.integers(3))]}


def _expand(rng):
    ndim = int(rng.integers(1, 3))
    return [rng.standard_normal(_shape(rng, ndim))], {"axis": int(rng.integers(0, ndim + 1)),
                                                      "size": int(rng.integers(2, 6))}


def _squeeze(rng):
    shape = list(_shape(rng))
    axis = int(rng.integers(0, 3))
    shape.insert(axis, 1)
    return [rng.standard_normal(shape)], {"axis": axis}


def _unsqueeze(rng):
    return [rng.standard_normal(_shape(rng))], {"axis": int(rng.integers(0, 3))}


def _divide_mistakes(x, p, G):
    a, b = x
    return [[(1 / b, "G is missing: dx = G / y.")],
            [(-G * a / b, "Wrong power of y: d(1/y)/dy = -1/y**2, so dy = -G * x / y**2."),
             (G * a / b**2, "The minus sign is missing: dy = -G * x / y**2."),
             (-a / b**2, "G is missing: dy = -G * x / y**2.")]]


def _expand_mistakes(x, p, G):
    return [[(p["size"] * np.take(G, 0, axis=p["axis"]),
              "Broadcasting backward SUMS G over the repeated axis; it does not multiply by the repeat count."),
             (G.mean(axis=p["axis"]), "Sum G over the repeated axis, do not average it.")]]


CASES = [
    OpCase("Add", "2.1", _pair),
    OpCase("Multiply", "2.1", _pair, lambda x, p, G: [[(x[1], "G is missing: dx = G * y.")],
                                                       [(x[0], "G is missing: dy = G * x.")]]),
    OpCase("Divide", "2.1", lambda rng: _pair(rng, "nonzero"), _divide_mistakes),
    OpCase("Sigmoid", "2.1", _one, lambda x, p, G: [[(G * x[0] * (1 - x[0]),
                                                      "Use the sigmoid's output y, not x: dy/dx = y (1 - y).")]],
           names=("x",)),
    OpCase("ReLU", "2.1", _relu, lambda x, p, G: [[((x[0] > 0).astype(float), "ReLU's backward must pass G "
                                                    "through where x > 0 (you returned the mask alone)."),
                                                   (np.where(x[0] >= 0, G, 0.0), "The derivative at exactly 0 is 0:"
                                                    " use x > 0.")]], names=("x",), smooth=False),
    OpCase("Exp", "2.1", _one, names=("x",)),
    OpCase("Log", "2.1", lambda rng: _one(rng, low=True), lambda x, p, G: [[(G * x[0], "d log(x)/dx = 1/x: dx = G "
                                                                            "/ x.")]], names=("x",)),
    OpCase("MatMul", "2.2", _matmul, names=("X", "W")),
    OpCase("Sum", "2.2", _sum, names=("x",)),
    OpCase("Expand", "2.2", _expand, _expand_mistakes, names=("x",)),
    OpCase("Normalize", "2.2", lambda rng: _one(rng, low=True),
           lambda x, p, G: [[(G / x[0].sum(axis=1, keepdims=True),
                              "Every x[i, j] also changes its row sum S[i]: subtract (G * x).sum(axis=1, "
                              "keepdims=True) / S**2.")]], names=("x",)),
    OpCase("Squeeze", "2.2", _squeeze, names=("x",)),
    OpCase("Unsqueeze", "2.2", _unsqueeze, names=("x",)),
]


def _reference(case: OpCase, inputs, params, G=None):
    ctx: dict = {}
    op = getattr(ref, case.name)
    out = op.forward(ctx, *[a.copy() for a in inputs], **params)
    return np.asarray(out), (op.backward(ctx, G) if G is not None else None)


def _grads(case: OpCase, label: str, returned, count: int) -> list[np.ndarray]:
    if isinstance(returned, np.ndarray) or not isinstance(returned, (list, tuple)):
        raise CheckFailed(f"{label} returned {type(returned).__name__}, not a tuple of gradients.",
                          "backward returns one gradient per input, as a tuple: (dx,) for one input.")
    if len(returned) != count:
        raise CheckFailed(f"{label} returned {len(returned)} gradient(s) for {count} input(s).")
    return [as_array(f"{label}[{i}]", g) for i, g in enumerate(returned)]


def _forward_check(ctx: CheckContext, case: OpCase) -> None:
    inputs, params = case.draw(ctx.rng)
    module = ctx.student.module("autograd").as_object()
    out, _ = unpack(f"{case.name}.forward", ctx.student.drivers().call("op_forward_backward", module, case.name,
                                                                      inputs, params, None), 2)
    expected, _ = _reference(case, inputs, params)
    shapes = ", ".join(str(a.shape) for a in inputs)
    assert_close(f"{case.name}.forward on inputs of shape {shapes}{' with ' + str(params) if params else ''}", out,
                 expected)


def _backward_check(ctx: CheckContext, case: OpCase) -> None:
    inputs, params = case.draw(ctx.rng)
    expected_out, _ = _reference(case, inputs, params)
    G = ctx.rng.standard_normal(expected_out.shape)
    _, expected = _reference(case, inputs, params, G)
    drivers = ctx.student.drivers()
    module = ctx.student.module("autograd").as_object()
    label = f"{case.name}.backward"
    _, returned = unpack(label, drivers.call("op_forward_backward", module, case.name, inputs, params, G), 2)
    grads = _grads(case, label, returned, len(inputs))
    mistakes = case.mistakes(inputs, params, G)
    _, ones_grads = _reference(case, inputs, params, np.ones_like(G))
    for i, (got, want) in enumerate(zip(grads, expected)):
        known = (mistakes[i] if i < len(mistakes) else []) + [
            (ones_grads[i], "Your backward ignores G: multiply the local derivative by the upstream gradient.")]
        assert_close(f"d{case.names[i]} from {label} (G of shape {G.shape})", got, want, mistakes=known)
    _, zero = unpack(label, drivers.call("op_forward_backward", module, case.name, inputs, params,
                                         np.zeros_like(G)), 2)
    for i, g in enumerate(_grads(case, label, zero, len(inputs))):
        if np.any(g != 0):
            raise CheckFailed(f"d{case.names[i]} from {label} is not zero when G is zero.",
                              "Every gradient a backward returns must be proportional to G.")
    if not case.smooth:
        return
    for i, x in enumerate(inputs):
        def evaluate(points, i=i):
            batches = [[*inputs[:i], p, *inputs[i + 1:]] for p in points]
            outs = arrays(f"{case.name}.forward", drivers.call("op_forward_many", module, case.name, batches,
                                                                params), len(points))
            return [float(np.sum(G * o)) for o in outs]

        result = directional_check(f"d{case.names[i]}", evaluate, x, grads[i], ctx.rng)
        if not result.ok:
            raise CheckFailed(f"{label} matches the reference but not finite differences of your forward: "
                              f"{result.detail}.", "Your forward is not the handout's function: fix it first.")


for _case in CASES:
    for _part, _run in (("forward", _forward_check), ("backward", _backward_check)):
        def _make(case=_case, part=_part, run=_run):
            def check(ctx: CheckContext) -> None:
                run(ctx, case)
            check.__name__ = f"{case.name.lower()}_{part}"
            check.__doc__ = (f"{case.name}.{part} on random inputs." if part == "forward" else
                             f"{case.name}.backward: reference, zero G, finite differences.")
            return check
        A2.check(_case.task, f"{_case.name}.{_part}", points=1)(_make())

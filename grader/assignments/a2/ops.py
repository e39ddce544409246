"""a2 tasks 2.1 and 2.2: every op's forward, and its backward for each input.

Each check runs the op on its whole fixed case list (``cases.py``: every axis,
negative axes, square and non-square shapes; the seed draws only the values),
all cases in one round trip. For every case the output's type, dtype and shape
are judged before its values (``judge.expect``), and the arrays the grader
passed (inputs, and ``G``) must be unchanged afterwards: an op that writes into
them fails with "writes into its input". A backward must also match the
reference for a random ``G`` and return exactly zero for a zero ``G``
(catches backwards that ignore ``G``). It is not also held to finite
differences of the student's own forward: a backward equal to the reference is
right, and a wrong forward already costs its own check (one mistake, one
penalty; issue #10).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from grader.assignments.a2 import judge
from grader.assignments.a2.cases import Case, cases
from grader.assignments.a2.spec import A2
from grader.authoring import CheckContext, CheckFailed, MissingName, StudentCodeError, as_array, oracle, unpack

ref = oracle.load("a2", "autograd")  # the reference, or its recorded stand-in in the student build

Hints = list[tuple[tuple, str]]
Mistakes = list[tuple[np.ndarray, str]]


def _none(*_):
    return []


@dataclass(frozen=True)
class OpCase:
    """One op: its task, input names, and the known mistakes and wrong shapes its hints explain."""

    name: str
    task: str
    names: tuple[str, ...] = ("x",)
    mistakes: Callable[[Case, np.ndarray], list[Mistakes]] = _none  # per input: (wrong gradient, hint)
    forward_shapes: Callable[[Case], Hints] = _none  # (wrong output shape, likely cause)
    backward_shapes: Callable[[Case, np.ndarray], list[Hints]] = _none  # per input
    crash_hint: str = ""


def _axis(case: Case, ndim: int) -> int:
    return case.params["axis"] % ndim


def _divide_mistakes(case, G):
    a, b = case.inputs
    return [[(1 / b, "Divide.backward: G is missing: dx = G / y.")],
            [(-G * a / b, "Divide.backward: wrong power of y: d(1/y)/dy = -1/y**2, so dy = -G * x / y**2."),
             (G * a / b**2, "Divide.backward: the minus sign is missing: dy = -G * x / y**2."),
             (-a / b**2, "Divide.backward: G is missing: dy = -G * x / y**2.")]]


def _sum_forward_shapes(case):
    x, axis = case.inputs[0], case.params["axis"]
    if axis is None:
        return [(x.shape[:1], "Sum(axis=None) sums EVERY element to a scalar; you summed over one axis only."),
                ((1,) * x.ndim, "Sum(axis=None) returns a 0-d scalar: do not keep the dimensions.")]
    k = _axis(case, x.ndim)
    hints = [(np.expand_dims(x.sum(axis=k), k).shape,
              f"Sum(axis={axis}) removes the summed axis: you kept it (keepdims=True)."),
             ((), f"Sum(axis={axis}) sums over that axis only: the axis argument was ignored.")]
    hints += [(x.sum(axis=j).shape, f"Sum(axis={axis}) sums over axis {k}, you summed over axis {j} "
               "(a negative axis counts from the end).") for j in range(x.ndim) if j != k]
    return hints


SUM_BROADCAST_HINT = ("Sum.backward broadcasts G along the wrong axis: put the summed axis back first "
                      "(np.expand_dims(G, axis)), then broadcast to x's shape.")


def _sum_mistakes(case, G):
    x, axis = case.inputs[0], case.params["axis"]
    if axis is None or G.ndim == 0:
        return [[]]
    try:
        wrong = np.broadcast_to(G, x.shape)
    except ValueError:
        return [[]]
    return [[(wrong, SUM_BROADCAST_HINT)]]


def _sum_backward_shapes(case, G):
    axis = case.params["axis"]
    hints = [(G.shape, "Sum.backward returns G as it came: broadcast it back to x's shape.")]
    if axis is not None:
        hints.append((np.expand_dims(G, axis).shape, "Sum.backward: after np.expand_dims(G, axis), also broadcast "
                                                     "to x's shape (np.broadcast_to(..., x.shape))."))
    return [hints]


def _expand_forward_shapes(case):
    x, axis, size = case.inputs[0], case.params["axis"], case.params["size"]
    k = _axis(case, x.ndim + 1)
    hints = [(x.shape, f"Expand inserts a new axis at {axis} and repeats x {size} times along it; you returned "
                       "x's own shape.")]
    if size != 1:
        hints.append((np.expand_dims(x, k).shape, f"Expand(size={size}) repeats x {size} times along the new axis "
                                                  "(np.repeat): the size argument was ignored."))
    for j in range(x.ndim + 1):
        if j != k:
            shape = np.expand_dims(x, j).shape[:j] + (size,) + x.shape[j:]
            hints.append((shape, f"Expand puts the new axis at position {k} (axis={axis}; a negative axis counts "
                                 f"from the end of the OUTPUT's axes); yours is at position {j}."))
    return hints


def _expand_mistakes(case, G):
    x, axis, size = case.inputs[0], case.params["axis"], case.params["size"]
    k = _axis(case, x.ndim + 1)
    found = [(size * np.take(G, 0, axis=k), "Expand.backward: broadcasting backward SUMS G over the repeated "
                                            "axis; it does not multiply by the repeat count."),
             (G.mean(axis=k), "Expand.backward: sum G over the repeated axis, do not average it.")]
    found += [(G.sum(axis=j), f"Expand.backward sums G over axis {j}; the repeated axis is axis {k} (axis={axis}).")
              for j in range(G.ndim) if j != k]
    return [found]


def _expand_backward_shapes(case, G):
    k = _axis(case, case.inputs[0].ndim + 1)
    hints = [(G.shape, "Expand.backward returns G as it came: sum it over the repeated axis to get x's shape.")]
    hints += [(G.sum(axis=j).shape, f"Expand.backward sums G over axis {j}; the repeated axis is axis {k}.")
              for j in range(G.ndim) if j != k]
    return [hints]


def _squeeze_forward_shapes(case):
    x = case.inputs[0]
    k = _axis(case, x.ndim)
    hints = [(np.squeeze(x).shape, f"Squeeze(axis={case.params['axis']}) removes that one axis; you removed every "
                                   "axis of length 1 (np.squeeze(x) without axis=).")]
    hints += [(np.squeeze(x, axis=j).shape, f"Squeeze removes axis {k}; you removed axis {j}.")
              for j in range(x.ndim) if j != k and x.shape[j] == 1]
    return hints


def _squeeze_backward_shapes(case, G):
    x = case.inputs[0]
    k = _axis(case, x.ndim)
    hints = [(G.shape, "Squeeze.backward returns G as it came: put the removed axis back (np.expand_dims(G, "
                       "axis)).")]
    hints += [(np.expand_dims(G, j).shape, f"Squeeze.backward puts the axis back at position {j}; the removed axis "
                                           f"was axis {k}.") for j in range(x.ndim) if j != k]
    return [hints]


def _unsqueeze_forward_shapes(case):
    x = case.inputs[0]
    k = _axis(case, x.ndim + 1)
    hints = [(x.shape, "Unsqueeze inserts an axis of length 1; you returned x's own shape.")]
    hints += [(np.expand_dims(x, j).shape, f"Unsqueeze inserts the axis at position {k} (axis="
                                           f"{case.params['axis']}); yours is at position {j}.")
              for j in range(x.ndim + 1) if j != k]
    return hints


def _unsqueeze_backward_shapes(case, G):
    k = _axis(case, case.inputs[0].ndim + 1)
    hints = [(G.shape, "Unsqueeze.backward returns G as it came: remove the inserted axis (np.squeeze(G, axis)).")]
    if np.squeeze(G).shape != case.inputs[0].shape:
        hints.append((np.squeeze(G).shape, "Unsqueeze.backward removes the inserted axis only (np.squeeze(G, "
                                            "axis=axis)); you removed every axis of length 1, x's own too."))
    hints += [(np.squeeze(G, axis=j).shape, f"Unsqueeze.backward removes axis {j}; the inserted axis is {k}.")
              for j in range(G.ndim) if j != k and G.shape[j] == 1]
    return [hints]


def _normalize_mistakes(case, G):
    x = case.inputs[0]
    s = x.sum(axis=1, keepdims=True)
    return [[(G / s, "Normalize.backward: every x[i, j] also changes its row sum S[i]: subtract "
                     "(G * x).sum(axis=1, keepdims=True) / S**2."),
             (G / s - G * x / s**2, "Normalize.backward: the second term sums over the row: "
                                    "(G * x).sum(axis=1, keepdims=True) / S**2.")]]


CASES = [
    OpCase("Add", "2.1", ("x", "y")),
    OpCase("Multiply", "2.1", ("x", "y"),
           lambda c, G: [[(c.inputs[1], "Multiply.backward: G is missing: dx = G * y.")],
                         [(c.inputs[0], "Multiply.backward: G is missing: dy = G * x.")]]),
    OpCase("Divide", "2.1", ("x", "y"), _divide_mistakes),
    OpCase("Sigmoid", "2.1", mistakes=lambda c, G: [[(G * c.inputs[0] * (1 - c.inputs[0]),
                                                      "Sigmoid.backward: use the sigmoid's output y, not x: "
                                                      "dy/dx = y (1 - y).")]]),
    OpCase("ReLU", "2.1", mistakes=lambda c, G: [[((c.inputs[0] > 0).astype(float), "ReLU.backward must pass G "
                                                   "through where x > 0 (you returned the mask alone)."),
                                                  (np.where(c.inputs[0] >= 0, G, 0.0), "ReLU.backward: the "
                                                   "derivative at exactly 0 is 0: use x > 0.")]]),
    OpCase("Exp", "2.1"),
    OpCase("Log", "2.1", mistakes=lambda c, G: [[(G * c.inputs[0], "Log.backward: d log(x)/dx = 1/x: dx = G / x.")]]),
    OpCase("MatMul", "2.2", ("X", "W")),
    OpCase("Sum", "2.2", mistakes=_sum_mistakes, forward_shapes=_sum_forward_shapes,
           backward_shapes=_sum_backward_shapes,
           crash_hint="Sum.backward returns G broadcast back to x's shape: np.expand_dims(G, axis) first when an "
                      "axis was summed (G has one axis fewer than x), then np.broadcast_to(..., x.shape)."),
    OpCase("Expand", "2.2", mistakes=_expand_mistakes, forward_shapes=_expand_forward_shapes,
           backward_shapes=_expand_backward_shapes,
           crash_hint="Expand inserts the new axis at position axis (np.expand_dims(x, axis)) and repeats along it; "
                      "its backward sums G over that same axis."),
    OpCase("Normalize", "2.2", mistakes=_normalize_mistakes),
    OpCase("Squeeze", "2.2", forward_shapes=_squeeze_forward_shapes, backward_shapes=_squeeze_backward_shapes,
           crash_hint="Squeeze(axis) removes exactly that axis (np.squeeze(x, axis=axis)); its backward puts it "
                      "back (np.expand_dims(G, axis))."),
    OpCase("Unsqueeze", "2.2", forward_shapes=_unsqueeze_forward_shapes, backward_shapes=_unsqueeze_backward_shapes,
           crash_hint="Unsqueeze(axis) inserts an axis of length 1 at position axis (np.expand_dims(x, axis)); its "
                      "backward removes it (np.squeeze(G, axis=axis))."),
]
BY_NAME = {case.name: case for case in CASES}


def _reference(name: str, case: Case, G=None):
    """The reference's output, and its gradients for ``G`` (on copies: the parent's arrays stay intact)."""
    ctx: dict = {}
    op = getattr(ref, name)
    out = np.asarray(op.forward(ctx, *[a.copy() for a in case.inputs], **case.params))
    return out, (op.backward(ctx, np.array(G, copy=True)) if G is not None else None)


def _call(ctx: CheckContext, op: OpCase, runs: list[tuple[Case, np.ndarray | None]], part: str,
          readbacks: int | None = None) -> list:
    """All runs in one round trip (the first ``readbacks`` send their inputs back; default all); a crash is
    re-run case by case to name the case that raised it."""
    drivers = ctx.student.drivers()
    module = ctx.student.module("autograd").as_object()

    def request(subset):
        wire = [(module, op.name, list(c.inputs), dict(c.params), G, readback) for (c, G), readback in subset]
        return unpack(f"{op.name}.{part}", drivers.map("op_case", wire), len(subset))

    runs = [(run, k < (readbacks if readbacks is not None else len(runs))) for k, run in enumerate(runs)]
    try:
        return list(request(runs))
    except MissingName as missing:  # the driver looked it up: name it as the student's, not the grader's
        attr = missing.name.rsplit(".", 1)[-1]
        raise MissingName(f"autograd.{op.name}" + ("" if attr == op.name else f".{attr}")) from None
    except StudentCodeError as exc:
        if judge.passes_through(exc):  # reported by the engine, under the op's name rather than the driver's
            raise StudentCodeError(f"{op.name}.{part}", exc.info) from None
        for run in runs:
            try:
                request([run])
            except StudentCodeError as single:
                raise judge.crash(f"{op.name}.{part}", single, run[0][0].label, op.crash_hint) from None
        raise


def _grads(label: str, returned, count: int) -> list:
    if isinstance(returned, np.ndarray) or not isinstance(returned, (list, tuple)):
        kind = "an array" if isinstance(returned, np.ndarray) else type(returned).__name__
        raise CheckFailed(f"{label} returned {kind}, not a tuple of gradients.",
                          "backward returns one gradient per input, as a tuple: (dx,) for one input.")
    if len(returned) != count:
        raise CheckFailed(f"{label} returned {len(returned)} gradient(s) for {count} input(s).",
                          "backward returns exactly one gradient per input of forward.")
    return list(returned)


def _inputs_unchanged(label: str, op: OpCase, case: Case, held) -> None:
    held = unpack(f"{label}'s inputs", held, len(case.inputs))
    for name, sent, after in zip(op.names, case.inputs, held):
        judge.unchanged(label, name, sent, after, judge.INPLACE_HINT.format(x=name))


def _forward_check(ctx: CheckContext, op: OpCase) -> str:
    all_cases = cases(op.name, ctx.rng)
    results = _call(ctx, op, [(c, None) for c in all_cases], "forward")
    for case, result in zip(all_cases, results):
        out, after, *_ = unpack(f"{op.name}.forward", result, 5)
        expected, _ = _reference(op.name, case)
        judge.expect(f"{op.name}.forward on {case.label}", out, expected, shape_hints=op.forward_shapes(case))
        _inputs_unchanged(f"{op.name}.forward", op, case, after)
    return f"{len(all_cases)} cases"


def _backward_check(ctx: CheckContext, op: OpCase) -> str:
    all_cases = cases(op.name, ctx.rng)
    Gs = [ctx.rng.standard_normal(_reference(op.name, c)[0].shape) for c in all_cases]
    runs = list(zip(all_cases, Gs)) + [(c, np.zeros_like(G)) for c, G in zip(all_cases, Gs)]
    results = _call(ctx, op, runs, "backward", readbacks=len(all_cases))
    label = f"{op.name}.backward"
    for case, G, result in zip(all_cases, Gs, results):
        _, after_forward, returned, after, G_after = unpack(label, result, 5)
        where = f"{label} on {case.label}"
        grads = _grads(where, returned, len(case.inputs))
        _, expected = _reference(op.name, case, G)
        _, ones = _reference(op.name, case, np.ones_like(G))
        mistakes, shapes = op.mistakes(case, G), op.backward_shapes(case, G)
        for i, (got, want) in enumerate(zip(grads, expected)):
            known = (mistakes[i] if i < len(mistakes) else []) + [
                (ones[i], f"{label} ignores G: multiply the local derivative by the upstream gradient.")]
            judge.expect(f"d{op.names[i]} from {where} (G of shape {G.shape})", got, want, mistakes=known,
                         shape_hints=shapes[i] if i < len(shapes) else ())
        judge.unchanged(label, "G", G, G_after, judge.G_INPLACE_HINT)
        before = [as_array(f"{label}'s inputs", a) for a in unpack(f"{label}'s inputs", after_forward,
                                                                   len(case.inputs))]
        _inputs_unchanged(label, op, Case(tuple(before), case.params), after)  # what forward did is its own check
    for case, result in zip(all_cases, results[len(all_cases):]):
        returned = unpack(label, result, 5)[2]
        for i, g in enumerate(_grads(f"{label} on {case.label}", returned, len(case.inputs))):
            if np.any(as_array(f"d{op.names[i]}", g) != 0):
                raise CheckFailed(f"d{op.names[i]} from {label} on {case.label} is not zero when G is zero.",
                                  f"{label}: every gradient a backward returns must be proportional to G.")
    return f"{len(all_cases)} cases"


for _case in CASES:
    for _part, _run in (("forward", _forward_check), ("backward", _backward_check)):
        def _make(case=_case, part=_part, run=_run):
            def check(ctx: CheckContext) -> str:
                return run(ctx, case)
            check.__name__ = f"{case.name.lower()}_{part}"
            check.__doc__ = (f"{case.name}.forward on every case of its fixed list; inputs left unchanged."
                             if part == "forward" else
                             f"{case.name}.backward on every case: reference, zero G, finite differences; inputs "
                             "and G left unchanged.")
            return check
        A2.check(_case.task, f"{_case.name}.{_part}", points=1)(_make())

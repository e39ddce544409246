"""The fixed case list of every a2 op: which shapes and parameters each check covers.

Every run covers the same cases (every axis, negative axes, odd and even,
square and non-square shapes, 1-D to 3-D, the edge values the handout names);
the seed only draws the values. That way a bug that shows on one axis or one
shape fails under every seed, not under the seeds that happen to draw it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class Case:
    """One call of an op: its inputs, its keyword parameters, and how a message names it."""

    inputs: tuple[np.ndarray, ...]
    params: dict = field(default_factory=dict)

    @property
    def label(self) -> str:
        shapes = " and ".join(str(tuple(a.shape)) for a in self.inputs)
        noun = "input" if len(self.inputs) == 1 else "inputs"
        params = ", ".join(f"{k}={v}" for k, v in self.params.items())
        return f"{noun} of shape {shapes}" + (f" with {params}" if params else "")


ELEMENTWISE_SHAPES = ((3, 4), (4, 4), (5,), (2, 3, 2))


def _normal(rng, shape, scale=1.0):
    return scale * rng.standard_normal(shape)


def _nonzero(rng, shape):
    return rng.uniform(0.5, 2.0, shape) * rng.choice([-1.0, 1.0], shape)


def _positive(rng, shape):
    return rng.uniform(0.3, 3.0, shape)


def _binary(rng, second=_normal):
    return [Case((_normal(rng, s), second(rng, s))) for s in ELEMENTWISE_SHAPES]


def _unary(rng, draw=_normal):
    return [Case((draw(rng, s),)) for s in ELEMENTWISE_SHAPES]


def _relu(rng):
    cases = []
    for shape in ELEMENTWISE_SHAPES:
        x = _normal(rng, shape, 2.0)
        x.flat[::3] = 0.0  # the handout's edge value: the derivative at 0 is 0
        cases.append(Case((x,)))
    return cases


def _sigmoid(rng):
    cases = _unary(rng, lambda r, s: _normal(r, s, 2.0))
    wide = _normal(rng, (2, 5), 2.0)
    wide[0] = [-30.0, -12.0, 0.0, 12.0, 30.0]  # saturated on both sides, where a careless y (1 - y) breaks
    return cases + [Case((wide,))]


def _matmul(rng):
    shapes = (((2, 3), (3, 4)), ((3, 3), (3, 3)), ((4, 2), (2, 3)), ((1, 4), (4, 1)), ((3, 1), (1, 5)))
    return [Case((_normal(rng, a), _normal(rng, b))) for a, b in shapes]


SUM_CASES = (((3, 4), None), ((3, 4), 0), ((3, 4), 1), ((3, 4), -1), ((3, 4), -2), ((4, 4), 0), ((4, 4), 1),
             ((2, 3, 4), 0), ((2, 3, 4), 1), ((2, 3, 4), 2), ((2, 3, 4), -1), ((5,), 0), ((5,), None))


def _sum(rng):
    return [Case((_normal(rng, shape),), {"axis": axis}) for shape, axis in SUM_CASES]


EXPAND_CASES = (((3,), 0, 4), ((3,), 1, 4), ((3,), -1, 2), ((4,), 1, 4), ((3, 4), 0, 2), ((3, 4), 1, 5),
                ((3, 4), 2, 2), ((3, 4), -1, 3), ((3, 4), -2, 3), ((2, 3), 1, 1))


def _expand(rng):
    return [Case((_normal(rng, shape),), {"axis": axis, "size": size}) for shape, axis, size in EXPAND_CASES]


SQUEEZE_CASES = (((1, 3, 4), 0), ((3, 1, 4), 1), ((3, 4, 1), 2), ((3, 4, 1), -1), ((1, 3, 1), 0), ((1, 3, 1), 2),
                 ((4, 1), 1), ((1, 1), 0), ((1, 5), -2))


def _squeeze(rng):
    return [Case((_normal(rng, shape),), {"axis": axis}) for shape, axis in SQUEEZE_CASES]


UNSQUEEZE_CASES = (((3, 4), 0), ((3, 4), 1), ((3, 4), 2), ((3, 4), -1), ((3, 4), -3), ((5,), 0), ((5,), 1),
                   ((4, 4), 1), ((1, 4), 2), ((3, 1), 0))  # the last two: x has an axis of length 1 of its own


def _unsqueeze(rng):
    return [Case((_normal(rng, shape),), {"axis": axis}) for shape, axis in UNSQUEEZE_CASES]


def _normalize(rng):
    return [Case((_positive(rng, s),)) for s in ((3, 4), (4, 4), (1, 5), (5, 1), (2, 3))]


DRAW: dict[str, Callable[[np.random.Generator], list[Case]]] = {
    "Add": _binary,
    "Multiply": _binary,
    "Divide": lambda rng: _binary(rng, _nonzero),
    "Sigmoid": _sigmoid,
    "ReLU": _relu,
    "Exp": _unary,
    "Log": lambda rng: _unary(rng, _positive),
    "MatMul": _matmul,
    "Sum": _sum,
    "Expand": _expand,
    "Normalize": _normalize,
    "Squeeze": _squeeze,
    "Unsqueeze": _unsqueeze,
}


def cases(name: str, rng: np.random.Generator) -> list[Case]:
    """The fixed cases of op ``name`` with values drawn from ``rng``."""
    return DRAW[name](rng)

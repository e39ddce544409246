"""Judge numeric and matrix answers, with PrairieLearn's comparison rules.

- ``relabs``: |got - expected| <= atol + rtol * |expected| (PrairieLearn's default, rtol 1e-2).
- ``sigfig``: ``got`` agrees with ``expected`` to ``digits`` significant figures,
  i.e. |got - expected| <= 0.5 * 10**(floor(log10|expected|) - digits + 1).
- matrices: every element by the same rule, with partial credit per row.

Each function raises ``CheckFailed`` with what was expected, what was given,
and a hint for known wrong answers (``mistakes``: value -> hint).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from grader.assignment import CheckFailed
from grader.checks.answers import check_numbers
from grader.checks.compare import fmt


@dataclass(frozen=True)
class Tolerance:
    """How close is close enough: relabs (rtol, atol) or sigfig (digits)."""

    rtol: float = 1e-2
    atol: float = 1e-8
    digits: int | None = None

    def accepts(self, got: float, expected: float) -> bool:
        if not math.isfinite(got):
            return False
        if self.digits is not None:
            if expected == 0:
                return abs(got) <= self.atol
            scale = 10 ** (math.floor(math.log10(abs(expected))) - self.digits + 1)
            return abs(got - expected) <= 0.5 * scale + 1e-12 * abs(expected)
        return abs(got - expected) <= self.atol + self.rtol * abs(expected)

    def describe(self) -> str:
        if self.digits is not None:
            return f"{self.digits} significant figures"
        return f"relative tolerance {self.rtol:g}"


def judge_number(name: str, got, expected: float, tolerance: Tolerance = Tolerance(),
                 mistakes: Sequence[tuple[float, str]] = ()) -> str:
    """Pass (returning a message) or raise ``CheckFailed``."""
    if isinstance(got, bool) or not isinstance(got, (int, float)):
        raise CheckFailed(f"{name} should be a number, got {type(got).__name__} {repr(got)[:40]}.")
    check_numbers(name, got)
    got = float(got)
    if tolerance.accepts(got, expected):
        return f"{name} = {fmt(got)}: correct."
    hint = next((text for value, text in mistakes if Tolerance(rtol=1e-3, atol=1e-9).accepts(got, value)), "")
    raise CheckFailed(f"{name} = {fmt(got)} is not correct (to {tolerance.describe()}).", hint)


def judge_matrix(name: str, got, expected: np.ndarray, tolerance: Tolerance = Tolerance(rtol=1e-3, atol=1e-3),
                 mistakes: Sequence[tuple[np.ndarray, str]] = ()) -> str:
    """Element-wise comparison with partial credit per correct row."""
    expected = np.asarray(expected, dtype=float)
    if isinstance(got, list):
        check_numbers(name, got)
        if any(isinstance(row, list) and any(isinstance(v, bool) for v in row) for row in got):
            raise CheckFailed(f"{name} holds true/false values; it should be rows of numbers.")
        widths = {len(row) for row in got if isinstance(row, list)}
        if len(widths) > 1:
            raise CheckFailed(f"{name} has rows of different lengths ({', '.join(map(str, sorted(widths)))}); "
                              f"expected {expected.shape[0]} rows of {expected.shape[1]} numbers.")
    try:
        array = np.array(got, dtype=float)
    except (TypeError, ValueError, OverflowError):
        raise CheckFailed(f"{name} should be a list of rows of numbers, e.g. [[1.0, 2.0], [3.0, 4.0]].") from None
    if array.shape != expected.shape:
        raise CheckFailed(f"{name} has shape {array.shape}, expected {expected.shape} "
                          f"({expected.shape[0]} rows of {expected.shape[1]} numbers).")
    ok = np.vectorize(tolerance.accepts)(array, expected)
    rows_ok = ok.all(axis=1)
    if rows_ok.all():
        return f"{name}: all {array.size} entries correct."
    r, c = map(int, np.argwhere(~ok)[0])
    hint = ""
    for candidate, text in mistakes:
        if np.allclose(array, candidate, rtol=1e-3, atol=1e-3):
            hint = text
            break
    raise CheckFailed(f"{name}: {int((~rows_ok).sum())} of {len(rows_ok)} rows are wrong; first at row {r}, "
                      f"column {c}: got {fmt(array[r, c])}.", hint, fraction=float(rows_ok.mean()))

"""Compare a student's array with the expected one and explain any difference.

``assert_close`` raises ``CheckFailed`` with a message that says what, where,
expected, got and by how much, plus a hint when the student's array matches a
known mistake: one the check names explicitly (``mistakes=``), or one found
generically (transposed, sign flipped, scaled by a named constant such as N or
in_features, off by a factor of 2).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from fractions import Fraction

import numpy as np

from grader.assignment import CheckFailed
from grader.runner.wire import Handle

RTOL = 1e-6
ATOL = 1e-8


def fmt(x: float) -> str:
    """Format a number compactly for messages."""
    if not np.isfinite(x):
        return str(x)
    return f"{x:.6g}" if abs(x) >= 1e-4 or x == 0 else f"{x:.3e}"


def as_array(name: str, value, *, dtype_kind: str = "f") -> np.ndarray:
    """Accept an ndarray or a number (0-d); reject anything else with a clear message."""
    if isinstance(value, Handle) or hasattr(value, "type_name"):
        type_name = getattr(value, "type_name", "object")
        if type_name.startswith("ndarray"):
            raise CheckFailed(f"{name} is a non-numeric array ({type_name}); return a float64 array.")
        raise CheckFailed(f"{name} should be a NumPy array, got an object of type {type_name}.")
    if isinstance(value, bool) or value is None or isinstance(value, (str, list, tuple, dict)):
        kind = "None" if value is None else type(value).__name__
        extra = " (did you forget a return statement?)" if value is None else ""
        raise CheckFailed(f"{name} should be a NumPy array, got {kind}{extra}.")
    array = np.asarray(value)
    if array.dtype.kind == "b" or (dtype_kind == "f" and array.dtype.kind not in "iuf"):
        raise CheckFailed(f"{name} has dtype {array.dtype}; expected numbers.")
    return array.astype(np.float64) if dtype_kind == "f" else array


def as_scalar(name: str, value) -> float:
    """Accept a Python/NumPy number or a 1-element array as a float."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    array = as_array(name, value)
    if array.size != 1:
        raise CheckFailed(f"{name} should be a single number, got an array of shape {array.shape}.")
    return float(array.reshape(()))


def _scale_hint(got: np.ndarray, expected: np.ndarray, constants: Mapping[str, float], rtol: float,
                atol: float) -> str:
    denom = float(np.vdot(expected, expected))
    if denom == 0.0:
        return ""
    c = float(np.vdot(got, expected)) / denom
    if not np.allclose(got, c * expected, rtol=rtol * 10, atol=atol * 10) or abs(c - 1) < 1e-9:
        return ""
    if abs(c) < 1e-12:
        return "Your result is all zeros."
    if abs(c + 1) < 1e-6:
        return "Your result has the wrong sign everywhere: check the sign of the gradient or update."
    for name, k in constants.items():
        if k not in (0, 1) and abs(c - 1 / k) < 1e-6 * abs(1 / k):
            return (f"Your result is exactly the expected one divided by {fmt(k)} = {name}. "
                    "Remove that division (something else already takes care of the averaging).")
        if k not in (0, 1) and abs(c - k) < 1e-6 * abs(k):
            return f"Your result is exactly the expected one multiplied by {fmt(k)} = {name}."
    if abs(c - 0.5) < 1e-6:
        return "Your result is half the expected one: a factor 2 is missing (d/dx of x**2 is 2x)."
    if abs(c - 2) < 1e-6:
        return "Your result is twice the expected one: there is an extra factor 2."
    frac = Fraction(c).limit_denominator(64)
    if abs(float(frac) - c) < 1e-9 * max(1, abs(c)):
        return f"Your result is the expected one times {frac}: look for a stray constant factor."
    return f"Your result is the expected one times {fmt(c)}: look for a stray constant factor."


def assert_close(
    name: str,
    got,
    expected: np.ndarray,
    *,
    rtol: float = RTOL,
    atol: float = ATOL,
    mistakes: Sequence[tuple[np.ndarray, str]] = (),
    constants: Mapping[str, float] | None = None,
) -> np.ndarray:
    """Fail with a located, explained message unless ``got`` matches ``expected``.

    ``mistakes`` are (array a known mistake would produce, hint) pairs, tried in
    order; ``constants`` name numbers a wrong scale factor may equal.
    """
    expected = np.asarray(expected, dtype=np.float64)
    got = as_array(name, got)
    constants = constants or {}
    if got.shape != expected.shape:
        hint = ""
        if got.ndim == 2 and got.shape == expected.T.shape and np.allclose(got.T, expected, rtol=rtol, atol=atol):
            hint = "Your result is the transpose of the expected one."
        elif got.size == expected.size and np.allclose(got.reshape(expected.shape), expected, rtol=rtol, atol=atol):
            hint = "The values are right but the shape is not: reshape (or keep the dimensions you reduced)."
        elif expected.size > 1 and got.size == expected.size**2:
            hint = ("This looks like a full Jacobian. A backward returns the vector-Jacobian product: the upstream "
                    "gradient times the Jacobian, shaped like the input.")
        for candidate, text in mistakes:
            if not hint and np.shape(candidate) == got.shape and np.allclose(got, candidate, rtol=rtol, atol=atol):
                hint = text
        raise CheckFailed(f"{name} has shape {got.shape}, expected {expected.shape}.", hint)
    bad_nonfinite = ~np.isfinite(got) & np.isfinite(expected)
    if bad_nonfinite.any():
        index = tuple(int(i) for i in np.argwhere(bad_nonfinite)[0])
        count = int(bad_nonfinite.sum())
        raise CheckFailed(
            f"{name} contains non-finite values: {fmt(got[index])} at {list(index)} "
            f"({count} of {got.size} elements), expected {fmt(expected[index])}.",
            "Look for overflow in exp, a division by zero, or log of 0.",
        )
    close = np.isclose(got, expected, rtol=rtol, atol=atol, equal_nan=True)
    if close.all():
        return got
    error = np.array(np.abs(got - expected), dtype=np.float64)
    error[close] = 0
    error = np.nan_to_num(error, nan=np.inf)
    index = np.unravel_index(int(np.argmax(error)), got.shape)
    g, e = float(got[index]), float(expected[index])
    rel = abs(g - e) / max(abs(e), atol)
    where = f" at {[int(i) for i in index]}" if got.ndim else ""
    message = (f"{name} differs{where}: got {fmt(g)}, expected {fmt(e)} (rel err {rel:.1e}); "
               f"{int((~close).sum())} of {got.size} elements differ.")
    hint = ""
    for candidate, text in mistakes:
        candidate = np.asarray(candidate, dtype=np.float64)
        if candidate.shape == got.shape and np.allclose(got, candidate, rtol=rtol * 10, atol=atol * 10):
            hint = text
            break
    if not hint:
        hint = _scale_hint(got, expected, constants, rtol, atol)
    square = got.ndim == 2 and got.shape[0] == got.shape[1]
    if not hint and square and np.allclose(got.T, expected, rtol=rtol, atol=atol):
        hint = "Your result is the transpose of the expected one."
    raise CheckFailed(message, hint)


def unpack(name: str, value, count: int) -> tuple:
    """Exactly ``count`` values from the sandbox, or ``CheckFailed``: malformed data is never a grader crash."""
    if not isinstance(value, (list, tuple)) or len(value) != count:
        kind = f"{len(value)} values" if isinstance(value, (list, tuple)) else type(value).__name__
        raise CheckFailed(f"{name} returned malformed data ({kind}; expected {count} values).")
    return tuple(value)


def arrays(name: str, value, count: int, shape: tuple[int, ...] | None = None) -> list[np.ndarray]:
    """``count`` numeric arrays from the sandbox (e.g. outputs at finite-difference points).

    With ``shape``, each must have it (checked before any arithmetic on it, see ``expect_shape``).
    """
    items = unpack(name, value, count)
    if shape is None:
        return [as_array(f"{name}[{i}]", item) for i, item in enumerate(items)]
    return [expect_shape(name, item, shape) for item in items]


def expect_shape(name: str, got, shape: tuple[int, ...], hint: str = "",
                 ignored: Mapping[str, tuple[int, ...]] | None = None) -> np.ndarray:
    """Shape and dtype before value: ``got`` as a float64 array of exactly ``shape``, or ``CheckFailed``.

    Checks must call this (or ``assert_close``, which does) before any arithmetic on a
    student's array, so a wrong shape is a named failure, never a broadcasting error in
    the grader. ``ignored`` maps what a student may have ignored ("stride = 2") to the
    shape that mistake gives; the first match becomes the hint.
    """
    array = as_array(name, got)
    shape = tuple(int(d) for d in shape)
    if array.shape != shape:
        raise CheckFailed(f"{name} has shape {array.shape}, expected {shape}.",
                          likely_ignored(array.shape, ignored or {}) or hint)
    return array


def likely_ignored(got_shape: tuple[int, ...], ignored: Mapping[str, tuple[int, ...]]) -> str:
    """Name the argument whose neglect would give ``got_shape`` ("" when none does)."""
    for what, shape in ignored.items():
        if tuple(got_shape) == tuple(shape):
            return f"Your output has the shape you get when {what} is ignored."
    return ""

"""Judging what an a2 op sent back: type, dtype and shape before any value, and inputs left as they were.

``expect`` fails with expected-vs-got (and the argument most likely ignored)
before any arithmetic touches a wrongly shaped array, so a plausible bug is a
named failure, never a crash in the grader. ``unchanged`` compares what the
sandbox holds after a call with the parent's own copy of what it sent.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from grader.authoring import CheckFailed, StudentCodeError, as_array, assert_close, fmt

INPLACE_HINT = ("Never modify an array you are given ({x} += ..., {x}[...] = ..., np.exp({x}, out={x})): the same "
                "array may be used by other ops in the graph. Compute a new array instead.")
G_INPLACE_HINT = ("Never modify G in place (G *= ..., G[...] = ...): the engine may hand the same G to several "
                  "ops, or keep it as another tensor's gradient. Compute a new array (G * y, np.where(m, G, 0)).")


def expect(name: str, got, expected: np.ndarray, *, mistakes: Sequence[tuple[np.ndarray, str]] = (),
           shape_hints: Sequence[tuple[tuple, str]] = ()) -> np.ndarray:
    """``got`` must be a float64 array (or a number) of ``expected``'s shape, then close to it."""
    expected = np.asarray(expected, dtype=np.float64)
    if isinstance(got, np.ndarray) and got.dtype != np.float64:
        kind = "an integer" if got.dtype.kind in "iu" else "a boolean" if got.dtype.kind == "b" else "a"
        raise CheckFailed(f"{name} has dtype {got.dtype}, expected float64 (shape {expected.shape}).",
                          f"You return {kind} {got.dtype} array: the grader sends float64 arrays and compares in "
                          "float64, so keep the result float64 (do not create arrays with another dtype, or cast "
                          "with .astype(np.float64)).")
    array = as_array(name, got)
    if array.shape != expected.shape:
        for shape, hint in shape_hints:
            if tuple(shape) == array.shape:
                raise CheckFailed(f"{name} has shape {array.shape}, expected {expected.shape}.", hint)
    return assert_close(name, array, expected, mistakes=mistakes)


def unchanged(what: str, name: str, sent: np.ndarray, held, hint: str) -> None:
    """Fail with "writes into its input" unless the sandbox's ``held`` equals the parent's copy ``sent``."""
    try:
        after = as_array(name, held)
    except CheckFailed:
        after = None
    if after is not None and after.shape == sent.shape and np.array_equal(after, sent, equal_nan=True):
        return
    message = f"{what} writes into its input {name}: after the call, {name} is not what the grader passed"
    if after is not None and after.shape == sent.shape:
        index = tuple(int(i) for i in np.argwhere(~((after == sent) | (np.isnan(after) & np.isnan(sent))))[0])
        message += f" ({fmt(sent[index])} at {list(index)} became {fmt(after[index])})"
    elif after is not None:
        message += f" (its shape changed from {sent.shape} to {after.shape})"
    raise CheckFailed(message + ".", hint)


def crash(label: str, exc: StudentCodeError, case: str, hint: str) -> CheckFailed:
    """A student exception on one named case, as a failure that says which case and where."""
    info = exc.info
    where = f" at {info['where']}" if info.get("where") else ""
    line = f": `{info['line'].strip()}`" if info.get("line") else ""
    return CheckFailed(f"{label} raised {info.get('type', 'Exception')} on {case}: {info.get('message', '')}"
                       f"{where}{line}", hint)


def passes_through(exc: StudentCodeError) -> bool:
    """Exceptions the engine reports better itself: not implemented, forbidden import, out of memory."""
    return exc.not_implemented or bool(exc.info.get("forbidden")) or exc.info.get("type") in ("MemoryError",
                                                                                                "SystemExit")

"""Check an analytic gradient against finite differences of the forward.

Directional (JVP-style) probes first: for a few random unit directions ``v``,
``(f(x + h v) - f(x - h v)) / 2h`` must equal ``<grad, v>``. That costs two
forward evaluations per probe whatever the size of ``x``. Only when a probe
disagrees do we pay for central differences element by element, to tell the
student *which* element is wrong.

``evaluate`` takes a list of points and returns their scalar values, so a
remote forward can evaluate all of them in one round trip.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from grader.checks.compare import arrays, fmt

Evaluate = Callable[[Sequence[np.ndarray]], Sequence[float]]
MAX_LOCATE_ELEMENTS = 512


@dataclass(frozen=True)
class GradcheckResult:
    """Outcome of a finite-difference check; ``worst`` locates a bad element."""

    ok: bool
    evaluations: int
    detail: str = ""
    worst: tuple[int, ...] | None = None


def _tolerance(analytic: float, numeric: float, scale: float, rtol: float, atol: float) -> bool:
    return abs(analytic - numeric) <= atol + rtol * max(abs(analytic), abs(numeric), scale)


def directional_check(name: str, evaluate: Evaluate, x: np.ndarray, grad: np.ndarray, rng: np.random.Generator,
                      *, probes: int = 3, h: float = 1e-6, rtol: float = 1e-5, atol: float = 1e-8,
                      locate: bool = True) -> GradcheckResult:
    """Compare ``grad`` with central differences of ``evaluate`` around ``x``."""
    x = np.asarray(x, dtype=np.float64)
    grad = np.asarray(grad, dtype=np.float64)
    directions = []
    for _ in range(probes):
        v = rng.standard_normal(x.shape)
        directions.append(v / max(np.linalg.norm(v), 1e-300))
    values = evaluate([x + h * v for v in directions] + [x - h * v for v in directions])
    evaluations = 2 * probes
    scale = float(np.linalg.norm(grad)) * 1e-3
    for i, v in enumerate(directions):
        numeric = (values[i] - values[i + probes]) / (2 * h)
        analytic = float(np.vdot(grad, v))
        if not _tolerance(analytic, numeric, scale, rtol, atol):
            detail = (f"along a random direction, {name} predicts a change of {fmt(analytic)} "
                      f"but the forward changes by {fmt(numeric)}")
            if not locate or x.size > MAX_LOCATE_ELEMENTS:
                return GradcheckResult(False, evaluations, detail)
            located = elementwise_check(name, evaluate, x, grad, h=h, rtol=rtol, atol=atol)
            return GradcheckResult(False, evaluations + located.evaluations, located.detail or detail, located.worst)
    return GradcheckResult(True, evaluations)


def numeric_gradient(evaluate: Evaluate, x: np.ndarray, h: float = 1e-6) -> np.ndarray:
    """Central differences, one pair of evaluations per element."""
    x = np.asarray(x, dtype=np.float64)
    points = []
    for index in np.ndindex(x.shape):
        for sign in (1.0, -1.0):
            p = x.copy()
            p[index] += sign * h
            points.append(p)
    values = np.asarray(evaluate(points), dtype=np.float64).reshape(-1, 2)
    return ((values[:, 0] - values[:, 1]) / (2 * h)).reshape(x.shape)


def elementwise_check(name: str, evaluate: Evaluate, x: np.ndarray, grad: np.ndarray, *, h: float = 1e-6,
                      rtol: float = 1e-5, atol: float = 1e-8) -> GradcheckResult:
    """Per-element central differences: slow, precise, and says where."""
    numeric = numeric_gradient(evaluate, x, h)
    error = np.abs(numeric - grad) - (atol + rtol * np.maximum(np.abs(numeric), np.abs(grad)))
    evaluations = 2 * x.size
    if (error <= 0).all():
        return GradcheckResult(True, evaluations)
    worst = tuple(int(i) for i in np.unravel_index(int(np.argmax(error)), x.shape))
    bad = int((error > 0).sum())
    detail = (f"finite differences of the forward give {name}{list(worst)} = {fmt(numeric[worst])}, "
              f"the backward gives {fmt(grad[worst])} ({bad} of {x.size} elements disagree)")
    return GradcheckResult(False, evaluations, detail, worst)


def weighted_sums(name: str, outputs, count: int, G: np.ndarray) -> list[float]:
    """``sum(G * out)`` for each of the student's forward outputs, after checking each one's shape.

    The scalar a finite-difference probe needs. A forward whose output has the wrong
    shape fails here with a named message instead of broadcasting (or crashing) in the grader.
    """
    return [float(np.sum(G * out)) for out in arrays(name, outputs, count, shape=np.shape(G))]


def own_forward(ctx, evaluate: Evaluate) -> Evaluate | None:
    """``evaluate``, or None when the forward it runs already failed its own check in this run.

    For ``verify_gradient``: with the assignment isolating components, a backward check
    declares ``depends_on=(the forward's component,)`` and is then judged against the
    reference alone, so a wrong forward is not charged a second time in its backward.
    """
    return None if getattr(ctx, "failed_components", ()) else evaluate


def verify_gradient(ctx, name: str, got, expected: np.ndarray, evaluate: Evaluate | None, at: np.ndarray, *,
                    constants=None, mistakes=(), rtol: float = 1e-6) -> None:
    """Verify a student's gradient two ways: against the reference, and by finite differences.

    ``evaluate`` maps points (values of the input ``at`` is the current value of)
    to the scalar ``sum(G * forward(point))`` of the STUDENT's forward. A
    mismatch with the reference fails with a located message and a hint; a
    gradient that matches the reference but not the student's own forward fails
    too, pointing at the forward. ``evaluate=None`` skips the finite differences: a
    check passes it when the student's forward already failed its own check (one
    mistake, counted once: the reference alone then judges the gradient).
    """
    from grader.assignment import CheckFailed
    from grader.checks.compare import as_array, assert_close

    try:
        assert_close(name, got, expected, rtol=rtol, constants=constants, mistakes=mistakes)
    except CheckFailed as failure:
        got_array = as_array(name, got)
        if evaluate is not None and got_array.shape == np.shape(at) and np.isfinite(got_array).all():
            try:
                consistent = directional_check(name, evaluate, at, got_array, ctx.rng, locate=False)
            except CheckFailed:  # the forward itself is broken: the reference comparison says enough
                raise failure from None
            if consistent.ok:
                failure.message += (" It does agree with finite differences of your own forward, "
                                    "so your forward computes a different function than the handout's.")
        raise failure
    if evaluate is None:
        return
    result = directional_check(name, evaluate, at, np.asarray(got, dtype=np.float64), ctx.rng)
    if not result.ok:
        raise CheckFailed(f"{name} matches the reference but not finite differences of your forward: "
                          f"{result.detail}.", "Your forward is not the handout's function: fix it first.")

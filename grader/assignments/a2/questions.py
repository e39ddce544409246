"""The written questions of a2: what each states, and how each part is judged.

Each part is a ``GradientQuestion``; the truth is derived from the forward by
finite differences, so only the forward and a model answer are written here.
"""

from __future__ import annotations

import numpy as np

from grader.authoring import GradientQuestion, Var

_XY = {"X": Var(("n", "m")), "Y": Var(("n", "m"), "nonzero")}

QUESTIONS: tuple[GradientQuestion, ...] = (
    GradientQuestion(
        "div_backward", "dX", "f(X, Y) = X / Y, element-wise, X and Y of the same shape. With upstream gradient G, "
        "give dX (in terms of G, X, Y).", _XY, "X / Y", "X", "G / Y",
        mistakes=(("1 / Y", "The upstream gradient G is missing: dX = G times the local derivative."),)),
    GradientQuestion(
        "div_backward", "dY", "Same f(X, Y) = X / Y: give dY.", _XY, "X / Y", "Y", "-G * X / Y**2",
        mistakes=(("-G * X / Y", "Wrong power of Y: d(1/Y)/dY = -1/Y**2, so dY = -G * X / Y**2."),
                  ("G * X / Y**2", "The minus sign is missing: X / Y decreases when Y grows (for X, Y > 0)."),
                  ("-X / Y**2", "G is missing: multiply the local derivative by the upstream gradient."))),
    GradientQuestion(
        "elementwise_backward", "dX", "Y = f(X) applied element-wise, f' written fprime. Give dX in terms of G, X "
        "and fprime(X).", {"X": Var(("n", "m"))}, "f(X)", "X", "G * fprime(X)", abstract_f=True,
        mistakes=(("fprime(X)", "G is missing: dX = G * fprime(X), element-wise."),)),
    GradientQuestion(
        "matmul_backward", "dX", "Y = X @ W with X (n, f) and W (f, m). Give dX.",
        {"X": Var(("n", "f")), "W": Var(("f", "m"))}, "X @ W", "X", "G @ W.T"),
    GradientQuestion(
        "matmul_backward", "dW", "Same Y = X @ W: give dW.",
        {"X": Var(("n", "f")), "W": Var(("f", "m"))}, "X @ W", "W", "X.T @ G"),
    GradientQuestion(
        "expand_backward", "dx", "y = Expand(x, axis=1, size=16): x of shape (n,) repeated into (n, 16). Give dx.",
        {"x": Var(("n",))}, "x", "x", "G.sum(axis=1)",
        forward_fn=lambda v: np.repeat(v["x"][:, None], 16, axis=1),
        mistakes=(("16 * G", "Broadcasting backward SUMS G over the repeated axis; it does not multiply by the "
                             "repeat count."),
                  ("G.mean(axis=1)", "Sum G over the repeated axis, do not average it: each copy of x[i] "
                                     "contributes G[i, j]."))),
    GradientQuestion(
        "normalize_backward", "dX", "Z = X / S with S = X.sum(axis=1, keepdims=True) (rows divided by their sums). "
        "Give dX; you may use S.", {"X": Var(("n", "m"), "positive")}, "X / X.sum(axis=1, keepdims=True)", "X",
        "G / S - (G * X).sum(axis=1, keepdims=True) / S**2", derived={"S": "X.sum(axis=1, keepdims=True)"},
        mistakes=(("G / S", "Every X[i, j] also changes S[i]: add the term "
                            "-(G * X).sum(axis=1, keepdims=True) / S**2."),
                  ("G / S - G * X / S**2", "The second term sums over the row: -(G * X).sum(axis=1, keepdims=True) "
                                           "/ S**2."))),
)


def describe() -> str:
    """The question list as `dlgrade show a2` prints it."""
    lines = []
    for q in QUESTIONS:
        lines.append(f"[{q.table}] {q.key}: {q.prompt}")
    lines.append("Answers are exact formulas in NumPy syntax (G / Y, np.dot(G, W.T), G.sum(axis=1, keepdims=True); "
                 "** is the power, ^ is XOR) or LaTeX between $...$ (\\frac{G}{2}, A^\\top G, A \\mathbf{1} "
                 "for row sums kept as a column); see docs/writing-answers.md. Approximations such as finite "
                 "differences are refused.")
    return "\n".join(lines)

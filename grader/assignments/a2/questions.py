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
        mistakes=(("-G * X / Y", "Wrong power of Y: the derivative of 1/Y is minus one over Y squared, not over Y."),
                  ("G * X / Y**2", "The minus sign is missing: X / Y decreases when Y grows (for X, Y > 0)."),
                  ("-X / Y**2", "G is missing: multiply the local derivative by the upstream gradient."))),
    GradientQuestion(
        "elementwise_backward", "dX", "Y = f(X) applied element-wise, f' written fprime. Give dX in terms of G, X "
        "and fprime(X).", {"X": Var(("n", "m"))}, "f(X)", "X", "G * fprime(X)", abstract_f=True,
        mistakes=(("fprime(X)", "G is missing: multiply the local derivative by the upstream gradient, element by "
                                "element."),)),
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
        # Hints say in words what is missing: an expression that completes the answer would be the answer.
        mistakes=(("G / S", "Every X[i, j] also changes S[i], the sum of its row, and through it every Z[i, k]: "
                            "your answer lacks the term that comes from S, which collects G * X over the whole row."),
                  ("G / S - G * X / S**2", "The second term sums over the row: S[i] depends on every X[i, k], "
                                           "so each dX[i, j] collects G * X from the whole row i, kept as a column."))),
)


def describe() -> str:
    """The question list as `dlgrade show a2` prints it."""
    lines = []
    for q in QUESTIONS:
        lines.append(f"[{q.table}] {q.key}: {q.prompt}")
    # The syntax examples use names no question has (A, B): an example must never be an answer.
    lines.append("Answers are exact formulas in the question's names (G is the upstream gradient), in NumPy syntax "
                 "(A / B, np.dot(A, B.T), A.sum(axis=1, keepdims=True); ** is the power, ^ is XOR) or LaTeX between "
                 "$...$ (\\frac{A}{2}, A^\\top B, A \\mathbf{1} for row sums kept as a column); every spelling: "
                 "`dlgrade docs answers`. Approximations such as finite differences are refused.")
    return "\n".join(lines)

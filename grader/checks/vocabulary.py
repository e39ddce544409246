"""Named functions a written answer may use, each defined once by its SymPy meaning.

The answer language has a fixed core (``exp``, ``log``, ``sqrt``, ``tanh``,
``cosh``, ``sinh``, ``abs``, ``sigmoid``, and ``ceil``/``floor``, which are defined
here like any other ``Function``: counts of batches round). A course whose question needs more
(``softplus``, ``sech``, a function of its own) adds a ``Function`` to the
question's ``vocabulary``: the name students write (``softplus(X)``, or
``\\softplus(X)`` / ``\\operatorname{softplus}(X)`` in LaTeX) and what it means,
as a SymPy expression in one variable. From that one meaning the judge derives
its float64 version (for screening), its multi-precision version (for the
40/80-digit comparison) and its symbolic version (for proofs), so the three
can never disagree.

    from grader.authoring import Function   # or grader.checks.vocabulary
    softplus = Function("softplus", lambda x: sympy.log(1 + sympy.exp(x)))
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

__all__ = ["Function", "SOFTPLUS", "SECH", "COS", "SIN", "CEIL", "FLOOR", "CORE"]


@dataclass(frozen=True)
class Function:
    """A scalar function students may name in an answer, applied element-wise.

    ``meaning`` maps a SymPy symbol to a SymPy expression (``lambda x: sympy.log(1 + sympy.exp(x))``). The
    name must be a plain identifier; it is also read as a LaTeX command (``\\name``).
    """

    name: str
    meaning: Callable

    def __post_init__(self) -> None:
        if not self.name.isidentifier() or self.name.startswith("_"):
            raise ValueError(f"a vocabulary function needs a plain identifier as its name, not {self.name!r}")

    def sympy(self, argument):
        """The function applied to a SymPy expression."""
        return self.meaning(argument)

    @functools.cached_property
    def _expression(self):
        import sympy

        x = sympy.Symbol("x", real=True)
        return x, self.meaning(x)

    @functools.cached_property
    def float64(self) -> Callable[[np.ndarray], np.ndarray]:
        """The function on float64 arrays (NumPy)."""
        import sympy

        x, expression = self._expression
        return sympy.lambdify(x, expression, "numpy")

    def precise(self, context) -> Callable:
        """The function on NumPy object arrays of numbers of the mpmath ``context`` (its own precision)."""
        return _precise(self, context)


@functools.lru_cache(maxsize=256)
def _precise(function: Function, context) -> Callable:
    import sympy

    x, expression = function._expression
    namespace = {n: getattr(context, n) for n in dir(context) if not n.startswith("_")}
    scalar = sympy.lambdify(x, expression, modules=[namespace, "mpmath"])
    return np.frompyfunc(scalar, 1, 1)


def _sympy(name: str) -> Callable:
    def meaning(x):
        import sympy

        return getattr(sympy, name)(x)
    return meaning


def _softplus(x):
    import sympy

    return sympy.log(1 + sympy.exp(x))


SOFTPLUS = Function("softplus", _softplus)
SECH = Function("sech", _sympy("sech"))
COS = Function("cos", _sympy("cos"))
SIN = Function("sin", _sympy("sin"))


# Core functions defined by their SymPy meaning (grader/checks/expressions.py derives its float64 and
# multi-precision versions from these on first use, and to_sympy uses the meaning itself).
CEIL = Function("ceil", _sympy("ceiling"))
FLOOR = Function("floor", _sympy("floor"))
CORE = {f.name: f for f in (CEIL, FLOOR)}

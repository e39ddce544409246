"""A question's own functions: defined once by their SymPy meaning, read in Python and LaTeX, judged like any other."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
import sympy

from grader.checks import expressions as ex
from grader.checks.symbolic import GradientQuestion, Var, judge
from grader.checks.vocabulary import SOFTPLUS, Function

SEEDS = (0, 1, 2, 3)
TANH = GradientQuestion("tanh_backward", "dX", "Y = tanh(X). Give dX.", {"X": Var(("n", "m"))}, "tanh(X)", "X",
                        "G * (1 - tanh(X)**2)")
SOFT = GradientQuestion("softplus_backward", "dX", "Y = softplus(X). Give dX.", {"X": Var(("n", "m"))},
                        "softplus(X)", "X", "G * sigmoid(X)", vocabulary=(SOFTPLUS,))


@pytest.mark.parametrize("text", ["G * (1 - tanh(X)**2)", "$G \\odot (1 - \\tanh^2(X))$", "G / np.cosh(X)**2",
                                  "$\\frac{G}{\\cosh^2(X)}$", "G * (1 - np.sinh(X)**2 / np.cosh(X)**2)"])
def test_hyperbolic_answers_are_read_and_judged(text):
    for seed in SEEDS:
        assert judge(TANH, text, seed=seed).status == "passed", (text, seed)


@pytest.mark.parametrize("text", ["G * (1 - tanh(X))", "$\\frac{G}{\\cosh(X)}$", "$G \\odot \\tanh^2(X)$"])
def test_wrong_hyperbolic_answers_fail_under_every_seed(text):
    for seed in SEEDS:
        assert judge(TANH, text, seed=seed).status == "failed", (text, seed)


@pytest.mark.parametrize("text", ["G * sigmoid(X)", "$G \\odot \\sigma(X)$", "G * np.exp(X) / (1 + np.exp(X))",
                                  "G * (1 - np.exp(-softplus(X)))"])
def test_a_course_function_in_the_forward_and_the_answer(text):
    for seed in SEEDS:
        assert judge(SOFT, text, seed=seed).status == "passed", (text, seed)


@pytest.mark.parametrize("text", ["G * softplus(X)", "$G \\odot \\softplus(X)$", "sigmoid(X)"])
def test_a_course_function_wrong_answers_fail(text):
    for seed in SEEDS:
        assert judge(SOFT, text, seed=seed).status == "failed", (text, seed)


def test_a_function_outside_the_vocabulary_is_refused_by_name():
    verdict = judge(TANH, "G * softplus(X)")
    assert verdict.status == "failed" and "softplus" in verdict.message


def test_one_meaning_gives_agreeing_float64_precise_and_symbolic_versions():
    x = np.array([-2.0, 0.3, 5.0])
    assert np.allclose(SOFTPLUS.float64(x), np.log1p(np.exp(x)))
    precise = ex.Precise(50)
    value = SOFTPLUS.precise(precise.ctx)(precise.array(x))
    assert all(abs(float(v) - w) < 1e-12 for v, w in zip(value, np.log1p(np.exp(x))))
    s = sympy.Symbol("s")
    assert SOFTPLUS.sympy(s) == sympy.log(1 + sympy.exp(s))


def test_a_function_name_must_be_a_plain_identifier():
    with pytest.raises(ValueError, match="identifier"):
        Function("soft plus", lambda x: x)


def test_an_unreadable_answer_is_echoed_as_typed():
    verdict = judge(TANH, "$\\frac{G}{$")
    assert "`$\\frac{G}{$`" in verdict.message and "\\\\" not in verdict.message


# ceil and floor: in the core (counts of batches round), defined by their SymPy meaning like any Function.
ROUNDING = ("N", "B", "E")


@pytest.mark.parametrize("text, want", [("ceil(N / B)", 4), ("np.ceil(N / B)", 4), ("floor(N / B)", 3),
                                        ("$\\lceil N / B \\rceil$", 4),
                                        ("$\\left\\lceil \\frac{N}{B} \\right\\rceil$", 4),
                                        ("$E \\lfloor \\frac{N}{B} \\rfloor$", 6), ("-floor(-N / B)", 4)])
def test_ceil_and_floor_are_read_in_python_and_latex(text, want):
    node = ex.parse(text, dict.fromkeys(ROUNDING))
    assert ex.evaluate(node, {"N": np.float64(7), "B": np.float64(2), "E": np.float64(2)}) == want
    precise = ex.Precise(60)
    values = {s: precise.number(Fraction(v)) for s, v in zip(ROUNDING, (7, 2, 2))}
    assert ex.evaluate(node, values, precise=precise) == want


def test_ceil_and_floor_have_one_meaning_in_three_versions():
    from grader.checks.vocabulary import CEIL, CORE, FLOOR

    assert set(CORE) == {"ceil", "floor"} and {"ceil", "floor"} <= set(ex.FUNCTIONS)
    x = np.array([-1.5, 0.0, 2.25, 3.0])
    assert np.array_equal(ex.FUNCTIONS["ceil"](x), np.ceil(x)) and np.array_equal(ex.FUNCTIONS["floor"](x), np.floor(x))
    precise = ex.Precise(60)
    big = precise.number(Fraction(10**40 + 1, 3))  # beyond float64: the precise version keeps every digit
    assert precise.functions["ceil"](big) == (10**40 + 1) // 3 + 1
    assert precise.functions["floor"](big) == (10**40 + 1) // 3
    s = sympy.Symbol("s", real=True)
    assert CEIL.sympy(s) == sympy.ceiling(s) and FLOOR.sympy(s) == sympy.floor(s)
    assert ex.to_sympy(ex.parse("ceil(N / B)", dict.fromkeys(ROUNDING)), {n: sympy.Symbol(n) for n in ROUNDING},
                       {}) == sympy.ceiling(sympy.Symbol("N") / sympy.Symbol("B"))


def test_ceil_is_judged_exactly_and_floor_division_is_named():
    from grader.checks.symbolic import judge_formula

    assert judge_formula("floor((N + B - 1) / B)", ROUNDING, "ceil(N / B)", seed=3).status == "passed"
    wrong = judge_formula("floor(N / B)", ROUNDING, "ceil(N / B)", (("N / B", "no"), ("floor(N / B)", "floor")),
                          points=[{"N": 8, "B": 4, "E": 1}, {"N": 9, "B": 4, "E": 1}])
    assert wrong.status == "failed" and wrong.hint == "floor" and "N=9" in wrong.message
    refused = judge_formula("N // B", ROUNDING, "ceil(N / B)")
    assert refused.status == "failed" and "floor(a / b) or ceil(a / b)" in refused.message

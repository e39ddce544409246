"""The answer language: NumPy's spellings are read as the operators they name, numbers stay exact, every refusal
is one plain sentence (never an exception other than ExpressionError), and evaluation works in any precision."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from grader.checks import expressions as ex

SYMBOLS = dict.fromkeys(["G", "X", "Y", "W", "x"])

# What students write -> how the grader echoes it (the canonical form).
SPELLINGS = [
    ("np.dot(G, W.T)", "G @ W.T"),
    ("numpy.dot(G, W.T)", "G @ W.T"),
    ("G.dot(W.T)", "G @ W.T"),
    ("np.matmul(X.T, G)", "X.T @ G"),
    ("np.transpose(X) @ G", "X.T @ G"),
    ("X.transpose() @ G", "X.T @ G"),
    ("np.divide(G, Y)", "G / Y"),
    ("np.true_divide(G, Y)", "G / Y"),
    ("np.multiply(G, X)", "G * X"),
    ("np.add(G, X)", "G + X"),
    ("np.subtract(G, X)", "G - X"),
    ("np.square(Y)", "Y**2"),
    ("np.power(Y, -2)", "Y**(-2)"),
    ("np.negative(G)", "-G"),
    ("np.sqrt(Y)", "sqrt(Y)"),
    ("np.exp(X)", "exp(X)"),
    ("np.log(Y)", "log(Y)"),
    ("np.tanh(X)", "tanh(X)"),
    ("np.ones_like(X)", "ones_like(X)"),
    ("np.sum(G, axis=1, keepdims=True)", "G.sum(axis=1, keepdims=True)"),
    ("G.sum(axis=0, keepdims=True)", "G.sum(axis=0, keepdims=True)"),
    ("np.sum(G, 1)", "G.sum(axis=1)"),
    ("G.sum(1)", "G.sum(axis=1)"),
    ("np.sum(G, axis=None)", "G.sum()"),
    ("np.mean(G, axis=-1)", "G.mean(axis=-1)"),
    ("np.outer(x, x)", "np.outer(x, x)"),
    ("G @ W.T", "G @ W.T"),
    ("-(G*X)/Y**2", "-(G * X) / Y**2"),
]


@pytest.mark.parametrize("text, echo", SPELLINGS)
def test_numpy_spellings_read_as_the_operators(text, echo):
    node = ex.parse(text, SYMBOLS)
    assert ex.render(node) == echo
    assert ex.render(ex.parse(ex.render(node), SYMBOLS)) == echo  # the echo reads back as itself


@pytest.mark.parametrize("text, echo", SPELLINGS)
def test_numpy_spellings_evaluate_like_numpy(text, echo):
    rng = np.random.default_rng(0)
    values = {"G": rng.standard_normal((3, 4)), "X": rng.standard_normal((3, 4)), "W": rng.standard_normal((2, 4)),
              "Y": rng.uniform(0.5, 2, (3, 4)), "x": rng.standard_normal(3)}
    namespace = {"np": np, "numpy": np, "exp": np.exp, "log": np.log, "sqrt": np.sqrt, "tanh": np.tanh,
                 "ones_like": np.ones_like, **values}
    expected = eval(text, namespace)  # trusted test text: the reference semantics are NumPy's own
    got = ex.evaluate(ex.parse(text, SYMBOLS), values)
    np.testing.assert_allclose(got, expected, rtol=1e-12)


def test_xor_is_explained():
    with pytest.raises(ex.ExpressionError, match=r"\^ is XOR.*write -G \* X / Y\*\*2"):
        ex.parse("-G * X / Y^2", SYMBOLS)
    with pytest.raises(ex.ExpressionError, match=r"\^ is XOR.*write Y\*\*2"):
        ex.parse("Y^2", SYMBOLS)


@pytest.mark.parametrize("text, gist", [
    ("np.maximum(X, 0)", "no comparisons"), ("np.where(X > 0, G, 0)", "no comparisons"),
    ("G * (X > 0)", "comparisons"), ("G & X", "bitwise"), ("G.reshape(3)", "not allowed"),
    ("np.sum(G, axis=1, out=X)", "keyword 'out'"), ("np.dot(G)", "two arguments"), ("np.exp(G, X)", "one argument"),
    ("np", "alone is not a value"), ("G * 1j", "imaginary"), ("G * True", "only numbers"),
])
def test_what_the_language_lacks_is_said_plainly(text, gist):
    with pytest.raises(ex.ExpressionError, match=gist):
        ex.parse(text, SYMBOLS)


@pytest.mark.parametrize("text, gist", [
    (str(2**64) + " * G", "20 digits"), (str(10**400) + " * G", "401 digits"), ("9" * 900, "900 digits"),
    ("G * 1e400", "finite"), ("G ** 10**10", "too large"), ("10**10**10", "too large"),
    ("G ** (2 ** 0.5)", "plain numbers"), ("(" * 300 + "G" + ")" * 300, "nested"),
    ("G" * (1024 * 1024), "characters long"), ("-" * 999 + "G", "more than"), ("G+" * 450 + "G", "more than"),
    ("np.sum(G, axis=" + str(2**70) + ")", "small integer"), ("np.sum(G, axis=1.5)", "whole numbers"),
])
def test_hostile_text_is_one_plain_sentence(text, gist):
    with pytest.raises(ex.ExpressionError, match=gist):
        ex.parse(text, SYMBOLS)


def test_numbers_are_the_decimals_written():
    node = ex.parse("0.1 * 10 * G", SYMBOLS)
    assert node.args[0].args[0].value == Fraction(1, 10)
    assert ex.render(ex.parse("1e-07", SYMBOLS)) == "1e-07"
    assert ex.render(ex.parse("3", SYMBOLS)) == "3"


def test_constants_include_folded_parts():
    values = set(ex.constants(ex.parse("G / (2 * 5)**7 + X * 3", SYMBOLS)))
    assert Fraction(10**7) in values and Fraction(3) in values
    assert set(ex.constants(ex.parse("G * (2 ** 8) ** 8", SYMBOLS))) >= {Fraction(2**64)}


def test_precise_evaluation_is_exact_for_exact_numbers():
    precise = ex.Precise(80)
    g = precise.array(np.array([[1.5, -2.0], [0.25, 3.0]]))
    value = ex.evaluate(ex.parse("0.1 * 10 * G - G", SYMBOLS), {"G": g}, precise=precise)
    assert all(v == 0 for v in value.ravel())
    third = ex.evaluate(ex.parse("G / 3", SYMBOLS), {"G": precise.array(1.0)}, precise=precise)
    assert abs(third * 3 - 1) < precise.ctx.mpf(10) ** -78


def test_precise_evaluation_reports_what_leaves_the_reals():
    precise = ex.Precise(40)
    minus_one = precise.array(np.array([-1.0, 4.0]))
    assert not precise.real_finite(ex.evaluate(ex.parse("sqrt(X)", SYMBOLS), {"X": minus_one}, precise=precise))
    assert precise.real_finite(ex.evaluate(ex.parse("sqrt(X**2)", SYMBOLS), {"X": minus_one}, precise=precise))
    with pytest.raises(ZeroDivisionError):
        ex.evaluate(ex.parse("G / X", SYMBOLS), {"G": precise.array(1.0), "X": precise.array(0.0)},
                    precise=precise)


def test_precise_evaluation_matches_float64():
    rng = np.random.default_rng(1)
    values = {"G": rng.standard_normal((3, 4)), "X": rng.standard_normal((3, 4)), "W": rng.standard_normal((2, 4)),
              "Y": rng.uniform(0.5, 2, (3, 4))}
    precise = ex.Precise(50)
    text = "G @ W.T @ W * tanh(X) / Y**2 - np.sum(G * exp(X), axis=1, keepdims=True) + sigmoid(Y).mean(axis=0)"
    node = ex.parse(text, SYMBOLS)
    high = ex.evaluate(node, {k: precise.array(v) for k, v in values.items()}, precise=precise)
    np.testing.assert_allclose(np.asarray(high, dtype=float), ex.evaluate(node, values), rtol=1e-12)


def test_shape_errors_name_the_operation_and_shapes():
    with pytest.raises(ex.ShapeError) as caught:
        ex.evaluate(ex.parse("G @ X", SYMBOLS), {"G": np.ones((3, 4)), "X": np.ones((3, 4))})
    assert caught.value.shapes == ((3, 4), (3, 4)) and caught.value.node.value == "@"
    with pytest.raises(ex.ShapeError, match="element-wise"):
        ex.evaluate(ex.parse("G + X.sum(axis=1)", SYMBOLS), {"G": np.ones((3, 4)), "X": np.ones((3, 4))})
    with pytest.raises(ex.ShapeError, match="axis 2"):
        ex.evaluate(ex.parse("G.sum(axis=2)", SYMBOLS), {"G": np.ones((3, 4))})


def test_sympy_sees_exact_numbers():
    import sympy

    symbols = {name: sympy.Symbol(name) for name in SYMBOLS}
    expression = ex.to_sympy(ex.parse("G * 0.1 * 10", SYMBOLS), symbols, {})
    assert expression == symbols["G"]

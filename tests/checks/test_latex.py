"""LaTeX answers: each documented notation reads as the NumPy expression it means, including sums that keep their
dimension (the vector of ones), and malformed LaTeX is one plain sentence."""

from __future__ import annotations

import pytest

from grader.checks import expressions as ex

SYMBOLS = dict.fromkeys(["G", "X", "Y", "W", "S", "D_in", "H_1"])

# LaTeX -> the echo (docs/writing-answers.md shows the same table).
NOTATIONS = [
    (r"\frac{G}{Y}", "G / Y"),
    (r"G \oslash Y", "G / Y"),
    (r"G \odot X", "G * X"),
    (r"G \circ X", "G * X"),
    (r"-\frac{G \odot X}{Y^2}", "-(G * X / Y**2)"),
    (r"G \odot Y^{-1}", "G * Y**(-1)"),
    (r"G W^\top", "G @ W.T"),
    (r"G W^T", "G @ W.T"),
    (r"G \cdot W^{\top}", "G @ W.T"),
    (r"X^\top G", "X.T @ G"),
    (r"(W G^\top)^\top", "(W @ G.T).T"),
    # Index notation: the summed index goes, the other stays (a row or a column that broadcasts).
    (r"\sum_i G", "G.sum(axis=0, keepdims=True)"),
    (r"\sum_j G", "G.sum(axis=1, keepdims=True)"),
    (r"\sum_{j} (G \odot X)", "(G * X).sum(axis=1, keepdims=True)"),
    (r"\sum_j G_{ij} X_{ij}", "(G * X).sum(axis=1, keepdims=True)"),
    (r"\sum_j G_{i,j}", "G.sum(axis=1, keepdims=True)"),
    (r"\frac{G}{S} - \frac{\sum_j G \odot X}{S^2}", "G / S - (G * X).sum(axis=1, keepdims=True) / S**2"),
    (r"2 \sum_j G", "2 * G.sum(axis=1, keepdims=True)"),
    (r"\frac{1}{2} \sum_j G", "1 / 2 * G.sum(axis=1, keepdims=True)"),
    (r"\frac{1}{2}(G + X)", "1 / 2 * (G + X)"),
    (r"1 - \tanh^2(X)", "1 - tanh(X)**2"),
    (r"\tanh^{2} X", "tanh(X)**2"),
    (r"\frac{G}{\cosh^2\left(X\right)}", "G / cosh(X)**2"),
    (r"\sinh(X) \odot G", "sinh(X) * G"),
    (r"\sigma^2(X)", "sigmoid(X)**2"),
    (r"G \mathbf{1}", "G.sum(axis=-1, keepdims=True)"),
    (r"(G \odot X)\mathbf{1}", "(G * X).sum(axis=-1, keepdims=True)"),
    (r"(G \odot X) \cdot \mathbf{1}_m", "(G * X).sum(axis=-1, keepdims=True)"),
    (r"G \mathbb{1}", "G.sum(axis=-1, keepdims=True)"),
    (r"G \vec{1}_{m}", "G.sum(axis=-1, keepdims=True)"),
    (r"\mathbf{1}^\top G", "G.sum(axis=0, keepdims=True)"),
    (r"\mathbf{1}_n^\top G", "G.sum(axis=0, keepdims=True)"),
    (r"\frac{G}{S} - \frac{(G \odot X)\mathbf{1}}{S^2}", "G / S - (G * X).sum(axis=-1, keepdims=True) / S**2"),
    (r"\exp(X) \odot G", "exp(X) * G"),
    (r"\sqrt{Y}", "sqrt(Y)"),
    (r"\sigma(X)", "sigmoid(X)"),
    (r"\left( G \right) \oslash Y", "G / Y"),
    (r"\mathbf{G} \oslash \mathbf{Y}", "G / Y"),
    (r"(D_{in} + 1) H_1", "(D_in + 1) @ H_1"),
    (r"2 G", "2 * G"),
    (r"2 \cdot G", "2 * G"),
    (r"G \cdot 0.5", "G * 0.5"),
    (r"\log Y \odot G", "log(Y) * G"),
    (r"\ln Y", "log(Y)"),
    (r"\tanh X", "tanh(X)"),
    (r"\sigma(X) \odot G", "sigmoid(X) * G"),
    (r"\exp(X) \odot G", "exp(X) * G"),
    (r"W'", "W.T"),
]


@pytest.mark.parametrize("latex, echo", NOTATIONS)
def test_latex_notations_read_as_documented(latex, echo):
    assert ex.render(ex.parse(f"${latex}$", SYMBOLS)) == echo


@pytest.mark.parametrize("latex, gist", [
    (r"G + \mathbf{1}", "only works in a product"),
    (r"\mathbf{1}", "only works in a product"),
    (r"\sum_k G", r"\\sum_i"),
    (r"\frac{G}{Y", "unbalanced braces"),
    (r"\input{/etc/passwd}", "not supported"),
    (r"\frac", "missing its argument"),
    ("{" * 450 + "G" + "}" * 450, "nested"),
    ("{" * 490 + "G" + "}" * 490, "nested"),
    (r"G ^^ 2", None),
    (r"\tanh^{-1}(X)", "inverse function"),
    (r"\softplus(X)", "not supported"),  # not in this question's vocabulary
])
def test_malformed_latex_is_one_plain_sentence(latex, gist):
    with pytest.raises(ex.ExpressionError, match=gist):
        ex.parse(f"${latex}$", SYMBOLS)


def test_deep_but_valid_latex_reads():
    assert ex.render(ex.parse("$" + r"\frac{" * 95 + "G" + "}{Y}" * 95 + "$", SYMBOLS)).startswith("G / Y / Y")


def test_a_question_vocabulary_is_read_as_latex_commands_too():
    for latex in (r"\softplus(X) \odot G", r"\operatorname{softplus}(X) \odot G"):
        assert ex.render(ex.parse(f"${latex}$", SYMBOLS, ("softplus",))) == "softplus(X) * G"
    assert ex.render(ex.parse(r"$\softplus^2(X)$", SYMBOLS, ("softplus",))) == "softplus(X)**2"


def test_indexed_names_are_read_in_latex_and_explained_in_python():
    assert ex.render(ex.parse("$G_{ij}$", SYMBOLS)) == "G"
    assert ex.render(ex.parse("$D_{in}$", SYMBOLS)) == "D_in"  # a symbol of its own wins over an index
    with pytest.raises(ex.ExpressionError, match="element of G"):
        ex.parse("G_ij * X", SYMBOLS)

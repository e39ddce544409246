"""The derivation checker: every correct spelling passes and every wrong or approximate one fails, under 20 seeds;
hostile text runs nothing and crashes nothing.

The tables are shared with ``bench/a2_gradients.py``, which times the same answers.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from grader.assignments.a2.questions import QUESTIONS
from grader.assignments.a3 import questions as a3
from grader.checks import expressions as ex
from grader.checks.symbolic import GradientQuestion, Var, judge, judge_formula

Q = {f"{q.table}.{q.key}": q for q in QUESTIONS}
SEEDS = range(20)

# Correct answers, spelled as students write them: operators, NumPy's functions, LaTeX.
EQUIVALENT = {
    "div_backward.dX": ["G / Y", "G * Y**-1", "G*(1/Y)", "(G) / (Y)", "np.divide(G, Y)", "numpy.true_divide(G, Y)",
                        "np.multiply(G, np.power(Y, -1))", "G / Y + 0 * X",
                        "$\\frac{G}{Y}$", "$G \\oslash Y$", "$G \\odot Y^{-1}$", "$\\frac{1}{Y} \\circ G$"],
    "div_backward.dY": ["-G * X / Y**2", "-(G * X) / (Y * Y)", "-G * X * Y**-2", "G * (-X / Y**2)",
                        "np.divide(np.multiply(-G, X), np.square(Y))", "-np.multiply(G, X) / np.power(Y, 2)",
                        "np.negative(G) * X / Y / Y", "-G * X / np.square(Y)",
                        "$-\\frac{G \\odot X}{Y^2}$", "$-G \\odot X \\oslash Y^{2}$",
                        "$-\\frac{G \\odot X}{Y \\odot Y}$"],
    "elementwise_backward.dX": ["G * fprime(X)", "fprime(X) * G", "np.multiply(G, fprime(X))", "G * fprime(X) + 0",
                                "$G \\odot f'(X)$", "$f'(X) \\circ G$"],
    "matmul_backward.dX": ["G @ W.T", "(W @ G.T).T", "np.dot(G, W.T)", "np.matmul(G, np.transpose(W))", "G.dot(W.T)",
                           "G @ W.transpose()", "$G W^\\top$", "$G \\cdot W^T$", "$(W G^\\top)^\\top$"],
    "matmul_backward.dW": ["X.T @ G", "(G.T @ X).T", "np.dot(X.T, G)", "np.matmul(X.T, G)", "X.transpose() @ G",
                           "np.transpose(X).dot(G)", "$X^\\top G$", "$X^T \\cdot G$", "$(G^\\top X)^\\top$"],
    "expand_backward.dx": ["G.sum(axis=1)", "sum(G, axis=1)", "np.sum(G, axis=1)", "G.mean(axis=1) * 16",
                           "np.sum(G, axis=-1)", "numpy.sum(G, 1)", "$\\sum_j G$", "$\\sum_{j} G$",
                           "$G \\mathbf{1}$", "$G \\cdot \\mathbf{1}_{16}$"],
    "normalize_backward.dX": ["G / S - (G * X).sum(axis=1, keepdims=True) / S**2",
                              "(G - (G * X).sum(axis=1, keepdims=True) / S) / S",
                              "G / X.sum(axis=1, keepdims=True) - (G * X).sum(axis=1, keepdims=True) / "
                              "X.sum(axis=1, keepdims=True)**2",
                              "np.divide(G, S) - np.sum(G * X, axis=1, keepdims=True) / np.square(S)",
                              "G / S - np.sum(np.multiply(G, X), axis=-1, keepdims=True) / S**2",
                              "(G * S - (G * X).sum(1, keepdims=True)) / S**2",
                              "$\\frac{G}{S} - \\frac{(G \\odot X)\\mathbf{1}}{S^2}$",
                              "$\\frac{G - \\frac{(G \\odot X) \\mathbf{1}}{S}}{S}$",
                              "$(G \\odot S - (G \\odot X)\\mathbf{1}) \\oslash S^2$",
                              # Index notation (issue 18): the row sum is per row, a column that broadcasts.
                              "$\\frac{G}{S} - \\frac{\\sum_j G \\odot X}{S^2}$",
                              "$\\frac{G}{S} - \\frac{\\sum_j G_{ij} X_{ij}}{S^2}$"],
}

# Wrong answers: each fails under every seed, and the message or hint says why (gist).
WRONG = {
    "div_backward.dY": [("-G * X / Y", "Wrong power"), ("G * X / Y**2", "minus sign"), ("-X / Y**2", "G is missing")],
    "div_backward.dX": [("1 / Y", "G is missing"), ("G * X / Y", "")],
    "matmul_backward.dW": [("G.T @ X", "transpose"), ("X @ G", "inner sizes"), ("np.dot(G, X.T)", "inner sizes")],
    "matmul_backward.dX": [("W.T @ G", "inner sizes"), ("G @ W", "inner sizes")],
    "expand_backward.dx": [("16 * G", "repeat count"), ("G.sum(axis=0)", "shape"),
                           ("G.mean(axis=1)", "do not average"), ("G.sum(axis=1, keepdims=True)", "shape")],
    "elementwise_backward.dX": [("G + fprime(X)", "not zero when G is zero"), ("fprime(X)", "G is missing")],
    "normalize_backward.dX": [("G / S", "also changes S"), ("G / S - G * X / S**2", "sums over the row"),
                              ("G / S - (G * X).sum(axis=1) / S**2", "keepdims=True"),
                              ("$\\frac{G}{S} - \\frac{\\sum_i (G \\odot X)}{S^2}$", "")],
}

# Approximations: close to the gradient, refused as approximations (by their numbers or at high precision).
APPROXIMATE = {
    "div_backward.dY": ["G*(X/(Y+1e-7)-X/Y)/1e-7", "G*(X/(Y+1e-6)-X/(Y-1e-6))/2e-6", "-G*X/(Y**2 + 1e-12)",
                        "G*(X/(Y + (Y/Y/1000)**3) - X/(Y - (Y/Y/1000)**3)) * (Y/Y*1000)**3 / 2",
                        "-G*X/(Y**2 + (Y/Y/1000)**4)", "$G \\odot \\frac{X \\oslash (Y + 10^{-7}) - X \\oslash Y}"
                                                       "{10^{-7}}$"],
    "div_backward.dX": ["G*((X+1e-7)/Y - X/Y)/1e-7", "G / Y * 1.0000001"],
    "matmul_backward.dX": ["(G @ W.T) * (1 + (X/X/1000)**4)", "G @ (W.T + 1e-9)"],
    "elementwise_backward.dX": ["G * (f(X + 1e-8) - f(X - 1e-8)) / 2e-8",
                                "G * (f(X + (X/X/1000)**3) - f(X)) * (X/X*1000)**3", "G * fprime(X) * 1.0000000001"],
    "normalize_backward.dX": ["G / S - (G * X).sum(axis=1, keepdims=True) / (S**2 + 1e-10)"],
    "expand_backward.dx": ["np.sum(G, axis=1) * (1 + 1e-9)", "np.sum(G, axis=1) * 1.00000001"],
}

# Hostile or absurd text: a named failure with a plain sentence, nothing run, no exception.
HOSTILE = [
    ("__import__('os').system('touch /tmp/dlgrade_pwned')", "not allowed"),
    ("().__class__.__bases__[0].__subclasses__()", "not allowed"),
    ("G.__class__", "not allowed"),
    ("open('/etc/passwd')", "not allowed"),
    ("exec('1')", "not allowed"),
    ("X ** 99999999999", "too large"),
    ("X ** (10 ** 100)", "too large"),
    ("10**10**10", "too large"),
    ("X ** (Y ** 2)", "plain numbers"),
    ("123456789012345678901234567890 * G", "30 digits"),
    (str(10**400) + " * G", "digits"),
    ("G * 1e400", "finite"),
    ("G * 1j", "imaginary"),
    ("np.sum(G, axis=10**100)", "whole numbers"),
    ("np.sum(G, axis=" + str(10**30) + ")", "small integer"),
    ("np.sum(G, axis=1e400)", "whole numbers"),
    ("(" * 300 + "G" + ")" * 300, "nested"),
    ("-" * 5000 + "G", "characters long"),
    ("G" * (1024 * 1024), "characters long"),
    ("G+" * 400 + "G", "more than"),
    ("$" + "{" * 450 + "G" + "}" * 450 + "$", ""),
    ("$" + "\\frac{" * 120 + "G" + "}{Y}" * 120 + "$", ""),
    ("lambda: G", "not allowed"),
    ("[G for G in G]", "not allowed"),
    ("G if G else G", "not allowed"),
    ("'string'", "only numbers"),
    ("$\\input{/etc/passwd}$", "not supported"),
    ("G / Y^2", "XOR"),
    ("np.maximum(X, 0) * G", "no comparisons"),
    ("np.where(X > 0, G, 0)", "no comparisons"),
    ("G * (X > 0)", "comparisons"),
    ("$G + \\mathbf{1}$", "only works in a product"),
]

# Well-formed answers built to make SymPy or multi-precision arithmetic explode: each still gets a verdict.
_ATOMS_12 = "+".join(["X", "Y", "G", "exp(X)", "exp(Y)", "tanh(X)", "tanh(Y)", "exp(G)", "tanh(G)", "log(abs(X))",
                      "sqrt(abs(Y))", "exp(X*Y)"])
BOMBS = [
    ("-G * X / Y**2 + 0*" + "*".join([f"({_ATOMS_12})"] * 5), ("passed",)),  # 12**5 terms if expanded
    ("-G * X / Y**2 + (X + Y + G)**8 - (X + Y + G)**8", ("passed",)),
    ("-G * X / Y**2 + 0*((((X + Y + G)**8)**8)**8)**8", ("undecided", "failed")),  # infinite in float64
    ("-G * X / Y**2 + 0*exp(exp(exp(exp(X))))", ("undecided", "failed", "passed")),
    ("-G * X / Y**2 * " + "*".join(["(Y/Y)"] * 60), ("passed",)),
    ("-G * X / Y**2 + 0*" + "(" * 40 + "X + Y + G" + ")**8" * 40, ("undecided", "failed")),
]


def _cases(table: dict) -> list:
    return [(k, t) for k, texts in table.items() for t in texts]


@pytest.mark.parametrize("key, text", _cases(EQUIVALENT))
def test_correct_spellings_pass_under_every_seed(key, text):
    for seed in SEEDS:
        verdict = judge(Q[key], text, seed=seed)
        assert verdict.status == "passed", (seed, verdict)


@pytest.mark.parametrize("key, text, gist", [(k, t, g) for k, cases in WRONG.items() for t, g in cases])
def test_wrong_answers_fail_under_every_seed_with_a_reason(key, text, gist):
    for seed in SEEDS:
        verdict = judge(Q[key], text, seed=seed)
        assert verdict.status == "failed", (seed, verdict)
        assert gist in verdict.message + verdict.hint, (seed, verdict)
        assert "read as" in verdict.message


@pytest.mark.parametrize("key, text", _cases(APPROXIMATE))
def test_approximations_are_refused_as_such_under_every_seed(key, text):
    for seed in SEEDS:
        verdict = judge(Q[key], text, seed=seed)
        assert verdict.status == "failed", (seed, verdict)
        assert "approximation" in verdict.message, (seed, verdict)


def test_the_difference_quotient_of_the_issue_is_refused_with_a_sentence():
    verdict = judge(Q["div_backward.dY"], "G*(X/(Y+1e-7)-X/Y)/1e-7")
    assert verdict.status == "failed" and "finite difference" in verdict.message


def test_an_approximation_without_telltale_numbers_is_refused_at_high_precision():
    """No number outside 1e-3..1e4 is written, so only the 40- and 80-digit evaluation can catch it."""
    verdict = judge(Q["div_backward.dY"], "-G*X/(Y**2 + (Y/Y/1000)**4)")
    assert verdict.tier == "precise" and "digits" in verdict.message


@pytest.mark.parametrize("text, gist", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_answers_are_a_named_failure_and_nothing_runs(text, gist):
    verdict = judge(Q["div_backward.dX"], text)
    assert verdict.status == "failed" and "could not read" in verdict.message
    assert gist in verdict.message
    assert "Traceback" not in verdict.message
    assert not Path("/tmp/dlgrade_pwned").exists()


@pytest.mark.parametrize("text, gist", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_formulas_are_a_named_failure(text, gist):
    verdict = judge_formula(text, a3.MLP_SYMBOLS, a3.MLP_COUNT)
    assert verdict.status == "failed" and "could not read" in verdict.message


@pytest.mark.parametrize("text", ["((D_in**8)**8)**8", "((((D_in**8)**8)**8)**8)**8", "D_in / (H_1 - H_1)",
                                  "sqrt(D_in - 100)", "exp(exp(exp(D_in)))", "log(D_in - D_in)"])
def test_formulas_that_blow_up_are_a_named_failure(text):
    verdict = judge_formula(text, a3.MLP_SYMBOLS, a3.MLP_COUNT)
    assert verdict.status == "failed" and "not a finite real number" in verdict.message


FORMULAS_RIGHT = [a3.MLP_COUNT, "$(D_{in} + 1) H_1 + (H_1 + 1) H_2 + (H_2 + 1) D_{out}$",
                  "(D_in + 1) * H_1 + (H_1 + 1) * H_2 + (H_2 + 1) * D_out",
                  "H_1 * (D_in + 1 + H_2) + H_2 * (1 + D_out) + D_out", "2 * (D_in * H_1) / 2 + H_1 + H_2 + D_out + "
                  "H_1 * H_2 + H_2 * D_out", "$D_{in} \\cdot H_1 + H_1 + H_1 H_2 + H_2 + H_2 D_{out} + D_{out}$"]
FORMULAS_WRONG = [a3.MLP_NO_BIAS, "(D_in + 1) * H_1 + (H_1 + 1) * H_2 + H_2 * D_out",
                  "1.0000001 * ((D_in + 1) * H_1 + (H_1 + 1) * H_2 + (H_2 + 1) * D_out)",
                  "(D_in + 1) * H_1 + (H_1 + 1) * H_2 + (H_2 + 1) * D_out + 1e-9", "D_in ^ 2"]


@pytest.mark.parametrize("text", FORMULAS_RIGHT)
def test_formula_spellings_pass_under_every_seed(text):
    for seed in SEEDS:
        assert judge_formula(text, a3.MLP_SYMBOLS, a3.MLP_COUNT, seed=seed).status == "passed", seed


@pytest.mark.parametrize("text", FORMULAS_WRONG)
def test_wrong_or_inexact_formulas_fail_under_every_seed(text):
    for seed in SEEDS:
        assert judge_formula(text, a3.MLP_SYMBOLS, a3.MLP_COUNT, seed=seed).status == "failed", seed


def test_a_lost_axis_is_not_blamed_on_a_transpose():
    """Issue 10: a row sum that drops its axis used to get a transpose hint."""
    for text in ("G / S - (G * X).sum(axis=1) / S**2",):
        for seed in SEEDS:
            verdict = judge(Q["normalize_backward.dX"], text, seed=seed)
            assert "transpose" not in verdict.hint and "keep" in verdict.hint.lower(), verdict


def test_a_transpose_is_suggested_only_where_the_shapes_allow_it():
    verdict = judge(Q["matmul_backward.dW"], "X @ G")
    assert "left factor transposed" in verdict.hint and "right factor" not in verdict.hint


def test_latex_columns_are_read_as_vectors_but_python_shapes_are_strict():
    assert judge(Q["expand_backward.dx"], "$G \\mathbf{1}$").status == "passed"
    assert judge(Q["expand_backward.dx"], "G.sum(axis=1, keepdims=True)").status == "failed"


def test_the_issue_spellings_echo_canonically():
    symbols = dict.fromkeys(["G", "X", "Y", "W"])
    assert str(ex.parse("np.sum(G,axis=1,keepdims=True)", symbols)) == "G.sum(axis=1, keepdims=True)"
    assert str(ex.parse("-(G*X)/Y**2", symbols)) == "-(G * X) / Y**2"
    assert str(ex.parse("np.dot(G, np.transpose(W))", symbols)) == "G @ W.T"
    assert str(ex.parse("np.divide(G, np.square(Y))", symbols)) == "G / Y**2"


def test_a_question_a_course_declares_itself():
    """The checker is reusable: a course's own question, with its own forward."""
    softplus = GradientQuestion("softplus", "dX", "Y = log(1 + exp(X))", {"X": Var(("n", "m"))}, "log(1 + exp(X))",
                                "X", "G * sigmoid(X)")
    assert judge(softplus, "G / (1 + exp(-X))").status == "passed"
    assert judge(softplus, "G * exp(X) / (1 + exp(X))").status == "passed"
    assert judge(softplus, "G * exp(X)").status == "failed"


def test_a_constant_of_the_question_is_not_an_approximation():
    """A forward with an epsilon (1e-5) may have it in its gradient."""
    q = GradientQuestion("eps", "dX", "", {"X": Var(("n",), "positive")}, "sqrt(X + 1e-5)", "X",
                         "G / (2 * sqrt(X + 1e-5))")
    assert judge(q, "0.5 * G / sqrt(X + 1e-5)").status == "passed"
    assert judge(q, "0.5 * G / sqrt(X + 1e-6)").status == "failed"


def test_off_domain_answers_are_resampled_or_undecided():
    q = GradientQuestion("sqrt", "dX", "", {"X": Var(("n",), "positive")}, "sqrt(X)", "X", "G / (2 * sqrt(X))")
    assert judge(q, "G * 0.5 / sqrt(X)").status == "passed"
    assert judge(q, "G / (2 * sqrt(X - 10))").status in ("undecided", "failed")


def test_a_non_elementwise_question_is_decided_at_high_precision():
    q = Q["matmul_backward.dW"]
    verdict = judge(q, "np.dot(np.transpose(X), G) + 0")
    assert verdict.status == "passed" and verdict.tier == "precise" and "80 significant digits" in verdict.message


@settings(max_examples=30, deadline=None)
@given(st.text(max_size=60))
def test_arbitrary_text_never_crashes_the_checker(text):
    verdict = judge(Q["div_backward.dY"], text)
    assert verdict.status in ("passed", "failed", "undecided")


_ATOMS = st.sampled_from(["G", "X", "Y", "S", "W", "2", "0.5", "1e-7", "16", "-1", "fprime(X)", "0"])


def _grammar(children):
    unary = st.sampled_from(["np.exp({})", "np.log({})", "np.sqrt({})", "abs({})", "({}).T", "np.square({})",
                             "({}).sum(axis=1)", "np.sum({}, axis=0, keepdims=True)", "({})**-2", "-{}"])
    binary = st.sampled_from(["{} + {}", "{} - {}", "{} * {}", "{} / {}", "{} @ {}", "np.dot({}, {})",
                              "np.outer({}, {})"])
    return st.one_of(st.tuples(unary, children).map(lambda p: p[0].format(p[1])),
                     st.tuples(binary, children, children).map(lambda p: p[0].format(p[1], p[2])))


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(sorted(Q)), st.recursive(_ATOMS, _grammar, max_leaves=8))
def test_random_well_formed_answers_never_crash_the_checker(key, text):
    verdict = judge(Q[key], text)
    assert verdict.status in ("passed", "failed", "undecided")


def test_model_answers_match_the_derived_truth():
    """The model answers (used only for the exact tier) agree with the derived truth."""
    for q in QUESTIONS:
        node = q.parse(q.answer)
        assert judge(q, f"1 * ({q.answer})").status == "passed", q.key
        assert ex.render(node) == ex.render(q.parse(ex.render(node)))


def test_sympy_proves_in_process_or_in_a_child_that_is_cut_off():
    from grader.checks.symbolic import _sympy_equal

    softplus = GradientQuestion("softplus", "dX", "", {"X": Var(("n",))}, "log(1 + exp(X))", "X", "G * sigmoid(X)")
    assert _sympy_equal(Q["div_backward.dY"], Q["div_backward.dY"].parse("-(G * X) / (Y * Y)")) is True
    assert _sympy_equal(softplus, softplus.parse("G / (1 + exp(-X))")) is None  # not by expanding alone
    assert _sympy_equal(softplus, softplus.parse("G / (1 + exp(-X))"), seconds=5.0) is True  # simplify, forked
    huge = softplus.parse("G * ((((exp(X) + X + 1)**8)**8)**8)**8 / (1 + exp(-X))**7 - G")
    assert _sympy_equal(softplus, huge, seconds=0.3) in (None, False)


@pytest.mark.parametrize("text, outcomes", BOMBS, ids=range(len(BOMBS)))
def test_answers_built_to_explode_still_get_a_verdict(text, outcomes):
    for seed in range(3):
        assert judge(Q["div_backward.dY"], text, seed=seed).status in outcomes


# Exactly equal to the gradient in exact arithmetic (X / Y is linear in X), so only the number detector refuses it.
_EXACT_BY_LINEARITY = {"G*((X+1e-7)/Y - X/Y)/1e-7"}


@pytest.mark.parametrize("key, text", [c for c in _cases(APPROXIMATE) if c[1] not in _EXACT_BY_LINEARITY])
def test_high_precision_alone_refuses_every_approximation(key, text):
    """Issue 10: whatever the number detector misses, the 40- and 80-digit evaluation must refuse."""
    import time

    from grader.checks.symbolic import Verdict, _precise

    question = Q[key]
    node = question.parse(text)
    for seed in range(5):
        screened = Verdict("passed", "read as it: equal to the gradient on 4 random inputs.")
        verdict = _precise(question, node, "it", seed, time.monotonic(), screened, text.startswith("$"))
        assert verdict.status == "failed" and "approximation" in verdict.message, (seed, verdict)


def test_formula_points_meet_the_stated_parity_and_refuse_unknown_names():
    from grader.checks.symbolic import formula_points

    plain = formula_points(("C", "K", "H"), 5)
    drawn = formula_points(("C", "K", "H"), 5, odd=("K",), even=("H",))
    assert [p["C"] for p in drawn] == [p["C"] for p in plain]  # the same draws, adjusted
    assert all(p["K"] % 2 == 1 and 3 <= p["K"] <= 59 and p["H"] % 2 == 0 and 2 <= p["H"] <= 58 for p in drawn)
    with pytest.raises(ValueError, match="distinct symbols"):
        formula_points(("C", "K"), 5, odd=("X",))
    with pytest.raises(ValueError, match="distinct symbols"):
        formula_points(("C", "K"), 5, odd=("K",), even=("K",))


def test_a_transcendental_formula_is_judged_at_the_points_given():
    truth = "-z_0 + log(exp(z_0) + exp(z_1))"
    points = [{"z_0": 3, "z_1": 7}, {"z_0": 11, "z_1": 2}]
    assert judge_formula("log(1 + exp(z_1 - z_0))", ("z_0", "z_1"), truth, points=points).status == "passed"
    wrong = judge_formula("-log(z_0)", ("z_0", "z_1"), truth, (("-log(z_0)", "softmax"),), points=points)
    assert wrong.status == "failed" and wrong.hint == "softmax" and "z_0=3, z_1=7" in wrong.message
    assert judge_formula("1.0000001 * log(1 + exp(z_1 - z_0))", ("z_0", "z_1"), truth,
                         points=points).status == "failed"

"""The derivation checker: equivalent spellings pass, wrong ones fail with a reason, attacks run nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from grader.assignments.a2.questions import QUESTIONS
from grader.checks import expressions as ex
from grader.checks.symbolic import GradientQuestion, Var, judge

Q = {f"{q.table}.{q.key}": q for q in QUESTIONS}

EQUIVALENT = {
    "div_backward.dX": ["G / Y", "G * Y**-1", "G*(1/Y)", "$\\frac{G}{Y}$", "$G \\oslash Y$", "(G) / (Y)"],
    "div_backward.dY": ["-G * X / Y**2", "-(G * X) / (Y * Y)", "-G * X * Y**-2", "$-\\frac{G \\odot X}{Y^2}$",
                        "G * (-X / Y**2)"],
    "elementwise_backward.dX": ["G * fprime(X)", "fprime(X) * G", "$G \\odot f'(X)$"],
    "matmul_backward.dX": ["G @ W.T", "(W @ G.T).T", "$G W^\\top$"],
    "matmul_backward.dW": ["X.T @ G", "(G.T @ X).T", "$X^\\top G$", "$X^T \\cdot G$"],
    "expand_backward.dx": ["G.sum(axis=1)", "sum(G, axis=1)", "np.sum(G, axis=1)", "$\\sum_j G$",
                           "G.mean(axis=1) * 16"],
    "normalize_backward.dX": ["G / S - (G * X).sum(axis=1, keepdims=True) / S**2",
                              "(G - (G * X).sum(axis=1, keepdims=True) / S) / S",
                              "G / X.sum(axis=1, keepdims=True) - (G * X).sum(axis=1, keepdims=True) / "
                              "X.sum(axis=1, keepdims=True)**2"],
}

WRONG = {
    "div_backward.dY": [("-G * X / Y", "Wrong power"), ("G * X / Y**2", "minus sign"), ("-X / Y**2", "G is missing")],
    "matmul_backward.dW": [("G.T @ X", "transpose"), ("X @ G", "inner sizes")],
    "expand_backward.dx": [("16 * G", "repeat count"), ("G.sum(axis=0)", "")],
    "elementwise_backward.dX": [("G + fprime(X)", "not zero when G is zero")],
}


@pytest.mark.parametrize("key, text", [(k, t) for k, texts in EQUIVALENT.items() for t in texts])
def test_equivalent_spellings_pass(key, text):
    verdict = judge(Q[key], text, seed=3)
    assert verdict.status == "passed", verdict


@pytest.mark.parametrize("key, text, gist", [(k, t, g) for k, cases in WRONG.items() for t, g in cases])
def test_wrong_answers_fail_with_counterexample_and_hint(key, text, gist):
    verdict = judge(Q[key], text, seed=3)
    assert verdict.status == "failed"
    assert gist in verdict.message + verdict.hint
    assert "read as" in verdict.message


def test_seed_bug_is_caught_for_every_seed():
    for seed in range(20):
        assert judge(Q["div_backward.dY"], "-G * X / Y", seed=seed).status == "failed"


MALICIOUS = [
    "__import__('os').system('touch /tmp/dlgrade_pwned')",
    "().__class__.__bases__[0].__subclasses__()",
    "G.__class__",
    "open('/etc/passwd')",
    "exec('1')",
    "X ** 99999999999",
    "X ** (10 ** 100)",
    "(" * 300 + "G" + ")" * 300,
    "-" * 5000 + "G",
    "G" * (1024 * 1024),
    "lambda: G",
    "[G for G in G]",
    "G if G else G",
    "'string'",
    "$\\input{/etc/passwd}$",
]


@pytest.mark.parametrize("text", MALICIOUS, ids=range(len(MALICIOUS)))
def test_malicious_answers_are_rejected_and_nothing_runs(text):
    verdict = judge(Q["div_backward.dX"], text)
    assert verdict.status == "failed" and "could not read" in verdict.message
    assert not Path("/tmp/dlgrade_pwned").exists()


def test_parse_echoes_a_canonical_form():
    assert str(ex.parse("np.sum(G,axis=1,keepdims=True)", {"G": 0})) == "G.sum(axis=1, keepdims=True)"
    assert str(ex.parse("-(G*X)/Y**2", dict.fromkeys("GXY"))) == "-(G * X) / Y**2"


def test_a_question_a_course_declares_itself():
    """The checker is reusable: a course's own question, with its own forward."""
    softplus = GradientQuestion("softplus", "dX", "Y = log(1 + exp(X))", {"X": Var(("n", "m"))}, "log(1 + exp(X))",
                                "X", "G * sigmoid(X)")
    assert judge(softplus, "G / (1 + exp(-X))").status == "passed"
    assert judge(softplus, "G * exp(X)").status == "failed"


def test_off_domain_answers_are_resampled_or_undecided():
    q = GradientQuestion("sqrt", "dX", "", {"X": Var(("n",), "positive")}, "sqrt(X)", "X", "G / (2 * sqrt(X))")
    assert judge(q, "G * 0.5 / sqrt(X)").status == "passed"
    assert judge(q, "G / (2 * sqrt(X - 10))").status in ("undecided", "failed")


@settings(max_examples=30, deadline=None)
@given(st.text(max_size=60))
def test_arbitrary_text_never_crashes_the_checker(text):
    verdict = judge(Q["div_backward.dY"], text)
    assert verdict.status in ("passed", "failed", "undecided")


def test_model_answers_match_finite_differences():
    """The model answers (used only for the exact tier) agree with the derived truth."""
    for q in QUESTIONS:
        node = q.parse(q.answer)
        assert judge(q, f"1 * ({q.answer})").status == "passed", q.key
        assert ex.render(node) == ex.render(q.parse(ex.render(node)))

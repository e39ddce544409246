"""Directional finite differences catch wrong gradients cheaply and locate them precisely."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from grader.checks.gradcheck import directional_check, elementwise_check, numeric_gradient


def evaluator(f, counter):
    def evaluate(points):
        counter.append(len(points))
        return [f(p) for p in points]
    return evaluate


def f(x):
    return float(np.sum(np.sin(x) * x**2))


def grad_f(x):
    return np.cos(x) * x**2 + 2 * x * np.sin(x)


@settings(max_examples=30, deadline=None)
@given(arrays(np.float64, st.tuples(st.integers(1, 6), st.integers(1, 6)), elements=st.floats(-3, 3)))
def test_correct_gradient_passes_with_few_evaluations(x):
    calls = []
    result = directional_check("dx", evaluator(f, calls), x, grad_f(x), np.random.default_rng(0))
    assert result.ok and result.evaluations == 6 and sum(calls) == 6


def test_wrong_element_is_located():
    x = np.random.default_rng(2).standard_normal((4, 5))
    wrong = grad_f(x)
    wrong[1, 3] += 0.5
    result = directional_check("dx", evaluator(f, []), x, wrong, np.random.default_rng(0))
    assert not result.ok and result.worst == (1, 3) and "dx[1, 3]" in result.detail


def test_directional_probes_are_far_cheaper_than_elementwise():
    x = np.random.default_rng(3).standard_normal((20, 20))
    directional, elementwise = [], []
    directional_check("dx", evaluator(f, directional), x, grad_f(x), np.random.default_rng(0))
    elementwise_check("dx", evaluator(f, elementwise), x, grad_f(x))
    assert sum(directional) == 6 and sum(elementwise) == 800


def test_numeric_gradient_matches_analytic():
    x = np.random.default_rng(4).standard_normal((3, 3))
    assert np.allclose(numeric_gradient(evaluator(f, []), x), grad_f(x), atol=1e-6)

"""assert_close explains differences and recognizes known mistakes."""

from __future__ import annotations

import numpy as np
import pytest

from grader.assignment import CheckFailed
from grader.checks.compare import as_scalar, assert_close


def failure(got, expected, **kwargs) -> CheckFailed:
    with pytest.raises(CheckFailed) as info:
        assert_close("dW", got, expected, **kwargs)
    return info.value


def test_equal_arrays_pass():
    a = np.random.default_rng(0).standard_normal((3, 4))
    assert_close("dW", a + 1e-12, a)


def test_message_locates_the_worst_element():
    expected = np.zeros((3, 4))
    got = expected.copy()
    got[2, 1] = 0.5
    f = failure(got, expected)
    assert "at [2, 1]" in f.message and "got 0.5" in f.message and "1 of 12" in f.message


@pytest.mark.parametrize("factor, gist", [(-1, "wrong sign"), (0.5, "factor 2 is missing"), (2, "twice"),
                                          (1 / 7, "divided by 7 = in_features"), (0.25, "times 1/4")])
def test_scale_mistakes_are_named(factor, gist):
    expected = np.random.default_rng(1).standard_normal((3, 5))
    assert gist in failure(expected * factor, expected, constants={"in_features": 7}).hint


def test_transpose_and_shape():
    expected = np.arange(6.0).reshape(2, 3)
    assert "transpose" in failure(expected.T, expected).hint
    assert "shape" in failure(expected.ravel(), expected).hint
    assert "(3, 3)" in failure(np.zeros((3, 3)), expected).message


def test_a_jacobian_instead_of_a_vjp_is_named():
    assert "Jacobian" in failure(np.eye(6), np.ones(6)).hint


def test_explicit_mistakes_win():
    expected = np.ones(3)
    assert failure(np.zeros(3), expected, mistakes=[(np.zeros(3), "you forgot the bias")]).hint == \
        "you forgot the bias"


def test_non_finite_values_are_reported():
    f = failure(np.array([1.0, np.nan]), np.array([1.0, 2.0]))
    assert "non-finite" in f.message and "[1]" in f.message


@pytest.mark.parametrize("value, gist", [(None, "return statement"), ([1.0, 2.0], "list"),
                                         (np.array(["a"]), "dtype")])
def test_wrong_types_are_explained(value, gist):
    assert gist in failure(value, np.ones(2)).message


def test_as_scalar():
    assert as_scalar("loss", np.array([[2.0]])) == 2.0
    with pytest.raises(CheckFailed, match="single number"):
        as_scalar("loss", np.ones(3))

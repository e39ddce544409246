"""Shape and dtype before value: the shared helpers a1-a4 use on anything a student returns."""

from __future__ import annotations

import numpy as np
import pytest

from grader.assignment import CheckFailed
from grader.checks.compare import arrays, expect_shape, likely_ignored
from grader.checks.gradcheck import verify_gradient, weighted_sums


def test_expect_shape_names_the_ignored_argument():
    with pytest.raises(CheckFailed) as failure:
        expect_shape("out", np.zeros((2, 3, 8, 8)), (2, 3, 4, 4), "generic", ignored={"stride = 2": (2, 3, 8, 8)})
    assert "has shape (2, 3, 8, 8), expected (2, 3, 4, 4)" in failure.value.message
    assert "stride = 2" in failure.value.hint
    with pytest.raises(CheckFailed) as failure:
        expect_shape("out", np.zeros(5), (4,), "generic")
    assert failure.value.hint == "generic"
    assert likely_ignored((1,), {"x": (2,)}) == ""


@pytest.mark.parametrize("value", [np.zeros(3, dtype=complex), np.zeros(3, dtype=bool), None, "text", [1.0, 2.0]])
def test_expect_shape_refuses_what_is_not_a_real_array(value):
    with pytest.raises(CheckFailed):
        expect_shape("out", value, (3,))


def test_arrays_with_shape_and_weighted_sums_never_broadcast():
    G = np.ones((2, 3))
    assert weighted_sums("f", [np.ones((2, 3)), 2 * np.ones((2, 3))], 2, G) == [6.0, 12.0]
    with pytest.raises(CheckFailed, match=r"has shape \(3, 2\), expected \(2, 3\)"):
        weighted_sums("f", [np.ones((3, 2))], 1, G)
    with pytest.raises(CheckFailed, match="malformed"):
        arrays("f", np.ones(3), 1, shape=(3,))


def test_right_gradient_with_a_forward_of_the_wrong_shape_is_a_named_failure():
    """The a3 crash of issue #10: the finite-difference step met a forward of the wrong shape."""
    class Ctx:
        rng = np.random.default_rng(0)

    x, G = np.arange(6.0).reshape(2, 3), np.ones((2, 3))

    def evaluate(points):  # a forward that returns its input transposed
        return weighted_sums("forward", [p.T for p in points], len(points), G)

    with pytest.raises(CheckFailed, match="forward has shape"):
        verify_gradient(Ctx(), "dx", G.copy(), G.copy(), evaluate, x)

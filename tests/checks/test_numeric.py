"""Numeric answers follow PrairieLearn's rules; matrices earn credit per correct row."""

from __future__ import annotations

import numpy as np
import pytest

from grader.assignment import CheckFailed
from grader.checks.numeric import Tolerance, judge_matrix, judge_number


@pytest.mark.parametrize("got, ok", [(166.7, True), (167, True), (166.6, True), (166.0, False), (170, False)])
def test_significant_figures(got, ok):
    assert Tolerance(digits=3).accepts(got, 166.6667) is ok


@pytest.mark.parametrize("got, ok", [(1.009, True), (0.991, True), (1.02, False)])
def test_relative_and_absolute(got, ok):
    assert Tolerance(rtol=1e-2).accepts(got, 1.0) is ok


def test_known_wrong_number_gets_its_hint():
    with pytest.raises(CheckFailed) as info:
        judge_number("loss", 0.1549, 0.3567, Tolerance(digits=3), mistakes=[(0.15490, "log10")])
    assert info.value.hint == "log10"


@pytest.mark.parametrize("value", ["3", True, None, [1]])
def test_non_numbers_are_explained(value):
    with pytest.raises(CheckFailed, match="should be a number"):
        judge_number("x", value, 3.0)


def test_matrix_partial_credit_and_shape():
    expected = np.arange(6.0).reshape(3, 2)
    wrong = expected.tolist()
    wrong[1][0] = 99
    with pytest.raises(CheckFailed) as info:
        judge_matrix("M", wrong, expected)
    assert info.value.fraction == pytest.approx(2 / 3) and "row 1, column 0" in info.value.message
    with pytest.raises(CheckFailed, match="shape"):
        judge_matrix("M", [[1, 2]], expected)
    with pytest.raises(CheckFailed, match="list of rows"):
        judge_matrix("M", [["a", "b"]] * 3, expected)
    assert "correct" in judge_matrix("M", expected.tolist(), expected)

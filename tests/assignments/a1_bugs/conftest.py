"""The single-bug catalogues: the 20-seed sweeps are marked slow and run with DLGRADE_SLOW=1."""

from __future__ import annotations

import pytest

SEEDS = tuple(range(20))  # every bug must fail, and the correct submission pass, under each of these
FAST_SEEDS = (0, 7)  # the subset the default run uses


def seeds():
    """Fast seeds as plain parameters, the rest marked slow."""
    return [s if s in FAST_SEEDS else pytest.param(s, marks=pytest.mark.slow) for s in SEEDS]

"""Whole points for platforms that count in integers (GitHub's reporter, Classroom 50).

A check worth 1.5 points becomes 3 units when every check's points are scaled
by 2; a partial score becomes the nearest whole number of units. The scale is
the smallest of a few "nice" factors that makes every check's points whole, so
the percentage a platform shows differs from dlgrade's only by rounding.
"""

from __future__ import annotations

from dataclasses import dataclass

from grader.result import CheckResult, Report

SCALES = (1, 2, 4, 5, 10, 20, 100)


@dataclass(frozen=True)
class CheckUnits:
    """One check's score in whole units."""

    check: CheckResult
    units: int
    earned: int


def scale_for(points: list[float]) -> int:
    """The smallest factor that makes every value in ``points`` a whole number."""
    for scale in SCALES:
        if all(abs(p * scale - round(p * scale)) < 1e-9 for p in points):
            return scale
    return SCALES[-1]


def check_units(report: Report) -> list[CheckUnits]:
    """Every graded (not skipped) check of ``report`` in whole units."""
    graded = [c for c in report.checks if c.status != "skipped"]
    scale = scale_for([c.max_score for c in graded])
    rows = []
    for check in graded:
        units = round(check.max_score * scale)
        fraction = check.score / check.max_score if check.max_score else 0.0
        # A check that did not pass never rounds up to full marks.
        earned = units if check.status == "passed" else min(units - 1, max(0, round(fraction * units)))
        rows.append(CheckUnits(check, units, earned))
    return rows

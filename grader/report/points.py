"""The score a report states: the one honest score line, and whole points for platforms that count in integers.

``score_line`` is what every reporter says about the total. In the student
build some checks are *hidden* (graded only by the staff's build): their
points are neither earned nor in the maximum here, so the line says how many
more points the staff grade, and "all checks passed" is said only when no
point is hidden.

Whole points (GitHub's reporter, Classroom 50): a check worth 1.5 points
becomes 3 units when every check's points are scaled by 2; a partial score
becomes the nearest whole number of units. The scale is the smallest of a few
"nice" factors that makes every check's points whole, so the percentage a
platform shows differs from dlgrade's only by rounding.
"""

from __future__ import annotations

from dataclasses import dataclass

from grader.result import CheckResult, Report

SCALES = (1, 2, 4, 5, 10, 20, 100)
NEED_WORK = ("failed", "error", "timeout", "undecided", "not_run")


@dataclass(frozen=True)
class ScoreLine:
    """The total of one report: points earned and graded here, and the points left to the staff's build."""

    score: float
    max_score: float
    hidden_points: float
    hidden_checks: int
    need_work: int

    @property
    def all_passed(self) -> bool:
        """Every check passed and none is hidden: only then may a report say "all checks passed"."""
        return self.need_work == 0 and self.hidden_checks == 0

    @property
    def verdict(self) -> str:
        """"all checks passed", "every check this build grades passed" or "N check(s) need work"."""
        if self.need_work:
            return f"{self.need_work} check(s) need work"
        return "every check this build grades passed" if self.hidden_checks else "all checks passed"

    @property
    def staff_part(self) -> str:
        """The sentence about hidden points ("" when none is hidden)."""
        if not self.hidden_checks:
            return ""
        return f"{_num(self.hidden_points)} more points are graded by the staff"

    @property
    def text(self) -> str:
        """The score line without markup: "25/25 on the checks this build can grade (every check this build grades
        passed); 11 more points are graded by the staff", or "36/36 (all checks passed)"."""
        if not self.hidden_checks:
            return f"{self.points} ({self.verdict})"
        return f"{self.points} on the checks this build can grade ({self.verdict}); {self.staff_part}"

    @property
    def points(self) -> str:
        return f"{_num(self.score)}/{_num(self.max_score)}"


def _num(value: float) -> str:
    return f"{value:g}"


def score_line(report: Report) -> ScoreLine:
    """The honest total of ``report`` (see ``ScoreLine``): every reporter states this, and only this."""
    hidden = [c for c in report.checks if c.status == "hidden"]
    return ScoreLine(score=report.score, max_score=report.max_score,
                     hidden_points=round(sum(c.max_score for c in hidden), 6), hidden_checks=len(hidden),
                     need_work=sum(1 for c in report.checks if c.status in NEED_WORK
                                   or (c.status == "passed" and c.score < c.max_score)))


@dataclass(frozen=True)
class CheckUnits:
    """One check's score in whole units."""

    check: CheckResult
    units: int
    earned: int

    @property
    def hidden(self) -> bool:
        """Graded only by the staff's build: neither earned nor in the maximum here."""
        return self.check.status == "hidden"


def scale_for(points: list[float]) -> int:
    """The smallest factor that makes every value in ``points`` a whole number."""
    for scale in SCALES:
        if all(abs(p * scale - round(p * scale)) < 1e-9 for p in points):
            return scale
    return SCALES[-1]


def check_units(report: Report) -> list[CheckUnits]:
    """Every check of ``report`` but the skipped ones, in whole units. A check hidden in a student build keeps its
    units (a platform's layout is the assignment's) and earns none: callers show it apart (``CheckUnits.hidden``)
    and count it in no score, as ``score_line`` does."""
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

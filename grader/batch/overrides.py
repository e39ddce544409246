"""Staff changes to grades, and the one place that turns a graded result into the grade of record.

A TA can set a check's points (``override``), excuse a check (``excuse``) or
set the whole grade (``override STUDENT total``), each with a comment. Changes
are kept per (assignment, student, check), not per graded submission: a regrade
writes a new result and the change applies on top of the latest one. Every
change, a removal included, is a row of the gradebook's ``overrides`` table, so
the history says who (the OS user), when and why.

``final_grade`` is the only function that computes what a student gets; every
export, the feedback pages and ``dlgrade gradebook show`` call it:

1. each check scores its grader's points, or the override's points; an excused
   check counts neither in the score nor in the maximum;
2. a late penalty (points) is taken off that sum, never below 0;
3. an override of ``total`` replaces the result; an excused ``total`` excuses
   the whole assignment (Canvas's ``EX``).

Points must lie in [0, the check's maximum] (for ``total``: [0, the grade's
maximum after excuses]); points above the maximum (extra credit) are accepted
only when the TA says so (``--bonus``), negative points never.
"""

from __future__ import annotations

import getpass
import math
import os
from dataclasses import dataclass

from grader.result import UNSCORED, Report

TOTAL = "total"
ACTIONS = ("points", "excuse", "remove")


@dataclass(frozen=True)
class Override:
    """One staff change, as recorded: ``action`` is ``points``, ``excuse`` or ``remove`` (history only)."""

    student: str
    check: str  # a check id, or ``total``
    action: str
    points: float | None
    comment: str
    who: str
    at: str  # UTC, ISO 8601
    was: str = ""  # the grade it changed, as it was then ("0.5/2", "excused"): for the history

    def describe(self) -> str:
        """``backward: 2 points`` / ``softmax: excused`` / ``total: removed`` (without who and why)."""
        what = f"{self.points:g} points" if self.action == "points" else \
            {"excuse": "excused", "remove": "change removed"}.get(self.action, self.action)
        return f"{self.check}: {what}"


@dataclass(frozen=True)
class FinalCheck:
    """One check's grade of record: the grader's points and the points that count."""

    id: str
    raw: float
    raw_max: float
    points: float
    max: float  # 0 when excused
    counted: bool  # in the score and maximum (not skipped, not excused)
    override: Override | None = None

    @property
    def excused(self) -> bool:
        return self.override is not None and self.override.action == "excuse"


@dataclass(frozen=True)
class FinalGrade:
    """A student's grade of record: the grader's result, the staff's changes and the penalty applied."""

    checks: tuple[FinalCheck, ...]
    raw: float  # the grader's score
    raw_max: float
    penalty: float  # points taken off for lateness (0 when none)
    total: float
    max: float
    total_override: Override | None = None
    unapplied: tuple[Override, ...] = ()  # changes to checks the latest result does not have

    @property
    def excused(self) -> bool:
        """The whole assignment is excused (no grade counts)."""
        return self.total_override is not None and self.total_override.action == "excuse"

    @property
    def changes(self) -> tuple[Override, ...]:
        """The staff changes in force, checks first, ``total`` last."""
        return tuple(c.override for c in self.checks if c.override) + \
            ((self.total_override,) if self.total_override else ())

    def check(self, check_id: str) -> FinalCheck | None:
        return next((c for c in self.checks if c.id == check_id), None)

    def total_text(self) -> str:
        """``4/5``, or ``excused``."""
        return "excused" if self.excused else f"{self.total:g}/{self.max:g}"

    def notes(self) -> list[str]:
        """One plain sentence per change in force, for a student or a TA."""
        lines = []
        for change in self.changes:
            final = self.check(change.check)
            if change.action == "excuse":
                what = "the whole assignment is excused" if change.check == TOTAL else \
                    f"{change.check} is excused (not counted in the score or its maximum)"
            elif change.check == TOTAL:
                what = f"the total is set to {change.points:g}/{self.max:g}"
            else:
                what = f"{change.check} is set to {change.points:g}/{final.max:g} (the grader gave " \
                       f"{final.raw:g}/{final.raw_max:g})"
            lines.append(f"{what}: {change.comment} ({change.who}, {change.at})")
        if self.penalty:
            lines.append(f"late penalty: -{self.penalty:g} points")
        return lines


def final_grade(report: Report, overrides: tuple[Override, ...] | list[Override] = (),
                penalty: float = 0.0) -> FinalGrade:
    """The grade of record of ``report`` with the staff's ``overrides`` in force and a late ``penalty`` (points)."""
    by_check = {o.check: o for o in overrides if o.action != "remove"}
    checks = []
    for c in report.checks:
        change = by_check.get(c.id)
        scored = c.status not in UNSCORED
        if change is None:
            checks.append(FinalCheck(c.id, c.score, c.max_score, c.score, c.max_score if scored else 0.0, scored))
        elif change.action == "excuse":
            checks.append(FinalCheck(c.id, c.score, c.max_score, 0.0, 0.0, False, change))
        else:  # an override makes a check count, even one that was not run (skipped with --task)
            checks.append(FinalCheck(c.id, c.score, c.max_score, float(change.points), c.max_score, True, change))
    known = {c.id for c in report.checks}
    unapplied = tuple(o for o in by_check.values() if o.check != TOTAL and o.check not in known)
    score = round(sum(c.points for c in checks if c.counted), 6)
    maximum = round(sum(c.max for c in checks if c.counted), 6)
    total = max(0.0, round(score - penalty, 6)) if penalty else score
    change = by_check.get(TOTAL)
    if change is not None:
        total, maximum = (0.0, 0.0) if change.action == "excuse" else (float(change.points), maximum)
    return FinalGrade(tuple(checks), report.score, report.max_score, float(penalty), total, maximum, change,
                      unapplied)


def in_force(history: list[Override]) -> list[Override]:
    """The changes in force after ``history`` (oldest first): the last change per check, unless it was a removal."""
    last: dict[str, Override] = {}
    for change in history:
        last[change.check] = change
    return [o for o in last.values() if o.action != "remove"]


def unknown_check(assignment: str, check: str, ids: list[str]) -> str:
    """One sentence for a check id that is not there: the closest id when one is close, else the first ids."""
    import difflib

    lowered = {i.lower(): i for i in ids}
    close = difflib.get_close_matches(check.lower(), list(lowered), n=1, cutoff=0.6)
    if close:
        return f"{assignment} has no check {check!r}; did you mean {lowered[close[0]]}?"
    shown = ", ".join(ids[:12]) + (", ..." if len(ids) > 12 else "")
    return f"{assignment} has no check {check!r}; use one of {shown}"


def current_user() -> str:
    """Who makes a change: the OS user (``getpass``), else the numeric uid."""
    try:
        return getpass.getuser()
    except (OSError, KeyError, ImportError):
        return f"uid {os.getuid()}"


def validate(report: Report, changes: list[Override], check: str, action: str, points: float | None,
             bonus: bool = False) -> str:
    """Refuse a change that cannot apply to ``report`` (one sentence, exit 2); return the grade it changes."""
    from grader.errors import UsageError

    ids = [c.id for c in report.checks]
    if check != TOTAL and check not in ids:
        raise UsageError(unknown_check(report.assignment, check, ids) + ", or total")
    final = final_grade(report, changes)
    current = next((o for o in changes if o.check == check), None)
    if action == "remove":
        if current is None:
            raise UsageError(f"no override or excuse on {check} to remove")
    elif action == "points":
        if points is None or not math.isfinite(points):
            raise UsageError("--points needs a finite number")
        top = final.max if check == TOTAL else final.check(check).raw_max
        if points < 0:
            raise UsageError(f"points cannot be negative (got {points:g})")
        if points > top and not bonus:
            raise UsageError(f"{points:g} is above the maximum of {check} ({top:g}): add --bonus to give extra credit")
    if check == TOTAL:
        return final.total_text()
    one = final.check(check)
    return "excused" if one.excused else f"{one.points:g}/{one.raw_max:g}"

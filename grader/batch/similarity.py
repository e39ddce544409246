"""Pairs of students whose wrong outputs are suspiciously identical, and the class's common mistakes.

Every student in a class run is graded with the same seed, so two independent
students with the same bug can get the very same failure message. A mistake
many students share is a common bug, not evidence of copying; a wrong output
that only two or three students share, on several checks at once, is worth a
look. A signature is the digest of a failing check's message and printed output.
"""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from dataclasses import dataclass
from itertools import combinations

from grader.result import Report

PASSING = ("passed", "skipped")


def signature(check) -> str:
    """A digest of what the student got; ``surrogatepass`` so a lone surrogate in their text cannot stop the page."""
    text = f"{check.status}\0{check.message}\0{check.output}"
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:16]


@dataclass(frozen=True)
class Mistake:
    """One wrong outcome of a check and how many students got it."""

    check: str
    name: str
    count: int
    message: str
    hint: str
    students: tuple[str, ...] = ()  # who got it, by id


@dataclass(frozen=True)
class SuspiciousPair:
    """Two students with the same rare wrong output on ``len(checks)`` checks."""

    first: str
    second: str
    checks: tuple[str, ...]


def whole_submission_failures(reports: dict[str, Report]) -> dict[str, str]:
    """Students whose every check failed with one same message (missing file, import crash...): student -> message."""
    whole = {}
    for student, report in reports.items():
        ran = [c for c in report.checks if c.status != "skipped"]
        messages = {c.message for c in ran}
        if ran and len(messages) == 1 and all(c.status not in PASSING for c in ran):
            whole[student] = messages.pop()
    return whole


def failures(reports: dict[str, Report]) -> dict[str, list[str]]:
    """Per check id, the students (sorted ids) whose result did not pass it."""
    who: dict[str, list[str]] = defaultdict(list)
    for student, report in sorted(reports.items()):
        for check in report.checks:
            if check.status not in PASSING and check.status != "hidden":
                who[check.id].append(student)
    return dict(who)


def common_mistakes(reports: dict[str, Report], top: int = 3) -> dict[str, list[Mistake]]:
    """Per check id, its ``top`` most frequent wrong outcomes (same message), with counts."""
    by_check: dict[str, Counter] = defaultdict(Counter)
    example = {}
    who: dict[tuple[str, str], list[str]] = defaultdict(list)
    for student, report in sorted(reports.items()):
        for check in report.checks:
            if check.status not in PASSING:
                by_check[check.id][check.message] += 1
                example[(check.id, check.message)] = check
                who[(check.id, check.message)].append(student)
    result = {}
    for check_id, counter in by_check.items():
        result[check_id] = [Mistake(check_id, example[(check_id, m)].name, n, m, example[(check_id, m)].hint,
                                    tuple(who[(check_id, m)])) for m, n in counter.most_common(top)]
    return result


def suspicious_pairs(reports: dict[str, Report], min_checks: int = 3, rare: int | None = None) -> list[SuspiciousPair]:
    """Pairs sharing a rare wrong output (at most ``rare`` students have it) on ``min_checks`` or more checks."""
    rare = rare if rare is not None else max(3, len(reports) // 20)  # 5% of the class, at least 3
    holders: dict[tuple[str, str], list[str]] = defaultdict(list)
    for student, report in reports.items():
        for check in report.checks:
            if check.status not in PASSING:
                holders[(check.id, signature(check))].append(student)
    shared: dict[tuple[str, str], list[str]] = defaultdict(list)
    for (check_id, _), students in holders.items():
        if 2 <= len(students) <= rare:
            for a, b in combinations(sorted(students), 2):
                shared[(a, b)].append(check_id)
    pairs = [SuspiciousPair(a, b, tuple(sorted(c))) for (a, b), c in shared.items() if len(c) >= min_checks]
    return sorted(pairs, key=lambda p: (-len(p.checks), p.first, p.second))

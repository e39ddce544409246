"""Plain, frozen results: one ``CheckResult`` per check, one ``Report`` per grading.

These are the data every reporter renders and every integration parses. The
JSON form (``Report.to_dict``) is a stable, documented schema: see
``docs/json-schema.md``. Add fields; never rename or remove one.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

SCHEMA_VERSION = 1
STATUSES = ("passed", "failed", "error", "timeout", "skipped", "undecided", "not_run", "hidden")
# The last line of a check's ``output`` when the rest of what the student printed was dropped.
OUTPUT_CUT_LINE = "[... output truncated]"
UNSCORED = ("skipped", "hidden")  # not counted in max_score: not run, or graded only by the staff's build


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one check against one submission.

    ``status``: passed (full credit), failed (the code ran but is wrong,
    missing or not implemented; may carry partial credit), error (the student's
    code raised or crashed), timeout (it ran past its time limit), skipped (not
    selected with ``--task``), undecided (the grader could not decide, e.g. a
    written answer it cannot evaluate: scored 0 until the staff grade it),
    not_run (never started: the submission's time budget was spent, or grading
    was interrupted; scored 0 and counted in the maximum).
    hidden (the student build has no recorded answer for it: graded by the staff's build).
    """

    id: str
    task: str
    name: str
    status: str
    score: float
    max_score: float
    message: str = ""
    hint: str = ""
    duration_s: float = 0.0
    output: str = ""
    details: dict = field(default_factory=dict)
    root_cause: str = ""  # id of the failed check that explains this failure (one mistake, counted once)

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"unknown status {self.status!r}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CheckResult:
        known = {f: data[f] for f in cls.__dataclass_fields__ if f in data}
        return cls(**known)


@dataclass(frozen=True)
class Report:
    """Everything known about grading one submission for one assignment."""

    assignment: str
    submission: str
    checks: tuple[CheckResult, ...]
    diagnostics: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def not_graded(cls, assignment, submission: str, message: str, hint: str, tasks=None,
                   diagnostics: dict | None = None) -> Report:
        """Zero on every selected check, each with the same reason: a submission that could not be graded at
        all (unreadable, no commit before the deadline) still gets a complete report in a batch."""
        checks = tuple(
            CheckResult(c.id, c.task, c.name, "skipped", 0.0, c.points, message="not selected with --task")
            if tasks and c.task not in tasks and c.id not in tasks else
            CheckResult(c.id, c.task, c.name, "failed", 0.0, c.points, message=message, hint=hint)
            for c in assignment.checks)
        return cls(assignment=assignment.id, submission=submission, checks=checks, diagnostics=diagnostics or {})

    @property
    def score(self) -> float:
        return round(sum(c.score for c in self.checks), 6)

    @property
    def max_score(self) -> float:
        return round(sum(c.max_score for c in self.checks if c.status not in UNSCORED), 6)

    @property
    def hidden_points(self) -> float:
        """Points of the checks hidden in a student build: graded by the staff's build, in neither score here."""
        return round(sum(c.max_score for c in self.checks if c.status == "hidden"), 6)

    @property
    def all_passed(self) -> bool:
        return all(c.status in UNSCORED or (c.status == "passed" and c.score >= c.max_score) for c in self.checks)

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema_version": SCHEMA_VERSION,
            "assignment": self.assignment,
            "submission": self.submission,
            "score": self.score,
            "max_score": self.max_score,
            "hidden_points": self.hidden_points,
            "checks": [c.to_dict() for c in self.checks],
            "diagnostics": self.diagnostics,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Report:
        return cls(
            assignment=data["assignment"],
            submission=data.get("submission", ""),
            checks=tuple(CheckResult.from_dict(c) for c in data["checks"]),
            diagnostics=data.get("diagnostics", {}),
        )

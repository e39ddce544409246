"""Late work: when a submission came in, how late it is, and the penalty a course's policy gives it.

Nothing here is applied unless the TA asks (``dlgrade grade ... --due ISO``): without a due time no
penalty exists. Submission times come only from what the LMS or the repository recorded, never from a
file's modification time (a student's zip sets those to anything):

- Gradescope's ``submission_metadata.yml`` (``:created_at:``);
- Moodle's grading worksheet given as roster (``Last modified (submission)``, in the due time's zone);
- the commit a repository is graded at (its committer date, ``--deadline``);
- Canvas's ``_LATE`` marker carries no time: such a submission is reported as "late (marker only)" and
  no penalty is computed for it.

A policy is a short text: ``"10%/day, max 50%, grace 15m"``. Each started day (or hour, ``%/hour``)
after the due time (plus the student's extension) costs that percentage of the points the student
earned, up to the maximum; a submission within the grace period is on time. ``penalty_points`` turns
the percentage into points; the grade of record is computed once, in ``exports.grade_of_record``.
"""

from __future__ import annotations

import csv
import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

from grader.errors import UsageError

_RATE = re.compile(r"^(?P<pct>\d+(?:\.\d+)?)\s*%\s*/\s*(?P<unit>day|d|hour|h)$")
_MAX = re.compile(r"^max(?:imum)?\s+(?P<pct>\d+(?:\.\d+)?)\s*%$")
_GRACE = re.compile(r"^grace\s+(?P<n>\d+(?:\.\d+)?)\s*(?P<unit>s|m|min|h|d)$")
_UNITS = {"s": 1, "m": 60, "min": 60, "h": 3600, "d": 86400, "day": 86400, "hour": 3600}
_TIME = re.compile(r"^(?P<date>\d{4}-\d\d-\d\d)[T ](?P<time>\d\d:\d\d(?::\d\d)?)(?:\.\d+)?\s*"
                   r"(?P<zone>Z|UTC|[+-]\d\d:?\d\d)?$")
# Moodle's worksheet writes "Wednesday, September 23, 2020, 9:00 PM" (English, the site's time zone).
_MOODLE_FORMATS = ("%A, %B %d, %Y, %I:%M %p", "%A, %d %B %Y, %I:%M %p", "%A, %d %B %Y, %H:%M")


@dataclass(frozen=True)
class Policy:
    """A late policy: ``percent`` per ``unit_s`` started after the due time, at most ``max_percent``."""

    percent: float = 0.0
    unit_s: int = 86400
    max_percent: float = 100.0
    grace_s: float = 0.0
    text: str = ""


@dataclass(frozen=True)
class Lateness:
    """One student's lateness: ``late_days`` is None when unknown (no time, or no due time)."""

    submitted_at: str = ""  # ISO 8601, "" when the layout carries no time
    time_source: str = ""  # where the time came from (e.g. "Gradescope metadata")
    marker: bool = False  # the LMS said late
    due: str = ""  # the due time that applies to this student (an extension moved it), "" when none
    late_days: float | None = None
    penalty_percent: float = 0.0

    def late_text(self) -> str:
        """The CSV's ``late`` cell: days late (2 decimals), ``true`` when only a marker says late, else empty."""
        if self.late_days is not None:
            return f"{self.late_days:.2f}".rstrip("0").rstrip(".") if self.late_days else "0"
        return "true" if self.marker else ""

    def describe(self) -> str:
        """One plain sentence for a summary or a feedback page ("" when on time and nothing to say)."""
        if self.late_days:
            penalty = f", penalty {self.penalty_percent:g}%" if self.penalty_percent else ""
            return f"submitted {self.submitted_at} ({self.time_source}), {self.late_days:.2f} days after " \
                   f"{self.due}{penalty}"
        if self.marker and self.late_days is None:
            return "marked late by the LMS, which gives no submission time: no penalty computed"
        return ""


def parse_policy(text: str | None) -> Policy:
    """``"10%/day, max 50%, grace 15m"`` -> ``Policy``; an unknown part is one plain sentence (exit 2)."""
    if not text:
        return Policy()
    percent, unit, top, grace = 0.0, 86400, 100.0, 0.0
    for part in (p.strip().lower() for p in text.split(",")):
        if m := _RATE.match(part):
            percent, unit = float(m["pct"]), _UNITS[m["unit"][0] if len(m["unit"]) > 1 else m["unit"]]
        elif m := _MAX.match(part):
            top = float(m["pct"])
        elif m := _GRACE.match(part):
            grace = float(m["n"]) * _UNITS[m["unit"]]
        else:
            raise UsageError(f"cannot read {part!r} in the late policy {text!r}: write it like "
                             f"\"10%/day, max 50%, grace 15m\"")
    if percent > 100 or top > 100:
        raise UsageError(f"a late policy takes off at most 100% (got {text!r})")
    return Policy(percent, unit, top, grace, text)


def parse_time(text: str, zone: timezone | None = None) -> datetime | None:
    """An LMS's time as an aware datetime (``zone`` when the text has none); None when it is not a time."""
    text = (text or "").strip()
    m = _TIME.match(text)
    if m:
        stamp = datetime.fromisoformat(f"{m['date']}T{m['time']}")
        raw = m["zone"]
        if raw in ("Z", "UTC"):
            return stamp.replace(tzinfo=UTC)
        if raw:
            raw = raw if ":" in raw else raw[:3] + ":" + raw[3:]
            return datetime.fromisoformat(f"{m['date']}T{m['time']}{raw}")
        return stamp.replace(tzinfo=zone) if zone else None
    for fmt in _MOODLE_FORMATS:
        try:
            stamp = datetime.strptime(" ".join(text.split()), fmt)
        except ValueError:
            continue
        return stamp.replace(tzinfo=zone) if zone else None
    return None


def parse_due(text: str) -> datetime:
    """The ``--due`` time: ISO 8601 with a time zone."""
    when = parse_time(text)
    if when is None:
        raise UsageError(f"cannot read the due time {text!r}: write it as ISO 8601 with a time zone, "
                         f"e.g. 2026-11-02T23:59:00+01:00")
    return when


def read_extensions(path: Path, due: datetime) -> dict[str, datetime]:
    """``{student: due time}`` from a CSV: a student id column (the first one), and ``due`` (a new ISO time)
    or ``days`` / ``hours`` (added to the class's due time)."""
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            rows = list(csv.DictReader(f))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise UsageError(f"cannot read the extensions {path}: {exc}") from None
    if not rows:
        return {}
    header = {name.strip().lower(): name for name in rows[0] if name}
    id_column = next((header[c] for c in ("id", "student", "student_id", "sid", "sis user id", "identifier")
                      if c in header), next(iter(rows[0])))
    extensions = {}
    for line, row in enumerate(rows, start=2):
        student = (row.get(id_column) or "").strip()
        if not student:
            continue
        if "due" in header and (row.get(header["due"]) or "").strip():
            when = parse_time(row[header["due"]], due.tzinfo)
        else:
            column = next((c for c in ("days", "extra_days", "hours") if c in header), None)
            try:
                hours = float((row.get(header[column]) or "").strip()) * (1 if column == "hours" else 24) \
                    if column else None
            except ValueError:
                hours = None
            when = due + timedelta(hours=hours) if hours is not None else None
        if when is None:
            raise UsageError(f"{path}, line {line}: give {student} a 'due' time (ISO 8601) or a number of "
                             f"'days' or 'hours'")
        extensions[student.lstrip("'")] = when
    return extensions


def lateness(submitted_at: str, time_source: str, marker: bool, due: datetime | None, policy: Policy,
             extension: datetime | None = None) -> Lateness:
    """How late one submission is, and its penalty in percent, under ``policy`` (none without a ``due``)."""
    when = parse_time(submitted_at, due.tzinfo if due else None)
    stamp = when.isoformat() if when else ""
    if due is None:
        return Lateness(stamp, time_source if when else "", marker)
    deadline = extension or due
    if when is None:
        return Lateness("", "", marker, deadline.isoformat())
    late_s = (when - deadline).total_seconds()
    if late_s <= policy.grace_s:
        return Lateness(stamp, time_source, marker, deadline.isoformat(), 0.0, 0.0)
    units = math.ceil(late_s / policy.unit_s)
    percent = min(policy.max_percent, units * policy.percent)
    return Lateness(stamp, time_source, marker, deadline.isoformat(), round(late_s / 86400, 4), percent)


def penalty_points(raw: float, percent: float) -> float:
    """The points ``percent`` takes off a raw score (of what the student earned, so a zero stays a zero)."""
    return round(raw * percent / 100.0, 6) if percent else 0.0


@dataclass(frozen=True)
class LatePlan:
    """What a run applies: the due time, the policy and the extensions (none of them: nothing is deducted)."""

    due: datetime | None = None
    policy: Policy = Policy()
    extensions: dict[str, datetime] | None = None
    inherited_from: str = ""  # "" when given on this run's command line

    def to_options(self) -> dict:
        """What the run's ``options`` keep, so that a rerun applies the same policy (``from_options``)."""
        if self.due is None:
            return {}
        return {"due": self.due.isoformat(), "late_policy": self.policy.text,
                "extensions": {s: t.isoformat() for s, t in (self.extensions or {}).items()}}

    @classmethod
    def from_options(cls, options: dict, inherited_from: str = "") -> LatePlan:
        due = parse_time(options.get("due") or "")
        if due is None:
            return cls()
        extensions = {s: t for s, text in (options.get("extensions") or {}).items() if (t := parse_time(text))}
        return cls(due, parse_policy(options.get("late_policy") or ""), extensions, inherited_from)

    def assess(self, student: str, submitted_at: str, time_source: str, marker: bool) -> Lateness:
        return lateness(submitted_at, time_source, marker, self.due, self.policy,
                        (self.extensions or {}).get(student))

    def describe(self) -> str:
        """The summary's line about the policy in force ("" when none)."""
        if self.due is None:
            return ""
        policy = self.policy.text or "no penalty (lateness recorded only)"
        extended = f", {len(self.extensions)} extension(s)" if self.extensions else ""
        source = f" (kept from {self.inherited_from}; --due none to drop it)" if self.inherited_from else ""
        return f"late policy: due {self.due.isoformat()}, {policy}{extended}{source}"


def resolve_plan(due: datetime | None, policy: str | None, extensions: Path | None, keep: bool,
                 earlier: list[tuple[int, dict]]) -> LatePlan:
    """The plan of a run: the one given, else (``keep``) the last one a run of this assignment applied."""
    if due is None:
        if policy or extensions:
            raise UsageError("--late-policy and --extensions need --due (the due time they apply to)")
        if keep:
            for run_id, options in earlier:
                if options.get("due"):
                    return LatePlan.from_options(options, inherited_from=f"run {run_id}")
        return LatePlan()
    if due.tzinfo is None:
        raise UsageError("the due time needs a time zone, e.g. 2026-11-02T23:59:00+01:00")
    parsed = parse_policy(policy)
    return LatePlan(due, parsed, read_extensions(Path(extensions), due) if extensions else {})


def gradebook_row(found: Lateness, plan: LatePlan, raw: float | None) -> dict:
    """One ``lateness`` row of the gradebook: the lateness, the policy, raw score, penalty and total."""
    penalty = penalty_points(raw or 0.0, found.penalty_percent)
    return {"submitted_at": found.submitted_at, "time_source": found.time_source, "marker": int(found.marker),
            "due": found.due, "late_days": found.late_days, "policy": plan.policy.text if plan.due else "",
            "penalty_percent": found.penalty_percent, "raw": raw, "penalty": penalty,
            "total": None if raw is None else max(0.0, round(raw - penalty, 6))}

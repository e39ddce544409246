"""CI results against the staff regrade: which students' CI reported a score the staff grade does not match.

A student's CI runs in a repository the student controls, so every number it
reports is a claim. ``reconcile`` reads the files a course collected from its
students' CI runs and compares each with the staff grade in the gradebook, in
the CI's own units:

- Classroom 50's ``result.json`` (``schema`` ``classroom50/result/v1``): whole units, compared with the staff
  report mapped by the same rule (``grader.report.points.check_units``);
- the GitHub reporter payload that ``dlgrade ci --emit github`` writes to ``$GITHUB_OUTPUT`` (lines
  ``RUNNER=BASE64_JSON``), or one decoded payload: the sum of the tests' ``score`` fields (what the reporter
  records) and of the runners' ``max_score``, compared with ``grader.report.github.reporter_payloads``;
- Gradescope's ``results.json``: points, compared with the staff score to within 0.005 point.

Whole units are exact, so "differs" means by more than the rounding to units. Every file is parsed bounded
(size cap, no links followed, numbers capped, NaN and infinities refused, nesting depth limited) and checked
for types: a malformed file is a finding with one sentence, never a crash.

The student of a file is named by its path, as the course laid the files out: the file's name without its
suffix (``alice.json``), else its folder (``alice/result.json``), a repository-style name ending in ``-ID``
counting as ``ID``; only then by a Classroom 50 file's ``owner`` (or older ``usernames``; a claim, so it comes last).
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from grader.errors import UsageError
from grader.result import Report

MAX_CI_BYTES = 1 << 20
MAX_CI_FILES = 10_000
MAX_NUMBER = 1e12
GRADESCOPE_TOLERANCE = 0.005
GENERIC_NAMES = {"result", "results", "output", "outputs", "github_output", "dlgrade", "payload", "ci", "grade"}
SUFFIXES = {".json", ".txt", ".out", ".env", ""}


class Malformed(ValueError):
    """A CI file that is not a result dlgrade can read: the message is one sentence."""


@dataclass(frozen=True)
class Claim:
    """What one CI file reports: its kind, score and maximum in its own units, and the usernames it names."""

    path: str
    kind: str  # classroom50 | github | gradescope
    score: float
    max_score: float
    usernames: tuple[str, ...] = ()


@dataclass(frozen=True)
class Finding:
    """One CI file (or student) that needs a human look, with both numbers where there are two."""

    student: str  # "" when the file names no student in the gradebook
    path: str
    kind: str  # "" when the file could not be read
    ci: str  # what CI reported, in its units ("10/10"); "" when unreadable
    staff: str  # the staff grade in the same units ("" when there is none to compare)
    staff_points: str  # the staff grade in points
    reason: str


@dataclass(frozen=True)
class Reconciliation:
    """Every CI file read: the students whose CI agrees, and the findings."""

    assignment: str
    agreed: tuple[str, ...]
    findings: tuple[Finding, ...]
    without_ci: tuple[str, ...]  # graded students with no CI file

    @property
    def clean(self) -> bool:
        return not self.findings


# --- reading one CI file, bounded -------------------------------------------------------------------------------


def _number(text: str) -> float:
    if len(text) > 40:
        raise Malformed("it holds a number too long to be a score")
    value = float(text)
    if not math.isfinite(value) or abs(value) > MAX_NUMBER:
        raise Malformed("it holds a number that is not a finite score")
    return value


def _integer(text: str) -> int:
    if len(text.lstrip("-")) > 15:
        raise Malformed("it holds an integer too large to be a score")
    return int(text)


def _refuse_constant(name: str):
    raise Malformed(f"it holds {name}, which is not a score")


def _json(text: str):
    try:
        return json.loads(text, parse_int=_integer, parse_float=_number, parse_constant=_refuse_constant)
    except RecursionError:
        raise Malformed("its JSON is nested too deeply") from None
    except Malformed:
        raise
    except ValueError as exc:
        raise Malformed(f"it is not valid JSON ({str(exc)[:80]})") from None


def _score(value, what: str, whole: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or (whole and not isinstance(value, int)):
        raise Malformed(f"its {what} is not a {'whole number' if whole else 'number'}")
    if not math.isfinite(value) or value < 0 or value > MAX_NUMBER:
        raise Malformed(f"its {what} is not a non-negative finite number")
    return float(value)


def _classroom50(doc: dict, path: str) -> Claim:
    score, top = _score(doc.get("score"), "score", whole=True), _score(doc.get("max-score"), "max-score", whole=True)
    if score > top:
        raise Malformed("its score is above its max-score")
    owner, users = doc.get("owner"), doc.get("usernames")  # "owner" in the current contract, "usernames" before
    names = ((owner,) if isinstance(owner, str) and 0 < len(owner) <= 200 else
             tuple(u for u in users[:1] if isinstance(u, str) and 0 < len(u) <= 200) if isinstance(users, list)
             else ())
    return Claim(path, "classroom50", score, top, names)


def _payload_sums(payload, what: str) -> tuple[float, float]:
    if not isinstance(payload, dict) or not isinstance(payload.get("tests"), list):
        raise Malformed(f"{what} is not a reporter payload (an object with a list of tests)")
    score = 0.0
    for test in payload["tests"]:
        if not isinstance(test, dict):
            raise Malformed(f"{what} has a test that is not an object")
        score += _score(test.get("score", 0), f"{what}'s test score")
    return score, _score(payload.get("max_score"), f"{what}'s max_score")


def _github(text: str, path: str) -> Claim:
    score = top = 0.0
    runners = 0
    for number, line in enumerate(text.splitlines(), 1):
        name, sep, value = line.strip().partition("=")
        if not line.strip() or name in ("score", "max_score"):
            continue  # the totals line is a claim too: the payloads are what the reporter records
        if not sep or not name:
            raise Malformed(f"line {number} is not NAME=VALUE")
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError, ValueError):
            raise Malformed(f"line {number} ({name[:40]}) is not base64 of UTF-8 text") from None
        s, m = _payload_sums(_json(decoded), f"runner {name[:40]}")
        score, top, runners = score + s, top + m, runners + 1
    if not runners:
        raise Malformed("it holds no reporter payload (RUNNER=BASE64 lines)")
    if score > top:
        raise Malformed("its tests score more than its runners' max_score")
    return Claim(path, "github", score, top)


def _gradescope(doc: dict, path: str) -> Claim:
    tests = doc.get("tests", [])
    if not isinstance(tests, list) or not all(isinstance(t, dict) for t in tests):
        raise Malformed("its tests are not a list of objects")
    top = sum(_score(t.get("max_score", 0), "test max_score") for t in tests)
    score = _score(doc["score"], "score") if "score" in doc else sum(_score(t.get("score", 0), "test score")
                                                                     for t in tests)
    return Claim(path, "gradescope", score, top)


def read_claim(path: Path) -> Claim:
    """The claim of one CI file; ``Malformed`` (one sentence) when it is not one dlgrade can read."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        raise Malformed(f"it cannot be opened ({exc.strerror})") from None
    with os.fdopen(fd, "rb") as f:
        if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
            raise Malformed("it is not a regular file")
        raw = f.read(MAX_CI_BYTES + 1)
    if len(raw) > MAX_CI_BYTES:
        raise Malformed(f"it is larger than {MAX_CI_BYTES >> 10} KiB")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise Malformed("it is not UTF-8 text") from None
    stripped = text.lstrip()
    if not stripped.startswith(("{", "[")):
        return _github(text, str(path))
    doc = _json(text)
    if not isinstance(doc, dict):
        raise Malformed("its JSON is not an object")
    if "schema" in doc:
        if doc["schema"] != "classroom50/result/v1":
            raise Malformed("its schema is not classroom50/result/v1")
        return _classroom50(doc, str(path))
    if "version" in doc and "max_score" in doc:  # one decoded reporter payload (one runner)
        score, top = _payload_sums(doc, "the payload")
        return Claim(str(path), "github", score, top)
    if "tests" in doc or "score" in doc:
        return _gradescope(doc, str(path))
    raise Malformed("it is not a Classroom 50 result.json, a Gradescope results.json or a GitHub reporter payload")


# --- the whole class --------------------------------------------------------------------------------------------


def ci_files(root: Path) -> list[Path]:
    """The files under ``root`` (or ``root`` itself), links never followed, at most ``MAX_CI_FILES``."""
    root = Path(root)
    if root.is_symlink() or not root.exists():
        raise UsageError(f"no such file or folder: {root}")
    if root.is_file():
        return [root]
    found = []
    for folder, dirs, files in os.walk(root, followlinks=False):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            path = Path(folder) / name
            if not name.startswith(".") and path.suffix.lower() in SUFFIXES and not path.is_symlink():
                found.append(path)
                if len(found) > MAX_CI_FILES:
                    raise UsageError(f"{root} holds more than {MAX_CI_FILES} files; point --ci at the CI results")
    if not found:
        raise UsageError(f"{root} holds no CI result (.json, .txt or GITHUB_OUTPUT-style files)")
    return found


def _student_of(path: Path, root: Path, usernames: tuple[str, ...], students: set[str]) -> str:
    names = [] if path.stem.lower() in GENERIC_NAMES else [path.stem]
    if path.parent != root:
        names.append(path.parent.name)
    names.extend(usernames)
    for name in names:
        if name in students:
            return name
        tails = [s for s in students if name.endswith("-" + s)]
        if len(tails) == 1:
            return tails[0]
    return ""


def _in_units(kind: str, report: Report) -> tuple[float, float]:
    if kind == "classroom50":
        from grader.report.points import check_units

        rows = check_units(report)
        return float(sum(r.earned for r in rows)), float(sum(r.units for r in rows))
    if kind == "github":
        from grader.report.github import reporter_payloads

        payloads = reporter_payloads(report).values()
        return (float(sum(t["score"] for p in payloads for t in p["tests"])),
                float(sum(p["max_score"] for p in payloads)))
    return report.score, report.max_score


def reconcile(graded: dict[str, Report], root: Path, assignment: str) -> Reconciliation:
    """Compare every CI file under ``root`` with the staff grades ``graded`` (student -> latest report)."""
    root = Path(root)
    students = set(graded)
    findings: list[Finding] = []
    agreed: list[str] = []
    seen: set[str] = set()
    for path in ci_files(root):
        shown = str(path.relative_to(root)) if path != root else path.name
        try:
            claim = read_claim(path)
        except Malformed as exc:
            student = _student_of(path, root, (), students)
            seen.add(student)
            findings.append(Finding(student, shown, "", "", "", _points(graded.get(student)),
                                    f"malformed CI file: {exc}"))
            continue
        student = _student_of(path, root, claim.usernames, students)
        ci = f"{claim.score:g}/{claim.max_score:g}"
        if not student:
            findings.append(Finding("", shown, claim.kind, ci, "", "",
                                    "names no student graded in the gradebook (by file, folder or username)"))
            continue
        seen.add(student)
        staff, top = _in_units(claim.kind, graded[student])
        staff_text = f"{staff:g}/{top:g}"
        if claim.kind == "gradescope":
            same_score = abs(claim.score - staff) <= GRADESCOPE_TOLERANCE
            same_max = abs(claim.max_score - top) <= GRADESCOPE_TOLERANCE
        else:
            same_score, same_max = claim.score == staff, claim.max_score == top
        if not same_max:
            findings.append(Finding(student, shown, claim.kind, ci, staff_text, _points(graded[student]),
                                    "the maximum differs (another dlgrade version, other tasks, or an edited "
                                    "workflow)"))
        elif not same_score:
            findings.append(Finding(student, shown, claim.kind, ci, staff_text, _points(graded[student]),
                                    f"CI reported {'more' if claim.score > staff else 'less'} than the staff grade"))
        else:
            agreed.append(student)
    return Reconciliation(assignment, tuple(sorted(set(agreed))), tuple(findings),
                          tuple(sorted(students - seen)))


def _points(report: Report | None) -> str:
    return "" if report is None else f"{report.score:g}/{report.max_score:g}"


def write_findings_csv(result: Reconciliation, path: Path) -> Path:
    """The findings as CSV (``student, ci_file, kind, ci, staff_ci_units, staff_points, reason``)."""
    from grader.report.spreadsheet import open_csv

    with open_csv(Path(path)) as writer:  # student ids and CI file names are the students': every cell defused
        writer.writerow(["student", "ci_file", "kind", "ci", "staff_ci_units", "staff_points", "reason"])
        for item in result.findings:
            writer.writerow([item.student, item.path, item.kind, item.ci, item.staff, item.staff_points,
                             item.reason])
    return Path(path)

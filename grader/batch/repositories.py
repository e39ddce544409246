"""Staff-side regrades of students' repositories: the last commit before a deadline, checked out read-only.

CI in a student's repository is feedback the student controls. The grade of
record comes from the staff cloning each repository (a URL or a local clone),
taking the last commit on its branch whose committer date is not after the
deadline, and grading that tree with the same sandbox as everything else.
Commit dates are written by the student's own git, so they are a claim: the
record keeps the commit hash and both dates, and flags a commit whose
committer date is earlier than its author date (a rewritten history) so that a
course that needs more than this cross-checks with its platform's push log.

Only ``git`` is run (``clone --bare``, ``rev-parse``, ``rev-list``, ``ls-tree``,
``archive``), with no user or system configuration and only the usual transport
protocols; the tree is unpacked from ``git archive`` by the submission loader's
rules (regular files only), never by running anything the repository contains.

``read_sources`` reads the class's list of repositories (a text file, GitHub
Classroom's grades CSV, or a folder of clones) and names each student.
"""

from __future__ import annotations

import csv
import datetime as _dt
import io
import os
import re
import shlex
import subprocess
import tarfile
from dataclasses import dataclass
from pathlib import Path

from grader.batch.faults import crash_sentence, machine_wide
from grader.errors import SubmissionError, UsageError
from grader.text import encodable, encodable_data, from_os

GIT_TIMEOUT_S = 120
MAX_TREE_BYTES = 64 * 1024 * 1024
MAX_TREE_FILES = 20_000
MAX_LIST_BYTES = 8 << 20
GIT_ENV = {"GIT_TERMINAL_PROMPT": "0", "PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": "/nonexistent",
           "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": "/dev/null",
           "GIT_ALLOW_PROTOCOL": "file:git:http:https:ssh", "GIT_SSH_COMMAND": "ssh -o BatchMode=yes"}
BRANCH = re.compile(r"^(?!-)[A-Za-z0-9._/-]{1,200}$")
SCP_URL = re.compile(r"^[\w.-]+@[\w.-]+:")


class CloneError(SubmissionError):
    """The repository could not be cloned (a wrong URL, no access, the network): not the student's zero."""


class NoCommitBeforeDeadline(SubmissionError):
    """The repository has no commit on the branch at or before the deadline: nothing was submitted in time."""


class UnreadableCommitDate(SubmissionError):
    """The commit git chose has a committer date that cannot be read: no grade until a person looks."""


@dataclass(frozen=True)
class Snapshot:
    """The commit graded for one repository."""

    source: str
    commit: str
    committed: str  # ISO 8601, the committer date (the student's claim)
    authored: str
    folder: Path
    rewritten: bool  # committer date earlier than author date


@dataclass(frozen=True)
class Source:
    """One line of the class's list: a student and where their repository is."""

    student: str
    source: str


def git_env(environ: dict | None = None) -> dict[str, str]:
    """git's environment: no user or system configuration, no prompt, the staff's credentials only.

    Students' repositories are usually private. ssh URLs use the staff's ssh agent (``SSH_AUTH_SOCK``) or
    keys; https URLs use a token in ``DLGRADE_GIT_TOKEN``, given by a credential helper scoped to the host
    ``DLGRADE_GIT_HOST`` (default ``github.com``) only, so it is never sent to another host a list names.
    """
    environ = os.environ if environ is None else environ
    env = dict(GIT_ENV)
    if environ.get("SSH_AUTH_SOCK"):
        env["SSH_AUTH_SOCK"] = environ["SSH_AUTH_SOCK"]
    if environ.get("DLGRADE_GIT_TOKEN"):
        host = environ.get("DLGRADE_GIT_HOST") or "github.com"
        env.update({"DLGRADE_GIT_TOKEN": environ["DLGRADE_GIT_TOKEN"], "GIT_CONFIG_COUNT": "1",
                    "GIT_CONFIG_KEY_0": f"credential.https://{host}.helper",
                    "GIT_CONFIG_VALUE_0": '!f() { test "$1" = get && echo username=x-access-token && '
                                          'echo "password=$DLGRADE_GIT_TOKEN"; }; f'})
    return env


def _git(*args: str, cwd: Path | None = None) -> str:
    try:
        done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, timeout=GIT_TIMEOUT_S,
                              stdin=subprocess.DEVNULL, env=git_env(), errors="replace")
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise SubmissionError(f"git {args[0]} failed: {exc}") from None
    if done.returncode != 0:
        raise SubmissionError(f"git {args[0]} failed: {done.stderr.strip().splitlines()[-1] if done.stderr else ''}")
    return done.stdout


def read_date(line: str | None) -> tuple[str, int | None, str]:
    """A commit's ``author`` or ``committer`` line's date: (ISO 8601, Unix time, "") or ("", None, why not).

    git writes ``NAME <EMAIL> SECONDS ZONE``, but a commit object holds whatever its author's git (or a hand-made
    object) wrote. Read tolerantly: no date, a date that is not a whole number of seconds since 1970, or one past
    the year 9999 cannot be read; a time zone outside -23:59..+23:59 (which only says how to show the instant)
    falls back to UTC.
    """
    if line is None:
        return "", None, "the commit has no such line"
    fields = line.rsplit(">", 1)[-1].split()
    if not fields:
        return "", None, "it has no date"
    if not (fields[0].isascii() and fields[0].isdigit()):
        return "", None, f"its date {encodable(fields[0][:20])!r} is not a number of seconds"
    try:
        seconds = int(fields[0][:40])
        moment = _dt.datetime.fromtimestamp(seconds, _dt.UTC)
    except (OverflowError, ValueError, OSError):
        return "", None, f"its date ({fields[0][:24]} s after 1970) is past the year 9999"
    zone = fields[1] if len(fields) > 1 else ""
    if re.fullmatch(r"[+-]\d{4}", zone) and int(zone[1:3]) < 24 and int(zone[3:]) < 60:
        offset = _dt.timedelta(hours=int(zone[1:3]), minutes=int(zone[3:]))
        moment = moment.astimezone(_dt.timezone(-offset if zone[0] == "-" else offset))
    return moment.isoformat(), seconds, ""


def commit_dates(clone: Path, commit: str) -> dict[str, tuple[str, int | None, str]]:
    """``read_date`` of the ``committer`` and ``author`` lines of ``commit``'s raw object (never git's rendering,
    which prints a date it cannot parse as 1970 or as nothing)."""
    header = _git("cat-file", "commit", commit, cwd=clone).split("\n\n", 1)[0].splitlines()
    lines = {}
    for line in header:
        key, _, rest = line.partition(" ")
        lines.setdefault(key, rest)
    return {key: read_date(lines.get(key)) for key in ("committer", "author")}


def check_branch(branch: str) -> str:
    """``branch`` if it is a plain branch name (it reaches git's command line), else ``UsageError``."""
    if branch != "HEAD" and not BRANCH.match(branch):
        raise UsageError(f"--branch {branch!r} is not a branch name (letters, digits, . _ / -, not starting with -)")
    return branch


def _tree_size(clone: Path, commit: str, source: str) -> None:
    """Refuse a tree that is too large before ``git archive`` reads it into memory."""
    sizes = [line.split(None, 4)[3] for line in _git("ls-tree", "-r", "-l", "--full-tree", commit,
                                                      cwd=clone).splitlines() if line.strip()]
    total = sum(int(size) for size in sizes if size.isdigit())
    if total > MAX_TREE_BYTES or len(sizes) > MAX_TREE_FILES:
        raise SubmissionError(f"{source} at {commit[:10]} holds {len(sizes)} files of {total >> 20} MiB, over the "
                              f"limit of {MAX_TREE_FILES} files and {MAX_TREE_BYTES >> 20} MiB.")


def snapshot_before(source: str | Path, deadline: _dt.datetime, workdir: Path, branch: str = "HEAD") -> Snapshot:
    """Clone ``source`` into ``workdir`` and unpack its last commit at or before ``deadline``.

    Raises ``CloneError`` when it cannot be cloned, ``NoCommitBeforeDeadline`` when nothing on ``branch`` is
    dated at or before the deadline, and ``SubmissionError`` when the tree is too large (each one sentence).
    """
    if deadline.tzinfo is None:
        raise ValueError("the deadline needs a time zone")
    check_branch(branch)
    clone = workdir / "clone.git"
    where = [] if branch == "HEAD" else [f"--branch={branch}"]
    try:
        _git("clone", "--quiet", "--bare", "--no-tags", "--single-branch", *where, "--", str(source), str(clone))
    except SubmissionError as exc:
        raise CloneError(f"could not clone {source} ({exc}).") from None
    stamp = deadline.astimezone(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    on = "" if branch == "HEAD" else f" on branch {branch}"
    try:
        _git("rev-parse", "--verify", "--quiet", f"{branch}^{{commit}}", cwd=clone)
    except SubmissionError:
        raise NoCommitBeforeDeadline(f"{source} has no commit{on} at all.") from None
    commit = _git("rev-list", "-1", f"--before={stamp}", branch, "--", cwd=clone).strip()
    if not commit:
        raise NoCommitBeforeDeadline(f"{source} has no commit{on} before the deadline {stamp}.")
    dates = commit_dates(clone, commit)
    committed, committed_s, why = dates["committer"]
    if committed_s is None:
        raise UnreadableCommitDate(f"the commit date of {commit[:12]} in {source} cannot be read ({why}); it was "
                                   f"not graded: look at the repository and grade it by hand.")
    authored, authored_s, _ = dates["author"]  # unreadable: recorded empty and flagged unreadable-author-date
    _tree_size(clone, commit, str(source))
    try:
        done = subprocess.run(["git", "archive", "--format=tar", commit], cwd=clone, capture_output=True,
                              timeout=GIT_TIMEOUT_S, stdin=subprocess.DEVNULL, env=git_env())
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise SubmissionError(f"git archive failed for {source}: {exc}") from None
    archive = done.stdout
    if done.returncode != 0:
        raise SubmissionError(f"git archive failed for {source} at {commit[:10]}.")
    if len(archive) > MAX_TREE_BYTES + (MAX_TREE_FILES << 10):
        raise SubmissionError(f"{source} at {commit[:10]} is larger than {MAX_TREE_BYTES >> 20} MiB.")
    folder = workdir / "tree"
    folder.mkdir()
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        for member in tar.getmembers():
            parts = Path(member.name).parts
            if not member.isreg() or member.name.startswith("/") or ".." in parts or len(parts) > 8:
                continue  # links, devices and odd paths are never unpacked
            target = folder.joinpath(*parts)
            target.parent.mkdir(parents=True, exist_ok=True)
            data = tar.extractfile(member)
            target.write_bytes(data.read() if data else b"")
    rewritten = authored_s is not None and committed_s < authored_s
    return Snapshot(str(source), commit, committed, authored, folder, rewritten)


# --- the class's list of repositories --------------------------------------------------------------------------


def parse_deadline(text: str) -> _dt.datetime:
    """An ISO 8601 date and time with a time zone (``2026-11-02T23:59:00+01:00`` or ``...Z``), else ``UsageError``."""
    try:
        moment = _dt.datetime.fromisoformat(text.strip().replace("z", "Z"))
    except ValueError:
        raise UsageError(f"--deadline {text!r} is not an ISO 8601 date and time, e.g. 2026-11-02T23:59:00+01:00"
                         ) from None
    if moment.tzinfo is None:
        raise UsageError(f"--deadline {text!r} has no time zone: add one, e.g. {text}+00:00 or {text}Z")
    return moment


def repository_name(source: str) -> str:
    """The repository's name from a URL or path: ``https://github.com/org/a1-alice.git`` -> ``a1-alice``."""
    name = re.split(r"[/:\\]", source.rstrip("/\\"))[-1]
    return name[:-4] if name.endswith(".git") and len(name) > 4 else name


def strip_common_prefix(names: list[str]) -> list[str]:
    """Drop the prefix up to a ``-`` that every name shares (GitHub Classroom's ``assignment-username``)."""
    prefix = os.path.commonprefix(names) if len(names) > 1 else ""
    prefix = prefix[:prefix.rfind("-") + 1] if "-" in prefix else ""
    return [n[len(prefix):] or n for n in names]


def _is_url(source: str) -> bool:
    return "://" in source or bool(SCP_URL.match(source))


def _local(source: str, base: Path) -> str:
    """A URL as it is; a path relative to the list file, made absolute (the gradebook records it)."""
    return source if _is_url(source) else str((base / source).absolute())


def _from_text(text: str, base: Path, where: Path) -> list[tuple[str | None, str]]:
    rows = []
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        try:
            fields = shlex.split(line, comments=True)
        except ValueError as exc:
            raise UsageError(f"{where} line {number}: {exc}; write SOURCE [STUDENT_ID], quoting paths with "
                             f"spaces") from None
        if len(fields) > 2:
            raise UsageError(f"{where} line {number} has {len(fields)} fields; write SOURCE [STUDENT_ID], quoting "
                             f"paths with spaces")
        if fields:
            rows.append((fields[1] if len(fields) == 2 else None, _local(fields[0], base)))
    return rows


def _from_classroom_csv(text: str) -> list[tuple[str | None, str]]:
    rows = []
    for row in csv.DictReader(io.StringIO(text)):
        url = (row.get("student_repository_url") or "").strip()
        if url:
            student = (row.get("roster_identifier") or "").strip() or (row.get("github_username") or "").strip()
            rows.append((student or None, url))
    return rows


def read_sources(path: Path) -> list[Source]:
    """The students and their repositories, from a list file or a folder of clones, sorted by student.

    A list file has one repository per line, ``SOURCE [STUDENT_ID]`` (a URL, or a path to a clone relative
    to the file), ``#`` comments; GitHub Classroom's grades CSV (a ``student_repository_url`` column) is read
    too, taking ``roster_identifier`` else ``github_username`` as the id. A folder's subfolders holding
    ``.git`` are the clones. Without an id, a student is named after the repository without the prefix all
    repositories share (``a1-alice`` -> ``alice``).
    """
    path = Path(path)
    if path.is_dir():
        rows = [(None, str(p.absolute())) for p in sorted(path.iterdir())
                if p.is_dir() and not p.is_symlink() and (p / ".git").exists()]
        if not rows:
            raise UsageError(f"{path} holds no cloned repository (a subfolder with .git); with --deadline, give a "
                             f"folder of clones or a text file listing the repositories")
    elif path.is_file():
        with open(path, "rb") as f:
            raw = f.read(MAX_LIST_BYTES + 1)
        if len(raw) > MAX_LIST_BYTES or b"\0" in raw:
            raise UsageError(f"{path} is not a list of repositories (a text file, one SOURCE [STUDENT_ID] a line)")
        text = raw.decode("utf-8-sig", errors="replace")
        first = text.split("\n", 1)[0]
        rows = _from_classroom_csv(text) if "student_repository_url" in first else _from_text(text, path.parent, path)
        if not rows:
            raise UsageError(f"{path} lists no repository (one SOURCE [STUDENT_ID] a line)")
    else:
        raise UsageError(f"no such file or folder: {path}")
    unnamed = [source for student, source in rows if student is None]
    named = dict(zip(unnamed, strip_common_prefix([repository_name(s) for s in unnamed])))
    sources: dict[str, Source] = {}
    for student, source in rows:
        student = from_os(student or named[source])  # a folder's name need not be UTF-8
        if student in sources:
            raise UsageError(f"two repositories for student {student}: {sources[student].source} and {source}; "
                             f"keep one, or give each line a STUDENT_ID")
        sources[student] = Source(student, source)
    return sorted(sources.values(), key=lambda s: s.student)


# --- snapshotting a class --------------------------------------------------------------------------------------

NOT_CLONED, NO_COMMIT, UNREADABLE = "not-cloned", "no-commit-before-deadline", "unreadable-tree"
UNREADABLE_DATE, GRADER_FAILURE = "unreadable-commit-date", "grader-failure"
NOT_GRADED = (NOT_CLONED, UNREADABLE_DATE, GRADER_FAILURE)  # no grade (a rerun tries again); the others are zeros


@dataclass(frozen=True)
class Regrade:
    """What the staff regrade found in one student's repository: the snapshot graded, or why there is none.

    ``failure`` is one sentence and ``kind`` says whose it is: ``not-cloned`` is not the student's zero (a
    wrong URL, no access, the network: graded on a rerun), nor are ``unreadable-commit-date`` (a person looks)
    and ``grader-failure`` (a crash of the grader for this repository, its traceback saved);
    ``no-commit-before-deadline`` and ``unreadable-tree`` (too large) are what the student submitted in time,
    graded as a zero with the reason.
    """

    student: str
    source: str
    branch: str
    deadline: str
    snapshot: Snapshot | None = None
    ci_files_changed: tuple[str, ...] = ()
    failure: str = ""
    kind: str = ""

    def to_record(self) -> dict:
        """The plain data the gradebook keeps (table ``repositories``)."""
        snap = self.snapshot
        return encodable_data({
            "source": self.source, "branch": self.branch, "deadline": self.deadline,
            "commit": snap.commit if snap else "", "committed": snap.committed if snap else "",
            "authored": snap.authored if snap else "", "rewritten": bool(snap and snap.rewritten),
            "ci_files_changed": list(self.ci_files_changed), "failure": self.failure, "kind": self.kind})

    @property
    def not_graded(self) -> bool:
        """No grade at all this run (not a zero): see ``NOT_GRADED``."""
        return self.snapshot is None and self.kind in NOT_GRADED


def flags(record: dict) -> list[str]:
    """Short names of what needs a human look in a gradebook ``repositories`` record (empty: nothing)."""
    out = [record["kind"]] if record.get("kind") else []
    if record.get("commit") and not record.get("authored"):
        out.append("unreadable-author-date")
    if record.get("rewritten"):
        out.append("rewritten-history")
    out.extend(f"ci-file-changed:{name}" for name in record.get("ci_files_changed") or ())
    return out


def regrade_one(source: Source, deadline: _dt.datetime, workdir: Path, branch: str, assignment: str) -> Regrade:
    """Snapshot one repository and compare its CI files with the template (reading files, running nothing)."""
    from grader.ci import tampered_ci_files

    base = {"student": source.student, "source": source.source, "branch": branch,
            "deadline": deadline.isoformat()}
    try:
        workdir.mkdir(parents=True, exist_ok=True)
        snap = snapshot_before(source.source, deadline, workdir, branch)
        return Regrade(**base, snapshot=snap, ci_files_changed=tuple(tampered_ci_files(snap.folder, assignment)))
    except CloneError as exc:
        return Regrade(**base, failure=encodable(exc), kind=NOT_CLONED)
    except NoCommitBeforeDeadline as exc:
        return Regrade(**base, failure=encodable(exc), kind=NO_COMMIT)
    except UnreadableCommitDate as exc:
        return Regrade(**base, failure=encodable(exc), kind=UNREADABLE_DATE)
    except SubmissionError as exc:
        return Regrade(**base, failure=encodable(exc), kind=UNREADABLE)
    except Exception as exc:  # noqa: BLE001 - our bug or this repository's oddity: its student only, never the class
        if machine_wide(exc):
            raise
        return Regrade(**base, failure=crash_sentence(exc, "reading this repository"), kind=GRADER_FAILURE)


def regrade_class(sources: list[Source], deadline: _dt.datetime, staging: Path, branch: str, assignment: str,
                  threads: int = 4, each=None) -> list[Regrade]:
    """``regrade_one`` for every source, ``threads`` clones at once (git waits on the network, not the CPU).

    ``each(regrade)`` is called in this thread as each repository is done (for a progress bar).
    """
    from concurrent.futures import ThreadPoolExecutor, as_completed

    with ThreadPoolExecutor(max_workers=max(1, threads)) as pool:
        futures = {pool.submit(regrade_one, source, deadline, staging / f"{index:05d}", branch, assignment): index
                   for index, source in enumerate(sources)}
        done: dict[int, Regrade] = {}
        for future in as_completed(futures):
            done[futures[future]] = future.result()
            if each is not None:
                each(done[futures[future]])
    return [done[i] for i in range(len(sources))]


def zero_report(assignment, regrade: Regrade, tasks: list[str] | None):
    """The grade of a repository with nothing gradable in time: zero on every selected check, with the reason."""
    from grader.result import Report

    hint = ("Only commits dated before the deadline count; push them on the graded branch." if regrade.kind ==
            NO_COMMIT else "Keep data sets and build outputs out of the repository (add them to .gitignore).")
    return Report.not_graded(assignment, regrade.source, f"not graded: {regrade.failure}", hint, tasks,
                             {"repository": regrade.to_record()})

"""Staff-side regrades of students' repositories: the last commit before a deadline, checked out read-only.

CI in a student's repository is feedback the student controls. The grade of
record comes from the staff cloning each repository (a URL or a local clone),
taking the last commit on its branch whose committer date is not after the
deadline, and grading that tree with the same sandbox as everything else.
Commit dates are written by the student's own git, so they are a claim: the
record keeps the commit hash and both dates, and flags a commit whose
committer date is earlier than its author date (a rewritten history) so that a
course that needs more than this cross-checks with its platform's push log.

Only ``git`` is run (``clone --no-checkout``, ``rev-list``, ``archive``); the
tree is unpacked from ``git archive`` by the submission loader's rules (regular
files only), never by running anything the repository contains.
"""

from __future__ import annotations

import datetime as _dt
import io
import subprocess
import tarfile
from dataclasses import dataclass
from pathlib import Path

from grader.errors import SubmissionError

GIT_TIMEOUT_S = 120
MAX_TREE_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class Snapshot:
    """The commit graded for one repository."""

    source: str
    commit: str
    committed: str  # ISO 8601, the committer date (the student's claim)
    authored: str
    folder: Path
    rewritten: bool  # committer date earlier than author date


def _git(*args: str, cwd: Path | None = None) -> str:
    try:
        done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, timeout=GIT_TIMEOUT_S,
                              stdin=subprocess.DEVNULL,
                              env={"GIT_TERMINAL_PROMPT": "0", "PATH": "/usr/local/bin:/usr/bin:/bin",
                                   "HOME": "/nonexistent", "GIT_CONFIG_NOSYSTEM": "1"})
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise SubmissionError(f"git {args[0]} failed: {exc}") from None
    if done.returncode != 0:
        raise SubmissionError(f"git {args[0]} failed: {done.stderr.strip().splitlines()[-1] if done.stderr else ''}")
    return done.stdout


def snapshot_before(source: str | Path, deadline: _dt.datetime, workdir: Path, branch: str = "HEAD") -> Snapshot:
    """Clone ``source`` into ``workdir`` and unpack its last commit at or before ``deadline``.

    Raises ``SubmissionError`` (one sentence) when it cannot be cloned or has no commit before the deadline.
    """
    if deadline.tzinfo is None:
        raise ValueError("the deadline needs a time zone")
    clone = workdir / "clone.git"
    _git("clone", "--quiet", "--bare", "--no-tags", "--", str(source), str(clone))
    stamp = deadline.astimezone(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    commit = _git("rev-list", "-1", f"--before={stamp}", branch, cwd=clone).strip()
    if not commit:
        raise SubmissionError(f"{source} has no commit before the deadline {stamp}.")
    dates = _git("show", "-s", "--format=%cI%n%aI", commit, cwd=clone).split()
    committed, authored = dates[0], dates[1]
    archive = subprocess.run(["git", "archive", "--format=tar", commit], cwd=clone, capture_output=True,
                             timeout=GIT_TIMEOUT_S, stdin=subprocess.DEVNULL).stdout
    if len(archive) > MAX_TREE_BYTES:
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
    rewritten = _dt.datetime.fromisoformat(committed) < _dt.datetime.fromisoformat(authored)
    return Snapshot(str(source), commit, committed, authored, folder, rewritten)

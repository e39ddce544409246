"""Regrading repositories: the last commit before the deadline, links never unpacked, one-sentence errors."""

from __future__ import annotations

import datetime as dt
import os
import subprocess

import pytest

from grader.batch.repositories import snapshot_before
from grader.errors import SubmissionError

UTC = dt.UTC


def commit(repo, files: dict[str, str], when: str, author_when: str | None = None):
    for name, text in files.items():
        (repo / name).write_text(text)
    env = {**os.environ, "GIT_AUTHOR_DATE": author_when or when, "GIT_COMMITTER_DATE": when,
           "GIT_AUTHOR_NAME": "s", "GIT_AUTHOR_EMAIL": "s@x", "GIT_COMMITTER_NAME": "s", "GIT_COMMITTER_EMAIL": "s@x"}
    subprocess.run(["git", "add", "-A"], cwd=repo, check=True, env=env)
    subprocess.run(["git", "commit", "-qm", when], cwd=repo, check=True, env=env)


@pytest.fixture
def repo(tmp_path):
    path = tmp_path / "student"
    path.mkdir()
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=path, check=True)
    commit(path, {"mlp.py": "version = 1\n"}, "2026-11-01T10:00:00+00:00")
    commit(path, {"mlp.py": "version = 2\n"}, "2026-11-02T10:00:00+00:00")
    commit(path, {"mlp.py": "version = 3  # late\n"}, "2026-11-03T10:00:00+00:00")
    return path


def test_takes_the_last_commit_before_the_deadline(repo, tmp_path):
    (tmp_path / "work").mkdir()
    snap = snapshot_before(repo, dt.datetime(2026, 11, 2, 12, tzinfo=UTC), tmp_path / "work")
    assert (snap.folder / "mlp.py").read_text() == "version = 2\n"
    assert len(snap.commit) == 40 and not snap.rewritten


def test_no_commit_before_the_deadline_is_one_sentence(repo, tmp_path):
    (tmp_path / "work").mkdir()
    with pytest.raises(SubmissionError, match="no commit before the deadline"):
        snapshot_before(repo, dt.datetime(2026, 10, 1, tzinfo=UTC), tmp_path / "work")


def test_links_are_not_unpacked_and_rewritten_history_is_flagged(repo, tmp_path):
    os.symlink("/etc/passwd", repo / "answers.toml")
    commit(repo, {}, "2026-11-02T11:00:00+00:00", author_when="2026-11-05T00:00:00+00:00")
    (tmp_path / "work").mkdir()
    snap = snapshot_before(repo, dt.datetime(2026, 11, 2, 12, tzinfo=UTC), tmp_path / "work")
    assert not (snap.folder / "answers.toml").exists()
    assert snap.rewritten


def test_unclonable_source_is_one_sentence(tmp_path):
    (tmp_path / "work").mkdir()
    with pytest.raises(SubmissionError, match="git clone failed"):
        snapshot_before(tmp_path / "nothing-here", dt.datetime(2026, 11, 2, tzinfo=UTC), tmp_path / "work")


def test_a_token_is_given_to_its_host_only():
    from grader.batch.repositories import git_env

    env = git_env({"DLGRADE_GIT_TOKEN": "s3cret", "SSH_AUTH_SOCK": "/run/agent", "HOME": "/root"})
    assert env["SSH_AUTH_SOCK"] == "/run/agent" and env["HOME"] == "/nonexistent"

    def fill(host: str) -> subprocess.CompletedProcess:
        return subprocess.run(["git", "credential", "fill"], input=f"protocol=https\nhost={host}\n\n", env=env,
                              capture_output=True, text=True, timeout=30)

    assert "password=s3cret" in fill("github.com").stdout
    other = fill("evil.example")
    assert other.returncode != 0 and "s3cret" not in other.stdout + other.stderr
    assert "DLGRADE_GIT_TOKEN" not in git_env({})


def test_branches_empty_repositories_and_large_trees(repo, tmp_path, monkeypatch):
    from grader.batch import repositories
    from grader.batch.repositories import CloneError, NoCommitBeforeDeadline

    deadline = dt.datetime(2026, 11, 2, 12, tzinfo=UTC)
    subprocess.run(["git", "checkout", "-qb", "submit"], cwd=repo, check=True)
    commit(repo, {"mlp.py": "version = 'submit branch'\n"}, "2026-11-02T11:00:00+00:00")
    subprocess.run(["git", "checkout", "-q", "main"], cwd=repo, check=True)
    for n, (branch, expected) in enumerate((("HEAD", "version = 2\n"), ("submit", "version = 'submit branch'\n"))):
        (tmp_path / f"w{n}").mkdir()
        assert (snapshot_before(repo, deadline, tmp_path / f"w{n}", branch).folder / "mlp.py").read_text() == expected
    (tmp_path / "w2").mkdir()
    with pytest.raises(CloneError, match="could not clone"):
        snapshot_before(repo, deadline, tmp_path / "w2", "no-such-branch")
    empty = tmp_path / "empty"
    empty.mkdir()
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=empty, check=True)
    (tmp_path / "w3").mkdir()
    with pytest.raises(NoCommitBeforeDeadline, match="no commit at all"):
        snapshot_before(empty, deadline, tmp_path / "w3")
    monkeypatch.setattr(repositories, "MAX_TREE_BYTES", 5)
    (tmp_path / "w4").mkdir()
    with pytest.raises(SubmissionError, match="over the limit") as caught:
        snapshot_before(repo, deadline, tmp_path / "w4")
    assert not isinstance(caught.value, (CloneError, NoCommitBeforeDeadline))
    assert not (tmp_path / "w4" / "tree").exists()  # refused before anything is unpacked

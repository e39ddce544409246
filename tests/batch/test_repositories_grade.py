"""`dlgrade grade --deadline`: each repository graded at its last commit before the deadline, with its flags."""

from __future__ import annotations

import csv
import datetime as dt
import shutil
import sqlite3
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from grader import api
from grader.batch.api import export_grades, grade_class, list_runs, student_history
from grader.batch.gradebook import SCHEMA_VERSION, Gradebook
from grader.batch.repositories import read_sources, strip_common_prefix
from grader.cli import main
from grader.errors import UsageError
from tests.batch.conftest import ROOT, TASKS
from tests.batch.test_repositories import commit
from tests.conftest import REFERENCE_A1

SEED, SCALE = 7, 0.3
DEADLINE = "2026-11-02T12:00:00+00:00"
BUGGY = (ROOT / "examples" / "a1" / "dw_divided_by_in_features" / "mlp.py").read_text()
BEFORE, AFTER = "2026-11-02T10:00:00+00:00", "2026-11-03T10:00:00+00:00"


def git_repo(path: Path, ci: bool = True) -> Path:
    path.mkdir(parents=True)
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=path, check=True)
    if ci:  # the course's template: starter files and the CI files `dlgrade init --ci` writes
        api.init("a1", path, ci=True)
    return path


def head(path: Path) -> str:
    return subprocess.run(["git", "rev-parse", "HEAD"], cwd=path, capture_output=True, text=True,
                          check=True).stdout.strip()


@pytest.fixture
def repos(tmp_path) -> dict:
    """A class of repositories named like GitHub Classroom's, listed in repos.txt; returns facts to check."""
    root = tmp_path / "clones"
    facts = {}
    alice = git_repo(root / "a1-alice")  # buggy before the deadline, fixed after: the bug must count
    commit(alice, {"mlp.py": BUGGY}, BEFORE)
    facts["alice_commit"] = head(alice)
    commit(alice, {"mlp.py": REFERENCE_A1}, AFTER)
    bob = git_repo(root / "a1-bob")  # correct, but edited the grading workflow
    workflow = bob / ".github" / "workflows" / "grade.yml"
    commit(bob, {"mlp.py": REFERENCE_A1, ".github/workflows/grade.yml": workflow.read_text().replace(
        "dlgrade ci", "echo 100 # dlgrade ci")}, BEFORE)
    carol = git_repo(root / "a1-carol")  # correct, committed "before" but authored after: a rewritten history
    commit(carol, {"mlp.py": REFERENCE_A1}, BEFORE, author_when=AFTER)
    erin = git_repo(root / "a1-erin")  # nothing before the deadline
    commit(erin, {"mlp.py": REFERENCE_A1}, AFTER)
    listing = tmp_path / "repos.txt"
    listing.write_text("# the class\nclones/a1-alice\nclones/a1-bob\nclones/a1-carol  # a comment\n"
                       "clones/a1-dave-was-never-created\nclones/a1-erin\n")
    facts.update(root=root, listing=listing)
    return facts


def grade(listing, book, **kwargs):
    return grade_class("a1", listing, gradebook=book, jobs=2, tasks=TASKS, seed=SEED, timeout_scale=SCALE,
                       deadline=dt.datetime.fromisoformat(DEADLINE), **kwargs)


def test_repositories_are_graded_at_the_last_commit_before_the_deadline_and_flagged(repos, tmp_path):
    book = tmp_path / "gb.sqlite"
    seen = []
    result = grade(repos["listing"], book, progress=seen.append)
    cloning = [p for p in seen if p.phase == "cloning"]
    assert [p.done for p in cloning] == [1, 2, 3, 4, 5] and all(p.total == 5 for p in cloning)
    assert seen[-1].phase == "grading" and seen[-1].done == seen[-1].total == 5 and seen[-1].errored >= 1
    assert set(result.errors) == {"dave-was-never-created"}
    assert result.errors["dave-was-never-created"].startswith("could not clone")
    assert set(result.graded) == {"alice", "bob", "carol", "erin"}
    full = result.graded["bob"].max_score
    assert result.graded["bob"].score == result.graded["carol"].score == full
    assert result.graded["alice"].score < full  # the post-deadline fix does not count
    assert result.graded["erin"].score == 0
    assert all("no commit" in c.message for c in result.graded["erin"].checks if c.status != "skipped")

    with Gradebook(book, create=False) as gb:
        latest = {g.student: g.repository for g in gb.latest("a1")}
    assert latest["alice"]["commit"] == repos["alice_commit"] and latest["alice"]["committed"].startswith("2026-11-02")
    assert latest["alice"]["ci_files_changed"] == [] and not latest["alice"]["rewritten"]
    assert latest["bob"]["ci_files_changed"] == [".github/workflows/grade.yml"]
    assert latest["carol"]["rewritten"] and latest["carol"]["authored"].startswith("2026-11-03")
    assert latest["erin"]["kind"] == "no-commit-before-deadline" and latest["erin"]["commit"] == ""

    out = tmp_path / "grades.csv"
    export_grades(book, "csv", out)
    rows = {r["student"]: r for r in csv.DictReader(out.open())}
    assert rows["alice"]["commit"] == repos["alice_commit"] and rows["alice"]["flags"] == ""
    assert rows["bob"]["flags"] == "ci-file-changed:.github/workflows/grade.yml"
    assert rows["carol"]["flags"] == "rewritten-history"
    assert rows["erin"]["flags"] == "no-commit-before-deadline" and rows["erin"]["total"] == "0"
    dave = rows["dave-was-never-created"]
    assert dave["status"] == "not graded" and dave["flags"] == "not-cloned" and dave["total"] == ""

    # After the deadline more commits arrive: a rerun skips every repository already graded, retries the rest.
    commit(repos["root"] / "a1-bob", {"mlp.py": BUGGY}, AFTER)
    again = grade(repos["listing"], book)
    assert set(again.skipped) == {"alice", "bob", "carol", "erin"} and not again.graded
    assert set(again.errors) == {"dave-was-never-created"}
    assert [r["graded"] for r in list_runs(book)] == [4, 0]
    history = student_history(book, "bob")
    assert len(history) == 1 and history[0]["repository"]["ci_files_changed"] == [".github/workflows/grade.yml"]


def test_cli_grades_a_folder_of_clones_and_prints_the_flags(repos, tmp_path):
    book = tmp_path / "gb.sqlite"
    shutil.rmtree(repos["root"] / "a1-erin")
    runner = CliRunner()
    result = runner.invoke(main, ["grade", "a1", str(repos["root"]), "--deadline", DEADLINE, "--gradebook",
                                  str(book), "--seed", str(SEED), "--timeout-scale", str(SCALE), "--jobs", "2",
                                  *[arg for t in TASKS for arg in ("--task", t)]])
    assert result.exit_code == 0, result.output
    assert "3 graded" in result.output
    assert "flagged bob" in result.output and ".github/workflows/grade.yml" in result.output
    assert "flagged carol" in result.output and "rewritten-history" in result.output
    shown = runner.invoke(main, ["gradebook", "show", "carol", "--gradebook", str(book)])
    assert shown.exit_code == 0 and "rewritten-history" in shown.output
    listed = runner.invoke(main, ["gradebook", "list", "--gradebook", str(book)])
    assert listed.exit_code == 0 and "flagged" in listed.output


def test_cli_usage_errors_are_one_sentence(repos, tmp_path):
    runner = CliRunner()
    base = ["grade", "a1", str(repos["listing"]), "--gradebook", str(tmp_path / "gb.sqlite")]
    for extra, expected in ((["--deadline", "2026-11-02"], "no time zone"),
                            (["--deadline", "tomorrow"], "not an ISO 8601"),
                            (["--deadline", DEADLINE, "--branch", "--upload-pack=x"], "not a branch name"),
                            ([], "add --deadline")):
        result = runner.invoke(main, base + extra)
        assert result.exit_code == 2 and expected in result.output and "Traceback" not in result.output, extra


def test_list_files_name_students(tmp_path):
    listing = tmp_path / "list.txt"
    listing.write_text("https://github.com/course/a1-alice.git\ngit@github.com:course/a1-bob.git\n"
                       "'clones/with space' 12345\n")
    assert [(s.student, s.source) for s in read_sources(listing)] == [
        ("12345", str(tmp_path / "clones/with space")), ("alice", "https://github.com/course/a1-alice.git"),
        ("bob", "git@github.com:course/a1-bob.git")]
    classroom = tmp_path / "grades.csv"
    classroom.write_text("assignment_name,github_username,roster_identifier,student_repository_url\n"
                         "a1,alice-gh,s1,https://github.com/c/a1-alice-gh\na1,bob-gh,,https://github.com/c/a1-bob-gh\n")
    assert [s.student for s in read_sources(classroom)] == ["bob-gh", "s1"]
    listing.write_text("https://x/a1-alice\nhttps://y/a1-alice\n")
    with pytest.raises(UsageError, match="two repositories for student alice"):
        read_sources(listing)
    listing.write_text("a b c\n")
    with pytest.raises(UsageError, match="3 fields"):
        read_sources(listing)
    assert strip_common_prefix(["a1-alice", "a1-alex"]) == ["alice", "alex"]
    assert strip_common_prefix(["a1-alice"]) == ["a1-alice"]


def test_a_gradebook_written_before_repositories_stays_readable(repos, tmp_path):
    """A gradebook written by dlgrade before the ``repositories`` table (committed as a file) is migrated."""
    book = tmp_path / "old.sqlite"
    shutil.copyfile(ROOT / "tests" / "batch" / "data" / "gradebook-before-repositories.sqlite", book)
    assert sqlite3.connect(book).execute("PRAGMA user_version").fetchone()[0] == 0
    out = tmp_path / "old.csv"
    export_grades(book, "csv", out)
    rows = {r["student"]: r for r in csv.DictReader(out.open())}
    assert rows["alice"]["total"] == "9" and rows["bob"]["total"] == "7" and rows["alice"]["commit"] == ""
    assert student_history(book, "alice")[0]["repository"] is None
    result = grade(repos["listing"], book)
    assert "carol" in result.graded and len(list_runs(book)) == 2
    db = sqlite3.connect(book)
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert db.execute("SELECT COUNT(*) FROM repositories").fetchone()[0] == 5

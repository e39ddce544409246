"""Temporary folders a killed dlgrade leaves behind are removed by the next run, and nothing else is."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import textwrap
import time

import pytest

from grader.tempfolders import KINDS, LOCAL_FILE_SYSTEMS, TempFolder, file_system, remove_abandoned

# Removal happens only on a file system whose locks are this machine's own (where the tests' folders are).
removes_here = pytest.mark.skipif(file_system(os.path.realpath(tempfile.gettempdir())) not in LOCAL_FILE_SYSTEMS,
                                  reason="the temporary folder is on a file system where nothing is removed")

HOLDER = textwrap.dedent("""
    import sys, time
    from grader.tempfolders import TempFolder
    folder = TempFolder(sys.argv[1], dir=sys.argv[2])
    (folder.path / "student.py").write_text("x = 1\\n")
    print(folder.path, flush=True)
    time.sleep(600)
""")


def _aged(path, seconds: float = 3600) -> None:
    past = time.time() - seconds
    os.utime(path, (past, past))


@removes_here
@pytest.mark.parametrize("kind", KINDS)
def test_a_folder_is_kept_while_its_owner_lives_and_removed_once_it_was_killed(tmp_path, kind):
    owner = subprocess.Popen([sys.executable, "-c", HOLDER, kind, str(tmp_path)], stdout=subprocess.PIPE, text=True)
    try:
        folder = owner.stdout.readline().strip()
        _aged(folder)
        assert remove_abandoned(tmp_path) == [] and os.path.isdir(folder)  # in use: kept, however old
    finally:
        owner.send_signal(signal.SIGKILL)
        owner.wait(timeout=30)
    assert os.path.isdir(folder)  # a SIGKILLed process cleans nothing up
    assert remove_abandoned(tmp_path) == [os.path.basename(folder)]
    assert not os.path.exists(folder)


def test_a_folder_removed_by_its_owner_is_gone_and_unlocked(tmp_path):
    with TempFolder("dlgrade-submission-", dir=tmp_path) as path:
        assert path.is_dir() and oct(path.stat().st_mode & 0o777) == "0o700"
    assert not path.exists()


def test_young_folders_and_other_names_are_left_alone(tmp_path):
    young = tmp_path / "dlgrade-class-young"  # not locked yet, perhaps: its owner may be between the two steps
    young.mkdir()
    others = [tmp_path / name for name in ("dlgrade-doctor-x", "dlgrade-student-build-x", "dlgrade-old", "other")]
    for folder in others:
        folder.mkdir()
        _aged(folder)
    assert remove_abandoned(tmp_path) == []
    assert young.is_dir() and all(folder.is_dir() for folder in others)


@pytest.mark.skipif(os.getuid() != 0, reason="giving a folder to another user needs root")
def test_another_users_folder_is_left_alone(tmp_path):
    theirs = tmp_path / "dlgrade-class-theirs"
    theirs.mkdir()
    os.chown(theirs, 65534, 65534)
    _aged(theirs)
    assert remove_abandoned(tmp_path) == [] and theirs.is_dir()


def test_a_kind_that_is_not_swept_is_refused():
    with pytest.raises(ValueError):
        TempFolder("dlgrade-doctor-")


@removes_here
def test_dlgrade_check_removes_what_a_killed_check_left(tmp_path, monkeypatch):
    """A ``dlgrade check`` killed outright leaves the student's staged files; the next one removes them."""
    from grader import api
    from tests.conftest import REFERENCE_A1

    temp = tmp_path / "tmp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    left = temp / "dlgrade-submission-killed"
    left.mkdir()
    (left / "mlp.py").write_text(REFERENCE_A1)
    _aged(left)
    submission = tmp_path / "sub"
    submission.mkdir()
    (submission / "mlp.py").write_text(REFERENCE_A1)
    report = api.check("a1", submission, tasks=["1.1"], seed=1)
    assert report.score == report.max_score
    assert [p.name for p in temp.iterdir() if p.name.startswith("dlgrade-")] == []


@removes_here
def test_nothing_is_removed_on_a_network_file_system(tmp_path, monkeypatch):
    """Where locks may be one machine's only (NFS without its lock manager), another machine's live folder
    would look abandoned: nothing there is removed."""
    from grader import tempfolders

    left = tmp_path / "dlgrade-class-elsewhere"
    left.mkdir()
    _aged(left)
    monkeypatch.setattr(tempfolders, "file_system", lambda path: "nfs4")
    assert remove_abandoned(tmp_path) == [] and left.is_dir()
    monkeypatch.undo()
    assert remove_abandoned(tmp_path) == ["dlgrade-class-elsewhere"]


def test_the_file_system_is_read_from_the_deepest_mount_point():
    assert file_system("/proc/self") == "proc"
    assert file_system("/") != ""


def test_a_temporary_folder_that_cannot_be_made_is_one_plain_sentence(tmp_path):
    from grader.errors import SubmissionError, UsageError

    missing = tmp_path / "gone"
    with pytest.raises(UsageError, match="cannot make a temporary folder in .*gone") as caught:
        TempFolder("dlgrade-submission-", dir=missing)
    assert not isinstance(caught.value, SubmissionError)  # the grader's problem: no grade, never a zero

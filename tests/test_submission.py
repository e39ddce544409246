"""Submissions load from folders, zips and notebooks, within limits and without surprises."""

from __future__ import annotations

import errno
import os
import zipfile

import pytest

from grader.errors import SubmissionError
from grader.submission import load_submission

EXPECTED = ("mlp.py",)


def test_folder(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "mlp.py").write_text("x = 1\n")
    (tmp_path / "sub" / "answers.toml").write_text("")
    (tmp_path / "sub" / "other.py").write_text("")
    s = load_submission(tmp_path / "sub", EXPECTED, tmp_path / "stage")
    assert sorted(s.files) == ["answers.toml", "mlp.py"]


def test_folder_one_level_down(tmp_path):
    (tmp_path / "sub" / "inner").mkdir(parents=True)
    (tmp_path / "sub" / "inner" / "mlp.py").write_text("x = 1\n")
    s = load_submission(tmp_path / "sub", EXPECTED, tmp_path / "stage")
    assert "mlp.py" in s.files and "inner" in s.notes[0]


def test_symlinks_out_of_the_submission_are_refused(tmp_path):
    (tmp_path / "sub").mkdir()
    os.symlink("/etc/passwd", tmp_path / "sub" / "mlp.py")
    with pytest.raises(SubmissionError, match="symbolic link to a file outside"):
        load_submission(tmp_path / "sub", EXPECTED, tmp_path / "stage")


def test_symlink_inside_the_submission_is_read(tmp_path):
    (tmp_path / "sub" / "src").mkdir(parents=True)
    (tmp_path / "sub" / "src" / "real.py").write_text("x = 1\n")
    os.symlink("src/real.py", tmp_path / "sub" / "mlp.py")
    s = load_submission(tmp_path / "sub", EXPECTED, tmp_path / "stage")
    assert s.files["mlp.py"].read_text() == "x = 1\n" and not s.files["mlp.py"].is_symlink()


def test_subfolder_symlink_to_elsewhere_is_refused(tmp_path):
    (tmp_path / "reference").mkdir()
    (tmp_path / "reference" / "mlp.py").write_text("solution = 1\n")
    (tmp_path / "sub").mkdir()
    os.symlink(tmp_path / "reference", tmp_path / "sub" / "inner")
    with pytest.raises(SubmissionError, match="symbolic link to a folder outside"):
        load_submission(tmp_path / "sub", EXPECTED, tmp_path / "stage")


@pytest.mark.parametrize("where", ["top", "inside"])
def test_fifo_does_not_hang(tmp_path, where):
    (tmp_path / "sub").mkdir()
    fifo = tmp_path / ("s.zip" if where == "top" else "sub/mlp.py")
    os.mkfifo(fifo)
    with pytest.raises(SubmissionError, match="FIFO"):
        load_submission(fifo if where == "top" else tmp_path / "sub", EXPECTED, tmp_path / "stage")


def test_sparse_huge_file_is_refused_before_reading(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "mlp.py").write_text("x = 1\n")
    with open(tmp_path / "sub" / "answers.toml", "wb") as f:
        f.truncate(3 << 30)  # sparse: 3 GiB that take no disk
    with pytest.raises(SubmissionError, match="answers.toml is larger than"):
        load_submission(tmp_path / "sub", EXPECTED, tmp_path / "stage")


def test_sparse_answers_beside_a_notebook(tmp_path):
    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook

    (tmp_path / "a1.ipynb").write_text(nbformat.writes(new_notebook(cells=[new_code_cell("x = 1")])))
    with open(tmp_path / "answers.toml", "wb") as f:
        f.truncate(3 << 30)
    with pytest.raises(SubmissionError, match="answers.toml is larger than"):
        load_submission(tmp_path / "a1.ipynb", EXPECTED, tmp_path / "stage")


def test_deep_folder_tree_is_harmless(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "mlp.py").write_text("x = 1\n")
    deep = tmp_path / "sub"
    for _ in range(300):  # deeper trees are in the red-team tests
        deep = deep / "d"
    deep.mkdir(parents=True)
    s = load_submission(tmp_path / "sub", EXPECTED, tmp_path / "stage")
    assert sorted(s.files) == ["mlp.py"]


def test_zip_with_top_folder_and_junk(tmp_path):
    path = tmp_path / "s.zip"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("alice_a1/mlp.py", "x = 1\n")
        z.writestr("__MACOSX/alice_a1/._mlp.py", "junk")
        z.writestr("../../etc/mlp.py", "evil")  # never used as a path
    s = load_submission(path, EXPECTED, tmp_path / "stage")
    assert s.files["mlp.py"].read_text() == "x = 1\n"
    assert s.files["mlp.py"].parent == tmp_path / "stage"


def test_broken_zip(tmp_path):
    path = tmp_path / "s.zip"
    path.write_bytes(b"not a zip")
    with pytest.raises(SubmissionError, match="not a readable zip"):
        load_submission(path, EXPECTED, tmp_path / "stage")


def test_missing_path_and_wrong_kind(tmp_path):
    with pytest.raises(SubmissionError, match="no such"):
        load_submission(tmp_path / "nope", EXPECTED, tmp_path / "stage")
    (tmp_path / "f.txt").write_text("")
    with pytest.raises(SubmissionError, match="not a folder"):
        load_submission(tmp_path / "f.txt", EXPECTED, tmp_path / "stage")


def test_oversized_file(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "mlp.py").write_bytes(b"#" * (6 * 1024 * 1024))
    with pytest.raises(SubmissionError, match="larger than"):
        load_submission(tmp_path / "sub", EXPECTED, tmp_path / "stage")


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EDQUOT, errno.EROFS], ids=["full", "quota", "read-only"])
def test_a_full_staging_disk_is_the_graders_problem_not_the_students(tmp_path, monkeypatch, code):
    """Copying the submission fails because the grader's disk is full: no grade (exit 2, or "not graded" in a
    batch), never the zero an unreadable submission gets."""
    from grader import submission as module
    from grader.batch import worker
    from grader.errors import UsageError

    def full(*args, **kwargs):
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(module, "_from_folder", full)
    folder = tmp_path / "sub"
    folder.mkdir()
    (folder / "mlp.py").write_text("x = 1\n")
    with pytest.raises(UsageError, match="cannot be copied into") as caught:
        module.load_submission(folder, ("mlp.py",), tmp_path / "staging")
    assert not isinstance(caught.value, SubmissionError)
    monkeypatch.setattr(worker, "_zygote", lambda assignment, address=None: object())
    result = worker.grade_one({"assignment": "a1", "student": "s", "path": str(folder), "seed": 1})
    assert "report" not in result and "cannot be copied into" in result["internal_error"]


def test_a_file_that_cannot_be_read_is_still_the_submissions_problem(tmp_path, monkeypatch):
    from grader import submission as module

    def unreadable(*args, **kwargs):
        raise OSError(errno.EIO, os.strerror(errno.EIO))

    monkeypatch.setattr(module, "_from_folder", unreadable)
    (tmp_path / "sub").mkdir()
    with pytest.raises(SubmissionError, match="cannot be read"):
        module.load_submission(tmp_path / "sub", ("mlp.py",), tmp_path / "staging")

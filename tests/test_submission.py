"""Submissions load from folders, zips and notebooks, within limits and without surprises."""

from __future__ import annotations

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


def test_symlinks_are_not_followed(tmp_path):
    (tmp_path / "sub").mkdir()
    os.symlink("/etc/passwd", tmp_path / "sub" / "mlp.py")
    s = load_submission(tmp_path / "sub", EXPECTED, tmp_path / "stage")
    assert "mlp.py" not in s.files and "not a regular file" in s.notes[0]


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

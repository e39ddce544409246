"""LMS download layouts -> one entry per student with the right id; roster; the Gradescope YAML subset."""

from __future__ import annotations

import zipfile

import pytest

from grader.batch.discover import discover, extract_zip, submission_hash
from grader.batch.roster import read_roster
from grader.batch.yamlish import submitters
from grader.errors import UsageError

FILES = ("mlp.py",)


def ids(entries):
    return {e.student: e for e in entries}


def test_canvas_flat_files_are_regrouped_per_student_latest_attempt(tmp_path):
    root = tmp_path / "download"
    root.mkdir()
    (root / "doejane_1234_555_mlp.py").write_text("v1")
    (root / "doejane_1234_556_mlp-1.py").write_text("v2")  # a resubmission: Canvas renames the file
    (root / "roejohn_LATE_77_601_answers.toml").write_text("x = 1")
    (root / "roejohn_LATE_77_601_mlp.py").write_text("late")
    (root / "smithann_88_700_work.zip").write_bytes(b"PK")
    entries = ids(discover(root, tmp_path / "staging", FILES))
    assert set(entries) == {"1234", "77", "88"} and {e.layout for e in entries.values()} == {"canvas"}
    assert (entries["1234"].path / "mlp.py").read_text() == "v2" and "graded as mlp.py" in entries["1234"].notes[0]
    assert sorted(p.name for p in entries["77"].path.iterdir()) == ["answers.toml", "mlp.py"]
    assert entries["88"].path.name == "smithann_88_700_work.zip" and entries["1234"].name == "doejane"


def test_moodle_folders_take_the_participant_number(tmp_path):
    for name in ("Jane Doe_123456_assignsubmission_file_", "John Roe_222_assignsubmission_file_",
                 "John Roe_222_assignsubmission_onlinetext_"):
        (tmp_path / name).mkdir()
    (tmp_path / "Jane Doe_123456_assignsubmission_file_" / "mlp.py").write_text("x")
    (tmp_path / "John Roe_222_assignsubmission_file_" / "hw.ipynb").write_text("{}")
    entries = ids(discover(tmp_path, tmp_path / "s", FILES))
    assert set(entries) == {"123456", "222"} and entries["123456"].name == "Jane Doe"
    assert entries["222"].path.name == "hw.ipynb"  # a folder holding only a notebook is that notebook


GRADESCOPE_META = """\
submission_101:
  :submitters:
  - :name: Jane Doe
    :sid: '2024001'
    :email: jane@example.edu
  :created_at: 2026-01-01 10:00:00.000000000 -08:00
  :score: 10.0
submission_102:
  :submitters:
  - :name: "Ann Lee"
    :email: ann@example.edu
  - :name: Bo Kim
    :sid: '2024003'
"""


def test_gradescope_export_uses_sid_then_email(tmp_path):
    (tmp_path / "submission_metadata.yml").write_text(GRADESCOPE_META)
    for folder in ("submission_101", "submission_102", "submission_103"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "mlp.py").write_text(folder)
    entries = ids(discover(tmp_path, tmp_path / "s", FILES))
    assert set(entries) == {"2024001", "ann@example.edu", "submission_103"}
    assert entries["ann@example.edu"].notes == ("group submission with Bo Kim",)


def test_yaml_subset_reads_quoted_and_plain_values():
    meta = submitters(GRADESCOPE_META)
    assert meta["submission_101"] == [{"name": "Jane Doe", "sid": "2024001", "email": "jane@example.edu"}]
    assert [p["name"] for p in meta["submission_102"]] == ["Ann Lee", "Bo Kim"]


def test_cloned_repositories_drop_the_shared_prefix(tmp_path):
    for name in ("a1-alice", "a1-bob-smith"):
        (tmp_path / name / ".git").mkdir(parents=True)
        (tmp_path / name / "mlp.py").write_text(name)
    assert set(ids(discover(tmp_path, tmp_path / "s", FILES))) == {"alice", "bob-smith"}


def test_plain_folder_and_a_zip_of_the_class(tmp_path):
    archive = tmp_path / "class.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("class/alice/mlp.py", "a")
        z.writestr("class/bob.zip", b"PK")
        z.writestr("class/carol.ipynb", "{}")
    root = extract_zip(archive, tmp_path / "x")
    assert set(ids(discover(root, tmp_path / "s", FILES))) == {"alice", "bob", "carol"}


def test_a_zip_entry_never_escapes_the_extraction_folder(tmp_path):
    archive = tmp_path / "class.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("../../evil/mlp.py", "never outside")
        z.writestr("/abs/mlp.py", "never absolute")
    extract_zip(archive, tmp_path / "x" / "y")
    assert not (tmp_path / "evil").exists() and not (tmp_path / "x" / "evil").exists()
    assert (tmp_path / "x" / "y" / "evil" / "mlp.py").read_text() == "never outside"


def test_two_submissions_for_one_student_is_a_clear_error(tmp_path):
    (tmp_path / "alice").mkdir()
    (tmp_path / "alice.zip").write_bytes(b"PK")
    with pytest.raises(UsageError, match="two submissions for student alice"):
        discover(tmp_path, tmp_path / "s", FILES)


def test_hash_changes_with_content_and_ignores_symlinks(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "mlp.py").write_text("x")
    first = submission_hash(tmp_path / "a")
    (tmp_path / "a" / "link").symlink_to("/etc/passwd")
    assert submission_hash(tmp_path / "a") == first
    (tmp_path / "a" / "mlp.py").write_text("y")
    assert submission_hash(tmp_path / "a") != first


def test_roster_columns(tmp_path):
    path = tmp_path / "roster.csv"
    path.write_text("SIS User ID,First Name,Last Name\n17,Jane,Doe\n18,John,\n")
    assert read_roster(path) == {"17": "Jane Doe", "18": "John"}
    path.write_text("who,what\n1,2\n")
    with pytest.raises(UsageError, match="no id column"):
        read_roster(path)

"""LMS download layouts -> one entry per student with the right id; roster; the Gradescope YAML subset."""

from __future__ import annotations

import zipfile

import pytest

from grader.batch.discover import discover, discover_download, extract_zip, submission_hash
from grader.batch.roster import load_roster, read_roster
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
    assert (entries["1234"].path / "mlp.py").read_text() == "v2"
    assert "mlp.py was replaced by the later mlp-1.py" in entries["1234"].notes
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
    assert entries["2024001"].submitted_at == "2026-01-01 10:00:00.000000000 -08:00"
    assert entries["ann@example.edu"].submitted_at == "" and not entries["2024001"].late_marker
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


def test_canvas_keeps_every_file_of_a_student_each_with_its_own_number(tmp_path):
    """The bug of issue 19: two files, two numbers; keeping only the highest lost autograd.py."""
    root = tmp_path / "download"
    root.mkdir()
    (root / "doejane_40001_700001_autograd.py").write_text("code")
    (root / "doejane_40001_700002_answers.toml").write_text("x = 1")
    (root / "roejohn_LATE_40002_700005_autograd.py").write_text("old")
    (root / "roejohn_LATE_40002_700009_autograd-1.py").write_text("new")
    (root / "roejohn_LATE_40002_700007_autograd-2.py").write_text("middle")
    (root / "roejohn_LATE_40002_700006_report.pdf").write_bytes(b"%PDF")
    (root / "leeann_40003_700010_answers.toml").write_text("y = 2")
    (root / "grades_readme.txt").write_text("not a submission")
    found = discover_download(root, tmp_path / "staging", ("autograd.py",))
    entries = ids(found.entries)
    assert found.layout == "canvas" and found.unplaced == ("grades_readme.txt",)
    assert sorted(p.name for p in entries["40001"].path.iterdir()) == ["answers.toml", "autograd.py"]
    assert not entries["40001"].late_marker and not entries["40001"].incomplete
    late = entries["40002"]
    assert late.late_marker and (late.path / "autograd.py").read_text() == "new"  # the highest number wins
    assert sorted(p.name for p in late.path.iterdir()) == ["autograd.py"] and late.unplaced == ("report.pdf",)
    assert "autograd-1.py graded as autograd.py" in late.notes
    assert entries["40003"].incomplete == ("autograd.py",)


def test_canvas_zip_alone_is_graded_as_the_zip(tmp_path):
    (tmp_path / "doejane_1_2_work.zip").write_bytes(b"PK")
    (tmp_path / "roejohn_3_4_work.zip").write_bytes(b"PK")
    (tmp_path / "roejohn_3_5_mlp.py").write_text("x")
    entries = ids(discover(tmp_path, tmp_path / "s", FILES))
    assert entries["1"].path.name == "doejane_1_2_work.zip"
    assert sorted(p.name for p in entries["3"].path.iterdir()) == ["mlp.py", "work.zip"]


def test_moodle_loose_files_and_online_text(tmp_path):
    (tmp_path / "Jane Doe_123456_assignsubmission_file_mlp.py").write_text("jane")
    (tmp_path / "Jane Doe_123456_assignsubmission_file_answers.toml").write_text("x = 1")
    (tmp_path / "Jane Doe_123456_assignsubmission_onlinetext_onlinetext.html").write_text("<p>hi</p>")
    (tmp_path / "John Roe_222_assignsubmission_file_notes.txt").write_text("?")
    (tmp_path / "Ann Lee_333_assignsubmission_onlinetext_").mkdir()
    found = discover_download(tmp_path, tmp_path / "s", FILES)
    entries = ids(found.entries)
    assert found.layout == "moodle" and set(entries) == {"123456", "222"}
    assert sorted(p.name for p in entries["123456"].path.iterdir()) == ["answers.toml", "mlp.py"]
    assert entries["123456"].name == "Jane Doe" and "online text" in " ".join(entries["123456"].notes)
    assert entries["222"].unplaced == ("notes.txt",) and entries["222"].incomplete == ("mlp.py",)
    assert found.unplaced == ("Ann Lee_333: an online text only (not graded; no file submitted)",)


def test_gradescope_export_zip_with_its_wrapping_folder(tmp_path):
    archive = tmp_path / "export.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("assignment_9_export/submission_metadata.yml", GRADESCOPE_META)
        z.writestr("assignment_9_export/submission_101/mlp.py", "x")
    root = extract_zip(archive, tmp_path / "x")
    assert set(ids(discover(root, tmp_path / "s", FILES))) == {"2024001"}


CANVAS_ROSTER = (
    "Student,ID,SIS User ID,SIS Login ID,Section,A1: NumPy network (884211),A2: Autograd (884212),Current Score\r\n"
    "    Points Possible,,,,,51.00,40.00,(read only)\r\n"
    '"Doe, Jane",40001,S-17,jdoe,Section 1,,,\r\n'
    '"Roe, John",40002,S-18,jroe,Section 1,12.00,,\r\n'
    '"Student, Test",40099,,,,,,\r\n')
MOODLE_WORKSHEET = (
    '"Identifier","Full name","Email address","Status","Grade","Maximum Grade","Grade can be changed",'
    '"Last modified (submission)","Last modified (grade)","Feedback comments"\n'
    '"Participant 123456","Jane Doe",jane@example.edu,"Submitted for grading",,100.00,Yes,'
    '"Wednesday, September 23, 2026, 9:00 PM",-,\n'
    '"Participant 222","John Roe",john@example.edu,"Submitted for grading - 1 day 2 hours late",,100.00,Yes,'
    '"Thursday, September 24, 2026, 11:00 PM",-,\n'
    '"Participant 333","Ann Lee",ann@example.edu,"No submission",,100.00,Yes,-,-,\n')


def test_canvas_gradebook_export_as_roster(tmp_path):
    path = tmp_path / "roster.csv"
    path.write_text(CANVAS_ROSTER, newline="")
    roster = load_roster(path)
    assert roster.kind == "canvas" and roster.candidates[:3] == ("ID", "SIS User ID", "SIS Login ID")
    assert roster.names() == {"40001": "Jane Doe", "40002": "John Roe"}  # not Canvas's "Student, Test"
    assert roster.assignment_columns() == ["A1: NumPy network (884211)", "A2: Autograd (884212)"]
    keyed, sentence = roster.choose({"S-17", "S-18", "S-99"})
    assert keyed.id_column == "SIS User ID" and "'SIS User ID' matches 2 of 3" in sentence
    assert set(keyed.names()) == {"S-17", "S-18"}
    assert roster.choose({"40001"})[0].id_column == "ID"


def test_moodle_worksheet_as_roster(tmp_path):
    path = tmp_path / "worksheet.csv"
    path.write_text(MOODLE_WORKSHEET, newline="")
    roster = load_roster(path)
    assert roster.kind == "moodle" and roster.names() == {"123456": "Jane Doe", "222": "John Roe", "333": "Ann Lee"}
    times = roster.submission_times()
    assert times["222"] == ("Thursday, September 24, 2026, 11:00 PM", True) and times["333"] == ("", False)
    assert roster.choose({"jane@example.edu"})[0].id_column == "Email address"


def test_names_that_are_not_utf8_are_listed_readably(tmp_path):
    import os

    root = os.fsencode(tmp_path)
    for name in (b"doe\xffjane_5_6_mlp.py", b"doe\xffjane_5_7_r\xe9sum\xe9.pdf", b"\xfe.txt"):
        with open(os.path.join(root, name), "w") as f:
            f.write("x")
    found = discover_download(tmp_path, tmp_path / "s", FILES)
    entry = found.entries[0]
    assert entry.name == "doe\\xffjane" and entry.unplaced == ("r\\xe9sum\\xe9.pdf",)
    assert found.unplaced == ("\\xfe.txt",)
    for text in (entry.name, *entry.unplaced, *found.unplaced):
        text.encode("utf-8")

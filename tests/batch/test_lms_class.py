"""Whole classes as the LMSs download them, graded and sent back: every student as `dlgrade check` grades them."""

from __future__ import annotations

import csv
import itertools
from pathlib import Path

import pytest

from grader import api
from grader.batch import lmscsv
from grader.batch.api import export_grades, grade_class
from grader.batch.gradebook import Gradebook
from grader.batch.late import parse_due
from tests.batch.course import CUBE, SQUARE, WRONG_CUBE, forget, make_course
from tests.batch.test_lms_exports import changed_cells
from tests.conftest import ROOT

SEED = 11
A2_TASKS = ["2.1", "2.4"]  # code (autograd.py) and written answers (answers.toml): both files count
A2 = (ROOT / "reference" / "a2" / "autograd.py").read_text()
ANSWERS = (ROOT / "reference" / "a2" / "answers.toml").read_text()
A2_BUGGY = (ROOT / "examples" / "a2" / "broadcast_and_power_mistakes" / "autograd.py").read_text()


def a2_kinds():
    """(kind, files handed in to Canvas in upload order, late?, the files the student meant)."""
    return [
        ("both", [("autograd.py", A2), ("answers.toml", ANSWERS)], False),
        ("reupload", [("autograd.py", A2_BUGGY), ("answers.toml", ANSWERS), ("autograd-1.py", A2)], True),
        ("reupload-worse", [("autograd.py", A2), ("autograd-1.py", A2_BUGGY), ("answers.toml", ANSWERS)], False),
        ("code-only", [("autograd.py", A2)], False),
        ("answers-only", [("answers.toml", ANSWERS)], True),
        ("extra-file", [("autograd.py", A2_BUGGY), ("answers.toml", ANSWERS), ("notes.pdf", "%PDF")], False),
    ]


def make_canvas_class(folder: Path, n: int) -> dict[str, tuple[str, dict[str, str]]]:
    """A Canvas "Download submissions" folder: every file its own number; {user id: (kind, meant files)}."""
    folder.mkdir(parents=True)
    numbers = itertools.count(700001)
    made = {}
    for i in range(n):
        kind, files, late = a2_kinds()[i % len(a2_kinds())]
        user = str(40001 + i)
        meant: dict[str, str] = {}
        for name, text in files:
            (folder / f"student{i:02d}{'_LATE' if late else ''}_{user}_{next(numbers)}_{name}").write_text(text)
            meant[name.replace("-1", "")] = text
        made[user] = (kind, {k: v for k, v in meant.items() if k != "notes.pdf"})
    return made


def canvas_roster(made: dict) -> str:
    header = "Student,ID,SIS User ID,SIS Login ID,Section,A2: Autograd by hand (884212),Final Score\r\n"
    points = "    Points Possible,,,,,40.00,(read only)\r\n"
    rows = "".join(f'"Last{user}, First{user}",{user},SIS{user},login{user},Section 2,,\r\n' for user in made)
    return header + points + rows + '"Student, Test",49999,,,,,\r\n'


@pytest.mark.parametrize("size", [12, pytest.param(30, marks=pytest.mark.slow)])
def test_canvas_a2_class_two_files_each_grades_as_check_alone_and_goes_back_to_canvas(tmp_path, zygote, size):
    made = make_canvas_class(tmp_path / "download", size)
    roster = tmp_path / "canvas-gradebook.csv"
    roster.write_bytes(canvas_roster(made).encode())
    book = tmp_path / "gb.sqlite"
    result = grade_class("a2", tmp_path / "download", gradebook=book, jobs=2, roster=roster, tasks=A2_TASKS,
                         seed=SEED)
    assert set(result.graded) == set(made) and not result.errors and not result.missing and not result.unknown
    full = max(r.max_score for r in result.graded.values())
    for user, (kind, meant) in made.items():
        folder = tmp_path / "alone" / user
        folder.mkdir(parents=True)
        for name, text in meant.items():
            (folder / name).write_text(text)
        alone = api.check("a2", folder, tasks=A2_TASKS, seed=SEED, zygote=zygote)
        batch = result.graded[user]
        assert [(c.id, c.status, c.score) for c in batch.checks] == \
            [(c.id, c.status, c.score) for c in alone.checks], (user, kind)
        if kind in ("both", "reupload"):
            assert batch.score == full, (user, kind)  # the 14/51 of issue 19: a correct pair scores in full
    kinds = {user: kind for user, (kind, _) in made.items()}
    assert {u for u, k in kinds.items() if k == "answers-only"} == set(result.incomplete)
    assert all(files == ("autograd.py",) for files in result.incomplete.values())
    for user in result.incomplete:  # graded as `check` grades it: the missing file named, no crash, no zero-fill
        failed = [c for c in result.graded[user].checks if c.task == "2.1"]
        assert failed and all("missing: autograd.py" in c.message for c in failed)
    assert {u for u, k in kinds.items() if k == "extra-file"} == set(result.unplaced)
    assert set(result.lateness) == {u for u, k in kinds.items() if k in ("reupload", "answers-only")}
    assert all(found.marker and found.late_days is None for found in result.lateness.values())
    assert any(f"'ID' matches {size} of {size}" in note for note in result.notes)
    reupload = next(u for u, k in kinds.items() if k == "reupload")
    notes = result.graded[reupload].diagnostics["submission_notes"]
    assert "autograd-1.py graded as autograd.py" in notes and any("marks this submission late" in n for n in notes)
    with Gradebook(book, create=False) as gb:
        assert gb.names("a2")["40001"] == "First40001 Last40001"  # the roster's name, not the file's "student00"

    out = tmp_path / "to-canvas.csv"
    export_grades(book, "canvas", out)  # the roster kept in the gradebook; the column found by "A2"
    before, after = canvas_roster(made), out.read_bytes().decode()
    assert {column for _, column in changed_cells(before, after)} == {5}
    rows = list(csv.reader(after.splitlines()))
    assert rows[1][5] == f"{full:g}"
    scores = {row[1]: row[5] for row in rows[2:]}
    assert all(scores[u] == f"{result.graded[u].score:g}" for u in made)
    assert scores["49999"] == ""  # Canvas's test student: not a student, left as it was

    out = tmp_path / "grades.csv"
    export_grades(book, "csv", out)
    by = {r["student"]: r for r in csv.DictReader(out.open())}
    assert by[reupload]["late"] == "true" and by[reupload]["penalty"] == "" and by[reupload]["total"] == f"{full:g}"


MOODLE_HEADER = ('"Identifier","Full name","Email address","Status","Grade","Maximum Grade","Grade can be changed",'
                 '"Last modified (submission)","Last modified (grade)","Feedback comments"\n')


@pytest.fixture
def course(tmp_path, monkeypatch):
    package = make_course(tmp_path / "site", "zlms", monkeypatch)
    yield "zlms"
    forget("zlms", package)


def test_moodle_download_of_a_course_assignment_with_late_policy_round_trips(tmp_path, course):
    """Loose files and folders, an online text, a worksheet as roster with submission times; a late policy."""
    root = tmp_path / "moodle"
    root.mkdir()
    students = {  # participant: (name, files, submitted)
        "1001": ("Jane Doe", {"square.py": SQUARE, "cube.py": CUBE}, "Monday, November 2, 2026, 10:00 PM"),
        "1002": ("John Roe", {"square.py": SQUARE, "cube.py": WRONG_CUBE}, "Tuesday, November 3, 2026, 9:00 AM"),
        "1003": ("Ann Lee", {"square.py": SQUARE, "cube.py": CUBE}, "Friday, November 6, 2026, 11:30 PM"),
        "1004": ("Bo Kim", {"square.py": SQUARE}, "Monday, November 2, 2026, 8:00 PM"),
    }
    for number, (name, files, _) in students.items():
        if number in ("1001", "1004"):  # Moodle's loose files
            for file, text in files.items():
                (root / f"{name}_{number}_assignsubmission_file_{file}").write_text(text)
        else:
            folder = root / f"{name}_{number}_assignsubmission_file_"
            folder.mkdir()
            for file, text in files.items():
                (folder / file).write_text(text)
    (root / "Jane Doe_1001_assignsubmission_onlinetext_").mkdir()
    (root / "Jane Doe_1001_assignsubmission_onlinetext_" / "onlinetext.html").write_text("<p>see my files</p>")
    worksheet_text = MOODLE_HEADER + "".join(
        f'"Participant {n}","{name}",{name.split()[0].lower()}@example.edu,"Submitted for grading",,10.00,Yes,'
        f'"{when}",-,\n' for n, (name, _, when) in students.items()) + \
        '"Participant 1005","Cy Park",cy@example.edu,"No submission",,10.00,Yes,-,-,\n'
    worksheet = tmp_path / "Grades-zlms.csv"
    worksheet.write_bytes(worksheet_text.encode())
    extensions = tmp_path / "extensions.csv"
    extensions.write_text("id,days\n1003,4\n")
    book = tmp_path / "gb.sqlite"
    result = grade_class("zlms", root, gradebook=book, roster=worksheet, seed=SEED,
                         due=parse_due("2026-11-02T23:59:00+00:00"), late_policy="10%/day, max 50%, grace 15m",
                         extensions=extensions)
    assert set(result.graded) == set(students) and result.missing == ("1005",) and not result.errors
    scores = {s: r.score for s, r in result.graded.items()}
    assert scores == {"1001": 5, "1002": 2, "1003": 5, "1004": 2}
    assert result.incomplete == {"1004": ("cube.py",)}
    assert any("online text" in n for n in result.graded["1001"].diagnostics["submission_notes"])
    assert set(result.lateness) == {"1002"}  # 1003 is within its 4-day extension; 1001 and 1004 on time
    assert result.lateness["1002"].late_days == pytest.approx(0.3757, abs=1e-3)
    assert any(note.startswith("late policy: due 2026-11-02T23:59:00+00:00, 10%/day") for note in result.notes)

    out = tmp_path / "back-to-moodle.csv"
    export_grades(book, "moodle", out)  # the worksheet kept from --roster
    after = out.read_bytes().decode()
    assert {column for _, column in changed_cells(worksheet_text, after)} == {4, 9}
    rows = {r[0]: r for r in lmscsv.parse(after).records[1:] for r in [r.values]}
    assert rows["Participant 1001"][4] == "10.00" and rows["Participant 1002"][4] == "3.60"  # 2/5 -10%, to /10
    assert rows["Participant 1005"][4] == "0.00" and "late penalty" in rows["Participant 1002"][9]
    export_grades(book, "csv", tmp_path / "g.csv")
    grades = {r["student"]: r for r in csv.DictReader((tmp_path / "g.csv").open())}
    assert (grades["1002"]["raw"], grades["1002"]["penalty"], grades["1002"]["total"]) == ("2", "0.2", "1.8")
    assert grades["1003"]["late"] == "0" and grades["1003"]["total"] == "5"

    # A rerun keeps the policy (nothing to grade again); --due none drops it: no penalty left anywhere.
    again = grade_class("zlms", root, gradebook=book, roster=worksheet)
    assert set(again.skipped) == set(students) and set(again.lateness) == {"1002"}
    grade_class("zlms", root, gradebook=book, roster=worksheet, keep_late_policy=False)
    export_grades(book, "csv", tmp_path / "g2.csv")
    grades = {r["student"]: r for r in csv.DictReader((tmp_path / "g2.csv").open())}
    assert (grades["1002"]["late"], grades["1002"]["penalty"], grades["1002"]["total"]) == ("", "", "2")


GRADESCOPE = """\
submission_1:
  :submitters:
  - :name: Jane Doe
    :sid: '2024001'
  :created_at: 2026-11-02 15:00:00.000000000 -08:00
submission_2:
  :submitters:
  - :name: John Roe
    :sid: '2024002'
  :created_at: 2026-11-04 15:30:00.000000000 -08:00
"""


def test_gradescope_export_times_give_the_penalty(tmp_path, course):
    root = tmp_path / "export"
    root.mkdir()
    (root / "submission_metadata.yml").write_text(GRADESCOPE)
    for folder in ("submission_1", "submission_2"):
        (root / folder).mkdir()
        (root / folder / "square.py").write_text(SQUARE)
        (root / folder / "cube.py").write_text(CUBE)
    result = grade_class("zlms", root, gradebook=tmp_path / "gb.sqlite", seed=SEED,
                         due=parse_due("2026-11-02T23:59:00-08:00"), late_policy="25%/day")
    assert set(result.lateness) == {"2024002"} and result.lateness["2024002"].penalty_percent == 50
    export_grades(tmp_path / "gb.sqlite", "csv", tmp_path / "g.csv")
    grades = {r["student"]: r for r in csv.DictReader((tmp_path / "g.csv").open())}
    assert (grades["2024002"]["late"], grades["2024002"]["total"], grades["2024001"]["total"]) == ("1.65", "2.5", "5")


def test_repositories_commit_dates_are_the_submission_times(tmp_path, course):
    """--deadline grades the last commit before it; --due (earlier) makes a commit after it late, by its date."""
    import subprocess

    from tests.batch.test_repositories import commit

    for student, when in (("alice", "2026-11-02T10:00:00+00:00"), ("bob", "2026-11-02T11:30:00+00:00")):
        repo = tmp_path / "clones" / f"hw-{student}"
        repo.mkdir(parents=True)
        subprocess.run(["git", "init", "-q", "-b", "main"], cwd=repo, check=True)
        commit(repo, {"square.py": SQUARE, "cube.py": CUBE}, when)
    listing = tmp_path / "repos.txt"
    listing.write_text("clones/hw-alice\nclones/hw-bob\n")
    result = grade_class("zlms", listing, gradebook=tmp_path / "gb.sqlite", seed=SEED,
                         deadline=parse_due("2026-11-02T12:00:00+00:00"), due=parse_due("2026-11-02T11:00:00+00:00"),
                         late_policy="10%/hour")
    assert set(result.graded) == {"alice", "bob"} and set(result.lateness) == {"bob"}
    assert result.lateness["bob"].time_source == "commit date" and result.lateness["bob"].penalty_percent == 10
    export_grades(tmp_path / "gb.sqlite", "csv", tmp_path / "g.csv")
    grades = {r["student"]: r for r in csv.DictReader((tmp_path / "g.csv").open())}
    assert (grades["bob"]["penalty"], grades["bob"]["total"], grades["alice"]["total"]) == ("0.5", "4.5", "5")

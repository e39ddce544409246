"""Round trips with the LMS: a Canvas gradebook export and a Moodle worksheet come back with only grades changed."""

from __future__ import annotations

import csv
import zipfile

import pytest

from grader.batch import lmscsv
from grader.batch.exports import export
from grader.batch.gradebook import Gradebook
from grader.batch.late import LatePlan, gradebook_row, parse_due, parse_policy
from grader.errors import UsageError
from tests.batch.test_discover import CANVAS_ROSTER, MOODLE_WORKSHEET
from tests.batch.test_exports import HOSTILE, report


def changed_cells(before: str, after: str) -> set[tuple[int, int]]:
    """(row, column) of every field whose raw bytes differ; the records and line endings must all be there."""
    a, b = lmscsv.parse(before), lmscsv.parse(after)
    assert len(a.records) == len(b.records) and a.prefix == b.prefix
    cells = set()
    for i, (x, y) in enumerate(zip(a.records, b.records)):
        assert x.end == y.end and len(y.fields) == len(x.fields), i
        cells |= {(i, j) for j, (f, g) in enumerate(zip(x.fields, y.fields)) if f.raw != g.raw}
    return cells


@pytest.fixture
def canvas_book(tmp_path):
    roster = tmp_path / "canvas-roster.csv"
    roster.write_bytes(CANVAS_ROSTER.encode())
    with Gradebook(tmp_path / "gb.sqlite") as gb:
        run = gb.start_run("a1", "0.1.0", 5, "*", {}, {})
        gb.record(run, "40001", "h1", "0.1.0", "*", report("40001"))
        gb.record(run, "40050", "h2", "0.1.0", "*", report("40050", good=False))  # not on the roster
        yield gb, roster


def test_canvas_export_is_the_roster_with_its_assignment_column_filled(canvas_book, tmp_path):
    book, roster = canvas_book
    out = tmp_path / "canvas.csv"
    written = export(book, "canvas", out, roster=roster)
    after = out.read_bytes().decode()
    # only the A1 column (5): its Points Possible, Jane's grade; John (no submission this run) has no grade here,
    # and his old 12.00 in the file stays as Canvas had it
    assert changed_cells(CANVAS_ROSTER, after) == {(1, 5), (2, 5)}
    rows = list(csv.reader(after.splitlines()))
    assert rows[0] == next(csv.reader([CANVAS_ROSTER.splitlines()[0]]))
    assert rows[1][5] == "5" and rows[2][:6] == ["Doe, Jane", "40001", "S-17", "jdoe", "Section 1", "5"]
    assert rows[3][5] == "12.00" and rows[4][0] == "Student, Test" and rows[4][5] == ""
    assert any("40050" in note and "not on the roster" in note for note in written.notes)
    assert "\r\n" in after and after.count("\n") == CANVAS_ROSTER.count("\n")


def test_canvas_column_by_name_or_id_and_clear_errors(canvas_book, tmp_path):
    book, roster = canvas_book
    out = tmp_path / "c.csv"
    export(book, "canvas", out, roster=roster, lms_column="884212")
    assert list(csv.reader(out.read_text().splitlines()))[2][6] == "5"  # the A2 column this time
    export(book, "canvas", out, roster=roster, lms_column="A1: NumPy network (884211)")
    assert list(csv.reader(out.read_text().splitlines()))[2][5] == "5"
    with pytest.raises(UsageError, match='no column .*"A1: NumPy network \\(884211\\)"'):
        export(book, "canvas", out, roster=roster, lms_column="A9 (1)")


def test_canvas_roster_keyed_on_sis_ids_never_writes_them_into_id(tmp_path):
    roster = tmp_path / "r.csv"
    roster.write_bytes(CANVAS_ROSTER.encode())
    with Gradebook(tmp_path / "gb.sqlite") as gb:
        run = gb.start_run("a1", "0.1.0", 5, "*", {}, {})
        gb.record(run, "S-18", "h1", "0.1.0", "*", report("S-18"))
        gb.set_roster(run, "a1", "canvas", "SIS User ID", "r.csv", CANVAS_ROSTER.encode())  # as `grade` keeps it
        gb.set_names("a1", {"S-17": "Jane Doe", "S-18": "John Roe"})
        export(gb, "canvas", tmp_path / "c.csv")  # the roster kept in the gradebook
    after = (tmp_path / "c.csv").read_bytes().decode()
    assert changed_cells(CANVAS_ROSTER, after) == {(1, 5), (2, 5), (3, 5)}
    rows = list(csv.reader(after.splitlines()))
    assert rows[3][:6] == ["Roe, John", "40002", "S-18", "jroe", "Section 1", "5"]
    assert rows[2][5] == "0"  # on the roster, no submission: 0 as in every export


def test_moodle_worksheet_comes_back_with_only_grade_and_feedback_changed(tmp_path):
    worksheet = tmp_path / "Grades-A1.csv"
    worksheet.write_bytes(MOODLE_WORKSHEET.encode())
    with Gradebook(tmp_path / "gb.sqlite") as gb:
        run = gb.start_run("a1", "0.1.0", 5, "*", {}, {})
        gb.record(run, "123456", "h1", "0.1.0", "*", report("123456"))
        gb.record(run, "222", "h2", "0.1.0", "*", report("222", good=False, text=HOSTILE))
        gb.set_names("a1", {"123456": "Jane Doe", "222": "John Roe", "333": "Ann Lee"})
        written = export(gb, "moodle", tmp_path / "back.csv", roster=worksheet)
        zipped = export(gb, "moodle-feedback", tmp_path / "feedback.zip", roster=worksheet)
    after = (tmp_path / "back.csv").read_bytes().decode()
    grade, feedback = 4, 9
    assert {column for _, column in changed_cells(MOODLE_WORKSHEET, after)} == {grade, feedback}
    rows = list(csv.reader(after.splitlines()))
    by = {r[0]: r for r in rows[1:]}
    assert by["Participant 123456"][grade] == "100.00"  # 5/5 scaled to the worksheet's Maximum Grade of 100
    assert by["Participant 222"][grade] == "50.00" and by["Participant 333"][grade] == "0.00"
    text = by["Participant 222"][feedback]
    assert text.startswith("dlgrade a1: 2.5/5.") and "Linear.backward 0.5/2" in text
    assert "<" not in text and "\n" not in text and "\x1b" not in text
    assert any("scaled /5 to /100" in n for n in written.notes)
    with zipfile.ZipFile(tmp_path / "feedback.zip") as z:
        assert sorted(z.namelist()) == ["Jane Doe_123456_assignsubmission_file_/feedback.html",
                                        "John Roe_222_assignsubmission_file_/feedback.html"]
        assert "Linear.backward" in z.read("John Roe_222_assignsubmission_file_/feedback.html").decode()
    assert "2 feedback file(s)" in zipped.notes[0]


def test_moodle_needs_its_worksheet(tmp_path):
    with Gradebook(tmp_path / "gb.sqlite") as gb:
        run = gb.start_run("a1", "0.1.0", 5, "*", {}, {})
        gb.record(run, "1", "h1", "0.1.0", "*", report("1"))
        with pytest.raises(UsageError, match="grading worksheet"):
            export(gb, "moodle", tmp_path / "x.csv")
        with pytest.raises(UsageError, match="ending in .zip"):
            export(gb, "moodle-feedback", tmp_path / "folder")


def test_csv_has_raw_late_penalty_override_and_total(tmp_path):
    due = parse_due("2026-11-02T23:59:00+00:00")
    plan = LatePlan(due, parse_policy("10%/day, max 50%"))
    with Gradebook(tmp_path / "gb.sqlite") as gb:
        run = gb.start_run("a1", "0.1.0", 5, "*", {}, {})
        for student in ("ontime", "late", "marked", "unknown"):
            gb.record(run, student, "h" + student, "0.1.0", "*", report(student))
        gb.record_lateness(run, "a1", {
            "ontime": gradebook_row(plan.assess("ontime", "2026-11-02T20:00:00Z", "x", False), plan, 5.0),
            "late": gradebook_row(plan.assess("late", "2026-11-04T10:00:00Z", "x", False), plan, 5.0),
            "marked": gradebook_row(plan.assess("marked", "", "", True), plan, 5.0),
            "unknown": gradebook_row(plan.assess("unknown", "", "", False), plan, 5.0)})
        export(gb, "csv", tmp_path / "g.csv")
    rows = {r["student"]: r for r in csv.DictReader(open(tmp_path / "g.csv"))}
    assert list(rows["late"])[2:4] == ["forward", "backward"]
    late = rows["late"]
    assert (late["raw"], late["late"], late["penalty"], late["override"], late["total"]) == ("5", "1.42", "1", "",
                                                                                            "4")
    assert (rows["ontime"]["late"], rows["ontime"]["penalty"], rows["ontime"]["total"]) == ("0", "", "5")
    assert (rows["marked"]["late"], rows["marked"]["total"]) == ("true", "5")  # a marker alone: no penalty
    assert (rows["unknown"]["late"], rows["unknown"]["total"]) == ("", "5")

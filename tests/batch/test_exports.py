"""Exports and feedback formats, on reports made by hand (no grading): layouts and escaping of hostile text."""

from __future__ import annotations

import csv
import json
from xml.etree import ElementTree as ET

import pytest

from grader.batch.exports import export, gradescope_results, safe_name
from grader.batch.gradebook import Gradebook
from grader.report import formats, render
from grader.result import CheckResult, Report

HOSTILE = "=cmd|' /C calc'!A0 <script>alert(1)</script> \x1b[2J\x07 | ``` **bold**"


def report(student: str, good: bool = True, text: str = "") -> Report:
    checks = (
        CheckResult("forward", "1.1", "Linear.forward", "passed", 2.0, 2.0, duration_s=0.05),
        CheckResult("backward", "1.1", "Linear.backward", "passed" if good else "failed", 2.0 if good else 0.5, 2.0,
                    message="" if good else f"dW differs {text}", hint="" if good else "divide by nothing",
                    output="" if good else f"printed {text}\n" * 8, duration_s=0.1),
        CheckResult("softmax", "1.3", "softmax", "skipped", 0.0, 1.0, message="not selected with --task"),
        CheckResult("adam", "1.5", "Adam", "passed" if good else "error", 1.0 if good else 0.0, 1.0,
                    message="" if good else "raised ValueError"),
    )
    return Report("a1", f"/class/{student}", checks, {"seed": 5, "submission_notes": [f"note {text}"]})


@pytest.fixture
def book(tmp_path):
    with Gradebook(tmp_path / "gb.sqlite") as gb:
        run = gb.start_run("a1", "0.1.0", 5, "*", {"node": "x"}, {})
        gb.record(run, "alice", "h1", "0.1.0", "*", report("alice"))
        gb.record(run, "=bob", "h2", "0.1.0", "*", report("=bob", good=False, text=HOSTILE))
        gb.set_names("a1", {"alice": "Alice A", "carol": "Carol C"})
        yield gb


def test_csv_one_row_per_student_with_check_columns_total_and_missing(book, tmp_path):
    export(book, "csv", tmp_path / "grades.csv")
    rows = list(csv.DictReader(open(tmp_path / "grades.csv")))
    assert list(rows[0])[:2] == ["student", "name"] and "total" in rows[0] and "backward" in rows[0]
    by = {r["student"]: r for r in rows}
    assert by["alice"]["total"] == "5" and by["alice"]["softmax"] == "" and by["alice"]["name"] == "Alice A"
    assert by["'=bob"]["total"] == "2.5"  # a formula-like id is quoted for spreadsheets
    assert by["carol"]["status"] == "missing" and by["carol"]["total"] == "0"


def test_canvas_layout(book, tmp_path):
    export(book, "canvas", tmp_path / "canvas.csv")
    rows = list(csv.reader(open(tmp_path / "canvas.csv")))
    assert rows[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "dlgrade a1"]
    assert rows[1][0].strip() == "Points Possible" and rows[1][-1] == "5"
    assert ["Alice A", "alice", "", "", "", "5"] in rows and ["Carol C", "carol", "", "", "", "0"] in rows


def test_gradescope_results_fields(book, tmp_path):
    written = export(book, "gradescope", tmp_path / "gs")
    assert sorted(p.parent.name for p in written) == ["alice", "bob"]  # ids are made safe as folder names
    data = json.loads((tmp_path / "gs" / "bob" / "results.json").read_text())
    assert data["score"] == 2.5 and len(data["tests"]) == 3  # the skipped check is left out
    test = data["tests"][1]
    assert set(test) >= {"name", "score", "max_score", "status", "output", "visibility"}
    assert test["status"] == "failed" and "\x1b" not in test["output"] and "divide by nothing" in test["output"]
    assert gradescope_results(report("x"))["tests"][0]["status"] == "passed"


def test_junit_parses_and_counts(book, tmp_path):
    export(book, "junit", tmp_path / "junit.xml")
    suites = ET.parse(tmp_path / "junit.xml").getroot()
    bob = next(s for s in suites if s.get("name") == "=bob")
    assert (bob.get("tests"), bob.get("failures"), bob.get("errors"), bob.get("skipped")) == ("4", "1", "1", "1")
    assert "\x1b" not in ET.tostring(bob, encoding="unicode")


def test_feedback_has_the_terminal_reports_content_and_escapes(book, tmp_path):
    written = export(book, "feedback", tmp_path / "fb")
    assert sorted(p.name for p in written) == ["alice.html", "alice.md", "bob.html", "bob.md"]
    terminal = render(next(g.report for g in book.latest("a1") if g.student == "=bob"), "terminal")
    markdown, html = (tmp_path / "fb" / "bob.md").read_text(), (tmp_path / "fb" / "bob.html").read_text()
    for text in (terminal, markdown, html):  # the same content as the terminal report
        for gist in ("Linear.backward", "0.5/2", "divide by nothing", "raised ValueError", "seed", "Score: 2.5/5",
                     "2 check(s) need work", "3 more lines"):
            assert gist in text, gist
    for text in (markdown, html):
        assert "\x1b" not in text and "\x07" not in text and "\\x1b" in text
    assert "<script>" not in html and "&lt;script&gt;" in html and "default-src 'none'" in html


def test_markdown_and_html_are_report_formats():
    assert {"markdown", "html"} <= set(formats())
    assert render(report("x"), "markdown").startswith("# dlgrade a1")


def test_safe_names():
    assert safe_name("../../etc/passwd") == "etc_passwd" and safe_name("") == "student"

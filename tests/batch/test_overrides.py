"""Staff overrides and excuses: validated, kept through regrades, in the history, and in every export."""

from __future__ import annotations

import csv
import json
from xml.etree import ElementTree as ET

import pytest
from click.testing import CliRunner

from grader.batch.api import change_grade, export_grades, staff_changes
from grader.batch.exports import export
from grader.batch.gradebook import Gradebook
from grader.batch.overrides import TOTAL, Override, final_grade
from grader.cli import main
from grader.errors import UsageError
from grader.result import CheckResult, Report


def report(backward: float = 0.5, status: str = "failed") -> Report:
    return Report("a1", "sub", (
        CheckResult("forward", "1.1", "Linear.forward", "passed", 2.0, 2.0),
        CheckResult("backward", "1.1", "Linear.backward", status, backward, 2.0, message="dW differs\nsecond line"),
        CheckResult("softmax", "1.3", "softmax", "skipped", 0.0, 1.0, message="not selected with --task"),
        CheckResult("adam", "1.5", "Adam", "error", 0.0, 1.0, message="raised ValueError"),
    ), {"seed": 5})


def change(check: str, action: str, points: float | None = None) -> Override:
    return Override("alice", check, action, points, "why", "ta", "2026-12-01T10:00:00Z")


def test_final_grade_applies_points_excuses_penalty_and_total_in_that_order():
    base = report()
    assert final_grade(base).total_text() == "2.5/5"  # skipped softmax is not in the maximum
    assert final_grade(base, [change("backward", "points", 2)]).total_text() == "4/5"
    excused = final_grade(base, [change("adam", "excuse")])
    assert excused.total_text() == "2.5/4" and excused.check("adam").excused
    both = final_grade(base, [change("backward", "points", 2), change("adam", "excuse")], penalty=1)
    assert (both.total, both.max, both.raw, both.raw_max) == (3.0, 4.0, 2.5, 5.0)
    assert final_grade(base, [change("backward", "points", 2), change(TOTAL, "points", 4.5)], penalty=3).total == 4.5
    whole = final_grade(base, [change(TOTAL, "excuse")])
    assert whole.excused and whole.total_text() == "excused"
    assert final_grade(base, [change("gone", "points", 1)]).unapplied[0].check == "gone"
    assert any("backward is set to 2/2 (the grader gave 0.5/2): why (ta," in n
               for n in final_grade(base, [change("backward", "points", 2)]).notes())


@pytest.fixture
def book(tmp_path, monkeypatch):
    monkeypatch.setenv("USER", "ta-jones")
    monkeypatch.setenv("LOGNAME", "ta-jones")
    path = tmp_path / "gb.sqlite"
    with Gradebook(path) as gb:
        run = gb.start_run("a1", "0.1.0", 5, "*", {"node": "x"}, {})
        gb.record(run, "alice", "h1", "0.1.0", "*", report())
        gb.record(run, "bob", "h2", "0.1.0", "*", report(2.0, "passed"))
        gb.set_names("a1", {"alice": "Alice <b>A</b>", "carol": "Carol C"})
    return path


def test_a_change_is_validated_in_one_sentence(book):
    for args, gist in [(("nobody", "backward", "points", "x", 1), "no grades for student 'nobody'"),
                       (("carol", "backward", "points", "x", 1), "on the roster of a1 but has no graded submission"),
                       (("alice", "nope", "points", "x", 1), "a1 has no check 'nope'; use one of forward, backward"),
                       (("alice", "backward", "points", "x", 3), "above the maximum of backward (2): add --bonus"),
                       (("alice", "backward", "points", "x", -1), "cannot be negative"),
                       (("alice", "backward", "points", "x", float("nan")), "needs a finite number"),
                       (("alice", TOTAL, "points", "x", 6), "above the maximum of total (5)"),
                       (("alice", "backward", "points", "  ", 1), "say why with --comment"),
                       (("alice", "backward", "remove", "x", None), "no override or excuse on backward to remove")]:
        with pytest.raises(UsageError, match=gist.replace("(", r"\(").replace(")", r"\)")):
            change_grade(book, *args)
    with pytest.raises(UsageError, match="finite"):
        change_grade(book, "alice", "backward", "points", "x", float("inf"), bonus=True)
    _, _, after = change_grade(book, "alice", "backward", "points", "extra credit", 2.5, bonus=True)
    assert after.total_text() == "4.5/5"  # 2 + 2.5 (extra credit) + 0


def test_changes_survive_a_regrade_and_the_history_keeps_who_when_why(book):
    change_grade(book, "alice", "backward", "points", "sign error only", 1.5)
    change_grade(book, "alice", "adam", "excuse", "medical leave")
    with Gradebook(book) as gb:  # a regrade: a new run writes a new result; the changes apply on top of it
        run = gb.start_run("a1", "0.1.1", 5, "*", {"node": "x"}, {})
        gb.record(run, "alice", "h3", "0.1.1", "*", report(1.0))
        assert len(gb.history("alice")) == 2
    final = staff_changes(book, "alice")["a1"]["final"]
    assert final.total_text() == "3.5/4" and final.raw == 3.0
    change_grade(book, "alice", "backward", "remove", "the regrade is right")
    entry = staff_changes(book, "alice")["a1"]
    assert entry["final"].total_text() == "3/4"
    history = entry["history"]
    assert [(c.check, c.action, c.was) for c in history] == [
        ("backward", "points", "0.5/2"), ("adam", "excuse", "0/1"), ("backward", "remove", "1.5/2")]
    assert {c.who for c in history} == {"ta-jones"} and history[0].comment == "sign error only"
    assert history[0].at.endswith("Z")


def test_every_export_shows_the_grade_of_record(book, tmp_path):
    change_grade(book, "alice", "backward", "points", "sign error only", 2)
    change_grade(book, "alice", "adam", "excuse", "medical leave <script>")
    change_grade(book, "bob", TOTAL, "excuse", "withdrew")
    with Gradebook(book) as gb:
        export(gb, "csv", tmp_path / "grades.csv")
        export(gb, "canvas", tmp_path / "canvas.csv")
        export(gb, "gradescope", tmp_path / "gs")
        export(gb, "junit", tmp_path / "junit.xml")
        export(gb, "feedback", tmp_path / "fb")
    rows = {r["student"]: r for r in csv.DictReader(open(tmp_path / "grades.csv"))}
    alice = rows["alice"]
    assert (alice["backward"], alice["adam"], alice["raw"], alice["total"], alice["max"]) == \
        ("2", "excused", "2.5", "4", "4")
    assert alice["override"] == "backward=2;adam=excused" and rows["bob"]["total"] == "EX"
    canvas = list(csv.reader(open(tmp_path / "canvas.csv")))
    assert [r[-1] for r in canvas if r[1] in ("alice", "bob")] == ["4", "EX"]
    results = json.loads((tmp_path / "gs" / "alice" / "results.json").read_text())
    assert results["score"] == 4 and [t["score"] for t in results["tests"]] == [2, 2, 0]
    adam = results["tests"][2]
    assert adam["max_score"] == 0 and "excused by the staff: medical leave <script>" in adam["output"]
    suites = ET.parse(tmp_path / "junit.xml").getroot()
    alice_suite = next(s for s in suites if s.get("name") == "alice")
    props = {p.get("name"): p.get("value") for p in alice_suite.iter("property")}
    assert props["total"] == "4" and props["max"] == "4" and props["raw"] == "2.5"
    assert any(c.find("skipped") is not None and "excused" in c.find("skipped").get("message")
               for c in alice_suite.iter("testcase"))
    markdown, html = (tmp_path / "fb" / "alice.md").read_text(), (tmp_path / "fb" / "alice.html").read_text()
    for text in (markdown, html):
        assert "backward is set to 2/2 (the grader gave 0.5/2): sign error only (ta-jones," in text
        assert "4/4" in text
    assert "<script>" not in html and "&lt;script&gt;" in html


def test_cli_override_excuse_remove_and_show(book):
    runner = CliRunner()

    def dlgrade(*args):
        return runner.invoke(main, ["gradebook", *args, "--gradebook", str(book)])

    done = dlgrade("override", "alice", "backward", "--points", "1.5", "--comment", "partial credit")
    assert done.exit_code == 0, done.output
    assert "alice backward: 1.5 points (was 0.5/2); grade of record 2.5/5 -> 3.5/5" in done.output
    assert "ta-jones" in done.output
    assert dlgrade("excuse", "alice", "adam", "--comment", "ill").exit_code == 0
    shown = dlgrade("show", "alice")
    assert shown.exit_code == 0, shown.output
    assert "grade of record (a1): 3.5/4 (the grader's 2.5/5)" in shown.output and "Staff changes" in shown.output
    assert "partial credit" in shown.output and "adam: excused" in shown.output
    assert dlgrade("override", "alice", "adam", "--remove", "--comment", "back").exit_code == 0
    for args, gist in [(("override", "alice", "backward", "--comment", "x"), "give --points P, or --remove"),
                       (("override", "alice", "backward", "--points", "1", "--remove", "--comment", "x"),
                        "give --points P, or --remove"),
                       (("override", "zed", "backward", "--points", "1", "--comment", "x"), "no grades for student"),
                       (("excuse", "alice", "nope", "--comment", "x"), "has no check 'nope'"),
                       (("show",), "give a STUDENT id")]:
        failed = dlgrade(*args)
        assert failed.exit_code == 2 and gist in failed.output, (args, failed.output)


def test_an_override_survives_dlgrade_grade_regrade(tmp_path, monkeypatch):
    from grader.batch.api import export_grades, grade_class
    from tests.batch.conftest import ROOT

    monkeypatch.setenv("LOGNAME", "ta-kim")  # getpass reads LOGNAME first
    root = tmp_path / "class"
    for student, source in (("ann", ROOT / "reference" / "a1" / "mlp.py"),
                            ("bo", ROOT / "examples" / "a1" / "common_mistakes" / "mlp.py")):
        (root / student).mkdir(parents=True)
        (root / student / "mlp.py").write_text(source.read_text())
    book = tmp_path / "gb.sqlite"
    first = grade_class("a1", root, gradebook=book, tasks=["1.3"], seed=1)
    failing = next(c for c in first.graded["bo"].checks if c.status not in ("passed", "skipped"))
    change_grade(book, "bo", failing.id, "points", "the handout was ambiguous", failing.max_score)
    again = grade_class("a1", root, gradebook=book, tasks=["1.3"], seed=1, regrade=True)
    assert again.run_id != first.run_id and set(again.graded) == {"ann", "bo"}
    export_grades(book, "csv", tmp_path / "grades.csv")
    bo = {r["student"]: r for r in csv.DictReader(open(tmp_path / "grades.csv"))}["bo"]
    assert bo[failing.id] == f"{failing.max_score:g}" and bo["override"] == f"{failing.id}={failing.max_score:g}"
    assert float(bo["total"]) == float(bo["raw"]) + failing.max_score - failing.score
    assert staff_changes(book, "bo")["a1"]["history"][0].who == "ta-kim"


def test_the_late_penalty_and_excuses_reach_show_the_class_page_and_junit(book, tmp_path):
    """One grade of record everywhere: ``gradebook show``, the class page's mean and JUnit's counts agree with the
    CSV."""
    with Gradebook(book) as gb:  # bob (2/2 on backward) handed in late: 20 % of his 4.0 raw points
        run = gb.start_run("a1", "0.1.0", 5, "*", {"node": "x"}, {})
        gb.record_lateness(run, "a1", {"bob": {
            "submitted_at": "2026-12-02T10:00:00+00:00", "time_source": "gradescope metadata", "marker": 0,
            "due": "2026-12-01T23:59:00+00:00", "late_days": 1.4, "policy": "10%/day", "penalty_percent": 20.0,
            "raw": 4.0, "penalty": 0.8, "total": 3.2}})
        assert {g.student: g.final.total for g in gb.latest("a1")} == {"alice": 2.5, "bob": 3.2}
    change_grade(book, "alice", "adam", "excuse", "medical leave")
    assert staff_changes(book, "bob")["a1"]["final"].total_text() == "3.2/5"
    export_grades(book, "analytics", tmp_path / "class.html")
    assert "mean 2.85, median 2.85 out of 5" in (tmp_path / "class.html").read_text()
    export_grades(book, "junit", tmp_path / "j.xml")
    suite = next(s for s in ET.parse(tmp_path / "j.xml").getroot() if s.get("name") == "alice")
    assert (suite.get("errors"), suite.get("skipped")) == ("0", "2")  # adam excused: neither an error nor counted
    export_grades(book, "csv", tmp_path / "grades.csv")
    rows = {r["student"]: r for r in csv.DictReader(open(tmp_path / "grades.csv", encoding="utf-8"))}
    assert (rows["bob"]["penalty"], rows["bob"]["total"]) == ("0.8", "3.2")


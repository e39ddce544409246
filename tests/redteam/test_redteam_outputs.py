"""Red team, issue 21 points 2-4: every output dlgrade writes stays valid and inert for its consumer.

``submissions/outputs/hostile_text_a1`` raises and prints text that each kind
of reader chokes on or obeys: lone surrogates (no UTF-8 encoder takes them),
U+FFFF and U+FDD0 (an XML parser refuses the first), terminal controls,
spreadsheet formulas split by ``;`` and ``|``, Markdown and HTML that would pass
for the grader's own "36 / 36". Student ids and names from folder names and
rosters carry the same. Every format is read back with its consumer's parser
(``tests.report.inert``): ``json.loads``, ``ElementTree``, a CommonMark renderer,
an HTML parser, the terminal's rule of no control character, a CSV reader that
splits on every separator, and (slow) LibreOffice itself.

Before: ``check`` exited 3 for terminal, Markdown, HTML and JUnit, and
``ci --emit github|junit`` exited 3; one student's U+FFFF made the class JUnit
file malformed; ``x;=1+1;`` became a live formula; ids reached the terminal raw.
"""

from __future__ import annotations

import base64
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from grader import api
from grader.batch import analytics, exports
from grader.batch.gradebook import Gradebook, Graded
from grader.batch.reconcile import Finding, Reconciliation, write_findings_csv
from grader.report import classroom50
from grader.result import Report
from grader.text import encodable_data
from tests.conftest import ROOT
from tests.report.inert import (
    assert_csv,
    assert_html,
    assert_json,
    assert_markdown,
    assert_terminal,
    assert_xml,
    formula_parts,
)

HOSTILE_A1 = Path(__file__).parent / "submissions" / "outputs" / "hostile_text_a1"
ESCAPES_A1 = Path(__file__).parent / "submissions" / "inputs" / "escapes_a1"
# Ids and names a student controls (a folder name, a roster row, an LMS display name).
IDS = ("=1+1", "x;=2+2;", "@SUM(A1)|-3", "\x1b]52;c;cHduZWQ=\x07clip", "\x1b]0;title\x07\x1b[2Jwin",
       "<img src=x onerror=alert(1)>", "+4\t=5", "alice")
SURROGATE_IDS = ("\ud800lone", "bad\udcffbyte")
NAMES = {s: f"{s} \ufffe\uffff -6 ;=HYPERLINK(\"https://evil.invalid\")" for s in IDS + SURROGATE_IDS}
FORMATS = ("terminal", "json", "markdown", "html", "junit", "gradescope")
CHECKERS = {"terminal": assert_terminal, "json": assert_json, "gradescope": assert_json, "junit": assert_xml,
            "html": assert_html, "markdown": assert_markdown}


def dlgrade(*args, cwd: Path = ROOT, env: dict | None = None) -> subprocess.CompletedProcess:
    """The real command, its output as bytes: exit 3 (the grader's own failure) is never acceptable."""
    done = subprocess.run([sys.executable, "-m", "grader.cli", *map(str, args)], cwd=cwd, capture_output=True,
                          timeout=300, env={**os.environ, **(env or {})})
    stderr = done.stderr.decode("utf-8")
    assert done.returncode != 3 and "internal grader error" not in stderr and "Traceback" not in stderr, stderr
    assert_terminal(stderr)
    return done


@pytest.fixture(scope="module")
def hostile_report(zygote) -> Report:
    report = api.check("a1", HOSTILE_A1, tasks=["1.3"], seed=5, zygote=zygote)
    errors = [c for c in report.checks if c.status == "error"]
    assert errors and all("\ud800" in c.message for c in errors), "the submission's text reaches the report raw"
    return report


# ------------------------------------------------------------------ one submission: check and ci


@pytest.mark.parametrize("format_name", FORMATS)
def test_check_writes_every_format_valid_and_inert(format_name, tmp_path):
    done = dlgrade("check", "a1", HOSTILE_A1, "--task", "1.3", "--seed", "5", "--format", format_name)
    assert done.returncode == 1  # graded: checks failed
    CHECKERS[format_name](done.stdout.decode("utf-8"))
    if format_name != "terminal":  # the other formats write the same text to stdout and to a file
        return
    written = dlgrade("check", "a1", HOSTILE_A1, "--task", "1.3", "--seed", "5", "--format", format_name,
                      "--output", tmp_path / "report")
    assert written.returncode == 1
    CHECKERS[format_name]((tmp_path / "report").read_bytes())


def test_ci_emits_every_platform_valid_and_inert(tmp_path):
    env = {"GITHUB_OUTPUT": str(tmp_path / "github_output"), "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md"),
           "CLASSROOM": "c", "ASSIGNMENT": "a1", "USERNAME": "alice", "SUBMISSION_TAG": "submit/1",
           "COMMIT_URL": "https://x/c", "RELEASE_URL": "https://x/r"}
    done = dlgrade("ci", "a1", HOSTILE_A1, "--seed", "5", "--emit", "github", "--emit", "junit", "--emit",
                   "classroom50", "--emit", "gradescope", "--junit-out", tmp_path / "junit.xml",
                   "--gradescope-out", tmp_path / "results.json", cwd=tmp_path, env=env)
    assert done.returncode == 0, done.stderr
    for line in done.stdout.decode("utf-8").splitlines():  # annotations: one workflow command a line
        assert_terminal(line)
    outputs = dict(line.split("=", 1) for line in (tmp_path / "github_output").read_text("utf-8").splitlines())
    scalars = ("score", "max_score", "hidden_points")
    payloads = [assert_json(base64.b64decode(v)) for k, v in outputs.items() if k not in scalars]
    assert any("\\ud800" in t["message"] for p in payloads for t in p["tests"])
    summary = assert_markdown((tmp_path / "summary.md").read_text("utf-8"), headings=("dlgrade a1: 0/36",))
    assert "evil.invalid" in summary and "<img" not in summary
    assert_xml((tmp_path / "junit.xml").read_bytes())
    assert_json((tmp_path / "results.json").read_bytes())
    result = assert_json((tmp_path / "result.json").read_bytes())
    assert classroom50.validate(result, env) == []


# ------------------------------------------------------------------ a class: every export


def _class(report: Report, ids) -> tuple[list[Graded], dict, dict]:
    graded = [Graded(s, NAMES[s], 1, "h", report) for s in ids]
    missing = {f"{s}-missing": NAMES[s] for s in ids[:3]}
    not_graded = {f"{ids[1]}-repo": {"source": "https://evil.invalid/=1+1", "branch": "main", "deadline": "d",
                                     "commit": "=cmd|' /C calc'!A0", "committed": "", "authored": "",
                                     "rewritten": True, "failure": "=1+1", "kind": "not-cloned",
                                     "ci_files_changed": ["=HYPERLINK(\"https://evil.invalid\")", "a;@x|-y"]}}
    return graded, missing, not_graded


def assert_exports(folder: Path) -> None:
    """Each exported file, read by its consumer."""
    for path in folder.rglob("*"):
        if path.suffix == ".csv":
            rows = assert_csv(path.read_bytes())
            assert len(rows) > 2
        elif path.suffix == ".xml":
            assert_xml(path.read_bytes())
        elif path.suffix == ".json":
            assert_json(path.read_bytes())
        elif path.suffix == ".md":
            assert_markdown(path.read_text("utf-8"))
        elif path.suffix == ".html":
            assert_html(path.read_text("utf-8"))


def test_class_exports_are_valid_and_inert(hostile_report, tmp_path):
    """Exports called on the raw reports (lone surrogates included) and hostile ids, names and flags."""
    ids = IDS + SURROGATE_IDS
    graded, missing, not_graded = _class(hostile_report, ids)
    out = tmp_path / "out"
    exports.export_csv(graded, missing, out / "grades.csv", not_graded, NAMES)
    exports.export_canvas(graded, missing, out / "canvas.csv", "a1")
    exports.export_junit(graded, out / "junit.xml")
    exports.export_gradescope(graded, out / "gradescope")
    exports.export_feedback(graded, out / "feedback")
    analytics.write_page("a1", {g.student: g.report for g in graded}, out / "class.html", sorted(missing))
    findings = tuple(Finding(s, f"{s}/result.json", "classroom50", "=1+1", "-1/36", "+3", f"reason {s}")
                     for s in ids)
    write_findings_csv(Reconciliation("a1", ids, findings, ids), out / "findings.csv")
    assert_exports(out)
    grades = (out / "grades.csv").read_text("utf-8")
    assert "'=1+1" in grades and "x;'=2+2;" in grades and "\\ud800lone" in grades and "\\x1b]52" in grades
    header, *rows = assert_csv(grades)
    alice = dict(zip(header, next(r for r in rows if r[0] == "alice")))
    assert (alice["total"], alice["max"], alice["softmax_values"]) == ("0", "2", "0")  # numbers stay numbers


def test_one_students_id_never_chooses_anothers_export_file(hostile_report, tmp_path):
    """``.alice`` and ``=alice`` make the file name ``alice`` too: alice's feedback stays alice's."""
    def graded(ids):
        return [Graded(s, "", 1, "h", Report.from_dict({**hostile_report.to_dict(), "submission": f"/class/{s}"}))
                for s in ids]

    ids = ("alice", ".alice", "=alice", "alice.", "bob")
    feedback = exports.export_feedback(graded(ids), tmp_path / "feedback")
    results = exports.export_gradescope(graded(ids), tmp_path / "gradescope")
    assert len(set(feedback)) == 2 * len(ids) and len(set(results)) == len(ids)
    for student, name in exports.file_names(ids).items():  # each page is titled with its own student's id
        assert (tmp_path / "feedback" / f"{name}.md").read_text("utf-8").splitlines()[0].endswith(f"`{student}`")
    assert {p.parent.name for p in results} == set(exports.file_names(ids).values()) and "alice" in str(results)
    assert exports.file_names(["=bob", "carol"]) == {"=bob": "bob", "carol": "carol"}  # no clash: names as before
    assert len({n.casefold() for n in exports.file_names(["alice", "Alice"]).values()}) == 2  # case-insensitive disks
    taken = exports.file_names(["alice", ".alice"])[".alice"]  # alice-xxxxxxxx, chosen as an id by someone else
    assert len(set(exports.file_names([".alice", "alice", taken]).values())) == 3


def test_gradebook_exports_and_lines_are_valid_and_inert(hostile_report, tmp_path):
    """Through the gradebook and the real commands: export, diff, show and list with hostile ids."""
    book = tmp_path / "gb.sqlite"
    stored = Report.from_dict(encodable_data(hostile_report.to_dict()))  # what a gradebook can hold
    passed = Report.from_dict({**stored.to_dict(), "checks": [
        {**c, "status": "passed", "score": c["max_score"], "message": ""} for c in stored.to_dict()["checks"]]})
    graded, missing, not_graded = _class(stored, IDS)
    with Gradebook(book) as gb:
        first = gb.start_run("a1", "0", 5, "1.3", {"node": "\x1b[2Jhost"}, {})
        second = gb.start_run("a1", "0", 5, "1.3", {"node": "host"}, {})
        for g in graded:
            gb.record(first, g.student, "h1", "0", "1.3", passed)
            gb.record(second, g.student, "h2", "0", "1.3", stored)
        gb.record(first, "\x1b]0;gone\x07", "h3", "0", "1.3", passed)
        for student, record in not_graded.items():
            gb.record_repository_failure(second, "a1", student, record)
        gb.set_names("a1", {**{g.student: g.name for g in graded}, **missing})
    for fmt, target in (("csv", "grades.csv"), ("canvas", "canvas.csv"), ("junit", "junit.xml"),
                        ("gradescope", "gradescope"), ("feedback", "feedback"), ("analytics", "class.html")):
        assert dlgrade("gradebook", "export", "--format", fmt, "-o", tmp_path / "out" / target,
                       "--gradebook", book).returncode == 0
    assert_exports(tmp_path / "out")
    diff = dlgrade("gradebook", "diff", "1", "2", "--gradebook", book)
    assert diff.returncode == 0
    text = diff.stdout.decode("utf-8")
    assert_terminal(text)
    assert "\\x1b]52" in text  # the clipboard-writing id, shown
    assert "graded only in run 1: \\x1b]0;gone\\x07" in text
    for args in (("show", IDS[3]), ("list",)):
        shown = dlgrade("gradebook", *args, "--gradebook", book)
        assert shown.returncode == 0
        assert_terminal(shown.stdout.decode("utf-8"))


def test_grade_lines_escape_ids(tmp_path):
    """`dlgrade grade`: the summary, missing and not-on-the-roster lines print ids with controls escaped.

    The submission prints terminal escapes but no lone surrogate: saving those in the gradebook is the
    class-isolation work of issue 21 point 1, not an output's.
    """
    root = tmp_path / "class"
    for student in ("\x1b]0;pwned\x07=1+1", "x;=2+2;"):
        (root / student).mkdir(parents=True)
        shutil.copyfile(ESCAPES_A1 / "mlp.py", root / student / "mlp.py")
    roster = tmp_path / "roster.csv"
    roster.write_text('id,name\n"x;=2+2;",X\n"\x1b[2Jgone\x07",Gone\n', encoding="utf-8")
    done = dlgrade("grade", "a1", root, "--gradebook", tmp_path / "gb.sqlite", "--task", "1.3", "--roster", roster,
                   "--jobs", "1")
    stderr = done.stderr.decode("utf-8")
    assert done.returncode in (0, 1), stderr
    assert "missing (on the roster, no submission): \\x1b[2Jgone\\x07" in stderr
    assert "not on the roster: \\x1b]0;pwned\\x07=1+1" in stderr
    assert dlgrade("gradebook", "export", "--format", "csv", "-o", tmp_path / "grades.csv", "--gradebook",
                   tmp_path / "gb.sqlite").returncode == 0
    students = [row[0] for row in assert_csv((tmp_path / "grades.csv").read_bytes())[1:]]
    assert sorted(students) == ["\\x1b[2Jgone\\x07", "\\x1b]0;pwned\\x07=1+1", "x;'=2+2;"]  # BEL shown: no split


# ------------------------------------------------------------------ a real spreadsheet

# LibreOffice's CSV import: separators (44 ',', 59 ';', 9 tab, 124 '|'), '"' quotes, UTF-8, from line 1, ...,
# token 13 "evaluate formulas" on: the most trusting import a TA could choose.
SEPARATORS = {"comma": "44", "semicolon": "59", "all": "44/59/9/124"}


def _spreadsheet_formulas(files: list[Path], separators: str, out: Path, profile: Path) -> dict[str, int]:
    """Convert each CSV with LibreOffice headless to flat ODS; the number of formula cells in each."""
    out.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        [shutil.which("soffice"), f"-env:UserInstallation={profile.as_uri()}", "--headless", "--infilter="
         f"Text - txt - csv (StarCalc):{separators},34,76,1,,0,false,true,false,false,false,-1,true",
         "--convert-to", "fods", "--outdir", str(out), *map(str, files)], capture_output=True, text=True, timeout=240)
    counts = {}
    for path in files:
        converted = out / f"{path.stem}.fods"
        assert converted.is_file(), done.stdout + done.stderr
        counts[path.name] = converted.read_text("utf-8").count("table:formula=")
    return counts


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("soffice") is None,
                    reason="LibreOffice is not installed (Debian: apt-get install libreoffice-calc-nogui)")
def test_libreoffice_finds_no_formula_in_any_csv_export(hostile_report, tmp_path):
    ids = IDS + SURROGATE_IDS
    graded, missing, not_graded = _class(hostile_report, ids)
    out = tmp_path / "csv"
    files = [*exports.export_csv(graded, missing, out / "grades.csv", not_graded, NAMES),
             *exports.export_canvas(graded, missing, out / "canvas.csv", "a1")]
    findings = tuple(Finding(s, f"{s}/result.json", "classroom50", "=1+1", "-1/36", "+3", s) for s in ids)
    files.append(write_findings_csv(Reconciliation("a1", ids, findings, ()), out / "findings.csv"))
    control = out / "control.csv"  # the same kind of cells written raw: the check must be able to fail
    control.write_text('id,total\n"x;=2+2;",1\n=1+1,2\n"a|=3+3",3\n', encoding="utf-8")
    assert formula_parts(control.read_text())
    for name, separators in SEPARATORS.items():
        counts = _spreadsheet_formulas([*files, control], separators, tmp_path / name, tmp_path / "profile")
        assert counts.pop("control.csv") > 0, name
        assert counts == {f.name: 0 for f in files}, (name, counts)
    comma = (tmp_path / "comma" / "grades.fods").read_text("utf-8")
    assert 'office:value-type="float" office:value="2"' in comma  # the max column is a number, not text

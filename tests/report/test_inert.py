"""Every output is valid and inert for its consumer, whatever text a student put in a report (issue 21, 2-4).

A hand-made report carries hostile text in every field a submission reaches:
lone surrogates, noncharacters, terminal controls, spreadsheet formulas,
Markdown and HTML. Each format is read back with its consumer's parser
(``tests.report.inert``). The helpers that make this so are tested on their
own: ``literal`` against a real CommonMark renderer, ``spreadsheet`` against
every way of splitting a line.
"""

from __future__ import annotations

import base64
import csv
import html
import io
import re
from xml.etree import ElementTree as ET

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from grader.report import classroom50, formats, github, gradescope, render
from grader.report.literal import code_span, fence, plain
from grader.report.points import score_line
from grader.report.sanitize import visible, xml_text
from grader.report.spreadsheet import SafeWriter, cell, defuse, open_csv
from grader.result import CheckResult, Report
from tests.report.inert import (
    _MARKDOWN,
    MARKERS,
    assert_csv,
    assert_html,
    assert_json,
    assert_markdown,
    assert_terminal,
    assert_xml,
    formula_parts,
)

# What a submission can put in a message or its output (the red-team submission raises and prints the same).
HOSTILE = ("\ud800 \udcff \uffff \ufffe \ufdd0 \x00\x0b\x0c\x1b[2J\x1b]0;title\x07\r\u202e \x9b31m =1+1 x;=2+2;"
           "@SUM(A1)|-3 +4 \t=5 <img src=x onerror=alert(1)> <script>alert(1)</script> </pre> ]]> & &amp; "
           "[link](https://evil.invalid) ![img](https://evil.invalid/x.png) **bold** _it_ ~~s~~ $x$ @user "
           "``` ```` | cell | a\\|b\n# 36 / 36\n<h1>36 / 36</h1>\n```\n## ✓ all passed\n``````")
# A check's name is the course's text, but a reporter must cope with any: markup, no URL or marker.
NAME = "**x** <b>|y|</b> [z](u) _w_ \x1b[2J \ud800 #"

REPORT = Report(
    assignment="a1",
    submission=f"/class/{HOSTILE}",
    checks=(
        CheckResult("ok", "1.1", "Linear.forward", "passed", 2, 2, duration_s=0.04),
        CheckResult("bad", "1.1", NAME, "failed", 0.5, 2, message=HOSTILE, hint=HOSTILE, output=HOSTILE * 3,
                    details={"note": HOSTILE, HOSTILE: [HOSTILE]}),
        CheckResult("crash", "1.3", "softmax: values", "error", 0, 1, message=HOSTILE, output=HOSTILE),
        CheckResult("slow", "1.6", "Training: XOR", "timeout", 0, 2, message=HOSTILE),
        CheckResult("skip", "1.5", "Adam", "skipped", 0, 1, message=HOSTILE),
    ),
    diagnostics={"seed": 3, "submission_notes": [HOSTILE], "interrupted": HOSTILE},
)
CHECKERS = {"terminal": assert_terminal, "json": assert_json, "gradescope": assert_json, "junit": assert_xml,
            "html": assert_html, "markdown": assert_markdown}


@pytest.mark.parametrize("name", formats())
def test_every_report_format_is_valid_and_inert(name):
    text = render(REPORT, name)
    CHECKERS.get(name, assert_terminal)(text)
    assert "\\ud800" in text or "\\\\ud800" in text, "the surrogate is shown, not dropped"
    if name == "junit":
        assert "\\uffff" in text and "\\ufdd0" in text  # escaped visibly, not dropped


def test_ci_outputs_are_valid_and_inert():
    import json

    env = {"CLASSROOM": "c", "ASSIGNMENT": "a1", "USERNAME": "alice", "SUBMISSION_TAG": "submit/1",
           "COMMIT_URL": "https://x/c", "RELEASE_URL": "https://x/r"}
    result = classroom50.classroom50_result(REPORT, env)
    assert classroom50.validate(assert_json(json.dumps(result)), env) == []
    assert_json(json.dumps(gradescope.gradescope_results(REPORT)))
    for payload in github.encoded_payloads(REPORT).values():
        assert_json(base64.b64decode(payload))
    heading = f"dlgrade a1: {score_line(REPORT).points}"
    rendered = assert_markdown(github.step_summary(REPORT), headings=(heading,))
    assert "<pre><code" in rendered and "evil.invalid" in rendered  # shown, inside code
    for line in github.annotations(REPORT, {"mlp.py": "src/mlp.py"}):
        assert_terminal(line)
        assert line.startswith(("::error ", "::warning ")) and "\n" not in line


def test_markdown_step_summary_shows_the_student_text_literally():
    rendered = _MARKDOWN.render(github.step_summary(REPORT))
    blocks = [html.unescape(b) for b in re.findall(r"<pre><code[^>]*>(.*?)</code></pre>", rendered, re.S)]
    assert visible(HOSTILE) + "\n" in blocks  # the message, character for character as `visible` shows it


# ------------------------------------------------------------------ Markdown literals, by a CommonMark renderer

MARKDOWN_CHARS = st.text(alphabet=st.sampled_from(list("`|\\ *_[]()<>&!#~$@:/.-=+\nab1") + ["\ud800", "\x1b"]),
                         max_size=40)


def _inner(rendered: str, tag: str) -> list[str]:
    return [html.unescape(x) for x in re.findall(rf"<{tag}[^>]*>(.*?)</{tag}>", rendered, re.S)]


@settings(max_examples=150, deadline=None)
@given(MARKDOWN_CHARS)
def test_code_span_and_fence_render_exactly_the_visible_text(text):
    shown = visible(text, keep_newlines=False)
    if shown:
        assert _inner(_MARKDOWN.render(f"x {code_span(text)} y"), "code") == [shown]
    assert _inner(_MARKDOWN.render(fence(text)), "code") == [visible(text) + "\n"]


@settings(max_examples=150, deadline=None)
@given(MARKDOWN_CHARS)
def test_plain_text_renders_as_itself_even_in_a_table_cell(text):
    shown = visible(text, keep_newlines=False).strip(" ")
    paragraph = _inner(_MARKDOWN.render(f"x {plain(text)} y"), "p")
    assert [re.sub(" +", " ", p) for p in paragraph] == [re.sub(" +", " ", f"x {shown} y")]
    table = _MARKDOWN.render(f"| a | b |\n| --- | --- |\n| {plain(text)} | z |\n")
    assert _inner(table, "td") == [shown, "z"], table


def test_markdown_report_keeps_student_text_out_of_markup():
    rendered = assert_markdown(render(REPORT, "markdown"))
    assert "<strong>bold</strong>" not in rendered and "<em>it</em>" not in rendered
    assert all(marker in rendered for marker in MARKERS)  # shown, not dropped


# ------------------------------------------------------------------ spreadsheets

CSV_CHARS = st.text(alphabet=st.sampled_from(list("=+-@\t\r\n,;| \"'a1.") + ["\ud800", "\x1b"]), max_size=30)


@settings(max_examples=200, deadline=None)
@given(CSV_CHARS)
def test_defused_text_starts_no_formula_however_it_is_split(text):
    out = defuse(text)
    assert formula_parts(out) == [], (text, out)
    assert defuse(out) == out  # a second pass changes nothing
    buffer = io.StringIO(newline="")
    SafeWriter(buffer).writerow([text, 1])
    assert assert_csv(buffer.getvalue())[0] == [out, "1"]


@pytest.mark.parametrize("text, shown", [
    ("x;=1+1;", "x;'=1+1;"), ("=1", "'=1"), ("@SUM(A1)", "'@SUM(A1)"), ("-2+3", "'-2+3"), ("+1", "'+1"),
    ("\t=1", "'\t'=1"), ("a|=1", "a|'=1"), ('a,"=1"', "a,'\"=1\""), (" =1", "' =1"), ("a\r=1", "a\\x0d=1"),
    ("Mary-Jane O'Neil", "Mary-Jane O'Neil"), ("3.5", "3.5"), ("\x1b]0;t\x07", "\\x1b]0;t\\x07"),
    ("\ud800=1", "\\ud800=1"), ("", "")])
def test_defuse(text, shown):
    assert defuse(text) == shown


def test_numbers_stay_numbers_and_text_is_defused():
    assert [cell(v) for v in (-1, 3.5, 2.0, 0, None, "-1", float("nan"))] == [-1, "3.5", "2", 0, "", "'-1", ""]
    rows = assert_csv(_write([["=bob", -1, 3.5, "x;@y"]]))
    assert rows == [["'=bob", "-1", "3.5", "x;'@y"]]


def _write(rows) -> str:
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "sub" / "t.csv"
        with open_csv(path) as writer:
            writer.writerows(rows)
        return path.read_bytes().decode("utf-8")


def test_the_csv_checker_finds_a_formula_it_should():
    """The checker the export tests rely on can fail: raw formulas, split or not, are found."""
    for text in ("=1+1,x\n", "a,b;=1\n", '"x;=1",2\n', "a|@b\n", "a\t-c\n"):
        assert formula_parts(text), text
    assert formula_parts("a,-1,3.5,'=1\n") == []


# ------------------------------------------------------------------ XML and terminal

def test_xml_text_escapes_what_xml_forbids():
    assert xml_text("a\uffff\ufffe\ufdd0\x0b\ud800") == "a\\uffff\\ufffe\\ufdd0\\x0b\\ud800"
    assert xml_text(xml_text("\uffff")) == xml_text("\uffff")


def test_visible_makes_lone_surrogates_encodable():
    assert visible("a\ud800b\udcff") == "a\\ud800b\\xff"
    assert visible(visible("\ud800\x1b")) == visible("\ud800\x1b")
    visible("\ud800" * 3).encode("utf-8")


def test_the_checkers_reject_what_they_should():
    for checker, bad in ((assert_json, '{"a": "\\ud800"}'), (assert_json, '{"a": NaN}'),
                         (assert_xml, "<a>\uffff</a>"), (assert_terminal, "a\x1b[2J"),
                         (assert_html, "<p><img src=x onerror=alert(1)></p>"),
                         (assert_markdown, "# dlgrade\n![img](https://evil.invalid/x.png)\n"),
                         (assert_markdown, "# dlgrade\nsee https://evil.invalid <b>36 / 36</b>\n"),
                         (assert_markdown, "## 36 / 36\n"), (assert_csv, "a;=1\n")):
        with pytest.raises((AssertionError, ValueError, ET.ParseError)):
            checker(bad)
    assert list(csv.reader(io.StringIO("a,b\n"))) == assert_csv("a,b\n")

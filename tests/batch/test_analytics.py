"""The class analytics page: common mistakes, suspicious pairs, embedded plots, rendered in headless Chromium."""

from __future__ import annotations

import base64
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from grader.batch.analytics import render_page
from grader.batch.similarity import common_mistakes, suspicious_pairs
from grader.result import CheckResult, Report

ROOT = Path(__file__).resolve().parents[2]
CHECKS = [f"c{i}" for i in range(6)]


def report(student: str, wrong: dict[str, str]) -> Report:
    return Report("a1", student, tuple(
        CheckResult(c, "1.1", f"check {c}", "failed" if c in wrong else "passed", 0.0 if c in wrong else 1.0, 1.0,
                    message=wrong.get(c, ""), hint="a hint" if c in wrong else "", duration_s=0.01 * (i + 1))
        for i, c in enumerate(CHECKS)))


def a_class() -> dict[str, Report]:
    reports = {f"s{i:02d}": report(f"s{i:02d}", {"c0": "got 0.25, expected 0.5"} if i % 2 else {})
               for i in range(40)}  # a common bug: half the class, one message
    copied = {"c1": "got 1.2345", "c2": "got [3, 1]", "c3": "raised KeyError: 'w'", "c0": "got 0.25, expected 0.5"}
    reports["copier"], reports["source"] = report("copier", copied), report("source", copied)
    reports["alone"] = report("alone", {"c1": "got 9.9", "c2": "got [0]", "c3": "raised KeyError: 'w'"})
    return reports


def test_common_mistakes_are_counted_per_check():
    mistakes = common_mistakes(a_class())
    assert mistakes["c0"][0].count == 22 and mistakes["c0"][0].message == "got 0.25, expected 0.5"
    assert mistakes["c3"][0].count == 3 and mistakes["c0"][0].hint == "a hint"


def test_only_rare_identical_wrong_outputs_on_enough_checks_make_a_pair():
    pairs = suspicious_pairs(a_class(), min_checks=3)
    assert [(p.first, p.second, p.checks) for p in pairs] == [("copier", "source", ("c1", "c2", "c3"))]
    assert suspicious_pairs(a_class(), min_checks=4) == []  # the common bug on c0 is not evidence


class Images(HTMLParser):
    def __init__(self):
        super().__init__()
        self.sources = []

    def handle_starttag(self, tag, attrs):
        if tag == "img":
            self.sources.append(dict(attrs)["src"])


def test_page_embeds_decodable_pngs_and_escapes_student_text():
    reports = a_class()
    reports["hostile"] = report("hostile", {"c4": "<script>alert(1)</script>\x1b[2J"})
    html = render_page("a1", reports, missing=["ghost"])
    parser = Images()
    parser.feed(html)
    assert len(parser.sources) == 3
    for source in parser.sources:
        assert source.startswith("data:image/png;base64,")
        assert base64.b64decode(source.split(",", 1)[1]).startswith(b"\x89PNG")
    assert "<script>" not in html and "&lt;script&gt;" in html and "\x1b" not in html
    assert "copier" in html and "ghost" in html and "http" not in html.replace("http-equiv", "")


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


@pytest.mark.skipif(_chromium() is None, reason="no chromium on this machine (apt-get install -y chromium)")
def test_headless_chromium_renders_the_plots(tmp_path):
    page = tmp_path / "class.html"
    page.write_text(render_page("a1", a_class(), missing=["ghost"]), encoding="utf-8")
    shot = tmp_path / "shot.png"
    base = [_chromium(), "--headless", "--no-sandbox", "--disable-gpu", f"--user-data-dir={tmp_path / 'profile'}"]
    subprocess.run([*base, f"--screenshot={shot}", "--window-size=1000,2600", page.as_uri()], capture_output=True,
                   timeout=120)
    dom = subprocess.run([*base, "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=120).stdout
    assert len(re.findall(r'<img alt="[^"]+" src="data:image/png;base64,', dom)) == 3
    assert shot.is_file()
    from matplotlib.image import imread

    pixels = imread(shot)
    assert pixels.shape[0] > 1000 and pixels.std() > 0.05  # not a blank page: the plots were drawn
    # the plots occupy their place: many non-white pixels in the band where the histogram is drawn
    band = pixels[150:600, :700, :3]
    assert (band.mean(axis=2) < 0.9).mean() > 0.02


def test_mistakes_and_failures_name_their_students():
    from grader.batch.similarity import failures

    mistakes = common_mistakes(a_class())
    assert mistakes["c3"][0].students == ("alone", "copier", "source")
    assert failures(a_class())["c1"] == ["alone", "copier", "source"]


class Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links = []

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            self.links.append(dict(attrs)["href"])


def test_page_names_who_failed_each_check_and_links_their_feedback_escaped():
    reports = a_class()
    hostile = '"><script>alert(1)</script>'
    reports[hostile] = report(hostile, {"c5": "got <img src=x onerror=alert(2)>"})
    names = {"copier": "Cop <b>Ier</b>", "s01": "Ann & Bo"}
    html = render_page("a1", reports, names=names, feedback="../feedback/")
    assert "<script>" not in html and "<img src=x" not in html and "<b>Ier" not in html
    assert "copier (Cop &lt;b&gt;Ier&lt;/b&gt;)" in html and "s01 (Ann &amp; Bo)" in html
    parser = Links()
    parser.feed(html)
    assert "../feedback/copier.html" in parser.links and "../feedback/s01.html" in parser.links
    assert all(link.startswith("../feedback/") and "<" not in link and '"' not in link for link in parser.links)
    who = html.split("<h2>Who did not pass each check</h2>")[1].split("<h2>")[0]
    row = next(r for r in who.split("<tr>") if r.startswith("<td>1.1 check c5"))
    assert row.count("<a href") == 1 and ">1: <a" in row.replace("</td><td>", ">")
    mistakes = html.split("<h2>Most common wrong outcomes per check</h2>")[1].split("<h2>")[0]
    assert "22: " in mistakes and 'href="../feedback/s01.html"' in mistakes
    assert "href" not in render_page("a1", reports)  # no folder given: names only


def hand_graded_book(tmp_path):
    from grader.batch.gradebook import Gradebook

    path = tmp_path / "gb.sqlite"
    with Gradebook(path) as gb:
        run = gb.start_run("a1", "0.1.0", 5, "*", {"node": "x"}, {})
        for student, r in a_class().items():
            gb.record(run, student, f"h-{student}", "0.1.0", "*", r)
            gb.keep_sources("a1", f"h-{student}", {"mlp.py": (ROOT / "reference" / "a1" / "mlp.py").read_text()}
                            if student in ("copier", "source") else {})
        gb.set_names("a1", {"copier": "Cop Ier", "ghost": "Never Submitted"})
    return path


def test_analytics_export_links_to_the_feedback_export_and_shows_similar_code(tmp_path):
    from grader.batch.api import export_grades

    book = hand_graded_book(tmp_path)
    page = export_grades(book, "analytics", tmp_path / "out" / "class.html", feedback_dir=tmp_path / "fb")[0]
    written = export_grades(book, "feedback", tmp_path / "fb")
    html = page.read_text()
    parser = Links()
    parser.feed(html)
    assert parser.links and all((page.parent / link).resolve() in {p.resolve() for p in written}
                                for link in parser.links)
    similar = html.split("<h2>Similar code")[1]
    assert "copier (Cop Ier)" in similar and "100%" in similar and "yes" in similar
    assert "ghost (Never Submitted)" in html


def test_cli_show_check_lists_who_failed_with_the_first_line(tmp_path):
    from click.testing import CliRunner

    from grader.cli import main

    book = hand_graded_book(tmp_path)
    result = CliRunner().invoke(main, ["gradebook", "show", "--check", "c1", "--gradebook", str(book)])
    assert result.exit_code == 0, result.output
    assert "Did not pass c1 (a1): 3" in result.output
    assert "copier" in result.output and "Cop Ier" in result.output and "got 1.2345" in result.output
    assert "s01" not in result.output
    clean = CliRunner().invoke(main, ["gradebook", "show", "--check", "c4", "--gradebook", str(book)])
    assert clean.exit_code == 0 and "every student graded for a1 passed c4" in clean.output
    for args, gist in [(("show", "--check", "nope"), "a1 has no check 'nope'"),
                       (("show", "copier", "--check", "c1"), "give a STUDENT or --check ID, not both")]:
        failed = CliRunner().invoke(main, ["gradebook", *args, "--gradebook", str(book)])
        assert failed.exit_code == 2 and gist in failed.output, failed.output

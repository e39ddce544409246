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

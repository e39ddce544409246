"""What "valid and inert for its consumer" means, one checker per consumer, each with its real parser.

Shared by the report tests and the red-team output tests. Every checker raises
AssertionError with the offending piece when an output is malformed for its
reader or lets student text act (a formula, markup, a terminal control).
"""

from __future__ import annotations

import csv
import io
import json
import re
from html.parser import HTMLParser
from xml.etree import ElementTree as ET

from markdown_it import MarkdownIt

from grader.report.sanitize import is_visible

# Pieces of the hostile text that must never become markup: each may appear only as shown text.
MARKERS = ("evil.invalid", "36 / 36", "onerror", "alert(1)", "SUM(A1)")
CSV_TRIGGERS = "=+-@\t\r"
CSV_SPLITS = re.compile("[,;\t|\r\n]")


def utf8(data: bytes | str) -> str:
    """The text of a file: strict UTF-8 (no lone surrogate could have been written)."""
    if isinstance(data, str):
        data.encode("utf-8")  # raises on a lone surrogate
        return data
    return data.decode("utf-8")


def _strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(key)
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _no_constant(name: str):
    raise AssertionError(f"JSON holds {name}, which strict parsers refuse")


def assert_json(data: bytes | str):
    """Strict UTF-8 JSON, no NaN, no lone surrogate in any string (even as a ``\\ud800`` escape), no control."""
    document = json.loads(utf8(data), parse_constant=_no_constant)
    for text in _strings(document):
        text.encode("utf-8")
        assert is_visible(text), text
    return document




def assert_xml(data: bytes | str) -> ET.Element:
    """A well-formed XML 1.0 document (expat refuses U+FFFF and raw controls) with no raw control character."""
    text = utf8(data)
    root = ET.fromstring(text.encode("utf-8"))
    for element in root.iter():
        for piece in (element.text or "", element.tail or "", *element.attrib.values()):
            assert is_visible(piece.replace("\r", "")), piece  # an attribute's newline is &#10;, fine
            assert not any(c in piece for c in "\ufffe\uffff\ufdd0"), piece
    return root


def assert_terminal(data: bytes | str) -> None:
    """Nothing a terminal would obey: no ESC, CSI, BEL, backspace, carriage return, bidi override..."""
    text = utf8(data)
    assert is_visible(text), [c for c in text if not is_visible(c) and c not in "\t\n"]


class _Tags(HTMLParser):
    """The elements and attributes of an HTML text, and the text found outside ``code``/``pre``."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []
        self.depth = 0
        self.loose_text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag in ("code", "pre"):
            self.depth += 1

    def handle_endtag(self, tag):
        if tag in ("code", "pre"):
            self.depth -= 1

    def handle_data(self, data):
        if self.depth == 0:
            self.loose_text.append(data)


HTML_TAGS = {"html", "head", "meta", "title", "style", "body", "h1", "h2", "p", "table", "tr", "th", "td", "pre",
             "code", "b", "i", "span", "img", "thead", "tbody", "strong", "em", "a", "ul", "li"}


def assert_html(data: bytes | str, *, markers_only_in_code: bool = False) -> _Tags:
    """HTML whose every element is one the grader writes: no script, link, or image but its own embedded PNGs."""
    text = utf8(data)
    parser = _Tags()
    parser.feed(text)
    parser.close()
    for tag, attrs in parser.tags:
        assert tag in HTML_TAGS, (tag, attrs)
        assert not any(name.startswith("on") for name in attrs), (tag, attrs)
        if tag == "img":
            assert attrs.get("src", "").startswith("data:image/png;base64,"), attrs
        if tag == "a":  # the class page links each student to their feedback page: a relative file name, no more
            assert set(attrs) == {"href"} and re.fullmatch(r"[A-Za-z0-9._%@+-]+(/[A-Za-z0-9._%@+-]+)*",
                                                           attrs["href"]) and ":" not in attrs["href"], attrs
            continue  # a file name made from a hostile id may spell a marker, harmlessly
        for value in attrs.values():
            assert not any(marker in (value or "") for marker in MARKERS), (tag, attrs)
    if markers_only_in_code:
        loose = "".join(parser.loose_text)
        assert not any(marker in loose for marker in MARKERS), loose
    assert is_visible(text.replace("\r", "")), "raw control character in HTML"
    return parser


_MARKDOWN = MarkdownIt("commonmark", {"html": True}).enable("table")


def assert_markdown(data: bytes | str, *, headings: tuple[str, ...] = ("dlgrade", "✗", "!", "⏱", "?", "·", "-")) -> str:
    """Markdown that, rendered as GitHub would (raw HTML allowed, tables), shows student text only as code.

    Every hostile marker lands inside ``code``/``pre`` (so no autolink, link, image, emphasis or HTML),
    and every heading is one the grader writes. Returns the rendered HTML.
    """
    text = utf8(data)
    assert_terminal(text)
    rendered = _MARKDOWN.render(text)
    parser = assert_html(rendered, markers_only_in_code=True)
    for tag, _ in parser.tags:
        assert tag not in ("img", "a", "script", "h3", "h4", "h5", "h6"), tag
    for heading in re.findall(r"<h[12]>(.*?)</h[12]>", rendered, re.S):
        assert heading.startswith(headings), heading
    return rendered


def formula_parts(text: str) -> list[str]:
    """Every piece of a CSV file's raw text that a spreadsheet splitting on ``,``, ``;``, tab or ``|`` would evaluate.

    A piece starts the file or follows a separator or line break; leading spaces and double quotes are what a
    spreadsheet strips. A piece that is a number (``-1``, ``3.5``) is a number, not a formula.
    """
    found = []
    for piece in CSV_SPLITS.split(text):
        start = piece.lstrip(' "')
        if start[:1] and start[0] in CSV_TRIGGERS:
            try:
                float(start.rstrip('"'))
            except ValueError:
                found.append(piece)
    return found


def assert_csv(data: bytes | str) -> list[list[str]]:
    """Strict UTF-8 CSV that Python reads back, with no formula for any way of splitting it; returns its rows."""
    text = utf8(data)
    assert formula_parts(text) == [], formula_parts(text)
    assert is_visible(text.replace("\r\n", "\n")), "raw control character in CSV"
    return list(csv.reader(io.StringIO(text)))

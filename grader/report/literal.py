"""Student text inside Markdown, shown literally: never a heading, a link, an image or HTML of its own.

A message or printed line can hold Markdown and HTML (``## 36 / 36``, ``![x](url)``,
``<img src=...>``, a bare URL that GitHub links by itself). Written into the
GitHub step summary or a feedback file as it is, it renders as the grader's own
content. Here such text goes into code spans and fenced blocks whose backtick
run is longer than any run in the text, so nothing inside can close them, and
CommonMark shows code verbatim: no emphasis, link, autolink, entity or HTML in
it is interpreted. Text kept outside code (``plain``) has each character that could
start Markdown backslash-escaped and ``<``, ``>``, ``&`` written as entities.

Every function applies ``visible`` first (control characters and lone
surrogates become escapes such as ``\\x1b``).
"""

from __future__ import annotations

import re

from grader.report.sanitize import visible

__all__ = ["code_span", "fence", "plain"]

_BACKTICKS = re.compile("`+")
# What starts Markdown or HTML in the middle of a line: escapes, code, emphasis, links and images, HTML and
# entities, table cells, strikethrough, GitHub's math and @mentions, a heading's closing #s.
_PUNCTUATION = re.compile(r"[\\`*_\[\]<>&|~$#!@]")
_ENTITIES = {"<": "&lt;", ">": "&gt;", "&": "&amp;"}


def _escape(match: re.Match) -> str:
    char = match.group()
    return _ENTITIES.get(char) or "\\" + char


def _longest_run(text: str) -> int:
    return max((len(run) for run in _BACKTICKS.findall(text)), default=0)


def code_span(text: object) -> str:
    """``text`` on one line as an inline code span (newlines shown as ``\\x0a``); empty text gives ``""``.

    The delimiter is one backtick longer than the longest run in the text; where needed a
    space pads each side (CommonMark strips exactly one from each), so a leading or trailing
    backtick or space stays part of the text. Not for a GFM table cell, where a ``|`` splits
    even a code span: use ``plain`` there.
    """
    shown = visible(text, keep_newlines=False)
    if not shown:
        return ""
    ticks = "`" * (_longest_run(shown) + 1)
    # CommonMark strips one space from each end when both ends have one (unless it is all spaces): pad where a
    # backtick at an end would join the delimiter, or where that stripping would eat the text's own spaces.
    ends = shown[0] + shown[-1]
    pad = " " if "`" in ends or (ends == "  " and shown.strip(" ")) else ""
    return f"{ticks}{pad}{shown}{pad}{ticks}"


def fence(text: object, info: str = "text") -> str:
    """``text`` (newlines kept) as a fenced code block that no line of it can close."""
    shown = visible(text)
    ticks = "`" * max(3, _longest_run(shown) + 1)
    return f"{ticks}{info}\n{shown}\n{ticks}"


def plain(text: object) -> str:
    """``text`` on one line as ordinary Markdown text that renders as exactly these characters.

    For short text in the middle of a line that should not look like code (a check's name, a table
    cell). Each punctuation character that can start Markdown there is backslash-escaped (CommonMark
    allows it for every ASCII punctuation) and ``<``, ``>``, ``&`` become entities, so no emphasis,
    link, image, math or HTML can start; ``.``, ``:`` and the like stay as they are. In a
    GFM table cell a ``|`` cannot split the cell either: it is ``\\|`` and every backslash before
    it is itself escaped. A bare URL may still be linked by GitHub: put URLs in ``code_span``.
    """
    return _PUNCTUATION.sub(_escape, visible(text, keep_newlines=False))

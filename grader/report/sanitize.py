"""Make student-supplied text safe to show: every control character becomes visible text.

Student code can print, or put into an exception message, escape sequences that
a terminal obeys: a fake green "Score 36/36" line, a screen clear, a carriage
return that overwrites the real score, an OSC 8 hyperlink, a bell. Every
reporter (terminal, JSON, Markdown, and any a course adds) passes each piece of
text that may hold student data through ``visible`` before writing it, so such
sequences appear as harmless text such as ``\\x1b[32m`` and never act.

``visible`` also makes the text encodable first (``grader.text.encodable``): a lone
surrogate that student code raised or printed becomes ``\\ud800``, so no report,
JSON file or terminal line fails to encode, and no JSON holds a lone surrogate.
``xml_text`` adds what XML 1.0 needs on top (no noncharacter such as U+FFFF).

This is a stable public name: ``from grader.report.sanitize import visible``.
"""

from __future__ import annotations

import re
import unicodedata

from grader.text import encodable, xml_chars

__all__ = ["visible", "visible_data", "xml_text"]

# C0 controls except tab and newline, DEL, the C1 controls (U+0080..U+009F, e.g. the 8-bit CSI U+009B), and
# the Unicode line/paragraph separators and bidirectional overrides that reorder or split what a reader sees.
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]")


def _escape(match: re.Match) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def visible(text: object, *, keep_newlines: bool = True) -> str:
    """``text`` with every control character written out as an escape (``ESC`` becomes ``\\x1b``).

    Tabs are kept, and newlines too unless ``keep_newlines`` is false (then ``\\n``
    is written as ``\\x0a``, for one-line fields). A carriage return is always
    escaped, since it lets a line overwrite the one shown before it. Non-strings
    are converted with ``str`` first; a lone surrogate is written as ``\\udxxx`` (an
    undecodable byte of a file name as ``\\xNN``, see ``grader.text.encodable``), so the
    result always encodes to UTF-8. Printable Unicode is left alone.
    """
    escaped = _UNSAFE.sub(_escape, encodable(text))
    if not keep_newlines:
        escaped = escaped.replace("\n", "\\x0a")
    return escaped


def visible_data(value):
    """``visible`` applied to every string inside nested lists, tuples and dicts (keys too)."""
    if isinstance(value, str):
        return visible(value)
    if isinstance(value, dict):
        return {visible(k) if isinstance(k, str) else k: visible_data(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(visible_data(v) for v in value)
    return value


def xml_text(text: object, *, keep_newlines: bool = True) -> str:
    """``visible`` text that also holds only characters XML 1.0 allows (U+FFFF and the like escaped visibly).

    Escape ``<``, ``&`` and quotes afterwards (``xml.sax.saxutils`` or ElementTree does): the result is then
    valid in any element or attribute, so one student's noncharacter cannot make a JUnit file unreadable.
    """
    return xml_chars(visible(text, keep_newlines=keep_newlines))


def is_visible(text: str) -> bool:
    """True when ``text`` holds no character that ``visible`` would escape (for tests and assertions)."""
    return _UNSAFE.search(text) is None and all(unicodedata.category(c) != "Cc" or c in "\t\n" for c in text)

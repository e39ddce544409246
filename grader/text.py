"""Text from outside the grader, made always encodable: the one gate every student-controlled string passes.

A submission, a repository or an LMS download can hand the grader text that
Python holds but no output can write: a file name that is not UTF-8 (``os.listdir``
returns it with lone surrogates, ``surrogateescape``), bytes from git (paths,
author names), or a lone surrogate that student code put into an exception
message or printed. Written as it is, such a string raises ``UnicodeEncodeError``
in the middle of a report, a JSON file or a gradebook row, and a class run stops
at the first student who has one.

Each function here returns a ``str`` that encodes to UTF-8 whatever it was given,
with what could not be kept written out visibly (``\\xff`` for an undecodable
byte, ``\\ud800`` for a lone surrogate), so a reader sees that something was
there and what. Format-specific escaping (terminal controls, XML, CSV, Markdown)
is built on top of these in ``grader.report``.
"""

from __future__ import annotations

import os
import re

__all__ = ["from_bytes", "from_os", "encodable", "encodable_data", "xml_chars"]

# Lone surrogates. ``surrogateescape`` maps an undecodable byte 0xNN (0x80..0xFF) to U+DCNN.
_SURROGATE = re.compile("[\ud800-\udfff]")
# Characters XML 1.0 does not allow at all (C0 controls but tab, LF and CR; U+FFFE, U+FFFF; surrogates),
# and the noncharacters U+FDD0..U+FDEF it discourages: a strict parser rejects the whole document for one.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufdd0-\ufdef\ufffe\uffff]")


def _surrogate_escape(match: re.Match) -> str:
    code = ord(match.group())
    if 0xDC80 <= code <= 0xDCFF:  # an undecodable byte carried by surrogateescape
        return f"\\x{code - 0xDC00:02x}"
    return f"\\u{code:04x}"


def encodable(text: object) -> str:
    """``text`` as a string that always encodes to UTF-8: lone surrogates become visible escapes.

    A byte that ``surrogateescape`` carried (U+DC80..U+DCFF) is written as the byte
    it stands for (``\\xff``); any other lone surrogate as ``\\udxxx``. Everything
    else, printable or not, is left alone: escaping controls is each consumer's job.
    """
    text = text if isinstance(text, str) else str(text)
    return _SURROGATE.sub(_surrogate_escape, text) if _SURROGATE.search(text) else text


def from_bytes(data: bytes | str) -> str:
    """Bytes of unknown encoding (a git path, an author name) as text: UTF-8, undecodable bytes as ``\\xNN``."""
    if isinstance(data, str):
        return encodable(data)
    return encodable(data.decode("utf-8", "surrogateescape"))


def from_os(name: str | bytes | os.PathLike) -> str:
    """A file name as the system gave it (``os.listdir``, ``Path.name``, a zip member) as encodable text."""
    return from_bytes(os.fsdecode(name) if isinstance(name, os.PathLike) else name)


def encodable_data(value):
    """``encodable`` applied to every string inside nested lists, tuples and dicts (keys too)."""
    if isinstance(value, str):
        return encodable(value)
    if isinstance(value, dict):
        return {encodable_data(k): encodable_data(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(encodable_data(v) for v in value)
    return value


def _xml_escape(match: re.Match) -> str:
    code = ord(match.group())
    if 0xDC80 <= code <= 0xDCFF:
        return f"\\x{code - 0xDC00:02x}"
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def xml_chars(text: object) -> str:
    """``text`` holding only characters XML 1.0 allows (and no discouraged noncharacter): others visibly escaped.

    Apply before XML-escaping ``<``, ``&`` and quotes; the result is valid in any
    element or attribute of an XML 1.0 document.
    """
    text = text if isinstance(text, str) else str(text)
    return _NOT_XML.sub(_xml_escape, text)

"""The one gate for outside text: whatever goes in comes out as a str that UTF-8 and XML 1.0 accept."""

import json
import os
from xml.etree import ElementTree

from hypothesis import given
from hypothesis import strategies as st

from grader.text import encodable, encodable_data, from_bytes, from_os, xml_chars


def test_lone_surrogate_becomes_a_visible_escape():
    assert encodable("boom \ud800 here") == "boom \\ud800 here"
    assert encodable("ok") == "ok"


def test_non_utf8_file_name_keeps_its_byte_visibly():
    raw = b"caf\xe9.py"  # Latin-1, as unzip makes of a Windows zip
    name = os.fsdecode(raw)
    assert from_os(name) == "caf\\xe9.py"
    assert from_os(raw) == "caf\\xe9.py"
    assert from_bytes(b"na\xc3\xafve") == "naïve"


def test_nested_data_is_made_encodable_keys_too():
    data = {"\udcff": ["a\ud800", ("b",)], "n": 3}
    cleaned = encodable_data(data)
    json.dumps(cleaned, ensure_ascii=False).encode("utf-8")
    assert cleaned == {"\\xff": ["a\\ud800", ("b",)], "n": 3}


def test_xml_chars_removes_what_xml_forbids():
    text = "bad \uffff \ufffe \x00 \x1b \ud800 \ufdd0 ok\ttab\nline"
    out = xml_chars(text)
    ElementTree.fromstring(f"<a>{out.replace('&', '&amp;').replace('<', '&lt;')}</a>".encode())
    assert "\\uffff" in out and "\\x1b" in out and "\\ud800" in out and "\tt" in out


@given(st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=0x10FFFF)))
def test_any_text_encodes(text):
    encodable(text).encode("utf-8")
    out = xml_chars(encodable(text))
    ElementTree.fromstring(f"<a>{out.replace('&', '&amp;').replace('<', '&lt;')}</a>".encode())

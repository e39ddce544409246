"""The small subset of YAML in Gradescope's ``submission_metadata.yml``, without a YAML library.

Gradescope writes Ruby-flavoured YAML: a mapping of ``submission_NNN`` folders,
each with a ``:submitters:`` list of ``:name:`` / ``:sid:`` / ``:email:``
mappings, and each submission's own scalar fields (``:created_at:``, ``:score:``, ...). Only those are read;
anything else is ignored, never executed.
"""

from __future__ import annotations

import re

_TOP = re.compile(r"^(?P<key>[^\s:#][^:]*):\s*$")
_FIELD = re.compile(r"^\s*(?:-\s+)?:?(?P<key>name|sid|email):\s*(?P<value>.*?)\s*$")


def _scalar(text: str) -> str:
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        text = text[1:-1]
    return text


def submitters(text: str) -> dict[str, list[dict[str, str]]]:
    """``{"submission_123": [{"name": ..., "sid": ..., "email": ...}, ...]}`` from the metadata text."""
    result: dict[str, list[dict[str, str]]] = {}
    current: list[dict[str, str]] | None = None
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        top = _TOP.match(line)
        if top:
            current = result.setdefault(_scalar(top["key"]), [])
            continue
        field = _FIELD.match(line)
        if field is None or current is None:
            continue
        if line.lstrip().startswith("-") or not current or field["key"] in current[-1]:
            current.append({})
        current[-1][field["key"]] = _scalar(field["value"])
    return result


_OWN = re.compile(r"^ {2}:?(?P<key>[A-Za-z_]+):\s*(?P<value>\S.*?)\s*$")


def submission_fields(text: str) -> dict[str, dict[str, str]]:
    """``{"submission_123": {"created_at": "2026-01-01 10:00:00.000000000 -08:00", "score": "10.0", ...}}``.

    Only the scalar fields written directly under a submission (two spaces in) are read."""
    result: dict[str, dict[str, str]] = {}
    current: dict[str, str] | None = None
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        top = _TOP.match(line)
        if top:
            current = result.setdefault(_scalar(top["key"]), {})
            continue
        own = _OWN.match(line)
        if own and current is not None:
            current.setdefault(own["key"], _scalar(own["value"]))
    return result

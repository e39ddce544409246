"""A class roster: a CSV that maps student ids to names, to name students and find the missing ones.

The id column is the first of ``id``, ``student_id``, ``sid``, ``sis user id``,
``login``, ``email`` (case-insensitive) that the header has; the name is
``name`` or ``first name`` + ``last name``.
"""

from __future__ import annotations

import csv
from pathlib import Path

from grader.errors import UsageError

ID_COLUMNS = ("id", "student_id", "student id", "sid", "sis user id", "login", "email")


def read_roster(path: Path) -> dict[str, str]:
    """``{student id: name}`` from the CSV at ``path``."""
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            rows = list(csv.DictReader(f))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise UsageError(f"cannot read the roster {path}: {exc}") from None
    if not rows:
        return {}
    header = {name.strip().lower(): name for name in rows[0] if name}
    id_column = next((header[c] for c in ID_COLUMNS if c in header), None)
    if id_column is None:
        raise UsageError(f"the roster {path} has no id column (one of: {', '.join(ID_COLUMNS)})")

    def name(row: dict) -> str:
        if "name" in header:
            return (row.get(header["name"]) or "").strip()
        parts = [row.get(header[c]) or "" for c in ("first name", "last name") if c in header]
        return " ".join(p.strip() for p in parts if p.strip())

    return {row[id_column].strip(): name(row) for row in rows if (row.get(id_column) or "").strip()}

"""CSV files a spreadsheet opens as data: no cell, and no part of one, starts a formula.

A spreadsheet evaluates a cell that starts with ``=``, ``+``, ``-`` or ``@`` (and
some treat a leading tab or carriage return the same way), and it may split a
line on ``;``, tab or ``|`` as well as ``,`` when it guesses the separator, so
a student id like ``x;=1+1;`` or ``a,"=HYPERLINK(...)"`` hides a live formula in
what Python wrote as one quoted cell. Student ids, names from a roster, file
names, commit flags and messages all reach the exports.

``defuse`` follows OWASP's advice for every text cell: each part of the text
that begins (after spaces and double quotes) with one of those characters, the
whole cell or whatever follows a ``,``, ``;``, tab, ``|`` or line break, gets a
leading ``'``, which makes a spreadsheet read it as text. Numbers passed as
``int`` or ``float`` are written as numbers and stay numbers (``-1``, ``3.5``).
Control characters are made visible as in every other output (``visible``).

Every CSV dlgrade writes goes through ``open_csv``, whose writer applies this to
each cell; a new export calls it too.
"""

from __future__ import annotations

import csv
import math
import numbers
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from grader.report.sanitize import visible

__all__ = ["defuse", "cell", "open_csv", "SafeWriter", "TRIGGERS", "SEPARATORS"]

TRIGGERS = "=+-@\t\r"
SEPARATORS = ",;\t|\r\n"
# A part: the text up to and including the next separator. Its start, after spaces and double quotes (which a
# spreadsheet strips), decides; a part that starts with ' is text already.
_PART = re.compile(f"[^{re.escape(SEPARATORS)}]*[{re.escape(SEPARATORS)}]?")
_LEAD = re.compile('[ "]*')


def _defuse_part(part: str) -> str:
    lead = _LEAD.match(part).end()
    rest = part[lead:]
    return "'" + part if rest[:1] and rest[0] in TRIGGERS else part


def defuse(text: object) -> str:
    """``text`` as a spreadsheet-inert cell: ``'`` before every part that would start a formula.

    A leading tab or carriage return counts as such a start, and a part after a separator is judged
    on its own, since a spreadsheet that splits there makes it a cell of its own. Control characters
    other than tab and newline, and lone surrogates, are written visibly first (``visible``), so a TA
    who prints the file on a terminal is safe too.
    """
    value = visible(text)
    if not any(c in value for c in TRIGGERS):
        return value
    return "".join(_defuse_part(part) for part in _PART.findall(value))


def cell(value: object) -> str | int | float:
    """A CSV cell: integers and finite reals stay numbers, ``None`` is empty, anything else is defused text."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return defuse(str(value))
    if isinstance(value, numbers.Integral):  # NumPy's integers too
        return int(value)
    if isinstance(value, numbers.Real):  # 2.0 as 2, 2.75 as 2.75, up to 15 digits
        return f"{float(value):.15g}" if math.isfinite(value) else ""
    return defuse(value)


class SafeWriter:
    """``csv.writer`` whose every row passes through ``cell``: nothing it writes is a formula."""

    def __init__(self, f, **kwargs):
        self._writer = csv.writer(f, **kwargs)

    def writerow(self, row: Iterable[object]) -> None:
        self._writer.writerow([cell(value) for value in row])

    def writerows(self, rows: Iterable[Iterable[object]]) -> None:
        for row in rows:
            self.writerow(row)


@contextmanager
def open_csv(path: Path, **kwargs) -> Iterator[SafeWriter]:
    """Open ``path`` for writing as UTF-8 CSV (its folder made if missing): ``with open_csv(p) as writer``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as f:
        yield SafeWriter(f, **kwargs)

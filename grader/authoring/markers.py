"""Solution markers: the reference is written once, and the student's starter files are derived from it.

In a reference file, the lines between ``# BEGIN SOLUTION`` and ``# END SOLUTION`` are the solution::

    def forward(self, x):
        \"\"\"Return x @ W + b.\"\"\"
        # BEGIN SOLUTION: raise NotImplementedError("Task 1.1: Linear.forward")
        return x @ self.W + self.b
        # END SOLUTION

The student's file gets, in their place and at the marker's indentation, what follows
``BEGIN SOLUTION:`` (any line: a ``raise``, a ``# TODO`` comment, ``pass  # TODO``), or
``raise NotImplementedError`` when nothing follows. Marker lines never reach a student file,
and a reference without markers is used as it is (its template is written by hand, as before).
Markers are comments, so the reference runs unchanged. Any text file whose comments start
with ``#`` (Python, TOML) may carry them.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

from grader.errors import UsageError

_BEGIN = re.compile(r"^(?P<indent>[ \t]*)#\s*BEGIN SOLUTION\b\s*(?::\s*(?P<replacement>.*?))?\s*$")
_END = re.compile(r"^[ \t]*#\s*END SOLUTION\b")
_ANY = re.compile(r"#\s*(BEGIN|END) SOLUTION\b")
DEFAULT_REPLACEMENT = "raise NotImplementedError"


class MarkerError(UsageError):
    """A reference's solution markers do not pair up (or the derived file is not valid Python)."""


@dataclass(frozen=True)
class Derived:
    """A student file derived from a reference file: its text and how many solution blocks it hid."""

    name: str
    text: str
    blocks: int


def has_markers(text: str) -> bool:
    """Whether ``text`` holds a solution marker."""
    return _ANY.search(text) is not None


def derive(text: str, name: str = "<reference>") -> Derived:
    """The student's version of ``text``: each solution block replaced by its replacement line.

    Raises ``MarkerError`` (naming ``name`` and the line) for a BEGIN without END, an END without
    BEGIN, a nested BEGIN, or (for a ``.py`` name) a result that is not valid Python.
    """
    out: list[str] = []
    open_at: int | None = None
    blocks = 0
    for number, line in enumerate(text.splitlines(keepends=True), start=1):
        begin, end = _BEGIN.match(line), _END.match(line)
        if begin:
            if open_at is not None:
                raise MarkerError(f"{name}:{number}: BEGIN SOLUTION inside the block opened at line {open_at}; "
                                  "close it with # END SOLUTION first.")
            open_at, blocks = number, blocks + 1
            replacement = begin.group("replacement") or DEFAULT_REPLACEMENT
            out.append(f"{begin.group('indent')}{replacement}\n")
        elif end:
            if open_at is None:
                raise MarkerError(f"{name}:{number}: END SOLUTION without a BEGIN SOLUTION before it.")
            open_at = None
        elif _ANY.search(line):
            raise MarkerError(f"{name}:{number}: a solution marker must be a line of its own "
                              "(# BEGIN SOLUTION[: replacement] or # END SOLUTION).")
        elif open_at is None:
            out.append(line)
    if open_at is not None:
        raise MarkerError(f"{name}:{open_at}: BEGIN SOLUTION is never closed with # END SOLUTION.")
    derived = "".join(out)
    if name.endswith(".py"):
        try:
            ast.parse(derived)
        except SyntaxError as exc:
            raise MarkerError(f"{name}: the student version is not valid Python at line {exc.lineno} "
                              f"({exc.msg}); a block's replacement must leave a statement where one is "
                              "needed, e.g. # BEGIN SOLUTION: pass  # TODO") from None
    return Derived(name=name, text=derived, blocks=blocks)


def student_files(assignment) -> tuple[str, ...]:
    """Every file a submission of ``assignment`` hands in: its ``files`` and those its checks read
    (a2 lists ``answers.toml`` on its written checks only)."""
    assignment.load_checks()
    return tuple(dict.fromkeys((*assignment.files, *(name for c in assignment.checks for name in c.files))))


def derive_files(reference: Path, template: Path | None, files: tuple[str, ...]) -> dict[str, str]:
    """The student's starter files: derived from ``reference/<file>`` where it holds markers, else
    the hand-written ``template/<file>`` as it is (a reference without markers works as before)."""
    result: dict[str, str] = {}
    for name in files:
        source = reference / name
        text = source.read_text(encoding="utf-8") if source.is_file() else None
        if text is not None and has_markers(text):
            result[name] = derive(text, name).text
        elif template is not None and (template / name).is_file():
            result[name] = (template / name).read_text(encoding="utf-8")
    return result


def write_template(assignment, out: Path | None = None) -> list[Path]:
    """Write ``assignment``'s student files derived from its reference into ``out`` (default: its template
    folder); return the files written. Raises ``UsageError`` when there is no reference or nothing to derive."""
    reference = assignment.reference_folder
    if reference is None:
        raise UsageError(f"{assignment.id}: its reference package {assignment.reference_package!r} is not "
                         "installed here (a student build?).")
    target = Path(out) if out is not None else assignment.template_folder
    if target is None:
        folder = assignment.package_folder
        if folder is None:
            raise UsageError(f"{assignment.id}: no template folder; give one with -o.")
        target = folder / "template"
    files = student_files(assignment)
    derived = derive_files(reference, None, files)
    if not derived:
        raise UsageError(f"{assignment.id}: no reference file of {', '.join(files)} holds "
                         "# BEGIN SOLUTION markers: there is nothing to derive (its template is hand-written).")
    target.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in derived.items():
        (target / name).write_text(text, encoding="utf-8")
        written.append(target / name)
    return written

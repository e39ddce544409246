"""Look inside a built wheel for anything of the answer key: the last gate of the student build.

Grep-style, on every member of the wheel (decompressed, read as text):

- no member under ``reference/`` and no ``answers.toml``;
- no line of a reference function's or class's body (every code line of
  ``reference/**/*.py`` at least ``MIN_LINE`` characters long, whitespace
  squeezed), unless the same line is part of the grader's own source *outside*
  the student build's redacted modules, in which case it is reported apart,
  as ``shared`` (a check that computes an expected value inline);
- no value of ``reference/*/answers.toml`` (strings and numbers as written);
- no model answer of a ``GradientQuestion`` and no computed a3 truth;
- no expression *equivalent* to an answer key, in any text a student can read
  (the strings and comments of a module, a docs page, a template): every
  expression-like piece is judged against every key by the judges that grade
  answers, alone and added to each known wrong answer
  (``grader.packaging.equivalents``), so a spelling that shares no string with
  the key (``np.transpose`` where the key has ``.T``) is found, and so is a hint
  that completes an answer.
"""

from __future__ import annotations

import ast
import re
import tokenize
import tomllib
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from grader.packaging.equivalents import answers_in

MIN_LINE = 24
RECORDED = "grader/packaging/expectations/"
MAX_SHARED = 8  # more reference lines than this in one member is a copied reference, shared or not


@dataclass
class Findings:
    """What the inspection found; ``leaks`` must be empty for a student build."""

    leaks: list[str] = field(default_factory=list)
    shared: list[str] = field(default_factory=list)
    members: int = 0


def _squeeze(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def reference_lines(root: Path) -> dict[str, str]:
    """Distinctive code lines of the reference's function and class bodies: squeezed line -> where."""
    lines: dict[str, str] = {}
    for path in sorted((root / "reference").rglob("*.py")):
        source = path.read_text(encoding="utf-8")
        tree = ast.parse(source)
        docstrings = {n.body[0].lineno for n in ast.walk(tree) if isinstance(
            n, (ast.FunctionDef, ast.ClassDef, ast.Module)) and n.body and isinstance(n.body[0], ast.Expr)
            and isinstance(getattr(n.body[0], "value", None), ast.Constant)}
        text = source.splitlines()
        for node in ast.walk(tree):
            if not isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                continue
            for stmt in node.body:
                for number in range(stmt.lineno, (stmt.end_lineno or stmt.lineno) + 1):
                    if number in docstrings:
                        continue
                    line = _squeeze(text[number - 1].split("#")[0])
                    if len(line) >= MIN_LINE and not line.startswith(('"', "'", "def ", "class ", "@")):
                        lines.setdefault(line, f"{path.relative_to(root)}:{number}")
    return lines


def answer_values(root: Path) -> list[str]:
    """Every value of the reference's answers.toml files, as text (strings, numbers, matrix entries)."""
    values: list[str] = []

    def walk(value):
        if isinstance(value, dict):
            for v in value.values():
                walk(v)
        elif isinstance(value, list):
            for v in value:
                walk(v)
        elif isinstance(value, str):
            values.append(value)
        elif isinstance(value, (int, float)) and not isinstance(value, bool) and abs(value) >= 100:
            values.append(repr(value))  # small numbers (0.0, 1.2247) occur everywhere; the counts do not

    for path in sorted((root / "reference").glob("*/answers.toml")):
        walk(tomllib.loads(path.read_text(encoding="utf-8")))
    return values


def question_answers() -> list[str]:
    """The staff build's model answers of the written questions."""
    from grader.assignments.a2.questions import QUESTIONS
    from grader.assignments.a3 import questions as q3

    found = [q.answer for q in QUESTIONS]
    for _, truth, mistakes in q3.FORMULAS.values():
        # A wrong answer as short as -z_0 or N / B occurs by chance in code and prose; the symbolic gate
        # (equivalents.py) still judges every piece against each key and each known mistake.
        found += [truth, *(m for m in mistakes.values() if len(m) > 10)]
    return found


def _quoted(source: str) -> str:
    """The string literals and comments of a Python source (where a formula would be written down)."""
    from grader.packaging.redact import string_spans

    try:
        return "\n".join(source[a:b] for a, b in string_spans(source))
    except (SyntaxError, tokenize.TokenError):
        return source


def inspect_wheel(wheel: Path, root: Path) -> Findings:
    """Inspect every member of ``wheel`` against the reference and keys under ``root`` (the staff tree)."""
    findings = Findings()
    ref_lines = reference_lines(root)
    staff_lines = {_squeeze(line.split("#")[0]) for p in (root / "grader").rglob("*.py")
                   if "packaging" not in p.parts for line in p.read_text(encoding="utf-8").splitlines()}
    keys = sorted(set(answer_values(root)) | set(question_answers()), key=len, reverse=True)
    # The starter files are handed to every student: a reference line they also hold (a2's given Op and
    # Tensor) is public by design.
    public = {_squeeze(line.split("#")[0]) for p in (root / "student_template").rglob("*.py")
              for line in p.read_text(encoding="utf-8").splitlines()}
    with zipfile.ZipFile(wheel) as archive:
        for name in archive.namelist():
            findings.members += 1
            template = name.startswith("student_template/")
            if name.startswith("reference/") or "/reference/" in name or (name.endswith("answers.toml")
                                                                          and not template):
                findings.leaks.append(f"{name}: a reference or answers file")
                continue
            if name.endswith(".npz"):
                continue  # recorded outputs of the public checks, by design
            text = archive.read(name).decode("utf-8", errors="replace")
            squeezed = {_squeeze(line.split("#")[0]) for line in text.splitlines()}
            common = sorted((squeezed & set(ref_lines)) - public)
            for line in common:
                where = f"{name}: reference line {ref_lines[line]}: {line}"
                shared = line in staff_lines and "questions.py" not in name and len(common) <= MAX_SHARED
                (findings.shared if shared else findings.leaks).append(where)
            quoted = _quoted(text) if name.endswith(".py") else text
            if not name.startswith(RECORDED):  # the tapes: digests and numbers, no text a student reads
                for piece, key in answers_in(quoted):
                    findings.leaks.append(f"{name}: {piece!r} is worth the answer {key}")
            for key in keys:
                found = re.search(rf"(?<![\w.]){re.escape(key)}(?![\w.])", text) if key[0].isdigit() else (
                    key in quoted)  # numbers anywhere; formulas where one is written down (strings, comments)
                if found:
                    findings.leaks.append(f"{name}: answer {key!r}")
    return findings

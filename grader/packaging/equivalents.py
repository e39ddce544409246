"""Find, in any text, an expression that is worth an answer: the symbolic half of the wheel's inspection.

A string gate misses ``np.transpose(W)`` where the key says ``W.T``. Here every
expression-like piece of a text (a syntax example in a message, a hint, a
docs page, a template) is judged against every answer key by the judges that
grade the answers (``grader.checks.symbolic.judge`` and ``judge_formula``);
one they accept is a leak. So is a piece that *completes* a known wrong
answer into a right one (a hint that spells out the missing term of a sum):
each question's known mistakes are tried with the piece added and subtracted.

Pieces are found without reading prose: a text is cut into runs of
expression characters whose names are all names some answer may use (an
English word ends a run), then every run of comma-separated parts is tried,
with unmatched brackets and stray punctuation trimmed; LaTeX between ``$``
is tried as written.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from grader.checks import expressions as ex

MAX_PIECE = 300
MAX_PARTS = 8  # comma-separated parts joined into one piece at most (a call has few arguments)
LATEX = re.compile(r"\$[^$\n]{1,300}\$")
RUN = re.compile(r"[A-Za-z0-9_.()\[\]*/+\-@,= ]+")
NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
TRIM = " ,.=+*/@"
# Names an answer may use besides its symbols: NumPy's spellings and the language's functions and keywords.
LANGUAGE = frozenset({"np", "T", "axis", "keepdims", "True", "False", "sum", "mean", *ex.FUNCTIONS,
                      *ex.BINARY_FUNCTIONS, *ex.UNARY_FUNCTIONS})


@dataclass(frozen=True)
class Key:
    """One answer key: a name for the report, the names its answers use, and a judge of a piece of text."""

    name: str
    symbols: frozenset[str]
    mistakes: tuple[str, ...]

    def accepts(self, text: str) -> bool:
        raise NotImplementedError


@dataclass(frozen=True)
class GradientKey(Key):
    question: object = None

    def accepts(self, text: str) -> bool:
        from grader.checks.symbolic import judge

        try:
            self.question.parse(text)
        except ex.ExpressionError:
            return False
        return judge(self.question, text).status == "passed"


@dataclass(frozen=True)
class FormulaKey(Key):
    ordered: tuple[str, ...] = ()
    truth: str = ""
    vocabulary: tuple = ()

    def accepts(self, text: str) -> bool:
        from grader.checks.symbolic import judge_formula

        try:
            ex.parse(text, dict.fromkeys(self.ordered), tuple(f.name for f in self.vocabulary))
        except ex.ExpressionError:
            return False
        return judge_formula(text, self.ordered, self.truth, vocabulary=self.vocabulary).status == "passed"


@functools.cache
def answer_keys() -> tuple[Key, ...]:
    """The staff build's answer keys: a2's derivations and a3's formulas."""
    from grader.assignments.a2.questions import QUESTIONS
    from grader.assignments.a3 import answers as a3
    from grader.assignments.a3 import questions as q3

    keys: list[Key] = [GradientKey(f"a2 [{q.table}] {q.key}", frozenset(q.symbols) | frozenset(q.functions),
                                   tuple(m for m, _ in q.mistakes), question=q) for q in QUESTIONS]
    vocabulary = (a3.LOG10, a3.LOG2)  # what a3's formulas may name beyond the core (known wrong logs)
    for (table, key), (symbols, truth, mistakes) in q3.FORMULAS.items():
        keys.append(FormulaKey(f"a3 [{table}] {key}", frozenset(symbols) | {f.name for f in vocabulary},
                               tuple(mistakes.values()), ordered=tuple(symbols), truth=truth, vocabulary=vocabulary))
    return tuple(keys)


def _balanced(text: str) -> str:
    """``text`` without unmatched brackets at its ends, and without stray punctuation there."""
    previous = None
    while text != previous:
        previous = text
        text = text.strip(TRIM)
        for open_, close in ("()", "[]"):
            if text.startswith(open_) and text.count(open_) > text.count(close):
                text = text[1:]
            if text.endswith(close) and text.count(close) > text.count(open_):
                text = text[:-1]
    return text


def _runs(text: str, names: frozenset[str]) -> list[str]:
    """Runs of expression characters in which every name is one of ``names`` (a word of prose ends a run)."""
    runs = []
    for match in RUN.finditer(text):
        run, start = match.group(), 0
        for name in NAME.finditer(run):
            if name.group() not in names and not (name.start() > 0 and run[name.start() - 1] == "."
                                                  and name.group() in LANGUAGE):
                runs.append(run[start:name.start()])
                start = name.end()
        runs.append(run[start:])
    return [r for r in runs if NAME.search(r)]


def pieces(text: str, names: frozenset[str]) -> set[str]:
    """Every candidate expression in ``text`` that uses only ``names`` (and the language's own)."""
    found = {m.group() for m in LATEX.finditer(text)}
    allowed = names | LANGUAGE
    for run in _runs(text, allowed):
        for side in run.split("="):  # dX = ..., a keyword argument: either side may be the expression
            parts = side.split(",")
            for i in range(len(parts)):
                for j in range(i + 1, min(len(parts), i + MAX_PARTS) + 1):
                    found.add(_balanced(",".join(parts[i:j])))
        parts = run.split(",")  # keyword arguments kept whole: G.sum(axis=1, keepdims=True)
        for i in range(len(parts)):
            for j in range(i + 1, min(len(parts), i + MAX_PARTS) + 1):
                found.add(_balanced(",".join(parts[i:j])))
    return {p for p in found if p and len(p) <= MAX_PIECE and set(NAME.findall(p)) & names}


def answers_in(text: str, keys: tuple[Key, ...] | None = None) -> list[tuple[str, str]]:
    """``(piece, key name)`` for every piece of ``text`` a key accepts, alone or completing a known mistake."""
    keys = answer_keys() if keys is None else keys
    leaks = []
    for key in keys:
        for piece in sorted(pieces(text, key.symbols)):
            if key.accepts(piece):
                leaks.append((piece, key.name))
                continue
            for mistake in key.mistakes:
                if piece.startswith("$"):
                    continue
                if any(key.accepts(f"{mistake} {sign} ({piece})") for sign in "+-"):
                    leaks.append((piece, f"{key.name} (completing the wrong answer {mistake})"))
                    break
    return leaks

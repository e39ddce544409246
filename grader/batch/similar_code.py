"""Similar submissions, as leads for the staff and never as verdicts: winnowed fingerprints of normalized code.

The method is MOSS's (Schleimer, Wilkerson and Aiken, "Winnowing: local
algorithms for document fingerprinting", SIGMOD 2003), on Python tokens:

1. **Normalize.** Each file is read with ``tokenize``: comments, blank lines,
   line breaks inside brackets and docstrings are dropped; every identifier
   becomes ``V`` (so renaming a variable, a function or an attribute the
   student defines changes nothing), every number ``N`` and string ``S``;
   keywords, operators, builtins (``len``, ``range``) and attributes the
   submission only reads (``np.exp``, ``x.shape``) are kept, since choosing
   them is the solution. Statement ends, indents and dedents are tokens, so
   reformatting (spaces, line breaks, one statement per line or ``;``) does
   not matter either.
2. **Fingerprint.** Every run of ``K`` consecutive tokens is hashed; in each
   window of ``WINDOW`` consecutive hashes the smallest is kept (winnowing).
   Any shared run of ``K + WINDOW - 1`` tokens or more is certain to share a
   fingerprint.
3. **Subtract the template.** Every ``K``-token hash of the assignment's
   starter files is removed from each submission's fingerprints, so the
   scaffolding everyone got (class and method headers, docstrings, stubs)
   never counts. A fingerprint that more than ``common_limit(n)`` students
   share is an idiom of the class (MOSS's ``-m``), not evidence, and is
   ignored too.
4. **Score a pair** as the fingerprints they share over the fingerprints of
   the smaller of the two (the share of the smaller submission found in the
   other). A submission with fewer than ``MIN_OWN`` fingerprints of its own
   (about the template alone) is never paired.

Byte-identical submissions (same Python files) that have code of their own
come first, then the rest by similarity. Everything here reads student text in
the parent and never runs it; each file is cut at ``MAX_CHARS``.
"""

from __future__ import annotations

import builtins
import hashlib
import io
import keyword
import re
import tokenize
from collections import defaultdict
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path

K = 12  # tokens per hashed run
WINDOW = 6  # hashes per winnowing window: a shared run of K + WINDOW - 1 = 17 tokens is always found
MIN_OWN = 10  # fingerprints of its own a submission needs to be compared
DEFAULT_MIN = 0.5  # the default threshold of ``dlgrade gradebook similar``
MAX_CHARS = 128 << 10  # a class file is a few KiB; 128 KiB of tokens take about 1.5 s
BUILTINS = frozenset(dir(builtins))
_FALLBACK = re.compile(r"[A-Za-z_]\w*|\d[\w.]*|\"(?:\\.|[^\"\\])*\"|'(?:\\.|[^'\\])*'|\S")
_ASSIGNED_ATTRIBUTE = re.compile(r"\.\s*([A-Za-z_]\w*)\s*(?:\[[^\]\n]*\]\s*)?(?:[-+*/@%&|^]|//|\*\*|<<|>>)?=(?!=)")
_DEFINED = re.compile(r"\b(?:def|class)\s+([A-Za-z_]\w*)")


@dataclass(frozen=True)
class SimilarPair:
    """Two students whose code shares fingerprints: a lead to look at, not a finding."""

    first: str
    second: str
    similarity: float  # shared / fingerprints of the smaller submission, 0..1
    shared: int
    first_share: float  # shared / first's own fingerprints
    second_share: float
    identical: bool  # the same Python files, byte for byte


def _own_names(source: str) -> set[str]:
    """Attribute names the code defines itself (``self.cache = ...``, ``def forward``): renamable by a copier."""
    return set(_ASSIGNED_ATTRIBUTE.findall(source)) | set(_DEFINED.findall(source))


def _name(token: str, after_dot: bool, own: set[str]) -> str:
    if keyword.iskeyword(token) or keyword.issoftkeyword(token):
        return token
    if after_dot:
        return "V" if token in own else token
    return token if token in BUILTINS else "V"


def tokens(source: str) -> list[str]:
    """The normalized tokens of one Python file (see the module doc); a file that does not tokenize is read by a
    plain lexer with the same normalization, without the structure tokens."""
    source = source[:MAX_CHARS]
    own = _own_names(source)
    out: list[str] = []
    try:
        statement_start = True
        for tok in tokenize.generate_tokens(io.StringIO(source).readline):
            kind, text = tok.type, tok.string
            if kind in (tokenize.COMMENT, tokenize.NL, tokenize.ENCODING, tokenize.ENDMARKER):
                continue
            if kind == tokenize.STRING and statement_start:  # a docstring, or a string statement: a comment
                continue
            if kind == tokenize.NEWLINE or (kind == tokenize.OP and text == ";"):
                out.append(";")
                statement_start = True
                continue
            if kind in (tokenize.INDENT, tokenize.DEDENT):
                out.append(">" if kind == tokenize.INDENT else "<")
                continue
            statement_start = False
            if kind == tokenize.NAME:
                out.append(_name(text, bool(out) and out[-1] == ".", own))
            elif kind == tokenize.NUMBER:
                out.append("N")
            elif kind == tokenize.STRING or tokenize.tok_name.get(kind, "").startswith("FSTRING"):
                if not out or out[-1] != "S":  # an f-string's parts, and adjacent strings, are one string
                    out.append("S")
            else:
                out.append(text)
    except (tokenize.TokenError, SyntaxError, ValueError):  # not Python (yet): the plain lexer
        out = []
        for text in _FALLBACK.findall(re.sub(r"#[^\n]*", "", source)):
            if text[0].isalpha() or text[0] == "_":
                out.append(_name(text, bool(out) and out[-1] == ".", own))
            elif text[0].isdigit():
                out.append("N")
            elif text[0] in "\"'":
                out.append("S")
            else:
                out.append(text)
    return out


_TOKEN_IDS: dict[str, int] = {}


def _token_id(token: str) -> int:
    """A number per token that is the same in every process (a string's ``hash`` is salted per process; an int's
    and a tuple of ints' are not), so that the same code always gives the same scores."""
    found = _TOKEN_IDS.get(token)
    if found is None:
        found = int.from_bytes(hashlib.blake2b(token.encode(), digest_size=8).digest(), "little")
        if len(_TOKEN_IDS) < 100_000:
            _TOKEN_IDS[token] = found
    return found


def _hashes(toks: list[str]) -> list[int]:
    """The hash of every run of ``K`` tokens."""
    ids = [_token_id(t) for t in toks]
    return [hash(tuple(ids[i:i + K])) for i in range(len(ids) - K + 1)]


def winnow(hashes: list[int]) -> set[int]:
    """The smallest hash of every window of ``WINDOW`` consecutive hashes (all of them for a short file)."""
    if len(hashes) <= WINDOW:
        return set(hashes)
    return {min(hashes[i:i + WINDOW]) for i in range(len(hashes) - WINDOW + 1)}


def fingerprints(files: dict[str, str]) -> set[int]:
    """The winnowed fingerprints of a submission's Python files (runs never span two files)."""
    found: set[int] = set()
    for _, source in sorted(files.items()):
        found |= winnow(_hashes(tokens(source)))
    return found


def template_hashes(files: dict[str, str]) -> set[int]:
    """Every ``K``-token hash of the starter files: what no submission is credited or blamed for."""
    return {h for _, source in sorted(files.items()) for h in _hashes(tokens(source))}


def common_limit(students: int) -> int:
    """A fingerprint that more students than this share is an idiom of the class, not evidence (MOSS: 10)."""
    return max(10, students // 10)


def own_fingerprints(sources: dict[str, dict[str, str]], template: dict[str, str] | None = None
                     ) -> dict[str, set[int]]:
    """Each student's fingerprints less the template's, for students with at least ``MIN_OWN`` of them."""
    base = template_hashes(template or {})
    own = {s: fingerprints(files) - base for s, files in sources.items()}
    return {s: prints for s, prints in own.items() if len(prints) >= MIN_OWN}


def similar_pairs(sources: dict[str, dict[str, str]], template: dict[str, str] | None = None,
                  minimum: float = DEFAULT_MIN) -> list[SimilarPair]:
    """Pairs of students at or above ``minimum`` similarity (identical ones always), identical first, then by
    similarity; ``sources`` maps each student to their Python files ``{name: text}``."""
    own = own_fingerprints(sources, template)
    limit = common_limit(len(own))
    holders: dict[int, list[str]] = defaultdict(list)
    for student, prints in own.items():
        for h in prints:
            holders[h].append(student)
    shared: dict[tuple[str, str], int] = defaultdict(int)
    for students in holders.values():
        if 2 <= len(students) <= limit:
            for a, b in combinations(sorted(students), 2):
                shared[(a, b)] += 1
    digests: dict[str, str] = {s: hashlib.sha256(repr(sorted(sources[s].items())).encode()).hexdigest() for s in own}
    by_digest: dict[str, list[str]] = defaultdict(list)
    for student, digest in digests.items():
        by_digest[digest].append(student)
    identical = {pair for group in by_digest.values() for pair in combinations(sorted(group), 2)}
    pairs = []
    for a, b in set(shared) | identical:
        n = len(own[a] & own[b]) if (a, b) in identical else shared[(a, b)]
        similarity = 1.0 if (a, b) in identical else n / min(len(own[a]), len(own[b]))
        if (a, b) in identical or similarity >= minimum:
            pairs.append(SimilarPair(a, b, round(similarity, 4), n, round(n / len(own[a]), 4),
                                     round(n / len(own[b]), 4), (a, b) in identical))
    return sorted(pairs, key=lambda p: (not p.identical, -p.similarity, -p.shared, p.first, p.second))


def read_template(folder: Path | None, expected: tuple[str, ...]) -> dict[str, str]:
    """The assignment's starter Python files (``Assignment.template_folder``), by name."""
    if folder is None or not Path(folder).is_dir():
        return {}
    return {name: (Path(folder) / name).read_text(encoding="utf-8", errors="replace")
            for name in expected if name.endswith(".py") and (Path(folder) / name).is_file()}


def read_code(path: Path, expected: tuple[str, ...], staging: Path, notebook_statements: str = "definitions"
              ) -> dict[str, str]:
    """A submission's Python files as text, read as ``dlgrade check`` reads them (bounded, no link followed);
    empty when it cannot be read (its grade says why)."""
    import shutil

    from grader.errors import GraderError
    from grader.submission import load_submission
    from grader.text import from_bytes

    try:
        submission = load_submission(path, expected, staging, notebook_statements)
        return {name: from_bytes(Path(staged).read_bytes()[:MAX_CHARS])
                for name, staged in submission.files.items() if name.endswith(".py")}
    except (GraderError, OSError, RecursionError):
        return {}
    finally:
        shutil.rmtree(staging, ignore_errors=True)


@dataclass(frozen=True)
class ClassSimilarity:
    """``similar_pairs`` over a class in the gradebook, with what was left out and why."""

    assignment: str
    pairs: tuple[SimilarPair, ...]
    compared: int  # students with code of their own to compare
    without_code: tuple[str, ...]  # graded, but no Python file kept (graded before dlgrade kept code, or none)
    template: bool  # the starter files were found and subtracted
    minimum: float


def class_similarity(book, assignment: str, minimum: float = DEFAULT_MIN) -> ClassSimilarity:
    """The similar pairs among the latest submissions of ``assignment`` in ``book`` (a ``Gradebook``)."""
    from grader.api import get_assignment
    from grader.errors import UsageError

    sources, without = {}, []
    for g in book.latest(assignment):
        files = book.sources(assignment, g.submission_hash)
        if files:
            sources[g.student] = files
        else:
            without.append(g.student)
    try:
        spec = get_assignment(assignment, load_checks=False)
        template = read_template(spec.template_folder, spec.files)
    except UsageError:  # an assignment no longer installed here: compared without its template
        template = {}
    compared = len(own_fingerprints(sources, template))  # a second pass: a class's code hashes in well under 1 s
    return ClassSimilarity(assignment, tuple(similar_pairs(sources, template, minimum)), compared,
                           tuple(without), bool(template), minimum)

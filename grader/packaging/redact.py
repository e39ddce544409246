"""Take the answer keys out of the student build's copy of the grader's source.

Three modules of the staff build hold answers, and each gets its own rewrite
(on the staged copy only; the source tree is never changed):

- ``a2/questions.py``: each ``GradientQuestion``'s model answer becomes its
  fingerprint (``grader.checks.symbolic.fingerprint``: a hash of the parsed,
  rendered formula), which the exact tier compares with; the numeric and
  symbolic tiers need only the forward, which the question states anyway.
  A string in the module that quotes a model answer verbatim (a hint) has the
  answer cut out.
- ``a3/questions.py``: the batch-norm matrices (computed from the stated values
  with the reference) and the model formulas with their known wrong forms. The
  student build keeps the stated values, the symbols and the text, and replaces
  every truth with ``None``; the matrix checks are hidden. The formula checks
  stay public: each records the truth and the mistakes at the judge's random points.
- ``a1/standins.py``: the grader's stand-ins for a1's components (used so that one mistake is counted
  once in training) are the handout's formulas; the student build ships none, and its training checks
  use the student's parts only.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from pathlib import Path

WITHHELD = "[withheld in the student build]"

# Names of a3/questions.py that state the questions (kept); every other assignment becomes None.
A3_STATED = frozenset({"BLOCK_SYMBOLS", "BLOCK_ODD", "BLOCK_EVEN", "BN_X", "BN_GAMMA", "BN_BETA", "BATCH_SYMBOLS",
                       "CE_SYMBOLS", "MLP_SYMBOLS", "DESCRIPTION"})
A3_HIDDEN_TASKS = ("3.6",)
# ...but for the formulas, judged against the truths (and known mistakes) at the judge's points, recorded per
# public seed. Hidden: the batch-norm matrices (fixed numbers: a public check of one would be an oracle for it).
A3_PUBLIC = frozenset({"cnn_params", "cnn_macs", "cnn_memory", "batches_per_epoch", "total_iterations",
                       "cross_entropy", "mlp_formula"})
HIDDEN_WHY = "its answer key is not in the student build"


def redact_a2_questions(path: Path) -> list[str]:
    """Replace the model answers of a2's questions by fingerprints; return the answers removed."""
    from grader.assignments.a2.questions import QUESTIONS
    from grader.checks import expressions as ex
    from grader.checks.symbolic import fingerprint

    answers = {q.answer: fingerprint(ex.render(q.parse(q.answer))) for q in QUESTIONS}
    tree = ast.parse(path.read_text(encoding="utf-8"))
    path.write_text(_header(path) + ast.unparse(fingerprint_answers(tree, answers)) + "\n", encoding="utf-8")
    return sorted(answers)


def fingerprint_answers(tree: ast.AST, answers: dict[str, str]) -> ast.AST:
    """``tree`` with every string constant that is a model answer replaced by its fingerprint (``answers``:
    answer -> fingerprint), and every answer quoted inside another string cut out (``WITHHELD``)."""
    longest_first = sorted(answers, key=len, reverse=True)

    class Rewrite(ast.NodeTransformer):
        def visit_Constant(self, node: ast.Constant):
            if not isinstance(node.value, str):
                return node
            if node.value in answers:
                return ast.copy_location(ast.Constant(answers[node.value]), node)
            text = node.value
            for answer in longest_first:
                text = text.replace(answer, WITHHELD)
            return ast.copy_location(ast.Constant(text), node)

    return Rewrite().visit(tree)


def redact_a3_questions(path: Path) -> list[str]:
    """Keep a3's stated values and text, drop every computed truth and helper; return the names dropped."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    body, dropped = [], []
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "reference":
            continue
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            dropped.append(node.name)
            continue
        if isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names = [n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)]
            if names and all(n in A3_STATED for n in names):
                body.append(node)
                continue
            for name in names:
                if name != "_":
                    body.append(ast.parse(f"{name} = None").body[0])
                    dropped.append(name)
            continue
        body.append(node)
    tree.body = body
    path.write_text(_header(path) + ast.unparse(ast.fix_missing_locations(tree)) + "\n", encoding="utf-8")
    return dropped


def neutral(answer: str) -> str:
    """A syntax example in place of a model answer: the same shape with other names (X -> A, axis=1 -> 0)."""
    renamed = re.sub(r"\b[XYWS]\b", lambda m: {"X": "A", "Y": "B", "W": "V", "S": "T"}[m.group()], answer)
    return renamed.replace("axis=1", "axis=0")


def string_spans(source: str) -> list[tuple[int, int]]:
    """Character spans of the string literals and comments of a Python source."""
    starts = [0]
    for line in source.splitlines(keepends=True):
        starts.append(starts[-1] + len(line))
    spans = []
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type in (tokenize.STRING, tokenize.COMMENT):
            (r0, c0), (r1, c1) = token.start, token.end
            spans.append((starts[r0 - 1] + c0, starts[r1 - 1] + c1))
    return spans


def neutralize_examples(path: Path, answers: list[str]) -> int:
    """Replace model answers quoted in a module's strings and comments (syntax examples) by neutral ones."""
    source = path.read_text(encoding="utf-8")
    pieces, last, count = [], 0, 0
    for start, end in string_spans(source):
        text = source[start:end]
        for answer in sorted(answers, key=len, reverse=True):
            count += text.count(answer)
            text = text.replace(answer, neutral(answer))
        pieces += [source[last:start], text]
        last = end
    if count:
        path.write_text("".join(pieces) + source[last:], encoding="utf-8")
    return count


def redact_a1_standins(path: Path) -> None:
    """Drop the grader's stand-ins for a1's components (they are the handout's formulas, i.e. answers)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", "") == "SOURCES" for t in node.targets):
            node.value = ast.Dict(keys=[], values=[])
    path.write_text(_header(path) + ast.unparse(tree) + "\n", encoding="utf-8")


def _header(path: Path) -> str:
    return f"# {path.name} of the student build: answer keys removed by grader/packaging/redact.py.\n"


def redact(staged_grader: Path) -> dict[str, dict[str, str]]:
    """Rewrite the staged copy of ``grader/``; return the checks hidden as a result (assignment -> id -> why)."""
    from grader.api import get_assignment

    answers = redact_a2_questions(staged_grader / "assignments" / "a2" / "questions.py")
    redact_a3_questions(staged_grader / "assignments" / "a3" / "questions.py")
    redact_a1_standins(staged_grader / "assignments" / "a1" / "standins.py")
    for path in staged_grader.rglob("*.py"):
        if "packaging" not in path.relative_to(staged_grader).parts:
            neutralize_examples(path, answers)
    a3 = get_assignment("a3")
    return {"a3": {c.id: HIDDEN_WHY for c in a3.checks if c.task in A3_HIDDEN_TASKS and c.id not in A3_PUBLIC}}

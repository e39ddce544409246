"""The wheel's gate judges expressions, not strings: an equivalent spelling of an answer fails the build."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from grader import docs
from grader.assignments.a2.questions import QUESTIONS
from grader.cli import main
from grader.packaging.equivalents import answers_in, pieces
from grader.packaging.inspect_wheel import inspect_wheel

ROOT = Path(__file__).resolve().parents[2]

# Spellings of a2's and a3's answers that share no string with the keys (G @ W.T, X.T @ G, ...).
EQUIVALENTS = {
    "grader/hint.py": 'HINT = "try np.dot(G, np.transpose(W)) here"\n',
    "grader/other.py": "# dW is (G.T @ X).T, see\nx = 1\n",
    "grader/docs_data/guide.md": "Write `np.matmul(G, W.transpose())` for the product.\n",
    "grader/docs_data/latex.md": "In LaTeX: $G W^\\top$ is fine.\n",
    "student_template/a2/notes.txt": "dY is -(G*X)/(Y*Y), of course\n",
    "grader/sum.py": 'MESSAGE = "the example np.sum(G, 1) sums rows"\n',
    "grader/count.md": "count = (D_in+1)*H_1 + (H_1+1)*H_2 + (H_2+1)*D_out\n",
    # A hint that completes the known wrong answer G / S into the normalize answer.
    "grader/complete.py": 'HINT = "Add the term -(G * X).sum(axis=1, keepdims=True) / S**2."\n',
    "grader/block.md": "The weights: K*K*C_1*(C_in + C_2), see\n",
    "grader/batches.py": "# floor((N + B - 1) / B) batches\nx = 1\n",
    "grader/docs_data/loss.md": "In LaTeX: $\\log(\\exp(z_0)+\\exp(z_1)+\\exp(z_2)) - z_0$.\n",
    # A hint that completes the known wrong loss -z_0 (the softmax's normalization forgotten).
    "grader/normalize.py": 'HINT = "Add log(exp(z_0) + exp(z_1) + exp(z_2))."\n',
}


def _wheel(members: dict[str, str], path: Path) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, text in members.items():
            archive.writestr(name, text)
    return path


@pytest.mark.parametrize("name", sorted(EQUIVALENTS))
def test_the_gate_fails_on_an_equivalent_spelling(name, tmp_path):
    findings = inspect_wheel(_wheel({name: EQUIVALENTS[name]}, tmp_path / "fake.whl"), ROOT)
    assert any("worth the answer" in leak for leak in findings.leaks), (name, findings.leaks)


def test_the_gate_passes_syntax_examples_from_no_question(tmp_path):
    clean = {"grader/ok.py": 'HINT = "write A.T @ G, np.dot(A, B.T) or A.sum(axis=1, keepdims=True)"\n',
             "grader/prose.md": "G is the upstream gradient; X / Y is the forward. G / S alone is wrong.\n"}
    assert inspect_wheel(_wheel(clean, tmp_path / "clean.whl"), ROOT).leaks == []


def test_pieces_are_found_inside_prose():
    found = pieces("NumPy syntax (G / Y, np.dot(G, W.T), G.sum(axis=1, keepdims=True); see", frozenset("GWYX"))
    assert {"G / Y", "np.dot(G, W.T)", "G.sum(axis=1, keepdims=True)"} <= found


def test_show_a2_the_hints_and_the_docs_hold_no_answer():
    """What a student reads: `dlgrade show a2`, every hint of a known mistake, every page of `dlgrade docs`."""
    shown = CliRunner().invoke(main, ["show", "a2"], terminal_width=200)
    assert shown.exit_code == 0 and "[matmul_backward]" in shown.output
    assert answers_in(shown.output) == []
    for question in QUESTIONS:
        for _, hint in question.mistakes:
            assert answers_in(hint) == [], (question.table, question.key, hint)
    for page in docs.PAGES:
        assert answers_in(docs.read_page(page)) == [], page


def test_show_a3_its_hints_and_its_template_hold_no_answer():
    """`dlgrade show a3`, every string of a3's checks (the hints of its formulas' known mistakes) and its
    starter answers.toml: no formula answer, and no piece that completes a known wrong one."""
    from grader.packaging.redact import string_spans

    shown = CliRunner().invoke(main, ["show", "a3"], terminal_width=200)
    assert shown.exit_code == 0 and "[cnn_block]" in shown.output
    assert answers_in(shown.output) == []
    source = (ROOT / "grader" / "assignments" / "a3" / "answers.py").read_text()
    strings = [source[a:b] for a, b in string_spans(source)]
    assert any("Biases are excluded" in text for text in strings)
    for text in strings:
        assert answers_in(text) == [], text
    assert answers_in((ROOT / "student_template" / "a3" / "answers.toml").read_text()) == []

"""The handouts and the answer guide travel with dlgrade: `dlgrade docs`, and no message points elsewhere."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from click.testing import CliRunner

from grader import docs
from grader.cli import main

ROOT = Path(__file__).resolve().parents[2]


def test_every_page_prints_as_plain_markdown_when_piped():
    runner = CliRunner()
    for name in docs.PAGES:
        done = runner.invoke(main, ["docs", name])
        assert done.exit_code == 0, done.output
        assert done.output.lstrip().startswith("#")  # the Markdown source, no terminal formatting
        assert ".md)" not in done.output, name  # links became `dlgrade docs PAGE`
    assert "`dlgrade docs answers`" in runner.invoke(main, ["docs", "a2"]).output
    assert "dlgrade docs answers" in runner.invoke(main, ["show", "a2"], terminal_width=300).output
    listing = runner.invoke(main, ["docs"])
    assert listing.exit_code == 0 and all(name in listing.output for name in docs.PAGES)
    unknown = runner.invoke(main, ["docs", "a9"])
    assert unknown.exit_code == 2 and "Traceback" not in unknown.output


def test_staged_pages_are_read_from_the_package(tmp_path, monkeypatch):
    written = docs.stage_pages(ROOT, tmp_path / "docs_data")
    assert len(written) == len(docs.PAGES)
    monkeypatch.setattr(docs, "PACKAGED", tmp_path / "docs_data")
    monkeypatch.setattr(docs, "CHECKOUT", tmp_path / "nowhere")
    assert docs.page_path("answers").parent == tmp_path / "docs_data"
    assert "Writing answers" in docs.read_page("answers") or docs.read_page("answers").startswith("#")


def _messages(path: Path) -> list[str]:
    """The string literals of a module that are not docstrings (what a student may be shown)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {id(n.body[0].value) for n in ast.walk(tree)
                  if isinstance(n, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and n.body
                  and isinstance(n.body[0], ast.Expr) and isinstance(n.body[0].value, ast.Constant)}
    return [n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)
            and id(n) not in docstrings]


def test_no_message_sends_a_student_to_a_file_they_do_not_have():
    """A student has no docs/ folder: every "see ..." in a message names `dlgrade docs PAGE`."""
    pointer = re.compile(r"\b(?:docs|handouts)/[\w./-]*\.md|\b[\w-]+\.md\b")
    shown = [(str(path.relative_to(ROOT)), text[:80]) for path in (ROOT / "grader").rglob("*.py")
             if not {"packaging", "authoring"} & set(path.parts) and path.name != "docs.py"  # staff tools
             for text in _messages(path) if pointer.search(text) and "package-data" not in text]
    assert shown == []

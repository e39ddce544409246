"""The handouts in docs/ and the starter files agree: every file and public name is documented."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from grader import api

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("assignment", ["a1", "a2", "a3", "a4"])
def test_handout_names_every_file_and_public_name(assignment):
    page = (ROOT / "docs" / "handouts" / f"{assignment}.md").read_text()
    for path in api.starter_files(assignment):
        assert f"`{path.name}`" in page or path.name in page, path.name
        if path.suffix != ".py":
            continue
        tree = ast.parse(path.read_text())
        names = [n.name for n in tree.body if isinstance(n, (ast.ClassDef, ast.FunctionDef))
                 and not n.name.startswith("_")]
        missing = [name for name in names if name not in page]
        assert not missing, f"{assignment}: {missing} not in the handout"


def test_index_lists_every_assignment():
    index = (ROOT / "docs" / "handouts" / "README.md").read_text()
    for assignment in ("a1", "a2", "a3", "a4"):
        assert f"({assignment}.md)" in index

"""The public authoring API: one module a course imports, and the built-ins import nothing else from dlgrade."""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from pathlib import Path

import pytest

import grader.authoring as authoring

ASSIGNMENTS = Path(__file__).resolve().parents[2] / "grader" / "assignments"


def _grader_imports(path: Path) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found += [(node.lineno, node.module)]
        elif isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
    return [(line, name) for line, name in found if name.split(".")[0] == "grader"]


def test_builtins_import_only_the_authoring_module():
    """a1-a4 are the first course: besides their own package they import grader.authoring only."""
    offending = []
    files = sorted(ASSIGNMENTS.rglob("*.py"))
    assert len(files) > 20
    for path in files:
        for line, name in _grader_imports(path):
            if name != "grader.authoring" and not name.startswith("grader.assignments"):
                offending.append(f"{path.relative_to(ASSIGNMENTS.parent)}:{line}: {name}")
    assert offending == []


def test_the_scan_sees_an_offending_import(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("def f():\n    from grader.checks.compare import assert_close\nimport grader.oracle\n")
    assert sorted(_grader_imports(bad)) == [(2, "grader.checks.compare"), (3, "grader.oracle")]


@pytest.mark.parametrize("name", authoring.__all__)
def test_every_public_name_resolves_and_is_documented(name):
    value = getattr(authoring, name)
    assert value is not None
    assert (getattr(value, "__doc__", None) or "").strip(), f"grader.authoring.{name} has no docstring"


def test_unknown_name_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        authoring.nope  # noqa: B018
    with pytest.raises(ImportError):
        exec("from grader.authoring import nope", {})


def test_importing_the_module_imports_nothing_heavy():
    """Names load on first use: importing grader.authoring pulls neither SymPy nor the sandbox."""
    code = ("import sys, grader.authoring; "
            "print(sorted(m for m in ('sympy', 'numpy', 'grader.runner.sandbox', 'grader.checks.symbolic') "
            "if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_same_objects_as_their_home_modules():
    assert authoring.Assignment is importlib.import_module("grader.assignment").Assignment
    assert authoring.judge_gradient is importlib.import_module("grader.checks.symbolic").judge
    assert authoring.oracle is importlib.import_module("grader.oracle")


def test_the_reference_documents_every_public_name_and_field():
    import dataclasses

    from grader.assignment import Assignment

    doc = (Path(__file__).resolve().parents[2] / "docs" / "authoring.md").read_text(encoding="utf-8")
    assert [n for n in authoring.__all__ if f"`{n}" not in doc] == []
    assert [f.name for f in dataclasses.fields(Assignment) if f"`{f.name}" not in doc] == []

"""Find imports of forbidden modules in student source, without running it.

The sandbox also blocks these imports at run time, but the sandbox's report
comes from the untrusted process; this static scan runs in the parent and is
what the verdict relies on.
"""

from __future__ import annotations

import ast

IMPORT_FUNCTIONS = {"__import__", "import_module"}


def forbidden_imports(source: str, forbidden: tuple[str, ...]) -> list[str]:
    """Names of forbidden top-level modules that ``source`` imports, in order of appearance."""
    if not forbidden:
        return []
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return []  # reported as a syntax error when the module is loaded
    found: list[str] = []

    def note(module: str | None) -> None:
        top = (module or "").split(".")[0]
        if top in forbidden and top not in found:
            found.append(top)

    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                note(alias.name)
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            note(node.module)
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            func = node.func
            name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
            if name in IMPORT_FUNCTIONS and isinstance(node.args[0].value, str):
                note(node.args[0].value)
    return found

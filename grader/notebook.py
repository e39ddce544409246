"""Turn a Jupyter notebook into the module files an assignment expects.

Courses hand out notebooks; the grader imports modules. This module reads a
notebook with ``nbformat`` (validated, any nbformat 4 minor version, older
majors converted), keeps what a module needs and leaves out what it must not
run before every check:

- ``from __future__`` imports are hoisted to the top (they are legal only there);
- IPython magics (``%time``, ``%%capture``), shell lines (``!pip install``) and
  help lines (``obj?``) are left out, with a note;
- only definitions run: imports, functions, classes, constant assignments, and
  assignments that a kept function or class refers to by name. Training runs,
  plots and prints stay out (with a note naming their cells) unless the
  assignment asks for every statement (``notebook_statements="all"``);
- an import of a package the grader does not provide to submissions (matplotlib,
  seaborn, tqdm, pandas... anything outside the standard library and the
  assignment's ``importable`` packages) is left out with a note, so a notebook
  that plots in a later cell still grades; where a kept definition uses the
  name it binds, the note names the package, the definition and both cells;
- every line of the generated module remembers its cell and line, so that a
  student's error is reported as "cell 4, line 2", not as a line of a file the
  student never wrote.

The notebook is student data read in the parent: its size is capped before it
is read, its JSON depth is bounded, and every malformed notebook is a
``SubmissionError`` with one plain sentence.
"""

from __future__ import annotations

import ast
import json
import sys
import warnings
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path

from grader.errors import SubmissionError

MAX_NOTEBOOK_BYTES = 20 * 1024 * 1024
DEFINITIONS = (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


@dataclass(frozen=True)
class NotebookModule:
    """The code a notebook contributes, and where each of its lines came from."""

    code: str
    origins: tuple[str, ...]  # one "cell N, line M" per line of ``code`` ("" for generated lines)
    notes: tuple[str, ...] = field(default_factory=tuple)


def _parse(path: Path, data: bytes):
    import nbformat  # imported on demand: only notebook submissions pay for it

    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise SubmissionError(f"{path.name} is not a Jupyter notebook: it is not UTF-8 text.") from None
    try:
        raw = json.loads(text)
    except RecursionError:
        raise SubmissionError(f"{path.name} is not a Jupyter notebook: its JSON nests deeper than the grader "
                              "reads.") from None
    except ValueError as exc:
        raise SubmissionError(f"{path.name} is not a Jupyter notebook: its JSON is malformed ({exc}).") from None
    if not isinstance(raw, dict) or not isinstance(raw.get("nbformat"), int):
        raise SubmissionError(f"{path.name} is not a Jupyter notebook: it has no nbformat version.")
    if raw["nbformat"] < 3 or raw["nbformat"] > 4:
        raise SubmissionError(f"{path.name} is nbformat {raw['nbformat']}; the grader reads versions 3 and 4 "
                              "(save it again from Jupyter).")
    try:
        with warnings.catch_warnings():  # e.g. missing cell ids: nbformat fixes them, the student need not know
            warnings.simplefilter("ignore")
            reader = nbformat.versions[raw["nbformat"]].nbjson.JSONReader()  # the JSON parsed once, above
            notebook = nbformat.convert(reader.to_notebook(raw), 4)
            nbformat.validate(notebook)
    except nbformat.ValidationError as exc:
        where = "/".join(str(p) for p in list(getattr(exc, "absolute_path", []))[:6])
        reason = str(getattr(exc, "message", exc)).splitlines()[0][:200]
        raise SubmissionError(f"{path.name} is not a valid Jupyter notebook"
                              f"{f' (at {where})' if where else ''}: {reason}") from None
    except Exception as exc:  # nbformat raises several types for broken files; all are the student's file
        raise SubmissionError(f"{path.name} is not a valid Jupyter notebook ({type(exc).__name__}).") from None
    return notebook


def _strip_ipython(source: str, cell: int, notes: list[str]) -> list[str]:
    """The cell's lines with magics, shell and help lines blanked (kept as blank lines: numbering holds)."""
    lines = source.split("\n")
    if lines and lines[0].lstrip().startswith("%%"):
        notes.append(f"cell {cell}: a cell magic ({lines[0].strip()[:40]}) is not Python; the cell was left out")
        return [""] * len(lines)
    kept = []
    for line in lines:
        stripped = line.strip()
        help_line = stripped.endswith("?") and stripped.rstrip("?").replace(".", "").isidentifier()
        if stripped.startswith(("%", "!")) or help_line:
            notes.append(f"cell {cell}: the IPython line `{stripped[:40]}` was ignored")
            kept.append("")
        else:
            kept.append(line)
    return kept


def _names_loaded(node: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}


def _targets(node: ast.AST) -> set[str]:
    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
    return {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}


def _is_main_guard(node: ast.AST) -> bool:
    test = getattr(node, "test", None)
    return (isinstance(node, ast.If) and isinstance(test, ast.Compare) and isinstance(test.left, ast.Name)
            and test.left.id == "__name__")


def _keep(statements: list[tuple[int, ast.stmt]], everything: bool) -> tuple[set[int], set[int]]:
    """Indexes of statements to keep, and of those left out (so the notes can name their cells)."""
    if everything:
        return set(range(len(statements))), set()
    keep = {i for i, (_, s) in enumerate(statements) if isinstance(s, DEFINITIONS)}
    # try/except around imports (optional dependencies) is a definition too.
    keep |= {i for i, (_, s) in enumerate(statements)
             if isinstance(s, ast.Try) and all(isinstance(b, (ast.Import, ast.ImportFrom)) for b in s.body)}
    assigns = {i: s for i, (_, s) in enumerate(statements) if isinstance(s, (ast.Assign, ast.AnnAssign))}
    # Constants (no calls) are cheap and safe; an assignment with calls stays only if a kept definition uses it.
    keep |= {i for i, s in assigns.items() if not any(isinstance(n, ast.Call) for n in ast.walk(s))}
    changed = True
    while changed:
        used = set().union(*(_names_loaded(statements[i][1]) for i in keep)) if keep else set()
        added = {i for i, s in assigns.items() if i not in keep and _targets(s) & used}
        keep |= added
        changed = bool(added)
    dropped = {i for i, (_, s) in enumerate(statements) if i not in keep and not _is_main_guard(s)}
    return keep, dropped


def _import_tops(statement: ast.stmt) -> list[tuple[str, str]]:
    """(top-level package, name bound) for each name an import statement binds; [] for other statements."""
    if isinstance(statement, ast.Import):
        return [(a.name.split(".")[0], (a.asname or a.name).split(".")[0]) for a in statement.names]
    if isinstance(statement, ast.ImportFrom) and statement.level == 0 and statement.module:
        return [(statement.module.split(".")[0], a.asname or a.name) for a in statement.names]
    return []


def _unavailable_imports(body: list[tuple[int, ast.stmt, list[str]]], keep: set[int], importable: Collection[str],
                         notes: list[str]) -> set[int]:
    """Indexes of kept import statements whose packages the sandbox does not provide: to be left out, with notes.

    Available are the standard library, ``importable`` (the assignment's packages and the submission's own
    modules). An import that binds several names is left out whole when any of its packages is missing.
    """
    available = set(sys.stdlib_module_names) | set(importable) | {"__future__"}
    missing: dict[int, list[tuple[str, str]]] = {}
    for index in keep:
        tops = _import_tops(body[index][1])
        if any(top not in available for top, _ in tops):
            missing[index] = tops
    if not missing:
        return set()
    users: dict[str, list[tuple[str, int]]] = {}  # bound name -> (definition, cell) of kept statements using it
    for index in keep - missing.keys():
        cell, statement, _ = body[index]
        label = getattr(statement, "name", None) or f"the statement at cell {cell}, line {statement.lineno}"
        for name in _names_loaded(statement):
            users.setdefault(name, []).append((label, cell))
    for index, tops in sorted(missing.items()):
        cell, statement, _ = body[index]
        packages = sorted({top for top, _ in tops if top not in available})
        package_text = " and ".join(packages)
        where = f"cell {cell}"
        uses = [(name, label, user_cell) for _, name in tops for label, user_cell in users.get(name, [])]
        if uses:
            name, label, user_cell = uses[0]
            notes.append(f"{where}: the grader does not provide {package_text}, so its import was left out; but "
                         f"`{label}` (cell {user_cell}) uses `{name}` from it and fails when a check calls it: keep "
                         f"{package_text} out of the graded code (plots and progress bars belong in cells the "
                         "grader does not run)")
        else:
            notes.append(f"{where}: the grader does not provide {package_text} and no graded code uses it, so its "
                         "import was left out")
    return set(missing)


def notebook_module(path: Path, statements: str = "definitions",
                    importable: Collection[str] | None = None) -> NotebookModule:
    """Read the notebook at ``path`` and build the module its code cells define.

    ``importable``: the top-level packages a submission may import beyond the standard library (the
    assignment's); imports of anything else are left out as the module docstring says. None keeps every import.
    """
    from grader.submission import read_regular  # (submission.py imports this module)

    notebook = _parse(path, read_regular(path, path.name, MAX_NOTEBOOK_BYTES))
    notes: list[str] = []
    future: list[tuple[str, str]] = []
    body: list[tuple[int, ast.stmt, list[str]]] = []  # (cell number, statement, the cell's lines)
    code_cells = 0
    for number, cell in enumerate(notebook.cells, 1):
        if cell.cell_type != "code":
            continue
        code_cells += 1
        lines = _strip_ipython(cell.source, number, notes)
        try:
            tree = ast.parse("\n".join(lines))
        except SyntaxError as exc:
            raise SubmissionError(f"{path.name}, cell {number}, line {exc.lineno}: syntax error: {exc.msg}.") from None
        except (ValueError, RecursionError, MemoryError):
            raise SubmissionError(f"{path.name}, cell {number}: the code cannot be parsed (too deeply nested?).") \
                from None
        for statement in tree.body:
            if isinstance(statement, ast.ImportFrom) and statement.module == "__future__":
                future.append((ast.get_source_segment("\n".join(lines), statement) or "", f"cell {number}, line "
                               f"{statement.lineno}"))
            else:
                body.append((number, statement, lines))
    if code_cells == 0:
        raise SubmissionError(f"{path.name} has no code cells.")
    keep, dropped = _keep([(c, s) for c, s, _ in body], statements == "all")
    if importable is not None:
        keep -= _unavailable_imports(body, keep, importable, notes)
    left_out = sorted({body[i][0] for i in dropped})
    if left_out:
        notes.append("not run by the grader (only imports, functions, classes and constants are): statements in "
                     f"cell{'s' if len(left_out) > 1 else ''} {', '.join(map(str, left_out))}")
    code: list[str] = []
    origins: list[str] = []
    for text, origin in future:
        code.append(text)
        origins.append(origin)
    for index, (cell, statement, lines) in enumerate(body):
        if index not in keep:
            continue
        start = min([statement.lineno, *(d.lineno for d in getattr(statement, "decorator_list", []))])
        end = statement.end_lineno or statement.lineno
        for line_number in range(start, end + 1):
            code.append(lines[line_number - 1])
            origins.append(f"cell {cell}, line {line_number}")
    return NotebookModule(code="\n".join(code) + "\n", origins=tuple(origins), notes=tuple(notes))


def locate(origins: tuple[str, ...], line: int) -> str | None:
    """The notebook position of ``line`` (1-based) of the generated module, if it has one."""
    if 1 <= line <= len(origins) and origins[line - 1]:
        return origins[line - 1]
    return None

"""Mutants of a reference: small AST edits a student might make, each one a wrong program (mostly).

``mutants(source, name)`` lists every edit it can make to ``source``, each with its place and a
description, ``file:line: change``. The edits:

- arithmetic operators swapped (``+ -> -``, ``* -> /``, ``@ -> *``, ``** -> *``), comparisons loosened
  or tightened (``< -> <=``);
- signs flipped (``-x -> x``);
- numeric constants shifted by one or scaled (``2 -> 3``, ``0.5 -> 1.0``);
- ``axis=`` changed or dropped, ``keepdims`` flipped;
- a transpose dropped (``.T``, ``np.transpose``), or added to a matrix product's left operand;
- one term of a sum or difference dropped (``a + b -> a``);
- ``return <expr>`` turned into a return of the function's first input;
- in place turned into a copy (``x += y -> x = x + y``), and ``.copy()`` dropped.

In a file with solution markers, only the lines inside the solution blocks are mutated: the
rest is the starter code the student is given. Nothing here runs the mutants.
"""

from __future__ import annotations

import ast
import copy
import random
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

_SWAPS: dict[type, tuple[type, ...]] = {
    ast.Add: (ast.Sub,), ast.Sub: (ast.Add,), ast.Mult: (ast.Div, ast.Add), ast.Div: (ast.Mult,),
    ast.MatMult: (ast.Mult,), ast.Pow: (ast.Mult,), ast.FloorDiv: (ast.Div,),
}
_COMPARE_SWAPS: dict[type, type] = {ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt}
_SYMBOL = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.MatMult: "@", ast.Pow: "**",
           ast.FloorDiv: "//", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">="}
_BEGIN = re.compile(r"^\s*#\s*BEGIN SOLUTION\b")
_END = re.compile(r"^\s*#\s*END SOLUTION\b")


@dataclass(frozen=True)
class Mutant:
    """One edit of one file: where (``file:line``), in which function, what, and the mutated source."""

    file: str
    line: int
    function: str
    change: str
    source: str

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}: {self.change}"


def solution_lines(source: str) -> set[int] | None:
    """The line numbers inside solution blocks, or None when the file has no markers (all lines count)."""
    inside, lines, seen = False, set(), False
    for number, line in enumerate(source.splitlines(), start=1):
        if _BEGIN.match(line):
            inside = seen = True
        elif _END.match(line):
            inside = False
        elif inside:
            lines.add(number)
    return lines if seen else None


def _functions(tree: ast.AST) -> dict[int, str]:
    """Each node's id -> the qualified name of the function it is in ("<module>" outside any)."""
    owner: dict[int, str] = {}

    def visit(node: ast.AST, name: str) -> None:
        for child in ast.iter_child_nodes(node):
            inner = name
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                inner = child.name if name == "<module>" else f"{name}.{child.name}"
            owner[id(child)] = inner
            visit(child, inner)

    visit(tree, "<module>")
    return owner


Edit = tuple[str, Callable[[ast.AST, ast.AST], ast.AST | None]]  # description, (node, function) -> replacement


def _edits(node: ast.AST, function: ast.AST | None) -> Iterator[Edit]:
    if isinstance(node, ast.BinOp):
        for new in _SWAPS.get(type(node.op), ()):
            yield (f"{_SYMBOL[type(node.op)]} -> {_SYMBOL[new]}",
                   lambda n, f, new=new: ast.BinOp(n.left, new(), n.right))
        if isinstance(node.op, (ast.Add, ast.Sub)):
            yield (f"drop the term after {_SYMBOL[type(node.op)]}", lambda n, f: n.left)
            if isinstance(node.op, ast.Add):
                yield ("drop the term before +", lambda n, f: n.right)
        if isinstance(node.op, ast.MatMult) and not _is_transpose(node.left):
            yield ("transpose the left operand of @",
                   lambda n, f: ast.BinOp(ast.Attribute(n.left, "T", ast.Load()), ast.MatMult(), n.right))
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        yield ("flip the sign (-x -> x)", lambda n, f: n.operand)
    elif isinstance(node, ast.Compare) and len(node.ops) == 1 and type(node.ops[0]) in _COMPARE_SWAPS:
        old = type(node.ops[0])
        yield (f"{_SYMBOL[old]} -> {_SYMBOL[_COMPARE_SWAPS[old]]}",
               lambda n, f: ast.Compare(n.left, [_COMPARE_SWAPS[type(n.ops[0])]()], n.comparators))
    elif isinstance(node, ast.Constant) and type(node.value) in (int, float) and not isinstance(node.value, bool):
        value = node.value
        for new in dict.fromkeys((value + 1, value - 1) if isinstance(value, int) else (value * 2, value + 1)):
            yield (f"constant {value!r} -> {new!r}", lambda n, f, new=new: ast.Constant(new))
    elif isinstance(node, ast.keyword) and node.arg == "axis":
        yield ("drop axis=", lambda n, f: None)
        if isinstance(node.value, ast.Constant) and isinstance(node.value.value, int):
            new = 0 if node.value.value != 0 else 1
            yield (f"axis={node.value.value} -> axis={new}",
                   lambda n, f, new=new: ast.keyword("axis", ast.Constant(new)))
    elif isinstance(node, ast.keyword) and node.arg == "keepdims" and isinstance(node.value, ast.Constant):
        yield (f"keepdims={node.value.value} -> {not node.value.value}",
               lambda n, f: ast.keyword("keepdims", ast.Constant(not n.value.value)))
    elif isinstance(node, ast.Attribute) and node.attr == "T":
        yield ("drop .T", lambda n, f: n.value)
    elif isinstance(node, ast.Call) and _is_transpose(node) and node.args:
        yield ("drop transpose(...)", lambda n, f: n.args[0])
    elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "copy"
          and not node.args):
        yield ("drop .copy()", lambda n, f: n.func.value)
    elif isinstance(node, ast.Return) and node.value is not None and function is not None:
        inputs = [a.arg for a in function.args.args if a.arg not in ("self", "cls")]
        if inputs and not (isinstance(node.value, ast.Name) and node.value.id == inputs[0]):
            yield (f"return {inputs[0]} (an input)",
                   lambda n, f, name=inputs[0]: ast.Return(ast.Name(name, ast.Load())))
    elif isinstance(node, ast.AugAssign) and isinstance(node.target, (ast.Name, ast.Attribute)):
        # (x[i] += y and x[i] = x[i] + y both write into x: no mutant there)
        yield ("in place -> a copy (x op= y -> x = x op y)",
               lambda n, f: ast.Assign([n.target], ast.BinOp(_load(n.target), n.op, n.value)))


def _is_transpose(node: ast.AST) -> bool:
    if isinstance(node, ast.Attribute):
        return node.attr == "T"
    if isinstance(node, ast.Call):
        func = node.func
        return (isinstance(func, ast.Attribute) and func.attr == "transpose") or (
            isinstance(func, ast.Name) and func.id == "transpose")
    return False


def _load(target: ast.AST) -> ast.AST:
    loaded = copy.deepcopy(target)
    loaded.ctx = ast.Load()
    return loaded


def _docstring_ids(tree: ast.AST) -> set[int]:
    ids = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                ids.add(id(first.value))
    return ids


def mutants(source: str, name: str) -> list[Mutant]:
    """Every mutant of ``source`` (the file ``name``), in the order of the file."""
    tree = ast.parse(source)
    allowed = solution_lines(source)
    nodes = list(ast.walk(tree))
    owners = _functions(tree)
    defs = {n.name if owners.get(id(n)) in (None, "<module>") else f"{owners[id(n)]}": n for n in nodes
            if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
    skip = _docstring_ids(tree)
    found: list[Mutant] = []
    seen = {ast.unparse(tree)}
    for index, node in enumerate(nodes):
        line = getattr(node, "lineno", None)
        if line is None and isinstance(node, ast.keyword):
            line = node.value.lineno
        if line is None or id(node) in skip or (allowed is not None and line not in allowed):
            continue
        function_name = owners.get(id(node), "<module>")
        function = defs.get(function_name)
        for number, (change, _) in enumerate(_edits(node, function)):
            mutated = _apply(source, index, number)
            if mutated is not None and mutated not in seen:  # two edits that make the same program count once
                seen.add(mutated)
                found.append(Mutant(name, line, function_name, change, mutated))
    return sorted(found, key=lambda m: m.line)


def _apply(source: str, index: int, number: int) -> str | None:
    """``source`` with edit ``number`` of node ``index`` (in ast.walk order) applied, or None if it is no change."""
    tree = ast.parse(source)
    nodes = list(ast.walk(tree))
    owners = _functions(tree)
    defs = {n.name if owners.get(id(n)) in (None, "<module>") else owners[id(n)]: n for n in nodes
            if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
    target = nodes[index]
    function = defs.get(owners.get(id(target), "<module>"))
    _, make = list(_edits(target, function))[number]
    replacement = make(target, function)
    if not _replace(tree, target, replacement):
        return None
    ast.fix_missing_locations(tree)
    try:
        mutated = ast.unparse(tree)
        compile(mutated, "<mutant>", "exec")
    except (SyntaxError, ValueError, TypeError):
        return None
    return mutated


def _replace(tree: ast.AST, target: ast.AST, replacement: ast.AST | None) -> bool:
    for parent in ast.walk(tree):
        for field, value in ast.iter_fields(parent):
            if value is target:
                if replacement is None:
                    return False
                setattr(parent, field, replacement)
                return True
            if isinstance(value, list) and any(item is target for item in value):
                position = next(i for i, item in enumerate(value) if item is target)
                if replacement is None:
                    del value[position]
                else:
                    value[position] = replacement
                return True
    return False


def sample(found: list[Mutant], limit: int | None, seed: int = 0) -> list[Mutant]:
    """At most ``limit`` of ``found`` (a fixed sample, in file order); all of them when ``limit`` is None."""
    if limit is None or len(found) <= limit:
        return list(found)
    chosen = set(random.Random(seed).sample(range(len(found)), limit))
    return [m for i, m in enumerate(found) if i in chosen]

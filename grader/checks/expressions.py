"""A small, safe expression language for written answers: parse, echo, evaluate.

Students write gradients in NumPy-like syntax (``-G * X / Y**2``,
``X.T @ G``, ``G.sum(axis=1)``) or in LaTeX between ``$...$`` (see
``latex.py``). The text is parsed with ``ast.parse`` (which runs nothing)
and converted by a whitelisted walk into a tree of ``Node`` tuples; anything
outside the whitelist (attributes other than ``.T``/``.sum``, names that are
not declared symbols or known functions, strings, huge exponents, deep
nesting) is rejected with a message. Nothing is ever ``eval``-ed, and SymPy
only ever sees trees built here, never the student's string.

The tree is evaluated with NumPy (tensor semantics: ``*`` element-wise,
``@`` matrix product) or converted to SymPy for element-wise forms.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

MAX_LENGTH = 1000
MAX_NODES = 300
MAX_DEPTH = 40
MAX_EXPONENT = 8

FUNCTIONS = {
    "exp": np.exp,
    "log": np.log,
    "sqrt": np.sqrt,
    "tanh": np.tanh,
    "abs": np.abs,
    "sigmoid": lambda x: 1.0 / (1.0 + np.exp(-x)),
    "ones_like": np.ones_like,
}
REDUCTIONS = {"sum", "mean"}


class ExpressionError(ValueError):
    """The answer is not a valid, allowed expression; the message says why."""


@dataclass(frozen=True)
class Node:
    """One node: kind in num, sym, neg, bin, call, T, reduce."""

    kind: str
    value: object = None
    args: tuple = ()
    axis: int | None = None
    keepdims: bool = False

    def __str__(self) -> str:
        return render(self)


_BINOPS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**", ast.MatMult: "@"}
_PRECEDENCE = {"+": 1, "-": 1, "*": 2, "/": 2, "@": 2, "**": 4}


def parse(text: str, symbols: Mapping[str, object], functions: tuple[str, ...] = ()) -> Node:
    """Parse ``text`` into a tree; ``symbols`` and ``functions`` are the allowed names."""
    if not isinstance(text, str):
        raise ExpressionError(f"expected a string, got {type(text).__name__}")
    if len(text) > MAX_LENGTH:
        raise ExpressionError(f"the answer is {len(text)} characters long; at most {MAX_LENGTH} are accepted")
    text = text.strip()
    if text.startswith("$") and text.endswith("$") and len(text) >= 2:
        from grader.checks.latex import latex_to_python

        text = latex_to_python(text.strip("$"))
    if not text:
        raise ExpressionError("the answer is empty")
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError as exc:
        raise ExpressionError(f"cannot read the expression: {exc.msg}") from None
    except (RecursionError, MemoryError, ValueError):
        raise ExpressionError("the expression is nested too deeply") from None
    builder = _Builder(set(symbols), set(functions) | set(FUNCTIONS))
    return builder.build(tree.body, 0)


class _Builder:
    def __init__(self, symbols: set[str], functions: set[str]):
        self.symbols, self.functions, self.count = symbols, functions, 0

    def build(self, node: ast.AST, depth: int) -> Node:
        self.count += 1
        if self.count > MAX_NODES:
            raise ExpressionError(f"the expression has more than {MAX_NODES} parts")
        if depth > MAX_DEPTH:
            raise ExpressionError("the expression is nested too deeply")
        d = depth + 1
        if isinstance(node, ast.Constant):
            if isinstance(node.value, bool) or not isinstance(node.value, (int, float)):
                raise ExpressionError(f"only numbers are allowed as constants, not {node.value!r}"[:120])
            if not np.isfinite(node.value) or abs(node.value) > 1e12:
                raise ExpressionError("constants must be finite numbers below 1e12")
            return Node("num", float(node.value))
        if isinstance(node, ast.Name):
            if node.id in self.symbols:
                return Node("sym", node.id)
            raise ExpressionError(f"unknown name {node.id!r}; use {', '.join(sorted(self.symbols))}")
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            inner = self.build(node.operand, d)
            return Node("neg", args=(inner,)) if isinstance(node.op, ast.USub) else inner
        if isinstance(node, ast.BinOp) and type(node.op) in _BINOPS:
            op = _BINOPS[type(node.op)]
            left, right = self.build(node.left, d), self.build(node.right, d)
            if op == "**":
                exponent = _constant(right)
                if exponent is None:
                    raise ExpressionError("exponents must be plain numbers (like Y**2 or Y**-1)")
                if abs(exponent) > MAX_EXPONENT:
                    raise ExpressionError(f"exponent {exponent:g} is too large (at most {MAX_EXPONENT})")
            return Node("bin", op, (left, right))
        if isinstance(node, ast.Attribute):
            if node.attr == "T":
                return Node("T", args=(self.build(node.value, d),))
            raise ExpressionError(f"attribute .{node.attr} is not allowed (only .T, .sum(...) and .mean(...))")
        if isinstance(node, ast.Call):
            return self._call(node, d)
        raise ExpressionError(f"{type(node).__name__} is not allowed in an answer")

    def _call(self, node: ast.Call, depth: int) -> Node:
        func = node.func
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id in ("np", "numpy"):
            name, receiver = func.attr, None
        elif isinstance(func, ast.Attribute):
            name, receiver = func.attr, func.value
        elif isinstance(func, ast.Name):
            name, receiver = func.id, None
        else:
            raise ExpressionError("only simple function calls are allowed")
        known = name in self.functions or name in REDUCTIONS or name == "transpose"
        if not known:
            raise ExpressionError(f"function {name!r} is not allowed; allowed: {', '.join(sorted(self.functions))}")
        keywords = {}
        for kw in node.keywords:
            if kw.arg not in ("axis", "keepdims") or not isinstance(kw.value, (ast.Constant, ast.UnaryOp)):
                raise ExpressionError(f"keyword {kw.arg!r} is not allowed (only axis= and keepdims=)")
            value = _literal(kw.value)
            keywords[kw.arg] = value
        args = [self.build(a, depth) for a in node.args]
        if receiver is not None:
            if name == "transpose" and not args:
                return Node("T", args=(self.build(receiver, depth),))
            if name not in REDUCTIONS:
                raise ExpressionError(f"method .{name}() is not allowed (only .sum, .mean and .T)")
            args = [self.build(receiver, depth), *args]
        if name in REDUCTIONS:
            if len(args) == 2 and "axis" not in keywords:
                keywords["axis"] = _constant(args.pop())
            if len(args) != 1:
                raise ExpressionError(f"{name}() takes one expression and optional axis=, keepdims=")
            axis = keywords.get("axis")
            if axis is not None and (not isinstance(axis, (int, float)) or int(axis) != axis or abs(axis) > 4):
                raise ExpressionError("axis must be a small integer")
            return Node("reduce", name, (args[0],), None if axis is None else int(axis),
                        bool(keywords.get("keepdims", False)))
        if name == "transpose" and len(args) == 1:
            return Node("T", args=(args[0],))
        if name not in self.functions:
            raise ExpressionError(f"function {name!r} is not allowed; allowed: {', '.join(sorted(self.functions))}")
        if len(args) != 1 or keywords:
            raise ExpressionError(f"{name}() takes exactly one argument")
        return Node("call", name, tuple(args))


def _literal(node: ast.AST):
    if isinstance(node, ast.Constant) and isinstance(node.value, (bool, int, float)):
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub) and isinstance(node.operand, ast.Constant):
        return -node.operand.value
    raise ExpressionError("keyword values must be plain numbers or True/False")


def _constant(node: Node) -> float | None:
    if node.kind == "num":
        return float(node.value)
    if node.kind == "neg" and node.args[0].kind == "num":
        return -float(node.args[0].value)
    return None


def render(node: Node, parent: int = 0) -> str:
    """The canonical text of a tree, as echoed back to the student."""
    if node.kind == "num":
        v = float(node.value)
        return str(int(v)) if v.is_integer() else repr(v)
    if node.kind == "sym":
        return str(node.value)
    if node.kind == "neg":
        text = "-" + render(node.args[0], 3)
        return f"({text})" if parent >= 4 else text
    if node.kind == "T":
        return render(node.args[0], 5) + ".T"
    if node.kind == "call":
        return f"{node.value}({render(node.args[0])})"
    if node.kind == "reduce":
        options = "" if node.axis is None else f"axis={node.axis}"
        if node.keepdims:
            options += ", keepdims=True"
        return f"{render(node.args[0], 5)}.{node.value}({options})"
    op = node.value
    mine = _PRECEDENCE[op]
    left = render(node.args[0], mine + (1 if op == "**" else 0))
    right = render(node.args[1], mine + (0 if op == "**" else 1))
    text = f"{left}**{right}" if op == "**" else f"{left} {op} {right}"
    return f"({text})" if mine < parent else text


def uses(node: Node, name: str) -> bool:
    """Whether the symbol ``name`` appears in the tree."""
    if node.kind == "sym":
        return node.value == name
    return any(uses(a, name) for a in node.args)


def is_elementwise(node: Node) -> bool:
    """No matrix product, transpose or reduction: a scalar formula applied element-wise."""
    if node.kind in ("T", "reduce") or (node.kind == "bin" and node.value == "@"):
        return False
    return all(is_elementwise(a) for a in node.args)


def evaluate(node: Node, values: Mapping[str, np.ndarray], functions: Mapping[str, Callable] | None = None):
    """Evaluate with NumPy; shape errors raise ``ValueError`` with NumPy's message."""
    functions = {**FUNCTIONS, **(functions or {})}
    kind = node.kind
    if kind == "num":
        return np.float64(node.value)
    if kind == "sym":
        return values[node.value]
    args = [evaluate(a, values, functions) for a in node.args]
    if kind == "neg":
        return -args[0]
    if kind == "T":
        return np.asarray(args[0]).T
    if kind == "call":
        return functions[node.value](args[0])
    if kind == "reduce":
        reducer = np.sum if node.value == "sum" else np.mean
        return reducer(args[0], axis=node.axis, keepdims=node.keepdims)
    a, b = args
    with np.errstate(all="ignore"):
        if node.value == "+":
            return a + b
        if node.value == "-":
            return a - b
        if node.value == "*":
            return a * b
        if node.value == "/":
            return a / b
        if node.value == "**":
            return np.power(a, b)
        if np.ndim(a) == 0 and np.ndim(b) == 0:
            return a * b  # two scalars side by side (LaTeX juxtaposition) multiply
        if np.ndim(a) == 0 or np.ndim(b) == 0:
            raise ValueError("@ needs arrays on both sides (use * to scale)")
        return a @ b


def to_sympy(node: Node, symbols: Mapping[str, object], functions: Mapping[str, object]):
    """Build a SymPy expression from an element-wise tree (no strings involved)."""
    import sympy

    kind = node.kind
    if kind == "num":
        value = float(node.value)
        return sympy.Integer(int(value)) if value.is_integer() else sympy.Float(value)
    if kind == "sym":
        return symbols[node.value]
    args = [to_sympy(a, symbols, functions) for a in node.args]
    if kind == "neg":
        return -args[0]
    if kind == "call":
        builtin = {"exp": sympy.exp, "log": sympy.log, "sqrt": sympy.sqrt, "tanh": sympy.tanh, "abs": sympy.Abs,
                   "sigmoid": lambda x: 1 / (1 + sympy.exp(-x)), "ones_like": lambda x: sympy.Integer(1)}
        return {**builtin, **functions}[node.value](args[0])
    if kind != "bin" or node.value == "@":
        raise ValueError("not an element-wise expression")
    a, b = args
    return {"+": a + b, "-": a - b, "*": a * b, "/": a / b, "**": a**b}[node.value]

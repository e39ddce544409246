"""A small, safe expression language for written answers: parse, echo, evaluate.

Students write gradients in NumPy-like syntax (``2 * G * X``,
``A.T @ G``, ``np.sum(G, axis=0)``, ``np.dot(G, A.T)``) or in LaTeX between
``$...$`` (see ``latex.py``). The text is parsed with ``ast.parse`` (which
runs nothing) and converted by a whitelisted walk into a tree of ``Node``
tuples; anything outside the whitelist (unknown attributes or names, strings,
huge numbers or exponents, deep nesting, ``^``) is rejected with a sentence
that says why. Nothing is ever ``eval``-ed, and SymPy only ever sees trees
built here, never the student's string.

Numbers are kept exact (``Fraction``; ``0.1`` means one tenth), so the same
tree can be evaluated in float64 (``evaluate``), in any precision
(``evaluate`` with a ``Precise`` backend: NumPy object arrays of mpmath
numbers) or converted to SymPy (``to_sympy``).
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from grader.checks.vocabulary import CORE

MAX_LENGTH = 1000
MAX_NODES = 300
MAX_DEPTH = 100
MAX_EXPONENT = 8
MAX_CONSTANT = 10**12
ONES = "__ones__"  # the LaTeX vector of ones, \mathbf{1}: only ever used in a product (see latex.py)

FUNCTIONS = {
    "exp": np.exp,
    "log": np.log,
    "sqrt": np.sqrt,
    "tanh": np.tanh,
    "cosh": np.cosh,
    "sinh": np.sinh,
    "abs": np.abs,
    "sigmoid": lambda x: 1.0 / (1.0 + np.exp(-x)),
    "ones_like": np.ones_like,
    # Defined once by their SymPy meaning (vocabulary.CORE); SymPy is imported when an answer first uses one.
    **{name: (lambda f: lambda x: f.float64(x))(f) for name, f in CORE.items()},
}
REDUCTIONS = {"sum", "mean"}
# NumPy's names for the operators the language already has: np.dot(a, b) is a @ b, and so on.
BINARY_FUNCTIONS = {"dot": "@", "matmul": "@", "divide": "/", "true_divide": "/", "multiply": "*", "add": "+",
                    "subtract": "-", "power": "**", "outer": "outer"}
UNARY_FUNCTIONS = {"square", "negative", "transpose", "positive"}
NOT_IN_LANGUAGE = {
    "maximum": "answers have no comparisons, so np.maximum and np.where cannot be written; "
               "use the questions' fprime(X) or the functions exp, log, sqrt, tanh, cosh, sinh, abs, sigmoid, ceil, "
               "floor",
    "minimum": "answers have no comparisons, so np.minimum cannot be written",
    "where": "answers have no comparisons, so np.where cannot be written; use fprime(X) where the question offers it",
}


class ExpressionError(ValueError):
    """The answer is not a valid, allowed expression; the message says why."""


class ShapeError(ValueError):
    """Two operands whose shapes do not fit: which operation, and the shapes involved."""

    def __init__(self, node: Node, shapes: tuple[tuple[int, ...], ...], reason: str):
        super().__init__(reason)
        self.node, self.shapes = node, shapes


@dataclass(frozen=True)
class Node:
    """One node: kind in num (value: Fraction), sym, neg, bin (value: the operator), call, T, reduce."""

    kind: str
    value: object = None
    args: tuple = ()
    axis: int | None = None
    keepdims: bool = False

    def __str__(self) -> str:
        return render(self)


_BINOPS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**", ast.MatMult: "@"}
_PRECEDENCE = {"+": 1, "-": 1, "*": 2, "/": 2, "@": 2, "**": 4}
_BITWISE = {ast.BitXor: "^", ast.BitAnd: "&", ast.BitOr: "|", ast.LShift: "<<", ast.RShift: ">>"}


def parse(text: str, symbols: Mapping[str, object], functions: tuple[str, ...] = ()) -> Node:
    """Parse ``text`` into a tree; ``symbols`` and ``functions`` are the allowed names."""
    if not isinstance(text, str):
        raise ExpressionError(f"expected a string, got {type(text).__name__}")
    if len(text) > MAX_LENGTH:
        raise ExpressionError(f"the answer is {len(text)} characters long; at most {MAX_LENGTH} are accepted")
    text = text.strip()
    latex = text.startswith("$") and text.endswith("$") and len(text) >= 2
    if latex:
        from grader.checks.latex import latex_to_python

        try:
            text = latex_to_python(text.strip("$"), tuple(functions))
        except RecursionError:
            raise ExpressionError("the LaTeX is nested too deeply") from None
    if not text:
        raise ExpressionError("the answer is empty")
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError as exc:
        raise ExpressionError(f"cannot read the expression: {exc.msg}") from None
    except (RecursionError, MemoryError, ValueError):
        raise ExpressionError("the expression is nested too deeply") from None
    if sum(1 for _ in ast.walk(tree)) > 3 * MAX_NODES:  # iterative: counts before any recursion
        raise ExpressionError(f"the expression has more than {MAX_NODES} parts")
    builder = _Builder(set(symbols) | {ONES}, set(functions) | set(FUNCTIONS), latex)
    try:
        node = builder.build(tree.body, 0)
    except RecursionError:
        raise ExpressionError("the expression is nested too deeply") from None
    if _has_loose_ones(node):
        raise ExpressionError(_ONES_USE)
    return node


_ONES_USE = (r"\mathbf{1} (a vector of ones) only works in a product: A \mathbf{1} sums each row of A into a "
             r"column, \mathbf{1}^\top A each column into a row")


def _number(value) -> Fraction:
    """A literal as an exact number: ints as they are, floats as the decimal written (0.1 is 1/10)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, complex)):
        raise ExpressionError(f"only numbers are allowed as constants, not {value!r}"[:120])
    if isinstance(value, complex):
        raise ExpressionError("imaginary numbers are not allowed in an answer")
    if isinstance(value, int):
        if abs(value) > MAX_CONSTANT:
            digits = len(str(abs(value))) if value.bit_length() < 20000 else "thousands of"
            raise ExpressionError(f"the number written has {digits} digits; constants must be below 1e12")
        return Fraction(value)
    if not np.isfinite(value) or abs(value) > MAX_CONSTANT:
        raise ExpressionError("constants must be finite numbers below 1e12")
    return Fraction(repr(value))


INDEX_LETTERS = set("ijklmn")


class _Builder:
    def __init__(self, symbols: set[str], functions: set[str], latex: bool = False):
        self.symbols, self.functions, self.count, self.latex = symbols, functions, 0, latex

    def _indexed(self, name: str) -> Node:
        """``G_ij`` (LaTeX ``G_{ij}``): in index notation the element of G, so G itself, element-wise."""
        base, _, index = name.partition("_")
        if base in self.symbols and index and set(index.replace(",", "")) <= INDEX_LETTERS:
            if self.latex:
                return Node("sym", base)
            raise ExpressionError(f"{name!r} looks like an element of {base}: write {base} itself (answers are "
                                  f"element-wise; sum over an index with np.sum({base}, axis=...), or in LaTeX "
                                  f"$\\sum_j {base}_{{{index}}}$)")
        raise KeyError(name)

    def build(self, node: ast.AST, depth: int) -> Node:
        self.count += 1
        if self.count > MAX_NODES:
            raise ExpressionError(f"the expression has more than {MAX_NODES} parts")
        if depth > MAX_DEPTH:
            raise ExpressionError(f"the expression is nested too deeply (more than {MAX_DEPTH} levels)")
        d = depth + 1
        if isinstance(node, ast.Constant):
            return Node("num", _number(node.value))
        if isinstance(node, ast.Name):
            if node.id in self.symbols:
                return Node("sym", node.id)
            try:
                return self._indexed(node.id)
            except KeyError:
                pass
            allowed = ", ".join(sorted(self.symbols - {ONES}))
            if node.id in ("np", "numpy"):
                raise ExpressionError(f"{node.id} alone is not a value; use it as in np.sum(G, axis=0)")
            raise ExpressionError(f"unknown name {node.id!r}; use {allowed}")
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            inner = self.build(node.operand, d)
            return Node("neg", args=(inner,)) if isinstance(node.op, ast.USub) else inner
        if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.FloorDiv, ast.Mod)):
            raise ExpressionError(f"{'//' if isinstance(node.op, ast.FloorDiv) else '%'} is not in the answer "
                                  "language: round a quotient with floor(a / b) or ceil(a / b)")
        if isinstance(node, ast.BinOp) and type(node.op) in _BITWISE:
            if isinstance(node.op, ast.BitXor):
                power = f"{ast.unparse(node.left)}**{ast.unparse(node.right)}"
                power = power if len(power) <= 40 else "Y**2"
                raise ExpressionError(f"in Python ^ is XOR (bitwise exclusive or), not a power: write {power} "
                                      "(in LaTeX between $...$, ^ is the power)")
            raise ExpressionError(f"the bitwise operator {_BITWISE[type(node.op)]} is not allowed in an answer")
        if isinstance(node, ast.BinOp) and type(node.op) in _BINOPS:
            return self._binary(_BINOPS[type(node.op)], self.build(node.left, d), self.build(node.right, d))
        if isinstance(node, ast.Attribute):
            if node.attr == "T":
                return Node("T", args=(self.build(node.value, d),))
            raise ExpressionError(f"attribute .{node.attr} is not allowed (only .T, .sum(...), .mean(...), "
                                  ".dot(...) and .transpose())")
        if isinstance(node, ast.Call):
            return self._call(node, d)
        if isinstance(node, ast.Compare):
            raise ExpressionError("comparisons are not allowed in an answer")
        raise ExpressionError(f"{type(node).__name__} is not allowed in an answer")

    def _binary(self, op: str, left: Node, right: Node) -> Node:
        if op == "**":
            exponent = _constant(right)
            if exponent is None:
                raise ExpressionError("exponents must be plain numbers (like Y**2 or Y**-1)")
            if abs(exponent) > MAX_EXPONENT:
                raise ExpressionError(f"exponent {float(exponent):g} is too large (at most {MAX_EXPONENT})")
        if op == "@" and right == Node("sym", ONES):  # A 1: the row sums of A, as a column
            return Node("reduce", "sum", (left,), -1, True)
        if op == "@" and left == Node("T", args=(Node("sym", ONES),)):  # 1^T A: the column sums, as a row
            return Node("reduce", "sum", (right,), 0, True)
        return Node("bin", op, (left, right))

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
        if name in NOT_IN_LANGUAGE:
            raise ExpressionError(NOT_IN_LANGUAGE[name])
        known = name in self.functions or name in REDUCTIONS or name in BINARY_FUNCTIONS or name in UNARY_FUNCTIONS
        if not known:
            allowed = sorted(self.functions | REDUCTIONS | set(BINARY_FUNCTIONS) | UNARY_FUNCTIONS)
            raise ExpressionError(f"function {name!r} is not allowed; allowed: {', '.join(allowed)}")
        keywords = {}
        for kw in node.keywords:
            if kw.arg not in ("axis", "keepdims"):
                raise ExpressionError(f"keyword {kw.arg!r} is not allowed (only axis= and keepdims=)")
            keywords[kw.arg] = _literal(kw.value)
        args = [self.build(a, depth) for a in node.args]
        if receiver is not None:
            if name not in REDUCTIONS and name not in ("transpose", "dot"):
                raise ExpressionError(f"method .{name}() is not allowed (only .sum, .mean, .dot, .transpose and .T)")
            args = [self.build(receiver, depth), *args]
        if name in REDUCTIONS:
            if len(args) == 2 and "axis" not in keywords:
                axis = _constant(args.pop())
                keywords["axis"] = int(axis) if axis is not None and axis.denominator == 1 else "?"
            if len(args) != 1:
                raise ExpressionError(f"{name}() takes one expression and optional axis=, keepdims=")
            axis = keywords.get("axis")
            if axis is not None and (isinstance(axis, bool) or not isinstance(axis, int) or abs(axis) > 4):
                raise ExpressionError("axis must be a small integer (or None)")
            return Node("reduce", name, (args[0],), axis, bool(keywords.get("keepdims", False)))
        if keywords:
            raise ExpressionError(f"{name}() takes no keywords (only sum and mean take axis= and keepdims=)")
        if name in BINARY_FUNCTIONS:
            if len(args) != 2:
                raise ExpressionError(f"{name}() takes exactly two arguments")
            return self._binary(BINARY_FUNCTIONS[name], *args)
        if len(args) != 1:
            raise ExpressionError(f"{name}() takes exactly one argument")
        if name == "transpose":
            return Node("T", args=(args[0],))
        if name == "square":
            return Node("bin", "**", (args[0], Node("num", Fraction(2))))
        if name == "negative":
            return Node("neg", args=(args[0],))
        if name == "positive":
            return args[0]
        return Node("call", name, tuple(args))


def _literal(node: ast.AST):
    if isinstance(node, ast.Constant) and (node.value is None or isinstance(node.value, (bool, int))):
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub) and isinstance(node.operand, ast.Constant) \
            and isinstance(node.operand.value, int) and not isinstance(node.operand.value, bool):
        return -node.operand.value
    raise ExpressionError("keyword values must be whole numbers, None, True or False")


def _constant(node: Node) -> Fraction | None:
    if node.kind == "num":
        return node.value
    if node.kind == "neg" and node.args[0].kind == "num":
        return -node.args[0].value
    return None


def _has_loose_ones(node: Node) -> bool:
    if node == Node("sym", ONES):
        return True
    return any(_has_loose_ones(a) for a in node.args)


def render(node: Node, parent: int = 0) -> str:
    """The canonical text of a tree, as echoed back to the student."""
    if node.kind == "num":
        v = Fraction(node.value)
        return str(v.numerator) if v.denominator == 1 else repr(float(v))
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
    if op == "outer":
        return f"np.outer({render(node.args[0])}, {render(node.args[1])})"
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


def constants(node: Node):
    """Every number written in the tree, and every symbol-free part (folded): ``1/10**7`` yields 1e-07."""
    if node.kind == "num":
        yield node.value
        return
    for a in node.args:
        yield from constants(a)
    if node.kind in ("neg", "bin") and not any(_has_symbol(a) for a in node.args):
        value = _fold(node)
        if value is not None:
            yield value


def _has_symbol(node: Node) -> bool:
    return node.kind == "sym" or any(_has_symbol(a) for a in node.args)


def _fold(node: Node) -> Fraction | None:
    """The exact value of a symbol-free +, -, *, /, ** tree, or None (too large, not rational)."""
    if node.kind == "num":
        return node.value
    args = [_fold(a) for a in node.args]
    if any(a is None for a in args):
        return None
    if node.kind == "neg":
        return -args[0]
    if node.kind != "bin":
        return None
    a, b = args
    try:
        if node.value in ("+", "-"):
            return a + b if node.value == "+" else a - b
        if node.value in ("*", "@"):
            return a * b
        if node.value == "/":
            return a / b if b else None
        if node.value == "**" and b.denominator == 1 and (a or b > 0) and abs(a.numerator).bit_length() < 2000 \
                and a.denominator.bit_length() < 2000:
            return a ** int(b)
    except (OverflowError, ZeroDivisionError):
        return None
    return None


def is_elementwise(node: Node) -> bool:
    """No matrix product, transpose or reduction: a scalar formula applied element-wise."""
    if node.kind in ("T", "reduce") or (node.kind == "bin" and node.value in ("@", "outer")):
        return False
    return all(is_elementwise(a) for a in node.args)


class Precise:
    """Evaluation in ``digits`` significant digits: NumPy object arrays of mpmath numbers.

    Each instance has its own mpmath context, so no global precision is
    changed (SymPy and other threads are unaffected). Division by zero raises
    ``ZeroDivisionError``; a function off its domain returns complex numbers,
    which ``real_finite`` refuses.
    """

    def __init__(self, digits: int):
        from mpmath.ctx_mp import MPContext

        self.digits = digits
        self.ctx = ctx = MPContext()
        ctx.dps = digits
        one = ctx.mpf(1)
        wrap = lambda f: np.frompyfunc(f, 1, 1)  # noqa: E731
        self._convert = wrap(ctx.mpf)
        exp = wrap(ctx.exp)
        self.functions = {"exp": exp, "log": wrap(ctx.log), "sqrt": wrap(ctx.sqrt), "tanh": wrap(ctx.tanh),
                          "cosh": wrap(ctx.cosh), "sinh": wrap(ctx.sinh),
                          "abs": np.abs, "sigmoid": lambda x: one / (one + exp(-x)),
                          "ones_like": lambda x: np.full(np.shape(x), one, dtype=object) if np.ndim(x) else one,
                          **{name: (lambda f: lambda x: f.precise(ctx)(x))(f) for name, f in CORE.items()}}

    def number(self, value: Fraction):
        return self.ctx.mpf(value.numerator) / value.denominator

    def array(self, values):
        """A float64 array (or scalar) as exact multi-precision numbers."""
        array = np.asarray(values, dtype=float)
        out = self._convert(array.astype(object))
        return out if array.ndim else self.ctx.mpf(float(array))

    def real_finite(self, value) -> bool:
        mpf, isfinite = self.ctx.mpf, self.ctx.isfinite
        return all(isinstance(v, mpf) and isfinite(v) for v in np.asarray(value, dtype=object).ravel())


def evaluate(node: Node, values: Mapping[str, np.ndarray], functions: Mapping[str, Callable] | None = None,
             precise: Precise | None = None):
    """Evaluate in float64 (or with ``precise``); shapes that do not fit raise ``ShapeError``."""
    functions = {**(precise.functions if precise else FUNCTIONS), **(functions or {})}
    if precise is None and np.geterr()["over"] != "raise":  # a caller that asks for errors gets them
        with np.errstate(all="ignore"):
            return _evaluate(node, values, functions, precise)
    return _evaluate(node, values, functions, precise)


def _evaluate(node: Node, values, functions, precise):
    kind = node.kind
    if kind == "num":
        return precise.number(node.value) if precise else np.float64(node.value)
    if kind == "sym":
        return values[node.value]
    if kind == "bin" and node.value == "**":
        exponent = node.args[1].value if node.args[1].kind == "num" else -node.args[1].args[0].value
        base = _evaluate(node.args[0], values, functions, precise)
        if exponent.denominator == 1:
            return np.power(base, int(exponent)) if precise else np.power(base, float(exponent))
        return np.power(base, precise.number(exponent) if precise else float(exponent))
    args = [_evaluate(a, values, functions, precise) for a in node.args]
    if kind == "neg":
        return -args[0]
    if kind == "T":
        return np.asarray(args[0]).T
    if kind == "call":
        return functions[node.value](args[0])
    if kind == "reduce":
        try:
            total = np.sum(args[0], axis=node.axis, keepdims=node.keepdims)
        except (ValueError, IndexError):  # NumPy's AxisError is both
            raise ShapeError(node, (np.shape(args[0]),), f"axis {node.axis} does not exist for an array of shape "
                                                          f"{np.shape(args[0])}") from None
        if node.value == "mean":
            total = total / (np.size(args[0]) if node.axis is None else np.shape(args[0])[node.axis])
        return total
    a, b = args
    op = node.value
    with np.errstate(all="ignore"):
        try:
            if op == "+":
                return a + b
            if op == "-":
                return a - b
            if op == "*":
                return a * b
            if op == "/":
                return a / b
            if op == "outer":
                return np.outer(a, b)
        except ValueError:
            raise ShapeError(node, (np.shape(a), np.shape(b)), f"shapes {np.shape(a)} and {np.shape(b)} cannot be "
                                                              f"combined element-wise") from None
        if np.ndim(a) == 0 and np.ndim(b) == 0:
            return a * b  # two scalars side by side (LaTeX juxtaposition) multiply
        if np.ndim(a) == 0 or np.ndim(b) == 0:
            raise ShapeError(node, (np.shape(a), np.shape(b)), "@ needs arrays on both sides (use * to scale)")
        try:
            return a @ b
        except ValueError:
            raise ShapeError(node, (np.shape(a), np.shape(b)), f"the matrix product of shapes {np.shape(a)} and "
                                                              f"{np.shape(b)} is not defined") from None


def to_sympy(node: Node, symbols: Mapping[str, object], functions: Mapping[str, object]):
    """Build a SymPy expression from an element-wise tree (no strings involved; numbers stay exact)."""
    import sympy

    kind = node.kind
    if kind == "num":
        return sympy.Rational(node.value.numerator, node.value.denominator)
    if kind == "sym":
        return symbols[node.value]
    args = [to_sympy(a, symbols, functions) for a in node.args]
    if kind == "neg":
        return -args[0]
    if kind == "call":
        builtin = {"exp": sympy.exp, "log": sympy.log, "sqrt": sympy.sqrt, "tanh": sympy.tanh, "abs": sympy.Abs,
                   "cosh": sympy.cosh, "sinh": sympy.sinh,
                   "sigmoid": lambda x: 1 / (1 + sympy.exp(-x)), "ones_like": lambda x: sympy.Integer(1),
                   **{name: f.sympy for name, f in CORE.items()}}
        return {**builtin, **functions}[node.value](args[0])
    if kind != "bin" or node.value in ("@", "outer"):
        raise ValueError("not an element-wise expression")
    a, b = args
    return {"+": a + b, "-": a - b, "*": a * b, "/": a / b, "**": a**b}[node.value]

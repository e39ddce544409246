r"""Translate the LaTeX of a written answer into the NumPy-like answer language.

Supported: ``\frac{a}{b}``, ``\odot``/``\circ`` (element-wise product),
``\oslash`` (element-wise division), ``\cdot`` and juxtaposition of two
matrices (matrix product), ``^\top``/``^T``/``^{\top}`` (transpose),
``^{k}`` (power), ``\exp``, ``\log``, ``\ln``, ``\sqrt{}``, ``\sigma``
(sigmoid; ``\log Y`` applies to the next name or number), ``\cosh``, ``\sinh``,
``\lceil x \rceil`` and ``\lfloor x \rfloor`` (``ceil(x)``, ``floor(x)``), and every
function of the question's vocabulary as ``\name`` or ``\operatorname{name}``, powers of
functions (``\tanh^2(X)`` is ``tanh(X)**2``), a number or fraction beside ``\cdot``, a
matrix or a sum (scaling), ``f'(X)`` (``fprime(X)``), ``\sum_i`` / ``\sum_j`` (sum over
rows / over columns), ``\left(``/``\right)``, ``\mathbf{X}``, subscripted names (``D_{in}``
is ``D_in``; ``G_{ij}``, an element in index notation, is read as ``G`` by the parser).

A sum over an index follows index notation, as a person reads it: ``\sum_j G_{ij} X_{ij}``
is indexed by i, so it is a column (``(G * X).sum(axis=1, keepdims=True)``) that
broadcasts along j against the other terms; ``\sum_i`` likewise gives a row. Where the
asked gradient is a vector, the judge reads a column or row with the asked shape.

Sums that keep their dimension are written with the vector of ones, as in
linear algebra: ``A \mathbf{1}`` is the column of row sums of ``A`` (NumPy's
``A.sum(axis=-1, keepdims=True)``, shape (n, 1)) and ``\mathbf{1}^\top A``
the row of column sums (``A.sum(axis=0, keepdims=True)``, shape (1, m)); both
broadcast against ``A``. ``\mathbb{1}``, ``\vec{1}`` and a subscript giving the
length (``\mathbf{1}_m``) are read the same way (docs/writing-answers.md).

The output is then parsed by the same whitelisted parser as any answer, so
this translation needs to be helpful, not safe.
"""

from __future__ import annotations

import re

from grader.checks.expressions import ONES, ExpressionError

_COMMANDS = {
    r"\odot": " * ", r"\circ": " * ", r"\oslash": " / ", r"\cdot": " @ ", r"\times": " * ",
    r"\left": "", r"\right": "", r"\,": " ", r"\;": " ", r"\!": "", r"\exp": "exp", r"\log": "log",
    r"\ln": "log", r"\sigma": "sigmoid", r"\tanh": "tanh",
    r"\cosh": "cosh", r"\sinh": "sinh",
    r"\lceil": " ceil( ", r"\rceil": " ) ", r"\lfloor": " floor( ", r"\rfloor": " ) ",
}
# The commands that name a function, so that a power of them (\tanh^2) applies to its value.
_FUNCTION_COMMANDS = {r"\exp", r"\log", r"\ln", r"\sigma", r"\tanh", r"\cosh", r"\sinh"}
# An element in index notation (G_ij): two of them side by side multiply as numbers do.
_INDEXED = re.compile(r"[A-Za-z][A-Za-z0-9]*_[ijklmn]+")
_TOKEN = re.compile(r"\\[a-zA-Z]+|\\.|[A-Za-z][A-Za-z0-9]*|\d+\.?\d*|\.\d+|\S")


def _group(tokens: list[str], i: int, functions: frozenset[str]) -> tuple[str, int]:
    """Read one argument: a braced group or a single token, translated."""
    if i >= len(tokens):
        raise ExpressionError("a LaTeX command is missing its argument")
    if tokens[i] != "{":
        return _translate(tokens[i : i + 1], functions), i + 1
    return _balanced(tokens, i, "{", "}", functions)


def _balanced(tokens: list[str], i: int, opening: str, closing: str, functions: frozenset[str]) -> tuple[str, int]:
    """The translated inside of the group that opens at ``tokens[i]``, and the index after it."""
    depth, j = 0, i
    while j < len(tokens):
        depth += {opening: 1, closing: -1}.get(tokens[j], 0)
        if depth == 0:
            return _translate(tokens[i + 1 : j], functions), j + 1
        j += 1
    raise ExpressionError("unbalanced braces in the LaTeX answer" if opening == "{" else
                          "unbalanced parentheses in the LaTeX answer")


def _function_power(name: str, tokens: list[str], i: int, functions: frozenset[str]) -> tuple[str, int]:
    r"""``\tanh^2(X)`` (``tokens[i]`` is the ``^``): the function's value raised to the power."""
    power, i = _group(tokens, i + 1, functions)
    if power.strip().startswith("-"):
        raise ExpressionError(rf"\{name}^{{{power.strip()}}} reads as the inverse function, which answers do not "
                              rf"have; for the reciprocal write \frac{{1}}{{\{name}(X)}}")
    while i < len(tokens) and tokens[i] == r"\left":
        i += 1
    if i < len(tokens) and tokens[i] == "(":
        argument, i = _balanced(tokens, i, "(", ")", functions)
    else:
        argument, i = _group(tokens, i, functions)
    return f"(({name}({argument}))**({power}))", i


def _translate(tokens: list[str], functions: frozenset[str] = frozenset()) -> str:
    out: list[str] = []
    i = 0
    while i < len(tokens):
        t = tokens[i]
        command = t[1:] if t.startswith("\\") else ""
        name = _COMMANDS.get(t, "").strip() if t in _FUNCTION_COMMANDS else command if command in functions else ""
        if name and i + 1 < len(tokens) and tokens[i + 1] == "^":
            text, i = _function_power(name, tokens, i + 1, functions)
            out.append(text)
            continue
        if name and t not in _COMMANDS:  # a function of the question's vocabulary: \softplus(X)
            out.append(name)
            i += 1
            continue
        if t == r"\frac":
            num, i = _group(tokens, i + 1, functions)
            den, i = _group(tokens, i, functions)
            out.append(f"(({num}) / ({den}))")
            continue
        if t == r"\sqrt":
            arg, i = _group(tokens, i + 1, functions)
            out.append(f"sqrt({arg})")
            continue
        if t in (r"\mathbf", r"\mathrm", r"\boldsymbol", r"\operatorname", r"\mathbb", r"\vec", r"\bm"):
            arg, i = _group(tokens, i + 1, functions)
            if arg.strip() == "1":  # the vector of ones; a subscript only states its length
                out.append(ONES)
                if i < len(tokens) and tokens[i] == "_":
                    _, i = _group(tokens, i + 1, functions)
            else:
                out.append(arg)
            continue
        if t == r"\sum":
            axis = None
            if i + 1 < len(tokens) and tokens[i + 1] == "_":
                index, i = _group(tokens, i + 2, functions)
                axis = {"i": 0, "j": 1, "0": 0, "1": 1}.get(index.strip())
                if axis is None:
                    raise ExpressionError(r"write \sum_i (over rows) or \sum_j (over columns)")
            else:
                i += 1
            arg, i = _group(tokens, i, functions) if i < len(tokens) and tokens[i] == "{" else (None, i)
            if arg is None:  # \sum_j G \odot X: the sum runs to the end of the group
                arg, i = _translate(tokens[i:], functions), len(tokens)
            # Index notation: the summed index disappears, the other stays (a column or a row that broadcasts).
            out.append(f"sum({arg}{'' if axis is None else f', axis={axis}, keepdims=True'})")
            continue
        if t == "_" and out and re.fullmatch(r"\s*[A-Za-z][A-Za-z0-9_]*\s*", out[-1]):
            sub, i = _group(tokens, i + 1, functions)  # D_{in} -> D_in
            out[-1] = out[-1].strip() + "_" + "".join(sub.split()).replace(",", "")
            continue
        if t == "^":
            arg, i = _group(tokens, i + 1, functions)
            if arg.strip() in (r"\top", "T", "top", "t"):
                out.append(".T")
            else:
                out.append(f"**({arg})")
            continue
        if t == "'" and out and out[-1].strip() == "f":
            out[-1] = "fprime"
            i += 1
            continue
        if t == "'":
            out.append(".T")
            i += 1
            continue
        if t in ("{", "}"):
            out.append({"{": "(", "}": ")"}[t])
            i += 1
            continue
        if t == r"\top":
            out.append("T")
            i += 1
            continue
        if t.startswith("\\"):
            if t not in _COMMANDS:
                raise ExpressionError(f"the LaTeX command {t} is not supported")
            out.append(_COMMANDS[t])
            i += 1
            continue
        out.append(t)
        i += 1
    return _insert_products("".join(f" {piece} " if piece not in (".T",) else piece for piece in out), functions)


def _constant_group(out: list[str]) -> bool:
    """Whether ``out`` ends with a parenthesised group of numbers only (``((1) / (2))``, from ``\\frac{1}{2}``)."""
    depth = 0
    for j in range(len(out) - 1, -1, -1):
        depth += {")": 1, "(": -1}.get(out[j], 0)
        if re.fullmatch(r"[A-Za-z_].*", out[j]):
            return False
        if depth == 0:
            return True
    return False


def _insert_products(text: str, extra: frozenset[str] = frozenset()) -> str:
    """Juxtaposition: ``X^T G`` is a matrix product, ``2 X`` and ``\\frac{1}{2} X`` a scaling."""
    tokens = re.findall(r"\*\*|[A-Za-z_][A-Za-z_0-9]*(?:\.T)*|\d+\.?\d*(?:\.T)*|\.T|\S", text)
    out: list[str] = []
    functions = {"exp", "log", "sqrt", "sigmoid", "tanh", "cosh", "sinh", "ceil", "floor", "fprime", "sum", "f",
                 *extra}
    atom = re.compile(r"[A-Za-z_][A-Za-z_0-9.]*|\d[\d.]*")
    for token in tokens:
        if out and out[-1] in functions - {"sum", "f", "fprime"} and atom.fullmatch(token):
            out.extend(["(", token, ")"])  # \log Y: the function applies to the next name or number
            continue
        if out:
            prev = out[-1]
            prev_operand = prev == ")" or re.fullmatch(r"[A-Za-z_0-9.]+", prev) and prev not in functions
            this_operand = token == "(" or re.fullmatch(r"[A-Za-z_][A-Za-z_0-9.]*|\d[\d.]*", token)
            if prev_operand and this_operand and not (token == "(" and prev in functions):
                number = re.fullmatch(r"\d[\d.]*", prev) or re.fullmatch(r"\d[\d.]*", token) or \
                    (prev == ")" and _constant_group(out)) or (_INDEXED.fullmatch(prev) and _INDEXED.fullmatch(token))
                out.append("*" if number else "@")
        out.append(token)
    number = re.compile(r"\d[\d.]*")
    for i in range(1, len(out) - 1):  # 2 \cdot G: a number beside a product scales
        if out[i] == "@" and (number.fullmatch(out[i - 1]) or number.fullmatch(out[i + 1])):
            out[i] = "*"
    return " ".join(out)


def latex_to_python(latex: str, functions: tuple[str, ...] = ()) -> str:
    """Translate a LaTeX answer (without the surrounding ``$``) to the answer language.

    ``functions``: names of the question's own functions, read as LaTeX commands too (``\\softplus``).
    """
    return _translate(_TOKEN.findall(latex), frozenset(functions)).strip()

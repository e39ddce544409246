r"""Translate the LaTeX of a written answer into the NumPy-like answer language.

Supported: ``\frac{a}{b}``, ``\odot``/``\circ`` (element-wise product),
``\oslash`` (element-wise division), ``\cdot`` and juxtaposition of two
matrices (matrix product), ``^\top``/``^T``/``^{\top}`` (transpose),
``^{k}`` (power), ``\exp``, ``\log``, ``\ln``, ``\sqrt{}``, ``\sigma``
(sigmoid; ``\log Y`` applies to the next name or number), a number beside
``\cdot`` or a matrix (scaling), ``f'(X)`` (``fprime(X)``), ``\sum_i`` / ``\sum_j`` (sum over rows,
axis 0 / over columns, axis 1: the summed axis disappears), ``\left(``/``\right)``,
``\mathbf{X}``, subscripted names (``D_{in}`` is ``D_in``).

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
}
_TOKEN = re.compile(r"\\[a-zA-Z]+|\\.|[A-Za-z][A-Za-z0-9]*|\d+\.?\d*|\.\d+|\S")


def _group(tokens: list[str], i: int) -> tuple[str, int]:
    """Read one argument: a braced group or a single token, translated."""
    if i >= len(tokens):
        raise ExpressionError("a LaTeX command is missing its argument")
    if tokens[i] != "{":
        return _translate(tokens[i : i + 1]), i + 1
    depth, j = 0, i
    while j < len(tokens):
        depth += {"{": 1, "}": -1}.get(tokens[j], 0)
        if depth == 0:
            return _translate(tokens[i + 1 : j]), j + 1
        j += 1
    raise ExpressionError("unbalanced braces in the LaTeX answer")


def _translate(tokens: list[str]) -> str:
    out: list[str] = []
    i = 0
    while i < len(tokens):
        t = tokens[i]
        if t == r"\frac":
            num, i = _group(tokens, i + 1)
            den, i = _group(tokens, i)
            out.append(f"(({num}) / ({den}))")
            continue
        if t == r"\sqrt":
            arg, i = _group(tokens, i + 1)
            out.append(f"sqrt({arg})")
            continue
        if t in (r"\mathbf", r"\mathrm", r"\boldsymbol", r"\operatorname", r"\mathbb", r"\vec", r"\bm"):
            arg, i = _group(tokens, i + 1)
            if arg.strip() == "1":  # the vector of ones; a subscript only states its length
                out.append(ONES)
                if i < len(tokens) and tokens[i] == "_":
                    _, i = _group(tokens, i + 1)
            else:
                out.append(arg)
            continue
        if t == r"\sum":
            axis = None
            if i + 1 < len(tokens) and tokens[i + 1] == "_":
                index, i = _group(tokens, i + 2)
                axis = {"i": 0, "j": 1, "0": 0, "1": 1}.get(index.strip())
                if axis is None:
                    raise ExpressionError(r"write \sum_i (over rows) or \sum_j (over columns)")
            else:
                i += 1
            arg, i = _group(tokens, i) if i < len(tokens) and tokens[i] == "{" else (None, i)
            if arg is None:
                rest = _translate(tokens[i:])
                return "".join(out) + f" sum({rest}{'' if axis is None else f', axis={axis}'})"
            out.append(f"sum({arg}{'' if axis is None else f', axis={axis}'})")
            continue
        if t == "_" and out and re.fullmatch(r"\s*[A-Za-z][A-Za-z0-9_]*\s*", out[-1]):
            sub, i = _group(tokens, i + 1)  # D_{in} -> D_in
            out[-1] = out[-1].strip() + "_" + "".join(sub.split())
            continue
        if t == "^":
            arg, i = _group(tokens, i + 1)
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
    return _insert_products("".join(f" {piece} " if piece not in (".T",) else piece for piece in out))


def _insert_products(text: str) -> str:
    """Juxtaposition: ``X^T G`` is a matrix product, ``2 X`` a scaling."""
    tokens = re.findall(r"\*\*|[A-Za-z_][A-Za-z_0-9]*(?:\.T)*|\d+\.?\d*(?:\.T)*|\.T|\S", text)
    out: list[str] = []
    functions = {"exp", "log", "sqrt", "sigmoid", "tanh", "fprime", "sum", "f"}
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
                number = re.fullmatch(r"\d[\d.]*", prev) or re.fullmatch(r"\d[\d.]*", token)
                out.append("*" if number else "@")
        out.append(token)
    number = re.compile(r"\d[\d.]*")
    for i in range(1, len(out) - 1):  # 2 \cdot G: a number beside a product scales
        if out[i] == "@" and (number.fullmatch(out[i - 1]) or number.fullmatch(out[i + 1])):
            out[i] = "*"
    return " ".join(out)


def latex_to_python(latex: str) -> str:
    """Translate a LaTeX answer (without the surrounding ``$``) to the answer language."""
    return _translate(_TOKEN.findall(latex)).strip()

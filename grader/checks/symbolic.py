"""Decide whether a written gradient is exactly right: the reusable derivation checker.

A course declares a ``GradientQuestion``: the forward as an expression, its
inputs with symbolic shapes and domains, which input's gradient is asked
for, and optionally known wrong answers with hints. ``judge`` then decides
an answer string in steps:

1. exact: the parsed answer renders the same as the model answer;
2. approximation: a number in the answer that only a finite difference or an
   epsilon needs (below 1e-3 or above 1e4, and not in the question) refuses it;
3. screening (float64): on random shapes and values the answer, taken along a
   random direction, must equal the forward's directional derivative
   (central differences: the truth is derived, never typed in); a wrong
   answer fails here with a counterexample (the whole gradient, by
   differences element by element) and a hint;
4. proof: for element-wise forms of bounded size, SymPy proves
   ``answer - G * d forward`` is zero by building and expanding it;
5. otherwise high precision: at fresh random points the answer is evaluated
   with 40 and with 80 significant digits (mpmath) and compared with the
   directional derivative of the forward computed with 150 digits. An exact
   answer agrees to (almost) every digit at both precisions; an
   approximation's error does not shrink with the precision, so it is
   refused with a sentence that says so;
6. only where step 5 could not evaluate the answer at enough points, SymPy's
   full ``simplify`` gets the time left, in a forked process cut off in time
   and memory.

A verdict is passed, failed (with a counterexample and a hint where a known
wrong form matches), or undecided (left to staff); every verdict comes
within ``DEADLINE_SECONDS``. Nothing here runs the student's text: it is
parsed by ``expressions.parse``.

Latency: call ``warm()`` once per process before grading (before forking
workers, if any): it pays SymPy's import and first ``simplify``. SymPy's
verdicts are cached per process (question, answer).
"""

from __future__ import annotations

import functools
import hashlib
import math
import os
import select
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np

from grader.checks import expressions as ex
from grader.checks.compare import fmt
from grader.checks.vocabulary import Function

TRIALS = 4
SYMPY_SECONDS = 1.0
SYMPY_MEMORY = 1 << 30  # bytes the proving child may add to its address space
IN_PROCESS_BITS, IN_PROCESS_TERMS = 4096, 400  # answers this small are compared by SymPy without a fork
DEADLINE_SECONDS = 2.0
RESERVE_SECONDS = 0.4  # screening stops this long before the deadline: time for the high-precision step
RTOL, ATOL = 1e-5, 1e-6
PRECISIONS = ((40, 1e-30), (80, 1e-68))  # significant digits of the answer's evaluation, and the tolerance
TRUTH_DIGITS = 150
STEP = Fraction(1, 10**45)  # the truth's central-difference step: error ~1e-90 (step squared), rounding ~1e-105
PRECISE_POINTS = 2
APPROXIMATION_BOUNDS = (1e-3, 1e4)  # a number outside these (and not in the question) marks an approximation
FINGERPRINT = "fingerprint:"  # the student build's model answers (grader/packaging/redact.py)

# Element-wise functions a question may leave abstract: f and its derivative fprime, in the answer language.
ABSTRACT_FUNCTIONS: list[tuple[str, str]] = [
    ("tanh(x) + x**2/2", "1 - tanh(x)**2 + x"),
    ("exp(x/3)", "exp(x/3) / 3"),
    ("x**3/3 + 2*x", "x**2 + 2"),
]


@dataclass(frozen=True)
class Var:
    """An input of the forward: its shape as dimension names, and where its values live."""

    shape: tuple[str, ...] = ()
    domain: str = "real"  # real | positive | nonzero


@dataclass(frozen=True)
class GradientQuestion:
    """Ask for d(sum(G * forward))/d(wrt): the backward of ``forward`` for one input."""

    table: str
    key: str
    prompt: str
    inputs: dict[str, Var]
    forward: str
    wrt: str
    answer: str
    derived: dict[str, str] = field(default_factory=dict)
    abstract_f: bool = False
    mistakes: tuple[tuple[str, str], ...] = ()
    fixed_dims: dict[str, int] = field(default_factory=dict)
    forward_fn: Callable[[dict], np.ndarray] | None = None  # when the forward is not an expression
    # Functions beyond the core ones that the forward and answers may name (grader.checks.vocabulary).
    vocabulary: tuple[Function, ...] = ()

    def run_forward(self, values: dict, functions: dict, precise: ex.Precise | None = None) -> np.ndarray:
        """The forward at ``values`` (``forward_fn`` must work on NumPy object arrays too)."""
        if self.forward_fn is not None:
            return self.forward_fn(values)
        return ex.evaluate(self.parse(self.forward), values, functions, precise)

    @property
    def symbols(self) -> list[str]:
        return [*self.inputs, "G", *self.derived]

    @property
    def functions(self) -> tuple[str, ...]:
        return (*(("f", "fprime") if self.abstract_f else ()), *(f.name for f in self.vocabulary))

    def parse(self, text: str) -> ex.Node:
        return _parse(text, tuple(self.symbols), self.functions)

    @property
    def identity(self) -> tuple:
        """What the truth depends on: a cache key for verdicts that do not depend on the seed."""
        inputs = tuple((n, v.shape, v.domain) for n, v in self.inputs.items())
        return (self.forward, self.wrt, inputs, tuple(self.derived.items()), self.abstract_f, self.forward_fn,
                self.vocabulary)


@functools.lru_cache(maxsize=4096)
def _parse(text: str, symbols: tuple[str, ...], functions: tuple[str, ...]) -> ex.Node:
    """Parsing is pure; the forward and model answers are parsed once per process."""
    return ex.parse(text, dict.fromkeys(symbols), functions)


@functools.cache
def _backend(digits: int) -> ex.Precise:
    return ex.Precise(digits)


@dataclass(frozen=True)
class Verdict:
    status: str  # passed | failed | undecided
    message: str
    hint: str = ""
    echo: str = ""
    tier: str = ""  # exact | approximation | numeric | symbolic | precise


def _functions(question: GradientQuestion, trial: int, precise: ex.Precise | None = None) -> tuple[str, dict]:
    """The concrete f and fprime of one trial (in float64 or in ``precise``), and f's formula; with the
    question's vocabulary in the same number type."""
    vocabulary = {f.name: f.precise(precise.ctx) if precise else f.float64 for f in question.vocabulary}
    if not question.abstract_f:
        return "", vocabulary
    f_text, fprime_text = ABSTRACT_FUNCTIONS[trial % len(ABSTRACT_FUNCTIONS)]
    f_node, fprime_node = _parse(f_text, ("x",), ()), _parse(fprime_text, ("x",), ())
    return f_text, {**vocabulary, "f": lambda x: ex.evaluate(f_node, {"x": x}, None, precise),
                    "fprime": lambda x: ex.evaluate(fprime_node, {"x": x}, None, precise)}


def _sample(question: GradientQuestion, rng: np.random.Generator, small: bool, spread: bool = False):
    """Random sizes for every dimension name, and values for every input (``spread``: scaled by 0.01..10)."""
    names = sorted({d for var in question.inputs.values() for d in var.shape} - set(question.fixed_dims))
    pool = np.arange(2, 2 + len(names) + (0 if small else 3))  # distinct sizes: a wrong product cannot hide
    sizes = rng.choice(pool, size=len(names), replace=False)
    dims = {**dict(zip(names, (int(s) for s in sizes))), **question.fixed_dims}
    values = {}
    for name, var in question.inputs.items():
        shape = tuple(dims[d] for d in var.shape)
        scale = 10 ** rng.uniform(-2, 1) if spread else 1.0
        if var.domain == "positive":
            values[name] = rng.uniform(0.5, 2.0, size=shape) * scale
        elif var.domain == "nonzero":
            values[name] = rng.uniform(0.5, 2.0, size=shape) * rng.choice([-1.0, 1.0], size=shape) * scale
        else:
            values[name] = rng.standard_normal(shape) * scale
    return dims, values


def _vjp(question: GradientQuestion, values: dict, G: np.ndarray, functions: dict, h: float = 1e-6):
    """The true gradient, element by element, by central differences of sum(G * forward)."""
    wrt = question.wrt
    x = values[wrt]
    grad = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        plus, minus = x.copy(), x.copy()
        plus[index] += h
        minus[index] -= h
        f_plus = np.sum(G * question.run_forward({**values, wrt: plus}, functions))
        f_minus = np.sum(G * question.run_forward({**values, wrt: minus}, functions))
        grad[index] = (f_plus - f_minus) / (2 * h)
    return grad


def _directional64(question: GradientQuestion, values: dict, direction: np.ndarray, functions: dict,
                   h: float = 1e-6) -> float:
    """d/dt sum(G * forward(wrt + t * direction)) at t = 0 in float64, by a central difference."""
    x, G = values[question.wrt], values["G"]
    with np.errstate(all="ignore"):
        plus = np.sum(G * question.run_forward({**values, question.wrt: x + h * direction}, functions))
        minus = np.sum(G * question.run_forward({**values, question.wrt: x - h * direction}, functions))
    return float((plus - minus) / (2 * h))


def _close(a, b) -> bool:
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    scale = max(1.0, float(np.max(np.abs(b))) if b.size else 1.0)
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=RTOL, atol=ATOL * scale))


def _show(values: dict) -> str:
    return ", ".join(f"{k}={_array(v)}" for k, v in values.items())


def _array(value) -> str:
    text = np.array2string(np.asarray(value), precision=4, separator=", ", max_line_width=10**6)
    return " ".join(text.split())


def warm() -> None:
    """Pay SymPy's one-time costs (import, first expand and cancel) and mpmath's here, once per process.

    Call it in the grading process before answers are judged (and before
    it forks workers, if it does): the proving children then start warm.
    ``judge`` calls it itself when nobody did. Safe from several threads.
    """
    with _WARM_LOCK:
        if _WARMED:
            return
        import sympy

        x = sympy.Symbol("x", real=True)
        y = sympy.Symbol("y", nonzero=True, real=True)
        sympy.expand(sympy.Function("f")(x) * (x + y) ** 2 / (1 + sympy.exp(-x)) - x * y**-2)
        sympy.cancel(x / (y + 1) - x * y / (y**2 + y))
        for digits, _ in PRECISIONS:
            _backend(digits).functions["exp"](_backend(digits).number(Fraction(1, 3)))
        _backend(TRUTH_DIGITS)
        _WARMED.append(True)


def warm_formulas() -> None:
    """Pay the one-time costs of ``judge_formula`` (mpmath's import, a 60-digit context) once per process."""
    judge_formula("2 * n", ("n",), "n + n")


_WARMED: list[bool] = []
_WARM_LOCK = threading.Lock()
_PROVED: dict[tuple, bool | None] = {}  # (question identity, rendered answer) -> SymPy's verdict
_TRUTHS: dict[tuple, tuple] = {}  # question identity -> (G * d forward, its symbols, its functions)


def _sympy_applies(question: GradientQuestion, student: ex.Node) -> bool:
    """SymPy compares element-wise forms only (no matrix products, sums or transposes, no derived names)."""
    return not (question.derived or question.forward_fn) and ex.is_elementwise(student) and \
        ex.is_elementwise(question.parse(question.forward))


def _sympy_truth(question: GradientQuestion):
    """G * d forward / d wrt, derived by SymPy in this process (trusted text: the question's own forward)."""
    if question.identity in _TRUTHS:
        return _TRUTHS[question.identity]
    import sympy

    domains = {"positive": {"positive": True}, "nonzero": {"nonzero": True, "real": True}}
    symbols = {n: sympy.Symbol(n, **domains.get(v.domain, {"real": True})) for n, v in question.inputs.items()}
    symbols["G"] = sympy.Symbol("G", real=True)
    f, fprime = sympy.Function("f"), sympy.Function("fprime")
    functions = {"f": f, "fprime": fprime, **{v.name: v.sympy for v in question.vocabulary}}
    forward = ex.to_sympy(question.parse(question.forward), symbols, functions)
    truth = symbols["G"] * sympy.diff(forward, symbols[question.wrt])
    truth = truth.replace(lambda e: isinstance(e, sympy.Derivative), lambda e: fprime(*e.expr.args))
    _TRUTHS[question.identity] = truth, symbols, functions
    return _TRUTHS[question.identity]


def _sympy_equal(question: GradientQuestion, student: ex.Node, seconds: float = 0.0) -> bool | None:
    """True if SymPy proves ``student == G * d forward``; False if it finds a nonzero difference (which
    does not prove the answer wrong); None if not applicable, not tried or cut off.

    Small answers are compared in this process (building and expanding them
    is bounded); with ``seconds`` > 0 the full ``cancel``/``simplify`` runs
    in a forked child cut off after ``seconds``.
    """
    if not _sympy_applies(question, student):
        return None
    key = (question.identity, ex.render(student))
    if _PROVED.get(key) is not None:
        return _PROVED[key]
    warm()
    import sympy

    truth, symbols, functions = _sympy_truth(question)
    bits, terms = _size_bound(student)
    if key not in _PROVED and bits <= IN_PROCESS_BITS and terms <= IN_PROCESS_TERMS:
        try:  # bounded work, so no fork is needed; SymPy's own failures on odd input only mean "not proved"
            difference = ex.to_sympy(student, symbols, functions) - truth
            _PROVED[key] = True if difference == 0 or sympy.expand(difference) == 0 else None
        except (RecursionError, ArithmeticError, ValueError, TypeError, AttributeError):
            _PROVED[key] = None
        if _PROVED[key]:
            return True
    if seconds <= 0.05:
        return None
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child only does trusted symbolic algebra on trees we built
        code = b"?"
        try:
            _limit_memory()
            difference = ex.to_sympy(student, symbols, functions) - truth
            if difference == 0 or sympy.cancel(difference) == 0 or sympy.simplify(difference) == 0:
                code = b"1"
            else:
                code = b"0"
        except BaseException:
            pass
        os.write(write, code)
        os._exit(0)
    os.close(write)
    try:
        ready, _, _ = select.select([read], [], [], seconds)
        result = os.read(read, 1) if ready else b""
    finally:
        os.close(read)
        try:
            os.kill(pid, 9)
        except OSError:
            pass
        os.waitpid(pid, 0)
    verdict = {b"1": True, b"0": False}.get(result)
    if result:  # a cut-off depends on the machine's load; a decision does not
        _PROVED[key] = verdict
    return verdict


def _size_bound(node: ex.Node) -> tuple[int, int]:
    """Upper bounds on the bits of any number SymPy can form from the tree, and on the terms it expands to.

    Building and expanding an expression within small bounds is fast; beyond
    them (nested powers of numbers, products of long sums) SymPy only works
    in a forked child that is cut off.
    """
    bits, terms = _raw_size_bound(node)
    return min(bits, IN_PROCESS_BITS + 1), min(terms, IN_PROCESS_TERMS + 1)  # capped: nested powers stay small


def _raw_size_bound(node: ex.Node) -> tuple[int, int]:
    if node.kind == "num":
        return max(node.value.numerator.bit_length(), node.value.denominator.bit_length(), 1), 1
    if node.kind == "sym":
        return 1, 1
    if node.kind == "bin" and node.value == "**":
        bits, terms = _size_bound(node.args[0])
        exponent = node.args[1].value if node.args[1].kind == "num" else -node.args[1].args[0].value
        power = math.ceil(abs(exponent)) or 1
        return bits * power, terms**power if exponent > 0 and exponent.denominator == 1 else 1
    bounds = [_size_bound(a) for a in node.args]
    bits = sum(b for b, _ in bounds) + 1
    if node.kind == "bin" and node.value in ("+", "-"):
        return bits, bounds[0][1] + bounds[1][1]
    if node.kind == "bin" and node.value == "*":
        return bits, bounds[0][1] * bounds[1][1]
    if node.kind == "call":  # expand may split a log or an exp of a sum into one term per part
        return bits, bounds[0][1] + _count(node.args[0])
    return bits, bounds[0][1]  # /, neg: the numerator's terms


def _count(node: ex.Node) -> int:
    return 1 + sum(_count(a) for a in node.args)


def _limit_memory() -> None:
    """In the proving child: allow SYMPY_MEMORY more bytes of address space, so a blow-up ends it."""
    try:
        import resource

        with open("/proc/self/statm") as statm:
            used = int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
        resource.setrlimit(resource.RLIMIT_AS, (used + SYMPY_MEMORY, used + SYMPY_MEMORY))
    except (OSError, ValueError, ImportError):
        pass


def _matching_mistake(question: GradientQuestion, s_value, values: dict, functions: dict) -> str:
    for text, hint in question.mistakes:
        try:
            with np.errstate(all="ignore"):
                if _close(s_value, ex.evaluate(question.parse(text), values, functions)):
                    return hint
        except (ValueError, KeyError):
            continue
    return ""


def _hint(question, student, s_value, truth, values, G, functions, latex=False) -> str:
    mistaken = _matching_mistake(question, s_value, values, functions)
    if mistaken:
        return mistaken
    lost = _lost_axis(student)
    if lost is not None:
        try:
            with np.errstate(all="ignore"):
                kept = ex.evaluate(_keep_all_dims(student), values, functions)
            if _close(_as_vector(kept, np.shape(truth), latex), truth):
                return _keepdims_hint(lost, latex)
        except ValueError:
            pass
    if not ex.uses(student, "G"):
        return "Your answer does not use G, the upstream gradient: the backward must multiply (or combine) it."
    zero = ex.evaluate(student, {**values, "G": np.zeros_like(G)}, functions)
    if np.any(np.abs(np.asarray(zero)) > 1e-12):
        return "Your answer is not zero when G is zero: every term of a backward must carry G."
    if _close(s_value, -truth):
        return "Your answer has the wrong sign."
    if np.ndim(s_value) == 2 and np.shape(s_value) == np.shape(truth)[::-1] and _close(np.transpose(s_value), truth):
        return "Your answer is the transpose of the gradient: swap the order of the product or drop a .T."
    denom = float(np.vdot(truth, truth))
    if denom > 0 and np.shape(s_value) == np.shape(truth):
        c = float(np.vdot(s_value, truth)) / denom
        if abs(c - 1) > 1e-6 and _close(s_value, c * truth):
            return f"Your answer is the gradient times {fmt(c)}: a constant factor is off."
    return ""


def _shape_hint(error: ex.ShapeError, latex: bool) -> str:
    """What to change when two shapes do not fit, derived from the shapes (a transpose only where it fits)."""
    node = error.node
    if node.kind == "reduce":
        return "Sum over an axis the array has: axis=0 (down the rows) or axis=1 (along each row) for a matrix."
    a, b = (error.shapes + ((), ()))[:2]
    left, right = (ex.render(arg) for arg in node.args[:2]) if len(node.args) == 2 else ("", "")
    if node.kind == "bin" and node.value == "@":
        if not a or not b:
            return "Use * to scale by a number; @ multiplies two matrices."
        fixes = []
        if len(a) == 2 and len(b) == 2:
            if a[0] == b[0]:
                fixes.append("with the left factor transposed")
            if a[1] == b[1]:
                fixes.append("with the right factor transposed")
            if b[1] == a[0]:
                fixes.append("with the two factors swapped")
        shapes = f"{left} has shape {a} and {right} has shape {b}: the inner sizes {a[-1]} and {b[0]} differ."
        if fixes:
            return f"{shapes} The sizes fit {' or '.join(fixes)}: check which gives the gradient's shape."
        return f"{shapes} Check which factors the product needs."
    lost = _lost_axis(node)
    if lost:
        return _keepdims_hint(lost, latex)
    if len(a) == 2 and a == b[::-1]:
        return f"{left} has shape {a} and {right} has shape {b}: one of them is transposed."
    return f"{left} has shape {a} and {right} has shape {b}, which do not broadcast: check the axes of your sums."


def _lost_axis(node: ex.Node) -> ex.Node | None:
    """The first sum or mean over one axis that drops it: the usual cause of shapes that do not broadcast."""
    if node.kind == "reduce" and node.axis is not None and not node.keepdims:
        return node
    return next((found for a in node.args if (found := _lost_axis(a)) is not None), None)


def _keepdims_hint(node: ex.Node, latex: bool) -> str:
    if latex:
        keep = r"write the row sums of A as A \mathbf{1} (a column) or the column sums as \mathbf{1}^\top A (a row)"
    else:
        keep = ex.render(ex.Node("reduce", node.value, node.args, node.axis, True))
    return (f"{ex.render(node)} drops the summed axis, so it broadcasts against the other terms along the wrong "
            f"axis. Keep the dimension: {keep}.")


def _keep_all_dims(node: ex.Node) -> ex.Node:
    if node.kind == "reduce" and node.axis is not None:
        return ex.Node("reduce", node.value, (_keep_all_dims(node.args[0]),), node.axis, True)
    return ex.Node(node.kind, node.value, tuple(_keep_all_dims(a) for a in node.args), node.axis, node.keepdims)


def _as_vector(value, shape: tuple, latex: bool):
    """In LaTeX a column (n, 1) or a row (1, n) cannot be told from a vector (n,): read it with the asked shape."""
    value_shape = np.shape(value)
    if latex and value_shape != shape and np.size(value) == math.prod(shape) and \
            tuple(d for d in value_shape if d != 1) == tuple(d for d in shape if d != 1):
        return np.reshape(value, shape)
    return value


def judge(question: GradientQuestion, text: str, seed: int = 0) -> Verdict:
    """Decide one answer; see the module docstring for the steps."""
    started = time.monotonic()
    try:
        student = question.parse(text)
    except ex.ExpressionError as exc:
        return Verdict("failed", f"could not read your answer {_quoted(text)}: {exc}.",
                       "Write it like `2 * G * X` or `A.T @ G`, or in LaTeX between $...$.")
    echo = ex.render(student)
    model = question.answer  # the student build ships only its fingerprint
    if fingerprint(echo) == (model if model.startswith(FINGERPRINT) else fingerprint(ex.render(question.parse(model)))):
        return Verdict("passed", f"read as {echo}: correct.", echo=echo, tier="exact")
    approximation = _approximation(question, student, echo)
    if approximation:
        return approximation
    if _sympy_applies(question, student) and not _WARMED:
        warm()  # once per process, outside the answer's time budget: a cold process must not change verdicts
        started = time.monotonic()
    latex = text.strip().startswith("$")
    verdict = _numeric(question, student, echo, seed, started, latex)
    if verdict.status != "passed":
        return verdict
    proved = Verdict("passed", f"read as {echo}: equivalent to the gradient (proved symbolically).", echo=echo,
                     tier="symbolic")
    if _sympy_equal(question, student):
        return proved
    precise = _precise(question, student, echo, seed, started, verdict, latex)
    if precise.status != "undecided":
        return precise
    seconds = min(SYMPY_SECONDS, DEADLINE_SECONDS - (time.monotonic() - started))
    return proved if _sympy_equal(question, student, seconds) else precise


def _quoted(text: str) -> str:
    """The answer as the student typed it (no doubled backslashes, unlike repr), cut at 80 characters."""
    shown = text if len(text) <= 80 else text[:80] + "..."
    return f"`{shown}`"


def fingerprint(rendered: str) -> str:
    """A model answer as the student build ships it: a hash of its rendering, not a formula."""
    return FINGERPRINT + hashlib.sha256(rendered.encode()).hexdigest()


def _approximation(question: GradientQuestion, student: ex.Node, echo: str) -> Verdict | None:
    """Refuse a number that only an approximation needs: a step h, its inverse 1/h, an epsilon."""
    low, high = APPROXIMATION_BOUNDS
    texts = (question.forward, question.answer, *question.derived.values())
    own = {abs(c) for text in texts if not text.startswith(FINGERPRINT)
           for c in ex.constants(question.parse(text))}
    for value in ex.constants(student):
        size = abs(value)
        if size == 0 or low <= size <= high or any(abs(size - c) <= 1e-12 * size for c in own):
            continue
        number = ex.render(ex.Node("num", size))
        return Verdict("failed", f"read as {echo}: it contains the number {number}, a small step (or the "
                       "inverse of one) as in a finite difference (f(Y + h) - f(Y)) / h or an added epsilon. An "
                       "approximation is not the derivative, however close it comes.",
                       "Write the exact derivative, with no step or epsilon in it.", echo, "approximation")
    return None


def _numeric(question: GradientQuestion, student: ex.Node, echo: str, seed: int, started: float,
             latex: bool = False) -> Verdict:
    """Screening in float64: compare with the finite-difference gradient at random points."""
    derived = {name: question.parse(expr) for name, expr in question.derived.items()}
    rng = np.random.default_rng(seed)
    checked = 0
    for trial in range(TRIALS * 3):
        if checked == TRIALS:
            break
        if time.monotonic() - started > DEADLINE_SECONDS - RESERVE_SECONDS:
            return _too_slow(echo)
        _, values = _sample(question, rng, small=trial == 0)
        name, functions = _functions(question, trial)
        with np.errstate(all="ignore"):
            out = question.run_forward(values, functions)
        G = rng.standard_normal(np.shape(out))
        values = {**values, "G": G}
        with np.errstate(all="ignore"):
            values.update({k: ex.evaluate(node, values, functions) for k, node in derived.items()})
        x = values[question.wrt]
        direction = rng.standard_normal(np.shape(x))
        along = _directional64(question, values, direction, functions)
        if not np.isfinite(along):
            continue
        try:
            with np.errstate(all="ignore"):
                s_value = np.asarray(_as_vector(ex.evaluate(student, values, functions), np.shape(x), latex),
                                     dtype=float)
        except ex.ShapeError as exc:
            shapes = ", ".join(f"{k} {np.shape(v)}" for k, v in values.items())
            return Verdict("failed", f"read as {echo}: it cannot be evaluated for shapes {shapes}: {exc}.",
                           _shape_hint(exc, latex), echo, "numeric")
        except (ValueError, TypeError, OverflowError) as exc:
            return Verdict("failed", f"read as {echo}: it cannot be evaluated: {exc}.", "", echo, "numeric")
        if s_value.shape != np.shape(x):
            truth = _vjp(question, values, G, functions)
            mistaken = _matching_mistake(question, s_value, values, functions)
            if mistaken:
                hint = mistaken
            elif s_value.shape == truth.shape[::-1] and _close(s_value.T, truth):
                hint = "Your answer is the transpose of the gradient."
            elif s_value.size == truth.size and _close(s_value.reshape(truth.shape), truth):
                hint = (f"The values are right, but d{question.wrt} must have {question.wrt}'s shape "
                        f"{truth.shape}: drop keepdims=True (or the axis of size 1).")
            elif s_value.size == 1 or truth.size % max(s_value.size, 1) == 0:
                hint = "The gradient has the shape of the input; check which axis you sum over."
            else:
                hint = ""
            return Verdict("failed", f"read as {echo}: it has shape {s_value.shape}, but d{question.wrt} must have "
                           f"the shape of {question.wrt}, {truth.shape}.", hint, echo, "numeric")
        if not np.isfinite(s_value).all():
            continue  # off the answer's domain at this point: resample
        products = s_value * direction
        if abs(float(np.sum(products)) - along) <= RTOL * (float(np.sum(np.abs(products))) + abs(along)) + ATOL:
            checked += 1
            continue
        with np.errstate(all="ignore"):  # the directional test failed: the whole gradient, for the message
            truth = _vjp(question, values, G, functions)
        if not np.isfinite(truth).all() or _close(s_value, truth):
            continue  # the difference quotient, not the answer, was off here
        checked += 1
        shown = {k: v for k, v in values.items() if k in question.inputs or k == "G"}
        where = f" (with f(x) = {name})" if question.abstract_f else ""
        message = (f"read as {echo}: wrong. At {_show(shown)}{where}, your {question.key} gives "
                   f"{_array(s_value)}, the true gradient is "
                   f"{_array(truth)}.")
        return Verdict("failed", message, _hint(question, student, s_value, truth, values, G, functions, latex),
                       echo, "numeric")
    if checked < TRIALS:
        return Verdict("undecided", f"read as {echo}: it could not be evaluated at enough points (is it finite "
                       "everywhere it should be?); it will be graded by the staff.", echo=echo, tier="numeric")
    return Verdict("passed", f"read as {echo}: equal to the gradient on {checked} random inputs.", echo=echo,
                   tier="numeric")


def _too_slow(echo: str) -> Verdict:
    return Verdict("undecided", f"read as {echo}: not decided within {DEADLINE_SECONDS:g} s; it will be graded by "
                   "the staff.", echo=echo, tier="numeric")


def _precise(question: GradientQuestion, student: ex.Node, echo: str, seed: int, started: float,
             screened: Verdict, latex: bool = False) -> Verdict:
    """Step 5: the answer in 40 and 80 digits against the forward's derivative in 150, at fresh points."""
    rng = np.random.default_rng([seed, 5])
    derived = {name: question.parse(expr) for name, expr in question.derived.items()}
    confirmed = 0
    for attempt in range(PRECISE_POINTS * 4):
        if confirmed == PRECISE_POINTS:
            break
        if time.monotonic() - started > DEADLINE_SECONDS:
            return _too_slow(echo)
        _, point = _sample(question, rng, small=True, spread=attempt % 2 == 1)
        with np.errstate(all="ignore"):
            out = question.run_forward(point, _functions(question, attempt)[1])
        point["G"] = rng.standard_normal(np.shape(out))
        if not _safe_in_float64(question, student, derived, point, attempt):
            continue  # some intermediate value overflows or leaves its domain here: another point
        x = point[question.wrt]
        direction = rng.standard_normal(np.shape(x)) * (np.abs(x) + np.mean(np.abs(x)))
        truth = _directional(question, point, direction, attempt)
        if truth is None:
            continue
        for digits, tolerance in PRECISIONS:
            precise = _backend(digits)
            values = {k: precise.array(v) for k, v in point.items()}
            functions = _functions(question, attempt, precise)[1]
            try:
                values.update({k: ex.evaluate(node, values, functions, precise) for k, node in derived.items()})
                s_value = _as_vector(ex.evaluate(student, values, functions, precise), np.shape(x), latex)
            except (ZeroDivisionError, ValueError, TypeError):
                break
            if not precise.real_finite(s_value):
                break
            products = np.asarray(s_value * precise.array(direction), dtype=object)
            got, scale = np.sum(products), np.sum(np.abs(products))
            error = abs(got - precise.ctx.mpf(truth))
            if error > tolerance * (scale + abs(precise.ctx.mpf(truth))):
                agree = max(0, int(-math.log10(float(error / (scale + abs(got)))))) if scale else 0
                return Verdict("failed", f"read as {echo}: close to the gradient but not equal to it. Computed with "
                               f"{digits} significant digits, it agrees with the true gradient to only about "
                               f"{agree} digits: it is an approximation (a finite difference, an added epsilon or "
                               "a rounded constant), not the derivative.",
                               "Write the exact derivative, with no step, epsilon or rounded number in it.", echo,
                               "precise")
        else:
            confirmed += 1
    if confirmed < PRECISE_POINTS:
        return Verdict("undecided", f"read as {echo}: it could not be evaluated exactly at enough points; it will be "
                       "graded by the staff.", echo=echo, tier="precise")
    digits, tolerance = PRECISIONS[-1]
    return Verdict("passed", f"{screened.message[:-1]}, and exactly (to {digits} significant digits) on "
                   f"{confirmed} more.", echo=echo, tier="precise")


def _safe_in_float64(question, student, derived, point, attempt) -> bool:
    """Every intermediate value stays finite in float64: then multi-precision evaluation is cheap and bounded."""
    functions = _functions(question, attempt)[1]
    try:
        with np.errstate(over="raise", invalid="raise", divide="raise", under="ignore"):
            values = dict(point)
            values.update({k: ex.evaluate(node, values, functions) for k, node in derived.items()})
            value = ex.evaluate(student, values, functions)
            forward = question.run_forward(values, functions)
    except (FloatingPointError, ValueError, TypeError, ZeroDivisionError, OverflowError):
        return False
    return bool(np.isfinite(value).all() and np.isfinite(forward).all())


def _directional(question: GradientQuestion, point: dict, direction: np.ndarray, attempt: int):
    """d/dt sum(G * forward(wrt + t * direction)) at t = 0, in TRUTH_DIGITS digits (a central difference)."""
    precise = _backend(TRUTH_DIGITS)
    values = {k: precise.array(v) for k, v in point.items() if k in question.inputs}
    G, x, v = precise.array(point["G"]), values[question.wrt], precise.array(direction)
    functions = _functions(question, attempt, precise)[1]
    h = precise.number(STEP)

    def g(t):
        return np.sum(G * question.run_forward({**values, question.wrt: x + v * t}, functions, precise))

    try:
        slope = (g(h) - g(-h)) / (2 * h)
    except (ZeroDivisionError, ValueError, TypeError):
        return None
    return slope if precise.real_finite(slope) else None  # None: the forward leaves its domain here


def formula_points(symbols: tuple[str, ...], seed: int, *, odd: tuple[str, ...] = (),
                   even: tuple[str, ...] = ()) -> list[dict[str, int]]:
    """The random integer points ``judge_formula`` compares at, for ``seed``: each size from 2 to 60.

    ``odd`` and ``even`` name sizes the question states to be odd or even (an odd kernel, an even height
    that a stride of 2 halves exactly): those are drawn so. The draws are the same with or without them.
    """
    unknown = (set(odd) | set(even)) - set(symbols)
    if unknown or set(odd) & set(even):
        raise ValueError(f"odd and even must name distinct symbols of {symbols}: {sorted(set(odd) | set(even))}")
    rng = np.random.default_rng(seed)
    points = [{s: int(rng.integers(2, 60)) for s in symbols} for _ in range(TRIALS + 2)]
    for point in points:
        for s in odd:
            point[s] += 1 - point[s] % 2  # 3 to 59
        for s in even:
            point[s] -= point[s] % 2  # 2 to 58
    return points


def formula_value(formula: str, symbols: tuple[str, ...], point: dict[str, int],
                  vocabulary: tuple[Function, ...] = ()) -> int | Fraction:
    """The value of a formula in named sizes (trusted text: a model answer) at one integer point: exact (an
    ``int``) for a count, else a ``Fraction`` good to 60 significant digits (``str`` of it records it)."""
    precise = _backend(60)
    node = ex.parse(formula, dict.fromkeys(symbols), tuple(f.name for f in vocabulary))
    value = ex.evaluate(node, _exact(point, precise), {f.name: f.precise(precise.ctx) for f in vocabulary}, precise)
    if not precise.real_finite(value):
        raise ValueError(f"{formula} is not a finite real number at {point}")
    sign, mantissa, exponent, _ = value._mpf_  # the binary number itself, exactly
    value = (-1) ** sign * Fraction(int(mantissa)) * Fraction(2) ** int(exponent)
    return int(value) if value.denominator == 1 else value


def _formula_values(formula, names: dict, precise, vocabulary: tuple[Function, ...] = ()):
    """``(point, precise values) -> value`` of a formula given as text, or as a function of the integer point
    (a truth recorded at ``formula_points``: the student build has the values, not the formula)."""
    if callable(formula):
        return lambda point, values: precise.number(Fraction(formula(point)))
    node = ex.parse(formula, names, tuple(f.name for f in vocabulary))
    functions = {f.name: f.precise(precise.ctx) for f in vocabulary}
    return lambda point, values: ex.evaluate(node, values, functions, precise=precise)


def _exact(point: dict[str, int], precise: ex.Precise) -> dict:
    """An integer point's sizes as numbers of ``precise``."""
    return {s: precise.number(Fraction(v)) for s, v in point.items()}


def _value_at(node: ex.Node, point: dict[str, int], precise: ex.Precise, vocabulary: tuple[Function, ...]):
    """``node`` at an integer point with ``precise``'s digits, after a float64 pass that bounds every
    intermediate (a hostile power fails fast there). Raises what evaluating raises."""
    with np.errstate(over="raise", invalid="raise", divide="raise", under="ignore"):
        ex.evaluate(node, {s: np.float64(v) for s, v in point.items()}, {f.name: f.float64 for f in vocabulary})
    return ex.evaluate(node, _exact(point, precise), {f.name: f.precise(precise.ctx) for f in vocabulary},
                       precise=precise)


def _mistake_hint(student: ex.Node, mistakes: tuple[tuple, ...], points: list[dict[str, int]], names: dict,
                  precise: ex.Precise, vocabulary: tuple[Function, ...]) -> str:
    """The hint of the first known mistake that the answer equals at every point, not only where it failed
    (two mistakes may agree at one point, e.g. where two sizes are equal); "" if none."""
    got = []
    for point in points:
        try:
            value = _value_at(student, point, precise, vocabulary)
        except (FloatingPointError, ZeroDivisionError, OverflowError, ValueError, TypeError):
            return ""
        if np.ndim(value) or not precise.real_finite(value):
            return ""
        got.append((point, value))
    for formula, hint in mistakes:
        at = _formula_values(formula, names, precise, vocabulary)
        if all(abs(value - at(point, _exact(point, precise))) <= 1e-40 * max(1, abs(value)) for point, value in got):
            return hint
    return ""


def judge_formula(text: str, symbols: tuple[str, ...], truth, mistakes: tuple[tuple, ...] = (),
                  seed: int = 0, *, points: list[dict[str, int]] | None = None,
                  vocabulary: tuple[Function, ...] = ()) -> Verdict:
    """Decide a scalar formula (e.g. a parameter count in D_in, H_1, ...) by exact random-point identity testing.

    Two rational functions that agree exactly on random integer points are
    equal with high probability (Schwartz-Zippel). ``truth`` (and each mistake's formula) is a formula, or a
    function of the integer point (``formula_points``) giving an exact value. The values are computed
    with 60 significant digits (exact for such counts), so an approximation
    such as ``1.0000001 * D_in * H_1`` is refused; evaluating is bounded,
    whereas expanding a hostile polynomial symbolically is not. A formula with ``ceil`` or ``floor`` (a count
    of batches) or a transcendental one (a loss in logits) is judged the same way at the same points.

    ``points``: where to compare (default ``formula_points(symbols, seed)``; pass them drawn with ``odd`` /
    ``even``, or with cases a rounding question needs). ``vocabulary``: functions beyond the core ones that
    answers may name (a3's ``log10``), so a known wrong spelling gets its hint.
    """
    names = dict.fromkeys(symbols)
    try:
        student = ex.parse(text, names, tuple(f.name for f in vocabulary))
    except ex.ExpressionError as exc:
        return Verdict("failed", f"could not read your answer {_quoted(text)}: {exc}.",
                       f"Write it with {', '.join(symbols)}, e.g. {symbols[0]} * {symbols[-1]} + {symbols[-1]}.")
    echo = ex.render(student)
    precise = _backend(60)
    truth_at = _formula_values(truth, names, precise, vocabulary)
    points = formula_points(symbols, seed) if points is None else points
    for point in points:
        shown = ", ".join(f"{k}={v}" for k, v in point.items())
        want = truth_at(point, _exact(point, precise))
        try:
            got = _value_at(student, point, precise, vocabulary)
        except (FloatingPointError, ZeroDivisionError, OverflowError):
            return Verdict("failed", f"read as {echo}: at {shown} it is not a finite real number (too large, a "
                           "division by zero, or the root or log of a negative number).", echo=echo, tier="precise")
        except (ValueError, TypeError) as exc:
            return Verdict("failed", f"read as {echo}: it cannot be evaluated: {exc}.", echo=echo, tier="precise")
        if np.ndim(got) or not precise.real_finite(got):
            return Verdict("failed", f"read as {echo}: at {shown} it is not a real number.", echo=echo, tier="precise")
        if abs(got - want) > 1e-40 * max(1, abs(want)):
            hint = _mistake_hint(student, mistakes, points, names, precise, vocabulary)
            return Verdict("failed", f"read as {echo}: wrong. At {shown} it gives {fmt(float(got))}, the right "
                           f"value is {fmt(float(want))}.", hint, echo, "precise")
    return Verdict("passed", f"read as {echo}: correct.", echo=echo, tier="precise")

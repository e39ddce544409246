"""Decide whether a written gradient is right: the reusable derivation checker.

A course declares a ``GradientQuestion``: the forward as an expression, its
inputs with symbolic shapes and domains, which input's gradient is asked
for, and optionally known wrong answers with hints. ``judge`` then decides
an answer string in tiers:

1. exact: the parsed answer renders the same as the model answer;
2. symbolic: for element-wise forms, SymPy proves ``answer - G * d forward``
   is zero (in a forked process, cut off after ``SYMPY_SECONDS``);
3. numeric: on random shapes and values, the answer must equal the true
   vector-Jacobian product, computed by central differences of the forward
   (so the truth is derived, never typed in), over several seeds.

A verdict is passed, failed (with a counterexample and a hint where a known
wrong form matches), or undecided (left to staff). Nothing here runs the
student's text: it is parsed by ``expressions.parse``.
"""

from __future__ import annotations

import hashlib
import os
import select
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from grader.checks import expressions as ex
from grader.checks.compare import fmt

TRIALS = 4
SYMPY_SECONDS = 1.0
DEADLINE_SECONDS = 2.0
RTOL, ATOL = 1e-5, 1e-6
FINGERPRINT = "fingerprint:"  # the student build's model answers (grader/packaging/redact.py)

# Element-wise functions a question may leave abstract: f and its derivative fprime.
ABSTRACT_FUNCTIONS: list[tuple[str, Callable, Callable]] = [
    ("sin(x) + x**2/2", lambda x: np.sin(x) + x**2 / 2, lambda x: np.cos(x) + x),
    ("exp(x/3)", lambda x: np.exp(x / 3), lambda x: np.exp(x / 3) / 3),
    ("x**3/3 + 2x", lambda x: x**3 / 3 + 2 * x, lambda x: x**2 + 2),
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

    def run_forward(self, values: dict, functions: dict) -> np.ndarray:
        if self.forward_fn is not None:
            return self.forward_fn(values)
        return ex.evaluate(self.parse(self.forward), values, functions)

    @property
    def symbols(self) -> list[str]:
        return [*self.inputs, "G", *self.derived]

    @property
    def functions(self) -> tuple[str, ...]:
        return ("f", "fprime") if self.abstract_f else ()

    def parse(self, text: str) -> ex.Node:
        return ex.parse(text, dict.fromkeys(self.symbols), self.functions)


@dataclass(frozen=True)
class Verdict:
    status: str  # passed | failed | undecided
    message: str
    hint: str = ""
    echo: str = ""
    tier: str = ""


def _sample(question: GradientQuestion, rng: np.random.Generator, small: bool):
    """Random sizes for every dimension name, and values for every input."""
    names = sorted({d for var in question.inputs.values() for d in var.shape} - set(question.fixed_dims))
    pool = np.arange(2, 2 + len(names) + (0 if small else 3))  # distinct sizes: a wrong product cannot hide
    sizes = rng.choice(pool, size=len(names), replace=False)
    dims = {**dict(zip(names, (int(s) for s in sizes))), **question.fixed_dims}
    values = {}
    for name, var in question.inputs.items():
        shape = tuple(dims[d] for d in var.shape)
        if var.domain == "positive":
            values[name] = rng.uniform(0.5, 2.0, size=shape)
        elif var.domain == "nonzero":
            values[name] = rng.uniform(0.5, 2.0, size=shape) * rng.choice([-1.0, 1.0], size=shape)
        else:
            values[name] = rng.standard_normal(shape)
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


def _close(a, b) -> bool:
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    scale = max(1.0, float(np.max(np.abs(b))) if b.size else 1.0)
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=RTOL, atol=ATOL * scale))


def _show(values: dict) -> str:
    return ", ".join(f"{k}={_array(v)}" for k, v in values.items())


def _array(value) -> str:
    text = np.array2string(np.asarray(value), precision=4, separator=", ", max_line_width=10**6)
    return " ".join(text.split())


def _sympy_equal(question: GradientQuestion, student: ex.Node) -> bool | None:
    """True/False if SymPy decides ``student == G * d forward`` within the time limit, else None."""
    forward = question.parse(question.forward)
    if question.derived or question.forward_fn or not (ex.is_elementwise(student) and ex.is_elementwise(forward)):
        return None
    import sympy  # imported here, once, so that each forked child starts with it

    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child only does trusted symbolic algebra on trees we built
        code = b"?"
        try:
            domains = {"positive": {"positive": True}, "nonzero": {"nonzero": True, "real": True}}
            symbols = {n: sympy.Symbol(n, **domains.get(v.domain, {"real": True})) for n, v in question.inputs.items()}
            symbols["G"] = sympy.Symbol("G", real=True)
            f, fprime = sympy.Function("f"), sympy.Function("fprime")
            functions = {"f": f, "fprime": fprime}
            truth = symbols["G"] * sympy.diff(ex.to_sympy(forward, symbols, functions), symbols[question.wrt])
            truth = truth.replace(lambda e: isinstance(e, sympy.Derivative), lambda e: fprime(*e.expr.args))
            difference = sympy.simplify(ex.to_sympy(student, symbols, functions) - truth)
            code = b"1" if difference == 0 else b"0"
        except BaseException:
            pass
        os.write(write, code)
        os._exit(0)
    os.close(write)
    try:
        ready, _, _ = select.select([read], [], [], SYMPY_SECONDS)
        result = os.read(read, 1) if ready else b""
    finally:
        os.close(read)
        try:
            os.kill(pid, 9)
        except OSError:
            pass
        os.waitpid(pid, 0)
    return {b"1": True, b"0": False}.get(result)


def _matching_mistake(question: GradientQuestion, s_value, values: dict, functions: dict) -> str:
    for text, hint in question.mistakes:
        try:
            with np.errstate(all="ignore"):
                if _close(s_value, ex.evaluate(question.parse(text), values, functions)):
                    return hint
        except (ValueError, KeyError):
            continue
    return ""


def _hint(question, student, s_value, truth, values, G, functions) -> str:
    mistaken = _matching_mistake(question, s_value, values, functions)
    if mistaken:
        return mistaken
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


def judge(question: GradientQuestion, text: str, seed: int = 0) -> Verdict:
    """Decide one answer; see the module docstring for the tiers."""
    started = time.monotonic()
    try:
        student = question.parse(text)
    except ex.ExpressionError as exc:
        return Verdict("failed", f"could not read your answer {text[:80]!r}: {exc}.",
                       "Write it like `-G * X / Y**2` or `X.T @ G`, or in LaTeX between $...$.")
    echo = ex.render(student)
    model = question.answer  # the student build ships only its fingerprint
    if fingerprint(echo) == (model if model.startswith(FINGERPRINT) else fingerprint(ex.render(question.parse(model)))):
        return Verdict("passed", f"read as {echo}: correct.", echo=echo, tier="exact")
    verdict = _numeric(question, student, echo, seed, started)
    if verdict.status != "failed" and _sympy_equal(question, student):
        return Verdict("passed", f"read as {echo}: equivalent to the gradient (proved symbolically).",
                       echo=echo, tier="symbolic")
    return verdict


def fingerprint(rendered: str) -> str:
    """A model answer as the student build ships it: a hash of its rendering, not a formula."""
    return FINGERPRINT + hashlib.sha256(rendered.encode()).hexdigest()


def _numeric(question: GradientQuestion, student: ex.Node, echo: str, seed: int, started: float) -> Verdict:
    """Tier 3 (run before the slower tier 2): compare with the finite-difference gradient at random points."""
    derived = {name: question.parse(expr) for name, expr in question.derived.items()}
    rng = np.random.default_rng(seed)
    checked = 0
    for trial in range(TRIALS * 3):
        if checked == TRIALS:
            break
        if time.monotonic() - started > DEADLINE_SECONDS:
            return Verdict("undecided", f"read as {echo}: not decided within {DEADLINE_SECONDS:g} s; "
                           "it will be graded by the staff.", echo=echo, tier="numeric")
        _, values = _sample(question, rng, small=trial == 0)
        name, f, fprime = ABSTRACT_FUNCTIONS[trial % len(ABSTRACT_FUNCTIONS)]
        functions = {"f": f, "fprime": fprime} if question.abstract_f else {}
        out = question.run_forward(values, functions)
        G = rng.standard_normal(np.shape(out))
        values = {**values, "G": G}
        values.update({k: ex.evaluate(node, values, functions) for k, node in derived.items()})
        truth = _vjp(question, values, G, functions)
        if not np.isfinite(truth).all():
            continue
        try:
            with np.errstate(all="ignore"):
                s_value = np.asarray(ex.evaluate(student, values, functions), dtype=float)
        except (ValueError, TypeError) as exc:
            shapes = ", ".join(f"{k} {np.shape(v)}" for k, v in values.items())
            return Verdict("failed", f"read as {echo}: it cannot be evaluated for shapes {shapes}: {exc}.",
                           "Check the order of matrix products and where a transpose is needed.", echo, "numeric")
        if s_value.shape != truth.shape:
            mistaken = _matching_mistake(question, s_value, values, functions)
            if mistaken:
                hint = mistaken
            elif s_value.shape == truth.shape[::-1] and _close(s_value.T, truth):
                hint = "Your answer is the transpose of the gradient."
            elif s_value.size == 1 or truth.size % max(s_value.size, 1) == 0:
                hint = "The gradient has the shape of the input; check which axis you sum over."
            else:
                hint = ""
            return Verdict("failed", f"read as {echo}: it has shape {s_value.shape}, but d{question.wrt} must have "
                           f"the shape of {question.wrt}, {truth.shape}.", hint, echo, "numeric")
        if not np.isfinite(s_value).all():
            continue  # off the answer's domain at this point: resample
        checked += 1
        if not _close(s_value, truth):
            shown = {k: v for k, v in values.items() if k in question.inputs or k == "G"}
            where = f" (with f(x) = {name})" if question.abstract_f else ""
            message = (f"read as {echo}: wrong. At {_show(shown)}{where}, your {question.key} gives "
                       f"{_array(s_value)}, the true gradient is "
                       f"{_array(truth)}.")
            return Verdict("failed", message, _hint(question, student, s_value, truth, values, G, functions),
                           echo, "numeric")
    if checked < TRIALS:
        return Verdict("undecided", f"read as {echo}: it could not be evaluated at enough points (is it finite "
                       "everywhere it should be?); it will be graded by the staff.", echo=echo, tier="numeric")
    return Verdict("passed", f"read as {echo}: equal to the gradient on {checked} random inputs.", echo=echo,
                   tier="numeric")


def judge_formula(text: str, symbols: tuple[str, ...], truth: str, mistakes: tuple[tuple[str, str], ...] = (),
                  seed: int = 0) -> Verdict:
    """Decide a scalar formula (e.g. a parameter count in D_in, H_1, ...) by random-point identity testing.

    Two polynomials that agree on random integer points are equal with high
    probability (Schwartz-Zippel); evaluating is bounded, whereas expanding a
    hostile polynomial symbolically is not.
    """
    names = dict.fromkeys(symbols)
    try:
        student = ex.parse(text, names)
    except ex.ExpressionError as exc:
        return Verdict("failed", f"could not read your answer {text[:80]!r}: {exc}.",
                       f"Write it with {', '.join(symbols)}, e.g. {symbols[0]} * {symbols[-1]} + {symbols[-1]}.")
    echo = ex.render(student)
    rng = np.random.default_rng(seed)
    truth_node = ex.parse(truth, names)
    for _ in range(TRIALS + 2):
        values = {s: np.float64(rng.integers(2, 60)) for s in symbols}
        want = float(ex.evaluate(truth_node, values))
        try:
            with np.errstate(all="ignore"):
                got = float(ex.evaluate(student, values))
        except (ValueError, TypeError) as exc:
            return Verdict("failed", f"read as {echo}: it cannot be evaluated: {exc}.", echo=echo, tier="numeric")
        if not np.isclose(got, want, rtol=1e-9, atol=1e-9):
            hint = next((h for t, h in mistakes if np.isclose(got, float(ex.evaluate(ex.parse(t, names), values)))),
                        "")
            shown = ", ".join(f"{k}={int(v)}" for k, v in values.items())
            return Verdict("failed", f"read as {echo}: wrong. At {shown} it gives {fmt(got)}, the count is "
                           f"{fmt(want)}.", hint, echo, "numeric")
    return Verdict("passed", f"read as {echo}: correct.", echo=echo, tier="numeric")

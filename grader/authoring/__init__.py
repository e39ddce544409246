"""The public authoring API: everything a course's assignment imports from dlgrade, in one module.

A course writes its assignment as a package of its own (spec, checks, reference,
template, handout) and imports only this module::

    from grader.authoring import Assignment, CheckContext, CheckFailed, assert_close, oracle, register

    A5 = register(Assignment(id="a5", title="An LSTM cell", files=("lstm.py",)))
    ref = oracle.load("a5", "lstm")          # the reference module ``<package>.reference.lstm``

    @A5.check(task="1.1", name="forward", points=2)
    def lstm_forward(ctx: CheckContext) -> None:
        x = ctx.rng.standard_normal((4, 3))
        assert_close("forward", ctx.student.forward(x), ref.forward(x))

The built-in assignments a1-a4 (``grader/assignments/``) import nothing else from
dlgrade: they are the first course and its worked examples (a test keeps it so).
``docs/authoring.md`` is the tutorial and the reference of every name here.

Names are imported on first use (PEP 562), so importing this module costs nothing:
an assignment that never judges a written answer never imports SymPy.

Groups of names:

- the assignment and its checks: ``Assignment``, ``register``, ``Check``, ``CheckContext``,
  ``CheckFailed``, ``CheckUndecided``, ``Equivalent`` (a mutant declared equivalent), ``Mistake`` (a wrong
  submission that proves a hint);
- the reference: ``oracle`` (``oracle.load(assignment, module)``, ``oracle.Unrecorded``);
- comparing a student's value with the expected one, naming known mistakes: ``assert_close``,
  ``expect_shape``, ``as_array``, ``as_scalar``, ``arrays``, ``unpack``, ``fmt``, ``likely_ignored``;
- gradients: ``verify_gradient``, ``own_forward``, ``weighted_sums``, ``numeric_gradient``,
  ``directional_check``, ``elementwise_check``;
- written questions: ``answer`` (read ``answers.toml``), ``GradientQuestion``, ``Var``, ``judge_gradient``
  (symbolic), ``judge_formula`` (a formula in named sizes; ``formula_points`` and ``formula_value``: where it
  compares and the truth there), ``judge_number``, ``judge_matrix``, ``Tolerance``
  (numeric), ``warm_gradients``, ``warm_formulas``, ``Function`` (a function a question adds to what answers
  may name, by its SymPy meaning);
- speed: ``timing`` (``timing.judge``: CPU time against a yardstick run in the same moment, load-independent);
- what the student's code may raise through ``ctx.student``: ``StudentCodeError``, ``MissingName``,
  ``CallTimeout``; values that cross into the sandbox: ``RngSeed``;
- per-assignment data: ``ctx.data`` (``--data NAME=PATH``), ``package_file`` (a file shipped inside the
  assignment's package), ``OnFirstUse`` (a heavy module imported when first used), ``UsageError``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# public name -> (module, attribute); attribute None: the module itself
_EXPORTS: dict[str, tuple[str, str | None]] = {
    "Assignment": ("grader.assignment", "Assignment"),
    "Check": ("grader.assignment", "Check"),
    "CheckContext": ("grader.assignment", "CheckContext"),
    "CheckFailed": ("grader.assignment", "CheckFailed"),
    "CheckUndecided": ("grader.assignment", "CheckUndecided"),
    "Equivalent": ("grader.assignment", "Equivalent"),
    "Mistake": ("grader.assignment", "Mistake"),
    "register": ("grader.assignment", "register"),
    "oracle": ("grader.oracle", None),
    "as_array": ("grader.checks.compare", "as_array"),
    "as_scalar": ("grader.checks.compare", "as_scalar"),
    "arrays": ("grader.checks.compare", "arrays"),
    "assert_close": ("grader.checks.compare", "assert_close"),
    "expect_shape": ("grader.checks.compare", "expect_shape"),
    "fmt": ("grader.checks.compare", "fmt"),
    "likely_ignored": ("grader.checks.compare", "likely_ignored"),
    "unpack": ("grader.checks.compare", "unpack"),
    "directional_check": ("grader.checks.gradcheck", "directional_check"),
    "elementwise_check": ("grader.checks.gradcheck", "elementwise_check"),
    "numeric_gradient": ("grader.checks.gradcheck", "numeric_gradient"),
    "own_forward": ("grader.checks.gradcheck", "own_forward"),
    "verify_gradient": ("grader.checks.gradcheck", "verify_gradient"),
    "weighted_sums": ("grader.checks.gradcheck", "weighted_sums"),
    "answer": ("grader.checks.answers", "answer"),
    "GradientQuestion": ("grader.checks.symbolic", "GradientQuestion"),
    "Var": ("grader.checks.symbolic", "Var"),
    "Verdict": ("grader.checks.symbolic", "Verdict"),
    "judge_gradient": ("grader.checks.symbolic", "judge"),
    "judge_formula": ("grader.checks.symbolic", "judge_formula"),
    "formula_points": ("grader.checks.symbolic", "formula_points"),
    "formula_value": ("grader.checks.symbolic", "formula_value"),
    "warm_gradients": ("grader.checks.symbolic", "warm"),
    "warm_formulas": ("grader.checks.symbolic", "warm_formulas"),
    "Tolerance": ("grader.checks.numeric", "Tolerance"),
    "judge_number": ("grader.checks.numeric", "judge_number"),
    "judge_matrix": ("grader.checks.numeric", "judge_matrix"),
    "StudentCodeError": ("grader.runner.remote", "StudentCodeError"),
    "MissingName": ("grader.runner.remote", "MissingName"),
    "CallTimeout": ("grader.runner.sandbox", "CallTimeout"),
    "RngSeed": ("grader.runner.wire", "RngSeed"),
    "OnFirstUse": ("grader.lazy", "OnFirstUse"),
    "UsageError": ("grader.errors", "UsageError"),
    "package_file": ("grader.authoring.files", "package_file"),
    "Function": ("grader.checks.vocabulary", "Function"),
    "timing": ("grader.checks.timing", None),
}

__all__ = [
    "Assignment",
    "CallTimeout",
    "Check",
    "CheckContext",
    "CheckFailed",
    "CheckUndecided",
    "Equivalent",
    "Function",
    "GradientQuestion",
    "MissingName",
    "Mistake",
    "OnFirstUse",
    "RngSeed",
    "StudentCodeError",
    "Tolerance",
    "UsageError",
    "Var",
    "Verdict",
    "answer",
    "arrays",
    "as_array",
    "as_scalar",
    "assert_close",
    "directional_check",
    "elementwise_check",
    "expect_shape",
    "fmt",
    "formula_points",
    "formula_value",
    "judge_formula",
    "judge_gradient",
    "judge_matrix",
    "judge_number",
    "likely_ignored",
    "numeric_gradient",
    "oracle",
    "own_forward",
    "package_file",
    "register",
    "timing",
    "unpack",
    "verify_gradient",
    "warm_formulas",
    "warm_gradients",
    "weighted_sums",
]

if TYPE_CHECKING:  # for type checkers and IDEs: the same names, imported eagerly
    from grader import oracle
    from grader.assignment import (
        Assignment,
        Check,
        CheckContext,
        CheckFailed,
        CheckUndecided,
        Equivalent,
        Mistake,
        register,
    )
    from grader.authoring.files import package_file
    from grader.checks import timing
    from grader.checks.answers import answer
    from grader.checks.compare import (
        arrays,
        as_array,
        as_scalar,
        assert_close,
        expect_shape,
        fmt,
        likely_ignored,
        unpack,
    )
    from grader.checks.gradcheck import (
        directional_check,
        elementwise_check,
        numeric_gradient,
        own_forward,
        verify_gradient,
        weighted_sums,
    )
    from grader.checks.numeric import Tolerance, judge_matrix, judge_number
    from grader.checks.symbolic import (
        GradientQuestion,
        Var,
        Verdict,
        formula_points,
        formula_value,
        judge_formula,
        warm_formulas,
    )
    from grader.checks.symbolic import judge as judge_gradient
    from grader.checks.symbolic import warm as warm_gradients
    from grader.checks.vocabulary import Function
    from grader.errors import UsageError
    from grader.lazy import OnFirstUse
    from grader.runner.remote import MissingName, StudentCodeError
    from grader.runner.sandbox import CallTimeout
    from grader.runner.wire import RngSeed


def __getattr__(name: str) -> Any:
    """Import the public name ``name`` on first use (``from grader.authoring import X`` works as usual)."""
    try:
        module, attribute = _EXPORTS[name]
    except KeyError:
        raise AttributeError(f"module 'grader.authoring' has no attribute {name!r}") from None
    value = importlib.import_module(module)
    if attribute is not None:
        value = getattr(value, attribute)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})

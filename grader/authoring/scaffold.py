"""``dlgrade author new ID DIR``: a complete, working assignment package to start from.

The package is the shape of a built-in (spec, checks, reference, template,
handout), registered through the ``dlgrade.assignments`` entry point::

    DIR/pyproject.toml                   the entry point ID = PACKAGE.spec:ASSIGNMENT
    DIR/PACKAGE/spec.py                  the Assignment: files, handout, checks' module, declared mistakes
    DIR/PACKAGE/checks.py                two code checks (one names a mistake in its hint), one written question
    DIR/PACKAGE/reference/cell.py        the reference, with # BEGIN SOLUTION / # END SOLUTION markers
    DIR/PACKAGE/reference/answers.toml   the written answer, with markers
    DIR/PACKAGE/template/                derived from the reference (``dlgrade author template ID``)
    DIR/PACKAGE/mistakes/no_bias/        a wrong submission, and the hint it must get
    DIR/PACKAGE/handout.md               the student's page
    DIR/tests/test_ID.py                 runs ``dlgrade author verify`` in pytest

After ``pip install -e DIR``: ``dlgrade list`` shows ID and ``dlgrade author verify ID`` passes.
"""

from __future__ import annotations

import keyword
import re
from pathlib import Path

from grader.authoring.markers import derive
from grader.errors import UsageError

_ID = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")

PYPROJECT = '''[build-system]
requires = ["setuptools>=68"]
build-backend = "setuptools.build_meta"

[project]
name = "{dist}"
version = "0.1.0"
description = "{title}: a dlgrade assignment"
requires-python = ">=3.11"
# dlgrade itself is installed beside it (the course's staff build, or Gradescope's setup.sh).
dependencies = []

# How dlgrade finds the assignment: `dlgrade list` shows it once this package is installed.
[project.entry-points."dlgrade.assignments"]
{id} = "{package}.spec:ASSIGNMENT"

[tool.setuptools.packages.find]
include = ["{package}*"]

[tool.setuptools.package-data]
{package} = ["handout.md", "template/*", "reference/*.toml", "mistakes/*/*"]
'''

INIT = '''"""{title}: a dlgrade assignment (see spec.py)."""
'''

SPEC = '''"""The {id} assignment: what the student hands in and how it is graded."""

from __future__ import annotations

from grader.authoring import Assignment, Mistake, register

ASSIGNMENT = register(Assignment(
    id="{id}",
    title="{title}",
    files=("cell.py", "answers.toml"),
    summary="A tanh layer, forward and backward, in NumPy; and its derivative, written.",
    forbidden_imports=("torch", "tensorflow", "jax", "autograd"),
    # Found inside this package: reference/ (the solution, never shipped to students), template/ (the
    # starter files, derived from the reference's solution markers), the handout.
    handout="handout.md",
    check_modules=("{package}.checks",),
    points=6.0,  # the sum of the checks' points
    # A wrong submission each hint is proven on (`dlgrade author verify` grades it).
    mistakes=(Mistake("mistakes/no_bias", check="forward", hint="bias"),),
))
'''

CHECKS = '''"""The checks of {id}: each gets a seeded RNG and the student's code behind ``ctx.student``."""

from __future__ import annotations

import numpy as np

from grader.authoring import (
    CheckContext,
    CheckFailed,
    GradientQuestion,
    Var,
    answer,
    assert_close,
    judge_gradient,
    oracle,
)

from {package}.spec import ASSIGNMENT

ref = oracle.load("{id}", "cell")  # {package}.reference.cell, or its recording in a student build


def _problem(ctx: CheckContext):
    n, d, m = (int(v) for v in ctx.rng.integers(2, 6, size=3))
    return ctx.rng.standard_normal((n, d)), ctx.rng.standard_normal((d, m)), ctx.rng.standard_normal(m)


@ASSIGNMENT.check(task="1.1", name="forward", points=2)
def forward(ctx: CheckContext) -> None:
    """forward(x, W, b) = tanh(x @ W + b)."""
    x, W, b = _problem(ctx)
    got = ctx.student.module("cell").call("forward", x, W, b)
    assert_close("forward(x, W, b)", got, ref.forward(x, W, b),
                 mistakes=[(np.tanh(x @ W), "The bias b is missing: add it before the tanh.")])


@ASSIGNMENT.check(task="1.2", name="backward", points=2, depends_on=("forward",))
def backward(ctx: CheckContext) -> None:
    """backward(x, W, b, G) returns (dx, dW, db)."""
    x, W, b = _problem(ctx)
    G = ctx.rng.standard_normal((x.shape[0], W.shape[1]))
    got = ctx.student.module("cell").call("backward", x, W, b, G)
    if not isinstance(got, (tuple, list)) or len(got) != 3:
        raise CheckFailed("backward should return three arrays (dx, dW, db).")
    for name, value, expected, plain in zip(("dx", "dW", "db"), got, ref.backward(x, W, b, G),
                                            (G @ W.T, x.T @ G, G.sum(axis=0))):
        assert_close(name, value, expected,
                     mistakes=[(plain, "tanh's derivative is missing: multiply G by 1 - tanh(z)**2 first.")])


DTANH = GradientQuestion(
    "tanh", "dz", "y = tanh(z), element-wise. With upstream gradient G, give dz.", {{"z": Var(("n", "m"))}},
    "tanh(z)", "z", "G * (1 - tanh(z)**2)",
    mistakes=(("1 - tanh(z)**2", "G is missing: multiply the local derivative by the upstream gradient."),))


@ASSIGNMENT.check(task="2.1", name="[tanh] dz", points=2, files=("answers.toml",))
def tanh_dz(ctx: CheckContext) -> str:
    """The derivative of tanh, written in answers.toml."""
    verdict = judge_gradient(DTANH, answer(ctx, "tanh", "dz"), seed=int(ctx.rng.integers(2**31)))
    if verdict.status != "passed":
        raise CheckFailed(verdict.message, verdict.hint)
    return verdict.message
'''

REFERENCE = '''"""A tanh layer in NumPy: y = tanh(x @ W + b)."""

import numpy as np


def forward(x, W, b):
    """Return tanh(x @ W + b): x (n, d), W (d, m), b (m,) -> (n, m)."""
    # BEGIN SOLUTION: raise NotImplementedError("Task 1.1: forward")
    return np.tanh(x @ W + b)
    # END SOLUTION


def backward(x, W, b, G):
    """Return (dx, dW, db), the gradients of sum(G * forward(x, W, b))."""
    # BEGIN SOLUTION: raise NotImplementedError("Task 1.2: backward")
    dz = G * (1 - np.tanh(x @ W + b) ** 2)
    return dz @ W.T, x.T @ dz, dz.sum(axis=0)
    # END SOLUTION
'''

ANSWERS = """# Written answers: exact formulas in single quotes (NumPy syntax, or LaTeX between $...$).
[tanh]
# BEGIN SOLUTION: dz = ''
dz = 'G * (1 - np.tanh(z)**2)'
# END SOLUTION
"""

NO_BIAS = '''"""A mistake the hint of check "forward" names: the bias is left out."""

import numpy as np


def forward(x, W, b):
    return np.tanh(x @ W)


def backward(x, W, b, G):
    dz = G * (1 - np.tanh(x @ W) ** 2)
    return dz @ W.T, x.T @ dz, dz.sum(axis=0)
'''

HANDOUT = """# {id}: {title}

Hand in `cell.py` and `answers.toml`. Get the starter files with `dlgrade init {id} my_{id}/`
and check your work with `dlgrade check {id} my_{id}/`.

## Task 1.1: forward (2 points)
`forward(x, W, b)` returns `tanh(x @ W + b)` for `x` of shape (n, d), `W` (d, m), `b` (m,).

## Task 1.2: backward (2 points)
`backward(x, W, b, G)` returns `(dx, dW, db)`, the gradients of `sum(G * forward(x, W, b))`.

## Task 2.1: written (2 points)
In `answers.toml`, `[tanh] dz`: with `y = tanh(z)` element-wise and upstream gradient `G`, give `dz`.
"""

TEST = '''"""The assignment's own acceptance test: reference full marks, template zero, hints hold."""

from grader import api


def test_{ident}_verifies():
    result = api.author_verify("{id}", seeds=2, mutants=0)
    assert result.ok, result.problems
'''


def package_name(assignment_id: str) -> str:
    """The default Python package of an assignment id: ``course_<id>`` (``-`` becomes ``_``)."""
    return "course_" + assignment_id.replace("-", "_")


def new_assignment(assignment_id: str, folder: Path, *, package: str | None = None, title: str | None = None,
                   force: bool = False) -> list[Path]:
    """Write a complete assignment package for ``assignment_id`` into ``folder``; return the files written."""
    if not _ID.match(assignment_id):
        raise UsageError(f"{assignment_id!r} is not a usable assignment id: start with a lower-case letter, then "
                         "lower-case letters, digits, _ or - (at most 32), e.g. a5.")
    package = package or package_name(assignment_id)
    if not package.isidentifier() or keyword.iskeyword(package) or package in ("grader", "reference"):
        raise UsageError(f"{package!r} cannot be the assignment's Python package; give another with --package.")
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"{folder} exists and is not a folder.")
    if folder.is_dir() and any(folder.iterdir()) and not force:
        raise UsageError(f"{folder} is not empty; nothing was written (use --force to write into it).")
    title = title or f"Assignment {assignment_id}"
    if any(c in title for c in "\"\\\n{}"):
        raise UsageError("the title may not contain quotes, backslashes, braces or line breaks.")
    fields = {"id": assignment_id, "package": package, "title": title, "dist": f"dlgrade-{package.replace('_', '-')}",
              "ident": assignment_id.replace("-", "_")}
    files = {
        "pyproject.toml": PYPROJECT.format(**fields),
        f"{package}/__init__.py": INIT.format(**fields),
        f"{package}/spec.py": SPEC.format(**fields),
        f"{package}/checks.py": CHECKS.format(**fields),
        f"{package}/reference/__init__.py": '"""The reference solution: staff only, never shipped to students."""\n',
        f"{package}/reference/cell.py": REFERENCE,
        f"{package}/reference/answers.toml": ANSWERS,
        f"{package}/template/cell.py": derive(REFERENCE, "cell.py").text,
        f"{package}/template/answers.toml": derive(ANSWERS, "answers.toml").text,
        f"{package}/mistakes/no_bias/cell.py": NO_BIAS,
        f"{package}/mistakes/no_bias/answers.toml": derive(ANSWERS, "answers.toml").text.replace(
            "dz = ''", "dz = 'G * (1 - np.tanh(z)**2)'"),
        f"{package}/handout.md": HANDOUT.format(**fields),
        f"tests/test_{fields['ident']}.py": TEST.format(**fields),
    }
    written = []
    for name, text in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written

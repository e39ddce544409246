"""A course's own two-file assignment, made by the test that uses it: a package with its checks, found by
dlgrade through the ``dlgrade.assignments`` entry point as ``pip install`` would declare it.

In this process the package is imported (which registers it); child processes (the grading workers) find
it through ``PYTHONPATH``, where a ``.dist-info`` declares the entry point.
"""

from __future__ import annotations

import importlib
import os
import sys
from pathlib import Path

SPEC = '''
"""{id}: two small functions in two files, each checked on random inputs."""
from pathlib import Path

from grader.assignment import Assignment, CheckFailed, register

ASSIGNMENT = register(Assignment(id="{id}", title="Powers by hand", files=("square.py", "cube.py"),
                                 preload=(), default_wall_s=10.0, template=Path(__file__).with_name("template")))


@ASSIGNMENT.check("1.1", "square", points=2, files=("square.py",))
def square(ctx):
    """square(x) for a random integer."""
    x = int(ctx.rng.integers(2, 50))
    got = ctx.student.module("square").call("square", x)
    if got != x * x:
        raise CheckFailed(f"square({{x}}) returned {{got!r}}, expected {{x * x}}")


@ASSIGNMENT.check("1.2", "cube", points=3, files=("cube.py",))
def cube(ctx):
    """cube(x) for a random integer."""
    x = int(ctx.rng.integers(2, 50))
    got = ctx.student.module("cube").call("cube", x)
    if got != x ** 3:
        raise CheckFailed(f"cube({{x}}) returned {{got!r}}, expected {{x ** 3}}")
'''
SQUARE = "def square(x):\n    return x * x\n"
CUBE = "def cube(x):\n    return x ** 3\n"
WRONG_CUBE = "def cube(x):\n    return x * 3\n"


def make_course(root: Path, assignment_id: str, monkeypatch) -> str:
    """Write package ``course_<id>`` under ``root``, register it here and for child processes."""
    package = f"course_{assignment_id}"
    (root / package).mkdir(parents=True)
    (root / package / "__init__.py").write_text("")
    (root / package / "spec.py").write_text(SPEC.format(id=assignment_id))
    (root / package / "template").mkdir()
    (root / package / "template" / "square.py").write_text("def square(x):\n    raise NotImplementedError\n")
    (root / package / "template" / "cube.py").write_text("def cube(x):\n    raise NotImplementedError\n")
    dist = root / f"dlgrade_{package}-0.1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text(f"Metadata-Version: 2.1\nName: dlgrade-{package}\nVersion: 0.1.0\n")
    (dist / "entry_points.txt").write_text(f"[dlgrade.assignments]\n{assignment_id} = {package}.spec:ASSIGNMENT\n")
    monkeypatch.syspath_prepend(str(root))
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(p for p in (str(root), os.environ.get("PYTHONPATH")) if p))
    importlib.invalidate_caches()
    importlib.import_module(f"{package}.spec")
    return package


def forget(assignment_id: str, package: str) -> None:
    from grader import assignment

    assignment._registry.pop(assignment_id, None)
    for name in [m for m in sys.modules if m == package or m.startswith(package + ".")]:
        del sys.modules[name]

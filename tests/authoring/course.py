"""An assignment package dlgrade has never seen, made by a test: ``make_course`` writes it (with
``dlgrade author new``'s generator) and makes it importable and discoverable through the entry point.

In this process it is imported (which registers it); for child processes (``dlgrade ...``) ``env``
puts its folder on ``PYTHONPATH``, where a ``.dist-info`` declares the ``dlgrade.assignments`` entry
point exactly as ``pip install`` would.
"""

from __future__ import annotations

import importlib
import os
import sys
from dataclasses import dataclass
from pathlib import Path

from grader.authoring.scaffold import new_assignment


@dataclass(frozen=True)
class Course:
    id: str
    package: str
    root: Path  # the folder on sys.path, holding the package and its .dist-info

    @property
    def folder(self) -> Path:
        return self.root / self.package

    @property
    def reference(self) -> Path:
        return self.folder / "reference"

    @property
    def template(self) -> Path:
        return self.folder / "template"

    def env(self, **extra: str) -> dict[str, str]:
        path = os.pathsep.join(p for p in (str(self.root), os.environ.get("PYTHONPATH", "")) if p)
        return {**os.environ, "PYTHONPATH": path, **extra}


def entry_point(root: Path, assignment_id: str, package: str) -> None:
    """Declare the entry point as an installed distribution would (what ``pip install -e`` writes)."""
    dist = root / f"dlgrade_{package}-0.1.0.dist-info"
    dist.mkdir(parents=True, exist_ok=True)
    (dist / "METADATA").write_text(f"Metadata-Version: 2.1\nName: dlgrade-{package}\nVersion: 0.1.0\n")
    (dist / "entry_points.txt").write_text(f"[dlgrade.assignments]\n{assignment_id} = {package}.spec:ASSIGNMENT\n")


def make_course(tmp: Path, assignment_id: str, *, register: bool = True) -> Course:
    """Write the package for ``assignment_id`` under ``tmp/src`` and (``register``) import it here."""
    root = tmp / "src"
    package = f"course_{assignment_id}"
    written = new_assignment(assignment_id, tmp / "project", package=package)
    root.mkdir(parents=True, exist_ok=True)
    (tmp / "project" / package).rename(root / package)
    entry_point(root, assignment_id, package)
    assert written
    course = Course(assignment_id, package, root)
    if register:
        sys.path.insert(0, str(root))
        importlib.invalidate_caches()
        importlib.import_module(f"{package}.spec")
    return course


def forget(course: Course) -> None:
    """Undo ``make_course``'s registration in this process."""
    from grader import assignment

    assignment._registry.pop(course.id, None)
    for name in [m for m in sys.modules if m == course.package or m.startswith(course.package + ".")]:
        del sys.modules[name]
    if str(course.root) in sys.path:
        sys.path.remove(str(course.root))

"""Build the student wheel: the same ``dlgrade`` command, without the reference or the answer keys.

Steps, all offline, in a temporary folder (the source tree is never changed):

1. stage ``pyproject.toml`` and ``grader/`` (no ``reference/``, no caches);
2. record the reference's answers with the public seeds in a child process
   (``grader.packaging.record``) into ``grader/packaging/expectations/``;
3. take the answer keys out of the staged source (``grader.packaging.redact``)
   and write ``expectations/manifest.json``: seeds, hidden checks, the names
   of the reference modules (its presence is what makes a build a student build);
4. refuse if any staged module still imports ``reference``;
5. ``pip wheel --no-deps --no-build-isolation --no-index`` into the output folder;
6. inspect the wheel (``grader.packaging.inspect_wheel``) and refuse to leave
   a wheel that leaks.
"""

from __future__ import annotations

import ast
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from grader.docs import stage_pages
from grader.errors import InternalError, UsageError
from grader.packaging import redact
from grader.packaging.inspect_wheel import Findings, inspect_wheel

ROOT = Path(__file__).resolve().parents[2]
PUBLIC_SEEDS = (1, 2, 3)
RECORD_TIMEOUT_S = 1800
# The oldest NumPy the student build is declared (and tested, tests/packaging/test_versions.py) to replay with;
# the newest is the last minor release of the series it was recorded with.
NUMPY_FLOOR = "2.0"
DATA_PATTERNS = ["packaging/expectations/*.json", "packaging/expectations/**/*.json",
                 "packaging/expectations/**/*.npz", "docs_data/*.md"]


@dataclass(frozen=True)
class StudentPack:
    """What ``build_student_pack`` made: the wheel, its manifest, and what the inspection saw."""

    wheel: Path
    manifest: dict
    findings: Findings


def _staff_tree(root: Path) -> None:
    missing = [p for p in ("pyproject.toml", "grader", "reference") if not (root / p).exists()]
    if missing:
        raise UsageError(f"build-student-pack needs the staff's source tree (with {', '.join(missing)}); "
                         f"{root} is not one: run it from a checkout of dlgrade.")


def _stage(root: Path, stage: Path) -> None:
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "expectations", "*.egg-info", "docs_data")
    shutil.copytree(root / "grader", stage / "grader", ignore=ignore)
    shutil.copytree(root / "student_template", stage / "student_template", ignore=ignore)  # for dlgrade init
    stage_pages(root, stage / "grader" / "docs_data")  # the handouts and the answer guide: `dlgrade docs`
    text = (root / "pyproject.toml").read_text(encoding="utf-8")
    text = re.sub(r'(?m)^version = "([^"]+)"', r'version = "\1+student"', text, count=1)
    text = re.sub(r'(?m)^readme = .*\n', "", text, count=1)  # the staff README is not the students'
    text = text.replace('include = ["grader*", "reference*", "student_template*"]',
                        'include = ["grader*", "student_template*"]')
    text = re.sub(r'(?m)^grader = \[(.*)\]$', lambda m: "grader = [" + m.group(1) + ", " + ", ".join(
        f'"{p}"' for p in DATA_PATTERNS) + "]", text, count=1)
    text, found = re.subn(r'"numpy[^"]*"', f'"numpy{numpy_range()}"', text, count=1)
    if 'include = ["grader*", "student_template*"]' not in text or DATA_PATTERNS[0] not in text or not found:
        raise InternalError("pyproject.toml no longer has the package list the student build rewrites")
    (stage / "pyproject.toml").write_text(text, encoding="utf-8")


def numpy_range() -> str:
    """The NumPy versions the student wheel declares: from ``NUMPY_FLOOR`` up to the recording's minor series."""
    import numpy

    major, minor = (int(part) for part in numpy.__version__.split(".")[:2])
    return f">={NUMPY_FLOOR},<{major}.{minor + 1}"


def _record(root: Path, expectations: Path, seeds: tuple[int, ...], assignments: list[str],
            search_path: tuple[str, ...] = ()) -> dict:
    from grader.packaging.record import uses_oracle

    recorded = [a for a in assignments if uses_oracle(root, a)]
    command = [sys.executable, "-m", "grader.packaging.record", str(root), str(expectations),
               "--seeds", *map(str, seeds)]
    for a in recorded:
        command += ["--assignment", a]
    # A course's own packages are found where this process finds them (an editable install's folder too).
    env = {**os.environ, "DLGRADE_ORACLE": "record", "PYTHONPATH": os.pathsep.join((str(root), *search_path))}
    done = subprocess.run(command, cwd=root, env=env, capture_output=True, text=True, timeout=RECORD_TIMEOUT_S)
    if done.returncode != 0:
        raise InternalError(f"recording the reference failed: {done.stderr.strip().splitlines()[-1:]}")
    summary = json.loads((expectations / "record.json").read_text())
    (expectations / "record.json").unlink()
    return summary


def _imports_reference(grader: Path, references: set[str] | None = None) -> list[str]:
    bad = []
    for path in grader.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = ([node.module or ""] if isinstance(node, ast.ImportFrom) else
                     [a.name for a in node.names] if isinstance(node, ast.Import) else [])
            if references is not None:  # a course's package: its own reference packages
                if any(n == r or n.startswith(r + ".") for n in names for r in references):
                    bad.append(str(path.relative_to(grader.parent)))
            elif any(n.split(".")[0] == "reference" for n in names):
                bad.append(str(path.relative_to(grader.parent)))
    return bad


def build_student_pack(out: Path, *, seeds: tuple[int, ...] = PUBLIC_SEEDS, assignments: list[str] | None = None,
                       root: Path = ROOT) -> StudentPack:
    """Build the student wheel into ``out``; see the module docstring."""
    from grader.api import get_assignment, list_assignments
    from grader.authoring import studentpack

    _staff_tree(root)
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise UsageError(f"-o {out}: not a folder")
    known = [a.id for a in list_assignments()]
    assignments = list(assignments or known)
    unknown = [a for a in assignments if a not in known]
    if unknown:
        raise UsageError(f"unknown assignment {', '.join(unknown)}; known: {', '.join(known)}")
    with tempfile.TemporaryDirectory(prefix="dlgrade-student-build-") as tmp:
        stage = Path(tmp) / "src"
        stage.mkdir()
        _stage(root, stage)
        courses = studentpack.course_packages([get_assignment(a) for a in assignments])
        course_answers = studentpack.stage(stage, courses)  # a course's package, without reference or key
        expectations = stage / "grader" / "packaging" / "expectations"
        expectations.mkdir(parents=True)
        summary = _record(root, expectations, tuple(seeds), assignments, tuple(studentpack.search_path(courses)))
        hidden = {a: dict(summary["hidden"].get(a, {})) for a in known}
        for a, checks in redact.redact(stage / "grader").items():
            hidden.setdefault(a, {}).update(checks)
        import numpy

        manifest = {"seeds": list(seeds), "hidden": hidden, "modules": summary["modules"],
                    "recorded": summary["recorded"], "numpy": {"recorded_with": numpy.__version__,
                                                              "declared": numpy_range()}}
        (expectations / "manifest.json").write_text(json.dumps(manifest, indent=1, sort_keys=True))
        leaking = _imports_reference(stage / "grader") + [
            leak for course in courses for leak in _imports_reference(stage / course.top, {
                a.reference_package for a in course.assignments})]
        if leaking:
            raise InternalError(f"the student build would still import reference in {', '.join(leaking)}")
        out.mkdir(parents=True, exist_ok=True)
        wheel_dir = Path(tmp) / "wheel"
        done = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                               "--no-index", "--disable-pip-version-check", "-q", "-w", str(wheel_dir), str(stage)],
                              capture_output=True, text=True, env={**os.environ, "PIP_NO_INDEX": "1"})
        wheels = sorted(wheel_dir.glob("*.whl"))
        if done.returncode != 0 or len(wheels) != 1:
            raise InternalError(f"pip wheel failed: {done.stderr.strip()[-500:]}")
        findings = inspect_wheel(wheels[0], root)
        if findings.leaks:
            raise InternalError(f"the student wheel would contain answers: {'; '.join(findings.leaks[:5])}")
        course_leaks = studentpack.leaks(wheels[0], courses, course_answers)
        if course_leaks:
            raise InternalError(f"the student wheel would contain a course's answers: {'; '.join(course_leaks[:5])}")
        target = out / wheels[0].name
        shutil.copy2(wheels[0], target)
    return StudentPack(wheel=target, manifest=manifest, findings=findings)

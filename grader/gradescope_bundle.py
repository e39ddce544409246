"""``dlgrade gradescope bundle``: the autograder zip Gradescope builds its image from.

The zip holds ``setup.sh`` (installs this dlgrade, the staff build with the
reference, from the copy of its source inside the zip; nothing else is fetched
but the dependencies pip resolves when Gradescope builds the image) and
``run_autograder`` (grades ``/autograder/submission`` and always leaves a valid
``/autograder/results/results.json``: when the submission is missing, crashes,
hangs or is hostile, and even when dlgrade itself fails, it writes a zero with
the reason). Gradescope's containers lack the privileges for namespaces, so
the sandbox runs degraded there (separate uid, rlimits, wall clock); setup.sh
makes the installed reference unreadable to that uid. A course's own assignment travels as its
package (``course-src/``, installed after dlgrade, registered by its entry point); setup.sh makes
that package unreadable to the sandbox's uid too.
"""

from __future__ import annotations

import io
import json
import os
import stat
import zipfile
from importlib import metadata
from pathlib import Path

import grader
from grader.assignment import ENTRY_POINT_GROUP, Assignment
from grader.errors import UsageError

PACKAGES = ("grader", "reference", "student_template")
SKIPPED = ("__pycache__", ".pytest_cache", ".git", ".mypy_cache", ".ruff_cache")
RUN_TIMEOUT_S = 3600

SETUP = """#!/usr/bin/env bash
# Gradescope runs this once, when it builds the autograder image.
set -euo pipefail
cd /autograder/source
python3 -m pip install --upgrade pip
python3 -m pip install "./dlgrade-src{extras}"
{course}# The sandbox runs student code as an unprivileged user; the solutions must not be readable by it.
for package in {locked}; do
  folder=$(python3 -c 'import importlib.util as u, os, sys; print(os.path.dirname(u.find_spec(sys.argv[1]).origin))' \\
    "$package")
  chown -R root:root "$folder"
  chmod -R go-rwx "$folder"
done
"""
COURSE = """# The course's own assignment package (its checks, reference and template), registered by its entry point.
python3 -m pip install ./course-src
"""

RUN = '''#!/usr/bin/env python3
"""Gradescope runs this for every submission; it must always leave a valid results.json."""
import json
import os
import subprocess
import sys
from pathlib import Path

ASSIGNMENT = {assignment!r}
ROOT = Path(os.environ.get("DLGRADE_AUTOGRADER_ROOT", "/autograder"))
RESULTS = ROOT / "results" / "results.json"
TIMEOUT_S = {timeout}


def fallback(reason):
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({{"score": 0, "output": "The autograder could not grade this submission: "
                                    + reason + " Please contact the course staff.",
                                    "stdout_visibility": "hidden", "tests": []}}))


def valid():
    try:
        data = json.loads(RESULTS.read_text())
    except (OSError, ValueError):
        return False
    return isinstance(data, dict) and isinstance(data.get("tests"), list)


def main():
    if RESULTS.exists():
        RESULTS.unlink()
    command = ["dlgrade", "ci", ASSIGNMENT, str(ROOT / "submission"), "--emit", "gradescope",
               "--gradescope-out", str(RESULTS)]
    try:
        done = subprocess.run(command, timeout=TIMEOUT_S, stdin=subprocess.DEVNULL)
        reason = "dlgrade exited with code " + str(done.returncode) + "."
    except subprocess.TimeoutExpired:
        reason = "grading took longer than " + str(TIMEOUT_S) + " s."
    except OSError as exc:
        reason = "dlgrade could not be started (" + str(exc) + ")."
    if not valid():
        fallback(reason)
    return 0


if __name__ == "__main__":
    sys.exit(main())
'''


def _source_root() -> Path:
    return Path(grader.__file__).resolve().parent.parent


def _pyproject(root: Path) -> str:
    existing = root / "pyproject.toml"
    if existing.is_file():
        return existing.read_text()
    meta = metadata.metadata("dlgrade")
    requires = [r for r in (metadata.requires("dlgrade") or []) if "extra ==" not in r]
    return (f'[build-system]\nrequires = ["setuptools>=68"]\nbuild-backend = "setuptools.build_meta"\n\n'
            f'[project]\nname = "dlgrade"\nversion = "{meta["Version"]}"\nrequires-python = ">=3.11"\n'
            f"dependencies = {json.dumps(requires)}\n\n"
            '[project.optional-dependencies]\ntorch = ["torch>=2.2,<3"]\n\n'
            '[project.scripts]\ndlgrade = "grader.cli:main"\n\n'
            '[tool.setuptools.packages.find]\ninclude = ["grader*", "reference*", "student_template*"]\n\n'
            '[tool.setuptools.package-data]\ngrader = ["py.typed", "data/*.gz", "data/*.md"]\n'
            'student_template = ["*/*.py", "*/*.toml"]\n')


def _add(archive: zipfile.ZipFile, name: str, data: bytes, executable: bool = False) -> None:
    info = zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0))
    info.external_attr = ((0o755 if executable else 0o644) | stat.S_IFREG) << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    archive.writestr(info, data)


def _course_pyproject(assignment: Assignment, top: str) -> str:
    """A pyproject for the course's package as the bundle holds it: the package, its data, its entry point."""
    entry = next((e for e in metadata.entry_points(group=ENTRY_POINT_GROUP) if e.name == assignment.id), None)
    if entry is None:
        raise UsageError(f"{assignment.id} is not registered through the {ENTRY_POINT_GROUP!r} entry point; "
                         "install its package (pip install -e FOLDER) so that Gradescope's image can find it too.")
    return (f'[build-system]\nrequires = ["setuptools>=68"]\nbuild-backend = "setuptools.build_meta"\n\n'
            f'[project]\nname = "dlgrade-course-{top.replace("_", "-")}"\nversion = "0"\n'
            'requires-python = ">=3.11"\n\n'
            f'[project.entry-points."{ENTRY_POINT_GROUP}"]\n{json.dumps(entry.name)} = {json.dumps(entry.value)}\n\n'
            f'[tool.setuptools.packages.find]\ninclude = ["{top}", "{top}.*"]\n\n'
            f'[tool.setuptools.package-data]\n"*" = ["*", "**/*"]\n')


def course_package(assignment: Assignment) -> tuple[str, Path] | None:
    """The top-level package a course's assignment lives in and its folder; None for a built-in."""
    if assignment.builtin:
        return None
    top = assignment.package.split(".")[0]
    folder = _package_folder(top)
    if folder is None:
        raise UsageError(f"{assignment.id}: its package {top!r} is not installed here.")
    return top, folder


def _package_folder(name: str) -> Path | None:
    import importlib.util

    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def locked_packages(assignment: Assignment) -> list[str]:
    """The packages setup.sh makes unreadable to the sandbox's user: every reference and the course's own
    package (its checks and key; dlgrade's ``grader`` stays readable, the sandbox's worker lives there)."""
    names = ["reference"]
    for name in (assignment.package, assignment.reference_package):
        top = name.split(".")[0]
        if top and top != "grader" and top not in names:
            names.append(top)
    return names


def _files(folder: Path):
    for path in sorted(folder.rglob("*")):
        if path.is_file() and not any(p in SKIPPED for p in path.parts) and path.suffix != ".pyc":
            yield path


def build_bundle(assignment: Assignment, output: Path) -> Path:
    """Write the autograder zip for ``assignment`` to ``output`` (a course's assignment: with its package)."""
    root = _source_root()
    if not all((root / package).is_dir() for package in PACKAGES):
        raise UsageError("this dlgrade installation has no reference solutions (a student build?); "
                         "build the Gradescope bundle from the staff build.")
    if output.exists() and output.is_dir():
        raise UsageError(f"{output} is a folder; give the zip file's path, e.g. -o autograder.zip")
    if not output.parent.is_dir():
        raise UsageError(f"the folder {output.parent} does not exist.")
    extras = "[torch]" if "torch" in assignment.requires else ""
    course = course_package(assignment)
    setup = SETUP.format(extras=extras, course=COURSE if course else "",
                         locked=" ".join(locked_packages(assignment)))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        _add(archive, "setup.sh", setup.encode(), executable=True)
        _add(archive, "run_autograder", RUN.format(assignment=assignment.id, timeout=RUN_TIMEOUT_S).encode(),
             executable=True)
        _add(archive, "dlgrade-src/pyproject.toml", _pyproject(root).encode())
        for package in PACKAGES:
            for path in _files(root / package):
                _add(archive, f"dlgrade-src/{path.relative_to(root).as_posix()}", path.read_bytes())
        if course:
            top, folder = course
            _add(archive, "course-src/pyproject.toml", _course_pyproject(assignment, top).encode())
            for path in _files(folder):
                _add(archive, f"course-src/{top}/{path.relative_to(folder).as_posix()}", path.read_bytes())
    output.write_bytes(buffer.getvalue())
    os.chmod(output, 0o644)
    return output

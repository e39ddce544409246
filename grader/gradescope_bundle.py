"""``dlgrade gradescope bundle``: the autograder zip Gradescope builds its image from.

The zip holds ``setup.sh`` (installs this dlgrade, the staff build with the
reference, from the copy of its source inside the zip; nothing else is fetched
but the dependencies pip resolves when Gradescope builds the image) and
``run_autograder`` (grades ``/autograder/submission`` and always leaves a valid
``/autograder/results/results.json``: when the submission is missing, crashes,
hangs or is hostile, and even when dlgrade itself fails, it writes a zero with
the reason). Gradescope's containers lack the privileges for namespaces, so
the sandbox runs degraded there (separate uid, rlimits, wall clock); setup.sh
makes the installed reference unreadable to that uid.
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
from grader.assignment import Assignment
from grader.errors import UsageError

PACKAGES = ("grader", "reference", "student_template")
RUN_TIMEOUT_S = 3600

SETUP = """#!/usr/bin/env bash
# Gradescope runs this once, when it builds the autograder image.
set -euo pipefail
cd /autograder/source
python3 -m pip install --upgrade pip
python3 -m pip install "./dlgrade-src{extras}"
# The sandbox runs student code as an unprivileged user; the solutions must not be readable by it.
reference=$(python3 -c 'import os, reference; print(os.path.dirname(reference.__file__))')
chown -R root:root "$reference"
chmod -R go-rwx "$reference"
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


def build_bundle(assignment: Assignment, output: Path) -> Path:
    """Write the autograder zip for ``assignment`` to ``output``."""
    root = _source_root()
    if not all((root / package).is_dir() for package in PACKAGES):
        raise UsageError("this dlgrade installation has no reference solutions (a student build?); "
                         "build the Gradescope bundle from the staff build.")
    if output.exists() and output.is_dir():
        raise UsageError(f"{output} is a folder; give the zip file's path, e.g. -o autograder.zip")
    if not output.parent.is_dir():
        raise UsageError(f"the folder {output.parent} does not exist.")
    extras = "[torch]" if "torch" in assignment.requires else ""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        _add(archive, "setup.sh", SETUP.format(extras=extras).encode(), executable=True)
        _add(archive, "run_autograder", RUN.format(assignment=assignment.id, timeout=RUN_TIMEOUT_S).encode(),
             executable=True)
        _add(archive, "dlgrade-src/pyproject.toml", _pyproject(root).encode())
        for package in PACKAGES:
            for path in sorted((root / package).rglob("*")):
                if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
                    _add(archive, f"dlgrade-src/{path.relative_to(root).as_posix()}", path.read_bytes())
    output.write_bytes(buffer.getvalue())
    os.chmod(output, 0o644)
    return output

"""The student wheel is tested against the versions students get: the NumPy range it declares, Pythons 3.11-3.13.

The build declares ``numpy>=NUMPY_FLOOR,<next minor of the recording``. Here the a3 wheel is installed, with
its dependencies from the configured package index (nothing else is reachable), into a fresh venv for the
oldest and the newest NumPy of that range that pip can install as a binary for each Python found on this
machine (3.11, the running one, always; 3.12 and 3.13 where present, on PATH or under pyenv), and every
recorded submission must get the verdicts the staff build gives.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from grader import api
from grader.packaging.build import NUMPY_FLOOR
from tests.packaging.test_student_build import submissions

ROOT = Path(__file__).resolve().parents[2]
PYTHONS = ("3.11", "3.12", "3.13")


def _interpreter(version: str) -> str | None:
    if f"{sys.version_info.major}.{sys.version_info.minor}" == version:
        return getattr(sys, "_base_executable", sys.executable)
    # On PATH, or installed by pyenv without being selected (its shim then refuses to run it).
    candidates = [shutil.which(f"python{version}"),
                  *sorted(map(str, Path.home().glob(f".pyenv/versions/{version}.*/bin/python{version}")))]
    for found in filter(None, candidates):
        if subprocess.run([found, "-c", "import venv, ensurepip"], capture_output=True).returncode == 0:
            return found
    return None


def _declared(wheel: Path) -> str:
    with zipfile.ZipFile(wheel) as archive:
        meta = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
        text = archive.read(meta).decode()
    return next(line.split(":", 1)[1].strip() for line in text.splitlines()
                if line.startswith("Requires-Dist:") and re.match(r"numpy\b", line.split(":", 1)[1].strip()))


def _key(version: str) -> tuple[int, ...]:
    return tuple(int(p) for p in re.findall(r"\d+", version)[:3])


def _allowed(python: str, declared: str) -> list[str]:
    """The NumPy versions of the declared range that pip finds for ``python``, oldest first."""
    done = subprocess.run([python, "-m", "pip", "index", "versions", "numpy"], capture_output=True, text=True,
                          timeout=300, env={**os.environ, "PIP_CONSTRAINT": ""})
    listed = re.search(r"Available versions: (.*)", done.stdout)
    low = _key(re.search(r">=\s*([\d.]+)", declared).group(1))
    high = _key(re.search(r"<\s*([\d.]+)", declared).group(1))
    versions = [v.strip() for v in listed.group(1).split(",")] if listed else []
    return sorted((v for v in versions if re.fullmatch(r"\d+\.\d+\.\d+", v) and low <= _key(v) < high), key=_key)


def _venv(python: str, folder: Path, wheel: Path, versions: list[str]) -> tuple[Path, str]:
    """A venv with the wheel and the first of ``versions`` pip can install as a binary: (venv, that version)."""
    subprocess.run([python, "-m", "venv", str(folder)], check=True, timeout=600)
    env = {**os.environ, "PIP_CONSTRAINT": ""}  # the machine's pins would forbid the oldest NumPy
    for version in versions:  # an old NumPy may have no wheel for a new Python: never build one from source
        done = subprocess.run([str(folder / "bin" / "python"), "-m", "pip", "install", "-q",
                               "--disable-pip-version-check", "--only-binary=numpy", str(wheel),
                               f"numpy=={version}"], capture_output=True, text=True, timeout=1200, env=env)
        if done.returncode == 0:
            return folder, version
    raise AssertionError(f"pip installs none of NumPy {versions} for {python}: {done.stderr[-1000:]}")


@pytest.mark.slow
def test_the_wheel_declares_its_numpy_range_and_replays_with_its_ends(student_a3, tmp_path, zygote):
    declared = _declared(student_a3.pack.wheel)
    assert re.fullmatch(rf"numpy(>={re.escape(NUMPY_FLOOR)},<[\d.]+|<[\d.]+,>={re.escape(NUMPY_FLOOR)})",
                        declared.replace(" ", "")), declared
    assert set(student_a3.pack.manifest["numpy"]["declared"].replace(" ", "").split(",")) == set(
        declared.replace(" ", "").removeprefix("numpy").split(","))
    staff = {path: api.check("a3", path, seed=1, zygote=zygote).to_dict() for path in submissions("a3")}
    hidden = set(student_a3.pack.manifest["hidden"].get("a3", {}))
    tried = []
    for version in PYTHONS:
        python = _interpreter(version)
        if python is None:
            continue
        allowed = _allowed(python, declared)
        assert allowed, f"pip finds no NumPy in {declared} for Python {version}"
        for end, order in (("oldest", allowed), ("newest", allowed[::-1])):
            venv, numpy_version = _venv(python, tmp_path / f"py{version}-{end}", student_a3.pack.wheel, order)
            if (version, numpy_version) in tried:
                continue
            env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "DLGRADE_ORACLE")}
            for path, theirs in staff.items():
                done = subprocess.run([str(venv / "bin" / "dlgrade"), "check", "a3", str(path), "--seed", "1",
                                       "--format", "json"], cwd=tmp_path, env=env, capture_output=True, text=True,
                                      timeout=600)
                assert done.returncode in (0, 1), (version, numpy_version, done.stderr[-2000:])
                report = json.loads(done.stdout)
                assert report["diagnostics"]["numpy"] == numpy_version
                for mine, staff_check in zip(report["checks"], theirs["checks"], strict=True):
                    if mine["id"] in hidden or mine["status"] == "hidden":
                        continue
                    assert (mine["status"], mine["score"]) == (staff_check["status"], staff_check["score"]), (
                        version, numpy_version, path.name, mine["id"], mine["message"])
            tried.append((version, numpy_version))
    print("tried (Python, NumPy):", tried)
    assert len(tried) >= 2, tried  # at least the oldest and the newest NumPy on the running Python

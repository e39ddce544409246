"""Every flow a course hands to students works for an assignment dlgrade has never seen.

The assignment is a package the test creates (``tests/authoring/course.py``), found by child
processes through its ``dlgrade.assignments`` entry point as an installed package would be.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import numpy
import pytest

from grader import api
from grader.gradescope_bundle import build_bundle

ROOT = Path(__file__).resolve().parents[2]
DLGRADE = str(Path(sys.executable).parent / "dlgrade")


def _answers(course) -> str:
    return (course.reference / "answers.toml").read_text()


def test_init_ci_writes_dlgrades_own_ci_files_for_a_course_assignment(course, tmp_path):
    target = tmp_path / "template-repo"
    done = subprocess.run([DLGRADE, "init", course.id, str(target), "--ci"], env=course.env(), cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    workflow = (target / ".github" / "workflows" / "grade.yml").read_text()
    assert f"dlgrade ci {course.id}" in workflow or course.id in workflow
    assert "__ASSIGNMENT__" not in workflow and "__RUNNERS__" not in workflow
    for name in ("classroom50/autograde.sh", "classroom50/autograder.py", ".github/dlgrade-requirements.txt",
                 "cell.py", "answers.toml"):
        assert (target / name).is_file(), name
    assert "SOLUTION" not in (target / "cell.py").read_text()


@pytest.mark.parametrize("level", ["full", "minimal"])
@pytest.mark.parametrize("line", [
    "from {package}.reference.cell import forward, backward\n",
    "import importlib\n_m = importlib.import_module('{package}.reference.cell')\nforward, backward = _m.forward, "
    "_m.backward\n",
    "from {package} import checks\nfrom numpy import tanh\n\ndef forward(x, W, b):\n    return tanh(x @ W + b)\n",
])
def test_the_courses_packages_are_unimportable_from_a_submission(course, tmp_path, monkeypatch, level, line):
    if level == "minimal":
        monkeypatch.setenv("DLGRADE_SANDBOX", "minimal")
    sub = tmp_path / "sub"
    sub.mkdir()
    (sub / "cell.py").write_text(line.format(package=course.package))
    (sub / "answers.toml").write_text(_answers(course))
    report = api.check(course.id, sub, seed=1)
    code = [c for c in report.checks if c.id in ("forward", "backward")]
    assert all(c.status != "passed" for c in code), [(c.id, c.status) for c in code]
    assert any(course.package in c.message for c in code)
    assert report.score <= 2  # only the written answer


def test_the_reference_is_absent_from_the_sandbox_root(course, tmp_path):
    """At the full level the sandbox's root holds neither the course's package nor its reference."""
    if api.doctor().level != "full":
        pytest.skip("the full sandbox level needs root and namespaces")
    sub = tmp_path / "sub"
    sub.mkdir()
    paths = (str(course.reference / "cell.py"), str(course.folder), str(course.root))
    assert all(os.path.exists(p) for p in paths)  # outside the sandbox they are there
    probe = (course.reference / "cell.py").read_text().replace(
        "import numpy as np\n", f"import numpy as np\nimport os\n\nSEEN = [p for p in {paths!r} if os.path.exists(p)]\n"
    )
    probe = probe.replace("    return np.tanh(x @ W + b)\n",
                          "    assert not SEEN, SEEN\n    return np.tanh(x @ W + b)\n")
    (sub / "cell.py").write_text(probe)
    (sub / "answers.toml").write_text(_answers(course))
    report = api.check(course.id, sub, seed=1, tasks=["forward"])
    forward = next(c for c in report.checks if c.id == "forward")
    assert forward.status == "passed", forward.message


@pytest.fixture
def bundle(course, tmp_path):
    path = tmp_path / "autograder.zip"
    build_bundle(api.get_assignment(course.id), path)
    return path


def test_gradescope_bundle_holds_and_installs_the_course_package(course, bundle):
    archive = zipfile.ZipFile(bundle)
    names = set(archive.namelist())
    assert {f"course-src/{course.package}/spec.py", f"course-src/{course.package}/checks.py",
            f"course-src/{course.package}/reference/cell.py", f"course-src/{course.package}/template/cell.py",
            "course-src/pyproject.toml"} <= names
    assert not any("__pycache__" in n for n in names)
    setup = archive.read("setup.sh").decode()
    assert "pip install ./course-src" in setup
    assert f"for package in reference {course.package}; do" in setup
    pyproject = archive.read("course-src/pyproject.toml").decode()
    assert f'"{course.id}" = "{course.package}.spec:ASSIGNMENT"' in pyproject
    subprocess.run(["bash", "-n", "-c", setup], check=True)


def test_a_builtins_bundle_has_no_course_source():
    path = Path(os.environ.get("TMPDIR", "/tmp")) / f"dlgrade-test-a3-bundle-{os.getpid()}.zip"
    try:
        build_bundle(api.get_assignment("a3"), path)
        names = zipfile.ZipFile(path).namelist()
        assert not any(n.startswith("course-src/") for n in names)
        assert "for package in reference; do" in zipfile.ZipFile(path).read("setup.sh").decode()
    finally:
        path.unlink(missing_ok=True)


def _readable_python() -> str:
    """An interpreter of this Python version that other users can reach (as Gradescope's /usr/bin/python3 is):
    the sandbox switches to uid 65534 only then. Ours may live under a private home folder (pyenv)."""
    from grader.runner.isolation.limits import interpreter_readable_by_others

    base = getattr(sys, "_base_executable", sys.executable)
    for candidate in (base, f"/usr/bin/python{sys.version_info.major}.{sys.version_info.minor}"):
        if os.path.exists(candidate):
            code = "import sys, os; print(sys.base_prefix); print(os.path.dirname(os.__file__))"
            prefix = subprocess.run([candidate, "-c", code], capture_output=True, text=True, timeout=60).stdout.split()
            if prefix and interpreter_readable_by_others(prefix):
                return candidate
    pytest.skip("no Python of this version that other users can reach: the sandbox cannot drop to uid 65534 here")


def _image(tmp_path: Path, bundle: Path) -> tuple[Path, Path, dict]:
    """What Gradescope's image would hold: the zip's source, the course package installed from it (not from the
    test's folder) into a fresh venv beside this dlgrade, and ``dlgrade`` on PATH.

    As on Gradescope, the interpreter is reachable by other users (pytest's own temporary folders are not),
    so that the sandbox runs student code as uid 65534 at the minimal level, as it does there."""
    tmp_path = Path(tempfile.mkdtemp(prefix="dlgrade-image-"))
    tmp_path.chmod(0o755)
    root = tmp_path / "autograder"
    with zipfile.ZipFile(bundle) as z:
        z.extractall(root / "source")
    venv = tmp_path / "image"
    subprocess.run([_readable_python(), "-m", "venv", "--without-pip", str(venv)], check=True, timeout=300)
    site = next((venv / "lib").glob("python*/site-packages"))
    (site / "_dlgrade_test.pth").write_text(f"{ROOT}\n{Path(numpy.__file__).resolve().parents[1]}\n")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "DLGRADE_ORACLE")}
    subprocess.run([sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install", "-q",
                    "--no-deps", "--no-index", "--no-build-isolation", "--disable-pip-version-check",
                    str(root / "source" / "course-src")], check=True, timeout=300, env=env, capture_output=True)
    shim = venv / "bin" / "dlgrade"
    shim.write_text(f"#!/bin/sh\nexec {venv / 'bin' / 'python'} -m grader.cli \"$@\"\n")
    shim.chmod(0o755)
    (venv / "bin" / "python3").exists() or (venv / "bin" / "python3").symlink_to(venv / "bin" / "python")
    env.update({"DLGRADE_AUTOGRADER_ROOT": str(root), "PATH": f"{venv / 'bin'}{os.pathsep}{env['PATH']}",
                "DLGRADE_SANDBOX": "minimal"})  # Gradescope's containers give no namespaces
    return root, site, env


def _run(root: Path, env: dict, files: dict[str, str]) -> dict:
    submission = root / "submission"
    if submission.exists():
        for p in submission.iterdir():
            p.unlink()
    submission.mkdir(exist_ok=True)
    for name, text in files.items():
        (submission / name).write_text(text)
    subprocess.run([sys.executable, str(root / "source" / "run_autograder")], env=env, check=True, timeout=300)
    return json.loads((root / "results" / "results.json").read_text())


@pytest.fixture
def image(bundle, tmp_path):
    made = _image(tmp_path, bundle)
    yield made
    shutil.rmtree(made[0].parent, ignore_errors=True)


@pytest.mark.slow
def test_gradescope_run_autograder_grades_the_course_assignment(course, image):
    root, site, env = image
    installed = site / course.package
    assert (installed / "reference" / "cell.py").is_file()
    read = lambda folder: {n: (folder / n).read_text() for n in ("cell.py", "answers.toml")}  # noqa: E731
    full = _run(root, env, read(course.reference))
    assert full["score"] == 6, full
    zero = _run(root, env, read(course.template))
    assert zero["score"] == 0, zero
    stolen_path = str(installed / "reference" / "cell.py")
    thief = f"import numpy as np\ntry:\n    exec(open({stolen_path!r}).read())\nexcept OSError:\n    pass\n"
    answers = read(course.template)["answers.toml"]
    assert _run(root, env, {"cell.py": thief, "answers.toml": answers})["score"] == 4  # before the lock: it reads
    # setup.sh's last step, as Gradescope runs it: the course's package becomes unreadable to other users.
    setup = (root / "source" / "setup.sh").read_text()
    lock = setup[setup.index("for package in"):]
    subprocess.run(["bash", "-c", "set -euo pipefail\n" + lock], env=env, check=True, timeout=120)
    assert (installed / "reference" / "cell.py").stat().st_mode & 0o077 == 0
    assert installed.stat().st_mode & 0o077 == 0
    # A submission that copies the installed reference at import gets nothing from it.
    stolen = _run(root, env, {"cell.py": thief, "answers.toml": answers})
    assert stolen["score"] == 0, stolen
    # Still graded after the lock: the grader (root) reads the package.
    assert _run(root, env, read(course.reference))["score"] == 6


def test_grade_gradebook_and_ci_work_unchanged_for_a_course_assignment(course, tmp_path):
    """dlgrade grade (a folder of submissions), gradebook export and ci, in child processes that find the
    course's assignment through its entry point only."""
    import csv
    import shutil as sh

    subs = tmp_path / "subs"
    for student, folder in (("alice", course.reference), ("bob", course.template)):
        sh.copytree(folder, subs / student, ignore=sh.ignore_patterns("__init__.py", "__pycache__"))
    env = course.env(COLUMNS="200")
    run = lambda *args: subprocess.run([DLGRADE, *args], env=env, cwd=tmp_path, capture_output=True,  # noqa: E731
                                       text=True, timeout=300)
    graded = run("grade", course.id, str(subs), "--seed", "1")
    assert graded.returncode == 0, graded.stdout + graded.stderr
    exported = run("gradebook", "export", "--format", "csv", "-o", "grades.csv")
    assert exported.returncode == 0, exported.stderr
    rows = {r["student"]: r for r in csv.DictReader((tmp_path / "grades.csv").open())}
    assert float(rows["alice"]["total"]) == 6 and float(rows["bob"]["total"]) == 0, rows
    ci = run("ci", course.id, str(subs / "alice"), "--emit", "junit", "--junit-out", "junit.xml")
    assert ci.returncode == 0, ci.stderr
    assert f"dlgrade {course.id}: 6/6" in ci.stdout
    assert "<testsuite" in (tmp_path / "junit.xml").read_text()

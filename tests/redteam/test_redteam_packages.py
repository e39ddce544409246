"""Red team: a session imports the standard library and exactly its assignment's packages (issue #18, point 8).

The grader's own environment holds much more (rich, click, SymPy, nbformat, PyYAML...), and a zygote shared by a
class run may have imported some of it; none of that is a submission's to import unless its assignment declares
it (``Assignment.packages``, else its ``preload``) or a declared package needs it (torch needs SymPy).
"""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

from grader import api
from grader.errors import UsageError
from grader.runner.remote import Student
from grader.runner.sandbox import Limits, Zygote
from tests.authoring.course import forget, make_course
from tests.conftest import REFERENCE_A1, with_prelude

pytestmark = pytest.mark.usefixtures("full_sandbox")

UNDECLARED = ("rich", "click", "sympy", "nbformat")
PROBE = ("import importlib\n"
         "def probe(name):\n"
         "    try:\n"
         "        importlib.import_module(name)\n"
         "        return 'ok'\n"
         "    except ImportError as exc:\n"
         "        return type(exc).__name__\n")


def _probe(zygote, tmp_path, packages) -> dict[str, str]:
    path = tmp_path / "m.py"
    path.write_text(PROBE)
    student = Student(zygote, {"m.py": path}, Limits(wall_s=30), packages=packages)
    try:
        m = student.module("m")
        return {name: m.call("probe", name) for name in (*UNDECLARED, "numpy", "numpy.linalg", "yaml", "json")}
    finally:
        student.close()


def test_an_a1_session_imports_numpy_and_nothing_else_installed(zygote, tmp_path):
    for name in UNDECLARED:
        importlib.util.find_spec(name) or pytest.skip(f"{name} is not installed here")
    got = _probe(zygote, tmp_path, api.get_assignment("a1", load_checks=False).sandbox_packages)
    assert got == {**{name: "ModuleNotFoundError" for name in (*UNDECLARED, "yaml")},
                   "numpy": "ok", "numpy.linalg": "ok", "json": "ok"}


def test_what_a_shared_zygote_imported_for_itself_stays_out_of_reach(tmp_path):
    """A zygote that has imported SymPy and click (as one shared by several assignments may): an a1 session
    cannot import them, although their modules are loaded in the process it was forked from."""
    with Zygote(preload=("numpy", "sympy", "click")) as shared:
        got = _probe(shared, tmp_path, ("numpy",))
        assert got["sympy"] == got["click"] == "ModuleNotFoundError" and got["numpy"] == "ok"
        assert _probe(shared, tmp_path, ("numpy", "sympy"))["sympy"] == "ok"  # declared: bound and kept


def test_a1_graded_with_an_undeclared_import_is_blocked_with_the_module_named(grade):
    for name in UNDECLARED:
        report = grade("a1", {"mlp.py": with_prelude(f"import {name}\n", REFERENCE_A1)})
        assert report.score == 0, name
        text = " ".join(f"{r.message} {r.hint}" for r in report.checks)
        assert f"No module named '{name}'" in text, (name, text[:400])
    assert grade("a1", {"mlp.py": REFERENCE_A1}).score == grade("a1", {"mlp.py": REFERENCE_A1}).max_score


@pytest.fixture
def yaml_course(tmp_path):
    """A course's assignment that declares ``packages=("numpy", "yaml")`` (PyYAML, in the grader's venv)."""
    importlib.util.find_spec("yaml") or pytest.skip("PyYAML is not installed here")
    course = make_course(tmp_path, "zpk", register=False)
    spec = course.folder / "spec.py"
    spec.write_text(spec.read_text().replace('    files=(', '    packages=("numpy", "yaml"),\n    files=(', 1))
    sys.path.insert(0, str(course.root))
    importlib.invalidate_caches()
    importlib.import_module(f"{course.package}.spec")
    yield course
    forget(course)


def test_a_declared_package_is_importable_and_an_undeclared_one_is_not(yaml_course, grade):
    reference = {p.name: p.read_text() for p in yaml_course.reference.iterdir() if p.is_file()
                 and p.name != "__init__.py"}
    full = grade(yaml_course.id, reference)
    assert full.score == full.max_score > 0
    declared = grade(yaml_course.id, {**reference, "cell.py": "import yaml\n" + reference["cell.py"]})
    assert declared.score == full.max_score
    for name in ("markdown_it", "rich"):
        importlib.util.find_spec(name) or pytest.skip(f"{name} is not installed here")
        undeclared = grade(yaml_course.id, {**reference, "cell.py": f"import {name}\n" + reference["cell.py"]})
        blocked = [c for c in undeclared.checks if f"No module named '{name}'" in c.message]
        assert blocked and all(c.score == 0 for c in blocked) and undeclared.score < full.max_score
        assert {c.id for c in blocked} == {c.id for c in undeclared.checks if c.score < c.max_score}


def test_a_declared_package_the_machine_lacks_is_named_before_grading(tmp_path):
    course = make_course(tmp_path, "zmiss", register=False)
    spec = course.folder / "spec.py"
    spec.write_text(spec.read_text().replace('    files=(', '    packages=("numpy", "no_such_pkg_dlgrade"),\n'
                                             '    files=(', 1))
    sys.path.insert(0, str(course.root))
    importlib.invalidate_caches()
    try:
        importlib.import_module(f"{course.package}.spec")
        folder = tmp_path / "sub"
        folder.mkdir()
        (folder / "cell.py").write_text((course.reference / "cell.py").read_text())
        with pytest.raises(UsageError, match="no_such_pkg_dlgrade"):
            api.check("zmiss", folder)
        done = subprocess.run([sys.executable, "-m", "grader.cli", "check", "zmiss", str(folder)], env=course.env(),
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 2 and "no_such_pkg_dlgrade" in done.stdout + done.stderr
        assert "Traceback" not in done.stdout + done.stderr
    finally:
        forget(course)

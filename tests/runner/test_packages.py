"""The closure of an assignment's packages (``grader/runner/isolation/packages.py``): what a session's root binds."""

from __future__ import annotations

import importlib.util
import os
import sys

import pytest

from grader.runner.isolation import filesystem
from grader.runner.isolation.packages import Closures, module_name


def _roots() -> list[str]:
    return [p for p in sys.path if p.rstrip("/").endswith("site-packages") and os.path.isdir(p)]


def _names(paths) -> set[str]:
    return {os.path.basename(p) for p in paths}


def test_numpy_alone_is_numpy_and_its_libraries():
    paths, allowed = Closures(_roots()).for_packages(())
    assert "numpy" in _names(paths) and "numpy" in allowed
    assert _names(paths) <= {"numpy", "numpy.libs"}


def test_a_package_brings_its_required_distributions_and_nothing_else():
    importlib.util.find_spec("jinja2") or pytest.skip("Jinja2 is not installed here")
    paths, allowed = Closures(_roots()).for_packages(("jinja2",))
    assert {"jinja2", "markupsafe", "numpy"} <= _names(paths) and {"jinja2", "markupsafe"} <= allowed
    assert not _names(paths) & {"rich", "click", "sympy", "nbformat", "yaml"}


def test_torch_brings_its_companions_and_own_top_level_folders():
    importlib.util.find_spec("torch") or pytest.skip("torch is not installed here")
    paths, _ = Closures(_roots()).for_packages(("torch", "torch._dynamo"))
    assert {"torch", "functorch", "torchgen", "sympy", "mpmath", "jinja2", "markupsafe", "networkx"} <= _names(paths)
    assert not _names(paths) & {"rich", "click", "nbformat", "yaml", "dask"}


def test_the_grader_and_unknown_names_are_never_bound():
    paths, allowed = filesystem.plan().session(("grader", "reference", "no_such_pkg_dlgrade"))
    assert not any(os.path.basename(p) in ("grader", "reference") or "__editable__" in p for p in paths)
    assert "no_such_pkg_dlgrade" not in _names(paths)


def test_resolved_once_then_a_lookup():
    closures = Closures(_roots())
    first = closures.for_packages(("numpy",))
    assert closures.for_packages(["numpy"]) is first and closures.for_packages(()) is first


def test_module_names_of_top_level_entries():
    assert module_name("yaml") == "yaml" and module_name("six.py") == "six"
    assert module_name("_cffi_backend.cpython-311-x86_64-linux-gnu.so") == "_cffi_backend"
    assert module_name("numpy.libs") == "numpy.libs"

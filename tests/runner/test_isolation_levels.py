"""Each isolation level is reported truthfully: the full sandbox as root, and the degraded one.

The degraded sandbox is forced with ``Zygote(namespaces=False)`` (what ``DLGRADE_SANDBOX=minimal``
does, and what a container without CAP_SYS_ADMIN or a kernel without user namespaces gets).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from grader.runner import doctor
from grader.runner.isolation import filesystem
from grader.runner.isolation.level import FULL_LAYERS, isolation_level
from grader.runner.remote import Student
from grader.runner.sandbox import Limits, Zygote

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def degraded():
    with Zygote(namespaces=False) as z:
        yield z


def _layers(zygote, tmp_path, source="x = 1\n"):
    path = tmp_path / "m.py"
    path.write_text(source)
    student = Student(zygote, {"m.py": path}, Limits(wall_s=10))
    try:
        layers = {**student.session.isolation, **student.session.request("isolation")}
        return layers, student.module("m")
    finally:
        pass


def test_level_summarises_the_layers():
    assert isolation_level(dict.fromkeys(FULL_LAYERS, True)) == "full"
    partial = {**dict.fromkeys(FULL_LAYERS, True), "memory_cgroup": False, "seccomp": False}
    assert isolation_level(partial) == "partial"
    assert isolation_level({**partial, "allowlist_root": False}) == "minimal"
    assert isolation_level({}) == "minimal"


@pytest.mark.skipif(os.getuid() != 0, reason="the full sandbox needs root here")
def test_root_gets_the_full_sandbox(zygote, tmp_path):
    layers, _ = _layers(zygote, tmp_path)
    assert layers["level"] == "full", layers
    assert all(layers[name] for name in FULL_LAYERS)


def test_degraded_sandbox_reports_what_it_lacks_and_still_grades(degraded, tmp_path):
    layers, module = _layers(degraded, tmp_path, "import os\ndef who():\n    return os.getuid()\n")
    assert layers["level"] == "minimal"
    for name in ("pid_namespace", "network_namespace", "mount_namespace", "allowlist_root", "ipc_namespace"):
        assert layers[name] is False
    assert "memory_mb" in layers["rlimits"] and layers["no_capabilities"] and layers["no_new_privs"]
    assert layers["unprivileged_user"] == (module.call("who") != 0)


def test_doctor_tells_full_from_degraded(degraded):
    full = doctor.probe()
    minimal = doctor.probe(namespaces=False)
    assert minimal.level == "minimal" and minimal.forced_off
    missing = {layer.name: layer.fix for layer in minimal.layers if not layer.active}
    assert "allowlist_root" in missing and "root" in missing["allowlist_root"]
    if os.getuid() == 0:
        assert full.level == "full" and all(layer.active for layer in full.layers)
    assert json.loads(json.dumps(minimal.to_dict()))["layers"][0]["name"] == "pid_namespace"


def test_doctor_command_prints_both_formats():
    env = {**os.environ, "DLGRADE_SANDBOX": "minimal"}
    done = subprocess.run([sys.executable, "-m", "grader.cli", "doctor", "--format", "json"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["level"] == "minimal" and any("fix" in layer for layer in data["layers"])
    done = subprocess.run([sys.executable, "-m", "grader.cli", "doctor"], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0 and "isolation level:" in done.stdout


def test_allowlist_never_includes_the_checkout_or_whole_site_packages():
    plan = filesystem.plan()
    paths, _ = plan.session(("numpy",))
    assert any(p.endswith("/numpy") for p in paths)
    assert not any(p == str(ROOT) or p.startswith(str(ROOT / "grader")) or p.startswith(str(ROOT / "reference"))
                   for p in paths)
    assert not any(p.rstrip("/").endswith(("site-packages", "dist-packages")) for p in paths)


def test_remove_tree_survives_a_3000_deep_folder(tmp_path):
    current = tmp_path / "deep"
    current.mkdir()
    fd = os.open(current, os.O_RDONLY)
    for _ in range(3000):
        os.mkdir("d", dir_fd=fd)
        new = os.open("d", os.O_RDONLY, dir_fd=fd)
        os.close(fd)
        fd = new
    os.close(fd)
    filesystem.remove_tree(str(current))
    assert not current.exists()

"""The sandbox's own guarantees, independent of any assignment."""

from __future__ import annotations

import os
import time

import numpy as np
import pytest

from grader.runner.remote import LoadError, MissingName, Student, StudentCodeError
from grader.runner.sandbox import CallTimeout, Limits, WorkerDied


@pytest.fixture
def student(zygote, tmp_path):
    made = []

    def make(source: str, wall_s: float = 5.0, **limits) -> Student:
        path = tmp_path / f"m{len(made)}.py"
        path.write_text(source)
        s = Student(zygote, {"m.py": path}, Limits(wall_s=wall_s, **limits))
        made.append(s)
        return s

    yield make
    for s in made:
        s.close()


def test_calls_return_data_and_handles(student):
    m = student("import numpy as np\nclass A:\n    def f(self, x):\n        return x * 2\n").module("m")
    obj = m.call("A")
    assert obj.type_name == "A"
    assert np.array_equal(obj.call("f", np.ones(3)), 2 * np.ones(3))


def test_missing_names_are_reported_by_name(student):
    m = student("x = 1\n").module("m")
    with pytest.raises(MissingName, match="m.Linear"):
        m.call("Linear")


def test_student_exceptions_carry_location(student):
    m = student("def f():\n    return 1 / 0\n").module("m")
    with pytest.raises(StudentCodeError) as info:
        m.call("f")
    assert info.value.info["type"] == "ZeroDivisionError" and info.value.info["where"] == "m.py:2"


def test_syntax_errors_are_load_errors(student):
    with pytest.raises(LoadError, match="SyntaxError"):
        student("def f(:\n").module("m")


def test_wall_clock_limit_kills_the_session(student):
    s = student("def spin():\n    while True:\n        pass\n", wall_s=0.5)
    m = s.module("m")
    started = time.monotonic()
    with pytest.raises(CallTimeout):
        m.call("spin")
    assert time.monotonic() - started < 3
    with pytest.raises(WorkerDied):
        m.call("spin")


def test_file_size_limit(student):
    m = student("def big():\n    open('f', 'wb').write(b'x' * (3 * 1024 * 1024))\n", file_mb=1).module("m")
    with pytest.raises(StudentCodeError, match="too large|File too large|27"):
        m.call("big")


def test_environment_is_scrubbed_and_cwd_is_scratch(student, monkeypatch):
    monkeypatch.setenv("SECRET_TOKEN", "hunter2")
    m = student("import os\ndef env():\n    return sorted(os.environ)\ndef cwd():\n    return os.getcwd()\n"
                "import numpy\ndef threads():\n    return os.environ.get('OMP_NUM_THREADS', '')\n").module("m")
    assert "SECRET_TOKEN" not in m.call("env")
    assert m.call("cwd").endswith("/scratch")


def test_output_is_captured_and_truncated(student):
    s = student("print('hello')\ndef spam():\n    print('y' * 100000)\n")
    s.module("m").call("spam")
    out = s.output()
    assert out.startswith("hello") and out.endswith("[... output truncated]") and len(out) < 9000


def test_isolation_layers_are_reported(student):
    s = student("x = 1\n")
    s.module("m")
    layers = {**s.session.isolation, **s.session.request("isolation")}
    assert layers["process_group"] and "rlimits" in layers and layers["level"] in ("full", "partial", "minimal")
    if os.getuid() == 0:
        assert layers["pid_namespace"] and layers["network_namespace"] and layers["allowlist_root"]
        assert layers["unprivileged_user"] and layers["memory_cgroup"] and layers["pids_cgroup"]


def test_each_session_starts_fresh(student, zygote, tmp_path):
    source = "state = []\ndef push():\n    state.append(1)\n    return len(state)\n"
    first, second = student(source), student(source)
    assert first.module("m").call("push") == 1 and first.module("m").call("push") == 2
    assert second.module("m").call("push") == 1


@pytest.mark.parametrize("preload", [("numpy",), ("numpy", "torch")], ids=["numpy", "torch"])
def test_a_parent_gone_during_the_zygotes_start_up_leaves_no_folder(tmp_path, preload):
    """dlgrade failing (or killed) while its zygote still imports: the zygote ends and removes its folder."""
    import subprocess
    import sys

    if "torch" in preload:
        pytest.importorskip("torch")
    quit_early = ("import os, sys\nfrom grader.runner.sandbox import Zygote\n"
                  f"z = Zygote(preload={preload!r}, wait=False)\nprint(z._root, flush=True)\nos._exit(1)\n")
    run = subprocess.run([sys.executable, "-c", quit_early], capture_output=True, text=True, timeout=60,
                         env={**os.environ, "TMPDIR": str(tmp_path)})
    folder = run.stdout.strip()
    assert folder.startswith(str(tmp_path)), run.stderr
    deadline = time.monotonic() + 30
    while os.path.exists(folder) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not os.path.exists(folder)

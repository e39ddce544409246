"""Hostile submissions score 0 on what they attack, and never crash the grader.

Each one is the reference with an attack added, so any point it keeps is
earned honestly and any point it loses is the attack's.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from click.testing import CliRunner

from grader.cli import main
from tests.conftest import REFERENCE_A1, by_id, failing, mutate, with_prelude

WRONG_FORWARD = ("return x @ self.W + self.b", "return x @ self.W + self.b + 1.0")


def with_forward(body: str) -> str:
    """The reference, with Linear.forward replaced by ``body`` (indented code)."""
    return mutate(REFERENCE_A1, ("        self.x = x\n        return x @ self.W + self.b\n", body))


def test_sys_exit_at_import(grade):
    report = grade("a1", {"mlp.py": with_prelude("import sys\nsys.exit(0)\n")}, tasks=["1.1", "1.3"])
    assert report.score == 0
    check = by_id(report)["linear_forward"]
    assert check.status == "error" and "sys.exit" in check.message


def test_os_exit_inside_a_call(grade):
    source = with_forward("        import os\n        os._exit(0)\n")
    report = grade("a1", {"mlp.py": source}, tasks=["1.1", "1.3"])
    assert by_id(report)["linear_forward"].status == "error"
    assert "process ended" in by_id(report)["linear_forward"].message
    assert by_id(report)["softmax_values"].status == "passed"  # other checks unaffected


def test_monkeypatched_numpy_comparisons(grade):
    attack = ("import numpy as np\nnp.allclose = lambda *a, **k: True\nnp.isclose = lambda a, b, **k: "
              "np.ones(np.shape(a), bool)\nnp.testing.assert_allclose = lambda *a, **k: None\n")
    source = with_prelude(attack, mutate(REFERENCE_A1, WRONG_FORWARD))
    assert by_id(grade("a1", {"mlp.py": source}, tasks=["linear_forward"]))["linear_forward"].status == "failed"


def test_ndarray_subclass_with_lying_eq(grade):
    liar = ("import numpy as np\nclass Liar(np.ndarray):\n    def __eq__(self, other):\n        return True\n"
            "    __ne__ = lambda self, other: False\n")
    source = with_prelude(liar, with_forward("        return np.zeros((x.shape[0], self.W.shape[1])).view(Liar)\n"))
    check = by_id(grade("a1", {"mlp.py": source}, tasks=["linear_forward"]))["linear_forward"]
    assert check.status == "failed" and check.score == 0


def test_object_dtype_array(grade):
    source = with_forward("        return np.array([[object()]], dtype=object)\n")
    check = by_id(grade("a1", {"mlp.py": source}, tasks=["linear_forward"]))["linear_forward"]
    assert check.status == "failed" and "non-numeric" in check.message


def test_printing_a_fake_json_result(tmp_path):
    fake = json.dumps({"assignment": "a1", "score": 36, "max_score": 36, "checks": []})
    folder = tmp_path / "sub"
    folder.mkdir()
    (folder / "mlp.py").write_text(with_prelude(f"print({fake!r})\n", mutate(REFERENCE_A1, WRONG_FORWARD)))
    result = CliRunner().invoke(main, ["check", "a1", str(folder), "--format", "json", "--task", "1.1",
                                       "--seed", "5"])
    assert result.exit_code == 1
    report = json.loads(result.output)
    assert report["score"] < 9
    assert by_id_dict(report)["linear_forward"]["status"] == "failed"


def by_id_dict(report: dict) -> dict:
    return {c["id"]: c for c in report["checks"]}


def test_writing_result_files(grade, tmp_path):
    writer = ("import json, os\nfor d in ('.', '..', '/tmp', os.path.expanduser('~')):\n    try:\n"
              "        open(os.path.join(d, 'results.json'), 'w').write(json.dumps({'score': 36}))\n"
              "    except OSError:\n        pass\n")
    source = with_prelude(writer, mutate(REFERENCE_A1, WRONG_FORWARD))
    report = grade("a1", {"mlp.py": source}, tasks=["linear_forward"])
    assert report.score == 0
    assert not Path("/tmp/results.json").exists() or Path("/tmp/results.json").stat().st_mtime < time.time() - 60


def test_infinite_loop_times_out(grade):
    source = with_forward("        while True:\n            pass\n")
    started = time.monotonic()
    report = grade("a1", {"mlp.py": source}, tasks=["linear_forward"], timeout_scale=0.1)
    assert by_id(report)["linear_forward"].status == "timeout"
    assert time.monotonic() - started < 10


def test_ignoring_sigterm(grade):
    source = with_forward("        import signal\n        signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
                          "        while True:\n            pass\n")
    report = grade("a1", {"mlp.py": source}, tasks=["linear_forward"], timeout_scale=0.1)
    assert by_id(report)["linear_forward"].status == "timeout"


def test_memory_bomb(grade):
    source = with_forward("        hoard = []\n        while True:\n            hoard.append(np.ones(10**7))\n")
    check = by_id(grade("a1", {"mlp.py": source}, tasks=["linear_forward"]))["linear_forward"]
    assert check.status == "error" and "memory" in check.message.lower()


def test_huge_print(grade):
    source = with_forward("        print('x' * 300_000_000)\n        return x @ self.W + self.b\n")
    check = by_id(grade("a1", {"mlp.py": source}, tasks=["linear_forward"]))["linear_forward"]
    assert check.status == "error" and check.score == 0
    assert len(check.output) <= 2000


def _processes_with(marker: str) -> list[int]:
    found = []
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                if marker in Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace"):
                    found.append(int(pid))
            except OSError:
                pass
    return found


def _survivors(marker: str, within_s: float = 10.0) -> list[int]:
    """Processes with ``marker`` still there after the kernel has had ``within_s`` to finish tearing the
    session down (a busy machine takes longer than a quiet one; surviving is what counts, not how fast)."""
    deadline = time.monotonic() + within_s
    while (found := _processes_with(marker)) and time.monotonic() < deadline:
        time.sleep(0.05)
    return found


def test_spawned_children_do_not_survive(grade):
    marker = "777.123"
    source = with_forward(
        "        import subprocess, os\n"
        f"        for _ in range(3):\n            subprocess.Popen(['sleep', '{marker}'], start_new_session=True)\n"
        f"        if os.fork() == 0:\n            os.setsid()\n            os.execvp('sleep', ['sleep', '{marker}'])\n"
        "        return x @ self.W + self.b\n")
    report = grade("a1", {"mlp.py": source}, tasks=["linear_forward"])
    assert by_id(report)["linear_forward"].status == "passed"  # spawning is not wrong; surviving is
    assert _survivors(marker) == []


def test_fork_bomb_is_contained(grade):
    """The bomb may or may not finish its call, but the grader completes and no bomb process survives."""
    source = with_forward("        import os, time\n        for _ in range(10000):\n            try:\n"
                          "                if os.fork() == 0:\n"
                          "                    os.execvp('sleep', ['sleep', '432.1'])\n"
                          "            except OSError:\n                break\n        return x @ self.W + self.b\n")
    report = grade("a1", {"mlp.py": source}, tasks=["linear_forward", "softmax_values"], timeout_scale=0.5)
    assert by_id(report)["softmax_values"].status == "passed"
    assert _survivors("432.1") == []


def test_importing_torch_is_a_violation(grade):
    report = grade("a1", {"mlp.py": with_prelude("import torch\n")}, tasks=["1.1"])
    check = by_id(report)["linear_forward"]
    assert check.status == "failed" and "violation" in check.message and "torch" in check.message
    assert report.score == 0


def test_hidden_dynamic_import_is_blocked_at_run_time(grade):
    source = with_forward("        __import__('to' + 'rch')\n")
    check = by_id(grade("a1", {"mlp.py": source}, tasks=["linear_forward"]))["linear_forward"]
    assert check.status == "failed" and "torch" in check.message


def test_borrowing_the_reference_is_blocked(grade):
    report = grade("a1", {"mlp.py": "from reference.a1.mlp import *\n"}, tasks=["1.1"])
    assert report.score == 0 and "violation" in by_id(report)["linear_forward"].message
    sneaky = "import importlib\nglobals().update(vars(importlib.import_module('refer' + 'ence.a1.mlp')))\n"
    assert grade("a1", {"mlp.py": sneaky}, tasks=["1.1"]).score == 0


def test_no_network(grade):
    source = with_forward("        import socket\n        socket.create_connection(('127.0.0.1', 22), timeout=1)\n"
                          "        return x @ self.W + self.b\n")
    report = grade("a1", {"mlp.py": source}, tasks=["linear_forward"])
    isolation = report.diagnostics["isolation"]
    if isolation.get("network_namespace"):
        assert by_id(report)["linear_forward"].status == "error"
        assert failing(report) == {"linear_forward"}


def test_junk_values_instead_of_arrays_are_the_students_failure(grade):
    source = mutate(REFERENCE_A1, ("        self.W = rng.uniform(-bound, bound, size=(in_features, out_features))\n",
                                   "        self.W = [['a'] * out_features] * in_features\n"),
                    ("    z = np.exp(x - x.max(axis=1, keepdims=True))\n    return z / z.sum(axis=1, keepdims=True)\n",
                     "    return [['junk'] * x.shape[1]] * x.shape[0]\n"))
    report = grade("a1", {"mlp.py": source}, tasks=["linear_init", "softmax_stability", "softmax_values"])
    assert failing(report) == {"linear_init", "softmax_stability", "softmax_values"}
    assert all(by_id(report)[c].status == "failed" for c in failing(report))

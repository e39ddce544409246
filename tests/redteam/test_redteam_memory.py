"""Red team: a session's memory, its processes and its tmpfs folders together, stays within its cgroup's cap.

The kernel charges the pages of a tmpfs file to the memory cgroup of the process that wrote it, so a session
that fills /scratch, /tmp and /dev/shm and then allocates is stopped at the cap (1 GiB by default), and the
student reads why. Figures: docs/security.md, "Memory".
"""

from __future__ import annotations

import os

import pytest

from grader.runner.isolation import filesystem
from grader.runner.sandbox import Limits, WorkerDied

pytestmark = pytest.mark.usefixtures("full_sandbox")

MIB = 1 << 20
FILL = (
    "import os, numpy as np\n"
    "def fill():\n"
    "    written = 0\n"
    "    for folder in ('/scratch', '/tmp', '/dev/shm'):\n"
    "        try:\n"
    "            for i in range(1000):  # 8 MiB files: one file may hold 16 MiB (RLIMIT_FSIZE)\n"
    "                with open(f'{folder}/fill{i}', 'wb') as f:\n"
    "                    f.write(b'x' * (8 << 20))\n"
    "                written += 8 << 20\n"
    "        except OSError:\n"
    "            pass\n"
    "    return written\n"
)


def _usage(cgroup: str, *names: str) -> int:
    for name in names:
        try:
            with open(os.path.join(cgroup, name)) as f:
                return int(f.read())
        except OSError:
            continue
    raise AssertionError(f"no memory figures in {cgroup}")


def current(cgroup: str) -> int:
    return _usage(cgroup, "memory.current", "memory.usage_in_bytes")


def peak(cgroup: str) -> int:
    return _usage(cgroup, "memory.peak", "memory.max_usage_in_bytes")


def test_the_folders_are_sized_from_the_cap():
    assert filesystem.folder_sizes(1024) == {"/scratch": 128, "/tmp": 128, "/dev/shm": 64}
    assert sum(filesystem.folder_sizes(3072).values()) <= 3072 // 3
    assert Limits(session_mb=1024).process_mb == 768 and Limits(session_mb=3072, memory_mb=4096).process_mb == 2304
    assert Limits(memory_mb=None).process_mb is None  # CUDA: no address-space limit, the cgroup's cap remains


def test_tmpfs_pages_are_charged_to_the_session(hostile):
    s = hostile(FILL, wall_s=60)
    cgroup = s.session.cgroup
    assert cgroup and open(os.path.join(cgroup, "memory.limit_in_bytes" if os.path.exists(
        os.path.join(cgroup, "memory.limit_in_bytes")) else "memory.max")).read().strip() == str(1024 * MIB)
    before = current(cgroup)
    written = s.module("m").call("fill")
    assert written >= 300 * MIB  # 128 + 128 + 64 MiB, less what the submission's own file takes
    assert current(cgroup) - before >= written - 16 * MIB


def test_a_session_that_fills_everything_is_stopped_within_its_cap(hostile):
    """Full folders (320 MiB), then four processes of 500 MiB each (each within its own 768 MiB allowance):
    the kernel stops processes at the cap; the session never holds more than 1 GiB."""
    s = hostile(FILL + "def hog():\n"
                "    kids = []\n"
                "    for _ in range(4):\n"
                "        pid = os.fork()\n"
                "        if pid == 0:\n"
                "            try:\n"
                "                a = np.ones(500 * 1024 * 1024 // 8)\n"
                "                os._exit(0 if a.sum() > 0 else 1)\n"
                "            except BaseException:\n"
                "                os._exit(2)\n"
                "        kids.append(pid)\n"
                "    return [os.waitpid(k, 0)[1] for k in kids]\n", wall_s=60)
    cgroup = s.session.cgroup
    s.module("m").call("fill")
    try:
        statuses = s.module("m").call("hog")
    except WorkerDied as exc:  # the kernel took the check's own process
        assert "1024 MiB" in str(exc)
    else:
        assert any(os.WIFSIGNALED(x) and os.WTERMSIG(x) == 9 for x in statuses), statuses
    assert peak(cgroup) <= 1024 * MIB


def test_the_student_reads_that_the_session_went_over_its_memory_cap(hostile):
    s = hostile(FILL + "def grow():\n"
                "    held = []\n"
                "    for _ in range(700 // 50):\n"
                "        held.append(np.ones(50 * 1024 * 1024 // 8))\n"
                "    return len(held)\n", wall_s=60)
    s.module("m").call("fill")
    with pytest.raises(WorkerDied) as caught:
        s.module("m").call("grow")
    assert "more than the session's 1024 MiB of memory" in str(caught.value)
    assert "/scratch, /tmp and /dev/shm" in str(caught.value)


def test_a_graded_check_names_the_cap_and_the_next_check_is_unharmed(grade):
    """Through the engine: a1's Linear.forward fills every folder and then grows; its check is an error that names
    the cap, and the next check of the same submission (same host, renewed folders) passes."""
    from tests.conftest import REFERENCE_A1, by_id, mutate

    body = ("        import numpy as _np\n"
            "        for folder in ('/scratch', '/tmp', '/dev/shm'):\n"
            "            try:\n"
            "                for i in range(1000):\n"
            "                    open(f'{folder}/fill{i}', 'wb').write(b'x' * (8 << 20))\n"
            "            except OSError:\n"
            "                pass\n"
            "        self.held = [_np.ones(50 << 17) for _ in range(14)]  # 700 MiB: within one process's 768\n"
            "        self.x = x\n        return x @ self.W + self.b\n")
    source = mutate(REFERENCE_A1, ("        self.x = x\n        return x @ self.W + self.b\n", body))
    report = grade("a1", {"mlp.py": source}, tasks=["linear_forward", "softmax_values"])
    checks = by_id(report)
    assert checks["linear_forward"].status == "error"
    assert "more than the session's 1024 MiB of memory" in checks["linear_forward"].message
    assert checks["softmax_values"].status == "passed"

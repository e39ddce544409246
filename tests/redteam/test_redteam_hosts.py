"""Red team: checks of one submission are forked by one host (grader/runner/hosts.py); none may affect the next.

Each test grades "checks" of the same submission one after another through one ``HostPool``, as the
engine does, and asserts that whatever the first check did, the second starts from a fresh submission:
no process, file, output or module state carried over, the host itself out of reach, and a time-out
costing only the check that ran over.
"""

from __future__ import annotations

import pytest

from grader.runner.hosts import HostPool
from grader.runner.remote import Student
from grader.runner.sandbox import CallTimeout, Limits

pytestmark = pytest.mark.usefixtures("full_sandbox")


@pytest.fixture
def submission(zygote, tmp_path):
    """``submission(source)`` -> ``check()``, a fresh check's student module ``m``, all from one pool."""
    pools, students = [], []

    def make(source: str):
        path = tmp_path / f"m{len(pools)}.py"
        path.write_text(source)
        pool = HostPool(zygote, {"m.py": path}, Limits(cpu_s=10**6))
        pools.append(pool)

        def check(wall_s: float = 20.0):
            student = Student(zygote, {"m.py": path}, Limits(wall_s=wall_s), hosts=pool)
            students.append(student)
            return student

        return pool, check

    yield make
    for student in students:
        student.close()
    for pool in pools:
        pool.close()


def run(student, name: str, *args):
    return student.module("m").call(name, *args)


def test_checks_share_a_host_and_each_starts_fresh(submission):
    pool, check = submission("state = []\ndef add(x):\n    state.append(x)\n    return list(state)\n")
    for i in range(3):
        student = check()
        assert run(student, "add", i) == [i]  # module state from the previous check is gone
        student.close()
    assert len(pool._all) == 1  # one sandbox built for the whole submission


def test_processes_a_check_started_do_not_survive_it(submission):
    pool, check = submission(
        "import os, subprocess, sys, time\n"
        "def start():\n"
        "    for _ in range(3):\n"
        "        if os.fork() == 0:\n"
        "            os.setsid()\n"
        "            time.sleep(60)\n"
        "            os._exit(0)\n"
        "    return sorted(int(p) for p in os.listdir('/proc') if p.isdigit())\n"
        "def others():\n"
        "    return sorted(int(p) for p in os.listdir('/proc') if p.isdigit() and int(p) != os.getpid())\n")
    first = check()
    assert len(run(first, "start")) >= 5  # the host, this check and its three children
    first.close()
    second = check()
    assert run(second, "others") == [1]  # only the host is left in the namespace


def test_files_a_check_wrote_or_changed_are_put_back(submission):
    pool, check = submission(
        "import os\n"
        "VALUE = 1\n"
        "def tamper():\n"
        "    open('/tmp/left.txt', 'w').write('x')\n"
        "    open('/dev/shm/left', 'w').write('x')\n"
        "    os.makedirs('sub/deeper', exist_ok=True)\n"
        "    open('m.py', 'w').write('VALUE = 99\\ndef value():\\n    return VALUE\\n')\n"
        "    return sorted(os.listdir('.'))\n"
        "def seen():\n"
        "    return sorted(os.listdir('.')), os.listdir('/tmp'), os.listdir('/dev/shm'), VALUE\n")
    first = check()
    fresh = run(first, "seen")  # /tmp may hold the read-only folders of an interpreter installed under /tmp
    assert fresh[0] == ["m.py"] and fresh[3] == 1
    assert "sub" in run(first, "tamper")
    first.close()
    second = check()
    assert run(second, "seen") == fresh


def test_the_host_cannot_be_signalled_or_read_by_a_check(submission):
    pool, check = submission(
        "import os, signal\n"
        "def attack():\n"
        "    out = []\n"
        "    for sig in (signal.SIGKILL, signal.SIGTERM, signal.SIGSTOP):\n"
        "        try:\n"
        "            os.kill(1, sig)\n"
        "            out.append('sent')\n"
        "        except OSError as e:\n"
        "            out.append(type(e).__name__)\n"
        "    for path in ('/proc/1/mem', '/proc/1/environ'):\n"
        "        try:\n"
        "            open(path, 'rb').read(16)\n"
        "            out.append('read ' + path)\n"
        "        except OSError as e:\n"
        "            out.append(type(e).__name__)\n"
        "    try:\n"
        "        out.append(len(os.listdir('/proc/1/fd')))\n"
        "    except OSError as e:\n"
        "        out.append(type(e).__name__)\n"
        "    return out\n"
        "def ok():\n"
        "    return 'ok'\n")
    first = check()
    result = run(first, "attack")
    assert not any(isinstance(r, str) and r.startswith("read") for r in result)
    assert isinstance(result[-1], str)  # the host's descriptors are not listed
    first.close()
    second = check()
    assert run(second, "ok") == "ok"  # signals from inside do not stop the namespace's init
    assert len(pool._all) == 1


def test_a_time_out_ends_the_check_and_the_next_one_runs_normally(submission):
    pool, check = submission("def spin():\n    while True:\n        pass\ndef ok():\n    return 'ok'\n")
    first = check(wall_s=0.5)
    with pytest.raises(CallTimeout):
        run(first, "spin")
    first.close()
    second = check()
    assert run(second, "ok") == "ok"
    assert len(pool._all) == 1


def test_a_host_that_stops_answering_is_replaced(submission):
    pool, check = submission("def ok():\n    return 'ok'\n")
    first = check()
    assert run(first, "ok") == "ok"
    first.session.host.kill()  # as if it had hung: the parent kills it
    first.close()
    second = check()
    assert run(second, "ok") == "ok"
    assert len(pool._all) == 2


def test_output_of_one_check_is_not_in_the_next(submission):
    pool, check = submission("def say(x):\n    print(x)\n    return x\n")
    first = check()
    run(first, "say", "first")
    assert first.output() == "first\n"
    first.close()
    second = check()
    run(second, "say", "second")
    assert second.output() == "second\n"


def test_a_crash_ends_the_check_not_the_host(submission):
    pool, check = submission("import os\ndef die():\n    os._exit(3)\ndef ok():\n    return 'ok'\n")
    from grader.runner.sandbox import WorkerDied

    first = check()
    with pytest.raises(WorkerDied):
        run(first, "die")
    first.close()
    second = check()
    assert run(second, "ok") == "ok"
    assert len(pool._all) == 1


def test_a_fork_bomb_in_one_check_leaves_the_next_check_its_processes(submission):
    pool, check = submission(
        "import os\n"
        "def bomb():\n"
        "    n = 0\n"
        "    try:\n"
        "        while True:\n"
        "            if os.fork() == 0:\n"
        "                import time\n"
        "                time.sleep(60)\n"
        "                os._exit(0)\n"
        "            n += 1\n"
        "    except OSError:\n"
        "        return n\n"
        "def spawn_one():\n"
        "    pid = os.fork()\n"
        "    if pid == 0:\n"
        "        os._exit(0)\n"
        "    os.waitpid(pid, 0)\n"
        "    return 'ok'\n")
    first = check()
    assert run(first, "bomb") > 10  # stopped by the pids cap, not by the machine
    first.close()
    second = check()
    assert run(second, "spawn_one") == "ok"


def test_each_check_gets_its_own_cpu_limit(submission):
    pool, check = submission("import resource\ndef cpu():\n    return resource.getrlimit(resource.RLIMIT_CPU)\n")
    student = check()
    assert run(student, "cpu") == (30, 30)  # Limits().cpu_s, as a session of its own would have, not the host's


def test_the_host_ignores_sigint_and_sigterm_from_a_check(submission):
    """The host is its namespace's init: signals a check sends it are dropped unless it handles them, and Python
    handles SIGINT (once a KeyboardInterrupt that ended the host and the check's sandbox with it)."""
    pool, check = submission(
        "import os, signal, time\n"
        "def attack():\n"
        "    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT, signal.SIGUSR1):\n"
        "        os.kill(1, sig)\n"
        "    time.sleep(0.2)\n"
        "    return os.getppid()\n"
        "def ok():\n"
        "    return 'ok'\n")
    first = check()
    assert run(first, "attack") == 1  # the host is still there, still this check's parent
    first.close()
    second = check()
    assert run(second, "ok") == "ok"
    assert len(pool._all) == 1  # the same host: not replaced after dying


def test_a_check_keeps_the_default_signal_handlers(submission):
    pool, check = submission(
        "import signal\n"
        "def handlers():\n"
        "    return [signal.getsignal(signal.SIGINT) is signal.default_int_handler,\n"
        "            signal.getsignal(signal.SIGTERM) == signal.SIG_DFL]\n")
    assert run(check(), "handlers") == [True, True]


def test_no_command_line_or_environment_names_a_path_of_the_grader(submission, zygote):
    """/proc/1/cmdline (the host's) and the check's own were the zygote's: the interpreter, the worker script
    and the zygote's folder. Now a neutral title; the environment holds no path of the machine either."""
    import sys
    from pathlib import Path

    pool, check = submission(
        "def seen():\n"
        "    out = {}\n"
        "    for path in ('/proc/1/cmdline', '/proc/self/cmdline', '/proc/self/environ', '/proc/1/environ'):\n"
        "        try:\n"
        "            out[path] = open(path, 'rb').read().decode(errors='replace')\n"
        "        except OSError as e:\n"
        "            out[path] = type(e).__name__\n"
        "    return out\n")
    seen = run(check(), "seen")
    assert seen["/proc/1/cmdline"].split("\0")[0] == "dlgrade-sandbox"
    assert seen["/proc/self/cmdline"].split("\0")[0] == "dlgrade-sandbox"
    assert seen["/proc/1/environ"] == "PermissionError"
    checkout = str(Path(__file__).resolve().parents[2])
    for text in seen.values():
        for secret in (checkout, str(zygote._root), sys.executable, sys.prefix, "worker.py"):
            assert secret not in text

"""Red team: one hostile submission per attack class on the sandbox, each asserting the outcome.

What "held" means for each: the attack fails inside the session (an error, nothing found), nothing is left
on the host after the session closes, and other sessions are unaffected. Issue #9 lists the classes; the
grading-level tests at the end check that such a submission scores no higher than a plain wrong one.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from grader.runner.sandbox import CallTimeout, WorkerDied
from tests.conftest import REFERENCE_A1, by_id

ROOT = Path(__file__).resolve().parents[2]
X86 = os.uname().machine == "x86_64"
pytestmark = pytest.mark.usefixtures("full_sandbox")


def call(student, name: str, *args):
    return student.module("m").call(name, *args)


# ------------------------------------------------------------------ identity


def test_runs_as_nobody_not_root(hostile):
    s = hostile("import os\ndef ids():\n    return [os.getuid(), os.geteuid(), os.getgid(), os.getgroups()]\n")
    assert call(s, "ids") == [65534, 65534, 65534, []]


def test_no_capabilities_and_no_new_privs(hostile):
    s = hostile("def status():\n    return [l for l in open('/proc/self/status') if l.startswith(('Cap', 'NoNew'))]\n")
    lines = dict(line.split(":", 1) for line in call(s, "status"))
    assert all(lines[k].strip() == "0" * 16 for k in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"))
    assert lines["NoNewPrivs"].strip() == "1"


# --------------------------------------------------------------- host files


def test_cannot_read_shadow_or_root_only_files(hostile, tmp_path):
    secret = Path("/root/.dlgrade-redteam-secret")
    secret.write_text("hunter2")
    secret.chmod(0o600)
    try:
        s = hostile("def read(p):\n    try:\n        return open(p).read()\n    except OSError as e:\n"
                    "        return type(e).__name__\n")
        for path in ("/etc/shadow", str(secret), "/etc/passwd"):
            assert call(s, "read", path) in ("FileNotFoundError", "PermissionError")
    finally:
        secret.unlink()


def test_cannot_see_checkout_git_or_reference(hostile):
    s = hostile("import os\ndef seen(paths):\n    return [p for p in paths if os.path.exists(p)]\n")
    paths = [str(ROOT / ".git"), str(ROOT / "reference"), str(ROOT / "reference" / "a1" / "mlp.py"),
             str(ROOT / "grader"), str(ROOT / "README.md"), "/home", "/root/.bashrc", "/work/briefs", "/etc/hostname"]
    assert call(s, "seen", paths) == []


def test_walking_the_root_finds_no_grader_or_reference(hostile):
    s = hostile(
        f"import os\nROOT = {str(ROOT)!r}\n"
        "def walk():\n"
        "    found, count = [], 0\n"
        "    for folder, dirs, files in os.walk('/'):\n"
        "        if folder.startswith(('/proc', '/dev')):\n"
        "            dirs[:] = []\n"
        "            continue\n"
        "        count += len(files)\n"
        "        for name in dirs + files:\n"
        "            path = os.path.join(folder, name)\n"
        "            if (path.endswith(('reference/a1', 'grader/runner', '/briefs', '/shadow', 'a1/mlp.py'))\n"
        "                    or name.startswith('dlgrade') or (name == '.git' and path.startswith(ROOT))):\n"
        "                found.append(os.path.join(folder, name))\n"
        "    return found, count, sorted(os.listdir('/'))\n")
    found, count, top = call(s, "walk")
    assert found == [] and count > 100  # it did see the interpreter's files, and nothing of ours
    # The interpreter may live anywhere (a CI checkout under /check, a venv under /work): its top folder shows.
    interpreter_tops = {Path(p).parts[1] for p in (sys.prefix, sys.base_prefix, os.path.dirname(os.__file__))
                        if len(Path(p).parts) > 1}
    system = {"bin", "dev", "etc", "lib", "lib64", "lib32", "proc", "root", "scratch", "tmp", "usr", "opt",
              ".next"}  # .next: empty and read-only, where a fresh folder is built between two checks
    assert set(top) <= system | interpreter_tops and "sys" not in top


def test_cannot_import_grader_or_reference_through_site_packages(hostile):
    s = hostile("import importlib\ndef try_import(name):\n    try:\n        importlib.import_module(name)\n"
                "        return 'imported'\n    except Exception as e:\n        return type(e).__name__\n")
    for name in ("grader", "grader.assignments.a1.spec", "reference", "reference.a1.mlp"):
        assert call(s, "try_import", name) != "imported"


def test_symlink_to_the_reference_in_the_submission_is_not_followed(zygote, tmp_path):
    from grader.runner.remote import LoadError, Student
    from grader.runner.sandbox import Limits

    link = tmp_path / "m.py"
    link.symlink_to(ROOT / "reference" / "a1" / "mlp.py")
    student = Student(zygote, {"m.py": link}, Limits(wall_s=10))
    try:
        with pytest.raises(LoadError):
            student.module("m")
    finally:
        student.close()


def test_symlink_planted_in_scratch_leads_nowhere(hostile):
    s = hostile(f"import os\ndef plant():\n    os.symlink({str(ROOT / 'reference')!r}, 'ref')\n"
                "    return os.path.exists('ref/a1/mlp.py')\n")
    assert call(s, "plant") is False


def test_filesystem_is_read_only_outside_scratch_and_tmp(hostile):
    s = hostile("import os, numpy\ndef write(p):\n    try:\n        open(p, 'w').write('x')\n        return 'ok'\n"
                "    except OSError as e:\n        return e.errno\n")
    numpy_init = __import__("numpy").__file__
    for path in ("/evil", "/usr/lib/evil", numpy_init, "/etc/ld.so.cache"):
        assert call(s, "write", path) != "ok"
    assert call(s, "write", "/scratch/ok") == "ok" and call(s, "write", "/tmp/ok") == "ok"


# ------------------------------------------------------------- kernel knobs


def test_cannot_write_core_pattern(hostile):
    before = Path("/proc/sys/kernel/core_pattern").read_text()
    s = hostile("def write():\n    try:\n        open('/proc/sys/kernel/core_pattern', 'w').write('|/tmp/x')\n"
                "        return 'ok'\n    except OSError as e:\n        return type(e).__name__\n")
    assert call(s, "write") != "ok"
    assert Path("/proc/sys/kernel/core_pattern").read_text() == before


def test_cannot_write_dev_kmsg_or_see_devices(hostile):
    s = hostile("import os\ndef probe():\n    try:\n        open('/dev/kmsg', 'w').write('<0>pwned')\n"
                "        wrote = 'ok'\n    except OSError as e:\n        wrote = type(e).__name__\n"
                "    return wrote, sorted(os.listdir('/dev'))\n")
    wrote, devices = call(s, "probe")
    assert wrote != "ok"
    assert set(devices) <= {"null", "zero", "full", "random", "urandom", "shm", "fd", "stdin", "stdout", "stderr"}


def test_cannot_reach_cgroupfs_to_leave_the_pids_cgroup(hostile):
    s = hostile("import os\ndef escape():\n    out = []\n"
                "    for p in ('/sys/fs/cgroup/pids/cgroup.procs', '/sys/fs/cgroup/cgroup.procs'):\n"
                "        try:\n            open(p, 'w').write(str(os.getpid()))\n            out.append('ok')\n"
                "        except OSError as e:\n            out.append(type(e).__name__)\n"
                "    return out, os.path.exists('/sys')\n")
    out, has_sys = call(s, "escape")
    assert "ok" not in out and not has_sys


# --------------------------------------------------------------- processes


def test_proc_shows_only_the_session(hostile):
    s = hostile("import os\ndef pids():\n    return sorted(int(p) for p in os.listdir('/proc') if p.isdigit())\n"
                "def mem(pid):\n    try:\n        open(f'/proc/{pid}/mem', 'rb').read(1)\n        return 'ok'\n"
                "    except OSError as e:\n        return type(e).__name__\n")
    assert call(s, "pids") == [1]
    assert call(s, "mem", os.getpid()) == "FileNotFoundError"  # the grader's own process is not there


def test_other_session_running_at_the_same_time_is_invisible(hostile):
    marker = f"redteam-{os.getpid()}-{time.time_ns()}"
    first = hostile(f"import os\ndef plant():\n    open('/scratch/{marker}', 'w').write('secret')\n"
                    f"    open('/tmp/{marker}', 'w').write('secret')\n    return os.getpid()\n")
    second = hostile("import os\ndef look(name):\n    found = []\n"
                     "    for folder, dirs, files in os.walk('/'):\n"
                     "        if folder.startswith('/proc'):\n            dirs[:] = []\n"
                     "        found += [os.path.join(folder, f) for f in files if f == name]\n"
                     "    return found, sorted(p for p in os.listdir('/proc') if p.isdigit())\n")
    call(first, "plant")
    assert call(second, "look", marker) == ([], ["1"])


def test_fork_bomb_is_contained(hostile, zygote):
    s = hostile("import os, time\ndef bomb():\n    made = 0\n    for _ in range(10000):\n        try:\n"
                "            if os.fork() == 0:\n                time.sleep(30)\n                os._exit(0)\n"
                "            made += 1\n        except OSError:\n            break\n    return made\n",
                processes=32)
    made = call(s, "bomb")
    assert made < 64
    s.close()
    # The whole PID namespace died with the session: no sleeper is left on the host.
    zygote_pid = zygote._process.pid
    deadline, left = time.monotonic() + 10, [0]
    while left and time.monotonic() < deadline:  # the kernel tears the namespace down right after the kill
        left = [p for p in _descendants(zygote_pid) if _parent(p) != zygote_pid]
        time.sleep(0.05)
    assert left == []


def _descendants(pid: int) -> list[int]:
    """Live processes below ``pid`` (a zygote: sessions are its forks; their command line names no folder)."""
    found, todo = [], [pid]
    while todo:
        kids = [k for k in _children(todo.pop()) if _alive(k)]
        found += kids
        todo += kids
    return found


def test_memory_is_capped_for_the_session_as_a_whole(hostile):
    # Four processes of 600 MiB each: every one within its own allowance (3/4 of the 1 GiB cap), not together.
    s = hostile("import os, numpy as np\ndef hog():\n    kids = []\n    for _ in range(4):\n"
                "        pid = os.fork()\n        if pid == 0:\n            try:\n"
                "                a = np.ones(600 * 1024 * 1024 // 8)\n"
                "                os._exit(0 if a.sum() > 0 else 1)\n            except BaseException:\n"
                "                os._exit(2)\n        kids.append(pid)\n"
                "    return [os.waitpid(k, 0)[1] for k in kids]\n", memory_mb=1024, wall_s=60)
    try:
        statuses = call(s, "hog")
    except WorkerDied:
        return  # the kernel's OOM killer took the session itself: also held
    assert any(status != 0 for status in statuses), statuses


def test_scratch_and_tmp_are_size_capped(hostile):
    s = hostile("import errno\ndef fill(folder):\n    written = 0\n    chunk = b'x' * (8 << 20)\n"
                "    for i in range(512):\n        try:\n            with open(f'{folder}/f{i}', 'wb') as f:\n"
                "                f.write(chunk)\n            written += len(chunk)\n"
                "        except OSError as e:\n            return written, e.errno\n    return written, None\n",
                wall_s=60)
    for folder in ("/scratch", "/tmp"):
        written, err = call(s, "fill", folder)
        assert err == 28 and written <= 300 << 20  # ENOSPC well before 4 GiB


def test_sysv_shared_memory_does_not_outlive_the_session(hostile):
    before = _host_shm_keys()
    key = 0x5EED0000 + os.getpid() % 0xFFFF
    s = hostile("import ctypes\ndef grab(key):\n    libc = ctypes.CDLL(None, use_errno=True)\n"
                "    return libc.shmget(key, 64 << 20, 0o1000 | 0o666)\n")
    assert call(s, "grab", key) >= 0
    s.close()
    assert key not in _host_shm_keys() and _host_shm_keys() <= before | _host_shm_keys()


def _host_shm_keys() -> set[int]:
    try:
        lines = Path("/proc/sysvipc/shm").read_text().splitlines()[1:]
    except OSError:
        return set()
    return {int(line.split()[0]) & 0xFFFFFFFF for line in lines if line.split()}


def test_network_is_unreachable(hostile):
    s = hostile("import socket\ndef connect():\n    try:\n        socket.create_connection(('1.1.1.1', 53), 2)\n"
                "        return 'ok'\n    except OSError as e:\n        return type(e).__name__\n")
    assert call(s, "connect") != "ok"


# ----------------------------------------------------------------- seccomp

SYSCALL_PROBE = (
    "import ctypes, ctypes.util\n"
    "libc = ctypes.CDLL(None, use_errno=True)\n"
    "def syscall(number, *args):\n"
    "    result = libc.syscall(number, *[ctypes.c_long(a) for a in args])\n"
    "    return result, ctypes.get_errno()\n"
    "def mount():\n"
    "    return libc.mount(b'none', b'/tmp', b'tmpfs', 0, None), ctypes.get_errno()\n"
    "def unshare(flags):\n"
    "    return libc.unshare(flags), ctypes.get_errno()\n"
)


def test_mount_is_refused(hostile):
    assert tuple(call(hostile(SYSCALL_PROBE), "mount")) == (-1, 1)  # EPERM


def test_unshare_of_every_namespace_is_refused(hostile):
    s = hostile(SYSCALL_PROBE)
    for flag in (0x10000000, 0x00020000, 0x40000000, 0x20000000):  # user, mount, net, pid
        assert tuple(call(s, "unshare", flag)) == (-1, 1)


@pytest.mark.skipif(not X86, reason="system call numbers of x86_64")
def test_ptrace_bpf_keyctl_perf_are_refused(hostile):
    s = hostile(SYSCALL_PROBE)
    # ptrace(PTRACE_TRACEME) succeeds for anyone without the filter; bpf, keyctl, perf_event_open, userfaultfd.
    for number, args in ((101, (0, 0, 0, 0)), (321, (0, 0, 0)), (250, (0, 0, 0, 0)), (298, (0, 0, 0, 0, 0)),
                         (323, (0,)), (425, (1, 0))):
        assert tuple(call(s, "syscall", number, *args)) == (-1, 1), number


def test_threads_and_numpy_still_work_under_the_filter(hostile):
    s = hostile("import threading, numpy as np, os\ndef work():\n    out = []\n"
                "    t = threading.Thread(target=lambda: out.append(float(np.linalg.svd(np.eye(4))[1].sum())))\n"
                "    t.start(); t.join()\n    pid = os.fork()\n    if pid == 0:\n        os._exit(7)\n"
                "    return out, os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])\n")
    assert list(call(s, "work")) == [[4.0], 7]


def test_hostname_is_private(hostile):
    s = hostile("import socket\ndef name():\n    return socket.gethostname()\n")
    assert call(s, "name") == "sandbox"


def test_session_ends_on_timeout_and_leaves_nothing(hostile, zygote):
    s = hostile("import os\ndef spin():\n    for _ in range(3000):\n        os.mkdir('d')\n        os.chdir('d')\n"
                "    while True:\n        pass\n", wall_s=3)
    with pytest.raises(CallTimeout):
        call(s, "spin")
    home = s.session.home
    s.close()
    assert not home.exists()


# ----------------------------------------------------------- whole grading


def test_reading_the_reference_scores_no_more_than_a_wrong_submission(grade):
    target = str(ROOT / "reference" / "a1" / "mlp.py")
    cheat = ("import glob\nsrc = None\nfor p in glob.glob('/**/reference/a1/mlp.py', recursive=True) + "
             f"[{target!r}]:\n    try:\n        src = open(p).read()\n        break\n"
             "    except OSError:\n        pass\nif src:\n    exec(src)\n")
    wrong = REFERENCE_A1.replace("return x @ self.W + self.b", "return x @ self.W - self.b")
    cheated = by_id(grade("a1", {"mlp.py": cheat}, tasks=["1.1"]))["linear_forward"]
    plain = by_id(grade("a1", {"mlp.py": wrong}, tasks=["1.1"]))["linear_forward"]
    assert cheated.score <= plain.score


def test_report_names_the_full_isolation_level(grade):
    report = grade("a1", {"mlp.py": REFERENCE_A1}, tasks=["1.1"])
    assert report.diagnostics["isolation"]["level"] == "full"
    assert report.diagnostics["isolation"]["seccomp"] is True


# ------------------------------------------------------------ clean exits


def _children(pid: int) -> list[int]:
    kids = []
    for entry in os.listdir("/proc"):
        try:
            if entry.isdigit() and int(Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                kids.append(int(entry))
        except (OSError, IndexError, ValueError):
            pass
    return kids


@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGKILL])
def test_killing_dlgrade_check_leaves_no_process_folder_or_cgroup(tmp_path, signum):
    folder = tmp_path / "sub"
    folder.mkdir()
    (folder / "mlp.py").write_text(REFERENCE_A1.replace(
        "        self.x = x\n        return x @ self.W + self.b\n",
        "        import os\n        [os.fork() for _ in range(3)]\n        while True:\n            pass\n"))
    process = subprocess.Popen([sys.executable, "-m", "grader.cli", "check", "a1", str(folder), "--task", "1.1",
                                "--format", "json"], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    zygote_pid, home, deadline = None, None, time.monotonic() + 60
    while time.monotonic() < deadline:  # wait for the zygote and a running session in its cgroup
        kids = _children(process.pid)
        if kids:
            zygote_pid = kids[0]
            try:
                home = os.readlink(f"/proc/{zygote_pid}/cwd")
            except OSError:
                pass
            if home and list(Path("/sys/fs/cgroup/pids").glob(f"dlgrade-{zygote_pid}-*")):
                break
        time.sleep(0.2)
    assert zygote_pid and home, "the check never started a session"
    time.sleep(1.0)
    sessions = _descendants(zygote_pid)
    process.send_signal(signum)
    process.wait(timeout=30)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and (Path(home).exists() or _cgroups(zygote_pid) or _alive(zygote_pid)):
        time.sleep(0.2)
    assert not _alive(zygote_pid)
    assert not Path(home).exists()
    assert _cgroups(zygote_pid) == []
    assert [p for p in sessions if _alive(p)] == []


def _parent(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return -1


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _cgroups(zygote_pid: int) -> list[Path]:
    return [p for base in ("memory", "pids", "cpu")
            for p in Path(f"/sys/fs/cgroup/{base}").glob(f"dlgrade-{zygote_pid}-*")]

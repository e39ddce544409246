"""The sandbox as a student's laptop runs it: not root, isolated through an unprivileged user namespace.

Runs the sandbox as the user ``nobody`` with the system Python: its own NumPy, or else a
throw-away venv of the system Python that borrows the test venv's site-packages (when
``nobody`` can read them and the Python versions match). Skipped unless this machine has
that user and root can switch to it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SYSTEM_PYTHON = "/usr/bin/python3"


def _as_nobody(args: list[str], timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(["su", "nobody", "-s", "/bin/sh", "-c", " ".join(args)], capture_output=True, text=True,
                          timeout=timeout, cwd="/tmp")


def _python_for_nobody(folder: Path) -> str | None:
    """A Python with NumPy that ``nobody`` can run, or None."""
    if os.getuid() != 0 or not shutil.which("su") or not os.path.exists(SYSTEM_PYTHON):
        return None
    try:
        if _as_nobody([SYSTEM_PYTHON, "-c", "'import numpy'"], timeout=30).returncode == 0:
            return SYSTEM_PYTHON
        import numpy

        site = Path(numpy.__file__).parents[1]
        venv = folder / "venv"
        made = _as_nobody([SYSTEM_PYTHON, "-m", "venv", "--without-pip", str(venv)], timeout=60)
        pths = list(venv.glob("lib/python3*/site-packages"))
        if made.returncode != 0 or len(pths) != 1 or pths[0].parent.name != site.parent.name:
            return None
        (pths[0] / "borrowed.pth").write_text(f"{site}\n")
        python = str(venv / "bin" / "python")
        return python if _as_nobody([python, "-I", "-c", "'import numpy'"], timeout=30).returncode == 0 else None
    except (OSError, subprocess.TimeoutExpired):
        return None


pytestmark = pytest.mark.skipif(os.getuid() != 0 or not shutil.which("su"), reason="needs root to become nobody")


@pytest.fixture
def shared_folder():
    """A folder the user nobody can read (pytest's own tmp_path is private to root)."""
    folder = Path(tempfile.mkdtemp(prefix="dlgrade-nobody-"))
    folder.chmod(0o777)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def test_sandbox_isolates_without_root(shared_folder):
    folder = shared_folder
    python = _python_for_nobody(folder)
    if python is None:
        pytest.skip("no Python with NumPy that the user nobody can run")
    (folder / "mlp.py").write_text(textwrap.dedent("""
        import os, subprocess
        def who():
            return [os.getpid(), os.getuid()]
        def escape():
            subprocess.Popen(['sleep', '543.21'], start_new_session=True)
            return 1
        def write_outside():
            open(os.environ['OUTSIDE'], 'w').write('x')
        def hostile():
            return [os.path.exists(p) for p in ('/work/briefs', '/etc/shadow', '/sys', '/home')]
    """))
    script = folder / "run.py"
    script.write_text(textwrap.dedent(f"""
        import json, os, sys
        sys.path.insert(0, {str(ROOT)!r})
        from pathlib import Path
        from grader.runner.sandbox import Limits, RemoteError, Zygote
        with Zygote() as z:
            s = z.spawn({{'mlp.py': Path({str(folder / 'mlp.py')!r})}}, Limits(wall_s=10))
            result = {{'isolation': {{**s.isolation, **s.request('isolation')}}}}
            s.request('load', 'module', 'mlp', '')
            result['who'] = s.request('call', 'mlp', 'who', [], {{}})
            result['escape'] = s.request('call', 'mlp', 'escape', [], {{}})
            result['hostile'] = s.request('call', 'mlp', 'hostile', [], {{}})
            s.close()
        from grader.runner.doctor import probe
        result['doctor'] = probe().to_dict()
        print(json.dumps(result))
    """))
    for path in (folder / "mlp.py", script):
        path.chmod(0o666)
    done = _as_nobody([python, str(script)])
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    layers = result["isolation"]
    if not layers["user_namespace"]:
        pytest.skip("this kernel refuses unprivileged user namespaces")
    assert layers["pid_namespace"] and layers["network_namespace"] and layers["read_only_filesystem"]
    assert layers["allowlist_root"] and layers["level"] == "partial" and not layers["memory_cgroup"]
    assert result["hostile"] == [False, False, False, False]
    doctor = result["doctor"]
    assert doctor["level"] == "partial" and doctor["user"] != "root"
    assert {x["name"] for x in doctor["layers"] if not x["active"]} >= {"memory_cgroup", "pids_cgroup"}
    assert layers["unprivileged_user"] and result["who"] == [1, 65534]
    survivors = subprocess.run(["pgrep", "-f", "543.21"], capture_output=True, text=True).stdout.split()
    assert survivors == []


def test_a_host_renews_its_folders_without_root(shared_folder):
    """At the partial level R runs in the session's user namespace: the folders a check left at mode 000 (which
    it owns, as the grader's own uid) are fresh mounts again for the next check; doctor says the memory cap
    is not enforced for this user and what to run."""
    folder = shared_folder
    python = _python_for_nobody(folder)
    if python is None:
        pytest.skip("no Python with NumPy that the user nobody can run")
    (folder / "m.py").write_text(textwrap.dedent("""
        import os
        def look():
            return [[oct(os.stat(f).st_mode), sorted(os.listdir(f))] for f in ('/scratch', '/tmp', '/dev/shm')]
        def attack():
            for f in ('/scratch', '/tmp', '/dev/shm'):
                os.makedirs(f + '/locked/inner')
                os.chmod(f + '/locked/inner', 0)
                os.chmod(f + '/locked', 0)
            os.chmod('/scratch', 0)
            os.chmod('/tmp', 0)
            return 'done'
    """))
    script = folder / "run.py"
    script.write_text(textwrap.dedent(f"""
        import json, sys
        sys.path.insert(0, {str(ROOT)!r})
        from pathlib import Path
        from grader.runner.hosts import HostPool
        from grader.runner.remote import Student
        from grader.runner.sandbox import Limits, Zygote
        files = {{'m.py': Path({str(folder / 'm.py')!r})}}
        with Zygote() as z:
            pool = HostPool(z, files, Limits(cpu_s=1000))
            first = Student(z, files, Limits(wall_s=20), hosts=pool)
            result = {{'level': first.session.isolation.get('user_namespace'), 'before': first.module('m').call('look'),
                      'attack': first.module('m').call('attack')}}
            first.close()
            second = Student(z, files, Limits(wall_s=20), hosts=pool)
            result['after'] = second.module('m').call('look')
            second.close()
            result['hosts'] = len(pool._all)
            pool.close()
        from grader.runner.doctor import probe
        result['memory'] = probe().to_dict()['memory']
        print(json.dumps(result))
    """))
    for path in (folder / "m.py", script):
        path.chmod(0o666)
    done = _as_nobody([python, str(script)])
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    if not result["level"]:
        pytest.skip("this kernel refuses unprivileged user namespaces")
    assert result["attack"] == "done" and result["after"] == result["before"] and result["hosts"] == 1
    assert "not enforced here" in result["memory"][-1] and "Delegate=yes" in result["memory"][-1]

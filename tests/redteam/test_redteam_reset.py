"""Red team: a reset nothing survives. Between two checks of one submission the host gives the writable folders
back exactly as the first check received them (fresh tmpfs mounts, ``filesystem.renew_folders``), whatever the
check did to them: modes 000, trees made read-only everywhere, trees thousands of folders deep, FIFOs, sockets,
ACLs and extended attributes, the folders' own modes.
"""

from __future__ import annotations

import pytest

from grader.runner.hosts import HostPool
from grader.runner.remote import Student
from grader.runner.sandbox import Limits

pytestmark = pytest.mark.usefixtures("full_sandbox")

LOOK = (
    "import os, stat\n"
    "def look():\n"
    "    seen = {}\n"
    "    for folder in ('/scratch', '/tmp', '/dev/shm'):\n"
    "        st = os.stat(folder)\n"
    "        names = sorted(os.listdir(folder))\n"
    "        try:\n"
    "            xattrs = sorted(os.listxattr(folder))\n"
    "        except OSError as e:\n"
    "            xattrs = [type(e).__name__]\n"
    "        seen[folder] = [oct(st.st_mode), st.st_uid, names, xattrs, os.statvfs(folder).f_bfree]\n"
    "    seen['m.py'] = open('/scratch/m.py').read()[:40]\n"
    "    return seen\n"
)


@pytest.fixture
def submission(zygote, tmp_path):
    """``submission(source)`` -> ``check()``: a fresh check's student, every check from one host. The driver file
    lies under the host's /tmp (pytest's folder), so it is bound into the session's /tmp: renewed /tmp keeps it."""
    made = []
    drivers = tmp_path / "drivers.py"
    drivers.write_text("def answer():\n    return 42\n")

    def make(source: str):
        path = tmp_path / "m.py"
        path.write_text(LOOK + source)
        pool = HostPool(zygote, {"m.py": path}, Limits(cpu_s=10**6), drivers=drivers)
        made.append(pool)

        def check():
            student = Student(zygote, {"m.py": path}, Limits(wall_s=60), drivers=drivers, hosts=pool)
            made.append(student)
            return student

        return pool, check

    yield make
    for item in reversed(made):
        item.close()


def _after(check, attack: str, *args):
    """What the first check saw, what the attack returned, and what the next check sees."""
    first = check()
    before = first.module("m").call("look")
    done = first.module("m").call(attack, *args)
    first.close()
    second = check()
    after = second.module("m").call("look")
    assert second.drivers().call("answer") == 42  # the read-only bind under /tmp is there again
    second.close()
    return before, done, after


def test_mode_000_folders_and_files_do_not_survive(submission):
    pool, check = submission(
        "def attack():\n"
        "    for folder in ('/scratch', '/tmp', '/dev/shm'):\n"
        "        os.makedirs(folder + '/locked/inner')\n"
        "        open(folder + '/locked/inner/f', 'w').write('x')\n"
        "        os.chmod(folder + '/locked/inner', 0)\n"
        "        os.chmod(folder + '/locked', 0)\n"
        "        open(folder + '/plain', 'w').write('x')\n"
        "        os.chmod(folder + '/plain', 0)\n"
        "    os.chmod('/scratch/m.py', 0)\n"
        "    os.chmod('/scratch', 0)\n"
        "    return 'done'\n")
    before, done, after = _after(check, "attack")
    assert done == "done" and after == before
    assert len(pool._all) == 1  # the same host: its folders were renewed, not the host replaced


def test_a_tree_made_read_only_everywhere_does_not_survive(submission):
    pool, check = submission(
        "def attack():\n"
        "    for folder in ('/scratch', '/tmp', '/dev/shm'):\n"
        "        for i in range(20):\n"
        "            os.makedirs(f'{folder}/ro/{i}/a/b')\n"
        "            open(f'{folder}/ro/{i}/a/b/f', 'w').write('x')\n"
        "        for root, dirs, files in os.walk(folder + '/ro', topdown=False):\n"
        "            for name in files + dirs:\n"
        "                os.chmod(os.path.join(root, name), 0o555 if name in dirs else 0o444)\n"
        "        os.chmod(folder + '/ro', 0o555)\n"
        "    os.chmod('/scratch', 0o555)\n"
        "    return 'done'\n")
    before, done, after = _after(check, "attack")
    assert done == "done" and after == before


def test_a_tree_thousands_of_folders_deep_does_not_survive(submission):
    pool, check = submission(
        "def attack(depth):\n"
        "    for folder in ('/scratch', '/tmp'):\n"
        "        fd = os.open(folder, os.O_RDONLY)\n"
        "        for _ in range(depth):\n"
        "            os.mkdir('d', dir_fd=fd)\n"
        "            child = os.open('d', os.O_RDONLY, dir_fd=fd)\n"
        "            os.close(fd)\n"
        "            fd = child\n"
        "        os.fchmod(fd, 0)\n"
        "        os.close(fd)\n"
        "    return depth\n")
    before, done, after = _after(check, "attack", 3000)
    assert done == 3000 and after == before


def test_fifos_sockets_links_and_attributes_do_not_survive(submission):
    pool, check = submission(
        "import socket\n"
        "def attack():\n"
        "    made = []\n"
        "    for folder in ('/scratch', '/tmp', '/dev/shm'):\n"
        "        os.mkfifo(folder + '/fifo')\n"
        "        s = socket.socket(socket.AF_UNIX)\n"
        "        s.bind(folder + '/sock')\n"
        "        s.listen(1)\n"
        "        os.symlink('/proc/self/root', folder + '/link')\n"
        "        os.link(folder + '/fifo', folder + '/hard')\n"
        "        entries = (bytes([tag, 0, 0, 0, 255, 255, 255, 255]) for tag in (1, 4, 32))\n"
        "        acl = bytes([2, 0, 0, 0]) + b''.join(entries)\n"
        "        for name, value in (('user.mark', b'x'), ('system.posix_acl_default', acl)):  # user::---, ...\n"
        "            try:\n"
        "                os.setxattr(folder, name, value)\n"
        "                made.append((folder, name))\n"
        "            except OSError:\n"
        "                pass\n"
        "    return made\n")
    before, done, after = _after(check, "attack")
    assert ("/scratch", "user.mark") in done  # the check could mark its /scratch (tmpfs keeps user xattrs)
    assert after == before


def test_full_folders_are_empty_again_and_their_memory_is_back(submission):
    pool, check = submission(
        "def attack():\n"
        "    for folder in ('/scratch', '/tmp', '/dev/shm'):\n"
        "        try:\n"
        "            for i in range(1000):  # files of 8 MiB: one file may hold 16 MiB (RLIMIT_FSIZE)\n"
        "                with open(f'{folder}/big{i}', 'wb') as f:\n"
        "                    f.write(b'x' * (8 << 20))\n"
        "        except OSError:\n"
        "            pass\n"
        "    return os.statvfs('/tmp').f_bfree\n")
    before, done, after = _after(check, "attack")
    assert done == 0 and after == before

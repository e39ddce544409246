"""Red team: CPU fairness. Every session runs in a CPU cgroup with the same weight and a quota of one core, so
a submission that forks busy processes (each in a session of its own, ``setsid``) takes no more than its share:
honest students graded beside it keep their scores.
"""

from __future__ import annotations

import os
import threading
import time

import pytest

from grader import api
from grader.assignment import Assignment, CheckFailed, register

pytestmark = pytest.mark.usefixtures("full_sandbox")

BURN = (
    "import os, time\n"
    "def burn(n, seconds):\n"
    "    kids = []\n"
    "    for _ in range(n):\n"
    "        pid = os.fork()\n"
    "        if pid == 0:\n"
    "            os.setsid()\n"
    "            while True:\n"
    "                pass\n"
    "        kids.append(pid)\n"
    "    time.sleep(seconds)\n"
    "    ticks = 0\n"
    "    for pid in kids:\n"
    "        fields = open(f'/proc/{pid}/stat').read().rpartition(')')[2].split()\n"
    "        ticks += int(fields[11]) + int(fields[12])  # utime, stime\n"
    "    return ticks / os.sysconf('SC_CLK_TCK')\n"
)


def _quota(memory_cgroup: str) -> tuple[int, int]:
    """The session's CPU quota and period in microseconds: v2 keeps it beside the memory files, v1 in the cpu
    hierarchy."""
    name = os.path.basename(memory_cgroup)
    try:
        with open(os.path.join(memory_cgroup, "cpu.max")) as f:
            quota, period = f.read().split()
            return int(quota), int(period)
    except OSError:
        folder = f"/sys/fs/cgroup/cpu/{name}"
        with open(f"{folder}/cpu.cfs_quota_us") as q, open(f"{folder}/cpu.cfs_period_us") as p:
            return int(q.read()), int(p.read())


def test_a_session_takes_one_core_whatever_it_forks(hostile):
    s = hostile(BURN, wall_s=30)
    seconds = 2.0
    used = s.module("m").call("burn", 4 * (os.cpu_count() or 1), seconds)
    assert used <= seconds * 1.1 + 0.1  # one core's worth (the quota), not every core
    quota, period = _quota(s.session.cgroup)
    assert quota == period  # one core, whatever the machine's load let it use here


# A class of honest students beside a hog ------------------------------------------------------------------

WORK_ITERATIONS = 1_500_000
# Set by the test: 8 times the slowest time the work took alone (under this machine's own load). Beside a hog of
# 56 busy processes that the kernel treated like any others, on 2 cores, it would take about 28 times as long.
LIMIT = {"s": 3.0}
FAIR = register(Assignment(id="test-fair", title="CPU fairness", files=("work.py",), default_wall_s=40.0,
                           budget_s=120.0))


@FAIR.check("1", "speed", points=1)
def speed(ctx):
    """The work's answer, within the time limit (measured here, in the parent)."""
    started = time.perf_counter()
    value = ctx.student.module("work").call("work", WORK_ITERATIONS)
    elapsed = time.perf_counter() - started
    if value != sum(i % 7 for i in range(WORK_ITERATIONS)):
        raise CheckFailed(f"work returned {value!r}")
    ctx.details["elapsed_s"] = elapsed
    if elapsed > LIMIT["s"]:
        raise CheckFailed(f"took {elapsed:.1f} s, limit {LIMIT['s']:.1f} s")


HONEST = "def work(n):\n    return sum(i % 7 for i in range(n))\n"
WRONG = "def work(n):\n    return sum(i % 5 for i in range(n))\n"  # fails the check, alone or not
HOG = BURN + "def work(n):\n    burn(56, 25.0)\n    return 0\n"  # 56 + the session's own: within the pids cap


@pytest.mark.slow
def test_honest_students_beside_a_hog_score_as_they_do_alone(make_submission, zygote):
    students = {f"honest{i}": make_submission({"work.py": HONEST}) for i in range(3)}
    students["wrong"] = make_submission({"work.py": WRONG})
    LIMIT["s"] = 60.0
    reports = {name: api.check(FAIR, path, zygote=zygote, jobs=1) for name, path in students.items()}
    LIMIT["s"] = max(1.0, 8 * max(r.checks[0].details.get("elapsed_s", 0) for r in reports.values()))

    def score(path):
        return [(c.id, c.status, c.score) for c in api.check(FAIR, path, zygote=zygote, jobs=1).checks]

    alone = {name: score(path) for name, path in students.items()}
    assert alone["honest0"] == [("speed", "passed", 1.0)] and alone["wrong"][0][1] == "failed"

    hog = threading.Thread(target=api.check, args=(FAIR, make_submission({"work.py": HOG})),
                           kwargs={"zygote": zygote, "jobs": 1})
    hog.start()
    time.sleep(2.0)  # its busy processes are running
    beside: dict[str, list] = {}
    threads = [threading.Thread(target=lambda n=name, p=path: beside.__setitem__(n, score(p)))
               for name, path in students.items()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    hog.join()
    assert beside == alone

"""Assignments looked up from several threads of one fresh process at once (a Dask worker's threads each grading
a submission): every lookup sees the whole registry, and concurrent imports never meet in a deadlock."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

from grader.assignment import DEFAULT_ASSIGNMENTS

RACE = textwrap.dedent("""
    import json, sys, threading
    from grader import api
    names = sys.argv[1:]
    barrier = threading.Barrier(len(names))
    outcomes = []
    def look_up(name):
        barrier.wait()
        try:
            outcomes.append([name, len(api.get_assignment(name).checks) > 0])
        except Exception as exc:
            outcomes.append([name, f"{type(exc).__name__}: {exc}"])
    threads = [threading.Thread(target=look_up, args=(n,)) for n in names]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(json.dumps(outcomes))
""")


def test_concurrent_lookups_see_the_whole_registry():
    torch_free = [m.rsplit(".", 1)[-1] for m in DEFAULT_ASSIGNMENTS if m.rsplit(".", 1)[-1] in ("a1", "a2", "a3")]
    names = torch_free * 2 + ["no-such-assignment"] * 3
    for _ in range(3):  # each run is a fresh registry; the race showed in every run before the lock
        run = subprocess.run([sys.executable, "-c", RACE, *names], capture_output=True, text=True, timeout=120)
        assert run.returncode == 0, run.stderr
        for name, outcome in json.loads(run.stdout):
            if name in torch_free:
                assert outcome is True, (name, outcome)
            else:
                assert outcome.startswith("UnknownAssignment") and all(a in outcome for a in torch_free), outcome

"""Checks run side by side give the same report, in check order, as checks run one by one."""

from __future__ import annotations

from pathlib import Path

from grader import api

ROOT = Path(__file__).resolve().parents[1]


def test_parallel_sessions_give_the_same_report(zygote):
    submission = ROOT / "examples" / "a1" / "common_mistakes"
    tasks = ["1.1", "1.2", "1.4", "1.5"]
    serial = api.check("a1", submission, tasks=tasks, seed=3, zygote=zygote, jobs=1)
    parallel = api.check("a1", submission, tasks=tasks, seed=3, zygote=zygote, jobs=3)
    strip = lambda r: [(c.id, c.status, c.score, c.message, c.hint) for c in r.checks]  # noqa: E731
    assert strip(serial) == strip(parallel)
    assert [c.id for c in parallel.checks] == [c.id for c in api.get_assignment("a1").checks]
    assert parallel.diagnostics["jobs"] == 3 and serial.score < serial.max_score

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


def test_checks_on_the_longest_chain_start_first():
    """a1's trainings wait on Linear, Sigmoid, MSELoss and SGD: those checks outrank the others."""
    from grader.engine import critical_path_ranks

    a1 = api.get_assignment("a1")
    ranks = critical_path_ranks(a1, list(a1.checks))
    trainings = [c for c in a1.checks if c.id.startswith("train")]
    by_id = {c.id: c for c in a1.checks}
    training_parts, todo = set(), [dep for c in trainings for dep in a1.dependencies(c)]
    while todo:  # what the trainings wait on, directly or through another check
        dep = todo.pop()
        if dep not in training_parts:
            training_parts.add(dep)
            todo += a1.dependencies(by_id[dep])
    assert {"linear_backward_dW", "sgd_steps", "mse_backward"} <= training_parts
    unrelated = [c.id for c in a1.checks if c.id not in training_parts and c not in trainings]
    assert {"tanh_forward", "adam_steps"} <= set(unrelated)
    assert min(ranks[c] for c in training_parts) > max(ranks[c] for c in unrelated)
    assert ranks["linear_forward"] > ranks["linear_backward_dW"]  # a chain: forward before backward before training

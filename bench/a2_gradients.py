"""a2's gradient suite as dlgrade grades it, and the latency of written-answer checks.

Part 1 grades the reference a2 with dlgrade's full sandbox, tasks 2.1-2.3 (every
op's forward and backward on its fixed cases, the graphs): the whole command
(`dlgrade check a2 reference/a2 --task 2.1 --task 2.2 --task 2.3`, a fresh
process each time) and the grading alone (``duration_s`` of the report: probe and
checks, after start-up), medians of 5 runs. Part 2 times `judge` on every question
with right, equivalent, wrong, approximate and hostile answers and answers built
to explode (the tables of tests/checks/test_symbolic.py), after `warm()`.
Usage: python bench/a2_gradients.py
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from grader.assignments.a2.questions import QUESTIONS
from grader.checks.symbolic import judge, warm

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from tests.checks.test_symbolic import APPROXIMATE, BOMBS, EQUIVALENT, HOSTILE, WRONG  # noqa: E402  (the tests')

GRADIENT_TASKS = ("2.1", "2.2", "2.3")


def gradient_suite(runs: int = 5) -> tuple[float, float, int]:
    """Medians of (whole command, grading alone) in seconds, and the number of checks."""
    command = [str(Path(sys.executable).parent / "dlgrade"), "check", "a2", str(ROOT / "reference" / "a2"),
               "--format", "json", "--seed", "1"]
    for task in GRADIENT_TASKS:
        command += ["--task", task]
    walls, gradings, checks = [], [], 0
    for _ in range(runs + 1):  # the first run warms the file caches
        started = time.perf_counter()
        done = subprocess.run(command, capture_output=True, check=True)
        walls.append(time.perf_counter() - started)
        report = json.loads(done.stdout)
        gradings.append(report["diagnostics"]["duration_s"])
        checks = sum(1 for c in report["checks"] if c["status"] == "passed")
    return statistics.median(walls[1:]), statistics.median(gradings[1:]), checks


def main() -> None:
    print("Part 1: the a2 gradient suite (tasks 2.1-2.3) graded by dlgrade, full sandbox, reference submission")
    wall, grading, checks = gradient_suite()
    print(f"  {checks} checks passed: whole command {wall * 1000:.0f} ms, grading alone {grading * 1000:.0f} ms "
          f"(median of 5; {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f})")
    print("Part 2: latency of one written-answer check (judge), SymPy warmed once as the grader should")
    started = time.perf_counter()
    warm()
    print(f"  warm(): {(time.perf_counter() - started) * 1000:.0f} ms, once per grading process")
    by_key = {f"{q.table}.{q.key}": q for q in QUESTIONS}
    cases = [(q, q.answer, "model") for q in QUESTIONS]
    cases += [(by_key[k], text, "equivalent") for k, texts in EQUIVALENT.items() for text in texts]
    cases += [(by_key[k], text, "wrong") for k, pairs in WRONG.items() for text, _ in pairs]
    cases += [(by_key[k], text, "approximate") for k, texts in APPROXIMATE.items() for text in texts]
    cases += [(QUESTIONS[0], text, "hostile") for text, _ in HOSTILE]
    cases += [(by_key["div_backward.dY"], text, "built to explode") for text, _ in BOMBS]
    times: dict[tuple[int, str], list[tuple[float, float]]] = {}
    for seed in range(3):  # seed 0: every answer is new to the process; 1, 2: later submissions, same answers
        for question, text, kind in cases:
            wall, cpu = time.perf_counter(), time.process_time()
            judge(question, text, seed=seed)
            times.setdefault((seed, kind), []).append(((time.perf_counter() - wall) * 1000,
                                                       (time.process_time() - cpu) * 1000))

    def line(label, pairs):
        parts = []
        for name, values in (("wall", sorted(w for w, _ in pairs)), ("cpu", sorted(c for _, c in pairs))):
            p95 = values[int(0.95 * (len(values) - 1))]
            parts.append(f"{name} p50 {statistics.median(values):5.1f} p95 {p95:5.1f} max {values[-1]:6.1f} ms")
        print(f"  {label:<44} {len(pairs):4d} checks: {' | '.join(parts)}")

    print(f"  ({os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}: wall time includes waiting for a core)")
    line("first submission (caches cold), all answers", [t for (s, _), v in times.items() if s == 0 for t in v])
    line("all three submissions, all answers", [t for v in times.values() for t in v])
    for kind in ("model", "equivalent", "wrong", "approximate", "hostile", "built to explode"):
        line(f"  of which {kind}", [t for (_, k), v in times.items() if k == kind for t in v])

if __name__ == "__main__":
    main()

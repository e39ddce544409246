"""Per-submission overhead of `dlgrade check a1`, against one fresh interpreter per check.

Three ways to run the same a1 checks on the reference submission (training
checks excluded: they are compute, the same in every scheme):

  fresh-per-check   a new worker interpreter (python -I + numpy import) for every check:
                    the naive design, and the baseline
  per-submission    what `dlgrade check` does: one preloaded worker per submission,
                    one fork per check
  shared (batch)    one preloaded worker for many submissions: only the forks remain

Prints seconds per submission and the ratios against the baseline, all from this run.
Usage: python bench/a1_overhead.py [--repeats 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

from grader import api
from grader.runner.sandbox import Limits, Zygote

ROOT = Path(__file__).resolve().parents[1]
SUBMISSION = ROOT / "reference" / "a1"


def timed(fn) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    checks = [c.id for c in api.get_assignment("a1").checks if c.task != "1.6"]

    def fresh_per_check():
        for check_id in checks:
            with Zygote() as zygote:
                api.check("a1", SUBMISSION, tasks=[check_id], seed=1, zygote=zygote)

    def per_submission():
        api.check("a1", SUBMISSION, tasks=checks, seed=1)

    shared = Zygote()

    def batch():
        api.check("a1", SUBMISSION, tasks=checks, seed=1, zygote=shared)

    def spawn_one():
        session = shared.spawn({}, Limits())
        session.request("isolation")
        session.close()

    results = {}
    for name, fn in (("fresh-per-check", fresh_per_check), ("per-submission", per_submission),
                     ("shared (batch)", batch)):
        fn()  # warm-up: file caches, imports in the parent
        results[name] = statistics.median(timed(fn) for _ in range(args.repeats))
    fork_ms = statistics.median(timed(spawn_one) for _ in range(50)) * 1000
    start_ms = statistics.median(timed(lambda: Zygote().close()) for _ in range(5)) * 1000
    shared.close()

    base = results["fresh-per-check"]
    version = sys.version.split()[0]
    print(f"a1, {len(checks)} checks (training excluded), median of {args.repeats} runs, python {version}")
    for name, seconds in results.items():
        print(f"  {name:<16} {seconds:7.3f} s per submission   speed-up vs baseline x{base / seconds:5.1f}")
    print(f"  one sandboxed session (fork, isolate, one call, kill): {fork_ms:.1f} ms")
    print(f"  one fresh worker interpreter with numpy:               {start_ms:.1f} ms")


if __name__ == "__main__":
    main()

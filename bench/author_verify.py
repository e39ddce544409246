"""How long `dlgrade author verify` takes, and what grading each mutant with its likeliest killer first saves.

    .venv/bin/python bench/author_verify.py a1 --mutants 200

Runs the mutation analysis twice on the same mutants (the default: each mutant graded first by the check
that caught most mutants of its function so far, the others only if it survives; the peer: every check on
every mutant, as a plain mutation tool driving the grader would), and prints the wall times, their ratio,
the seconds per mutant and the mutation score, with the machine's load. Both sides count the same
mutants caught (the check order changes the work, not the verdict).
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("assignment", nargs="?", default="a1")
    parser.add_argument("--mutants", type=int, default=200)
    parser.add_argument("--skip-peer", action="store_true", help="only the default strategy")
    args = parser.parse_args()
    from grader.authoring.verify import verify

    print(f"{platform.machine()}, {os.cpu_count()} cores, Python {sys.version.split()[0]}, "
          f"load average {os.getloadavg()[0]:.1f}")
    runs = {}
    for name, killer_first in (("killer first", True), ("every check", False)):
        if args.skip_peer and not killer_first:
            continue
        started = time.perf_counter()
        result = verify(args.assignment, seeds=1, mutant_limit=args.mutants, killer_first=killer_first)
        wall = time.perf_counter() - started
        m = result.mutants
        runs[name] = m.seconds
        print(f"{name:>12}: verify {wall:6.1f} s (mutation {m.seconds:6.1f} s, {m.seconds / max(m.total, 1):.2f} s "
              f"per mutant), {m.caught}/{m.total} caught, score {100 * (m.score or 0):.1f}%")
    if len(runs) == 2:
        print(f"killer first / every check: {runs['killer first'] / runs['every check']:.2f}")
    print(f"load average after: {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""What one check's session costs: built from the zygote (a session of its own) vs forked by a host.

For N checks of the reference a2 (its module and the assignment's driver, one call), times
each phase in the parent: getting the session, importing the student's module, loading the
driver, one call, closing it. Medians in ms, the full sandbox where the machine gives it.

Usage: .venv/bin/python bench/sessions.py [--checks 25]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

from grader import api
from grader.runner.hosts import HostPool
from grader.runner.remote import Student
from grader.runner.sandbox import Limits, Zygote

ROOT = Path(__file__).resolve().parents[1]
PHASES = ("session", "import", "driver", "call", "close")


def measure(zygote: Zygote, pool: HostPool | None, checks: int) -> dict[str, float]:
    a2 = api.get_assignment("a2")
    files = {"autograd.py": ROOT / "reference" / "a2" / "autograd.py"}
    times: dict[str, list[float]] = {phase: [] for phase in PHASES}
    for _ in range(checks + 1):  # the first warms the pool and the caches
        marks = [time.perf_counter()]
        student = Student(zygote, files, Limits(), a2.forbidden_imports, a2.drivers, hosts=pool)
        _ = student.session  # started here
        marks.append(time.perf_counter())
        student.module("autograd")
        marks.append(time.perf_counter())
        student.drivers()
        marks.append(time.perf_counter())
        student.session.request("isolation")
        marks.append(time.perf_counter())
        student.close()
        marks.append(time.perf_counter())
        for phase, start, end in zip(PHASES, marks, marks[1:]):
            times[phase].append((end - start) * 1000)
    return {phase: statistics.median(values[1:]) for phase, values in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checks", type=int, default=25)
    args = parser.parse_args()
    a2 = api.get_assignment("a2")
    files = {"autograd.py": ROOT / "reference" / "a2" / "autograd.py"}
    with Zygote() as zygote:
        own = measure(zygote, None, args.checks)
        pool = HostPool(zygote, files, Limits(cpu_s=10**6), a2.forbidden_imports, a2.drivers)
        try:
            hosted = measure(zygote, pool, args.checks)
            level = pool._all[0].isolation if pool.usable and pool._all else {}
        finally:
            pool.close()
    print(f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}; medians of {args.checks} checks, ms; "
          f"hosts {'used' if level.get('pid_namespace') else 'not usable here (no PID namespace)'}")
    print(f"  {'':22}" + "".join(f"{p:>9}" for p in PHASES) + f"{'total':>9}")
    for label, row in (("a session of its own", own), ("forked by a host", hosted)):
        print(f"  {label:22}" + "".join(f"{row[p]:9.2f}" for p in PHASES) + f"{sum(row.values()):9.2f}")


if __name__ == "__main__":
    main()

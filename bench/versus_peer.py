"""dlgrade against the pytest grader a course would otherwise write, and against no sandbox at all.

For each assignment, three whole commands on the same submission, run in
rotating order in each of N pairs (so drift and caches hit all of them alike):

  dlgrade      dlgrade check aN SUBMISSION (the full sandbox, a fresh process)
  pytest peer  python -m pytest bench/peer: one test per check, the student's code
               imported into the test process, no sandbox, one fresh process per
               submission (what a course writes for CI)
  lower bound  python bench/inprocess.py: the same checks in one process, no sandbox,
               no pytest

All three run dlgrade's own check functions on the same seed, so they do the
same work. Prints medians, the ratios of medians and the median of the paired
ratios, the per-submission overhead of dlgrade over the lower bound split into
start-up and reporting versus grading, the machine, and the isolation dlgrade had.

Usage: .venv/bin/python bench/versus_peer.py [--pairs 5] [--assignments a1 a2 a3] [--jobs 1]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def commands(assignment: str, submission: Path, report: Path, jobs: int | None = None
             ) -> dict[str, tuple[list[str], dict]]:
    env = dict(os.environ)
    peer_env = {**env, "DLGRADE_PEER_ASSIGNMENT": assignment, "DLGRADE_PEER_SUBMISSION": str(submission)}
    return {
        "dlgrade": ([str(BIN / "dlgrade"), "check", assignment, str(submission), "--seed", "1", "--format", "json",
                     "--output", str(report)] + (["--jobs", str(jobs)] if jobs else []), env),
        "pytest peer": ([sys.executable, "-m", "pytest", str(ROOT / "bench" / "peer"), "-q", "-p", "no:cacheprovider"],
                        peer_env),
        "lower bound": ([sys.executable, str(ROOT / "bench" / "inprocess.py"), assignment, str(submission)], env),
    }


def timed(command: list[str], env: dict) -> tuple[float, str]:
    """Wall time of the whole command, and what it printed."""
    started = time.perf_counter()
    done = subprocess.run(command, env=env, cwd=ROOT, capture_output=True)
    elapsed = time.perf_counter() - started
    if done.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(command)} failed ({done.returncode}): {done.stderr.decode()[-500:]}")
    return elapsed, done.stdout.decode(errors="replace")


def grading_seconds(name: str, output: str, report: Path) -> float:
    """The part of a run spent grading: dlgrade's own ``duration_s`` (probe and checks, sandbox included),
    or the lower bound's check loop; the rest of the wall time is start-up (interpreter, imports, the
    worker) and reporting."""
    if name == "dlgrade":
        return json.loads(report.read_text())["diagnostics"]["duration_s"]
    match = re.search(r" in ([0-9.]+) s \(in-process\)", output)
    return float(match.group(1)) if match else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=5)
    parser.add_argument("--assignments", nargs="+", default=["a1", "a2", "a3"])
    parser.add_argument("--jobs", type=int, help="dlgrade's --jobs (default: the cores); 1 shows the sandbox's "
                        "cost without the gain of running checks side by side")
    args = parser.parse_args()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, {platform.platform()}, python "
          f"{platform.python_version()}; user {'root' if os.getuid() == 0 else os.getuid()}")
    print(f"{args.pairs} paired runs per assignment, reference submissions, seed 1, dlgrade --jobs "
          f"{args.jobs or 'default (the cores)'}\n")
    for assignment in args.assignments:
        submission = ROOT / "reference" / assignment
        with tempfile.TemporaryDirectory() as scratch:
            report = Path(scratch) / "report.json"
            runs = commands(assignment, submission, report, args.jobs)
            for command, env in runs.values():  # warm-up: file caches
                timed(command, env)
            times: dict[str, list[float]] = {name: [] for name in runs}
            grading: dict[str, list[float]] = {name: [] for name in runs}
            names = list(runs)
            for pair in range(args.pairs):
                order = names[pair % 3:] + names[:pair % 3]
                for name in order:
                    elapsed, output = timed(*runs[name])
                    times[name].append(elapsed)
                    grading[name].append(grading_seconds(name, output, report))
            isolation = json.loads(report.read_text())["diagnostics"].get("isolation", {})
        medians = {name: statistics.median(values) for name, values in times.items()}
        paired_peer = statistics.median(d / p for d, p in zip(times["dlgrade"], times["pytest peer"]))
        paired_lower = statistics.median(d / low for d, low in zip(times["dlgrade"], times["lower bound"]))
        print(f"{assignment}: " + ", ".join(f"{name} {seconds:.3f} s" for name, seconds in medians.items()))
        print(f"  dlgrade / pytest peer: ratio of medians {medians['dlgrade'] / medians['pytest peer']:.2f}, "
              f"median of paired ratios {paired_peer:.2f}")
        print(f"  dlgrade / lower bound: ratio of medians {medians['dlgrade'] / medians['lower bound']:.2f}, "
              f"median of paired ratios {paired_lower:.2f}; overhead "
              f"{(medians['dlgrade'] - medians['lower bound']) * 1000:.0f} ms per submission")
        checks = {name: statistics.median(grading[name]) for name in ("dlgrade", "lower bound")}
        start = {name: medians[name] - checks[name] for name in checks}
        print(f"  split of the overhead: start-up and reporting {(start['dlgrade'] - start['lower bound']) * 1000:+.0f}"
              f" ms (dlgrade {start['dlgrade'] * 1000:.0f}, lower bound {start['lower bound'] * 1000:.0f}), "
              f"grading {(checks['dlgrade'] - checks['lower bound']) * 1000:+.0f} ms (dlgrade "
              f"{checks['dlgrade'] * 1000:.0f}, sandboxed sessions side by side; lower bound "
              f"{checks['lower bound'] * 1000:.0f}, one process)")
        active = sorted(k for k, v in isolation.items() if v is True)
        print(f"  isolation: {isolation.get('level', '?')} ({', '.join(active)})\n")


if __name__ == "__main__":
    main()

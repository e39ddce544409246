"""Does load change a speed verdict? a3's conv_speed graded idle and beside busy processes, side by side.

For each submission (the reference, a loop over output pixels with a vectorized inner sum,
and with ``--loops`` the plain seven-loop example) the check runs ``--runs`` times idle and
``--runs`` times beside ``--busy`` pure-Python busy loops, alternating. Printed per
submission and condition: verdicts, the median judged ratio (student / yardstick), the
median CPU and wall seconds of the best repetition; then loaded / idle as ratios of medians,
for the judged ratio (what the verdict uses) and for the wall clock (what the old check used).
The yardstick alone is timed the same way first.

    .venv/bin/python bench/timing_load.py --runs 3 [--busy 2] [--loops]
"""

from __future__ import annotations

import argparse
import contextlib
import inspect
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from grader import api  # noqa: E402
from grader.assignments.a3 import speed  # noqa: E402
from grader.runner.sandbox import Zygote  # noqa: E402
from reference.a3 import conv_loops  # noqa: E402

PIXEL_LOOPS = "\n\n" + inspect.getsource(conv_loops.conv2d_forward)  # a loop over output pixels


@contextlib.contextmanager
def busy(count: int):
    loops = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(count)]
    try:
        time.sleep(0.3)
        yield
    finally:
        for loop in loops:
            loop.kill()
            loop.wait()


def submissions(folder: Path, loops: bool) -> dict[str, Path]:
    reference = (ROOT / "reference" / "a3" / "conv.py").read_text()
    found = {"reference": ROOT / "reference" / "a3"}
    (folder / "pixels").mkdir()
    (folder / "pixels" / "conv.py").write_text(reference + PIXEL_LOOPS)
    found["pixel loops"] = folder / "pixels"
    if loops:
        found["plain loops"] = ROOT / "examples" / "a3" / "loops_correct_but_slow"
    return found


def yardstick(runs: int) -> dict[str, float]:
    run = speed.yardstick((16, 3, 32, 32), (8, 3, 3, 3))
    run()
    cpus, walls = [], []
    for _ in range(runs):
        wall, cpu = time.perf_counter(), time.thread_time()
        run()
        cpus.append(time.thread_time() - cpu)
        walls.append(time.perf_counter() - wall)
    return {"cpu": statistics.median(cpus), "wall": statistics.median(walls)}


def grade(zygote: Zygote, path: Path, seed: int) -> dict:
    check = {c.id: c for c in api.check("a3", path, tasks=["conv_speed"], seed=seed, zygote=zygote).checks}[
        "conv_speed"]
    timing = check.details.get("timing")
    if not timing:
        return {"status": check.status, "ratio": float("nan"), "cpu": float("nan"), "wall": float("nan")}
    best = min(timing["runs"], key=lambda r: r["ratio"])
    return {"status": check.status, "ratio": timing["ratio"], "cpu": best["student_cpu_s"] or float("nan"),
            "wall": best["student_wall_s"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--busy", type=int, default=2)
    parser.add_argument("--loops", action="store_true", help="also the plain seven-loop example (slow)")
    args = parser.parse_args()
    print(f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {platform.machine()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}, load average {os.getloadavg()[0]:.1f} at the start")
    idle = yardstick(50)
    with busy(args.busy):
        loaded = yardstick(50)
    print(f"yardstick 16x3x32x32: CPU {idle['cpu'] * 1e3:.2f} ms idle, {loaded['cpu'] * 1e3:.2f} ms loaded "
          f"(x{loaded['cpu'] / idle['cpu']:.2f}); wall {idle['wall'] * 1e3:.2f} ms idle, "
          f"{loaded['wall'] * 1e3:.2f} ms loaded (x{loaded['wall'] / idle['wall']:.2f})")
    print(f"limit: {speed.LIMIT:g} times the yardstick")
    with tempfile.TemporaryDirectory() as folder, Zygote() as zygote:
        for name, path in submissions(Path(folder), args.loops).items():
            results = {"idle": [], "loaded": []}
            for run in range(args.runs):
                results["idle"].append(grade(zygote, path, seed=100 + run))
                with busy(args.busy):
                    results["loaded"].append(grade(zygote, path, seed=200 + run))
            medians = {}
            for condition, found in results.items():
                verdicts = ", ".join(sorted({r["status"] for r in found}))
                medians[condition] = {k: statistics.median(r[k] for r in found) for k in ("ratio", "cpu", "wall")}
                m = medians[condition]
                print(f"  {name:<12} {condition:<6} verdicts: {verdicts:<16} ratio {m['ratio']:8.1f}  "
                      f"CPU {m['cpu']:7.3f} s  wall {m['wall']:7.3f} s")
            judged = medians["loaded"]["ratio"] / medians["idle"]["ratio"]
            print(f"  {name:<12} loaded / idle: judged ratio x{judged:.2f}, "
                  f"wall clock x{medians['loaded']['wall'] / medians['idle']['wall']:.2f}")


if __name__ == "__main__":
    main()

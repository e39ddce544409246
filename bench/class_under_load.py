"""Does load change grades? A class of a3 graded idle, then again beside busy processes: same scores?

Builds a class of ``--students`` a3 submissions (the reference, each with a comment of its own; two of them
with an honest but slower convolution that loops over output pixels, which passes the speed check alone),
grades it with ``dlgrade grade --jobs 2`` idle, then again while ``--hogs`` processes that each called
``setsid()`` burn a core each outside any sandbox, and compares every student's score and the speed check's
judged ratio. Prints the wall times and any student whose score differs (there should be none).

Usage: .venv/bin/python bench/class_under_load.py [--students 30] [--hogs 3]
"""

from __future__ import annotations

import argparse
import inspect
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DLGRADE = str(Path(sys.executable).with_name("dlgrade"))
sys.path.insert(0, str(ROOT))
from reference.a3 import conv_loops  # noqa: E402

# A slower honest student: conv2d_forward as one loop over output pixels (the reference's plain loop version).
PIXEL_LOOPS = "\n\n" + inspect.getsource(conv_loops.conv2d_forward)


def make_class(root: Path, students: int) -> None:
    reference = ROOT / "reference" / "a3"
    slow = {students // 4, 3 * students // 4}
    for i in range(1, students + 1):
        folder = root / f"s{i:02d}"
        folder.mkdir(parents=True)
        shutil.copy(reference / "batchnorm.py", folder)
        shutil.copy(reference / "answers.toml", folder)
        conv = (reference / "conv.py").read_text() + f"\n# student {i}\n" + (PIXEL_LOOPS if i in slow else "")
        (folder / "conv.py").write_text(conv)


def hogs(count: int) -> list[int]:
    pids = []
    for _ in range(count):
        pid = os.fork()
        if pid == 0:
            os.setsid()
            while True:
                pass
        pids.append(pid)
    return pids


def grade(folder: Path, book: Path) -> float:
    started = time.perf_counter()
    subprocess.run([DLGRADE, "grade", "a3", str(folder), "--jobs", "2", "--seed", "11", "--gradebook", str(book)],
                   check=False, capture_output=True)
    return time.perf_counter() - started


def results(book: Path) -> dict[str, tuple[float, str]]:
    db = sqlite3.connect(book)
    rows = db.execute("SELECT s.student, s.score, r.message FROM submissions s JOIN results r "
                      "ON r.submission_id = s.id AND r.check_id = 'conv_speed'")
    return {student: (score, message.split(": ")[-1].split(" measured")[0]) for student, score, message in rows}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=30)
    parser.add_argument("--hogs", type=int, default=3)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "class"
        make_class(folder, options.students)
        idle_s = grade(folder, Path(tmp) / "idle.sqlite")
        pids = hogs(options.hogs)
        try:
            loaded_s = grade(folder, Path(tmp) / "loaded.sqlite")
        finally:
            for pid in pids:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
        idle, loaded = results(Path(tmp) / "idle.sqlite"), results(Path(tmp) / "loaded.sqlite")
    print(f"{len(idle)} students, --jobs 2, {os.cpu_count()} cores: idle {idle_s:.1f} s, beside {options.hogs} busy "
          f"processes {loaded_s:.1f} s")
    differ = {s: (idle[s], loaded.get(s)) for s in idle if idle[s][0] != (loaded.get(s) or (None,))[0]}
    print(f"scores that differ: {len(differ)}" + "".join(f"\n  {s}: {a} vs {b}" for s, (a, b) in differ.items()))
    print("the slower honest kernels (the reference is about 5 times the baseline; the limit is 450):")
    for student in sorted(s for s in idle if _ratio(idle[s][1]) > 20):
        print(f"  {student}: {idle[student][1]} idle, {loaded[student][1]} loaded")


def _ratio(text: str) -> float:
    try:
        return float(text.split(" times")[0])
    except ValueError:
        return 0.0


if __name__ == "__main__":
    main()

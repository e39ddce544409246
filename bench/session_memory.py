"""How much memory a real session holds: the peak of each submission's memory cgroup while the reference is graded.

For each assignment given, grades the reference solution in the full sandbox (``api.check``) and reads, before
each of its hosts is closed, the peak of the host's memory cgroup (its processes and its tmpfs folders together:
``memory.max_usage_in_bytes`` on cgroup v1, ``memory.peak`` on v2) against the assignment's cap. Root only.

Usage: .venv/bin/python bench/session_memory.py [a1 a2 a3]
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
from pathlib import Path

from grader import api
from grader.runner import hosts
from grader.runner.sandbox import Zygote

ROOT = Path(__file__).resolve().parents[1]
MIB = 1 << 20


def peak_mib(cgroup: str | None) -> float | None:
    for name in ("memory.peak", "memory.max_usage_in_bytes"):
        try:
            with open(os.path.join(cgroup or "", name)) as f:
                return int(f.read()) / MIB
        except OSError:
            continue
    return None


def measure(assignment: str, zygote: Zygote) -> list[float]:
    """The peak of every host (one per check running side by side) of one grading of the reference."""
    peaks: list[float] = []
    close = hosts.Host.close

    def reading_close(host):
        value = peak_mib(host._session.cgroup)
        if value is not None:
            peaks.append(value)
        close(host)

    spec = api.get_assignment(assignment)
    with tempfile.TemporaryDirectory() as folder:
        for name in spec.files:
            shutil.copy(ROOT / "reference" / assignment / name, Path(folder) / name)
        hosts.Host.close = reading_close
        try:
            report = api.check(assignment, folder, zygote=zygote, seed=1234)
        finally:
            hosts.Host.close = close
    print(f"{assignment}: score {report.score:g}/{report.max_score:g}, cap {spec.session_memory_mb} MiB, "
          f"{len(peaks)} hosts, peak of a session {max(peaks, default=0):.0f} MiB")
    return peaks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("assignments", nargs="*", default=["a1", "a2", "a3"])
    args = parser.parse_args()
    for assignment in args.assignments:
        preload = api.get_assignment(assignment, load_checks=False).preload
        with Zygote(preload=preload) as zygote:
            measure(assignment, zygote)


if __name__ == "__main__":
    main()

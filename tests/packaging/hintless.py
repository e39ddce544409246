"""The sweep behind docs/hintless-mistakes.md: every catalogued single bug's failing checks that carry no hint.

    python -m tests.packaging.hintless [--seed 1] [--write docs/hintless-mistakes.md]

grades every bug of the a1-a4 catalogues (tests/assignments/*_bugs) with the
staff build (a4: its structure checks, in this process) and lists each failing
check whose hint is empty. docs/hintless-mistakes.md holds that list, each
entry with a reason why no hint is possible (or names the hint added since).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Hintless:
    assignment: str
    bug: str
    check: str
    message: str


def _graded(zygote, assignment: str, files: dict[str, str], tasks, seed: int):
    from grader import api

    with tempfile.TemporaryDirectory(prefix="dlgrade-hintless-") as folder:
        for name, text in files.items():
            (Path(folder) / name).write_text(text)
        return api.check(assignment, folder, tasks=sorted(tasks), seed=seed, zygote=zygote)


def _hintless(assignment: str, bug: str, report) -> list[Hintless]:
    return [Hintless(assignment, bug, c.id, c.message.splitlines()[0][:160] if c.message else "")
            for c in report.checks if c.status in ("failed", "error", "timeout") and not c.hint.strip()
            and not c.root_cause]


def sweep_numpy(seed: int) -> list[Hintless]:
    """a1, a2 and a3: each bug graded in the sandbox on the tasks it concerns."""
    from grader import api
    from grader.api import get_assignment
    from tests.assignments.a1_bugs.catalogue import BUGS as A1
    from tests.assignments.a2_bugs.bugs import ANSWERS
    from tests.assignments.a2_bugs.bugs import BUGS as A2
    from tests.assignments.a3_bugs.catalogue import BN_BUGS, CONV_BUGS
    from tests.conftest import mutate

    found: list[Hintless] = []
    reference = {n: (ROOT / "reference" / "a3" / n).read_text() for n in ("conv.py", "batchnorm.py")}
    a1_source = (ROOT / "reference" / "a1" / "mlp.py").read_text()
    a2_checks = get_assignment("a2").checks
    with api.Zygote() as zygote:
        for name, bug in sorted(A1.items()):
            report = _graded(zygote, "a1", {"mlp.py": mutate(a1_source, *bug.replacements)}, bug.tasks, seed)
            found += _hintless("a1", name, report)
        for name, bug in sorted(A2.items()):
            tasks = {c.task for c in a2_checks if c.id in bug.fails}
            report = _graded(zygote, "a2", {"autograd.py": bug.source(), "answers.toml": ANSWERS}, tasks, seed)
            found += _hintless("a2", name, report)
        for file, bugs in (("conv.py", CONV_BUGS), ("batchnorm.py", BN_BUGS)):
            for name, bug in sorted(bugs.items()):
                files = dict(reference)
                files[file] = mutate(files[file], *bug.replacements)
                found += _hintless("a3", name, _graded(zygote, "a3", files, bug.tasks, seed))
    return found


def sweep_a4(seed: int) -> list[Hintless]:
    """a4's structure checks (task 4.1), in this process as its catalogue test runs them."""
    try:
        import torch  # noqa: F401
    except ImportError:
        return []
    from grader.api import get_assignment
    from grader.assignment import CheckFailed
    from grader.engine import describe_student_error
    from grader.runner.remote import StudentCodeError
    from tests.assignments.a4_bugs.catalogue import BUGS
    from tests.assignments.a4_bugs.inprocess import Context, Student

    checks = [c for c in get_assignment("a4").checks if c.task == "4.1"]
    found = []
    for name, (source, _, _) in sorted(BUGS.items()):
        with tempfile.TemporaryDirectory(prefix="dlgrade-hintless-") as folder:
            path = Path(folder) / "lenet.py"
            path.write_text(source)
            student = Student(path)
            for check in checks:
                try:
                    check.func(Context(check, seed, student))
                    continue
                except CheckFailed as failure:
                    message, hint = failure.message, failure.hint
                except StudentCodeError as exc:
                    _, message, hint = describe_student_error(exc)
                if not hint.strip():
                    found.append(Hintless("a4", name, check.id, message.splitlines()[0][:160]))
    return found


def sweep(seed: int = 1) -> list[Hintless]:
    return sweep_numpy(seed) + sweep_a4(seed)


def documented(path: Path) -> set[tuple[str, str, str]]:
    """The (assignment, bug, check) rows of docs/hintless-mistakes.md's first table (still without a hint)."""
    rows = set()
    for line in path.read_text(encoding="utf-8").split("\n## Given")[0].splitlines():
        cells = [c.strip().strip("`") for c in line.strip().strip("|").split("|")]
        if len(cells) >= 4 and cells[0] in ("a1", "a2", "a3", "a4"):
            rows.add((cells[0], cells[1], cells[2]))
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    for row in sweep(args.seed):
        print(f"| {row.assignment} | {row.bug} | `{row.check}` | {row.message.replace('|', '/')} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())

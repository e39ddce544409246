"""Record the reference's answers: grade the staff's submissions with public seeds, keep every call.

Run as ``DLGRADE_ORACLE=record python -m grader.packaging.record ROOT OUT --seeds 1 2 3 --assignment a1``
(``grader.packaging.build`` does this in a child process, so the staff's own
process never imports a recording oracle). For each assignment whose checks
reach the reference through ``grader.oracle``, and each public seed, it grades
the reference, the starter template and every example in ``examples/<id>/``:
each check's reference calls go on its tape, so the student build can replay
the calls that correct code, the template and known mistakes make.

A check is *public* when it could be recorded for the reference submission
under every seed; one that gives the reference an object the tape cannot hold
(``Unrecorded``) is *hidden*. ``OUT/record.json`` lists both, and the names of
the reference modules' classes and functions (so the student build can offer
the same names, subclassable classes included).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path


def submissions(root: Path, assignment: str) -> list[Path]:
    """The staff's submissions that are recorded: reference, template, examples (a course's own assignment:
    its reference, its template and its declared mistakes, all found in its package)."""
    from grader.assignment import get_assignment

    a = get_assignment(assignment, load_checks=False)
    if not a.builtin:
        found = [a.reference_folder, a.template_folder,
                 *(a.package_folder / m.folder for m in a.mistakes if a.package_folder is not None)]
        return [p for p in found if p is not None and p.is_dir()]
    found = [root / "reference" / assignment, root / "student_template" / assignment]
    examples = root / "examples" / assignment
    if examples.is_dir():
        found += sorted(p for p in examples.iterdir() if p.is_dir())
    return [p for p in found if p.is_dir()]


def uses_oracle(root: Path, assignment: str) -> bool:
    """Whether the assignment's checks reach the reference (else nothing needs recording): through a module
    stand-in, a recorded computation, or a reference class the parent runs (recorded to learn what is hidden)."""
    from grader.assignment import get_assignment

    a = get_assignment(assignment, load_checks=False)
    folder = root / "grader" / "assignments" / assignment if a.builtin else a.package_folder
    if folder is None:
        return False
    files = folder.glob("*.py") if a.builtin else folder.rglob("*.py")
    calls = ("oracle.load(", "oracle.computed(", "oracle.reference_class(", "oracle.real(")
    return any(call in p.read_text(encoding="utf-8") for p in files for call in calls)


def record(root: Path, out: Path, seeds: list[int], assignments: list[str]) -> dict:
    """Grade, record, save the tapes under ``out``; return the summary written to ``out/record.json``."""
    if os.environ.get("DLGRADE_ORACLE") != "record":
        raise RuntimeError("run with DLGRADE_ORACLE=record")
    from grader import api
    from grader.packaging import proxy

    summary: dict = {"seeds": seeds, "hidden": {}, "recorded": {}, "modules": {}}
    for assignment in assignments:
        hidden: dict[str, str] = {}
        graded = []
        # One worker per assignment, preloaded as that assignment needs (a4's imports torch).
        zygote = api.Zygote(preload=api.get_assignment(assignment).preload)
        try:
            for seed in seeds:
                for folder in submissions(root, assignment):
                    report = api.check(assignment, folder, seed=seed, zygote=zygote)
                    name = folder.relative_to(root) if folder.is_relative_to(root) else folder.name
                    graded.append(f"{name} seed {seed}: {report.score:g}/{report.max_score:g}")
                    if folder == submissions(root, assignment)[0]:  # the reference
                        for check in report.checks:
                            if check.status == "hidden":
                                hidden[check.id] = "it gives the reference objects the student build cannot record"
                            elif check.status != "passed":
                                raise RuntimeError(f"the reference fails {assignment}/{check.id} under seed {seed}: "
                                                   f"{check.message}")
        finally:
            zygote.close()
        from grader import oracle

        for owner, check_id in sorted(oracle.PARENT_ONLY):
            if owner == assignment:
                hidden.setdefault(check_id, "it runs the reference on the student's own values in the grader")
        summary["hidden"][assignment] = hidden
        summary["recorded"][assignment] = graded
    summary["tapes"] = len(proxy.recorder().save(out))
    summary["modules"] = dict(proxy.LOADED)
    (out / "record.json").write_text(json.dumps(summary, indent=1, sort_keys=True))
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--seeds", type=int, nargs="+", required=True)
    parser.add_argument("--assignment", action="append", default=[])
    args = parser.parse_args(argv)
    sys.path.insert(0, str(args.root))
    record(args.root, args.out, args.seeds, args.assignment)
    return 0


if __name__ == "__main__":
    sys.exit(main())

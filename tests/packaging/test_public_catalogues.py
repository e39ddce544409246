"""a2's and a4's catalogues in the student build: every catalogued single bug the staff build catches in a check
the student build grades is caught by the student build too, with the same hint, under each public seed (slow).

The same measure as test_public.py's for a1 and a3, for the other two catalogues: a2's
(tests/assignments/a2_bugs, each bug graded on the checks it must fail) and a4's structure checks
(tests/assignments/a4_bugs, task 4.1). Both builds grade in the sandbox. The student build grades every
submission in one process of its own virtual environment (one zygote, torch preloaded for a4), through its
public ``grader.api.check``, the call ``dlgrade check`` makes; one ``dlgrade check`` per bug and seed would
spend most of the time starting interpreters.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from grader import api
from grader.api import get_assignment
from tests.conftest import ROOT

# Runs in the student venv: grades each job with the wheel's dlgrade and writes the reports as JSON.
STUDENT_SCRIPT = '''
import json, sys
import grader
from grader import api

jobs = json.loads(open(sys.argv[1]).read())
assignment = jobs[0]["assignment"]
reports = []
with api.Zygote(preload=api.get_assignment(assignment).preload) as zygote:
    for job in jobs:
        reports.append(api.check(assignment, job["folder"], tasks=job["tasks"], seed=job["seed"],
                                 zygote=zygote).to_dict())
open(sys.argv[2], "w").write(json.dumps({"grader": grader.__file__, "reports": reports}))
'''


def _student_reports(env, jobs: list[dict], tmp: Path) -> list[dict]:
    """Each job graded by the student build (its own interpreter, the wheel's dlgrade only)."""
    (tmp / "jobs.json").write_text(json.dumps(jobs))
    (tmp / "grade.py").write_text(STUDENT_SCRIPT)
    scrubbed = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "DLGRADE_ORACLE")}
    done = subprocess.run([str(env.venv / "bin" / "python"), str(tmp / "grade.py"), str(tmp / "jobs.json"),
                           str(tmp / "reports.json")], cwd=env.cwd, env=scrubbed, capture_output=True, text=True,
                          timeout=1500)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads((tmp / "reports.json").read_text())
    assert not Path(result["grader"]).resolve().is_relative_to(ROOT), result["grader"]  # the wheel, not the tree
    return result["reports"]


def _staff_reports(assignment: str, jobs: list[dict]) -> list[dict]:
    with api.Zygote(preload=get_assignment(assignment).preload) as zygote:
        return [api.check(assignment, job["folder"], tasks=job["tasks"], seed=job["seed"], zygote=zygote).to_dict()
                for job in jobs]


def _disagreements(jobs: list[dict], staff: list[dict], student: list[dict]) -> tuple[list, int, int, list]:
    """(what the student build misses or says differently, gradings compared, checks compared, hidden ones).

    A check compared is one the staff build fails (caught) and the student build grades (not hidden); the
    student build must fail it too, with the same hint. Every bug must be caught by the staff build under
    some public seed (else the comparison would say nothing about it).
    """
    problems, pairs, checks, hidden = [], 0, 0, []
    caught_by_staff: dict[str, int] = {}
    for job, ours, theirs in zip(jobs, staff, student):
        by_id = {c["id"]: c for c in theirs["checks"]}
        caught = [c for c in ours["checks"] if c["status"] not in ("passed", "skipped", "hidden")]
        caught_by_staff[job["bug"]] = caught_by_staff.get(job["bug"], 0) + len(caught)
        pairs += 1
        for check in caught:
            other = by_id[check["id"]]
            if other["status"] == "hidden":
                hidden.append((job["bug"], job["seed"], check["id"]))
                continue
            checks += 1
            if other["status"] in ("passed", "skipped"):
                problems.append((job["bug"], job["seed"], check["id"], "not caught", other["status"],
                                 check["message"][:120]))
            elif other["hint"] != check["hint"]:
                problems.append((job["bug"], job["seed"], check["id"], "hint", check["hint"][:120],
                                 other["hint"][:120]))
    problems += [(bug, "any seed", "", "the staff build catches nothing")
                 for bug, n in caught_by_staff.items() if not n]
    return problems, pairs, checks, hidden


def _jobs(tmp: Path, assignment: str, bugs: dict[str, tuple[dict[str, str], list[str]]], seeds) -> list[dict]:
    jobs = []
    for index, (name, (files, tasks)) in enumerate(sorted(bugs.items())):
        folder = tmp / f"bug{index}"
        folder.mkdir()
        for file, text in files.items():
            (folder / file).write_text(text)
        jobs += [{"assignment": assignment, "bug": name, "folder": str(folder), "tasks": tasks, "seed": seed}
                 for seed in seeds]
    return jobs


def _compare(env, assignment: str, bugs, tmp: Path) -> None:
    jobs = _jobs(tmp, assignment, bugs, env.pack.manifest["seeds"])
    student = _student_reports(env, jobs, tmp)
    staff = _staff_reports(assignment, jobs)
    problems, pairs, checks, hidden = _disagreements(jobs, staff, student)
    print(f"{assignment}: {len(bugs)} bugs x {len(env.pack.manifest['seeds'])} seeds = {pairs} gradings, "
          f"{checks} failed checks compared, {len(hidden)} hidden")
    assert problems == [], problems
    assert hidden == [], hidden  # a2 and a4's task 4.1 are public: a path the recording missed would show here


@pytest.mark.slow
def test_every_a2_bug_the_staff_build_catches_is_caught_by_the_student_build(student_a2, tmp_path):
    from tests.assignments.a2_bugs.bugs import ANSWERS, BUGS

    bugs = {name: ({"autograd.py": bug.source(), "answers.toml": ANSWERS}, sorted(bug.fails))
            for name, bug in BUGS.items()}
    _compare(student_a2, "a2", bugs, tmp_path)


@pytest.mark.slow
def test_every_a4_structure_bug_the_staff_build_catches_is_caught_by_the_student_build(student_a4, tmp_path):
    pytest.importorskip("torch")
    from tests.assignments.a4_bugs.catalogue import BUGS

    bugs = {name: ({"lenet.py": source}, ["4.1"]) for name, (source, _, _) in BUGS.items()}
    _compare(student_a4, "a4", bugs, tmp_path)


def test_the_comparison_finds_a_missed_bug_a_changed_hint_and_a_hidden_check():
    """Fast: the verdicts above can fail (reports written here, no build)."""
    def report(*checks):
        return {"checks": [{"id": i, "status": s, "hint": h, "message": "m"} for i, s, h in checks]}

    jobs = [{"bug": "b", "seed": 1}, {"bug": "c", "seed": 1}]
    staff = [report(("x", "failed", "H"), ("y", "failed", "H"), ("z", "failed", "H")), report(("x", "passed", ""))]
    student = [report(("x", "passed", ""), ("y", "failed", "other"), ("z", "hidden", "")),
               report(("x", "passed", ""))]
    problems, pairs, checks, hidden = _disagreements(jobs, staff, student)
    assert [p[2:4] for p in problems] == [("x", "not caught"), ("y", "hint"), ("", "the staff build catches nothing")]
    assert (pairs, checks, hidden) == (2, 2, [("b", 1, "z")])
    assert _disagreements(jobs[:1], staff[:1], staff[:1])[0] == []

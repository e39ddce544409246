"""The student wheel: nothing of the answer key inside, installable alone, same verdicts on public checks."""

from __future__ import annotations

import tomllib
import zipfile
from pathlib import Path

import pytest

from grader import api
from grader.packaging.inspect_wheel import inspect_wheel

ROOT = Path(__file__).resolve().parents[2]
NUMPY_ASSIGNMENTS = ("a1", "a2", "a3")


def submissions(assignment: str) -> list[Path]:
    examples = sorted(p for p in (ROOT / "examples" / assignment).iterdir() if p.is_dir())
    return [ROOT / "reference" / assignment, ROOT / "student_template" / assignment, *examples]


def assert_same_verdicts(env, assignment: str, path: Path, seed: int, zygote, tasks: tuple[str, ...] = ()) -> dict:
    """The student build's verdict on every check it grades equals the staff build's; returns the report."""
    student = env.check(assignment, path, seed, tasks)
    staff = api.check(assignment, path, seed=seed, zygote=zygote, tasks=list(tasks) or None).to_dict()
    hidden = set(env.pack.manifest["hidden"].get(assignment, {}))
    for mine, theirs in zip(student["checks"], staff["checks"], strict=True):
        assert mine["id"] == theirs["id"]
        if mine["id"] in hidden:
            assert mine["status"] in ("hidden", "skipped"), mine  # (skipped: not selected with --task)
            continue
        if mine["status"] == "hidden":  # a call the tapes cannot answer: left to the staff, never a verdict
            continue
        assert (mine["status"], mine["score"]) == (theirs["status"], theirs["score"]), (path, mine, theirs)
    return student


def _wheel_with(members: dict[str, str], tmp_path: Path) -> Path:
    path = tmp_path / "fake.whl"
    with zipfile.ZipFile(path, "w") as archive:
        for name, text in members.items():
            archive.writestr(name, text)
    return path


def test_inspection_catches_reference_files_bodies_and_keys(tmp_path):
    """The inspection fails on a wheel with the reference, a copied function body or an answer key."""
    body = (ROOT / "reference" / "a3" / "conv.py").read_text()
    cases = {
        "reference/a1/mlp.py": "x = 1\n",
        "grader/copied.py": body,
        "grader/key.py": 'HINT = "dX = G @ W.T"\n',
        "grader/count.py": "MEMORY = '25 * C_2 / C_in - 100'\n",  # a value of reference/a3/answers.toml
    }
    for name, text in cases.items():
        findings = inspect_wheel(_wheel_with({name: text}, tmp_path), ROOT)
        assert findings.leaks, name
    clean = inspect_wheel(_wheel_with({"grader/ok.py": 'HINT = "write A.T @ G"\n'}, tmp_path), ROOT)
    assert clean.leaks == []


def test_small_wheel_has_no_reference_and_grades_like_the_staff_build(student_a3, zygote):
    """A student build of a3: inspected, installed alone, and graded the same as the staff build."""
    env = student_a3
    with zipfile.ZipFile(env.pack.wheel) as archive:
        names = archive.namelist()
    assert not [n for n in names if n.startswith("reference/") or n.endswith("answers.toml")
                and not n.startswith("student_template/")]  # the starter files' answers.toml are blank
    blank = tomllib.loads(zipfile.ZipFile(env.pack.wheel).read("student_template/a2/answers.toml").decode())
    assert all(value == "" for table in blank.values() for value in table.values())
    assert any(n.startswith("grader/packaging/expectations/a3/1/") for n in names)
    assert inspect_wheel(env.pack.wheel, ROOT).leaks == []
    questions = zipfile.ZipFile(env.pack.wheel).read("grader/assignments/a3/questions.py").decode()
    assert "MLP_COUNT = None" in questions and "def _block" not in questions
    assert env.python("import reference").returncode != 0
    assert "+student" in env.run("--version").stdout
    report = assert_same_verdicts(env, "a3", ROOT / "reference" / "a3", 1, zygote)
    public = [c for c in report["checks"] if c["status"] != "hidden"]
    assert public and all(c["status"] == "passed" for c in public)
    assert report["max_score"] == sum(c["max_score"] for c in public)


@pytest.mark.slow
def test_small_build_grades_template_and_examples_like_the_staff_build(student_a3, zygote):
    for path in submissions("a3")[1:]:
        assert_same_verdicts(student_a3, "a3", path, 1, zygote)


def test_student_build_explains_seeds_and_hidden_checks(student_a3):
    env = student_a3
    wrong_seed = env.run("check", "a3", str(ROOT / "reference" / "a3"), "--seed", "5")
    assert wrong_seed.returncode == 2
    assert "recorded with seeds 1 only" in wrong_seed.stderr and "Traceback" not in wrong_seed.stderr
    default = env.run("check", "a3", str(ROOT / "reference" / "a3"))
    assert default.returncode == 0 and "seed 1:" in default.stdout
    assert "hidden in this student build: graded by the staff's build" in default.stdout.replace("\n", " ")
    show = env.run("show", "a3")
    assert show.returncode == 0 and "hidden: graded by the staff's build" in show.stdout.replace("\n", " ")
    refused = env.run("build-student-pack", "-o", str(env.cwd / "again"))
    assert refused.returncode == 2 and "staff" in refused.stderr
    assert "Score: " in default.stdout and "more points are graded by the staff" in default.stdout
    assert "all checks passed" not in default.stdout


def test_the_docs_travel_with_the_student_build(student_a3):
    """The handouts and the answer guide are in the wheel: `dlgrade docs` prints them from the install alone."""
    env = student_a3
    names = zipfile.ZipFile(env.pack.wheel).namelist()
    assert {"grader/docs_data/handouts-a3.md", "grader/docs_data/writing-answers.md"} <= set(names)
    for page in ("a1", "a2", "a3", "a4", "answers", "handouts"):
        done = env.run("docs", page)
        assert done.returncode == 0 and done.stdout.startswith("#"), (page, done.stderr)
    other = env.run("show", "a2")  # a build for a3 only: a2 is named as missing, no crash
    assert other.returncode == 2 and "'a2' is not in this build" in other.stderr, other.stderr


@pytest.mark.slow
def test_full_student_build_self_checks_every_submission(student_full, zygote):
    """Every assignment, every public seed: reference, template and examples grade as in the staff build."""
    env = student_full
    assert inspect_wheel(env.pack.wheel, ROOT).leaks == []
    for assignment in NUMPY_ASSIGNMENTS:
        for seed in env.pack.manifest["seeds"]:
            for path in submissions(assignment):
                assert_same_verdicts(env, assignment, path, seed, zygote)
    hidden = env.pack.manifest["hidden"]
    assert not hidden["a2"], "a2's checks are all public"


@pytest.mark.slow
def test_full_student_build_grades_a4_like_the_staff_build(student_full):
    """a4's structure checks replay the reference LeNet's recorded outputs on the parent's weights and inputs
    (oracle.computed): the student build grades them as the staff build does (task 4.1; 4.2 trains for
    minutes and stays with the staff)."""
    pytest.importorskip("torch")
    for path in submissions("a4"):
        report = assert_same_verdicts(student_full, "a4", path, 1, None, tasks=("4.1",))
        if path == ROOT / "reference" / "a4":
            assert report["hidden_points"] == 0 and all(c["status"] == "passed" for c in report["checks"]
                                                        if c["status"] != "skipped"), report["checks"]

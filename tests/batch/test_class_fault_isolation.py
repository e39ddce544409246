"""One student's hostile input never stops or changes another's grade in `dlgrade grade` (issue 21, point 1).

Each hostile student below carries one input of a different kind: a lone surrogate in an exception message, one
printed, a folder name and a file name that are not UTF-8 (what `unzip` makes of a Windows zip), a zip that is
not a zip, and a crash of the grader's own code for one student (injected while hashing, and while saving).
Every other student must get exactly what `dlgrade check` gives them alone; the hostile ones are graded where
their input is only text to escape, and "not graded: <one sentence>" where the grader failed them; a rerun
grades the rest without losing or doubling a grade.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import re
import shutil
import sqlite3
import subprocess
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from grader import api
from grader.batch import api as batch_api
from grader.batch import worker
from grader.batch.api import export_grades, grade_class
from grader.batch.gradebook import Gradebook
from grader.batch.repositories import read_date
from grader.cli import main
from grader.errors import SubmissionError
from tests.batch.conftest import ROOT, TASKS
from tests.conftest import REFERENCE_A1, with_prelude

SEED, SCALE = 7, 0.3
BUGGY = (ROOT / "examples" / "a1" / "dw_divided_by_in_features" / "mlp.py").read_text()
LONE = "\ud800"
JORG = os.fsdecode(b"j\xf6rg")  # a Latin-1 folder name, as Python holds it (surrogateescape)
CRASH_FILE = re.compile(r"the details are in (\S+\.txt)")


def _folder(root: Path, name: str, source: str) -> Path:
    path = root / name
    path.mkdir()
    (path / "mlp.py").write_text(source)
    return path


def hostile_class(root: Path) -> dict[str, Path]:
    """{student id the gradebook will hold: path} for a class with one hostile input per hostile student."""
    root.mkdir()
    made = {"ann": _folder(root, "ann", REFERENCE_A1), "bob": _folder(root, "bob", BUGGY)}
    with zipfile.ZipFile(root / "cat.zip", "w") as z:
        z.writestr("cat/mlp.py", REFERENCE_A1)
    made["cat"] = root / "cat.zip"
    # An exception message and printed output holding a lone surrogate: only text to escape, graded as usual.
    made["raiser"] = _folder(root, "raiser", with_prelude("raise ValueError('bad \\ud800 here')\n"))
    made["printer"] = _folder(root, "printer", with_prelude(
        "import sys\nsys.stdout.reconfigure(errors='surrogatepass')\n"
        "print('out \\ud800 put')\nsys.stdout.flush()\nsys.stdout.buffer.write(b'raw \\xff\\xfe\\n')\n"))
    made["j\\xf6rg"] = _folder(root, JORG, REFERENCE_A1)  # its id: the name, the byte written out visibly
    made["latin"] = _folder(root, "latin", REFERENCE_A1)
    with open(os.fsencode(made["latin"]) + b"/caf\xe9 notes.py", "wb") as f:  # a file name that is not UTF-8
        f.write(b"notes = 1\n")
    (root / "broken.zip").write_bytes(b"PK\x03\x04 not a zip at all")
    made["broken"] = root / "broken.zip"
    made["crash_hash"] = _folder(root, "crash_hash", REFERENCE_A1)
    made["crash_save"] = _folder(root, "crash_save", REFERENCE_A1)
    made["dup"] = _folder(root, "dup", REFERENCE_A1)  # and dup.zip: two submissions, which one is the staff's call
    (root / "dup.zip").write_bytes((root / "cat.zip").read_bytes())
    return made


def alone(zygote, path: Path):
    """What `dlgrade check` gives this submission alone: its report, or None where it exits 2."""
    try:
        return api.check("a1", path, tasks=TASKS, seed=SEED, zygote=zygote, timeout_scale=SCALE)
    except SubmissionError:
        return None


def outcome(report) -> list[tuple[str, str, float]]:
    return [(c.id, c.status, c.score) for c in report.checks]


def _no_lone_surrogate(value) -> None:
    json.dumps(value, ensure_ascii=False).encode("utf-8")  # raises on a lone surrogate anywhere inside


@pytest.fixture
def injected_crashes(monkeypatch):
    """A bug of the grader's own for one student each: while hashing crash_hash, while saving crash_save."""
    real_hash, real_record = batch_api.submission_hash, Gradebook.record

    def hash_or_crash(path):
        if Path(path).name == "crash_hash":
            raise RuntimeError("injected: hashing crashed")
        return real_hash(path)

    def record_or_crash(self, run_id, student, *args, **kwargs):
        if student == "crash_save":
            raise KeyError("injected: saving crashed")
        return real_record(self, run_id, student, *args, **kwargs)

    monkeypatch.setattr(batch_api, "submission_hash", hash_or_crash)
    monkeypatch.setattr(Gradebook, "record", record_or_crash)


def test_each_hostile_student_is_theirs_alone_and_a_rerun_completes_the_class(tmp_path, zygote, injected_crashes,
                                                                              monkeypatch):
    made = hostile_class(tmp_path / "class")
    book = tmp_path / "gb.sqlite"
    crash_files: list[str] = []
    try:
        run = CliRunner().invoke(main, ["grade", "a1", str(tmp_path / "class"), "--gradebook", str(book), "--jobs",
                                        "2", "--seed", str(SEED), "--timeout-scale", str(SCALE),
                                        *[arg for t in TASKS for arg in ("--task", t)]])
        crash_files = CRASH_FILE.findall(run.output)
        # Not graded is exit 1 (as any student's failure), never 3; the summary names each, in one sentence.
        assert run.exit_code == 1, run.output
        assert "8 graded, 0 already graded, 3 not graded" in run.output, run.output
        lines = {line.split(":", 1)[0]: line for line in run.output.splitlines() if line.startswith("not graded ")}
        assert set(lines) == {"not graded crash_hash", "not graded crash_save", "not graded dup"}, run.output
        assert lines["not graded dup"] == "not graded dup: two submissions for student dup: dup and dup.zip; keep " \
                                          "one and rerun"
        assert "the grader crashed while reading the submission's files (RuntimeError: injected: hashing crashed)" \
            in lines["not graded crash_hash"]
        assert "while saving the grade (KeyError" in lines["not graded crash_save"]
        assert len(crash_files) == 2  # each crash's traceback saved for the staff, as for a crash of the command
        for path, gist in zip(sorted(crash_files, key=lambda p: p not in lines["not graded crash_hash"]),
                              ("injected: hashing crashed", "injected: saving crashed")):
            assert "Traceback" in Path(path).read_text() and gist in Path(path).read_text()

        with Gradebook(book, create=False) as gb:
            latest = {g.student: g.report for g in gb.latest("a1")}
            not_graded = gb.not_graded("a1")
        assert set(latest) == set(made) - {"crash_hash", "crash_save", "dup"}
        assert set(not_graded) == {"crash_hash", "crash_save", "dup"}
        assert not_graded["crash_hash"]["failure"] in lines["not graded crash_hash"]
        for student, path in made.items():  # every other student exactly as `dlgrade check` grades them alone
            if student in not_graded:
                continue
            single, batch = alone(zygote, path), latest[student]
            _no_lone_surrogate(batch.to_dict())
            if single is None:  # check refuses it (exit 2): in a class, a zero with the reason
                assert student == "broken" and batch.score == 0
                assert all("could not be read" in c.message for c in batch.checks if c.status != "skipped")
                continue
            assert outcome(batch) == outcome(single), student
        full = latest["ann"].score
        assert latest["j\\xf6rg"].score == latest["latin"].score == latest["printer"].score == full > 0
        assert latest["raiser"].score == 0 and latest["bob"].score < full
        raised = [c.message for c in latest["raiser"].checks if c.status == "error"]
        assert raised and all("bad \\ud800 here" in m for m in raised)  # kept, escaped visibly

        out = tmp_path / "grades.csv"
        export_grades(book, "csv", out)
        rows = {r["student"]: r for r in csv.DictReader(out.open(encoding="utf-8"))}
        assert {s for s, r in rows.items() if r["status"] == "not graded"} == {"crash_hash", "crash_save", "dup"}
        assert rows["crash_hash"]["total"] == ""  # no grade, not a zero

        # The rerun (the bug fixed, dup.zip removed): what is graded is skipped, the rest graded, nothing doubled.
        monkeypatch.undo()
        (tmp_path / "class" / "dup.zip").unlink()
        again = grade_class("a1", tmp_path / "class", gradebook=book, jobs=2, tasks=TASKS, timeout_scale=SCALE)
        assert set(again.skipped) == set(latest) and set(again.graded) == {"crash_hash", "crash_save", "dup"}
        assert not again.errors and again.seed == SEED
        for student in again.graded:
            assert outcome(again.graded[student]) == outcome(latest["ann"])
        db = sqlite3.connect(book)
        students = [s for (s,) in db.execute("SELECT student FROM submissions")]
        assert sorted(students) == sorted(made)  # each exactly once
        assert db.execute("SELECT COUNT(*) FROM not_graded").fetchone()[0] == 3  # the history of the first run
        db.close()
        export_grades(book, "csv", out)
        assert {r["status"] for r in csv.DictReader(out.open(encoding="utf-8"))} == {"graded"}
    finally:
        for path in crash_files:
            Path(path).unlink(missing_ok=True)


def test_a_crash_in_the_worker_is_one_sentence_with_its_traceback_saved(monkeypatch):
    def crash(*args, **kwargs):
        raise ZeroDivisionError(f"injected {LONE}")

    monkeypatch.setattr(worker.api, "check", crash)
    monkeypatch.setattr(worker, "_zygote", lambda assignment, address=None: None)
    out = worker.grade_one({"assignment": "a1", "student": "s1", "path": "/nowhere", "seed": 1})
    assert set(out) == {"student", "pid", "internal_error"} and out["student"] == "s1"
    why = out["internal_error"]
    _no_lone_surrogate(out)
    assert why.startswith("the grader crashed while grading this submission (ZeroDivisionError: injected \\ud800)")
    saved = CRASH_FILE.search(why)
    assert saved, why
    try:
        assert "ZeroDivisionError" in Path(saved.group(1)).read_text()
    finally:
        Path(saved.group(1)).unlink()
    missing = worker.grade_one({"student": "s2"})  # even a malformed job is this student's, never the pool's
    assert "KeyError" in missing["internal_error"] and missing["student"] == "s2"
    Path(CRASH_FILE.search(missing["internal_error"]).group(1)).unlink()


# --- a staff regrade of repositories (`dlgrade grade a1 CLONES --deadline ...`) ---------------------------------

DEADLINE = dt.datetime(2026, 11, 2, 12, tzinfo=dt.UTC)
BEFORE = str(int(dt.datetime(2026, 11, 2, 10, tzinfo=dt.UTC).timestamp())).encode()


def _git(repo: Path, *args: str, data: bytes | None = None) -> bytes:
    env = {**os.environ, "GIT_CONFIG_GLOBAL": "/dev/null", "GIT_CONFIG_NOSYSTEM": "1"}
    return subprocess.run(["git", *args], cwd=repo, input=data, capture_output=True, check=True,
                          env=env).stdout.strip()


def _tree(repo: Path, files: dict[bytes, str]) -> bytes:
    listing = b"".join(b"100644 blob " + _git(repo, "hash-object", "-w", "--stdin", data=text.encode()) + b"\t"
                       + name + b"\n" for name, text in files.items())
    return _git(repo, "mktree", data=listing)


def _commit(repo: Path, tree: bytes, author: bytes, committer: bytes, parent: bytes | None = None) -> bytes:
    """A commit object written as given (``author``/``committer``: what follows the email, maybe nothing)."""
    raw = (b"tree " + tree + b"\n" + (b"parent " + parent + b"\n" if parent else b"")
           + b"author s <s@x> " + author + b"\ncommitter s <s@x> " + committer + b"\n\nsubmitted\n")
    sha = _git(repo, "hash-object", "-t", "commit", "-w", "--literally", "--stdin", data=raw)
    _git(repo, "update-ref", "refs/heads/main", sha.decode())
    return sha


def hostile_repositories(root: Path) -> dict[str, dict]:
    """Clones named like GitHub Classroom's, each with one oddity of git metadata; {student: facts}."""
    facts = {}

    def repo(name: bytes) -> Path:
        path = Path(os.fsdecode(os.fsencode(root) + b"/a1-" + name))
        path.mkdir(parents=True)
        _git(path, "init", "-q", "-b", "main")
        return path

    good = {b"mlp.py": REFERENCE_A1}
    path = repo(b"good")
    _commit(path, _tree(path, good), BEFORE + b" +0000", BEFORE + b" +0000")
    facts["good"] = {"source": REFERENCE_A1}
    path = repo(b"future")  # graded before the deadline, then a commit dated in the year 5138: after it
    first = _commit(path, _tree(path, good), BEFORE + b" +0000", BEFORE + b" +0000")
    _commit(path, _tree(path, {b"mlp.py": BUGGY}), b"99999999999 +0000", b"99999999999 +0000", first)
    facts["future"] = {"source": REFERENCE_A1, "commit": first.decode()}
    path = repo(b"farauthor")  # an author date past the year 9999: recorded empty, flagged
    _commit(path, _tree(path, good), b"1000000000000000 +0000", BEFORE + b" +0000")
    facts["farauthor"] = {"source": REFERENCE_A1}
    path = repo(b"zone")  # a time zone of +99:99: the instant is kept, shown in UTC
    _commit(path, _tree(path, {b"mlp.py": BUGGY}), BEFORE + b" +9999", BEFORE + b" -9999")
    facts["zone"] = {"source": BUGGY}
    path = repo(b"nodate")  # no dates at all: git takes it as 1970, before any deadline; a person must look
    _commit(path, _tree(path, good), b"", b"")
    path = repo(b"latin")  # a tree holding a Latin-1 file name
    _commit(path, _tree(path, {**good, b"caf\xe9 notes.txt": "notes\n"}), BEFORE + b" +0000", BEFORE + b" +0000")
    facts["latin"] = {"source": REFERENCE_A1}
    path = repo(b"j\xf6rg")  # a clone's folder name that is not UTF-8
    _commit(path, _tree(path, good), BEFORE + b" +0100", BEFORE + b" +0100")
    facts["j\\xf6rg"] = {"source": REFERENCE_A1}
    return facts


def test_odd_git_metadata_is_read_tolerantly_and_stops_no_other_repository(tmp_path, zygote):
    facts = hostile_repositories(tmp_path / "clones")
    book = tmp_path / "gb.sqlite"

    def grade():
        return grade_class("a1", tmp_path / "clones", gradebook=book, jobs=2, tasks=TASKS, seed=SEED,
                           timeout_scale=SCALE, deadline=DEADLINE)

    result = grade()
    assert set(result.errors) == {"nodate"}
    assert "the commit date of" in result.errors["nodate"] and "cannot be read (it has no date)" \
        in result.errors["nodate"]
    assert set(result.graded) == set(facts)
    for student, fact in facts.items():  # each graded exactly as `dlgrade check` grades its tree alone
        folder = tmp_path / "alone" / student
        folder.mkdir(parents=True)
        (folder / "mlp.py").write_text(fact["source"])
        assert outcome(result.graded[student]) == outcome(alone(zygote, folder)), student
        _no_lone_surrogate(result.graded[student].to_dict())
    assert result.graded["good"].score == result.graded["latin"].score == result.graded["future"].score > 0
    assert result.graded["zone"].score < result.graded["good"].score

    records = result.repositories
    assert records["future"]["commit"] == facts["future"]["commit"]
    assert records["farauthor"]["authored"] == "" and records["farauthor"]["committed"].startswith("2026-11-02T10")
    assert records["zone"]["committed"] == "2026-11-02T10:00:00+00:00"
    assert records["j\\xf6rg"]["committed"] == "2026-11-02T11:00:00+01:00"
    assert "a1-j\\xf6rg" in records["j\\xf6rg"]["source"]
    assert records["nodate"]["kind"] == "unreadable-commit-date"
    out = tmp_path / "grades.csv"
    export_grades(book, "csv", out)
    rows = {r["student"]: r for r in csv.DictReader(out.open(encoding="utf-8"))}
    assert rows["nodate"]["status"] == "not graded" and rows["nodate"]["flags"] == "unreadable-commit-date"
    assert rows["farauthor"]["flags"].split(";")[0] == "unreadable-author-date"  # then the missing CI files
    assert rows["farauthor"]["status"] == rows["j\\xf6rg"]["status"] == "graded"

    again = grade()  # a rerun: every grade kept once, the one not graded tried again
    assert set(again.skipped) == set(facts) and not again.graded and set(again.errors) == {"nodate"}
    db = sqlite3.connect(book)
    assert sorted(s for (s,) in db.execute("SELECT student FROM submissions")) == sorted(facts)
    db.close()


@pytest.mark.parametrize("line, expected", [
    ("s <s@x> 1793613600 +0100", ("2026-11-02T11:00:00+01:00", 1793613600, "")),
    ("s <s@x> 1793613600 -9999", ("2026-11-02T10:00:00+00:00", 1793613600, "")),  # zone out of range: UTC
    ("s <s@x> 1793613600", ("2026-11-02T10:00:00+00:00", 1793613600, "")),
    ("s <s@x> 99999999999 +0000", ("5138-11-16T09:46:39+00:00", 99999999999, "")),
    ("s <s@x> 1000000000000000 +0000", ("", None, "past the year 9999")),
    ("s <s@x> 99999999999999999999999999999999999999999999 +0000", ("", None, "past the year 9999")),
    ("s <s@x>", ("", None, "it has no date")),
    ("s <s@x> -5 +0000", ("", None, "is not a number of seconds")),
    ("s <s@x> ١٢٣ +0000", ("", None, "is not a number of seconds")),  # digits, but not ASCII ones
    (None, ("", None, "no such line")),
])
def test_read_date_never_raises(line, expected):
    iso, seconds, why = read_date(line)
    assert (iso, seconds) == expected[:2] and expected[2] in why


def test_a_corrupt_file_in_the_class_zip_is_its_students_alone(tmp_path):
    archive = tmp_path / "download.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_STORED) as z:
        z.writestr("ann/mlp.py", REFERENCE_A1)
        z.writestr("bob/mlp.py", REFERENCE_A1.replace("import", "import ", 1) + "# bob's\n")
        z.writestr("cat.zip", b"\x00" * 64)  # the whole of cat's submission, and it will be corrupt too
    data = bytearray(archive.read_bytes())
    for marker in (b"# bob's", b"\x00" * 64):  # flip a stored byte: the member's CRC no longer matches
        at = data.index(marker)
        data[at] ^= 0xFF
    archive.write_bytes(bytes(data))
    result = grade_class("a1", archive, gradebook=tmp_path / "gb.sqlite", tasks=TASKS, seed=SEED,
                         timeout_scale=SCALE)
    assert set(result.graded) == {"ann"} and result.graded["ann"].score > 0
    assert set(result.errors) == {"bob", "cat"}
    assert result.errors["bob"].startswith("bob/mlp.py in download.zip cannot be extracted (Bad CRC-32")
    with Gradebook(tmp_path / "gb.sqlite", create=False) as gb:
        assert set(gb.not_graded("a1")) == {"bob", "cat"}


@pytest.mark.parametrize("layout", ["canvas", "moodle"])
def test_a_file_that_cannot_be_copied_while_regrouping_is_its_students_alone(tmp_path, monkeypatch, layout):
    """Canvas and Moodle files are copied into one folder per student: one unreadable file stops no one else."""
    from grader.batch import discover

    download = tmp_path / "download"
    download.mkdir()
    for number, (name, student) in enumerate((("annlee", "101"), ("bobray", "102"), ("catkim", "103"))):
        file = (f"{name}_{student}_{700 + number}_mlp.py" if layout == "canvas"
                else f"{name.title()}_{student}_assignsubmission_file_mlp.py")
        (download / file).write_text(REFERENCE_A1 + f"# {name}\n")
        (download / (file.replace("mlp.py", "notes.txt"))).write_text("my notes")  # two files: regrouped
    copy = shutil.copyfile

    def copy_or_fail(source, target, *args, **kwargs):
        if "bobray" in str(source).lower():
            raise OSError(5, "Input/output error", str(source))
        return copy(source, target, *args, **kwargs)

    monkeypatch.setattr(discover.shutil, "copyfile", copy_or_fail)
    result = grade_class("a1", download, gradebook=tmp_path / "gb.sqlite", tasks=TASKS, seed=SEED,
                         timeout_scale=SCALE)
    assert set(result.graded) == {"101", "103"} and all(r.score > 0 for r in result.graded.values())
    assert set(result.errors) == {"102"} and "Input/output error" in result.errors["102"]
    with Gradebook(tmp_path / "gb.sqlite", create=False) as gb:
        assert set(gb.not_graded("a1")) == {"102"}


def test_owners_finds_the_student_of_each_file_that_could_not_be_extracted(tmp_path):
    from grader.batch.discover import Entry, owners

    entries = [Entry("ann", tmp_path / "ann", "folder"), Entry("bob", tmp_path / "bob.zip", "folder"),
               Entry("123", tmp_path / "regrouped" / "canvas-123", "canvas"), Entry("j\\xf6rg", tmp_path / JORG,
                                                                                     "folder")]
    failures = {tmp_path / "ann" / "sub" / "mlp.py": "a", tmp_path / "bob.zip": "b",
                tmp_path / "lee_123_4_mlp.py": "c", tmp_path / JORG / "mlp.py": "d", tmp_path / "stray.txt": "e"}
    assert owners(failures, entries) == {"ann": "a", "bob": "b", "123": "c", "j\\xf6rg": "d"}


def test_on_dask_a_crash_in_one_students_worker_is_theirs_alone(tmp_path, zygote, monkeypatch):
    distributed = pytest.importorskip("distributed")
    made = hostile_class(tmp_path / "class")
    for student in ("bob", "cat", "printer", "latin", "crash_hash", "crash_save", "dup"):  # Dask is slower
        path = made.pop(student)
        path.unlink() if path.is_file() else shutil.rmtree(path)
    (tmp_path / "class" / "dup.zip").unlink()
    made["crash_worker"] = _folder(tmp_path / "class", "crash_worker", REFERENCE_A1)
    real_check = api.check

    def check_or_crash(assignment, path, **kwargs):  # the workers are threads here: they see this patch
        if Path(path).name == "crash_worker":
            raise RuntimeError("injected: the worker crashed")
        return real_check(assignment, path, **kwargs)

    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None)
    with cluster:
        monkeypatch.setattr(worker.api, "check", check_or_crash)
        result = grade_class("a1", tmp_path / "class", gradebook=tmp_path / "gb.sqlite", tasks=TASKS, seed=SEED,
                             timeout_scale=SCALE, executor="dask", scheduler=cluster.scheduler_address)
        monkeypatch.undo()
    assert set(result.errors) == {"crash_worker"} and set(result.graded) == set(made) - {"crash_worker"}
    why = result.errors["crash_worker"]
    assert why.startswith("the grader crashed while grading this submission (RuntimeError: injected")
    Path(CRASH_FILE.search(why).group(1)).unlink()
    for student in result.graded:
        single = alone(zygote, made[student])
        if single is not None:
            assert outcome(result.graded[student]) == outcome(single), student
    assert "bad \\ud800 here" in result.graded["raiser"].checks[0].message


def test_a_job_dask_refuses_is_its_students_alone(monkeypatch):
    from types import SimpleNamespace

    from grader.batch import dask_executor

    class Future:
        def __init__(self, job):
            self.job = job

        def result(self):
            if self.job["student"] == "lost":
                raise OSError("worker lost")
            return {"student": self.job["student"], "report": {}}

        def cancel(self):
            pass

    def submit(fn, job, key, pure, resources):
        assert key.isascii() and job["student"] not in key  # a key never carries an LMS id
        if job["student"] == "refused":
            raise TypeError("cannot serialize")
        return Future(job)

    executor = object.__new__(dask_executor.DaskExecutor)
    executor.client = SimpleNamespace(submit=submit, scheduler_info=lambda: {})
    monkeypatch.setattr(dask_executor, "_import_distributed", lambda: SimpleNamespace(as_completed=iter))
    jobs = [{"assignment": "a1", "student": s, "path": "/x"} for s in ("ok", "refused", "lost", f"x{LONE}")]
    out = {r["student"]: r for r in executor.run(jobs)}
    assert set(out) == {"ok", "refused", "lost", f"x{LONE}"} and "report" in out["ok"]
    assert "TypeError: cannot serialize" in out["refused"]["internal_error"]
    assert out["lost"]["internal_error"] == "the Dask worker failed: OSError: worker lost"
    Path(CRASH_FILE.search(out["refused"]["internal_error"]).group(1)).unlink()


def test_the_history_of_a_student_not_graded_says_why(tmp_path):
    from grader.batch.api import student_history
    from grader.errors import UsageError

    book = tmp_path / "gb.sqlite"
    with Gradebook(book) as gb:
        run = gb.start_run("a1", "1", 1, "*", {}, {})
        gb.record_not_graded(run, "a1", "s1", "folder submission of s1", "x.py cannot be read (Permission denied).")
    with pytest.raises(UsageError, match=r"'s1' was not graded for a1: x.py cannot be read \(Permission denied\); "
                                         r"rerun `dlgrade grade` to try again"):
        student_history(book, "s1")


def test_the_summary_of_those_not_graded_reaches_the_terminal_escaped(tmp_path):
    root = tmp_path / "class"
    root.mkdir()
    evil = "evil\x1b]0;pwned\x07\x1b[2J"  # a window title and a screen clear, in a folder name
    _folder(root, evil, REFERENCE_A1)
    (root / f"{evil}.zip").write_bytes(b"PK")
    run = CliRunner().invoke(main, ["grade", "a1", str(root), "--gradebook", str(tmp_path / "gb.sqlite"),
                                    "--task", "1.1"])
    assert run.exit_code == 1, run.output
    assert "\x1b" not in run.output and "\x07" not in run.output
    assert "0 graded, 0 already graded, 1 not graded" in run.output
    assert "not graded evil" in run.output

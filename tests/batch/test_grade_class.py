"""`dlgrade grade`: every student accounted for, the same scores as `dlgrade check` alone, nothing lost or doubled."""

from __future__ import annotations

import json
import os
import resource
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from grader import api
from grader.batch.api import diff_runs, export_grades, grade_class, list_runs, student_history
from grader.errors import SubmissionError
from grader.tempfolders import LOCAL_FILE_SYSTEMS, file_system
from tests.batch.conftest import ROOT, TASKS, make_class

SEED, SCALE = 7, 0.3  # the loop-forever student's import stops after 3 s instead of 10


def alone(zygote, path: Path):
    """What `dlgrade check` gives this submission alone: its report, or None where it exits 2."""
    try:
        return api.check("a1", path, tasks=TASKS, seed=SEED, zygote=zygote, timeout_scale=SCALE)
    except SubmissionError:
        return None


def check_equal_to_alone(result, made, zygote) -> None:
    assert set(result.graded) == set(made) and not result.errors
    for student, (kind, path) in made.items():
        batch, single = result.graded[student], alone(zygote, path)
        if single is None:
            assert kind == "malformed" and batch.score == 0
            assert all("could not be read" in c.message for c in batch.checks if c.status != "skipped")
            continue
        outcome = lambda report: [(c.id, c.status, c.score) for c in report.checks]  # noqa: E731
        assert outcome(batch) == outcome(single), student
        assert batch.score == single.score


def test_class_scores_equal_check_alone_and_rerun_skips(tmp_path, small_class, zygote):
    root, made = small_class
    seen = []
    book = tmp_path / "gb.sqlite"
    result = grade_class("a1", root, gradebook=book, jobs=2, tasks=TASKS, seed=SEED, timeout_scale=SCALE,
                         progress=seen.append)
    check_equal_to_alone(result, made, zygote)
    kinds = {kind: result.graded[s].score for s, (kind, _) in made.items()}
    assert kinds["correct"] > kinds["buggy"] >= 0 and kinds["malformed"] == kinds["empty"] == 0
    last = seen[-1]
    assert last.done == last.total == 12 and last.passed + last.failed + last.errored == 12 and last.errored >= 1
    again = grade_class("a1", root, gradebook=book, jobs=2, tasks=TASKS, timeout_scale=SCALE)
    assert set(again.skipped) == set(made) and not again.graded and again.seed == SEED  # the last run's seed
    student = next(iter(made))
    (made[student][1] / "mlp.py").write_text("raise ValueError('changed')\n") if made[student][1].is_dir() else None
    third = grade_class("a1", root, gradebook=book, tasks=TASKS, timeout_scale=SCALE)
    assert set(third.graded) == {student}
    history = student_history(book, student)
    assert len(history) == 2 and history[0]["score"] > history[1]["score"] == 0
    changes, only_a, only_b = diff_runs(book, 1, 3)
    assert {c.student for c in changes} == {student} and len(only_a) == 11 and not only_b
    runs = list_runs(book)
    assert [r["graded"] for r in runs] == [12, 0, 1] and runs[0]["seed"] == SEED
    assert runs[0]["machine"]["cpus"] and "process_group" in runs[0]["isolation"]


def _gradebook_state(path: Path) -> tuple[list[str], int]:
    """(student of every submission row, number of bad rows) read without the grader's code."""
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        students = [s for (s,) in db.execute("SELECT student FROM submissions")]
        bad = db.execute("SELECT COUNT(*) FROM submissions s WHERE (SELECT COUNT(*) FROM results r "
                         "WHERE r.submission_id = s.id) != 26").fetchone()[0]
        return students, bad
    finally:
        db.close()


def _grade_command(book: Path, root: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "grader.cli", "grade", "a1", str(root), "--gradebook", str(book), "--jobs", "2",
            "--task", "1.3", "--seed", "3", *extra]


def _as_from_a_terminal() -> None:
    """Ctrl-C reaches the run as from a TA's terminal, whatever this test process inherited (in a background job
    SIGINT is ignored, and an ignored or blocked signal would be inherited by the run)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGINT], ids=["SIGKILL", "SIGINT"])
def test_killing_the_parent_mid_batch_then_rerun_grades_everyone_exactly_once(tmp_path, how):
    root = tmp_path / "class"
    made = make_class(root, 12)
    book = tmp_path / "gb.sqlite"
    temp = tmp_path / "tmp"  # the runs' temporary folders, to see what a killed run leaves and who removes it
    temp.mkdir()
    env = {**os.environ, "TMPDIR": str(temp)}
    process = subprocess.Popen(_grade_command(book, root, "--timeout-scale", "0.5"), cwd=ROOT, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, start_new_session=True,
                               preexec_fn=_as_from_a_terminal)
    deadline = time.monotonic() + 180
    try:
        while time.monotonic() < deadline:
            if book.exists():
                try:
                    if len(_gradebook_state(book)[0]) >= 3:
                        break
                except sqlite3.OperationalError:
                    pass
            assert process.poll() is None, "the run ended before it could be killed"
            time.sleep(0.05)
        process.send_signal(how)
        _, stderr = process.communicate(timeout=60)
        if how == signal.SIGINT:  # Ctrl-C: one sentence, exit 130, the run marked interrupted
            assert process.returncode == 130 and "Traceback" not in stderr, stderr
            assert stderr.strip().splitlines()[-1].startswith("interrupted: every student graded so far is saved")
        # The zygote learns of its parent's death by a signal and removes its folder itself, a moment later
        # (longer on a busy machine): give it that moment before the group is killed outright below.
        settle = time.monotonic() + 30
        while time.monotonic() < settle and any(p.name.startswith("dlgrade-zygote-") for p in temp.iterdir()):
            time.sleep(0.1)
    finally:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    before, bad = _gradebook_state(book)
    assert 3 <= len(before) < 12 and not bad and len(set(before)) == len(before)
    left = [p for p in temp.iterdir() if p.name.startswith("dlgrade-")]
    if how == signal.SIGKILL:  # it could not remove its staging folder (the students' files): the rerun does
        assert [p.name[:len("dlgrade-class-")] for p in left] == ["dlgrade-class-"], left
        past = time.time() - 3600  # older than the grace a folder gets before its owner has locked it
        os.utime(left[0], (past, past))
    else:
        assert left == []
    rerun = subprocess.run(_grade_command(book, root, "--timeout-scale", "0.5"), cwd=ROOT, capture_output=True,
                           text=True, timeout=300, env=env)
    assert rerun.returncode == 0, rerun.stderr
    if file_system(str(temp)) in LOCAL_FILE_SYSTEMS:  # elsewhere a lock may be another machine's: nothing removed
        assert [p.name for p in temp.iterdir() if p.name.startswith("dlgrade-")] == []
    after, bad = _gradebook_state(book)
    assert sorted(after) == sorted(made) and not bad  # every student exactly once
    assert f"{len(before)} already graded" in rerun.stderr
    assert [r["status"] for r in list_runs(book)] == ["running" if how == signal.SIGKILL else "interrupted",
                                                      "finished"]


def test_a_full_disk_mid_batch_is_one_sentence_and_leaves_the_gradebook_consistent(tmp_path):
    root = tmp_path / "class"
    made = make_class(root, 12)
    book = tmp_path / "gb.sqlite"

    def small_files():  # files this process writes may not grow past 96 KiB: the gradebook fills up mid-batch
        resource.setrlimit(resource.RLIMIT_FSIZE, (96 * 1024, resource.RLIM_INFINITY))

    full = subprocess.run(_grade_command(book, root), cwd=ROOT, capture_output=True, text=True, timeout=300,
                          preexec_fn=small_files)
    assert full.returncode == 2, full.stderr
    line = full.stderr.strip().splitlines()[-1]
    assert line.startswith("dlgrade: could not save") and "Traceback" not in full.stderr, full.stderr
    assert "free some space and rerun" in line
    saved, bad = _gradebook_state(book)
    assert 0 < len(saved) < 12 and not bad and len(set(saved)) == len(saved)
    rerun = subprocess.run(_grade_command(book, root), cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr
    after, bad = _gradebook_state(book)
    assert sorted(after) == sorted(made) and not bad


def test_cli_grade_roster_and_gradebook_commands(tmp_path):
    root = tmp_path / "class"
    make_class(root, 3)
    roster = tmp_path / "roster.csv"
    roster.write_text("id,name\ns000,Ann Lee\ns001,Bo Kim\ns099,Zed Missing\n")
    book = tmp_path / "gb.sqlite"

    def dlgrade(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "grader.cli", *args], cwd=tmp_path, capture_output=True,
                              text=True, timeout=300)

    graded = dlgrade("grade", "a1", str(root), "--gradebook", str(book), "--task", "1.3", "--roster", str(roster))
    assert graded.returncode == 0, graded.stderr
    assert "missing (on the roster, no submission): s099" in graded.stderr
    assert "not on the roster: s002" in graded.stderr
    assert "3 graded" in graded.stderr
    listed = dlgrade("gradebook", "list", "--gradebook", str(book))
    assert listed.returncode == 0 and "a1" in listed.stdout
    shown = dlgrade("gradebook", "show", "s001", "--gradebook", str(book))
    assert shown.returncode == 0 and "Score:" in shown.stdout and "History" in shown.stdout
    exported = dlgrade("gradebook", "export", "--format", "csv", "-o", str(tmp_path / "grades.csv"),
                       "--gradebook", str(book))
    assert exported.returncode == 0, exported.stderr
    rows = (tmp_path / "grades.csv").read_text().splitlines()
    header = rows[0].split(",")
    assert header[0] == "student" and "total" in header and len(rows) == 5  # 3 graded + the missing s099
    assert rows[-1].startswith("s099,Zed Missing") and rows[-1].endswith("missing")
    for args, gist in [(("grade", "a1", str(root), "--gradebook", str(book), "--task", "9.9"), "unknown task 9.9"),
                       (("grade", "a1", str(tmp_path / "nothing")), "no such file or folder"),
                       (("gradebook", "list", "--gradebook", str(tmp_path / "none.sqlite")), "no gradebook at"),
                       (("gradebook", "show", "nobody", "--gradebook", str(book)), "no grades for student"),
                       (("gradebook", "diff", "1", "42", "--gradebook", str(book)), "no run 42")]:
        failed = dlgrade(*args)
        assert failed.returncode == 2 and gist in failed.stderr and len(failed.stderr.strip().splitlines()) == 1, \
            (args, failed.stderr)


def test_an_lms_zip_of_the_class_grades_like_the_folder(tmp_path, zygote):
    import shutil

    root = tmp_path / "download"
    made = make_class(root, 4)
    archive = Path(shutil.make_archive(str(tmp_path / "canvas-download"), "zip", root))
    result = grade_class("a1", archive, gradebook=tmp_path / "gb.sqlite", tasks=TASKS, seed=SEED, timeout_scale=SCALE)
    assert set(result.graded) == set(made)
    exported = export_grades(tmp_path / "gb.sqlite", "gradescope", tmp_path / "gs")
    assert len(exported) == 4 and json.loads(exported[0].read_text())["tests"]


@pytest.mark.slow
def test_a_class_of_200_accounts_for_everyone_with_the_scores_of_check_alone(tmp_path, zygote):
    root = tmp_path / "class"
    made = make_class(root, 200)
    result = grade_class("a1", root, gradebook=tmp_path / "gb.sqlite", jobs=2, tasks=TASKS, seed=SEED,
                         timeout_scale=SCALE)
    check_equal_to_alone(result, made, zygote)

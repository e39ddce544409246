"""Red team, issue 9 parts 4 and 5: malformed input, escapes, budgets and signals.

Every hostile input here ends one of two ways: exit 2 with one plain sentence
(the submission cannot be read) or a report whose score is no higher than a
plain wrong submission's (the template's 0). Never exit 3, never a traceback,
never a hang. Inputs that git cannot hold (FIFOs, sparse files, damaged zips)
are built by the tests; the student code lives in ``submissions/inputs/``.
"""

from __future__ import annotations

import json
import os
import signal
import struct
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from grader import api
from grader.cli import main
from grader.report import render
from grader.report.sanitize import is_visible, visible
from tests.conftest import ROOT, by_id, mutate

HERE = Path(__file__).parent / "submissions" / "inputs"
TEMPLATE_A1 = (ROOT / "student_template" / "a1" / "mlp.py").read_text()
TEMPLATE_A3 = {name: (ROOT / "student_template" / "a3" / name).read_text() for name in ("batchnorm.py", "conv.py")}
CONTROL = ("\x1b", "\x07", "\x08", "\r", "\x9b")


def run_cli(*args: str):
    result = CliRunner().invoke(main, list(map(str, args)))
    assert result.exit_code in (0, 1, 2, 130, 143), result.output  # never 3, the grader's own failure
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
    return result


def assert_refused(path: Path, gist: str, assignment: str = "a1") -> None:
    """Exit 2 with one sentence on stderr that contains ``gist``, no traceback, within seconds."""
    started = time.monotonic()
    result = run_cli("check", assignment, path, "--format", "json")
    assert result.exit_code == 2, result.output
    message = result.stderr.strip()
    assert message.startswith("dlgrade: ") and "\n" not in message and "Traceback" not in message, message
    assert gist in message, message
    assert time.monotonic() - started < 30


def a1_folder(tmp_path: Path, source: str = TEMPLATE_A1) -> Path:
    folder = tmp_path / "submission"
    folder.mkdir()
    (folder / "mlp.py").write_text(source)
    return folder


# ------------------------------------------------------------------ the submission itself (exit 2)


def test_file_symlinked_to_the_reference(tmp_path):
    folder = tmp_path / "submission"
    folder.mkdir()
    os.symlink(ROOT / "reference" / "a1" / "mlp.py", folder / "mlp.py")
    assert_refused(folder, "symbolic link to a file outside")


def test_subfolder_symlinked_to_the_reference(tmp_path):
    # Before: graded as the reference, full marks.
    folder = tmp_path / "submission"
    folder.mkdir()
    os.symlink(ROOT / "reference" / "a1", folder / "my_work")
    assert_refused(folder, "symbolic link to a folder outside")


def test_fifo_given_as_the_submission(tmp_path):
    os.mkfifo(tmp_path / "submission.zip")
    assert_refused(tmp_path / "submission.zip", "FIFO")


def test_fifo_inside_the_submission(tmp_path):
    folder = tmp_path / "submission"
    folder.mkdir()
    os.mkfifo(folder / "mlp.py")
    assert_refused(folder, "FIFO")


def test_device_linked_inside_the_submission(tmp_path):
    folder = tmp_path / "submission"
    folder.mkdir()
    os.symlink("/dev/zero", folder / "mlp.py")
    assert_refused(folder, "outside")


def test_sparse_3_gib_answers_file(tmp_path):
    folder = tmp_path / "submission"
    folder.mkdir()
    (folder / "autograd.py").write_text("")
    with open(folder / "answers.toml", "wb") as f:
        f.truncate(3 << 30)
    assert_refused(folder, "answers.toml is larger than", "a2")


def test_sparse_answers_beside_a_notebook(tmp_path):
    cell = {"cell_type": "code", "id": "c1", "metadata": {}, "outputs": [], "execution_count": None, "source": "x = 1"}
    (tmp_path / "a2.ipynb").write_text(json.dumps({"cells": [cell], "nbformat": 4, "nbformat_minor": 5,
                                                   "metadata": {}}))
    with open(tmp_path / "answers.toml", "wb") as f:
        f.truncate(3 << 30)
    assert_refused(tmp_path / "a2.ipynb", "answers.toml is larger than", "a2")


def zip_with(tmp_path: Path, data: bytes = TEMPLATE_A1.encode(), method=zipfile.ZIP_DEFLATED) -> Path:
    path = tmp_path / "submission.zip"
    with zipfile.ZipFile(path, "w", method) as z:
        z.writestr("mlp.py", data)
    return path


def test_zip_with_a_bad_crc(tmp_path):
    path = zip_with(tmp_path, method=zipfile.ZIP_STORED)
    blob = bytearray(path.read_bytes())
    at = blob.index(b"class Linear")
    blob[at] ^= 0x20  # one flipped bit in the stored data
    path.write_bytes(bytes(blob))
    assert_refused(path, "damaged")


def test_zip_with_bad_deflate_data(tmp_path):
    path = zip_with(tmp_path)
    blob = bytearray(path.read_bytes())
    start = 30 + len("mlp.py")
    blob[start:start + 40] = b"\xff" * 40
    path.write_bytes(bytes(blob))
    assert_refused(path, "damaged")


def test_zip_whose_header_lies_about_sizes(tmp_path):
    path = zip_with(tmp_path, data=b"x = 1\n" * 10_000)
    blob = bytearray(path.read_bytes())
    central = blob.index(b"PK\x01\x02")
    struct.pack_into("<I", blob, central + 24, 10)  # uncompressed size: 10 bytes (really 60000)
    struct.pack_into("<I", blob, 22, 10)
    path.write_bytes(bytes(blob))
    assert_refused(path, "damaged")


def test_zip_bomb(tmp_path):
    path = tmp_path / "submission.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("mlp.py", b"#" * (200 << 20))  # 200 MiB that deflate to about 200 KiB
    assert path.stat().st_size < 1 << 20
    assert_refused(path, "larger than")


def test_zip_bomb_with_a_lying_size(tmp_path):
    path = tmp_path / "submission.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("mlp.py", b"#" * (64 << 20))
    blob = bytearray(path.read_bytes())
    central = blob.index(b"PK\x01\x02")
    struct.pack_into("<I", blob, central + 24, 100)
    struct.pack_into("<I", blob, 22, 100)
    path.write_bytes(bytes(blob))
    assert_refused(path, "damaged")


def test_zip_announcing_absurd_entry_counts(tmp_path):
    path = zip_with(tmp_path)
    blob = bytearray(path.read_bytes())
    end = blob.rindex(b"PK\x05\x06")
    struct.pack_into("<HH", blob, end + 8, 0xFFFF, 0xFFFF)
    path.write_bytes(bytes(blob))
    assert_refused(path, "entries")


def test_zip_with_too_many_entries(tmp_path):
    path = tmp_path / "submission.zip"
    with zipfile.ZipFile(path, "w") as z:
        for i in range(2500):
            z.writestr(f"junk/{i}.txt", "")
        z.writestr("mlp.py", TEMPLATE_A1)
    assert_refused(path, "entries")


def test_zip_with_a_symlink_member(tmp_path):
    path = tmp_path / "submission.zip"
    info = zipfile.ZipInfo("mlp.py")
    info.external_attr = (0o120777 << 16)
    with zipfile.ZipFile(path, "w") as z:
        z.writestr(info, str(ROOT / "reference" / "a1" / "mlp.py"))
    assert_refused(path, "symbolic link")


def test_zip_with_an_encrypted_member(tmp_path):
    path = zip_with(tmp_path, method=zipfile.ZIP_STORED)
    blob = bytearray(path.read_bytes())
    for header, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        at = blob.index(header)
        blob[at + offset] |= 0x1  # the "encrypted" flag, in the local and the central header
    path.write_bytes(bytes(blob))
    assert_refused(path, "encrypted")


def test_zip_slip_names_are_never_paths(tmp_path):
    path = tmp_path / "nested" / "submission.zip"
    path.parent.mkdir()
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("../../escaped.py", "x = 1\n")
        z.writestr("/tmp/absolute_dlgrade_slip.py", "x = 1\n")
        z.writestr("sub/mlp.py", TEMPLATE_A1)
    result = run_cli("check", "a1", path, "--format", "json", "--task", "1.3")
    assert result.exit_code == 1 and json.loads(result.stdout)["score"] == 0
    assert not (tmp_path / "escaped.py").exists() and not Path("/tmp/absolute_dlgrade_slip.py").exists()


def remove_deep_chain(root: Path) -> None:
    """Remove a chain of nested ``d`` folders of any depth without recursion (``shutil.rmtree`` recurses).

    Each step moves the grandchild up beside ``root``'s child, then removes the emptied child, so no
    path is ever longer than two names. Nothing deep may outlive the test: pytest's own clean-up of
    old temporary folders would hit the recursion limit.
    """
    top = os.open(root, os.O_RDONLY)
    try:
        name, step = "d", 0
        while os.path.lexists(f"/proc/self/fd/{top}/{name}"):
            fd = os.open(name, os.O_RDONLY, dir_fd=top)
            step += 1
            try:
                os.rename("d", f"d{step}", src_dir_fd=fd, dst_dir_fd=top)
                hoisted = True
            except FileNotFoundError:
                hoisted = False
            finally:
                os.close(fd)
            os.rmdir(name, dir_fd=top)
            if not hoisted:
                break
            name = f"d{step}"
    finally:
        os.close(top)


def test_3000_deep_folder_tree_in_the_submission(tmp_path):
    folder = a1_folder(tmp_path)
    fd = os.open(folder, os.O_RDONLY)
    try:
        try:  # deeper than PATH_MAX allows to name at once: built one relative step at a time
            for _ in range(3000):
                os.mkdir("d", dir_fd=fd)
                new = os.open("d", os.O_RDONLY, dir_fd=fd)
                os.close(fd)
                fd = new
        finally:
            os.close(fd)
        result = run_cli("check", "a1", folder, "--format", "json", "--task", "1.3")
        assert result.exit_code == 1 and json.loads(result.stdout)["score"] == 0
    finally:
        remove_deep_chain(folder)
    assert not (folder / "d").exists()


def test_output_into_a_missing_folder_is_refused_before_grading(tmp_path):
    started = time.monotonic()
    result = run_cli("check", "a1", a1_folder(tmp_path), "--output", tmp_path / "no" / "such" / "r.json")
    assert result.exit_code == 2 and "does not exist" in result.stderr and time.monotonic() - started < 5


# ----------------------------------------------------------------- values from the sandbox


def test_integers_beyond_64_bits_from_a_method(grade):
    report = grade("a1", HERE / "bigint_a1", tasks=["1.3"])
    assert report.score == 0
    for check in report.checks:
        if check.task == "1.3":
            assert check.status in ("error", "failed") and "64 bits" in check.message, check.message


# ----------------------------------------------------------------- escapes in every output


def test_escape_sequences_are_shown_escaped_in_every_format(grade, tmp_path):
    report = grade("a1", HERE / "escapes_a1", tasks=["1.3"])
    assert report.score == 0
    texts = {name: render(report, name) for name in ("terminal", "json")}
    result = run_cli("check", "a1", HERE / "escapes_a1", "--task", "1.3")  # piped: not a terminal
    texts["piped"] = result.stdout
    run_cli("check", "a1", HERE / "escapes_a1", "--task", "1.3", "--output", tmp_path / "r.txt")
    texts["--output"] = (tmp_path / "r.txt").read_text()
    for name, text in texts.items():
        assert not any(c in text for c in CONTROL), (name, [c for c in CONTROL if c in text])
        assert "\\x1b[1;32mScore: 36/36" in text or "\\\\x1b[1;32mScore: 36/36" in text, name
    for check in json.loads(texts["json"])["checks"]:
        for field in ("message", "hint", "output", "name"):
            assert is_visible(check[field]), (field, check[field])
    assert "Score: 0/" in texts["terminal"]
    # The fake "Score" line of the message is indented under its check, never at the start of a line.
    assert not any(line.startswith("Score: 36") for line in texts["terminal"].splitlines())


@pytest.mark.parametrize("text, shown", [("\x1b[2J", "\\x1b[2J"), ("a\rb", "a\\x0db"), ("\x07", "\\x07"),
                                         ("\x9b31m", "\\x9b31m"), ("ok\ttab\nline", "ok\ttab\nline"),
                                         ("\u202eevil", "\\u202eevil"), ("✓ é 中", "✓ é 中")])
def test_visible(text, shown):
    assert visible(text) == shown and visible(visible(text)) == shown


# ----------------------------------------------------------------- answers.toml numbers


A3_ANSWERS = {
    "integer beyond 64 bits": ("[batchnorm_numeric]\nz_hat = [[1180591620717411303424, 2.0], [3.0, 4.0]]\n", "bn_z_hat",
                               "2**70 is not a number the grader can compare"),
    "huge exponent": ("[batchnorm_numeric]\ny = [[1e400, 2.0], [3.0, 4.0]]\n", "bn_scaled", "infinite"),
    # nan is the "not answered yet" placeholder of a number; a formula's is ''
    "nan": ("[cross_entropy]\nloss = nan\n", "cross_entropy", "is not answered"),
    "ragged matrix": ("[batchnorm_numeric]\nz_hat = [[1.0, 2.0], [3.0]]\n", None, "rows of different lengths"),
    "huge matrix entry": ("[batchnorm_numeric]\ny = [[1e999, 2.0], [3.0, 4.0]]\n", None, "infinite"),
    "wrong TOML type": ("[cnn_block]\nparams = { a = 1 }\n", "cnn_params", "should be a string"),
    "malformed TOML": ("[cnn_block]\nparams = 'C_in'\nmacs = = 3\n", "cnn_params", "line 3"),
    "huge formula constant": ("[cnn_block]\nparams = '10**400 * K'\n", "cnn_params", "exponent"),
}


@pytest.mark.parametrize("case", sorted(A3_ANSWERS))
def test_hostile_numbers_in_answers(grade, case):
    toml, check_id, gist = A3_ANSWERS[case]
    report = grade("a3", {**TEMPLATE_A3, "answers.toml": toml}, tasks=["3.6"] if check_id is None else [check_id])
    assert report.score == 0
    checks = [c for c in report.checks if c.status != "skipped"]
    hit = by_id(report)[check_id] if check_id else next(c for c in checks if gist in c.message)
    assert hit.status == "failed" and gist in hit.message, hit.message


# ----------------------------------------------------------------- budget and signals


def test_small_budget_ends_an_endless_submission_with_a_report(tmp_path):
    started = time.monotonic()
    result = run_cli("check", "a1", HERE / "loop_forever_a1", "--budget", "3", "--format", "json")
    elapsed = time.monotonic() - started
    assert result.exit_code == 1, result.output
    report = json.loads(result.stdout)
    statuses = {c["status"] for c in report["checks"]}
    assert report["score"] == 0 and statuses <= {"timeout", "not_run"} and "not_run" in statuses
    first = next(c for c in report["checks"] if c["status"] == "not_run")
    assert first["message"] == "not run: the submission used its whole 3 s budget."
    stopped = [c for c in report["checks"] if c["status"] == "timeout"]
    assert stopped and stopped[-1]["message"] == "stopped when the submission's 3 s budget ran out."
    assert elapsed < 20


@pytest.mark.slow
def test_endless_submission_ends_within_60_s_by_default():
    started = time.monotonic()
    report = api.check("a1", HERE / "loop_forever_a1")
    elapsed = time.monotonic() - started
    assert elapsed < 60 and report.score == 0  # the 55 s budget, plus the worker's start and teardown
    assert by_id(report)[report.checks[-1].id].status == "not_run"


@pytest.mark.parametrize("sig, code", [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_signal_writes_the_report_and_leaves_nothing_behind(tmp_path, sig, code):
    temp = tmp_path / "tmp"
    temp.mkdir()
    out = tmp_path / "r.json"
    env = dict(os.environ, TMPDIR=str(temp), PYTHONPATH=str(ROOT))
    process = subprocess.Popen([sys.executable, "-m", "grader.cli", "check", "a1", str(HERE / "loop_forever_a1"),
                                "--format", "json", "--output", str(out)], env=env, cwd=ROOT,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 30
    while not any(p.name.startswith("dlgrade-") for p in temp.iterdir()):
        assert time.monotonic() < deadline and process.poll() is None, "grading never started"
        time.sleep(0.1)
    time.sleep(1.5)  # usually inside the first endless check by now; earlier is handled the same way
    process.send_signal(sig)
    try:
        _, stderr = process.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        raise
    assert process.returncode == code, stderr.decode()
    assert "Traceback" not in stderr.decode() and "stopped by" in stderr.decode()
    report = json.loads(out.read_text())
    assert report["diagnostics"]["interrupted"] in ("SIGTERM", "SIGINT") and report["score"] == 0
    assert any(c["status"] == "not_run" and "interrupted" in c["message"] for c in report["checks"])
    assert not [p.name for p in temp.iterdir() if p.name.startswith("dlgrade-")]



# ----------------------------------------------------------------- junk from every method


JUNK = ["float('nan')", "float('inf')", "-float('inf')", "2**64 - 1", "-(2**63)", "2**64", "-(2**63) - 1",
        "10**4000", "eval('[' * 80 + '1' + ']' * 80)", "{'__nd__': 0}", "{'__handle__': float('inf')}",
        "'\\x1b[32mScore 36/36\\x1b[0m'", "None", "True", "(1, 'a')", "np.full((2, 2), np.nan)",
        "np.zeros(0)", "np.array([2**63], dtype=np.uint64)", "list(range(100000))", "np.float64('inf')"]


def junk_submission(shift: int) -> str:
    """The template, each method returning a different piece of junk (``shift`` rotates which)."""
    lines, index = [], shift
    for line in TEMPLATE_A1.splitlines(keepends=True):
        stripped = line.strip()
        if stripped.startswith("raise NotImplementedError("):
            indent = line[: len(line) - len(line.lstrip())]
            junk = JUNK[index % len(JUNK)]
            in_init = any("def __init__" in previous for previous in lines[-4:])
            lines.append(f"{indent}self.W = self.b = self.lr = {junk}\n" if in_init else f"{indent}return {junk}\n")
            index += 1
        else:
            lines.append(line)
    return "".join(lines)


@pytest.mark.parametrize("shift", [0, 7, 14])
def test_every_method_returns_junk(grade, shift):
    report = grade("a1", {"mlp.py": junk_submission(shift)})
    assert not any("importing" in c.message for c in report.checks)
    assert report.score == 0, [(c.id, c.status, c.message) for c in report.checks if c.score]
    for name in ("json", "terminal"):
        assert "\x1b" not in render(report, name)


def test_a_check_that_catches_its_own_time_out_says_the_budget_ended_it(make_submission):
    """The plain-loop conv2d, made to spin on the timed batch, so the 4 s budget ends it on any machine.

    (The unmodified loop version used 3.7 s of CPU on a fast CI machine: it finished inside the budget
    and failed on its ratio instead, which is right, but not what this test is about.)
    """
    slow = ROOT / "examples" / "a3" / "loops_correct_but_slow"
    files = {path.name: path.read_text() for path in slow.iterdir() if path.is_file()}
    spin = "    while N >= 16:\n        pass\n"
    files["conv.py"] = mutate(files["conv.py"], ("    x = np.pad(x, ", spin + "    x = np.pad(x, "))
    report = api.check("a3", make_submission(files), tasks=["conv_speed"], seed=1, budget_s=4)
    check = by_id(report)["conv_speed"]
    assert check.status in ("failed", "timeout") and check.score == 0
    assert "4 s budget ran out" in check.message

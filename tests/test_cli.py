"""The CLI: help texts, exit codes, the JSON schema, and every way to point at a submission."""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from grader.assignment import Assignment, register
from grader.cli import main

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "reference" / "a1"
TEMPLATE = ROOT / "student_template" / "a1"
CHECK_KEYS = {"id", "task", "name", "status", "score", "max_score", "message", "hint", "duration_s"}


def run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_every_command_has_help():
    for name, command in main.commands.items():
        result = run(name, "--help")
        assert result.exit_code == 0 and command.help and len(command.help) > 20, name
    assert run("--help").exit_code == 0


def test_list_and_show():
    assert "a1" in run("list").output
    shown = run("show", "a1").output
    assert "mlp.py" in shown and "1.6" in shown and "Total: 36 points" in shown


def test_json_report_schema_and_exit_zero():
    result = run("check", "a1", str(REFERENCE), "--format", "json", "--seed", "7", "--task", "1.3")
    assert result.exit_code == 0
    report = json.loads(result.output)
    assert {"schema_version", "assignment", "score", "max_score", "checks", "diagnostics"} <= set(report)
    assert report["assignment"] == "a1" and report["diagnostics"]["seed"] == 7
    for check in report["checks"]:
        assert CHECK_KEYS <= set(check)
        assert check["status"] in ("passed", "skipped")
    assert report["score"] == report["max_score"] == 2


def test_failing_submission_exits_one_and_writes_output(tmp_path):
    out = tmp_path / "report.json"
    result = run("check", "a1", str(TEMPLATE), "--task", "1.1", "--format", "json", "--output", str(out))
    assert result.exit_code == 1 and result.output == ""
    report = json.loads(out.read_text())
    assert report["score"] == 0 and all("not implemented" in c["message"] for c in report["checks"]
                                        if c["status"] != "skipped")


def test_terminal_report_explains(tmp_path):
    result = run("check", "a1", str(ROOT / "examples" / "a1" / "dw_divided_by_in_features"), "--task", "1.1")
    assert result.exit_code == 1
    assert "✗" in result.output and "in_features" in result.output and "Score: 7/9" in result.output


@pytest.mark.parametrize("args, gist", [
    (["check", "a1", "does/not/exist"], "no such file"),
    (["check", "zz", str(REFERENCE)], "unknown assignment"),
    (["check", "a1", str(REFERENCE), "--task", "9.9"], "unknown task"),
    (["check", "a1", str(REFERENCE), "--format", "yaml"], "Invalid value"),
])
def test_usage_errors_exit_two(args, gist):
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2 and gist in result.output


def test_grader_bug_exits_three_and_says_so(tmp_path):
    broken = register(Assignment(id="test-broken", title="broken", files=("mlp.py",)))

    @broken.check("1", "raises", points=1)
    def raises(ctx):
        raise KeyError("oops")

    result = CliRunner().invoke(main, ["check", "test-broken", str(REFERENCE)])
    assert result.exit_code == 3 and "internal grader error" in result.output and "not a problem with the " \
        "submission" in result.output


def test_zip_and_notebook_submissions(tmp_path):
    archive = tmp_path / "sub.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.write(REFERENCE / "mlp.py", "student/mlp.py")
    assert run("check", "a1", str(archive), "--task", "1.3").exit_code == 0
    notebook = tmp_path / "a1.ipynb"
    code = (REFERENCE / "mlp.py").read_text()
    notebook.write_text(json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [
        {"cell_type": "code", "id": "c1", "source": code, "metadata": {}, "outputs": [], "execution_count": None}]}))
    assert run("check", "a1", str(notebook), "--task", "1.3").exit_code == 0


def test_missing_file_is_named(tmp_path):
    (tmp_path / "empty").mkdir()
    report = json.loads(run("check", "a1", str(tmp_path / "empty"), "--format", "json", "--task", "1.1").output)
    assert all("missing: mlp.py" in c["message"] for c in report["checks"] if c["status"] != "skipped")


def test_copy_of_reference_folder_grades_the_same(tmp_path):
    shutil.copytree(REFERENCE, tmp_path / "copy")
    assert run("check", "a1", str(tmp_path / "copy"), "--task", "1.4").exit_code == 0


def test_checking_one_assignment_imports_only_its_own_modules():
    import subprocess
    import sys

    code = ("import sys; from grader import api; api.get_assignment('a1'); "
            "print(sorted({m.split('.')[2] for m in sys.modules if m.startswith('grader.assignments.')}), "
            "'torch' in sys.modules, 'sympy' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "['a1'] False False"


def test_an_unexpected_exception_outside_the_checks_exits_three_not_one(tmp_path, monkeypatch):
    """Exit 1 means "graded, some check failed" to a CI runner: a crash of dlgrade itself must never look like it."""
    import tempfile

    from grader import api

    def crash(*args, **kwargs):
        raise OSError("AF_UNIX path too long")

    monkeypatch.setattr(api, "check", crash)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    result = CliRunner().invoke(main, ["check", "a1", str(REFERENCE)])
    assert result.exit_code == 3, result.output
    assert "internal grader error: OSError: AF_UNIX path too long" in result.output
    assert "Traceback" not in result.output and len(result.output.strip().splitlines()) == 1
    saved = list(tmp_path.glob("dlgrade-crash-*.txt"))
    assert len(saved) == 1 and "Traceback" in saved[0].read_text() and str(saved[0]) in result.output


def test_a_reader_that_leaves_the_pipe_is_not_a_crash():
    """`dlgrade ... | head`: the end of the pipe went away, as for any command killed by SIGPIPE (141)."""
    import subprocess
    import sys

    code = ("from grader import api, cli\n"
            "def gone(*a, **k):\n    raise BrokenPipeError(32, 'Broken pipe')\n"
            "api.check = gone\ncli.main(['check', 'a1', '.'])\n")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert run.returncode == 141 and run.stderr == "", run.stderr


def test_a_closed_pipe_ends_a_rich_report_the_same_way():
    """rich's own handler would exit 1 ("checks failed"); ours ends the command as SIGPIPE would."""
    import subprocess
    import sys

    from tests.conftest import ROOT

    process = subprocess.Popen([sys.executable, "-m", "grader.cli", "show", "a1"], cwd=ROOT, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    process.stdout.close()  # the reader leaves before anything is written
    stderr = process.stderr.read()
    assert process.wait(timeout=60) == 141 and stderr == "", stderr


def test_a_full_disk_anywhere_is_a_plain_sentence_and_exit_two(monkeypatch):
    """Unpacking a class's zip into a full TMPDIR, say: the machine's state, not a bug (3) and not a grade (1)."""
    import errno

    from grader import api

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device", "/tmp/dlgrade-class-x/download/a/mlp.py")

    monkeypatch.setattr(api, "check", full)
    result = CliRunner().invoke(main, ["check", "a1", str(REFERENCE)])
    assert result.exit_code == 2, result.output
    assert "a disk is full or read-only (/tmp/dlgrade-class-x/download/a/mlp.py): No space left" in result.output
    assert "Traceback" not in result.output

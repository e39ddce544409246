"""What a student meets in the first hour: each stumbling block has a test with the message they see."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from grader import api
from grader.assignment import get_assignment
from grader.cli import main
from tests.conftest import REFERENCE_A1, mutate

ROOT = Path(__file__).resolve().parents[1]
REFERENCE_A3 = ROOT / "reference" / "a3"


def run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_missing_torch_is_one_sentence_and_exit_2(monkeypatch, tmp_path):
    monkeypatch.setattr(get_assignment("a4"), "requires", ("torch_that_is_not_installed",))
    (tmp_path / "lenet.py").write_text("")
    result = run("check", "a4", str(tmp_path))
    assert result.exit_code == 2
    assert "a4 cannot be graded here: it needs torch_that_is_not_installed" in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_every_command_shows_an_example():
    for name in main.commands:
        assert "Example" in run(name, "--help").output, name
    assert "Examples" in run("--help").output


def test_init_writes_the_starter_files_and_never_overwrites(tmp_path):
    result = run("init", "a2", str(tmp_path / "mine"))
    assert result.exit_code == 0
    assert sorted(p.name for p in (tmp_path / "mine").iterdir()) == ["answers.toml", "autograd.py"]
    again = run("init", "a2", str(tmp_path / "mine"))
    assert again.exit_code == 2 and "already exists" in again.output
    assert run("init", "a2", str(tmp_path / "mine"), "--force").exit_code == 0


def test_show_lists_answers_toml_and_its_keys():
    shown = run("show", "a2").output
    assert "autograd.py, answers.toml" in shown
    assert "[div_backward]: dX, dY" in shown and "[normalize_backward]: dX" in shown


def test_misnamed_file_gets_did_you_mean_and_one_explanation(tmp_path):
    (tmp_path / "MLP.py").write_text(REFERENCE_A1)
    result = run("check", "a1", str(tmp_path), "--seed", "1")
    assert result.exit_code == 1
    assert "Did you mean MLP.py? Rename it to mlp.py." in result.output
    assert result.output.count("missing: mlp.py was not found") == 1


def test_did_you_mean_close_names(tmp_path, zygote):
    (tmp_path / "mlp (1).py").write_text(REFERENCE_A1)
    report = api.check("a1", tmp_path, tasks=["1.3"], seed=1, zygote=zygote)
    graded = [c for c in report.checks if c.status != "skipped"]
    assert graded and all("Did you mean mlp (1).py?" in c.hint for c in graded)


def test_a_file_path_grades_its_folder(tmp_path, zygote):
    (tmp_path / "mlp.py").write_text(REFERENCE_A1)
    report = api.check("a1", tmp_path / "mlp.py", tasks=["1.3"], seed=1, zygote=zygote)
    assert report.score == report.max_score > 0
    assert any("graded its folder" in n for n in report.diagnostics["submission_notes"])


def test_check_without_a_path_grades_the_current_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = run("check", "a1", "--task", "1.3")
    assert result.exit_code == 2 and "no mlp.py in the current folder" in result.output
    (tmp_path / "mlp.py").write_text(REFERENCE_A1)
    assert run("check", "a1", "--task", "1.3", "--seed", "1").exit_code == 0


def _a3_answers(tmp_path, text: str) -> Path:
    folder = tmp_path / "a3"
    folder.mkdir()
    for source in REFERENCE_A3.glob("*.py"):
        (folder / source.name).write_text(source.read_text())
    (folder / "answers.toml").write_text(text)
    return folder


def test_latex_in_double_quotes_names_the_key(tmp_path, zygote):
    answers = (ROOT / "reference" / "a3" / "answers.toml").read_text()
    table = "[mlp_parameters]"
    assert table in answers
    start = answers.index(table)
    end = answers.find("\n[", start + 1)
    answers = answers[:start] + table + '\ncount = "$\\frac{1}{2} D_{in}$"\n' + (answers[end:] if end > 0 else "")
    report = api.check("a3", _a3_answers(tmp_path, answers), tasks=["3.6"], seed=1, zygote=zygote)
    failed = [c for c in report.checks if "control character" in c.message]
    assert failed and "Use single quotes for LaTeX" in failed[0].hint and "count" in failed[0].message


def test_latex_escape_error_suggests_single_quotes(tmp_path, zygote):
    answers = '[mlp_parameters]\ncount = "$\\sum_j x$"\n'
    report = api.check("a3", _a3_answers(tmp_path, answers), tasks=["3.6"], seed=1, zygote=zygote)
    assert any("single quotes" in c.hint for c in report.checks if c.status == "failed")


def test_template_placeholders_are_unanswered(tmp_path, zygote):
    template = (ROOT / "student_template" / "a3" / "answers.toml").read_text()
    assert "params = ''" in template and "z_hat = []" in template
    report = api.check("a3", _a3_answers(tmp_path, template), tasks=["3.6"], seed=1, zygote=zygote)
    messages = " ".join(c.message for c in report.checks)
    assert "is not answered" in messages and "should be" not in messages


def test_a_number_for_a_formula_says_write_a_formula(tmp_path, zygote):
    answers = "[training_iterations]\nbatches_per_epoch = 391\n"
    report = api.check("a3", _a3_answers(tmp_path, answers), tasks=["3.6"], seed=1, zygote=zygote)
    hints = " ".join(c.hint for c in report.checks)
    assert "a formula, not a number: write it as a string in single quotes, batches_per_epoch = '...'" in hints


def test_printing_too_much_is_a_plain_sentence(tmp_path, zygote):
    noisy = mutate(REFERENCE_A1, ("        return x @ self.W + self.b", "        print('x' * 100000)\n"
                                                                       "        return x @ self.W + self.b"))
    (tmp_path / "mlp.py").write_text(noisy)
    report = api.check("a1", tmp_path, tasks=["1.6"], seed=1, zygote=zygote)
    errors = [c for c in report.checks if c.status == "error"]
    assert errors, [c.message for c in report.checks]
    for check in errors:
        assert "your code printed more than the grader keeps" in check.message
        assert "grader." not in check.message and "Errno" not in check.message


def test_templates_use_single_quoted_strings():
    for path in (ROOT / "student_template").glob("*/answers.toml"):
        for line in path.read_text().splitlines():
            if "=" in line and not line.lstrip().startswith("#"):
                assert '"' not in line.split("#")[0], f"{path}: {line}"


def test_python_range_matches_the_pins():
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert 'requires-python = ">=3.11"' in pyproject
    assert "3.11+" in (ROOT / "README.md").read_text()


"""Similar submissions (`dlgrade gradebook similar`): identical first, disguised copies high, independent work low."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from grader.assignment import Assignment, register
from grader.batch.api import grade_class, similar_submissions
from grader.batch.gradebook import Gradebook
from grader.batch.similar_code import DEFAULT_MIN, similar_pairs, tokens
from grader.cli import main
from grader.result import CheckResult, Report
from tests.batch.conftest import ROOT

REFERENCE = (ROOT / "reference" / "a1" / "mlp.py").read_text()
TEMPLATE = (ROOT / "student_template" / "a1" / "mlp.py").read_text()
ALTERNATIVE = (ROOT / "tests" / "batch" / "data" / "similarity" / "alternative_mlp.py").read_text()  # 36/36 too


def disguise(source: str) -> str:
    """A copy as a student would hide it: names changed, docstrings and comments rewritten, reformatted."""
    for old, new in [("grad_out", "upstream"), ("shifted", "centered"), ("velocity", "vel"), ("sum_sq", "squares"),
                     ("m_hat", "first_corrected"), ("v_hat", "second_corrected"), ("bound", "limit"),
                     ("_parameters", "gather"), ("diff", "delta"), ("grad", "gradient")]:
        source = re.sub(rf"\b{old}\b", new, source)
    for old, new in [("self.x", "self.saved_input"), ("self.y", "self.activation"), ("self.mask", "self.keep")]:
        source = re.sub(rf"{re.escape(old)}\b", new, source)
    source = re.sub(r'"""[\s\S]*?"""', '"""My own implementation."""', source)
    source = re.sub(r"\n(\s*)return ", r"\n\1# the result\n\1return ", source)
    return source.replace(" = ", "  =  ").replace(", ", " ,  ")


def files(source: str) -> dict[str, str]:
    return {"mlp.py": source}


def test_scores_are_the_same_in_every_process():
    import subprocess
    import sys

    code = ("from pathlib import Path; from grader.batch.similar_code import fingerprints; "
            "print(sorted(fingerprints({'m': Path('reference/a1/mlp.py').read_text()}))[:5])")
    runs = {subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60,
                           env={"PYTHONHASHSEED": seed, "PATH": ""}).stdout for seed in ("1", "2")}
    assert len(runs) == 1 and runs != {""}


def test_comments_formatting_and_names_do_not_change_the_tokens():
    a = "def f(x, y):\n    # add\n    total = x + y  # sum\n    return total\n"
    b = "def g(p,\n      q):\n    s=p+q;return s\n"
    assert tokens(a) == tokens(b)
    assert tokens("y = np.exp(x)") != tokens("y = np.log(x)")  # what the code calls is the solution: kept
    assert tokens("def f(:\n  x = 'unterminated")[:6] == ["def", "V", "(", ":", "V", "="]  # not Python: still read


def test_identical_first_copies_high_independent_and_template_only_never():
    sources = {"ref": files(REFERENCE), "ref_again": files(REFERENCE), "copy": files(disguise(REFERENCE)),
               "alt": files(ALTERNATIVE), "blank1": files(TEMPLATE), "blank2": files(TEMPLATE),
               "blank3": files(TEMPLATE.replace("# TODO", "# todo"))}
    assert disguise(REFERENCE) != REFERENCE and compile(disguise(REFERENCE), "mlp.py", "exec")
    everything = similar_pairs(sources, files(TEMPLATE), minimum=0.0)
    first = everything[0]
    assert (first.first, first.second, first.identical, first.similarity) == ("ref", "ref_again", True, 1.0)
    assert not any(p.identical for p in everything[1:])
    score = {(p.first, p.second): p.similarity for p in everything}
    assert score[("copy", "ref")] >= 0.8 and score[("copy", "ref_again")] >= 0.8
    assert max(score.get(("alt", other), 0.0) for other in ("copy", "ref", "ref_again")) < DEFAULT_MIN / 2
    assert not any(p.first.startswith("blank") or p.second.startswith("blank") for p in everything)
    flagged = similar_pairs(sources, files(TEMPLATE))
    assert {(p.first, p.second) for p in flagged} == {("ref", "ref_again"), ("copy", "ref"), ("copy", "ref_again")}


def test_the_independently_written_a1_examples_are_not_flagged():
    examples = {p.parent.name: files(p.read_text()) for p in sorted((ROOT / "examples" / "a1").glob("*/mlp.py"))}
    assert len(examples) >= 2
    pairs = similar_pairs({**examples, "reference": files(REFERENCE), "alt": files(ALTERNATIVE)}, files(TEMPLATE),
                          minimum=0.0)
    assert len(pairs) >= 3 and max(p.similarity for p in pairs) < DEFAULT_MIN / 2


def test_without_the_template_subtracted_the_scaffolding_would_count():
    rest = "class Sigmoid" + TEMPLATE.split("class Sigmoid", 1)[1]  # both left every task but 1.1 as handed out
    sources = {"a": files(REFERENCE.split("class Sigmoid")[0] + rest),
               "b": files(ALTERNATIVE.split("class Sigmoid")[0] + rest)}
    assert similar_pairs(sources, None, minimum=0.0)[0].similarity > 0.3  # the handout's code, shared by all
    assert similar_pairs(sources, files(TEMPLATE), minimum=0.0)[0].similarity < 0.1


def course_assignment(tmp_path: Path) -> Assignment:
    """A course's own assignment with its own template (registered as a course would)."""
    template = tmp_path / "template"
    template.mkdir()
    (template / "net.py").write_text(TEMPLATE)
    return register(Assignment(id="test-similar", title="similar", files=("net.py",), template=template))


def test_cli_similar_ranks_names_and_writes_csv_for_a_course_assignment(tmp_path):
    course_assignment(tmp_path)
    book = tmp_path / "gb.sqlite"
    code = {"s1": REFERENCE, "s2": REFERENCE, "s3": disguise(REFERENCE), "s4": ALTERNATIVE, "s5": TEMPLATE,
            "s6": TEMPLATE}
    with Gradebook(book) as gb:
        run = gb.start_run("test-similar", "0.1.0", 1, "*", {}, {})
        for student, source in code.items():
            digest = f"hash-{student}" if student != "s2" else "hash-s1"
            gb.keep_sources("test-similar", digest, {"net.py": source})
            gb.record(run, student, digest, "0.1.0", "*", Report("test-similar", student, (
                CheckResult("c", "1", "c", "passed", 1.0, 1.0),)))
        gb.record(run, "s7", "hash-old", "0.1.0", "*", Report("test-similar", "s7", ()))  # no code kept
        gb.set_names("test-similar", {"s1": "=Ann <b>", "s3": "Cy"})
    result = CliRunner().invoke(main, ["gradebook", "similar", "--gradebook", str(book)])
    assert result.exit_code == 0, result.output + result.stderr
    lines = [line for line in result.stdout.splitlines() if re.match(r"\W \d+ \W", line)]
    assert "s1 (=Ann <b>)" in lines[0] and "s2" in lines[0] and "yes" in lines[0]
    assert len(lines) == 3 and not any("s4" in line or "s5" in line for line in lines)
    assert "4 submissions compared; starter code subtracted" in result.stderr
    assert "no code kept for 1 student(s) (s7)" in result.stderr
    csv_run = CliRunner().invoke(main, ["gradebook", "similar", "--format", "csv", "--min", "0",
                                                        "--gradebook", str(book)])
    rows = list(csv.DictReader(io.StringIO(csv_run.stdout)))
    assert rows[0]["identical"] == "true" and rows[0]["first_name"] == "'=Ann <b>"  # formula-safe
    assert {(r["first"], r["second"]) for r in rows} >= {("s1", "s4"), ("s1", "s3")}
    assert all(float(r["similarity"]) < DEFAULT_MIN / 2 for r in rows if "s4" in (r["first"], r["second"]))


def test_grading_a_class_keeps_each_submissions_code(tmp_path):
    root = tmp_path / "class"
    for student, source in {"ann": REFERENCE, "bo": REFERENCE, "cy": disguise(REFERENCE), "di": ALTERNATIVE,
                            "ed": TEMPLATE}.items():
        (root / student).mkdir(parents=True)
        (root / student / "mlp.py").write_text(source)
    result = grade_class("a1", root, gradebook=tmp_path / "gb.sqlite", tasks=["1.3"], seed=1, jobs=2)
    assert set(result.graded) == {"ann", "bo", "cy", "di", "ed"}
    found, _ = similar_submissions(tmp_path / "gb.sqlite")
    assert [(p.first, p.second, p.identical) for p in found.pairs][:1] == [("ann", "bo", True)]
    assert {(p.first, p.second) for p in found.pairs} == {("ann", "bo"), ("ann", "cy"), ("bo", "cy")}
    assert found.compared == 4 and found.template and not found.without_code
    import sqlite3

    with sqlite3.connect(tmp_path / "gb.sqlite") as db:  # as a gradebook written before dlgrade kept code
        db.execute("DELETE FROM sources")
    assert set(similar_submissions(tmp_path / "gb.sqlite")[0].without_code) == {"ann", "bo", "cy", "di", "ed"}
    rerun = grade_class("a1", root, gradebook=tmp_path / "gb.sqlite", tasks=["1.3"], seed=1)
    assert not rerun.graded and len(rerun.skipped) == 5  # nothing regraded, the code kept
    assert similar_submissions(tmp_path / "gb.sqlite")[0].pairs == found.pairs


@pytest.fixture(autouse=True)
def _forget_course_assignment():
    yield
    from grader import assignment

    assignment._registry.pop("test-similar", None)

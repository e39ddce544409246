"""Mutants of a reference, and author verify's accounting of them (caught, survivors, declared equivalents)."""

from __future__ import annotations

import dataclasses

from grader import api
from grader.assignment import Equivalent
from grader.authoring.mutants import mutants, sample, solution_lines

SOURCE = '''import numpy as np


def f(x, w, state):
    """Docstring 1 + 2."""
    y = -x @ w.T + 2 * np.sum(x, axis=0, keepdims=True)
    if y.sum() < 0.5:
        y = y - 1
    state += y.copy()
    return np.transpose(y)
'''


def test_every_kind_of_edit_is_made():
    changes = {m.change for m in mutants(SOURCE, "f.py")}
    expected = {"+ -> -", "* -> /", "@ -> *", "flip the sign (-x -> x)", "constant 2 -> 3", "constant 0.5 -> 1.0",
                "drop axis=", "axis=0 -> axis=1", "keepdims=True -> False", "drop .T", "drop transpose(...)",
                "drop the term after +", "drop the term before +", "return x (an input)", "< -> <=",
                "in place -> a copy (x op= y -> x = x op y)", "drop .copy()", "transpose the left operand of @"}
    assert expected <= changes, expected - changes
    assert not any("Docstring" in m.source and "Docstring 1 - 2" in m.source for m in mutants(SOURCE, "f.py"))


def test_each_mutant_is_one_compilable_distinct_program_with_its_place():
    found = mutants(SOURCE, "f.py")
    assert len({m.source for m in found}) == len(found)
    for m in found:
        compile(m.source, m.file, "exec")
        assert m.function == "f" and m.where.startswith(f"f.py:{m.line}: ")
    assert [m.line for m in found] == sorted(m.line for m in found)


def test_markers_restrict_mutation_to_the_solution():
    source = "def f(x):\n    y = x + 1\n    # BEGIN SOLUTION\n    return y * 2\n    # END SOLUTION\n"
    assert solution_lines(source) == {4}
    assert {m.line for m in mutants(source, "f.py")} == {4}
    assert solution_lines("x = 1\n") is None


def test_sample_is_fixed_and_bounded():
    found = mutants(SOURCE, "f.py")
    assert sample(found, 5) == sample(found, 5) and len(sample(found, 5)) == 5
    assert sample(found, None) == found


def test_verify_counts_survivors_and_declared_equivalents(course):
    reference = course.reference / "cell.py"
    text = reference.read_text().replace("    return np.tanh(x @ W + b)\n",
                                         "    unused = 3 * x\n    return np.tanh(x @ W + b)\n")
    reference.write_text(text)
    line = text.splitlines().index("    unused = 3 * x") + 1
    api.author_template(course.id)
    result = api.author_verify(course.id, seeds=1, mutants=None)
    assert result.ok and result.mutants.survivors  # reported, not gated
    assert all(s.startswith(f"cell.py:{line}: ") for s in result.mutants.survivors)
    assert result.mutants.caught == result.mutants.total - len(result.mutants.survivors)
    a = api.get_assignment(course.id)
    a.equivalent_mutants = (Equivalent(f"cell.py:{line}:", "the value is never used"),)
    declared = api.author_verify(course.id, seeds=1, mutants=None)
    assert declared.mutants.survivors == () and declared.mutants.equivalent == len(result.mutants.survivors)
    assert declared.mutants.score == 1.0
    gated = api.author_verify(course.id, seeds=1, mutants=None, min_mutation_score=1.0)
    assert gated.ok
    a.equivalent_mutants = ()
    assert not api.author_verify(course.id, seeds=1, mutants=None, min_mutation_score=1.0).ok


def test_verify_fails_when_the_template_scores_or_a_hint_is_missing(course):
    a = api.get_assignment(course.id)
    (course.template / "cell.py").write_text((course.reference / "cell.py").read_text())
    result = api.author_verify(course.id, seeds=1, mutants=0)
    assert not result.ok and any("markers give" in p for p in result.problems)
    api.author_template(course.id)
    original = a.mistakes
    a.mistakes = (dataclasses.replace(original[0], hint="something else"),)
    try:
        result = api.author_verify(course.id, seeds=1, mutants=0)
    finally:
        a.mistakes = original
    assert not result.ok and any("without the declared hint" in p for p in result.problems)
    assert api.author_verify(course.id, seeds=1, mutants=0).ok

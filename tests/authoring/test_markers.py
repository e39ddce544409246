"""Solution markers: the student's files are derived from the reference; markers never reach them."""

from __future__ import annotations

import pytest

from grader import api
from grader.authoring.markers import MarkerError, derive, derive_files, has_markers, write_template

REF = '''import numpy as np


def f(x):
    """Twice x."""
    # BEGIN SOLUTION
    return 2 * x
    # END SOLUTION


def g(x):
    # BEGIN SOLUTION: raise NotImplementedError("Task 1.2: g")
    y = x + 1
    return y
    # END SOLUTION


def h(x):
    total = 0
    # BEGIN SOLUTION: # TODO: add x to total
    total += x
    # END SOLUTION
    return total
'''


def test_derive_replaces_each_block_at_its_indentation():
    derived = derive(REF, "m.py")
    assert derived.blocks == 3
    assert "    raise NotImplementedError\n" in derived.text
    assert '    raise NotImplementedError("Task 1.2: g")\n' in derived.text
    assert "    # TODO: add x to total\n    return total\n" in derived.text
    assert "2 * x" not in derived.text and "y = x + 1" not in derived.text and "total += x" not in derived.text
    assert not has_markers(derived.text) and "SOLUTION" not in derived.text
    assert '"""Twice x."""' in derived.text  # what is outside the blocks stays


def test_a_reference_without_markers_is_left_alone():
    assert not has_markers("def f(x):\n    return x\n")
    assert derive("def f(x):\n    return x\n").text == "def f(x):\n    return x\n"


@pytest.mark.parametrize("text,error", [
    ("# BEGIN SOLUTION\nx = 1\n", "never closed"),
    ("x = 1\n# END SOLUTION\n", "without a BEGIN"),
    ("# BEGIN SOLUTION\n# BEGIN SOLUTION\n# END SOLUTION\n", "inside the block"),
    ("x = 1  # BEGIN SOLUTION\n", "line of its own"),
    ("def f():\n    # BEGIN SOLUTION: # TODO\n    return 1\n    # END SOLUTION\n", "not valid Python"),
])
def test_malformed_markers_are_named_with_their_line(text, error):
    with pytest.raises(MarkerError, match=error) as raised:
        derive(text, "m.py")
    assert raised.value.exit_code == 2
    assert "m.py" in str(raised.value)


def test_toml_answers_too():
    text = "[q]\n# BEGIN SOLUTION: a = ''\na = 'G * 2'\n# END SOLUTION\n"
    assert derive(text, "answers.toml").text == "[q]\na = ''\n"


def test_derive_files_prefers_markers_then_the_handwritten_template(tmp_path):
    (tmp_path / "ref").mkdir()
    (tmp_path / "tpl").mkdir()
    (tmp_path / "ref" / "a.py").write_text(REF)
    (tmp_path / "ref" / "b.py").write_text("def b():\n    return 1\n")
    (tmp_path / "tpl" / "b.py").write_text("def b():\n    raise NotImplementedError\n")
    files = derive_files(tmp_path / "ref", tmp_path / "tpl", ("a.py", "b.py", "c.py"))
    assert set(files) == {"a.py", "b.py"}
    assert files["a.py"] == derive(REF).text
    assert files["b.py"] == "def b():\n    raise NotImplementedError\n"


def test_author_template_rewrites_the_course_template(course, tmp_path):
    (course.template / "cell.py").write_text("stale\n")
    written = write_template(api.get_assignment(course.id))
    assert {p.name for p in written} == {"cell.py", "answers.toml"}
    text = (course.template / "cell.py").read_text()
    assert 'raise NotImplementedError("Task 1.1: forward")' in text and "SOLUTION" not in text
    assert "np.tanh(x @ W + b)" not in text
    out = write_template(api.get_assignment(course.id), tmp_path / "elsewhere")
    assert all(p.parent == tmp_path / "elsewhere" for p in out)


def test_init_never_copies_markers(course, tmp_path):
    """Even a template folder that still holds markers gives the student a file without them."""
    (course.template / "cell.py").write_text((course.reference / "cell.py").read_text())
    api.init(course.id, tmp_path / "mine")
    text = (tmp_path / "mine" / "cell.py").read_text()
    assert "SOLUTION" not in text and "np.tanh(x @ W + b)" not in text


def test_init_derives_the_files_when_the_template_was_never_written(course, tmp_path):
    import shutil

    shutil.rmtree(course.template)
    written = api.init(course.id, tmp_path / "mine")
    assert {p.name for p in written} == {"cell.py", "answers.toml"}
    text = (tmp_path / "mine" / "cell.py").read_text()
    assert 'raise NotImplementedError("Task 1.1: forward")' in text and "SOLUTION" not in text

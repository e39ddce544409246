"""Notebooks: read with nbformat, only definitions run, errors point at cells, same grade as a folder."""

from __future__ import annotations

import json

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from grader import api
from grader.errors import SubmissionError
from grader.notebook import notebook_module
from grader.submission import load_submission
from tests.conftest import REFERENCE_A1

EXPECTED = ("mlp.py",)


def write(tmp_path, cells, minor: int = 5, name: str = "a1.ipynb"):
    """A notebook as Jupyter saves it, in nbformat 4.``minor`` (4.4 has no cell ids)."""
    nb = new_notebook(cells=cells)
    nb.nbformat_minor = minor
    if minor < 5:
        for cell in nb.cells:
            cell.pop("id", None)
    path = tmp_path / name
    path.write_text(nbformat.writes(nb))
    return path


def reference_in_cells(tmp_path, minor: int):
    """The a1 reference spread over cells, with markdown, magics, prints, a training run and a late __future__."""
    body = REFERENCE_A1.replace("from __future__ import annotations\n", "")
    chunks = body.split("\nclass ")
    cells = [new_markdown_cell("# Assignment 1"), new_code_cell("%matplotlib inline\n!pip install numpy")]
    cells.append(new_code_cell(chunks[0]))
    for chunk in chunks[1:]:
        cells.append(new_code_cell("class " + chunk))
        cells.append(new_markdown_cell("Some explanation."))
    cells.append(new_code_cell("from __future__ import annotations"))
    cells.append(new_code_cell("import time\nprint('training...')\ntime.sleep(600)  # a minute-long training run"))
    cells.append(new_code_cell("%%time\nfor i in range(10**12): pass"))
    return write(tmp_path, cells, minor)


@pytest.mark.parametrize("minor", [4, 5])
def test_notebook_grades_like_the_folder(tmp_path, grade, minor):
    path = reference_in_cells(tmp_path, minor)
    tasks = ["1.1", "1.3"]
    from_notebook = grade("a1", path, tasks=tasks)
    from_folder = grade("a1", {"mlp.py": REFERENCE_A1}, tasks=tasks)
    assert from_notebook.score == from_folder.score == from_folder.max_score
    notes = " ".join(from_notebook.diagnostics["submission_notes"])
    assert "ignored" in notes and "not run by the grader" in notes
    assert all("training..." not in c.output for c in from_notebook.checks)


def test_only_definitions_run(tmp_path):
    path = write(tmp_path, [
        new_code_cell("import numpy as np\nEPS = 1e-8\nrng = np.random.default_rng(0)\n"
                      "def f(x):\n    return x + EPS + rng.random()"),
        new_code_cell("print('hello')\nmodel = f(1)\nf(2)"),
    ])
    module = notebook_module(path)
    assert "rng = np.random.default_rng(0)" in module.code  # used by a function: kept
    assert "print" not in module.code and "model = f(1)" not in module.code
    assert any("cell 2" in n for n in module.notes)


def test_all_statements_when_the_assignment_needs_them(tmp_path):
    path = write(tmp_path, [new_code_cell("x = 1"), new_code_cell("print(x)")])
    assert "print(x)" in notebook_module(path, statements="all").code


def test_future_import_in_a_later_cell_is_hoisted(tmp_path):
    path = write(tmp_path, [new_code_cell("def f() -> Undefined:\n    return 1"),
                            new_code_cell("from __future__ import annotations")])
    module = notebook_module(path)
    assert module.code.startswith("from __future__ import annotations")
    compile(module.code, "mlp.py", "exec")


def test_syntax_error_names_the_cell(tmp_path):
    path = write(tmp_path, [new_code_cell("x = 1"), new_code_cell("def f(:\n    pass")])
    with pytest.raises(SubmissionError, match=r"cell 2, line 1: syntax error"):
        load_submission(path, EXPECTED, tmp_path / "stage")


def test_runtime_error_names_the_cell(tmp_path, grade):
    source = REFERENCE_A1.replace("from __future__ import annotations\n", "")
    broken = source.replace("def softmax(x", "def softmax(x, *_):\n    raise ValueError('boom')\n\ndef _old(x", 1)
    assert broken != source
    path = write(tmp_path, [new_markdown_cell("intro"), new_code_cell(broken)])
    report = grade("a1", path, tasks=["1.3"])
    messages = " ".join(c.message for c in report.checks if c.status == "error")
    assert "notebook cell 2, line" in messages and "mlp.py:" not in messages


@pytest.mark.parametrize("content, reason", [
    ("{", "malformed"),
    (json.dumps({"no": "cells"}), "no nbformat version"),
    (json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": {"not": "a list"}}), "valid"),
    (json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {},
                 "cells": [{"cell_type": "code", "source": {"a": 1}, "metadata": {}, "outputs": [],
                            "execution_count": None}]}), "valid"),
    ("[" * 100000 + "]" * 100000, "nests deeper"),
    (json.dumps({"nbformat": 9, "cells": []}), "nbformat 9"),
])
def test_malformed_notebooks_are_one_sentence(tmp_path, content, reason):
    path = tmp_path / "a1.ipynb"
    path.write_text(content)
    with pytest.raises(SubmissionError, match=reason):
        load_submission(path, EXPECTED, tmp_path / "stage")


def test_fifo_notebook_does_not_hang(tmp_path):
    import os

    path = tmp_path / "a1.ipynb"
    os.mkfifo(path)
    with pytest.raises(SubmissionError, match="FIFO|not a regular file"):
        load_submission(path, EXPECTED, tmp_path / "stage")


def test_api_check_accepts_a_notebook(tmp_path, zygote):
    path = write(tmp_path, [new_code_cell("x = 1")])
    report = api.check("a1", path, tasks=["1.3"], seed=1, zygote=zygote)
    assert report.score == 0


def test_a_plotting_notebook_gets_full_marks(tmp_path, grade):
    """A correct notebook whose first cell imports matplotlib (absent from the sandbox) and plots later."""
    path = write(tmp_path, [
        new_code_cell("import numpy as np\nimport matplotlib.pyplot as plt\nfrom tqdm import tqdm"),
        new_code_cell(REFERENCE_A1.replace("from __future__ import annotations\n", "")),
        new_code_cell("plt.plot([1, 2, 3])\nplt.show()"),
    ])
    report = grade("a1", path, tasks=["1.1", "1.3"])
    assert report.score == report.max_score > 0
    notes = " ".join(report.diagnostics["submission_notes"])
    assert "does not provide matplotlib" in notes and "does not provide tqdm" in notes


def test_a_graded_function_that_plots_is_named_with_its_package_and_cells(tmp_path):
    path = write(tmp_path, [
        new_code_cell("import numpy as np\nimport pandas as pd"),
        new_code_cell("def summary(x):\n    return pd.Series(x).mean()"),
    ])
    module = notebook_module(path, importable=("numpy", "mlp"))
    assert "import pandas" not in module.code and "import numpy as np" in module.code
    note = next(n for n in module.notes if "pandas" in n)
    assert note.startswith("cell 1:") and "`summary` (cell 2) uses `pd`" in note


def test_imports_are_kept_without_an_importable_list_and_for_the_assignment_packages(tmp_path):
    path = write(tmp_path, [new_code_cell("import os\nimport numpy as np\nfrom scipy import signal\nimport mlp")])
    assert "from scipy import signal" in notebook_module(path).code
    module = notebook_module(path, importable=("numpy", "scipy", "mlp"))
    assert all(line in module.code for line in ("import os", "import numpy as np", "from scipy import signal"))
    assert not module.notes


def test_a_forbidden_import_in_a_notebook_is_still_reported(tmp_path, grade):
    path = write(tmp_path, [new_code_cell(REFERENCE_A1.replace("from __future__ import annotations\n", "")),
                            new_code_cell("import torch")])
    report = grade("a1", path, tasks=["1.3"])
    assert report.score == 0 and "torch" in " ".join(c.message for c in report.checks)

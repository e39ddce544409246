"""a4 red team: hostile submissions score no more than an honest model that computes nothing.

Each file under submissions/a4/ attacks the a4 checks from inside the sandbox:
rewriting the grader's sandbox helpers (through frames or the garbage
collector), monkeypatching torch, reporting NaN, huge, wrong-dtype or
incomplete state_dicts, replaying memorised answers, faking the layer calls an
in-sandbox recorder would see, and hunting for labels during training. The
parent decides from weights it drew and outputs it compares, so none of them
gains a point, and none crashes the grader.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from grader.assignments.a4 import data, training  # noqa: E402
from tests.assignments.a4_bugs import fixtures  # noqa: E402
from tests.conftest import by_id  # noqa: E402

torch_zygote, grade4 = fixtures.torch_zygote, fixtures.grade4
HERE = Path(__file__).parent / "submissions" / "a4"
ATTACKS = sorted(p.stem for p in HERE.glob("*.py") if not p.stem.startswith("_") and p.stem != "reads_labels")
STATUSES = {"passed", "failed", "error", "timeout"}


@pytest.fixture(scope="module")
def honest_score(torch_zygote, tmp_path_factory):
    """The score of a model with all the layers whose forward returns zeros: the bar no attack may clear."""
    from grader import api

    folder = tmp_path_factory.mktemp("nothing")
    (folder / "lenet.py").write_text((HERE / "_nothing.py").read_text())
    report = api.check("a4", folder, tasks=["4.1"], seed=11, zygote=torch_zygote)
    assert report.score < report.max_score / 2
    return report.score


@pytest.mark.parametrize("name", ATTACKS)
def test_attack_gains_nothing(grade4, honest_score, name):
    report = grade4({"lenet.py": (HERE / f"{name}.py").read_text()}, tasks=["4.1"], seed=11)
    assert {c.status for c in report.checks if c.status != "skipped"} <= STATUSES
    assert report.score <= honest_score, [(c.id, c.status, c.message) for c in report.checks if c.status == "passed"]


def test_training_never_sees_test_labels(grade4, monkeypatch):
    """Training data reach the sandbox; the test labels do not (the parent measures test accuracy itself)."""
    monkeypatch.setattr(training, "STANDIN", training.Recipe(epochs=1, batch_size=64, lr=0.01,
                                                             thresholds={"plain": 0.0, "bn_dropout": 0.0}))
    report = grade4({"lenet.py": (HERE / "reads_labels.py").read_text()}, tasks=["train_plain"])
    check = by_id(report)["train_plain"]
    images = data.standin(training.SEED)

    def digest(labels: np.ndarray) -> str:
        return hashlib.sha1(np.ascontiguousarray(labels).tobytes()).hexdigest()

    assert digest(images.train_y) in check.output  # the scan works: it finds the training labels it was sent
    assert digest(images.test_y) not in check.output
    assert check.details["curves"]["test_accuracy"]  # measured in the parent


JAM = """

import sys as _sys


class _Jam:
    \"\"\"A stdout whose flush raises: the structure group's ``begin`` flushes it before the next check.\"\"\"

    def __init__(self, inner):
        self.inner = inner

    def write(self, text):
        return self.inner.write(text)

    def flush(self):
        raise RuntimeError("jammed")


if not isinstance(_sys.stdout, _Jam):
    _sys.stdout = _Jam(_sys.stdout)
"""


def test_a_lenet_that_jams_the_groups_begin_is_graded_as_alone(grade4):
    """A correct LeNet that makes the structure group's ``begin`` raise used to crash the grader (exit 3: output_shapes
    asks for the drivers first, and the raw RemoteError escaped). Each check now gets a fresh process instead."""
    source = (Path(__file__).parents[2] / "reference" / "a4" / "lenet.py").read_text() + JAM
    report = grade4({"lenet.py": source}, tasks=["4.1"], seed=11)
    assert all(c.status == "passed" for c in report.checks if c.task == "4.1"), \
        [(c.id, c.status, c.message) for c in report.checks]

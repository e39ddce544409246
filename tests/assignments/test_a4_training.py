"""Calibration of a4's training checks on the stand-in: the reference clears each threshold with margin.

Runs the drivers in-process (no sandbox), on the CPU, with the grader's recipe and seed; the test
accuracy is measured the way the check measures it: the trained weights, read back as the sandbox
would report them, in the reference LeNet in the parent.
"""

from __future__ import annotations

import importlib.util
import types

import pytest

torch = pytest.importorskip("torch")

from grader.assignments.a4 import data, training  # noqa: E402
from grader.assignments.a4 import model as ref  # noqa: E402
from grader.assignments.a4.spec import A4  # noqa: E402
from reference.a4 import lenet  # noqa: E402

spec = importlib.util.spec_from_file_location("a4_drivers", A4.drivers)
drivers = importlib.util.module_from_spec(spec)
spec.loader.exec_module(drivers)


@pytest.mark.parametrize("variant, kwargs", [("plain", {}), ("bn_dropout", {"batch_norm": True, "dropout": 0.3})])
def test_reference_clears_the_standin_threshold(variant, kwargs):
    torch.set_num_threads(1)
    images, recipe = data.standin(training.SEED), training.STANDIN
    mean, std = training.normalization(images.train_x)
    model = drivers.build(types.SimpleNamespace(LeNet=lenet.LeNet), kwargs, training.SEED)
    trainer = drivers.Trainer(model, images.train_x, images.train_y, mean, std, training.SEED, recipe.batch_size,
                              recipe.lr)
    for _ in range(recipe.epochs):
        trainer.epoch()
    weights = ref.match(ref.claimed_state(trainer.state()), kwargs).weights
    test_x = ((images.test_x.astype("float32") - mean) / std).astype("float32")
    _, accuracy = training.loss_and_accuracy(kwargs, weights, test_x, images.test_y)
    assert accuracy >= recipe.thresholds[variant] + 0.05


def test_standin_is_balanced_and_deterministic():
    a, b = data.standin(0), data.standin(0)
    assert data.standin(1).train_x.tobytes() != a.train_x.tobytes()
    assert (a.train_x == b.train_x).all() and [int((a.test_y == k).sum()) for k in range(10)] == [50] * 10

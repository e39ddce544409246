"""Calibration of a4's training checks on the stand-in: the reference clears each threshold with margin.

Runs the drivers in-process (no sandbox), on the CPU, with the grader's recipe and seed.
"""

from __future__ import annotations

import importlib.util
import types

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from grader.assignments.a4 import data, training  # noqa: E402
from grader.assignments.a4.spec import A4  # noqa: E402
from reference.a4 import lenet  # noqa: E402

spec = importlib.util.spec_from_file_location("a4_drivers", A4.drivers)
drivers = importlib.util.module_from_spec(spec)
spec.loader.exec_module(drivers)


@pytest.mark.parametrize("variant, kwargs", [("plain", {}), ("bn_dropout", {"batch_norm": True, "dropout": 0.3})])
def test_reference_clears_the_standin_threshold(variant, kwargs):
    torch.set_num_threads(1)
    images, recipe = data.standin(training.SEED), training.STANDIN
    trainer = drivers.Trainer(types.SimpleNamespace(LeNet=lenet.LeNet), kwargs, images.train_x, images.train_y,
                              images.test_x, training.SEED, recipe.batch_size, recipe.lr)
    accuracy = 0.0
    for _ in range(recipe.epochs):
        _, logits = trainer.epoch()
        accuracy = float(np.mean(logits.argmax(1) == images.test_y))
    assert accuracy >= recipe.thresholds[variant] + 0.05


def test_standin_is_balanced_and_deterministic():
    a, b = data.standin(0), data.standin(0)
    assert np.array_equal(a.train_x, b.train_x) and np.bincount(a.test_y).tolist() == [50] * 10

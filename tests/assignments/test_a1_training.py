"""Calibration of a1's training checks: the fixed recipes work for the reference, with margin.

The drivers run in-process here (no sandbox) to measure the reference itself.
"""

from __future__ import annotations

import importlib.util

import numpy as np

from grader.assignments.a1 import data, standins, training
from reference.a1 import mlp

spec = importlib.util.spec_from_file_location("a1_drivers", training.A1.drivers)
drivers = importlib.util.module_from_spec(spec)
spec.loader.exec_module(drivers)


def toy_accuracy(x, y, substitutes=None):
    r = training.TOY_RECIPE
    params, losses = drivers.train_sigmoid_mlp(mlp, x, y, r["sizes"], r["epochs"], r["lr"],
                                               training.TRAINING_SEED, substitutes)
    out = x
    for W, b in training._parameters(params, r["sizes"]):
        out = mlp.Sigmoid().forward(out @ W + b)
    return float(np.mean((out > 0.5) == (y > 0.5))), losses


def test_toy_sets_reach_100_percent_with_loss_to_spare():
    for x, y in (data.linear_toy(np.random.default_rng(training.TRAINING_SEED)), data.xor_toy()):
        accuracy, losses = toy_accuracy(x, y)
        assert accuracy == 1.0 and losses[-1] < 0.05


def test_digits_clear_the_threshold_with_margin():
    x_train, y_train, x_test, y_test = data.digits_split(np.random.default_rng(training.TRAINING_SEED))
    assert set(y_test) == set(range(10)) and len(x_train) + len(x_test) == 1797
    r = training.DIGITS_RECIPE
    for name in (None, *training.DIGITS_PARTS):  # the reference, and each of the grader's stand-ins in it
        substitutes = {name: standins.SOURCES[name]} if name else None
        (W, b), _ = drivers.train_softmax_classifier(mlp, x_train, y_train, training.N_CLASSES, r["epochs"], r["lr"],
                                                     r["batch_size"], training.TRAINING_SEED, substitutes)
        accuracy = float(np.mean((x_test @ W + b).argmax(axis=1) == y_test))
        assert accuracy >= training.DIGITS_THRESHOLD + 0.03, (name, accuracy)


def test_each_standin_trains_the_toy_sets():
    """The grader's stand-in for any one component trains as well as the reference does."""
    for name in training.TOY_PARTS:
        for x, y in (data.linear_toy(np.random.default_rng(training.TRAINING_SEED)), data.xor_toy()):
            accuracy, losses = toy_accuracy(x, y, {name: standins.SOURCES[name]})
            assert accuracy == 1.0 and losses[-1] < 0.05, name


def test_a_model_that_cannot_learn_fails_the_threshold():
    """Chance-level logits stay far below the threshold: the check can fail."""
    _, _, _, y_test = data.digits_split(np.random.default_rng(training.TRAINING_SEED))
    chance = np.random.default_rng(0).standard_normal((len(y_test), 10))
    assert np.mean(chance.argmax(axis=1) == y_test) < training.DIGITS_THRESHOLD / 2

"""a1 task 1.6: the student's layers, loss and SGD trained in the grader's loop.

The loop runs in the sandbox (``drivers.py``) because it takes thousands of
steps; it returns predictions and losses, and accuracy is computed here. The
digits check never sends the test labels to the sandbox. Training seeds and
recipes are fixed, chosen so that the reference reaches the thresholds (see
``tests/assignments/test_a1_training.py``), so a correct submission never
fails by bad luck.
"""

from __future__ import annotations

import numpy as np

from grader.assignment import CheckContext, CheckFailed
from grader.assignments.a1 import data
from grader.assignments.a1.spec import A1
from grader.checks.compare import as_array, unpack

TRAINING_SEED = 0
TOY_RECIPE = {"sizes": [2, 4, 4, 1], "epochs": 5000, "lr": 10.0}
DIGITS_RECIPE = {"epochs": 20, "lr": 0.5, "batch_size": 32}
DIGITS_THRESHOLD = 0.90


def _loss_summary(losses: np.ndarray) -> str:
    if losses.size == 0:
        return ""
    return f" The training loss went from {losses[0]:.4g} to {losses[-1]:.4g}."


def _not_learning_hint(losses: np.ndarray) -> str:
    if losses.size and not np.isfinite(losses).all():
        return "The loss became NaN or infinite: check for overflow in exp and the sign of your updates."
    if losses.size > 1 and losses[-1] >= losses[0] * 0.99:
        return "The loss did not go down: check the backward passes and SGD.step (which should update in place)."
    return "The loss went down but not far enough: compare each layer's backward with the handout."


def _train_toy(ctx: CheckContext, name: str, x: np.ndarray, y: np.ndarray) -> None:
    mlp = ctx.student.module("mlp").as_object()
    predictions, losses = unpack("the training loop", ctx.student.drivers().call(
        "train_sigmoid_mlp", mlp, x, y, TOY_RECIPE["sizes"], TOY_RECIPE["epochs"], TOY_RECIPE["lr"], TRAINING_SEED), 2)
    predictions, losses = as_array("network output", predictions), as_array("training losses", losses)
    if predictions.shape != y.shape:
        raise CheckFailed(f"The trained network's output has shape {predictions.shape}, expected {y.shape}.")
    accuracy = float(np.mean((predictions > 0.5) == (y > 0.5)))
    if accuracy < 1.0:
        wrong = int(round((1 - accuracy) * len(y)))
        raise CheckFailed(f"After training a 2-4-4-1 sigmoid network on the {name} set, {wrong} of {len(y)} points "
                          f"are misclassified (accuracy {accuracy:.1%}, expected 100%).{_loss_summary(losses)}",
                          _not_learning_hint(losses))


@A1.check("1.6", "Training: linear toy set to 100%", points=2, wall_s=60)
def train_linear(ctx: CheckContext) -> None:
    """2-4-4-1 sigmoid network, MSE loss, SGD, on linearly separable points."""
    _train_toy(ctx, "linear", *data.linear_toy(np.random.default_rng(TRAINING_SEED)))


@A1.check("1.6", "Training: XOR toy set to 100%", points=2, wall_s=60)
def train_xor(ctx: CheckContext) -> None:
    """2-4-4-1 sigmoid network, MSE loss, SGD, on the easy XOR set."""
    _train_toy(ctx, "XOR", *data.xor_toy())


@A1.check("1.6", f"Training: softmax classifier on digits (>= {DIGITS_THRESHOLD:.0%})", points=3, wall_s=60)
def train_digits(ctx: CheckContext) -> None:
    """Linear + CrossEntropyLoss + SGD on 8x8 handwritten digits; test accuracy measured by the grader."""
    x_train, y_train, x_test, y_test = data.digits_split(np.random.default_rng(TRAINING_SEED))
    mlp = ctx.student.module("mlp").as_object()
    logits, losses = unpack("the training loop", ctx.student.drivers().call(
        "train_softmax_classifier", mlp, x_train, y_train, x_test, DIGITS_RECIPE["epochs"], DIGITS_RECIPE["lr"],
        DIGITS_RECIPE["batch_size"], TRAINING_SEED), 2)
    logits, losses = as_array("test logits", logits), as_array("training losses", losses)
    if logits.shape != (len(y_test), 10):
        raise CheckFailed(f"The classifier's test logits have shape {logits.shape}, expected {(len(y_test), 10)}.")
    if not np.isfinite(logits).all():
        raise CheckFailed("The classifier's test logits are not finite.", _not_learning_hint(losses))
    accuracy = float(np.mean(np.argmax(logits, axis=1) == y_test))
    if accuracy < DIGITS_THRESHOLD:
        raise CheckFailed(f"Test accuracy on held-out digits is {accuracy:.1%}, below {DIGITS_THRESHOLD:.0%}."
                          f"{_loss_summary(losses)}", _not_learning_hint(losses))

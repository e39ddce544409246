"""a1 task 1.6: the student's layers, loss and SGD trained in the grader's loop; the parent judges.

The loop runs in the sandbox (``drivers.py``) because it takes thousands of
steps. Only training data (and the training labels the loss needs) enter the
sandbox; what comes back are the trained parameters, checked for shape and
finiteness, and the parent computes the predictions with the handout's forward
(an overflow-free sigmoid of its own) and the accuracy itself: on the training points for the toy
sets, on held-out digits whose images and labels never enter the sandbox.

One mistake, counted once: when exactly one component the loop uses failed its
own checks earlier in the run, the loop uses the grader's stand-in for it
(``standins.py``), so that mistake costs its own points only. Training seeds
and recipes are fixed, chosen so that the reference reaches the thresholds
(``tests/assignments/test_a1_training.py``): a correct submission never fails by bad luck.
"""

from __future__ import annotations

import numpy as np

from grader.assignments.a1 import data
from grader.assignments.a1.spec import A1
from grader.assignments.a1.standins import standins
from grader.authoring import CheckContext, CheckFailed, as_array, expect_shape, unpack

TRAINING_SEED = 0
TOY_RECIPE = {"sizes": [2, 4, 4, 1], "epochs": 5000, "lr": 10.0}
DIGITS_RECIPE = {"epochs": 20, "lr": 0.5, "batch_size": 32}
DIGITS_THRESHOLD = 0.90
N_CLASSES = 10
TOY_PARTS = ("Linear", "Sigmoid", "MSELoss", "SGD")
DIGITS_PARTS = ("Linear", "CrossEntropyLoss", "SGD")


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


def _parameters(returned, sizes: list[int]) -> list[tuple[np.ndarray, np.ndarray]]:
    """The trained (W, b) of each layer, shapes and values checked before they are used."""
    layers = unpack("the trained parameters", returned, len(sizes) - 1)
    checked = []
    for k, (pair, fan_in, fan_out) in enumerate(zip(layers, sizes[:-1], sizes[1:])):
        W, b = unpack(f"layer {k + 1}'s (W, b)", pair, 2)
        W = expect_shape(f"layer {k + 1}'s W after training", W, (fan_in, fan_out))
        b = expect_shape(f"layer {k + 1}'s b after training", b, (fan_out,))
        if not (np.isfinite(W).all() and np.isfinite(b).all()):
            raise CheckFailed(f"layer {k + 1}'s parameters are not finite after training.",
                              "The updates blew up: check the sign and scale of your gradients and of SGD.step.")
        checked.append((W, b))
    return checked


def _sigmoid(z: np.ndarray) -> np.ndarray:
    """The logistic function, overflow-free: the parent's own, so that the student build (which has no
    reference to run on weights it never recorded) judges the toy trainings too."""
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def _standin_note(used: dict) -> str:
    if not used:
        return ""
    (name,) = used
    return (f"Trained with the grader's {name} in place of yours, because yours failed its own checks "
            "(one mistake is counted once).")


def _standins(ctx: CheckContext, parts: tuple[str, ...]) -> dict[str, str]:
    used = standins(ctx, parts)
    if used:
        ctx.details["standin"] = next(iter(used))
    return used


def _train_toy(ctx: CheckContext, name: str, x: np.ndarray, y: np.ndarray) -> str:
    used = _standins(ctx, TOY_PARTS)
    mlp = ctx.student.module("mlp").as_object()
    sizes = TOY_RECIPE["sizes"]
    params, losses = unpack("the training loop", ctx.student.drivers().call(
        "train_sigmoid_mlp", mlp, x, y, sizes, TOY_RECIPE["epochs"], TOY_RECIPE["lr"], TRAINING_SEED, used), 2)
    losses = as_array("training losses", losses)
    out = x
    for W, b in _parameters(params, sizes):  # the handout's forward, here in the parent
        out = _sigmoid(out @ W + b)
    accuracy = float(np.mean((out > 0.5) == (y > 0.5)))
    if accuracy < 1.0:
        wrong = int(round((1 - accuracy) * len(y)))
        raise CheckFailed(f"After training a 2-4-4-1 sigmoid network on the {name} set, {wrong} of {len(y)} points "
                          f"are misclassified (accuracy {accuracy:.1%}, expected 100%).{_loss_summary(losses)} "
                          f"{_standin_note(used)}".rstrip(), _not_learning_hint(losses))
    return _standin_note(used)


@A1.check("1.6", "Training: linear toy set to 100%", points=2, wall_s=60, depends_on=TOY_PARTS)
def train_linear(ctx: CheckContext) -> str:
    """2-4-4-1 sigmoid network, MSE loss, SGD, on linearly separable points."""
    return _train_toy(ctx, "linear", *data.linear_toy(np.random.default_rng(TRAINING_SEED)))


@A1.check("1.6", "Training: XOR toy set to 100%", points=2, wall_s=60, depends_on=TOY_PARTS)
def train_xor(ctx: CheckContext) -> str:
    """2-4-4-1 sigmoid network, MSE loss, SGD, on the easy XOR set."""
    return _train_toy(ctx, "XOR", *data.xor_toy())


@A1.check("1.6", f"Training: softmax classifier on digits (>= {DIGITS_THRESHOLD:.0%})", points=3, wall_s=60,
          depends_on=DIGITS_PARTS)
def train_digits(ctx: CheckContext) -> str:
    """Linear + CrossEntropyLoss + SGD on 8x8 handwritten digits; test accuracy measured by the grader."""
    x_train, y_train, x_test, y_test = data.digits_split(np.random.default_rng(TRAINING_SEED))
    used = _standins(ctx, DIGITS_PARTS)
    mlp = ctx.student.module("mlp").as_object()
    params, losses = unpack("the training loop", ctx.student.drivers().call(
        "train_softmax_classifier", mlp, x_train, y_train, N_CLASSES, DIGITS_RECIPE["epochs"], DIGITS_RECIPE["lr"],
        DIGITS_RECIPE["batch_size"], TRAINING_SEED, used), 2)
    losses = as_array("training losses", losses)
    ((W, b),) = _parameters([params], [x_train.shape[1], N_CLASSES])
    logits = x_test @ W + b  # the test images and labels never enter the sandbox
    accuracy = float(np.mean(np.argmax(logits, axis=1) == y_test))
    if accuracy < DIGITS_THRESHOLD:
        raise CheckFailed(f"Test accuracy on held-out digits is {accuracy:.1%}, below {DIGITS_THRESHOLD:.0%}."
                          f"{_loss_summary(losses)} {_standin_note(used)}".rstrip(), _not_learning_hint(losses))
    return _standin_note(used) or f"test accuracy {accuracy:.1%}."

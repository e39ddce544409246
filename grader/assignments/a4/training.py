"""a4 task 4.2: overfit one batch, then train the student's LeNet to a test-accuracy threshold.

The grader trains (fixed seed and recipe) inside the sandbox, one epoch per
call so the terminal can show progress; the sandbox gets the test images but
never their labels, and accuracy is computed here. Learning curves go into the
check's ``details`` (the JSON report) and, with ``--artifacts DIR``, a PNG.

Thresholds: on the stand-in, from the reference over seeds 0-4 with a margin below the
worst final accuracy (numbers beside ``STANDIN``; re-measured by
tests/assignments/test_a4_training.py). The CIFAR-10
thresholds follow published LeNet results for 10 epochs (about 60%); they were not
calibrated on this project's machines, which have no copy of CIFAR-10.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from grader.assignment import CheckContext, CheckFailed
from grader.assignments.a4 import data
from grader.assignments.a4.spec import A4
from grader.assignments.a4.structure import BN_DROPOUT, PLAIN
from grader.checks.compare import as_array, as_scalar, unpack

SEED = 0


@dataclass(frozen=True)
class Recipe:
    epochs: int
    batch_size: int
    lr: float
    thresholds: dict  # variant name -> minimum final test accuracy


# Stand-in calibration (reference, seeds 0-4, this recipe): final test accuracy >= 0.878 for LeNet() and 1.0
# with batch norm and dropout; a model with a softmax before the loss reaches 0.16 and 0.55.
STANDIN = Recipe(epochs=6, batch_size=64, lr=0.01, thresholds={"plain": 0.75, "bn_dropout": 0.90})
CIFAR10 = Recipe(epochs=10, batch_size=128, lr=0.02, thresholds={"plain": 0.45, "bn_dropout": 0.45})
OVERFIT_STEPS, OVERFIT_BATCH, OVERFIT_BOUND = 200, 32, 0.1


@lru_cache(maxsize=2)
def _cifar10(folder: str) -> data.ImageData:
    return data.load_cifar10(folder)


@lru_cache(maxsize=1)
def _standin() -> data.ImageData:
    return data.standin(SEED)


def dataset(ctx: CheckContext) -> tuple[data.ImageData, Recipe]:
    folder = data.cifar10_folder(ctx.data)
    if folder is not None:
        return _cifar10(str(Path(folder).resolve())), CIFAR10
    return _standin(), STANDIN


@A4.check("4.2", "Overfit one batch", points=2, wall_s=120)
def overfit_one_batch(ctx: CheckContext) -> str:
    """On 32 fixed images, Adam must drive the training loss below 0.1 within 200 steps."""
    images = _standin()
    x, y = images.train_x[:OVERFIT_BATCH], images.train_y[:OVERFIT_BATCH]
    module = ctx.student.module("lenet").as_object()
    losses = as_array("losses", ctx.student.drivers().call("overfit", module, PLAIN, x, y, OVERFIT_STEPS, 1e-3, SEED))
    if losses.size != OVERFIT_STEPS or not np.isfinite(losses).all():
        raise CheckFailed("Training on one batch gave non-finite losses.", "Check the forward for NaNs.")
    ctx.details["overfit_loss"] = [round(float(v), 5) for v in losses]
    if losses[-1] > OVERFIT_BOUND:
        raise CheckFailed(f"After {OVERFIT_STEPS} Adam steps on one batch of {OVERFIT_BATCH} images the loss is "
                          f"{losses[-1]:.3f} (it started at {losses[0]:.3f}); it should fall below {OVERFIT_BOUND}.",
                          "A model that cannot memorize 32 images cannot learn: look for a missing ReLU, a softmax "
                          "before the loss, frozen parameters or layers created inside forward.")
    return f"loss {losses[0]:.3f} -> {losses[-1]:.4f} in {OVERFIT_STEPS} steps."


def _train(ctx: CheckContext, name: str, variant: str, kwargs: dict) -> str:
    images, recipe = dataset(ctx)
    threshold = recipe.thresholds[variant]
    module = ctx.student.module("lenet").as_object()
    trainer = ctx.student.drivers().call("Trainer", module, kwargs, images.train_x, images.train_y, images.test_x,
                                         SEED, recipe.batch_size, recipe.lr)
    device = trainer.call("device_name")
    losses, accuracies = [], []
    for epoch in range(recipe.epochs):
        loss, logits = unpack("a training epoch", trainer.call("epoch"), 2)
        logits, loss = as_array("test logits", logits), as_scalar("the training loss", loss)
        if logits.shape != (len(images.test_y), 10):
            raise CheckFailed(f"The test logits have shape {logits.shape}, expected {(len(images.test_y), 10)}.")
        accuracy = float(np.mean(logits.argmax(axis=1) == images.test_y))
        losses.append(round(float(loss), 5))
        accuracies.append(round(accuracy, 5))
        ctx.progress(f"{name}: epoch {epoch + 1}/{recipe.epochs} on {images.name} ({device}), loss {loss:.3f}, "
                     f"test accuracy {accuracy:.1%}")
    ctx.details["curves"] = {"dataset": images.name, "device": device, "train_loss": losses,
                             "test_accuracy": accuracies}
    summary = (f"{name} trained {recipe.epochs} epochs on {images.name} ({device}): test accuracy "
               f"{accuracies[-1]:.1%} (threshold {threshold:.0%}); loss {losses[0]:.3f} -> {losses[-1]:.3f}.")
    if not np.isfinite(losses).all():
        raise CheckFailed(summary, "The loss became NaN: look for a softmax before the loss or a wrong layer.")
    if accuracies[-1] < threshold:
        raise CheckFailed(summary, "If the loss barely moved, check the structure checks first (a missing ReLU or a "
                                   "softmax before CrossEntropyLoss are the usual causes).")
    return summary


@A4.check("4.2", "Training: LeNet() to the accuracy threshold", points=3, wall_s=900)
def train_plain(ctx: CheckContext) -> str:
    """Fixed recipe (SGD with momentum), test accuracy measured by the grader."""
    return _train(ctx, "LeNet()", "plain", PLAIN)


@A4.check("4.2", "Training: LeNet(batch_norm=True, dropout=0.3) to the threshold", points=3, wall_s=900)
def train_bn_dropout(ctx: CheckContext) -> str:
    """The assignment's full model, same recipe."""
    return _train(ctx, "LeNet(batch_norm=True, dropout=0.3)", "bn_dropout", BN_DROPOUT)

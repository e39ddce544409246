"""a4 task 4.2: overfit one batch, then train the student's LeNet to a test-accuracy threshold.

The student's training step runs (fixed seed and recipe) inside the sandbox,
one epoch per call so the terminal can show progress, on training images and
labels the parent generated or loaded and sent. After every epoch the trained
parameters come back; the parent loads them into the reference LeNet and
measures the training loss and the test accuracy itself, on test images the
sandbox never sees. What the sandbox reports about its loss is kept only as
``train_loss_reported``; epoch times are measured by the parent. Learning curves go into the
check's ``details`` (the JSON report) and, with ``--artifacts DIR``, a PNG.

Thresholds: on the stand-in, from the reference over seeds 0-4 with a margin below the
worst final accuracy (numbers beside ``STANDIN``; re-measured by
tests/assignments/test_a4_training.py). The CIFAR-10
thresholds follow published LeNet results for 10 epochs (about 60%); they were not
calibrated on this project's machines, which have no copy of CIFAR-10.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from grader.assignments.a4 import data
from grader.assignments.a4 import model as ref
from grader.assignments.a4.spec import A4
from grader.assignments.a4.structure import BN_DROPOUT, PLAIN, student_call
from grader.authoring import CheckContext, CheckFailed, OnFirstUse

torch = OnFirstUse("torch")  # imported at the first evaluation, not when the checks are registered

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
TRAIN_LOSS_SAMPLES = 2000  # the training loss curve is measured by the grader on this many training images


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


def _trained_weights(ctx: CheckContext, target, kwargs: dict, label: str, via=None) -> dict:
    """The trained parameters pulled back from the sandbox and matched to the reference's layers."""
    raw = student_call(via, "state", target, label=label) if via else student_call(target, "state", label=label)
    claimed = ref.claimed_state(raw)
    try:
        return ref.match(claimed, kwargs).weights
    except CheckFailed as misfit:
        raise CheckFailed(f"The trained parameters do not fit the handout's LeNet: {misfit.message}",
                          misfit.hint) from None


def loss_and_accuracy(kwargs: dict, weights: dict, x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Cross-entropy and accuracy of the reference LeNet carrying ``weights``, in eval mode, in the parent."""
    with ref.FORWARD_LOCK, torch.no_grad():  # the cached reference instance is shared with the other checks
        model = ref.reference_model(kwargs, weights).eval()
        logits = torch.cat([model(torch.from_numpy(x[i:i + 1000])) for i in range(0, len(x), 1000)])
        target = torch.from_numpy(y)
        loss = float(torch.nn.functional.cross_entropy(logits, target))
        accuracy = float((logits.argmax(1) == target).double().mean())
    return loss, accuracy


def normalization(train_x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel mean and standard deviation of the training images, shaped (1, 3, 1, 1), float32."""
    mean = train_x.mean(axis=(0, 2, 3), keepdims=True, dtype=np.float64)
    std = train_x.std(axis=(0, 2, 3), keepdims=True, dtype=np.float64)
    return mean.astype(np.float32), std.astype(np.float32)


def _normalized(images: np.ndarray, mean: np.ndarray, std: np.ndarray) -> np.ndarray:
    return ((images.astype(np.float32) - mean) / std).astype(np.float32)


@A4.check("4.2", "Overfit one batch", points=2, wall_s=120)
def overfit_one_batch(ctx: CheckContext) -> str:
    """On 32 fixed images, Adam must drive the loss below 0.1 within 200 steps (the loss measured by the grader)."""
    images = _standin()
    x, y = images.train_x[:OVERFIT_BATCH], images.train_y[:OVERFIT_BATCH]
    module = ctx.student.module("lenet").as_object()
    drivers = ctx.student.drivers()
    model = student_call(drivers, "build", module, PLAIN, SEED, label="LeNet()")
    reported = student_call(drivers, "overfit", model, x, y, OVERFIT_STEPS, 1e-3, SEED, label="training LeNet()")
    weights = _trained_weights(ctx, model, PLAIN, "LeNet().state_dict()", via=drivers)
    loss, _ = loss_and_accuracy(PLAIN, weights, x.astype(np.float32) / 255.0, y)
    if isinstance(reported, np.ndarray) and reported.size:
        ctx.details["overfit_loss_reported"] = [round(float(v), 5) for v in reported.ravel()[:OVERFIT_STEPS]]
    ctx.details["overfit_loss"] = round(loss, 5)
    if not np.isfinite(loss):
        raise CheckFailed("After training on one batch the loss is not finite.", "Check the forward for NaNs.")
    if loss > OVERFIT_BOUND:
        raise CheckFailed(f"After {OVERFIT_STEPS} Adam steps on one batch of {OVERFIT_BATCH} images the loss of your "
                          f"trained weights (measured by the grader) is {loss:.3f}; it should fall below "
                          f"{OVERFIT_BOUND}.",
                          "A model that cannot memorize 32 images cannot learn: look for a missing ReLU, a softmax "
                          "before the loss, frozen parameters or layers created inside forward.")
    return f"loss {loss:.4f} after {OVERFIT_STEPS} steps (measured by the grader)."


def _train(ctx: CheckContext, name: str, variant: str, kwargs: dict) -> str:
    images, recipe = dataset(ctx)
    threshold = recipe.thresholds[variant]
    mean, std = normalization(images.train_x)
    test_x = _normalized(images.test_x, mean, std)
    subset = slice(0, min(len(images.train_y), TRAIN_LOSS_SAMPLES))
    train_x, train_y = _normalized(images.train_x[subset], mean, std), images.train_y[subset]
    module = ctx.student.module("lenet").as_object()
    drivers = ctx.student.drivers()
    model = student_call(drivers, "build", module, kwargs, SEED, label=name)
    trainer = student_call(drivers, "Trainer", model, images.train_x, images.train_y, mean, std, SEED,
                           recipe.batch_size, recipe.lr, label=f"training {name}")
    device = str(student_call(trainer, "device_name", label="the training device"))[:40]
    losses, accuracies, seconds, reported = [], [], [], []
    for epoch in range(recipe.epochs):
        start = time.monotonic()
        claim = student_call(trainer, "epoch", label=f"training {name}")
        seconds.append(round(time.monotonic() - start, 3))
        weights = _trained_weights(ctx, trainer, kwargs, f"{name}.state_dict()")
        loss, _ = loss_and_accuracy(kwargs, weights, train_x, train_y)
        _, accuracy = loss_and_accuracy(kwargs, weights, test_x, images.test_y)
        losses.append(round(loss, 5))
        accuracies.append(round(accuracy, 5))
        reported.append(round(float(claim), 5) if isinstance(claim, (int, float)) and not isinstance(claim, bool)
                        else None)
        ctx.progress(f"{name}: epoch {epoch + 1}/{recipe.epochs} on {images.name} ({device}), loss {loss:.3f}, "
                     f"test accuracy {accuracy:.1%}")
    ctx.details["curves"] = {"dataset": images.name, "device": device, "train_loss": losses,
                             "test_accuracy": accuracies, "epoch_seconds": seconds, "train_loss_reported": reported}
    summary = (f"{name} trained {recipe.epochs} epochs on {images.name} ({device}): test accuracy "
               f"{accuracies[-1]:.1%} (threshold {threshold:.0%}); loss {losses[0]:.3f} -> {losses[-1]:.3f} "
               f"(measured by the grader).")
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

"""a4 task 4.1: the LeNet's structure, parameter counts, behaviour and device safety.

The sandbox runs one forward pass and reports the layers it ran (``drivers.describe``);
these checks compare that description with the handout's architecture.
"""

from __future__ import annotations

import numpy as np

from grader.assignment import CheckContext, CheckFailed
from grader.assignments.a4.spec import A4
from grader.checks.compare import arrays
from grader.runner.remote import StudentCodeError

PLAIN, BN, BN_DROPOUT = {}, {"batch_norm": True}, {"batch_norm": True, "dropout": 0.3}
VARIANTS = {"LeNet()": PLAIN, "LeNet(batch_norm=True)": BN, "LeNet(batch_norm=True, dropout=0.3)": BN_DROPOUT}
PARAMETERS = {"LeNet()": 62006, "LeNet(batch_norm=True)": 62050, "LeNet(batch_norm=True, dropout=0.3)": 62050}
WEIGHTS = {"conv": [[6, 3, 5, 5], [16, 6, 5, 5]], "fc": [[120, 400], [84, 120], [10, 84]]}


def expected_ops(batch_norm: bool = False, dropout: float = 0.0, **_) -> list[str]:
    bn = ["bn"] if batch_norm else []
    drop = ["dropout"] if dropout else []
    block = ["conv", "relu", "pool"]
    return block + bn + block + bn + ["fc", "relu"] + drop + ["fc", "relu"] + drop + ["fc"]


def describe(ctx: CheckContext, kwargs: dict, batch: int = 2, train: bool = True) -> dict:
    module = ctx.student.module("lenet").as_object()
    try:
        info = ctx.student.drivers().call("describe", module, kwargs, batch, train)
    except StudentCodeError as exc:
        message = exc.info.get("message", "")
        if exc.info.get("type") == "RuntimeError" and any(w in message for w in ("shape", "size", "view")):
            exc.info["message"] = message + " (a flatten that hard-codes the batch size? use torch.flatten(x, 1))"
        raise
    layers = info.get("layers") if isinstance(info, dict) else None
    if (not isinstance(layers, list) or not all(isinstance(layer, dict) for layer in layers)
            or not isinstance(info.get("parameters"), int)):
        raise CheckFailed("The description of the model came back malformed.")
    return info


def _ops(info: dict, keep_softmax: bool = False) -> list[str]:
    """The layer kinds in order; a final softmax is left to ``returns_logits`` unless asked for."""
    ops = [str(layer.get("op")) for layer in info["layers"] if isinstance(layer, dict)]
    return ops if keep_softmax else [op for op in ops if op != "softmax"]


def _features(ops: list[str]) -> list[str]:
    return ops[: ops.index("fc")] if "fc" in ops else ops


def _classifier(ops: list[str]) -> list[str]:
    return ops[ops.index("fc"):] if "fc" in ops else []


def _explain(got: list[str], want: list[str]) -> tuple[str, str]:
    """Where two layer sequences first differ, and the likely mistake."""
    i = next((k for k, (a, b) in enumerate(zip(got, want)) if a != b), min(len(got), len(want)))
    shown = f"expected {' -> '.join(want)}; your forward runs {' -> '.join(got) or 'nothing'}"
    found, needed = (got[i] if i < len(got) else "the end"), (want[i] if i < len(want) else "the end")
    hint = f"At layer {i + 1}, expected {needed} but found {found}."
    if needed == "relu":
        hint += " A ReLU is missing."
    if (found == "bn" and needed == "pool") or (needed == "bn" and "bn" in got[:i]):
        hint += " BatchNorm comes AFTER each max-pool, not before it."
    if needed == "dropout" or found == "dropout":
        hint += " Dropout goes after the ReLU of the first two fully connected layers only."
    return shown, hint


def _check_sequence(ctx: CheckContext, kwargs: dict, label: str, part=lambda ops: ops, where: str = "") -> list:
    """Compare the layers a forward pass runs (or a part of them) with the handout's; return the layers."""
    info = describe(ctx, kwargs)
    got, want = part(_ops(info)), part(expected_ops(**kwargs))
    if got != want:
        shown, hint = _explain(got, want)
        raise CheckFailed(f"{label}{where}: {shown}.", hint)
    return info["layers"]


def _values(layers: list, op: str, key: str) -> list:
    return [layer.get(key) for layer in layers if layer.get("op") == op]


@A4.check("4.1", "Layers, their order and their sizes", points=2)
def structure_layers(ctx: CheckContext) -> None:
    """conv 3->6 5x5, ReLU, pool; conv 6->16 5x5, ReLU, pool; fc 400->120->84->10 with ReLUs."""
    layers = _check_sequence(ctx, PLAIN, "LeNet()")
    for kind, shapes in WEIGHTS.items():
        for number, (got_shape, want) in enumerate(zip(_values(layers, kind, "weight"), shapes), 1):
            if got_shape != want:
                raise CheckFailed(f"LeNet(): {kind} layer {number} has weight shape {got_shape}, expected {want}.",
                                  "conv weights are (out, in, kH, kW); linear weights are (out, in).")
    kernels = _values(layers, "pool", "kernel")
    if any(k not in ("2", "(2, 2)", "[2, 2]") for k in kernels):
        raise CheckFailed(f"The max-pool kernels are {kernels}, expected 2.")


@A4.check("4.1", "Batch norm after each pooling", points=1)
def structure_batch_norm(ctx: CheckContext) -> None:
    """LeNet(batch_norm=True): BatchNorm2d(6) and BatchNorm2d(16), each right after a max-pool."""
    layers = _check_sequence(ctx, BN, "LeNet(batch_norm=True)", _features, ", before the first linear layer")
    channels = _values(layers, "bn", "channels")
    if channels != [6, 16]:
        raise CheckFailed(f"The batch norms see {channels} channels, expected [6, 16].")


@A4.check("4.1", "Dropout 0.3 after the first two fully connected layers", points=1)
def structure_dropout(ctx: CheckContext) -> None:
    """LeNet(batch_norm=True, dropout=0.3): Dropout(0.3) after each of the first two fc ReLUs, nowhere else."""
    layers = _check_sequence(ctx, BN_DROPOUT, "LeNet(batch_norm=True, dropout=0.3)", _classifier,
                             ", from the first linear layer on")
    rates = _values(layers, "dropout", "p")
    if any(not isinstance(p, (int, float)) or abs(p - 0.3) > 1e-9 for p in rates):
        raise CheckFailed(f"The dropout probabilities are {rates}, expected 0.3.",
                          "Use the constructor's dropout argument, not a fixed rate.")


@A4.check("4.1", "Parameter counts", points=1)
def parameter_counts(ctx: CheckContext) -> None:
    """62,006 without batch norm, 62,050 with it; 61,581 with num_classes=5."""
    expected = {**PARAMETERS, "LeNet(num_classes=5)": 61581}
    kwargs = {**VARIANTS, "LeNet(num_classes=5)": {"num_classes": 5}}
    for name, want in expected.items():
        got = describe(ctx, kwargs[name])["parameters"]
        if got != want:
            raise CheckFailed(f"{name} has {got:,} parameters, expected {want:,} (a difference of {got - want:+,}).",
                              "Count per layer: a conv has out*in*k*k + out, a linear out*in + out.")


@A4.check("4.1", "Output shape for batch sizes 1 and 7", points=1)
def output_shapes(ctx: CheckContext) -> None:
    """(N, num_classes) for N = 1 and 7, and with num_classes=5."""
    for kwargs, batch, classes in ((PLAIN, 1, 10), (BN_DROPOUT, 7, 10), ({"num_classes": 5}, 7, 5)):
        shape = describe(ctx, kwargs, batch=batch, train=False)["output_shape"]
        if shape != [batch, classes]:
            raise CheckFailed(f"LeNet({kwargs or ''}) on a batch of {batch} returns shape {shape}, expected "
                              f"{[batch, classes]}.", "Flatten with torch.flatten(x, 1): keep the batch dimension.")


@A4.check("4.1", "Logits out (no softmax before CrossEntropyLoss)", points=1)
def returns_logits(ctx: CheckContext) -> None:
    """The last layer is the 84 -> num_classes linear layer; no softmax after it."""
    ops = _ops(describe(ctx, PLAIN), keep_softmax=True)
    if "softmax" in ops:
        raise CheckFailed("Your forward applies a softmax.", "Return logits: CrossEntropyLoss applies log-softmax "
                          "itself, and a softmax before it squashes the gradients.")
    if not ops or ops[-1] != "fc":
        raise CheckFailed(f"The last operation is {ops[-1] if ops else 'nothing'}, expected the final linear layer.")


@A4.check("4.1", "Train and eval behaviour", points=2)
def train_eval(ctx: CheckContext) -> None:
    """Eval is deterministic and per-sample (BN running statistics); dropout is active in training only."""
    module = ctx.student.module("lenet").as_object()
    eval_a, eval_b, alone, train_a, train_b = arrays("the behaviour probe", ctx.student.drivers().call(
        "behaviour", module, BN_DROPOUT, int(ctx.rng.integers(2**31))), 5)
    if not np.allclose(eval_a, eval_b):
        raise CheckFailed("In eval mode, two forward passes on the same input differ.",
                          "Dropout must be off in eval mode: use nn.Dropout, or F.dropout(x, p, self.training).")
    if not np.allclose(alone, eval_a[:1], atol=1e-5):
        raise CheckFailed("In eval mode, a sample's output depends on the other samples of its batch.",
                          "In eval mode BatchNorm must use its running statistics: use nn.BatchNorm2d, or pass "
                          "training=self.training.")
    if np.allclose(train_a, train_b):
        raise CheckFailed("In training mode with dropout=0.3, two forward passes on the same input are identical.",
                          "Dropout is not active in training: check that it is applied (and with p = dropout).")


@A4.check("4.1", "forward works on any device", points=2)
def device_safe(ctx: CheckContext) -> str:
    """On the meta device (and on CUDA when present): no tensor created on a fixed device inside forward."""
    module = ctx.student.module("lenet").as_object()
    drivers = ctx.student.drivers()
    devices = ["meta"] + (["cuda"] if drivers.call("cuda_available") else [])
    for device in devices:
        try:
            result = drivers.call("forward_on", module, BN_DROPOUT, device)
        except StudentCodeError as exc:
            if exc.not_implemented:
                raise
            raise CheckFailed(f"forward with the model and input on {device!r} raised {exc.info.get('type')}: "
                              f"{exc.info.get('message', '')[:300]}",
                              "A tensor is created on a fixed device inside forward (e.g. torch.zeros(...) on the "
                              "CPU): create it with device=x.device, or register it as a buffer.") from None
        if not isinstance(result, dict) or str(result.get("device", "")).split(":")[0] != device:
            raise CheckFailed(f"forward on {device!r} returned a tensor on {result.get('device')!r}.",
                              "Keep every tensor on the input's device.")
    return f"forward ran on: {', '.join(devices)}."

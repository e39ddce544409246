"""a4 task 4.1: the LeNet's structure, parameter counts, behaviour and device safety, decided in the parent.

Every check builds the student's model in the sandbox, reads its ``state_dict``
back, runs its forward on random inputs the parent drew (batch sizes 1 and 7,
train and eval mode) and compares, in the parent, with the reference LeNet
carrying the same weights (``model.py``). What the sandbox says about its own
structure is never believed; a model that matches the reference's function
with its own weights is a LeNet, whatever its code looks like.

Each check covers its whole case space on every run; the seed varies only the
weights and inputs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from grader.assignments.a4 import model as ref
from grader.assignments.a4.spec import A4
from grader.authoring import CheckContext, CheckFailed, MissingName, StudentCodeError

PLAIN, BN, BN_DROPOUT = {}, {"batch_norm": True}, {"batch_norm": True, "dropout": 0.3}
DROPOUTS = ({"dropout": 0.3}, {"dropout": 0.5})
FIVE = {"num_classes": 5}
VARIANTS = {"LeNet()": PLAIN, "LeNet(batch_norm=True)": BN, "LeNet(batch_norm=True, dropout=0.3)": BN_DROPOUT}
PARAMETERS = {"LeNet()": 62006, "LeNet(batch_norm=True)": 62050, "LeNet(num_classes=5)": 61581}
ALL_MODES = (("eval", 1), ("eval", 7), ("train", 7), ("train", 1))
MODE_VARIANTS = ("bn_batch_stats_in_eval", "dropout_in_eval")
# The structure checks of a submission share one process, each on a fresh import of lenet.py: forking a
# process that holds torch costs more than most of these checks (grader/runner/groups.py).
STRUCTURE = "a4-structure"
# Each takes well under a second on a CPU (the first CUDA call, when there is a GPU, a few); a forward that never
# returns costs each check this limit, one after another, not the assignment's 60 s (8 minutes in all).
STRUCTURE_WALL_S = 20.0


def student_call(remote, attr: str, *args, label: str, batch: int | None = None):
    """Call into the sandbox; an exception from the student's code becomes a failure that names its own frame."""
    try:
        return remote.call(attr, *args)
    except StudentCodeError as exc:
        info = exc.info
        if exc.not_implemented and not ref.is_device_error(info):
            raise
        raise CheckFailed(f"{label} raised {info.get('type')}: {str(info.get('message', ''))[:300]}",
                          ref.explain_error(info, batch)) from None


@dataclass
class Probe:
    """A student's model of one configuration: its weights (matched to the reference) and its outputs."""

    kwargs: dict
    weights: dict
    runs: list  # (x, train, seed)
    outputs: list  # the student's, validated shapes
    model: object = None  # the handle of the model in the sandbox, carrying ``weights``

    @property
    def label(self) -> str:
        return ref.call_text(self.kwargs)

    def reference(self, i: int) -> np.ndarray:
        if not hasattr(self, "_references"):
            self._references = {}
        if i not in self._references:
            self._references[i] = ref.reference_outputs(self.kwargs, self.weights, *self.runs[i])
        return self._references[i]

    def first_difference(self) -> int | None:
        """The first run whose output differs from the reference carrying the same weights."""
        return next((i for i in range(len(self.runs)) if not ref.close(self.outputs[i], self.reference(i))), None)

    def variant(self, indices=None) -> ref.Variant | None:
        """The one-change variant of the reference that reproduces every run (of ``indices``), if any."""
        indices = range(len(self.runs)) if indices is None else indices
        for variant in ref.VARIANTS:
            if all(ref.close(self.outputs[i], ref.variant_outputs(variant, self.kwargs, self.weights, *self.runs[i]))
                   for i in indices):
                return variant
        return None

    def describe_run(self, i: int) -> str:
        x, train, _ = self.runs[i]
        return f"in {'training' if train else 'eval'} mode on a batch of {x.shape[0]}"

    def fail(self, i: int, variant: ref.Variant | None):
        """Raise the failure for run ``i``, blaming ``variant`` (the one that explains the outputs), if any."""
        gap = float(np.max(np.abs(self.outputs[i] - self.reference(i))))
        message = (f"{self.label} {self.describe_run(i)}: the outputs differ from the reference LeNet carrying your "
                   f"model's own weights (by up to {gap:.3g}).")
        hint = variant.blame if variant else (
            "Every layer has the handout's shape, yet forward computes something else: check the order of the "
            "operations, that every layer made in __init__ is used exactly once, and that no layer or tensor is "
            "created inside forward.")
        raise CheckFailed(message, hint)


def inputs(ctx: CheckContext, batch: int) -> np.ndarray:
    return ctx.rng.standard_normal((batch, 3, 32, 32)).astype(np.float32)


def build(ctx: CheckContext, kwargs: dict, state: bool = True):
    """(model handle, claimed state) for ``LeNet(**kwargs)`` built in the sandbox under a parent-drawn seed, in one
    round trip (the state is not fetched, and None, when the caller does not need it)."""
    label = ref.call_text(kwargs)
    module = ctx.student.module("lenet").as_object()
    drivers = ctx.student.drivers()
    seed = int(ctx.rng.integers(2**31))
    if not state:
        return student_call(drivers, "build", module, kwargs, seed, label=label), None
    got = student_call(drivers, "build_with_state", module, kwargs, seed, label=label)
    if not isinstance(got, list) or len(got) != 2:
        raise CheckFailed(f"{label}: the model and its state_dict came back malformed.")
    return got[0], ref.claimed_state(got[1])


def prepared(ctx: CheckContext, kwargs: dict, built=None):
    """(model handle, reference weights, reload): the model's tensors matched to the handout's layers, then
    replaced by random values the parent drew, which the reference carries too; ``reload()`` loads them again.
    ``built``: a (model, claimed state) pair from ``build`` this check already made, instead of a new one."""
    model, claimed = built or build(ctx, kwargs)
    weights, values = ref.fresh_weights(ref.match(claimed, kwargs), ctx.rng)

    def reload():
        student_call(ctx.student.drivers(), "load", model, values, label=f"{ref.call_text(kwargs)}.load_state_dict")

    reload()
    return model, weights, reload


def outputs_at_once(ctx: CheckContext, model, runs: list, reload=None) -> list | None:
    """The student's outputs for every (x, train, seed) of ``runs``, in one round trip; None if its forward raised.

    Then the caller replays the runs one call each, in order (after ``reload()``: training-mode runs move the
    batch-norm statistics the earlier ones used), so that the failure is exactly the one a call per run gives:
    the first wrong shape or the exception, with the batch and the mode of its run."""
    try:
        got = ctx.student.drivers().call("outputs", model, runs)
    except (StudentCodeError, MissingName):
        if reload is not None:
            reload()
        return None
    return got if isinstance(got, list) and len(got) == len(runs) else [None] * len(runs)


def probe(ctx: CheckContext, kwargs: dict, modes=ALL_MODES, built=None) -> Probe:
    """Build (or take ``built``), match the weights, and run forward for each (mode, batch); eval runs first
    (train moves BN stats)."""
    model, weights, reload = prepared(ctx, kwargs, built)
    drivers = ctx.student.drivers()
    planned = [(mode, batch, (inputs(ctx, batch), mode == "train", int(ctx.rng.integers(2**31))))
               for mode, batch in sorted(modes, key=lambda m: m[0] != "eval")]
    together = outputs_at_once(ctx, model, [run for _, _, run in planned], reload)
    runs, outputs, references = [], [], {}
    for i, (mode, batch, run) in enumerate(planned):
        if together is not None:
            got = together[i]
        else:
            got = student_call(drivers, "outputs", model, [run], label=f"{ref.call_text(kwargs)}.forward",
                               batch=batch)
            got = got[0] if isinstance(got, list) and len(got) == 1 else None
        want = ref.reference_outputs(kwargs, weights, *run)
        outputs.append(ref.outputs_shape_check(f"{ref.call_text(kwargs)} in {mode} mode", got, want, batch))
        references[len(runs)] = want
        runs.append(run)
    result = Probe(kwargs, weights, runs, outputs, model)
    result._references = references
    return result


def verify(probe_: Probe, owns: str) -> None:
    """Fail at the first run that differs from the reference, blaming what explains the difference.

    A difference that a one-change variant explains costs only the check that owns that component (a softmax
    at the end is the logits check's, not the layer check's): one mistake, one penalty."""
    i = probe_.first_difference()
    if i is None:
        return
    variant = probe_.variant()
    if variant is None or variant.component == owns:
        probe_.fail(i, variant)


def confirmed(probe_: Probe) -> ref.Variant | None:
    """The outputs are the reference's (None) or a known variant's; otherwise the weights were not the ones used."""
    if probe_.first_difference() is None:
        return None
    variant = probe_.variant()
    if variant is None:
        raise CheckFailed(f"{probe_.label}: its outputs match no LeNet carrying the weights it reports, so its "
                          "structure cannot be confirmed.",
                          "Make forward use the layers created in __init__, in the handout's order (see the layer "
                          "checks for what differs).")
    return variant


@A4.check("4.1", "Layers, their order and their sizes", points=2, process_group=STRUCTURE, wall_s=STRUCTURE_WALL_S)
def structure_layers(ctx: CheckContext) -> None:
    """conv 3->6 5x5, ReLU, pool; conv 6->16 5x5, ReLU, pool; fc 400->120->84->10 with ReLUs: weights and outputs."""
    verify(probe(ctx, PLAIN), "layers")


@A4.check("4.1", "Batch norm after each pooling", points=1, process_group=STRUCTURE, wall_s=STRUCTURE_WALL_S)
def structure_batch_norm(ctx: CheckContext) -> None:
    """LeNet(batch_norm=True): BatchNorm2d(6) and BatchNorm2d(16), each right after a max-pool, train and eval."""
    verify(probe(ctx, BN), "bn")


@A4.check("4.1", "Dropout after the first two fully connected layers", points=1,
          process_group=STRUCTURE, wall_s=STRUCTURE_WALL_S)
def structure_dropout(ctx: CheckContext) -> None:
    """LeNet(dropout=0.3) and LeNet(dropout=0.5) in training mode: Dropout(p) after fc1's and fc2's ReLU only."""
    for kwargs in DROPOUTS:
        verify(probe(ctx, kwargs, modes=(("train", 7), ("train", 1))), "dropout")


@A4.check("4.1", "Parameter counts", points=1, process_group=STRUCTURE, wall_s=STRUCTURE_WALL_S)
def parameter_counts(ctx: CheckContext) -> None:
    """62,006 without batch norm, 62,050 with it; 61,581 with num_classes=5; the forward must use them."""
    for name, kwargs in (("LeNet()", PLAIN), ("LeNet(batch_norm=True)", BN), ("LeNet(num_classes=5)", FIVE)):
        want = PARAMETERS[name]
        model, claimed = build(ctx, kwargs)
        got = claimed.parameter_count
        if got != want:
            try:
                ref.match(claimed, kwargs, strict=True)
                hint = "Count per layer: a conv has out*in*k*k + out, a linear out*in + out."
            except CheckFailed as misfit:
                hint = misfit.hint
            raise CheckFailed(f"{name} has {got:,} parameters, expected {want:,} (a difference of {got - want:+,}).",
                              hint)
        confirmed(probe(ctx, kwargs, modes=(("eval", 7),), built=(model, claimed)))


@A4.check("4.1", "Output shape for batch sizes 1 and 7", points=1, process_group=STRUCTURE, wall_s=STRUCTURE_WALL_S)
def output_shapes(ctx: CheckContext) -> None:
    """(N, num_classes) for N = 1 and 7, with and without batch norm and dropout, and with num_classes=5."""
    drivers = ctx.student.drivers()
    for kwargs, classes in ((PLAIN, 10), (BN_DROPOUT, 10), (FIVE, 5)):
        model, _ = build(ctx, kwargs, state=False)  # only the outputs' shapes are judged here
        planned = [(batch, (inputs(ctx, batch), train, 0)) for batch in (1, 7) for train in (False, True)]
        together = outputs_at_once(ctx, model, [run for _, run in planned])  # shapes do not depend on BN stats
        for i, (batch, run) in enumerate(planned):
            label = f"{ref.call_text(kwargs)} in {'training' if run[1] else 'eval'} mode"
            if together is not None:
                got = together[i]
            else:
                got = student_call(drivers, "outputs", model, [run], label=label, batch=batch)
                got = got[0] if isinstance(got, list) and len(got) == 1 else None
            ref.outputs_shape_check(label, got, np.zeros((batch, classes)), batch)


@A4.check("4.1", "Logits out (no softmax before CrossEntropyLoss)", points=1,
          process_group=STRUCTURE, wall_s=STRUCTURE_WALL_S)
def returns_logits(ctx: CheckContext) -> None:
    """The last layer is the 84 -> num_classes linear layer; no softmax (or ReLU) after it."""
    result = probe(ctx, PLAIN, modes=(("eval", 7), ("eval", 1)))
    variant = confirmed(result)
    if variant is not None and variant.head:
        raise CheckFailed(f"{result.label}: forward does not return the logits of fc3.", variant.blame)


@A4.check("4.1", "Train and eval behaviour", points=2, process_group=STRUCTURE, wall_s=STRUCTURE_WALL_S)
def train_eval(ctx: CheckContext) -> None:
    """Eval: deterministic, per sample, running statistics, no dropout; training: dropout draws differ per pass."""
    drivers = ctx.student.drivers()
    name = ref.call_text(BN_DROPOUT)
    label = f"{name}.forward"
    model, weights, _ = prepared(ctx, BN_DROPOUT)
    x = inputs(ctx, 7)
    seeds = [int(s) for s in ctx.rng.integers(2**31, size=3)]
    got = student_call(drivers, "outputs", model, [(x, False, seeds[0]), (x[:1], False, seeds[1]), (x, False, seeds[2]),
                                                   (x, True, seeds[0]), (x, True, seeds[1])], label=label, batch=7)
    if not isinstance(got, list) or len(got) != 5:
        raise CheckFailed(f"{label} did not return outputs for every call.")
    shapes = [(7, 10), (1, 10), (7, 10), (7, 10), (7, 10)]
    got = [ref.outputs_shape_check(label, g, np.zeros(s), s[0]) for g, s in zip(got, shapes)]
    eval_probe = Probe(BN_DROPOUT, weights, [(x, False, seeds[0]), (x[:1], False, seeds[1])], got[:2])
    if not ref.close(got[0], got[2]):
        raise CheckFailed("In eval mode, two forward passes on the same input differ.",
                          "dropout: must be off in eval mode: use nn.Dropout, or F.dropout(x, p, self.training).")
    if not ref.close(got[1], got[0][:1]):
        raise CheckFailed("In eval mode, a sample's output depends on the other samples of its batch.",
                          "bn: in eval mode BatchNorm must use its running statistics: use nn.BatchNorm2d, or pass "
                          "training=self.training.")
    variant = confirmed(eval_probe)
    if variant is not None and any(getattr(variant, name) for name in MODE_VARIANTS):
        raise CheckFailed(f"{name} in eval mode does not compute the eval-mode LeNet.", variant.blame)
    if ref.close(got[3], got[4]):
        raise CheckFailed("In training mode with dropout=0.3, two forward passes with different random draws are "
                          "identical.", "dropout: not active in training: apply it (with p = dropout) after the ReLUs "
                                       "of fc1 and fc2.")


def _device_error(exc_info: dict, device: str) -> CheckFailed:
    return CheckFailed(f"forward with the model and input on {device!r} raised {exc_info.get('type')}: "
                       f"{str(exc_info.get('message', ''))[:300]}", ref.explain_error(exc_info, 2))


@A4.check("4.1", "forward works on any device", points=2, process_group=STRUCTURE, wall_s=STRUCTURE_WALL_S)
def device_safe(ctx: CheckContext) -> str:
    """On the meta device (and on CUDA when present, values compared in the parent): no tensor on a fixed device."""
    drivers = ctx.student.drivers()
    cpu = probe(ctx, BN_DROPOUT, modes=(("eval", 2),))
    confirmed(cpu)
    devices = ["meta"] + (["cuda"] if drivers.call("cuda_available") is True else [])
    for device in devices:
        # meta: the CPU probe's model moves there (no values come back to compare); CUDA: a fresh model, whose
        # outputs are compared with the reference carrying its weights.
        model, weights = (cpu.model, cpu.weights) if device == "meta" else prepared(ctx, BN_DROPOUT)[:2]
        x = inputs(ctx, 2)
        try:
            result = drivers.call("forward_on", model, x, device)
        except StudentCodeError as exc:
            if exc.not_implemented and not ref.is_device_error(exc.info):
                raise
            raise _device_error(exc.info, device) from None
        if not isinstance(result, dict) or str(result.get("device", "")).split(":")[0] != device:
            raise CheckFailed(f"forward on {device!r} returned a tensor on "
                              f"{result.get('device') if isinstance(result, dict) else None!r}.",
                              "Keep every tensor on the input's device (no .cpu() or .to('cpu') inside forward).")
        if result.get("shape") != [2, 10]:
            raise CheckFailed(f"forward on {device!r} returned shape {result.get('shape')}, expected [2, 10].")
        if device != "meta":
            values = result.get("values")
            want = ref.reference_outputs(BN_DROPOUT, weights, x, False, 0)
            if not isinstance(values, np.ndarray) or values.shape != want.shape or not np.allclose(
                    values, want, rtol=1e-3, atol=1e-3):
                raise CheckFailed(f"forward on {device!r} gives outputs that differ from the reference on the CPU.",
                                  "Compute the same thing on every device.")
    return f"forward ran on: {', '.join(devices)}."

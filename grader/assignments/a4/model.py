"""The parent's side of a4: a submission's weights in the reference LeNet, and what differs when they do not fit.

The sandbox reports the student's ``state_dict`` (names, float arrays) and the
outputs of the student's model on inputs the parent chose. Both are claims.
Here, in the parent, the claimed tensors are matched to the handout's layers
(conv1, bn1, conv2, bn2, fc1, fc2, fc3) by kind and shape, loaded into the
reference ``LeNet`` (``reference/a4/lenet.py``) and run on the same inputs; a
result is decided only by comparing the two outputs.

When the tensors do not fit, ``match`` names the first layer (in forward
order) whose shape disagrees and the likely cause (a padding that changed the
feature-map size is a conv's fault, not fc1's). When the outputs differ,
``explain`` runs one-change variants of the reference (a ReLU missing, average
pooling, batch norm before the pooling, a softmax at the end, a different
dropout rate, ...) with the same weights; a variant that reproduces the
student's outputs names the component to blame.
"""

from __future__ import annotations

import contextlib
import importlib.util
import re
import threading
from dataclasses import dataclass

import numpy as np

from grader.authoring import CheckFailed, OnFirstUse, oracle

if importlib.util.find_spec("torch") is None:  # the registry then reports a4 as unavailable
    raise ModuleNotFoundError("No module named 'torch'", name="torch")
# Imported at the first forward, not when the checks are registered: `dlgrade grade a4`'s parent needs the
# checks, not torch (~2 s).
torch = OnFirstUse("torch")
F = OnFirstUse("torch.nn.functional")

ROLES = ("conv1", "bn1", "conv2", "bn2", "fc1", "fc2", "fc3")
REFERENCE_NAMES = {"conv1": "features.0", "bn1": "features.3", "conv2": "features.4", "bn2": "features.7",
                   "fc1": "classifier.0", "fc2": "classifier.3", "fc3": "classifier.6"}
SHOWN = {"conv1": "Conv2d(3, 6, 5)", "conv2": "Conv2d(6, 16, 5)", "bn1": "BatchNorm2d(6)", "bn2": "BatchNorm2d(16)",
         "fc1": "Linear(400, 120)", "fc2": "Linear(120, 84)", "fc3": "Linear(84, num_classes)"}
BN_LEAVES = ("weight", "bias", "running_mean", "running_var")
MAX_TENSORS, MAX_ELEMENTS = 256, 20_000_000
RTOL, ATOL = 1e-4, 1e-4


def expected_shapes(num_classes: int = 10, batch_norm: bool = False, **_) -> dict[str, dict[str, tuple]]:
    """Role -> {leaf: shape} of the handout's LeNet."""
    shapes = {"conv1": {"weight": (6, 3, 5, 5), "bias": (6,)}, "conv2": {"weight": (16, 6, 5, 5), "bias": (16,)},
              "fc1": {"weight": (120, 400), "bias": (120,)}, "fc2": {"weight": (84, 120), "bias": (84,)},
              "fc3": {"weight": (num_classes, 84), "bias": (num_classes,)}}
    if batch_norm:
        shapes["bn1"] = {leaf: (6,) for leaf in BN_LEAVES}
        shapes["bn2"] = {leaf: (16,) for leaf in BN_LEAVES}
    return shapes


def parameter_count(num_classes: int = 10, batch_norm: bool = False, **_) -> int:
    shapes = expected_shapes(num_classes, batch_norm)
    return sum(int(np.prod(s)) for role in shapes.values() for leaf, s in role.items()
               if leaf in ("weight", "bias"))


# ------------------------------------------------------------------ the claim


@dataclass(frozen=True)
class Claimed:
    """The student's ``state_dict`` as the sandbox reported it, validated: ordered name -> float64 array."""

    tensors: dict
    parameters: tuple[str, ...]

    @property
    def parameter_count(self) -> int:
        return sum(int(self.tensors[n].size) for n in self.parameters if n in self.tensors)


def claimed_state(value) -> Claimed:
    """Validate what the ``state`` driver returned (names, shapes, one flat array of values, parameter names);
    anything malformed is the student's failure."""
    if not isinstance(value, dict):
        raise CheckFailed("The model's state_dict came back malformed.")
    names, shapes, values, params = (value.get(k) for k in ("names", "shapes", "values", "parameters"))
    if (not isinstance(names, list) or not isinstance(shapes, list) or not isinstance(params, list)
            or len(names) != len(shapes) or len(names) > MAX_TENSORS
            or not all(isinstance(n, str) and len(n) < 300 for n in names + params)):
        raise CheckFailed("The model's state_dict came back malformed (names and tensors do not pair up).")
    if not isinstance(values, np.ndarray) or values.ndim != 1 or values.dtype.kind not in "biuf":
        raise CheckFailed("The model's state_dict values are not an array of numbers.")
    sizes, total = [], 0
    for name, shape in zip(names, shapes):
        if (not isinstance(shape, list) or len(shape) > 8
                or not all(isinstance(d, int) and not isinstance(d, bool) and 0 <= d <= MAX_ELEMENTS for d in shape)):
            raise CheckFailed(f"The state_dict entry {name!r} has no valid shape.")
        size = int(np.prod(shape, dtype=object)) if shape else 1
        total += size
        if total > MAX_ELEMENTS:
            raise CheckFailed("The model's state_dict holds far more numbers than a LeNet has.")
        sizes.append(size)
    if total != values.size:
        raise CheckFailed(f"The model's state_dict shapes account for {total} numbers, but {values.size} came back.")
    tensors, start = {}, 0
    values = values.astype(np.float64)
    for name, shape, size in zip(names, shapes, sizes):
        if name in tensors:
            raise CheckFailed(f"The state_dict names {name!r} twice.")
        tensors[name] = values[start:start + size].reshape(shape)
        start += size
    return Claimed(tensors, tuple(p for p in params if p in tensors))


# --------------------------------------------------------------- the matching


def _modules(claimed: Claimed) -> tuple[dict[str, list], list[str]]:
    """Group tensors by module (name prefix) and sort modules into conv, linear and batch-norm layers."""
    groups: dict[str, dict] = {}
    for name, array in claimed.tensors.items():
        prefix, _, leaf = name.rpartition(".")
        if leaf == "num_batches_tracked":
            continue
        groups.setdefault(prefix, {})[leaf] = array
    kinds: dict[str, list] = {"conv": [], "fc": [], "bn": []}
    other = []
    for prefix, leaves in groups.items():
        weight = leaves.get("weight")
        if weight is not None and weight.ndim == 4:
            kinds["conv"].append((prefix, leaves))
        elif weight is not None and weight.ndim == 2:
            kinds["fc"].append((prefix, leaves))
        elif "running_mean" in leaves or (weight is not None and weight.ndim == 1):
            kinds["bn"].append((prefix, leaves))
        else:
            other += [f"{prefix + '.' if prefix else ''}{leaf} {tuple(a.shape)}" for leaf, a in leaves.items()]
    return kinds, other


def _assign(found: list, roles: list[str], shapes: dict) -> dict:
    """Roles -> found modules: by weight shape when every role's shape is there once, else in registration order."""
    wanted = [shapes[r]["weight"] for r in roles]
    got = [tuple(leaves["weight"].shape) if "weight" in leaves else tuple(leaves["running_mean"].shape)
           for _, leaves in found]
    if len(got) == len(wanted) and sorted(got) == sorted(wanted) and len(set(wanted)) == len(wanted):
        return {r: found[got.index(w)] for r, w in zip(roles, wanted)}
    return dict(zip(roles, found))


def feature_size(k=(5, 5), padding=(0, 0), stride=(1, 1), pool=(2, 2), channels: int = 16) -> int:
    """The flattened size after the two conv/pool blocks on 32x32 inputs."""
    h = 32
    for i in range(2):
        h = (h + 2 * padding[i] - k[i]) // stride[i] + 1
        h = h // pool[i]
    return channels * h * h if h > 0 else 0


def flatten_causes(features: int) -> list[str]:
    """Single changes to the convolution blocks that produce ``features`` inputs to fc1."""
    causes = []
    for i in range(2):
        conv, block = f"conv{i + 1}", ("first", "second")[i]
        for p in (1, 2, 3):
            pad = tuple(p if j == i else 0 for j in range(2))
            if feature_size(padding=pad) == features:
                causes.append(f"{conv} has padding={p} (the handout's convolutions have no padding)")
        if feature_size(stride=tuple(2 if j == i else 1 for j in range(2))) == features:
            causes.append(f"{conv} has stride 2")
        if feature_size(pool=tuple(1 if j == i else 2 for j in range(2))) == features:
            causes.append(f"the {block} max-pool is missing")
        if feature_size(pool=tuple(4 if j == i else 2 for j in range(2))) == features:
            causes.append(f"the {block} pooling has kernel 4 instead of 2")
    for p in (1, 2, 3):
        if feature_size(padding=(p, p)) == features:
            causes.append(f"both convolutions have padding={p} (the handout's have none)")
    return causes


def _flatten_hint(features: int, batch: int | None = None) -> str:
    if batch and features == 400 * batch:
        return ("The flatten merges the batch into one row: flatten with torch.flatten(x, 1) or x.view(x.size(0), -1)"
                ", never with a fixed batch size.")
    causes = flatten_causes(features)
    side = int(round((features / 16) ** 0.5)) if features % 16 == 0 else None
    maps = f" ({side}x{side} maps of 16 channels)" if side and side * side * 16 == features else ""
    text = (f"fc1 receives {features} features{maps}, but the handout's convolutions and poolings give 16x5x5 = 400. "
            "The difference comes from the convolution blocks, not from fc1")
    if causes:
        return text + ": most likely " + "; or ".join(causes) + "."
    return text + ": check the convolutions' kernel, padding and stride and the poolings' kernel."


def match(claimed: Claimed, kwargs: dict, strict: bool = False) -> Matched:
    """Map the claimed tensors onto the reference's roles; raise ``CheckFailed`` naming the first misfit.

    A layer without a bias is carried with a zero bias unless ``strict``: only the parameter count owns that
    mistake, so it costs one check, not all of them."""
    label = call_text(kwargs)
    num_classes = kwargs.get("num_classes", 10)
    shapes = expected_shapes(**kwargs)
    kinds, other = _modules(claimed)
    claimed_leaves = {prefix: set(leaves) for kind in kinds.values() for prefix, leaves in kind}
    convs = _assign(kinds["conv"], ["conv1", "conv2"], shapes)
    fcs = _assign(kinds["fc"], ["fc1", "fc2", "fc3"], shapes)
    bns = kinds["bn"]
    if kwargs.get("batch_norm"):  # registered in any order: BatchNorm2d(6) is bn1, BatchNorm2d(16) bn2
        odd = [module for module in bns if _bn_size(module[1]) not in (6, 16)]
        bns = odd + sorted([m for m in bns if m not in odd], key=lambda module: _bn_size(module[1]))

    def fail(message: str, hint: str):
        raise CheckFailed(f"{label}: {message}", hint)

    _missing(kinds["conv"], ("conv1", "conv2"), shapes, fail, "convolution")
    for role in ("conv1", "conv2"):
        _check_layer(role, convs[role][1], shapes[role], fail, "conv", strict)
        if role == "conv1" and kwargs.get("batch_norm"):
            _check_bn("bn1", bns[:1], 6, fail)
        if role == "conv2" and kwargs.get("batch_norm"):
            _check_bn("bn2", bns[1:2], 16, fail)
    if not kwargs.get("batch_norm") and bns:
        channels = [int(_bn_size(leaves)) for _, leaves in bns]
        fail(f"the model has batch norm layers over {channels} channels although batch_norm=False.",
             "bn: create BatchNorm2d only when batch_norm is True.")
    if kwargs.get("batch_norm") and len(bns) > 2:
        _check_bn("bn3", bns[2:3], None, fail)
    _missing(kinds["fc"], ("fc1", "fc2", "fc3"), shapes, fail, "linear")
    for role in ("fc1", "fc2", "fc3"):
        leaves = fcs[role][1]
        weight = leaves["weight"]
        if role == "fc1" and weight.shape[1] != 400 and weight.shape[0] == 120:
            fail(f"fc1 takes {weight.shape[1]} inputs; expected 400.", _flatten_hint(weight.shape[1]))
        if role == "fc3" and weight.shape[0] != num_classes and weight.shape[1] == 84:
            fail(f"fc3 has {weight.shape[0]} outputs for num_classes={num_classes}.",
                 "fc3 (the last layer) must have num_classes outputs: use the constructor's num_classes argument "
                 "instead of a fixed 10.")
        _check_layer(role, leaves, shapes[role], fail, "fc", strict)
    if len(kinds["fc"]) > 3 or len(kinds["conv"]) > 2:
        extra = [p for p, _ in kinds["fc"] + kinds["conv"] if p not in {convs[r][0] for r in convs} | {
            fcs[r][0] for r in fcs}]
        fail(f"the model holds extra layers {extra}; LeNet has 2 convolutions and 3 linear layers.",
             "Remove the layers the handout does not have.")
    if other:
        fail(f"the model holds tensors LeNet does not have: {', '.join(other[:5])}.",
             "Build the model from nn.Conv2d, nn.Linear and nn.BatchNorm2d layers (and parameter-free ones).")
    weights, names = {}, {}
    for role, (prefix, leaves) in [*convs.items(), *fcs.items()] + list(zip(("bn1", "bn2"), bns[:2])):
        for leaf, array in leaves.items():
            weights[f"{REFERENCE_NAMES[role]}.{leaf}"] = torch.from_numpy(array.astype(np.float32))
            if leaf in claimed_leaves.get(prefix, ()):
                names[f"{REFERENCE_NAMES[role]}.{leaf}"] = f"{prefix}.{leaf}" if prefix else leaf
    return Matched(weights, names)


@dataclass(frozen=True)
class Matched:
    """The claimed tensors under the reference's names, and each one's name in the student's state_dict."""

    weights: dict  # reference name -> float32 tensor (a missing bias is zeros)
    names: dict  # reference name -> the student's name (absent for a missing bias)


def fresh_weights(matched: Matched, rng: np.random.Generator) -> tuple[dict, dict]:
    """Random weights drawn by the parent: (reference name -> tensor, student name -> array to load).

    The student's model is run with these, never with values it reported itself, so a model that reports
    degenerate weights (all zeros) cannot make a constant output look right."""
    reference, student = {}, {}
    for name, tensor in matched.weights.items():
        leaf, shape = name.rpartition(".")[2], tuple(tensor.shape)
        if name not in matched.names:
            reference[name] = torch.zeros(shape)
            continue
        is_bn = name.startswith(("features.3", "features.7"))
        if is_bn and leaf == "running_var":
            value = rng.uniform(0.5, 2.0, shape)
        elif is_bn and leaf == "running_mean":
            value = rng.normal(0, 0.3, shape)
        elif is_bn and leaf == "weight":  # some negative scales, so that the order of BN and max-pool shows
            value = np.where(rng.random(shape) < 0.3, -1.0, 1.0) * rng.uniform(0.5, 1.5, shape)
        elif is_bn:
            value = rng.normal(0, 0.2, shape)
        else:
            fan_in = int(np.prod(matched.weights[name.rpartition(".")[0] + ".weight"].shape[1:]))
            value = rng.uniform(-1.5, 1.5, shape) / np.sqrt(fan_in)
        value = value.astype(np.float32)
        reference[name] = torch.from_numpy(value)
        student[matched.names[name]] = value
    return reference, student


def _missing(found: list, roles: tuple, shapes: dict, fail, kind: str) -> None:
    """Fewer layers of a kind than the handout's: name the one whose shape is absent (created inside forward?)."""
    if len(found) >= len(roles):
        return
    present = [tuple(leaves["weight"].shape) for _, leaves in found]
    missing = [r for r in roles if shapes[r]["weight"] not in present] or [roles[len(found)]]
    fail(f"the model holds {len(found)} {kind} layer(s) {present}; expected {len(roles)}.",
         f"{missing[0]} ({SHOWN[missing[0]]}) is not among the model's parameters: create every layer in __init__ "
         "(a layer created inside forward is not registered, so it is never trained or saved).")


def _bn_size(leaves: dict) -> int:
    array = leaves.get("running_mean", leaves.get("weight"))
    return int(array.shape[0]) if array is not None and array.ndim == 1 else -1


def _check_bn(role: str, found: list, channels: int | None, fail) -> None:
    if not found:
        fail(f"the model has no {role} ({SHOWN.get(role, 'batch norm')}).",
             "bn: with batch_norm=True, put a BatchNorm2d after each max-pool (over 6 and then 16 channels).")
    prefix, leaves = found[0]
    size = _bn_size(leaves)
    if channels is None or size != channels:
        where = {120: "on fc1's output", 84: "on fc2's output", 6: "", 16: ""}.get(size, "")
        fail(f"the batch norm '{prefix}' normalises {size} features {where}; expected {SHOWN.get(role, 'none')}.",
             f"bn: BatchNorm2d(6) goes right after the first max-pool and BatchNorm2d(16) after the second; "
             f"there is no batch norm on the fully connected layers{' (yours is ' + where + ')' if where else ''}.")
    missing = [leaf for leaf in BN_LEAVES if leaf not in leaves]
    if missing:
        fail(f"the batch norm '{prefix}' has no {', '.join(missing)}.",
             "bn: use nn.BatchNorm2d with its defaults (affine, tracking running statistics).")


def _check_layer(role: str, leaves: dict, shapes: dict, fail, kind: str, strict: bool) -> None:
    weight, want = tuple(leaves["weight"].shape), shapes["weight"]
    if weight != want:
        fail(f"{role} has weight shape {weight}; expected {want} ({SHOWN[role]}).", _shape_hint(role, weight, want))
    if "bias" not in leaves and not strict:
        leaves["bias"] = np.zeros(shapes["bias"])
    if "bias" not in leaves:
        fail(f"{role} has no bias.", f"{role} was created with bias=False; the handout's layers have biases.")
    if tuple(leaves["bias"].shape) != shapes["bias"]:
        fail(f"{role} has bias shape {tuple(leaves['bias'].shape)}; expected {shapes['bias']}.",
             f"{role}: the bias has one entry per output.")
    extra = sorted(set(leaves) - {"weight", "bias"})
    if extra:
        layer = "Conv2d" if kind == "conv" else "Linear"
        fail(f"{role} holds unexpected tensors {extra}.", f"{role}: use a plain nn.{layer}.")


def _shape_hint(role: str, got: tuple, want: tuple) -> str:
    if len(got) == 4 and got[:2] == want[:2]:
        return f"{role}: kernel size {got[2]}x{got[3]}; the handout's is {want[2]}x{want[3]}."
    if got[:1] != want[:1]:
        return f"{role}: {got[0]} outputs (out_channels/out_features); the handout's {SHOWN[role]} has {want[0]}."
    return f"{role}: {got[1]} inputs (in_channels/in_features); the handout's {SHOWN[role]} has {want[1]}."


def call_text(kwargs: dict) -> str:
    return "LeNet(" + ", ".join(f"{k}={v!r}" for k, v in kwargs.items()) + ")"


# ------------------------------------------------------------------ forwards


# The parent's forwards share process-wide state: torch's global CPU generator (dropout draws; seeded right before
# each forward, as the driver does before the student's), one cached reference LeNet per configuration (reloaded
# with each check's weights) and torch's thread count. a4's checks run side by side in threads
# (``A4.parallel_checks``), so every forward holds this lock from loading and seeding to its result: an output
# depends only on (configuration, weights, input, mode, seed), never on what another check did meanwhile.
FORWARD_LOCK = threading.RLock()


@contextlib.contextmanager
def one_thread():
    """Run the parent's small forwards on one thread (faster for batches of 7, and no busy-waiting pool)."""
    saved = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(saved)


_REFERENCES: dict[tuple, torch.nn.Module] = {}
# Configuration -> the weights dict its reference instance carries, unchanged since it was loaded (a training-mode
# forward moves the batch-norm statistics and drops the entry): the runs of one probe load their weights once.
_LOADED: dict[tuple, dict] = {}


def _config(kwargs: dict) -> tuple:
    return tuple(sorted(kwargs.items()))


def reference_model(kwargs: dict, weights: dict) -> torch.nn.Module:
    """The reference LeNet carrying the student's weights (one instance per configuration, loaded when its
    weights differ from the last ones, or a training-mode forward moved them).

    The instance is shared: call this, and use the model, only while holding ``FORWARD_LOCK``."""
    key = _config(kwargs)
    with FORWARD_LOCK:
        if key not in _REFERENCES:
            _REFERENCES[key] = oracle.reference_class("a4", "lenet", "LeNet")(**kwargs)
        model = _REFERENCES[key]
        if _LOADED.get(key) is not weights:
            model.load_state_dict(weights, strict=False)
            _LOADED[key] = weights
    return model


def _seed(seed: int) -> None:
    """Seed the CPU generator that dropout draws from (torch.manual_seed would also queue lazy CUDA calls)."""
    torch.default_generator.manual_seed(int(seed))


def reference_outputs(kwargs: dict, weights: dict, x: np.ndarray, train: bool, seed: int) -> np.ndarray:
    """The reference's output on ``x``; the same seed is set right before the student's forward in the sandbox.

    The weights are the parent's draws and ``x`` the parent's inputs, so the result is a function of plain
    data: the student build replays it from its recording (``oracle.computed``) under the public seeds."""
    data = {name: tensor.detach().cpu().numpy() for name, tensor in weights.items()}
    return oracle.computed("a4", "reference LeNet outputs", lambda: _reference_outputs(kwargs, weights, x, train, seed),
                           dict(kwargs), data, np.asarray(x), bool(train), int(seed))


def _reference_outputs(kwargs: dict, weights: dict, x: np.ndarray, train: bool, seed: int) -> np.ndarray:
    with FORWARD_LOCK, torch.no_grad(), one_thread():
        model = reference_model(kwargs, weights)
        model.train(train)
        if train:
            _LOADED.pop(_config(kwargs), None)
        _seed(seed)
        return model(torch.from_numpy(x)).double().numpy()


@dataclass(frozen=True)
class Variant:
    """A one-change departure from the handout's forward, and the sentence that blames it."""

    blame: str
    component: str  # the check that owns this mistake: layers, logits, bn, dropout or train_eval
    relu: tuple = (True, True, True, True)  # after conv1, conv2, fc1, fc2: True (ReLU), False, "sigmoid", "tanh"
    pool: str = "max"
    bn_before_pool: bool = False
    bn_batch_stats_in_eval: bool = False
    dropout: tuple | None = None  # rates after fc1 and fc2 (None: the constructor's)
    dropout_in_eval: bool = False
    head: str = ""


VARIANTS = (
    [Variant(f"The ReLU after {name} is missing.", "layers", relu=tuple(j != i for j in range(4)))
     for i, name in enumerate(("conv1", "conv2", "fc1", "fc2"))]
    # A sigmoid (or tanh) where the handout has a ReLU: everywhere, or after one layer, named.
    + [Variant(f"The activations are {act}s: the handout has a ReLU after conv1, conv2, fc1 and fc2 (F.relu or "
               "nn.ReLU).", "layers", relu=(act,) * 4) for act in ("sigmoid", "tanh")]
    + [Variant(f"{name} is followed by a {act} where the handout has a ReLU (F.relu or nn.ReLU).", "layers",
               relu=tuple(act if j == i else True for j in range(4)))
       for act in ("sigmoid", "tanh") for i, name in enumerate(("conv1", "conv2", "fc1", "fc2"))]
    + [Variant("pool: average pooling is used where the handout has max-pooling (F.max_pool2d / nn.MaxPool2d).",
               "layers", pool="avg"),
       Variant("The output goes through a softmax after fc3: return the logits (CrossEntropyLoss applies "
               "log-softmax itself).", "logits", head="softmax"),
       Variant("The output goes through a log-softmax after fc3: return the logits (CrossEntropyLoss applies "
               "log-softmax itself).", "logits", head="log_softmax"),
       Variant("A ReLU follows fc3: the logits must be able to be negative.", "logits", head="relu"),
       Variant("bn: the batch norms come BEFORE the max-pools; BatchNorm2d goes right after each max-pool.",
               "bn", bn_before_pool=True),
       Variant("bn: in eval mode the batch norms use the batch's statistics; they must use their running "
               "statistics (nn.BatchNorm2d, or pass training=self.training).", "train_eval",
               bn_batch_stats_in_eval=True),
       Variant("dropout: still active in eval mode; use nn.Dropout, or F.dropout(x, p, self.training).",
               "train_eval", dropout_in_eval=True)]
    + [Variant(f"dropout: the rate is {p}, not the constructor's dropout argument.", "dropout", dropout=(p, p))
       for p in (0.5, 0.1, 0.2, 0.25, 0.4)]
    + [Variant("dropout: only after fc1's ReLU; the handout has it after fc1's and fc2's.", "dropout",
               dropout=("p", 0)),
       Variant("dropout: only after fc2's ReLU; the handout has it after fc1's and fc2's.", "dropout",
               dropout=(0, "p"))]
)


def variant_outputs(variant: Variant, kwargs: dict, weights: dict, x: np.ndarray, train: bool,
                    seed: int) -> np.ndarray:
    """The handout's forward with ``variant``'s one change, written out with torch.nn.functional."""
    w = {k: v for k, v in weights.items()}
    p = float(kwargs.get("dropout", 0.0))
    rates = [p if r == "p" else r for r in (variant.dropout or (p, p))]
    h = torch.from_numpy(x)
    with FORWARD_LOCK, torch.no_grad(), one_thread():
        _seed(seed)
        for i, (conv, bn) in enumerate((("features.0", "features.3"), ("features.4", "features.7"))):
            h = F.conv2d(h, w[f"{conv}.weight"], w[f"{conv}.bias"])
            h = _activation(variant.relu[i], h)
            if kwargs.get("batch_norm") and variant.bn_before_pool:
                h = _bn(h, w, bn, train, variant)
            h = F.max_pool2d(h, 2) if variant.pool == "max" else F.avg_pool2d(h, 2)
            if kwargs.get("batch_norm") and not variant.bn_before_pool:
                h = _bn(h, w, bn, train, variant)
        h = torch.flatten(h, 1)
        for i, fc in enumerate(("classifier.0", "classifier.3")):
            h = F.linear(h, w[f"{fc}.weight"], w[f"{fc}.bias"])
            h = _activation(variant.relu[2 + i], h)
            if rates[i]:
                h = F.dropout(h, rates[i], train or variant.dropout_in_eval)
        h = F.linear(h, w["classifier.6.weight"], w["classifier.6.bias"])
        if variant.head == "softmax":
            h = torch.softmax(h, 1)
        elif variant.head == "log_softmax":
            h = torch.log_softmax(h, 1)
        elif variant.head == "relu":
            h = F.relu(h)
    return h.double().numpy()


def _activation(kind, h):
    """The activation a variant has after one layer: the handout's ReLU (True), none (False), or another."""
    if kind is True:
        return F.relu(h)
    return {"sigmoid": torch.sigmoid, "tanh": torch.tanh}[kind](h) if kind else h


def _bn(h, w, name, train, variant):
    batch_stats = train or variant.bn_batch_stats_in_eval
    return F.batch_norm(h, w[f"{name}.running_mean"].clone(), w[f"{name}.running_var"].clone(),
                        w[f"{name}.weight"], w[f"{name}.bias"], batch_stats, 0.1, 1e-5)


def close(got: np.ndarray, want: np.ndarray) -> bool:
    return got.shape == want.shape and bool(np.allclose(got, want, rtol=RTOL, atol=ATOL))


# ------------------------------------------------------------------ errors


_MATMUL = re.compile(r"\((\d+)x(\d+) and (\d+)x(\d+)\)")
_VIEW = re.compile(r"shape '\[([-\d, ]+)\]' is invalid for input of size (\d+)")
_DEVICE_WORDS = ("meta", "cuda", "device", "cpu", "nvidia", "Cannot copy out")


def is_device_error(info: dict) -> bool:
    text = f"{info.get('type', '')}: {info.get('message', '')} {info.get('line', '')}".lower()
    return any(word.lower() in text for word in _DEVICE_WORDS)


def where(info: dict) -> str:
    """The student's own frame that raised, as the sandbox reported it (for hints only)."""
    place, line = info.get("where"), str(info.get("line") or "").strip()
    if not place:
        return "outside your code"
    return f"{place}" + (f" (`{line[:160]}`)" if line else "")


def explain_error(info: dict, batch: int | None) -> str:
    """A hint for an exception raised by the student's forward, from its message and its own frame."""
    message = str(info.get("message", ""))
    found = _MATMUL.search(message)
    if found:
        features, want_in = int(found.group(2)), int(found.group(3))
        if want_in == 400 and features != 400:
            return f"The error is raised at {where(info)}. " + _flatten_hint(features, batch)
        return f"The error is raised at {where(info)}: a linear layer receives {features} features, expects {want_in}."
    if _VIEW.search(message):
        return (f"The error is raised at {where(info)}: the flatten hard-codes a size. Flatten with "
                "torch.flatten(x, 1) or x.view(x.size(0), -1): batches of any size (1, 7, ...) must work.")
    if is_device_error(info):
        return (f"The error is raised at {where(info)}: that line puts a tensor on a fixed device (.cuda(), "
                ".to('cpu'), torch.zeros(...) without device=). Create tensors with device=x.device, or register "
                "them as buffers.")
    return f"The error is raised at {where(info)}."


def outputs_shape_check(label: str, got, want: np.ndarray, batch: int) -> np.ndarray:
    """Shape before value: the student's output must be a float array of the reference's shape."""
    if not isinstance(got, np.ndarray) or got.dtype.kind not in "iuf":
        raise CheckFailed(f"{label} on a batch of {batch} did not return a tensor of numbers.")
    if got.shape != want.shape:
        hint = ("Flatten with torch.flatten(x, 1): keep the batch dimension." if got.size == want.size or (
            got.ndim >= 1 and got.shape[0] != batch) else
            "fc3 must have num_classes outputs: use the constructor's num_classes argument." if got.ndim == 2 else
            "Return the logits of shape (N, num_classes).")
        raise CheckFailed(f"{label} on a batch of {batch} returns shape {tuple(got.shape)}, expected "
                          f"{tuple(want.shape)}.", hint)
    return got.astype(np.float64)

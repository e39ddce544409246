"""a1 task 1.5: SGD, Momentum, Adagrad, Adam and zero_grad.

Optimizers are tested on grader-owned layers (``drivers.ParamLayer``) so a
broken Linear cannot fail them. Several steps on several parameters, with a
layer that has no ``parameters`` in between, catch lost state, updates that
are not in place and skipped layers. When a trajectory diverges we replay
known mistakes here in the parent to name the likely one.

Each optimizer with a default in the handout (Momentum's beta, Adagrad's eps,
all of Adam's) runs a second time built with those defaults, and there the
second layer's gradients are of the order of eps (1e-8): only where the
gradients are that small do eps's value and its sign change the step.
"""

from __future__ import annotations

import numpy as np

from grader.assignments.a1.spec import A1
from grader.authoring import CheckContext, CheckFailed, assert_close, expect_shape, oracle, unpack

STEPS = 4


class _Params:
    """A parent-side stand-in for a layer, for replaying reference optimizers."""

    def __init__(self, values):
        self.values = [v.copy() for v in values]
        self.grads = [np.zeros_like(v) for v in values]

    def parameters(self):
        return list(zip(self.values, self.grads))


# Known mistakes, written over the staff's reference module ``mlp`` (oracle.real): they run only where the
# reference does, inside the computation the student build replays (oracle.computed).
def _momentum_ema(mlp):
    class MomentumEMA(mlp.Momentum):
        def step(self) -> None:
            for p, g in mlp._parameters(self.layers):
                v = self.velocity.setdefault(id(p), np.zeros_like(p))
                v[...] = self.beta * v + (1 - self.beta) * g
                p -= self.lr * v
    return MomentumEMA


def _adam_no_correction(mlp):
    class AdamNoCorrection(mlp.Adam):
        def step(self) -> None:
            for p, g in mlp._parameters(self.layers):
                m = self.m.setdefault(id(p), np.zeros_like(p))
                v = self.v.setdefault(id(p), np.zeros_like(p))
                m[...] = self.beta1 * m + (1 - self.beta1) * g
                v[...] = self.beta2 * v + (1 - self.beta2) * g**2
                p -= self.lr * m / (np.sqrt(v) + self.eps)
    return AdamNoCorrection


def _adagrad_last_only(mlp):
    class AdagradLastOnly(mlp.Adagrad):
        def step(self) -> None:
            for p, g in mlp._parameters(self.layers):
                p -= self.lr * g / (np.sqrt(g**2) + self.eps)
    return AdagradLastOnly


def _adagrad_eps_inside(mlp):
    class AdagradEpsInside(mlp.Adagrad):
        def step(self) -> None:
            for p, g in mlp._parameters(self.layers):
                s = self.sum_sq.setdefault(id(p), np.zeros_like(p))
                s += g**2
                p -= self.lr * g / np.sqrt(s + self.eps)
    return AdagradEpsInside


# name -> (keyword arguments, [(a known mistake's class, given the reference module; its hint)])
OPTIMIZERS = {
    "SGD": ({"lr": 0.1}, []),
    "Momentum": ({"lr": 0.05, "beta": 0.8},
                 [(_momentum_ema, "Momentum here is v = beta * v + g (no (1 - beta) factor on g).")]),
    "Adagrad": ({"lr": 0.1, "eps": 1e-8},
                [(_adagrad_last_only, "G must ACCUMULATE the squared gradients of all steps (G += g**2)."),
                 (_adagrad_eps_inside, "eps is added AFTER the square root (sqrt(G) + eps, as the handout writes "
                                       "it); yours adds it under the square root.")]),
    "Adam": ({"lr": 0.01, "beta1": 0.8, "beta2": 0.9, "eps": 1e-8},
             [(_adam_no_correction, "Bias correction is missing: divide m by (1 - beta1**t) and v by "
                                    "(1 - beta2**t).")]),
}


def _replay(factory, kwargs, initial, grads_per_step, fresh_each_step: bool = False):
    """Parameter values after each step, as a reference (or mistaken) optimizer gives them."""
    layers = [_Params(values) for values in initial]
    optimizer = factory(layers, **kwargs)
    history = []
    for grads in grads_per_step:
        if fresh_each_step:
            optimizer = factory(layers, **kwargs)
        for layer, layer_grads in zip(layers, grads):
            for g, new in zip(layer.grads, layer_grads):
                g[...] = new
        optimizer.step()
        history.append([v.copy() for layer in layers for v in layer.values])
    return history


# name -> (the keyword arguments that have no default in the handout, the second layer's gradient scale)
DEFAULTS = {
    "Momentum": ({"lr": 0.05}, 1.0),  # beta=0.9
    "Adagrad": ({"lr": 0.1}, 1e-8),  # eps=1e-8
    "Adam": ({}, 1e-8),  # lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8
}
HANDOUT_DEFAULTS = {"Momentum": "beta=0.9", "Adagrad": "eps=1e-8", "Adam": "lr=1e-3, beta1=0.9, beta2=0.999, "
                                                                          "eps=1e-8"}


def _trajectories(name: str, kwargs: dict, initial, grads_per_step) -> dict:
    """The reference optimizer's parameter values after each step, each known mistake's, and those of a
    freshly created optimizer at every step (lost state). Runs the staff's reference (``oracle.real``)."""
    mlp = oracle.real("a1", "mlp")
    mistakes = OPTIMIZERS[name][1]
    factory = getattr(mlp, name)
    return {"expected": _replay(factory, kwargs, initial, grads_per_step),
            "mistakes": [_replay(make(mlp), kwargs, initial, grads_per_step) for make, _ in mistakes],
            "fresh": _replay(factory, kwargs, initial, grads_per_step, True)}


def _matches(got: list[np.ndarray], expected: list[np.ndarray]) -> bool:
    return all(np.shape(g) == e.shape and np.allclose(g, e, rtol=1e-6, atol=1e-9) for g, e in zip(got, expected))


def _arrays(layer, method: str, shapes) -> list[np.ndarray]:
    """The grader layer's arrays as the sandbox reports them, each checked for shape before use."""
    items = unpack(f"the layer's {method}", layer.call(method), len(shapes))
    return [expect_shape(f"parameter {i} of a grader layer", v, s) for i, (v, s) in enumerate(zip(items, shapes))]


def _optimizer_check(ctx: CheckContext, name: str) -> None:
    kwargs, _ = OPTIMIZERS[name]
    _trajectory_check(ctx, name, kwargs, 1.0, "")
    if name in DEFAULTS:
        defaults, scale = DEFAULTS[name]
        tiny = f"; the second layer's gradients of the order of {scale:g}" if scale != 1.0 else ""
        _trajectory_check(ctx, name, defaults, scale, f" (built with the handout's defaults, "
                                                      f"{HANDOUT_DEFAULTS[name]}{tiny})")


def _trajectory_check(ctx: CheckContext, name: str, kwargs: dict, scale: float, built: str) -> None:
    """STEPS steps of optimizer ``name`` built with ``kwargs``, the second layer's gradients times ``scale``."""
    mistakes = OPTIMIZERS[name][1]
    rng = ctx.rng
    shapes = [[(int(rng.integers(2, 6)), int(rng.integers(2, 6))), (int(rng.integers(2, 6)),)],
              [(int(rng.integers(2, 6)), int(rng.integers(2, 6)))]]
    seeds = [int(rng.integers(2**31)) for _ in shapes]
    drivers = ctx.student.drivers()
    layers = [drivers.call("ParamLayer", s, seed) for s, seed in zip(shapes, seeds)]
    initial = [_arrays(layer, "values", s) for layer, s in zip(layers, shapes)]
    optimizer = ctx.student.module("mlp").call(name, [layers[0], drivers.call("NoParamLayer"), layers[1]],
                                               **kwargs)
    scales = [1.0, scale]
    grads_per_step = [[[scales[k] * rng.standard_normal(s) for s in layer_shapes]
                       for k, layer_shapes in enumerate(shapes)] for _ in range(STEPS)]
    # Every trajectory the verdict may need, computed once from plain data (the seed's arrays): the student
    # build replays them from its recording (oracle.computed), so these checks are public there too.
    trajectories = oracle.computed("a1", f"{name} trajectories",
                                   lambda: _trajectories(name, kwargs, initial, grads_per_step),
                                   name, kwargs, initial, grads_per_step)
    expected = trajectories["expected"]
    before = [v for values in initial for v in values]
    for step, grads in enumerate(grads_per_step):
        for layer, layer_grads in zip(layers, grads):
            layer.call("set_grads", layer_grads)
        optimizer.call("step")
        got = [v for layer, s in zip(layers, shapes) for v in _arrays(layer, "values", s)]
        if _matches(got, expected[step]):
            before = got
            continue
        label = f"{name}.step() number {step + 1} of {STEPS}{built}"
        if _matches(got, before):
            raise CheckFailed(f"{label} left every parameter unchanged.",
                              "Update the arrays in place (p -= lr * g); `p = p - lr * g` only rebinds a local "
                              "name. And call layer.parameters() on every layer that has it.")
        for (_, hint), mistaken in zip(mistakes, trajectories["mistakes"]):
            if _matches(got, mistaken[step]):
                raise CheckFailed(f"{label} does not follow the handout's update rule.", hint)
        if step > 0 and _matches(got, trajectories["fresh"][step]):
            raise CheckFailed(f"{label} gives the values of a freshly created optimizer.",
                              "Keep the optimizer's state (velocity, sums, moments, step count) across steps, "
                              "one per parameter.")
        index = next(i for i, (g, e) in enumerate(zip(got, expected[step])) if not _matches([g], [e]))
        hint = (f"Use the handout's defaults ({HANDOUT_DEFAULTS[name]}) for the arguments not given"
                + ("; eps is ADDED to the square root (sqrt(...) + eps, as the handout writes it), which matters "
                   "when the gradients are as small as eps." if scale != 1.0 else ".") if built else "")
        try:
            assert_close(f"parameter {index} after {label}", got[index], expected[step][index])
        except CheckFailed as failure:
            failure.hint = failure.hint or hint
            raise
        raise CheckFailed(f"{label}: parameter {index} differs from the expected value.", hint)


for _name, _points in (("SGD", 1), ("Momentum", 2), ("Adagrad", 2), ("Adam", 2)):
    def _make(name=_name):
        def check(ctx: CheckContext) -> None:
            _optimizer_check(ctx, name)
        check.__name__ = f"{name.lower()}_steps"
        check.__doc__ = (f"{name}: {STEPS} steps on three parameters in two layers"
                         + (", and again with the handout's defaults." if name in DEFAULTS else "."))
        return check
    A1.check("1.5", f"{_name}: several steps", points=_points)(_make())


@A1.check("1.5", "zero_grad of every optimizer", points=1)
def zero_grad(ctx: CheckContext) -> None:
    """zero_grad() sets every gradient array to 0, in place."""
    drivers = ctx.student.drivers()
    mlp = ctx.student.module("mlp")
    wrong = []
    for name, (kwargs, _) in OPTIMIZERS.items():
        layer = drivers.call("ParamLayer", [(3, 2), (2,)], int(ctx.rng.integers(2**31)))
        layer.call("set_grads", [ctx.rng.standard_normal((3, 2)), ctx.rng.standard_normal(2)])
        mlp.call(name, [layer], **kwargs).call("zero_grad")
        if not all(np.all(g == 0) for g in _arrays(layer, "gradients", [(3, 2), (2,)])):
            wrong.append(name)
    if wrong:
        raise CheckFailed(f"zero_grad() left gradients non-zero in: {', '.join(wrong)}.",
                          "Set each gradient array to zero in place (g[...] = 0 or g.fill(0)).",
                          fraction=(len(OPTIMIZERS) - len(wrong)) / len(OPTIMIZERS))

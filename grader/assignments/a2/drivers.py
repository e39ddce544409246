"""Grader-written helpers for a2 that run INSIDE the sandbox (see a1's drivers.py for why).

``run_graph`` builds graphs from correct ops defined here on top of the
student's ``Op`` (so ``apply`` and ``Tensor`` are theirs), so the graph checks
test ``Tensor.backward`` alone, and counts how often each node's backward runs.
"""

import numpy as np


def op_forward_backward(module, op_name, inputs, params, G):
    """Run one op's forward, then (if G is not None) its backward on the same ctx."""
    op = getattr(module, op_name)
    ctx = {}
    out = op.forward(ctx, *inputs, **params)
    if G is None:
        return out, None
    return out, op.backward(ctx, G)


def op_forward_many(module, op_name, inputs_list, params):
    """The op's forward at many points, for finite differences."""
    op = getattr(module, op_name)
    return [np.asarray(op.forward({}, *inputs, **params), dtype=np.float64) for inputs in inputs_list]


_CORRECT = {
    "Add": (lambda c, x, y: x + y, lambda c, g: (g, g)),
    "Multiply": (lambda c, x, y: c.update(x=x, y=y) or x * y, lambda c, g: (g * c["y"], g * c["x"])),
    "Exp": (lambda c, x: c.update(y=np.exp(x)) or c["y"], lambda c, g: (g * c["y"],)),
    "Log": (lambda c, x: c.update(x=x) or np.log(x), lambda c, g: (g / c["x"],)),
    "Sigmoid": (lambda c, x: c.update(y=1 / (1 + np.exp(-x))) or c["y"], lambda c, g: (g * c["y"] * (1 - c["y"]),)),
    "MatMul": (lambda c, x, w: c.update(x=x, w=w) or x @ w, lambda c, g: (g @ c["w"].T, c["x"].T @ g)),
    "Sum": (lambda c, x: c.update(shape=x.shape) or np.asarray(x.sum()), lambda c, g: (np.full(c["shape"], g),)),
}


def _counting_ops(module, calls):
    ops = {}
    for name, (forward, backward) in _CORRECT.items():
        def fwd(ctx, *inputs, node, _forward=forward):
            ctx["node"] = node
            return _forward(ctx, *inputs)

        def bwd(ctx, G, _backward=backward):
            calls[ctx["node"]] = calls.get(ctx["node"], 0) + 1
            return _backward(ctx, G)

        ops[name] = type(name, (module.Op,), {"forward": staticmethod(fwd), "backward": staticmethod(bwd)})
    return ops


def run_graph(module, leaves, nodes):
    """Build leaves + nodes [(op, input indices)], call backward on the last; return leaf grads and calls."""
    calls = {}
    ops = _counting_ops(module, calls)
    tensors = [module.Tensor(np.asarray(v, dtype=np.float64)) for v in leaves]
    for k, (name, refs) in enumerate(nodes):
        tensors.append(ops[name].apply(*[tensors[r] for r in refs], node=k))
    tensors[-1].backward()
    return [t.grad for t in tensors[: len(leaves)]], [calls.get(k, 0) for k in range(len(nodes))]

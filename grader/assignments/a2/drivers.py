"""Grader-written helpers for a2 that run INSIDE the sandbox (see a1's drivers.py for why).

Nothing here decides a score: each helper runs student code on inputs the
parent chose and sends back what came out, plus the input arrays as they are
after the call, so the parent (which kept its own copies) can tell whether an
op wrote into an array it was given.

``run_graph`` builds graphs from correct ops defined here on top of the
student's ``Op`` (so ``apply`` and ``Tensor`` are theirs), so the graph checks
test ``Tensor.backward`` alone; each node records how often its backward ran
and the gradient the engine handed it.
"""

import numpy as np


def op_case(module, op_name, inputs, params, G, readback=True):
    """Forward, then backward on the same ctx when G is not None (called once per case through ``map``).

    Returns [out, inputs after forward, grads, inputs after backward, G after backward]; without
    ``readback`` only out and grads.
    """
    op = getattr(module, op_name)
    ctx = {}
    out = op.forward(ctx, *inputs, **params)
    after_forward = [np.array(a, copy=True) for a in inputs] if readback else None
    if G is None:
        return [out, after_forward, None, None, None]
    grads = op.backward(ctx, G)
    return [out, after_forward, grads, list(inputs), G] if readback else [None, None, grads, None, None]


def op_forward_point(module, op_name, inputs, params):
    """The op's forward at one point, for finite differences (called through ``map``)."""
    return np.asarray(getattr(module, op_name).forward({}, *inputs, **params), dtype=np.float64)


def _sum(c, x, axis=None):
    c.update(shape=x.shape, axis=axis)
    return np.asarray(x.sum(axis=axis))


def _sum_backward(c, g):
    g = np.asarray(g)
    if c["axis"] is not None:
        g = np.expand_dims(g, c["axis"])
    return (np.broadcast_to(g, c["shape"]).copy(),)


_CORRECT = {
    "Add": (lambda c, x, y: x + y, lambda c, g: (g, g)),
    "Multiply": (lambda c, x, y: c.update(x=x, y=y) or x * y, lambda c, g: (g * c["y"], g * c["x"])),
    "Exp": (lambda c, x: c.update(y=np.exp(x)) or c["y"], lambda c, g: (g * c["y"],)),
    "Log": (lambda c, x: c.update(x=x) or np.log(x), lambda c, g: (g / c["x"],)),
    "Sigmoid": (lambda c, x: c.update(y=1 / (1 + np.exp(-x))) or c["y"], lambda c, g: (g * c["y"] * (1 - c["y"]),)),
    "MatMul": (lambda c, x, w: c.update(x=x, w=w) or x @ w, lambda c, g: (g @ c["w"].T, c["x"].T @ g)),
    "Sum": (_sum, _sum_backward),
    "Squeeze": (lambda c, x, axis: c.update(axis=axis) or np.squeeze(x, axis=axis),
                lambda c, g: (np.expand_dims(g, c["axis"]),)),
    "Unsqueeze": (lambda c, x, axis: c.update(axis=axis) or np.expand_dims(x, axis),
                  lambda c, g: (np.squeeze(g, axis=c["axis"]),)),
}


def _snapshot(g):
    """What the engine handed a backward, as plain data: a float64 copy, or None if it is not numeric."""
    try:
        array = np.array(g, dtype=np.float64, copy=True)
    except (TypeError, ValueError):
        return None
    return array


def _counting_ops(module, calls, received, handed):
    ops = {}
    for name, (forward, backward) in _CORRECT.items():
        def fwd(ctx, *inputs, node, _forward=forward, **params):
            ctx["node"], ctx["shapes"] = node, [np.shape(x) for x in inputs]
            out = _forward(ctx, *inputs, **params)
            ctx["out_shape"] = np.shape(out)
            return out

        def bwd(ctx, G, _backward=backward):
            node = ctx["node"]
            calls[node] = calls.get(node, 0) + 1
            snapshot = _snapshot(G)
            received.setdefault(node, snapshot)
            handed.setdefault(node, G)
            if snapshot is None or snapshot.shape != ctx["out_shape"]:  # the parent names the wrong G; go on
                return tuple(np.zeros(shape) for shape in ctx["shapes"])
            return _backward(ctx, G)

        ops[name] = type(name, (module.Op,), {"forward": staticmethod(fwd), "backward": staticmethod(bwd)})
    return ops


def run_graph(module, leaves, nodes):
    """Build leaves + nodes [(op, input indices, params)], call backward on the last tensor.

    Returns [grads of every tensor (leaves first), backward calls per node, the G each node received first,
    and per node whether that very G array was changed after the node's backward ran].
    """
    calls, received, handed = {}, {}, {}
    ops = _counting_ops(module, calls, received, handed)
    tensors = [module.Tensor(np.asarray(v, dtype=np.float64)) for v in leaves]
    for k, node in enumerate(nodes):
        name, refs = node[0], node[1]
        params = node[2] if len(node) > 2 else {}
        tensors.append(ops[name].apply(*[tensors[r] for r in refs], node=k, **params))
    tensors[-1].backward()
    changed = [k in handed and received[k] is not None and not np.array_equal(_snapshot(handed[k]), received[k])
               for k in range(len(nodes))]
    return [[t.grad for t in tensors], [calls.get(k, 0) for k in range(len(nodes))],
            [received.get(k) for k in range(len(nodes))], changed]


def run_roots(module, leaves, nodes, roots):
    """Build leaves + nodes as ``run_graph`` does, then call backward() on each tensor of ``roots`` in turn.

    Returns the leaves' gradients after each call: how the engine treats a second backward() on a root that
    shares leaves with the first.
    """
    ops = _counting_ops(module, {}, {}, {})
    tensors = [module.Tensor(np.asarray(v, dtype=np.float64)) for v in leaves]
    for k, node in enumerate(nodes):
        name, refs = node[0], node[1]
        params = node[2] if len(node) > 2 else {}
        tensors.append(ops[name].apply(*[tensors[r] for r in refs], node=k, **params))
    after = []
    for root in roots:
        tensors[root].backward()
        after.append([_snapshot(t.grad) if t.grad is not None else None for t in tensors[:len(leaves)]])
    return after

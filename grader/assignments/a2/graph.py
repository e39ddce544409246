"""a2 task 2.3: Tensor.backward over chains, diamonds, fan-out and deep ladders.

The ops in these graphs are the grader's (correct, built on the student's
``Op``), so only ``Tensor.backward`` is being tested; the truth comes from the
reference engine here in the parent.
"""

from __future__ import annotations

import numpy as np

from grader.assignments.a2 import judge
from grader.assignments.a2.spec import A2
from grader.authoring import CheckContext, CheckFailed, oracle, unpack

ref = oracle.load("a2", "autograd")  # the reference, or its recorded stand-in in the student build

LADDER_DEPTH = 10


def _leaves(rng, shapes, positive=False):
    return [rng.uniform(0.5, 2.0, s) if positive else rng.standard_normal(s) for s in shapes]


def _node(node):
    return node[0], tuple(node[1]), dict(node[2]) if len(node) > 2 else {}


def _reference(leaves, nodes):
    """Every tensor's gradient (leaves first, then one per node) from the reference engine."""
    tensors = [ref.Tensor(v) for v in leaves]
    for node in nodes:
        name, refs, params = _node(node)
        tensors.append(getattr(ref, name).apply(*[tensors[r] for r in refs], **params))
    tensors[-1].backward()
    return [t.grad for t in tensors]


SHARED_HINT = ("This graph uses a tensor more than once: the gradients flowing into it from every op that uses "
               "it must be added up (+=), not overwritten, before its own op's backward runs.")
SEED_HINT = ("Seed the root's gradient with np.ones_like(root.value): d(root)/d(root) is 1 for every element, "
             "whatever the root's shape (a leaf or an op's output).")
EVERY_HINT = ("Every tensor the root depends on gets its gradient in .grad (the handout: intermediate tensors "
              "too, not only the leaves), and the root's own .grad is the seed.")
FLOW_HINT = ("The G handed to an op's backward is the gradient of that op's output: what the op after it sent "
             "back, unchanged, and only once every op using the output has sent its part.")
ALIAS_HINT = ("Tensor.backward adds into a gradient array in place (grad += g) that another tensor also holds (Add's "
              "backward returns the same G for both inputs): add out of place (grad = grad + g).")


def _run(ctx: CheckContext, what: str, leaves, nodes, *, shared: bool = False, every_tensor: bool = False,
         hint: str = "") -> None:
    what = f"Tensor.backward on {what}"
    module = ctx.student.module("autograd").as_object()
    wire_nodes = [[name, list(refs), params] for name, refs, params in map(_node, nodes)]
    grads, calls, received, changed = unpack("Tensor.backward's graph", ctx.student.drivers().call(
        "run_graph", module, leaves, wire_nodes), 4)
    count = len(leaves) + len(nodes)
    grads = unpack("the tensors' gradients", grads, count)
    calls, received = unpack("the call counts", calls, len(nodes)), unpack("the gradients received", received,
                                                                            len(nodes))
    expected = _reference(leaves, nodes)
    root = count - 1
    changed = unpack("the changed flags", changed, len(nodes))
    for k, flag in enumerate(changed):
        if flag is True:
            raise CheckFailed(f"{what}: it changed the gradient array it had handed to node {k} "
                              f"({nodes[k][0]}.backward) after that backward ran.", ALIAS_HINT)

    def blame(k: int) -> str:
        return hint or (SEED_HINT if k == root else SHARED_HINT if shared else FLOW_HINT)

    counts = [c if isinstance(c, int) else -1 for c in calls]
    if any(c != 1 for c in counts):
        worst = max(counts)
        raise CheckFailed(f"{what}: the ops' backward ran {sum(counts)} times for {len(counts)} nodes "
                          f"(one node {worst} times).",
                          "Visit the graph in reverse topological order and call each op's backward exactly "
                          "once, after all gradients flowing into its output have been added up.")
    for k, got in reversed(list(enumerate(received))):  # from the root down: the first wrong G is blamed
        name = nodes[k][0]
        label = f"{what}: the G it handed to node {k} ({name}.backward)"
        if got is None:
            raise CheckFailed(f"{label} is not a numeric array.", blame(len(leaves) + k))
        try:
            judge.expect(label, got, expected[len(leaves) + k])
        except CheckFailed as failure:
            failure.hint = blame(len(leaves) + k)
            raise
    for k in range(len(leaves)):
        if grads[k] is None:
            raise CheckFailed(f"{what}: leaf {k} has grad None after backward().", hint or
                              ("Every tensor the root depends on must receive a gradient in .grad." if k != root
                               else SEED_HINT))
        try:
            judge.expect(f"{what}: grad of leaf {k}", grads[k], expected[k])
        except CheckFailed as failure:
            failure.hint = blame(k) if (shared or k == root or hint) else failure.hint
            raise
    if every_tensor:
        for k in range(len(leaves), count):
            kind = "the root" if k == root else f"intermediate tensor {k} ({nodes[k - len(leaves)][0]}'s output)"
            if grads[k] is None:
                raise CheckFailed(f"{what}: {kind} has grad None after backward().", EVERY_HINT)
            try:
                judge.expect(f"{what}: grad of {kind}", grads[k], expected[k])
            except CheckFailed as failure:
                failure.hint = SEED_HINT if k == root else EVERY_HINT
                raise


@A2.check("2.3", "Tensor.backward: a chain", points=1)
def graph_chain(ctx: CheckContext) -> None:
    """sum(exp(a) * b): gradients flow through three ops to two leaves."""
    leaves = _leaves(ctx.rng, [(3, 4), (3, 4)])
    _run(ctx, "chain", leaves, [("Exp", (0,)), ("Multiply", (2, 1)), ("Sum", (3,))])


@A2.check("2.3", "Tensor.backward: a diamond (a node used twice)", points=2)
def graph_diamond(ctx: CheckContext) -> None:
    """u = sigmoid(a) feeds both exp(u) and log(u): its gradients must add up."""
    leaves = _leaves(ctx.rng, [(2, 5)])
    _run(ctx, "diamond", leaves, [("Sigmoid", (0,)), ("Exp", (1,)), ("Log", (1,)), ("Add", (2, 3)), ("Sum", (4,))],
         shared=True)


@A2.check("2.3", "Tensor.backward: two diamonds in a row", points=1)
def graph_double_diamond(ctx: CheckContext) -> None:
    """Two diamonds chained: accumulation at two levels."""
    leaves = _leaves(ctx.rng, [(3, 3)], positive=True)
    nodes = [("Exp", (0,)), ("Multiply", (1, 1)), ("Log", (2,)), ("Sigmoid", (2,)), ("Add", (3, 4)),
             ("Exp", (5,)), ("Multiply", (5, 6)), ("Sum", (7,))]
    _run(ctx, "double diamond", leaves, nodes, shared=True)


SECOND_HINT = ("A second backward(), on another root that shares leaves with the first, either adds its gradients "
               "to the .grad the first call left (PyTorch's rule: gradients accumulate until zeroed) or replaces "
               "them; it never keeps the first call's gradient or subtracts.")


@A2.check("2.3", "Tensor.backward: a leaf feeding two ops", points=1)
def graph_fan_out(ctx: CheckContext) -> None:
    """sum(a * b + exp(a)): leaf a collects gradients from two ops; and from two backward() calls on two roots."""
    leaves = _leaves(ctx.rng, [(4, 2), (4, 2)])
    _run(ctx, "fan-out", leaves, [("Multiply", (0, 1)), ("Exp", (0,)), ("Add", (2, 3)), ("Sum", (4,))], shared=True)
    _second_backward(ctx)


def _leaf_gradients(leaves, nodes, roots) -> list:
    """The leaves' gradients after one backward() on each of ``roots``, each in a fresh reference graph."""
    autograd = oracle.real("a2", "autograd")
    per_root = []
    for root in roots:
        tensors = [autograd.Tensor(v) for v in leaves]
        for node in nodes:
            name, refs, params = _node(node)
            tensors.append(getattr(autograd, name).apply(*[tensors[r] for r in refs], **params))
        tensors[root].backward()
        per_root.append([None if t.grad is None else np.asarray(t.grad, dtype=np.float64)
                         for t in tensors[:len(leaves)]])
    return per_root


def _second_backward(ctx: CheckContext) -> None:
    """sum(a * b).backward(), then sum(exp(a)).backward(): a's grad is the sum of both calls' (accumulation) or
    the second call's (replacement); b, which the second root does not use, keeps the first call's."""
    leaves = _leaves(ctx.rng, [(3, 2), (3, 2)])
    nodes = [("Multiply", (0, 1)), ("Sum", (2,)), ("Exp", (0,)), ("Sum", (4,))]
    roots = [3, 5]
    what = "Tensor.backward called twice, on sum(a * b) and then on sum(exp(a))"
    module = ctx.student.module("autograd").as_object()
    wire_nodes = [[name, list(refs), params] for name, refs, params in map(_node, nodes)]
    after = unpack("the gradients after each backward()", ctx.student.drivers().call(
        "run_roots", module, leaves, wire_nodes, roots), len(roots))
    # One result for both roots, recorded by the data (oracle.computed): per-object tapes would see the same leaf
    # asked for its .grad twice with two answers, and the student build would hide the check.
    first, second = oracle.computed("a2", "leaf gradients per root", lambda: _leaf_gradients(leaves, nodes, roots),
                                    leaves, wire_nodes, roots)
    accumulated = [g if h is None else h if g is None else g + h for g, h in zip(first, second)]
    replaced = [g if h is None else h for g, h in zip(first, second)]
    for call, (got, allowed) in enumerate(zip(after, ([first], [accumulated, replaced]))):
        got = unpack(f"the leaves' gradients after backward() number {call + 1}", got, len(leaves))
        for k, grad in enumerate(got):
            label = f"{what}: grad of leaf {'ab'[k]} after backward() number {call + 1}"
            if grad is None:
                raise CheckFailed(f"{label} is None or not a numeric array.", SECOND_HINT if call else SHARED_HINT)
            failures = []
            for expected in allowed:
                try:
                    judge.expect(label, grad, expected[k])
                    break
                except CheckFailed as failure:
                    failures.append(failure)
            else:
                failures[0].hint = SECOND_HINT if call else SHARED_HINT
                raise failures[0]


@A2.check("2.3", "Tensor.backward: a non-scalar root", points=1)
def graph_non_scalar_root(ctx: CheckContext) -> None:
    """backward() on a matrix seeds its gradient with ones."""
    leaves = _leaves(ctx.rng, [(3, 4), (4, 2)])
    _run(ctx, "non-scalar root", leaves, [("MatMul", (0, 1)), ("Sigmoid", (2,))])


@A2.check("2.3", "Tensor.backward: each op's backward runs once", points=2)
def graph_topological(ctx: CheckContext) -> None:
    """A ladder of diamonds: naive recursion runs backward 2**depth times; topological order once each."""
    leaves = _leaves(ctx.rng, [(2, 2)])
    nodes, last = [], 0
    for _ in range(LADDER_DEPTH):
        nodes.append(("Add", (last, last)))
        last = len(nodes)  # index of the node just added (leaves come first)
    nodes.append(("Sum", (last,)))
    _run(ctx, f"ladder of {LADDER_DEPTH} diamonds", leaves, nodes, shared=True)


@A2.check("2.3", "Tensor.backward: the root's seed gradient", points=1)
def graph_root_seed(ctx: CheckContext) -> None:
    """backward() on a leaf, and through shape-only ops, must leave ones: nothing after the root hides the seed."""
    _run(ctx, "backward() of a leaf", _leaves(ctx.rng, [(3, 4)]), [], hint=SEED_HINT)
    _run(ctx, "a chain of Unsqueeze and Squeeze", _leaves(ctx.rng, [(2, 3)]),
         [("Unsqueeze", (0,), {"axis": 0}), ("Squeeze", (1,), {"axis": 0})], hint=SEED_HINT)
    _run(ctx, "a non-scalar product", _leaves(ctx.rng, [(3, 2), (3, 2)]), [("Multiply", (0, 1))])


@A2.check("2.3", "Tensor.backward: every tensor gets its gradient", points=1)
def graph_every_tensor(ctx: CheckContext) -> None:
    """Intermediate tensors and the root get .grad too, not only the leaves."""
    leaves = _leaves(ctx.rng, [(3, 4), (4, 2)])
    nodes = [("MatMul", (0, 1)), ("Sigmoid", (2,)), ("Exp", (3,)), ("Sum", (4,), {"axis": 1}), ("Sum", (5,))]
    _run(ctx, "sum(exp(sigmoid(a @ b)))", leaves, nodes, every_tensor=True)


@A2.check("2.3", "Tensor.backward: gradient arrays shared by two tensors", points=1)
def graph_shared_arrays(ctx: CheckContext) -> None:
    """Add's backward hands the same G to both inputs; adding into it in place corrupts the other one."""
    leaves = _leaves(ctx.rng, [(2, 3), (2, 3)])
    nodes = [("Add", (0, 1)), ("Exp", (0,)), ("Multiply", (2, 3)), ("Add", (2, 4)), ("Exp", (1,)),
             ("Add", (5, 6)), ("Sum", (7,))]
    _run(ctx, "a graph whose Add nodes share G", leaves, nodes, shared=True)

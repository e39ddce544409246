"""a2 task 2.3: Tensor.backward over chains, diamonds, fan-out and deep ladders.

The ops in these graphs are the grader's (correct, built on the student's
``Op``), so only ``Tensor.backward`` is being tested; the truth comes from the
reference engine here in the parent.
"""

from __future__ import annotations

from grader import oracle
from grader.assignment import CheckContext, CheckFailed
from grader.assignments.a2.spec import A2
from grader.checks.compare import assert_close, unpack

ref = oracle.load("a2", "autograd")  # the reference, or its recorded stand-in in the student build

LADDER_DEPTH = 10


def _leaves(rng, shapes, positive=False):
    return [rng.uniform(0.5, 2.0, s) if positive else rng.standard_normal(s) for s in shapes]


def _reference(leaves, nodes):
    tensors = [ref.Tensor(v) for v in leaves]
    for name, refs in nodes:
        op = getattr(ref, name)
        tensors.append(op.apply(*[tensors[r] for r in refs]))
    tensors[-1].backward()
    return [t.grad for t in tensors[: len(leaves)]]


SHARED_HINT = ("This graph uses a tensor more than once: the gradients flowing into it from every op that uses "
               "it must be added up (+=), not overwritten, before its own op's backward runs.")


def _run(ctx: CheckContext, what: str, leaves, nodes, shared: bool = False) -> None:
    module = ctx.student.module("autograd").as_object()
    grads, calls = unpack("Tensor.backward's graph", ctx.student.drivers().call(
        "run_graph", module, leaves, [[n, list(r)] for n, r in nodes]), 2)
    grads, calls = unpack("the leaves' gradients", grads, len(leaves)), unpack("the call counts", calls, len(nodes))
    expected = _reference(leaves, nodes)
    for k, (got, want) in enumerate(zip(grads, expected)):
        if got is None:
            raise CheckFailed(f"{what}: leaf {k} has grad None after backward().",
                              "Every tensor the root depends on must receive a gradient in .grad.")
        try:
            assert_close(f"{what}: grad of leaf {k}", got, want)
        except CheckFailed as failure:
            if shared:
                failure.hint = SHARED_HINT
            raise
    counts = [c if isinstance(c, int) else -1 for c in calls]
    if any(c != 1 for c in counts):
        worst = max(counts)
        raise CheckFailed(f"{what}: the ops' backward ran {sum(counts)} times for {len(counts)} nodes "
                          f"(one node {worst} times).",
                          "Visit the graph in reverse topological order and call each op's backward exactly "
                          "once, after all gradients flowing into its output have been added up.")


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


@A2.check("2.3", "Tensor.backward: a leaf feeding two ops", points=1)
def graph_fan_out(ctx: CheckContext) -> None:
    """sum(a * b + exp(a)): leaf a collects gradients from two ops."""
    leaves = _leaves(ctx.rng, [(4, 2), (4, 2)])
    _run(ctx, "fan-out", leaves, [("Multiply", (0, 1)), ("Exp", (0,)), ("Add", (2, 3)), ("Sum", (4,))], shared=True)


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

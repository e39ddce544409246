"""a2 against hostile or junk-returning submissions: every one is a named failure, never a grader crash.

``grade`` raises ``InternalError`` (exit 3) if a check itself crashes, so each test passing means the grader
judged the junk; the assertions say it blamed the right check with a readable message.
"""

from __future__ import annotations

import pytest

from tests.conftest import ROOT, by_id, failing, mutate

REFERENCE = (ROOT / "reference" / "a2" / "autograd.py").read_text()
EXP_FORWARD = '        ctx["y"] = np.exp(x)\n        return ctx["y"]\n'
EXP_BACKWARD = '        return (G * ctx["y"],)\n'
SEED = "        grads = {id(self): np.ones_like(self.value)}\n"
GRAD_SET = "            tensor.grad = grad if tensor.grad is None else tensor.grad + grad\n"

JUNK_FORWARD = {
    "None": ("        return None\n", "forget a return"),
    "a list": ("        return np.exp(x).tolist()\n", "got list"),
    "a string": ("        return 'exp'\n", "got str"),
    "an object": ("        return object()\n", "object of type"),
    "booleans": ("        return x > 0\n", "dtype bool"),
    "integers": ("        return np.exp(x).astype(np.int64)\n", "dtype int64, expected float64"),
    "float32": ("        return np.exp(x).astype(np.float32)\n", "dtype float32, expected float64"),
    "complex": ("        return np.exp(x).astype(np.complex128)\n", "Exp.forward"),
    "a transposed array": ("        return np.exp(x).T\n", "has shape"),
    "a flattened array": ("        return np.exp(x).ravel()\n", "shape is not"),
    "NaN": ("        return np.full(x.shape, np.nan)\n", "non-finite"),
    "a 0-d array": ("        return np.exp(x).sum()\n", "has shape ()"),
    "an exception": ("        raise ValueError('no')\n", "raised ValueError on input of shape"),
}

JUNK_BACKWARD = {
    "a bare array": ('        return G * ctx["y"]\n', "not a tuple"),
    "a generator": ('        return (g for g in [G * ctx["y"]])\n', "not a tuple"),
    "two gradients": ('        return (G * ctx["y"], G)\n', "2 gradient(s) for 1 input"),
    "None inside": ("        return (None,)\n", "got None"),
    "a dict": ('        return {"x": G}\n', "not a tuple"),
    "a wrong shape": ('        return (G.sum(axis=0),)\n', "has shape"),
    "integers": ('        return ((G * ctx["y"]).astype(np.int32),)\n', "dtype int32"),
}


@pytest.mark.parametrize("name", sorted(JUNK_FORWARD))
def test_junk_from_forward_is_a_named_failure(grade, name):
    body, gist = JUNK_FORWARD[name]
    report = grade("a2", {"autograd.py": mutate(REFERENCE, (EXP_FORWARD, body))}, tasks=["exp_forward"])
    check = by_id(report)["exp_forward"]
    assert check.status == "failed", (check.status, check.message)
    assert gist in check.message + " " + check.hint


@pytest.mark.parametrize("name", sorted(JUNK_BACKWARD))
def test_junk_from_backward_is_a_named_failure(grade, name):
    body, gist = JUNK_BACKWARD[name]
    report = grade("a2", {"autograd.py": mutate(REFERENCE, (EXP_BACKWARD, body))}, tasks=["exp_backward"])
    check = by_id(report)["exp_backward"]
    assert check.status == "failed", (check.status, check.message)
    assert gist in check.message + " " + check.hint


@pytest.mark.parametrize(("seed", "gist"), [
    ("        grads = {id(self): 'ones'}\n", "should be a NumPy array"),
    ("        grads = {id(self): object()}\n", "should be a NumPy array"),
    ("        grads = {id(self): np.ones(1)}\n", "np.ones_like(root.value)"),
    ("        grads = {id(self): np.ones_like(self.value, dtype=bool)}\n", "dtype bool"),
])
def test_junk_seed_is_a_failure_of_the_seed_check(grade, seed, gist):
    report = grade("a2", {"autograd.py": mutate(REFERENCE, (SEED, seed))}, tasks=["graph_root_seed"])
    check = by_id(report)["graph_root_seed"]
    assert check.status in ("failed", "error") and check.score == 0, (check.status, check.message)
    assert gist in check.message + " " + check.hint


@pytest.mark.parametrize("grad", ["'grad'", "object()", "[1, 2]", "np.zeros((10**3,))"])
def test_junk_in_grad_is_a_named_failure(grade, grad):
    source = mutate(REFERENCE, (GRAD_SET, f"            tensor.grad = {grad}\n"))
    report = grade("a2", {"autograd.py": source}, tasks=["2.3"])
    assert failing(report) >= {"graph_chain", "graph_every_tensor"}
    assert all(c.status == "failed" for c in report.checks if c.status != "skipped" and c.id != "graph_topological")


def test_a_forward_that_reaches_into_the_drivers_cannot_pass_wrong_values(grade):
    """Student code can reach the grader's driver through the call stack; the parent still judges the values."""
    patch = ('        import sys\n'
             '        sys._getframe(1).f_globals["op_case"] = lambda m, n, i, p, G: [i[0], i, None, None, None]\n'
             '        ctx["y"] = np.exp(x)\n        return ctx["y"] + 1\n')
    report = grade("a2", {"autograd.py": mutate(REFERENCE, (EXP_FORWARD, patch))}, tasks=["exp_forward"])
    assert failing(report) == {"exp_forward"}


def test_a_seed_of_the_wrong_shape_is_named_in_every_graph(grade):
    """A (1,)-shaped seed would make the grader's MatMul raise; the wrong G is named instead."""
    report = grade("a2", {"autograd.py": mutate(REFERENCE, (SEED, "        grads = {id(self): np.ones(1)}\n"))},
                   tasks=["2.3"])
    for check in report.checks:
        if check.status != "skipped":
            assert check.status in ("passed", "failed"), (check.id, check.status, check.message)
    assert "has shape (1,), expected (3, 2)" in by_id(report)["graph_non_scalar_root"].message


def test_a_missing_op_or_method_is_named_as_the_students(grade):
    source = REFERENCE.replace("class Normalize(Op):", "class Normalise(Op):")
    report = grade("a2", {"autograd.py": source}, tasks=["normalize_forward"])
    assert by_id(report)["normalize_forward"].message == "missing: autograd.Normalize is not defined."
    old = "    def forward(ctx, x):\n        s = x.sum"
    source = mutate(REFERENCE, (old, old.replace("forward", "forwards")))
    report = grade("a2", {"autograd.py": source}, tasks=["normalize_forward"])
    assert by_id(report)["normalize_forward"].message == "not implemented yet: Normalize.forward"

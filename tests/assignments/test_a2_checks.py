"""Every a2 check fails on a submission with one specific bug; answers are judged fairly and safely."""

from __future__ import annotations

import pytest

from grader.api import get_assignment
from tests.conftest import ROOT, assert_hints, by_id, failing, mutate

REFERENCE = (ROOT / "reference" / "a2" / "autograd.py").read_text()
ANSWERS = (ROOT / "reference" / "a2" / "answers.toml").read_text()

# name: (replacements in autograd.py, failing checks, {check: gist of message or hint})
CODE_CASES = {
    "add fwd": ([("        return x + y\n", "        return x + 2 * y\n")], {"add_forward"}, {}),
    "add bwd": ([("return G, G", "return G, -G")], {"add_backward"}, {}),
    "mul fwd": ([("        return x * y\n", "        return x * y * 2\n")],
                {"multiply_forward"}, {}),
    "mul bwd": ([('return G * ctx["y"], G * ctx["x"]', 'return ctx["y"], ctx["x"]')], {"multiply_backward"},
                {"multiply_backward": "G is missing"}),
    "div fwd": ([("        return x / y\n", "        return y / x\n")], {"divide_forward"}, {}),
    "div bwd": ([("return G / y, -G * x / y**2", "return G / y, -G * x / y")], {"divide_backward"},
                {"divide_backward": "wrong power of y"}),
    "matmul fwd": ([("return x @ w\n", "return x @ w + 1\n")], {"matmul_forward"}, {}),
    "matmul bwd": ([('return G @ ctx["w"].T, ctx["x"].T @ G', 'return G @ ctx["w"].T, G.T @ ctx["x"]')],
                   {"matmul_backward"}, {"matmul_backward": "transpose"}),
    "sum fwd": ([("np.sum(x, axis=axis)", "np.mean(x, axis=axis)")], {"sum_forward"}, {}),
    "sum bwd": ([('np.broadcast_to(G, ctx["shape"]).copy(),)', 'np.broadcast_to(G, ctx["shape"]).copy() / 2,)')],
                {"sum_backward"}, {}),
    "expand fwd": ([("size, axis=axis)\n", "size, axis=axis) * 1.5\n")], {"expand_forward"}, {}),
    "expand bwd": ([('return (G.sum(axis=ctx["axis"]),)', 'return (G.mean(axis=ctx["axis"]),)')],
                   {"expand_backward"}, {"expand_backward": "do not average"}),
    "normalize fwd": ([("        return x / s\n", "        return x / s**2\n")],
                      {"normalize_forward"}, {}),
    "normalize bwd": ([("return (G / s - (G * x).sum(axis=1, keepdims=True) / s**2,)", "return (G / s,)")],
                      {"normalize_backward"}, {"normalize_backward": "row sum"}),
    "squeeze fwd": ([("return np.squeeze(x, axis=axis)", "return np.squeeze(x, axis=axis) * 2")],
                    {"squeeze_forward"}, {}),
    "squeeze bwd": ([('return (np.expand_dims(G, ctx["axis"]),)', 'return (np.expand_dims(G, ctx["axis"]) * 2,)')],
                    {"squeeze_backward"}, {}),
    "unsqueeze fwd": ([("return np.expand_dims(x, axis)\n", "return np.expand_dims(x, axis) + 1\n")],
                      {"unsqueeze_forward"}, {}),
    "unsqueeze bwd": ([('return (np.squeeze(G, axis=ctx["axis"]),)',
                        'return (np.squeeze(G, axis=ctx["axis"]) + (not G.any()),)')],
                      {"unsqueeze_backward"}, {"unsqueeze_backward": "not zero when G is zero"}),
    "sigmoid fwd": ([("y = np.where(x >= 0, 1 / (1 + e), e / (1 + e))", "y = 1 / (1 + np.exp(x))")],
                    {"sigmoid_forward"}, {}),
    "sigmoid bwd": ([("return (G * y * (1 - y),)", "return (y * (1 - y),)")], {"sigmoid_backward"},
                    {"sigmoid_backward": "ignores G"}),
    "relu fwd": ([('return np.where(ctx["mask"], x, 0.0)', "return np.abs(x)")], {"relu_forward"}, {}),
    "relu bwd": ([('return (np.where(ctx["mask"], G, 0.0),)', 'return (ctx["mask"].astype(float),)')],
                 {"relu_backward"}, {"relu_backward": "mask alone"}),
    "exp fwd": ([('ctx["y"] = np.exp(x)', 'ctx["y"] = np.exp(x) + 1')], {"exp_forward", "exp_backward"}, {}),
    "exp bwd": ([('return (G * ctx["y"],)', 'return (G * ctx["y"] * 2,)')], {"exp_backward"}, {}),
    "log fwd": ([("return np.log(x)", "return np.log10(x)")], {"log_forward"}, {}),
    "log bwd": ([('return (G / ctx["x"],)', 'return (G * ctx["x"],)')], {"log_backward"},
                {"log_backward": "1/x"}),
    "backward tuple": ([('return (G * ctx["y"],)', 'return G * ctx["y"]')], {"exp_backward"},
                       {"exp_backward": "tuple"}),
    "no accumulation": ([("grads[id(parent)] = grads[id(parent)] + parent_grad if id(parent) in grads else "
                          "parent_grad", "grads[id(parent)] = parent_grad")],
                        {"graph_diamond", "graph_double_diamond", "graph_fan_out", "graph_topological",
                         "graph_shared_arrays"}, {"graph_diamond": "added up"}),
    "leaves get no grad": ([("            tensor.grad = grad if tensor.grad is None else tensor.grad + grad\n", "")],
                           {"graph_chain", "graph_diamond", "graph_double_diamond", "graph_fan_out",
                            "graph_non_scalar_root", "graph_topological", "graph_root_seed", "graph_every_tensor",
                            "graph_shared_arrays"}, {"graph_chain": "grad None"}),
    "scalar seed": ([("grads = {id(self): np.ones_like(self.value)}",
                      "grads = {id(self): np.ones_like(self.value).sum()}")],
                    {"graph_non_scalar_root", "graph_root_seed"},
                    {"graph_root_seed": "np.ones_like(root.value)"}),
    "leaves only": ([("            tensor.grad = grad if tensor.grad is None else tensor.grad + grad\n",
                      "            if tensor.op is None:\n"
                      "                tensor.grad = grad if tensor.grad is None else tensor.grad + grad\n")],
                    {"graph_every_tensor"}, {"graph_every_tensor": "intermediate tensors"}),
}

RECURSIVE_BACKWARD = '''    def backward(self, grad=None) -> None:
        grad = np.ones_like(self.value) if grad is None else grad
        self.grad = grad if self.grad is None else self.grad + grad
        if self.op is not None:
            for parent, parent_grad in zip(self.parents, self.op.backward(self.ctx, grad)):
                parent.backward(parent_grad)

'''

ANSWER_CASES = {
    "wrong power": (("-G * X * Y**-2", "-G * X / Y"), "div_backward_dY", "Wrong power of Y"),
    "missing G": (('$\\\\frac{G}{Y}$', "1 / Y"), "div_backward_dX", "G is missing"),
    "elementwise no G": (("fprime(X) * G", "fprime(X)"), "elementwise_backward_dX", "G is missing"),
    "matmul order": (("G @ W.T", "W.T @ G"), "matmul_backward_dX", "cannot be evaluated"),
    "matmul transposed": (("(G.T @ X).T", "G.T @ X"), "matmul_backward_dW", "transpose"),
    "expand repeat count": (("np.sum(G, axis=1)", "16 * G"), "expand_backward_dx", "repeat count"),
    "normalize dropped term": (('"(G - (G * X).sum(axis=1, keepdims=True) / S) / S"', '"G / S"'),
                               "normalize_backward_dX", "also changes S"),
}


def _answers(old: str, new: str) -> str:
    old_quoted = old if old.startswith('"') else f'"{old}"'
    new_quoted = new if new.startswith('"') else f'"{new}"'
    return mutate(ANSWERS, (old_quoted, new_quoted))


@pytest.mark.parametrize("name", sorted(CODE_CASES))
def test_code_mutation_fails_exactly_its_checks(grade, name):
    replacements, expected, gists = CODE_CASES[name]
    tasks = sorted({get_assignment("a2").checks[0].task} | {c.task for c in get_assignment("a2").checks
                                                             if c.id in expected})
    report = grade("a2", {"autograd.py": mutate(REFERENCE, *replacements), "answers.toml": ANSWERS}, tasks=tasks)
    assert failing(report) == expected
    assert_hints(report, gists)


def test_recursive_backward_runs_ops_many_times(grade):
    start = REFERENCE.index("    def backward(self) -> None:")
    end = REFERENCE.index("class Op:")
    source = REFERENCE[:start] + RECURSIVE_BACKWARD + "\n" + REFERENCE[end:]
    report = grade("a2", {"autograd.py": source, "answers.toml": ANSWERS}, tasks=["2.3"])
    assert failing(report) == {"graph_diamond", "graph_double_diamond", "graph_topological", "graph_shared_arrays"}
    assert "exactly once" in by_id(report)["graph_topological"].hint


@pytest.mark.parametrize("name", sorted(ANSWER_CASES))
def test_wrong_answer_fails_its_part_with_a_hint(grade, name):
    (old, new), check_id, gist = ANSWER_CASES[name]
    report = grade("a2", {"autograd.py": REFERENCE, "answers.toml": _answers(old, new)}, tasks=["2.4"])
    assert failing(report) == {check_id}
    check = by_id(report)[check_id]
    assert gist in check.message + " " + check.hint
    assert "read as" in check.message


def test_every_a2_check_has_a_failing_case():
    covered = set().union(*(expected for _, expected, _ in CODE_CASES.values()))
    covered |= {"graph_topological"} | {check_id for _, check_id, _ in ANSWER_CASES.values()}
    assert covered == {c.id for c in get_assignment("a2").checks}


def test_malformed_answers_toml_is_a_named_failure(grade):
    report = grade("a2", {"autograd.py": REFERENCE, "answers.toml": "[div_backward\ndX = G / Y\n"}, tasks=["2.4"])
    for check in report.checks:
        if check.status != "skipped":
            assert check.status == "failed" and "could not be read" in check.message


def test_missing_answers_file(grade):
    report = grade("a2", {"autograd.py": REFERENCE}, tasks=["2.4"])
    assert all("missing: answers.toml" in c.message for c in report.checks if c.status != "skipped")


def test_wrong_type_of_answer(grade):
    report = grade("a2", {"autograd.py": REFERENCE, "answers.toml": _answers("G @ W.T", "42").replace('"42"', "42")},
                   tasks=["matmul_backward_dX"])
    assert "should be a string" in by_id(report)["matmul_backward_dX"].message


def test_template_answers_file_parses_and_is_empty(grade):
    template = (ROOT / "student_template" / "a2" / "answers.toml").read_text()
    report = grade("a2", {"autograd.py": REFERENCE, "answers.toml": template}, tasks=["2.4"])
    assert all("is not answered" in c.message for c in report.checks if c.status != "skipped")


"""Every a1 check fails on a submission with one specific bug, with the right hint.

Each case mutates the reference in one place, grades the task groups it
touches, and asserts the exact set of failing checks and the hint's gist. A
final test proves that together the cases make every a1 check fail at least once.
"""

from __future__ import annotations

import pytest

from grader.api import get_assignment
from grader.report.terminal import render_terminal
from tests.conftest import REFERENCE_A1, assert_hints, by_id, failing, mutate

CASES = {
    "W all zeros": (
        [("self.W = rng.uniform(-bound, bound, size=(in_features, out_features))",
          "self.W = np.zeros((in_features, out_features))")],
        ["1.1"], {"linear_init"}, {"linear_init": "Initialize W with small random values"}),
    "W transposed": (
        [("self.W = rng.uniform(-bound, bound, size=(in_features, out_features))",
          "self.W = rng.uniform(-bound, bound, size=(out_features, in_features))")],
        ["linear_init"], {"linear_init"}, {"linear_init": "(in_features, out_features)"}),
    "bias ignored": (
        [("return x @ self.W + self.b", "return x @ self.W")],
        ["1.1"], {"linear_forward"}, {"linear_forward": "bias b is missing"}),  # db is right: counted once
    "dx divided by N": (
        [("return grad_out @ self.W.T", "return grad_out @ self.W.T / len(grad_out)")],
        ["1.1"], {"linear_backward_dx"}, {"linear_backward_dx": "Do not divide dx"}),
    "dW divided by in_features": (
        [("self.dW[...] = self.x.T @ grad_out", "self.dW[...] = self.x.T @ grad_out / self.x.shape[1]")],
        ["1.1"], {"linear_backward_dW"}, {"linear_backward_dW": "divided by in_features"}),
    "dW transposed": (
        [("self.dW[...] = self.x.T @ grad_out", "self.dW = grad_out.T @ self.x")],
        ["linear_backward_dW"], {"linear_backward_dW"}, {"linear_backward_dW": "transpose"}),
    "db mean": (
        [("self.db[...] = grad_out.sum(axis=0)", "self.db[...] = grad_out.mean(axis=0)")],
        ["1.1"], {"linear_backward_db"}, {"linear_backward_db": "sum"}),
    "parameters copies": (
        [("return [(self.W, self.dW), (self.b, self.db)]",
          "return [(self.W.copy(), self.dW.copy()), (self.b.copy(), self.db.copy())]")],
        ["1.1"], {"linear_parameters"}, {"linear_parameters": "not copies"}),
    "sigmoid exp(x)": (
        [("self.y = np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))", "self.y = 1.0 / (1.0 + np.exp(x))")],
        ["1.2"], {"sigmoid_forward"}, {"sigmoid_forward": "exp(-x)"}),
    "sigmoid backward ignores G": (
        [("return grad_out * self.y * (1.0 - self.y)", "return self.y * (1.0 - self.y)")],
        ["1.2"], {"sigmoid_backward"}, {"sigmoid_backward": "multiply it by grad_out"}),
    "relu abs": (
        [("return np.where(self.mask, x, 0.0)", "return np.abs(x)")],
        ["1.2"], {"relu_forward"}, {"relu_forward": "not |x|"}),
    "relu derivative at 0": (
        [("self.mask = x > 0", "self.mask = x >= 0")],
        ["1.2"], {"relu_backward"}, {"relu_backward": "exactly 0"}),
    "tanh wrong": (
        [("self.y = np.tanh(x)", "self.y = np.tanh(x / 2)")],
        ["1.2"], {"tanh_forward", "tanh_backward"}, {}),
    "tanh backward": (
        [("return grad_out * (1.0 - self.y**2)", "return grad_out * (1.0 - self.y)")],
        ["1.2"], {"tanh_backward"}, {}),
    "softmax columns": (
        [("return z / z.sum(axis=1, keepdims=True)", "return z / z.sum(axis=0, keepdims=True)")],
        ["1.3"], {"softmax_values", "softmax_stability"}, {}),
    "softmax overflow": (
        [("z = np.exp(x - x.max(axis=1, keepdims=True))", "z = np.exp(x)")],
        ["1.3"], {"softmax_stability"}, {"softmax_stability": "maximum before exp"}),
    "mse sum": (
        [("return float(np.mean(self.diff**2))", "return float(np.sum(self.diff**2))")],
        ["mse_forward"], {"mse_forward"}, {"mse_forward": "summed"}),
    "mse missing 2": (
        [("return 2.0 * self.diff / self.diff.size", "return self.diff / self.diff.size")],
        ["1.4"], {"mse_backward"}, {"mse_backward": "factor 2"}),
    "ce sum": (
        [("return float(-log_softmax(logits)[np.arange(n), self.labels].mean())",
          "return float(-log_softmax(logits)[np.arange(n), self.labels].sum())")],
        ["1.4"], {"ce_forward"}, {"ce_forward": "mean over rows"}),
    "ce not divided by N": (
        [("        return grad / n\n", "        return grad\n")],
        ["1.4"], {"ce_backward"}, {"ce_backward": "Divide by N"}),
    "sgd not in place": (
        [("            p -= self.lr * g\n", "            p = p - self.lr * g\n")],
        ["1.5", "1.6"], {"sgd_steps"}, {"sgd_steps": "in place"}),
    "linear keeps its first input": (
        [("        self.x = x\n        return x @ self.W + self.b",
          "        self.x = x if self.x is None else self.x\n        return x @ self.W + self.b")],
        ["1.1", "1.6"], {"train_xor", "train_digits"}, {"train_digits": "self.x.T @ grad_out"}),
    "sigmoid state on the class": (
        [("self.y = np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))",
          "Sigmoid.y = np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))")],
        ["1.2", "1.6"], {"train_xor"}, {"train_xor": "misclassified"}),
    "two mistakes are not one": (  # two failed components: the toy trainings use the student's parts and fail
        [("            p -= self.lr * g\n", "            p = p - self.lr * g\n"),
         ("return grad_out * self.y * (1.0 - self.y)", "return self.y * (1.0 - self.y)")],
        ["1.2", "1.5", "1.6"], {"sigmoid_backward", "sgd_steps", "train_linear", "train_xor"},
        {"train_linear": "did not go down"}),
    "momentum EMA": (
        [("            v += g\n", "            v += (1 - self.beta) * g\n")],
        ["momentum_steps"], {"momentum_steps"}, {"momentum_steps": "no (1 - beta)"}),
    "momentum forgets": (
        [("v = self.velocity.setdefault(id(p), np.zeros_like(p))", "v = np.zeros_like(p)")],
        ["momentum_steps"], {"momentum_steps"}, {"momentum_steps": "Keep the optimizer's state"}),
    "adagrad no accumulation": (
        [("            s += g**2\n", "            s[...] = g**2\n")],
        ["adagrad_steps"], {"adagrad_steps"}, {"adagrad_steps": "ACCUMULATE"}),
    "adam no bias correction": (
        [("m_hat = m / (1 - self.beta1**self.t)", "m_hat = m"), ("v_hat = v / (1 - self.beta2**self.t)", "v_hat = v")],
        ["adam_steps"], {"adam_steps"}, {"adam_steps": "Bias correction"}),
    "momentum default beta": (  # the handout's defaults are part of the contract: checked by a second run
        [("beta: float = 0.9):", "beta: float = 0.5):")],
        ["momentum_steps"], {"momentum_steps"}, {"momentum_steps": "handout's defaults"}),
    "adagrad default eps": (
        [("lr: float, eps: float = 1e-8):", "lr: float, eps: float = 1e-6):")],
        ["adagrad_steps"], {"adagrad_steps"}, {"adagrad_steps": "handout's defaults"}),
    "adagrad eps subtracted": (  # only gradients of the order of eps tell + eps from - eps
        [("p -= self.lr * g / (np.sqrt(s) + self.eps)", "p -= self.lr * g / (np.sqrt(s) - self.eps)")],
        ["adagrad_steps"], {"adagrad_steps"}, {"adagrad_steps": "ADDED to the square root"}),
    "adam default betas": (
        [("beta1: float = 0.9, beta2: float = 0.999", "beta1: float = 0.9, beta2: float = 0.99")],
        ["adam_steps"], {"adam_steps"}, {"adam_steps": "beta2=0.999"}),
    "adam eps dropped": (
        [("p -= self.lr * m_hat / (np.sqrt(v_hat) + self.eps)", "p -= self.lr * m_hat / np.sqrt(v_hat)")],
        ["adam_steps"], {"adam_steps"}, {"adam_steps": "eps is ADDED"}),
    "zero_grad rebinds": (
        [("            grad[...] = 0.0\n", "            grad = 0.0  # noqa\n")],
        ["zero_grad"], {"zero_grad"}, {"zero_grad": "in place"}),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_mutation_fails_exactly_its_checks(grade, name):
    replacements, tasks, expected_failing, hints = CASES[name]
    report = grade("a1", {"mlp.py": mutate(REFERENCE_A1, *replacements)}, tasks=tasks)
    assert failing(report) == expected_failing
    assert_hints(report, hints)
    for check_id in expected_failing:
        assert by_id(report)[check_id].status in ("failed", "error") and by_id(report)[check_id].score == 0


def test_every_a1_check_has_a_failing_case():
    covered = set().union(*(expected for _, _, expected, _ in CASES.values()))
    assert covered == {c.id for c in get_assignment("a1").checks}


def test_dw_message_locates_and_quantifies(grade):
    source = mutate(REFERENCE_A1, ("self.dW[...] = self.x.T @ grad_out",
                                   "self.dW[...] = self.x.T @ grad_out / self.x.shape[1]"))
    check = by_id(grade("a1", {"mlp.py": source}, tasks=["linear_backward_dW"]))["linear_backward_dW"]
    assert "differs at [" in check.message and "expected" in check.message and "rel err" in check.message
    assert "in_features = " in check.hint


def test_random_shapes_defeat_hard_coding(grade):
    """A forward that only works for one shape fails for most seeds."""
    source = mutate(REFERENCE_A1, ("return x @ self.W + self.b",
                                   "assert x.shape == (3, 4), 'hard-coded'\n        return x @ self.W + self.b"))
    statuses = {by_id(grade("a1", {"mlp.py": source}, tasks=["linear_forward"], seed=s))["linear_forward"].status
                for s in range(4)}
    assert "error" in statuses


def test_partial_credit_for_zero_grad(grade):
    source = REFERENCE_A1 + "\n\nclass SGD(SGD):\n    def zero_grad(self):\n        pass\n"
    check = by_id(grade("a1", {"mlp.py": source}, tasks=["zero_grad"]))["zero_grad"]
    assert check.status == "failed" and check.score == pytest.approx(0.75)
    assert "SGD" in check.message and "Momentum" not in check.message


def test_one_mistake_is_counted_once(grade):
    """dW divided by N costs dW's points only; training uses the grader's Linear and says so."""
    source = mutate(REFERENCE_A1, ("self.dW[...] = self.x.T @ grad_out",
                                   "self.dW[...] = self.x.T @ grad_out / len(grad_out)"))
    report = grade("a1", {"mlp.py": source}, tasks=["1.1", "1.6"])
    assert failing(report) == {"linear_backward_dW"}
    assert by_id(report)["train_xor"].details["standin"] == "Linear"
    assert "grader's Linear" in by_id(report)["train_digits"].message


def test_without_isolation_training_fails_grouped_under_its_root_cause(grade, monkeypatch):
    """A course that switches isolation off charges the training checks, grouped under the one cause."""
    monkeypatch.setattr(get_assignment("a1"), "isolate_components", False)
    source = mutate(REFERENCE_A1, ("            p -= self.lr * g\n", "            p = p - self.lr * g\n"))
    report = grade("a1", {"mlp.py": source}, tasks=["1.5", "1.6"])
    assert failing(report) == {"sgd_steps", "train_linear", "train_xor", "train_digits"}
    assert_hints(report, {"train_xor": "did not go down"})
    assert {by_id(report)[c].root_cause for c in ("train_linear", "train_xor", "train_digits")} == {"sgd_steps"}
    assert {c["id"]: c["root_cause"] for c in report.to_dict()["checks"]}["train_xor"] == "sgd_steps"
    text = render_terminal(report)
    assert "3 further checks fail because of this" in text and "root cause: 1.5 SGD: several steps" in text


def test_backward_of_a_wrong_forward_alone_still_checks_against_the_forward(grade):
    """Run without its forward's check, a backward is also held to finite differences of the forward."""
    source = mutate(REFERENCE_A1, ("return np.where(self.mask, x, 0.0)", "return np.abs(x)"))
    report = grade("a1", {"mlp.py": source}, tasks=["relu_backward"])
    assert failing(report) == {"relu_backward"}
    assert_hints(report, {"relu_backward": "fix it first"})


# The catalogue's mistakes that had no hint (docs/hintless-mistakes.md): each is named now, and only when it is
# the mistake: the reference still passes the same checks under the same seeds.
NAMED = {
    "tanh backward 1 - y": ("tanh_backward", "1 minus the SQUARE of its output"),
    "softmax over columns": ("softmax_values", "Each ROW must sum to 1"),
    "Adagrad's eps inside the square root": ("adagrad_steps", "added AFTER the square root"),
}


@pytest.mark.parametrize("name", sorted(NAMED))
def test_catalogued_mistake_gets_its_hint_and_the_reference_passes(grade, name):
    from tests.assignments.a1_bugs.catalogue import BUGS

    check_id, gist = NAMED[name]
    for seed in (1, 2):
        wrong = by_id(grade("a1", {"mlp.py": mutate(REFERENCE_A1, *BUGS[name].replacements)}, tasks=[check_id],
                            seed=seed))[check_id]
        assert wrong.status == "failed" and gist in wrong.hint, (seed, wrong.message, wrong.hint)
        assert by_id(grade("a1", {"mlp.py": REFERENCE_A1}, tasks=[check_id], seed=seed))[check_id].status == "passed"

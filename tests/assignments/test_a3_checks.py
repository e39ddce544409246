"""Every a3 check fails on a submission with one specific bug; the examples grade as documented."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from grader.api import get_assignment
from tests.conftest import ROOT, assert_hints, by_id, failing, mutate

CONV = (ROOT / "reference" / "a3" / "conv.py").read_text()
BN = (ROOT / "reference" / "a3" / "batchnorm.py").read_text()
ANSWERS = (ROOT / "reference" / "a3" / "answers.toml").read_text()

CONV_CASES = {
    "no bias": ([("out = cols @ w.reshape(f, -1).T + b", "out = cols @ w.reshape(f, -1).T")],
                ["3.1", "3.2"], {"conv_forward_basic", "conv_forward_stride_padding", "conv_forward_shapes"},
                {"conv_forward_basic": "bias"}),  # db itself is right: the mistake is counted once
    "flipped": ([("out = cols @ w.reshape(f, -1).T + b", "out = cols @ w[:, :, ::-1, ::-1].reshape(f, -1).T + b")],
                ["3.1"], {"conv_forward_basic", "conv_forward_stride_padding", "conv_forward_shapes"},
                {"conv_forward_basic": "flipped the kernel"}),
    "stride ignored": ([("[:, :, ::stride, ::stride]\n\n\ndef conv2d_forward", "\n\n\ndef conv2d_forward")],
                       ["conv_forward_stride_padding"], {"conv_forward_stride_padding"},
                       {"conv_forward_stride_padding": "stride"}),
    "dx wrong": ([("dx = dxp[:, :, padding:padding + h, padding:padding + wd]",
                   "dx = 2 * dxp[:, :, padding:padding + h, padding:padding + wd]")],
                 ["3.2"], {"conv_backward_dx"}, {"conv_backward_dx": "twice"}),
    "dw flipped": ([("dw = (g.T @ cols).reshape(w.shape)", "dw = (g.T @ cols).reshape(w.shape)[:, :, ::-1, ::-1]")],
                   ["conv_backward_dw"], {"conv_backward_dw"}, {"conv_backward_dw": "flipped"}),
    "db mean": ([("db = grad_out.sum(axis=(0, 2, 3))", "db = grad_out.mean(axis=(0, 2, 3))")],
                ["conv_backward_db"], {"conv_backward_db"}, {"conv_backward_db": "sums"}),
    "slow": ([("    n, f = x.shape[0], w.shape[0]\n", "    n, f = x.shape[0], w.shape[0]\n    import time\n"
               "    time.sleep(6 if x.shape[0] >= 14 else 0)\n")], ["conv_speed"], {"conv_speed"},
             {"conv_speed": "Vectorize"}),
    "forward default stride": ([("def conv2d_forward(x, w, b, stride=1, padding=0):",
                                 "def conv2d_forward(x, w, b, stride=2, padding=0):")],
                               ["3.1"], {"conv_forward_basic"}, {"conv_forward_basic": "stride and padding not given"}),
    "backward default padding": ([("def conv2d_backward(grad_out, x, w, b, stride=1, padding=0):",
                                   "def conv2d_backward(grad_out, x, w, b, stride=1, padding=1):")],
                                 ["3.2"], {"conv_backward_dx", "conv_backward_dw", "conv_backward_db"},
                                 {"conv_backward_dx": "conv2d_backward"}),
    "dx buffer short of 2 * padding": ([("dxp = np.zeros((n, c, h + 2 * padding, wd + 2 * padding))",
                                         "dxp = np.zeros((n, c, h + 2 + padding, wd + 2 + padding))")],
                                       ["3.2"], {"conv_backward_dx", "conv_backward_dw", "conv_backward_db"},
                                       {"conv_backward_dx": "padding=3"}),
    "pool default kernel": ([("def maxpool2d_forward(x, kernel=2, stride=2):",
                              "def maxpool2d_forward(x, kernel=3, stride=2):")], ["3.3"], {"maxpool_forward"},
                            {"maxpool_forward": "kernel and stride not given"}),
    "pool backward default stride": ([("def maxpool2d_backward(grad_out, x, kernel=2, stride=2):",
                                       "def maxpool2d_backward(grad_out, x, kernel=2, stride=1):")], ["3.3"],
                                     {"maxpool_backward"}, {"maxpool_backward": "maxpool2d_backward(array"}),
    "pool min": ([("return win.max(axis=(4, 5))", "return win.min(axis=(4, 5))")], ["3.3"],
                 {"maxpool_forward"}, {}),
    "pool last tie": ([("first = win.reshape(n, c, ho, wo, kernel * kernel).argmax(axis=4)",
                        "first = kernel * kernel - 1 - win.reshape(n, c, ho, wo, kernel * kernel)[..., ::-1]"
                        ".argmax(axis=4)")], ["3.3"], {"maxpool_backward"}, {}),
    "conv1d flipped": ([("a[o * l_out + t, c * length + t + p] = w[o, c, p]",
                         "a[o * l_out + t, c * length + t + p] = w[o, c, k - 1 - p]")], ["3.4"],
                       {"conv1d_matrix", "conv1d_backward_matrix"}, {"conv1d_matrix": "flipped"}),
    "conv1d backward not transposed": ([("return conv1d_matrix(w, length).T", "return conv1d_matrix(w, length)")],
                                       ["3.4"], {"conv1d_backward_matrix"}, {}),
}

BN_CASES = {
    "unbiased normalization": ([("mean, var = x.mean(axis=axes), x.var(axis=axes)",
                                 "mean, var = x.mean(axis=axes), x.var(axis=axes, ddof=1)")],
                               ["3.5"], {"bn_train_2d", "bn_train_4d", "bn_running_stats", "bn_backward_dx",
                                         "bn_backward_params"}, {"bn_train_2d": "BIASED"}),
    "eval uses batch": ([("        mean, var = running_mean, running_var\n",
                          "        mean, var = x.mean(axis=axes), x.var(axis=axes)\n")], ["bn_eval"], {"bn_eval"},
                        {"bn_eval": "running_mean and running_var"}),
    "not in place": ([("        running_mean[...] = (1 - momentum) * running_mean + momentum * mean\n",
                       "        running_mean = (1 - momentum) * running_mean + momentum * mean\n"),
                      ("        running_var[...] = (1 - momentum) * running_var + momentum * var * m / (m - 1)\n",
                       "        running_var = (1 - momentum) * running_var + momentum * var * m / (m - 1)\n")],
                     ["bn_running_stats"], {"bn_running_stats"}, {"bn_running_stats": "IN PLACE"}),
    "momentum swapped": ([("running_mean[...] = (1 - momentum) * running_mean + momentum * mean",
                           "running_mean[...] = momentum * running_mean + (1 - momentum) * mean")],
                         ["bn_running_stats"], {"bn_running_stats"}, {"bn_running_stats": "NEW batch value"}),
    "running var biased": ([("momentum * var * m / (m - 1)", "momentum * var")], ["bn_running_stats"],
                           {"bn_running_stats"}, {"bn_running_stats": "UNBIASED"}),
    "per feature in 4d": ([("return (0,) if x.ndim == 2 else (0, 2, 3)", "return (0,)")], ["bn_train_4d"],
                          {"bn_train_4d"}, {}),
    "backward drops terms": ([("    dx = shape(inv_std) / m * (m * d_hat - shape(d_hat.sum(axis=axes)) - x_hat * "
                               "shape((d_hat * x_hat).sum(axis=axes)))\n", "    dx = shape(inv_std) * d_hat\n")],
                             ["bn_backward_dx"], {"bn_backward_dx"}, {"bn_backward_dx": "constants"}),
    "default momentum": ([("momentum=0.1, eps=1e-5):", "momentum=0.2, eps=1e-5):")], ["3.5"],
                         {"bn_running_stats"}, {"bn_running_stats": "momentum and eps not given"}),
    "dbeta mean": ([("dbeta = grad_out.sum(axis=axes)", "dbeta = grad_out.mean(axis=axes)")],
                   ["bn_backward_params"], {"bn_backward_params"}, {"bn_backward_params": "SUM"}),
}

P = "params = '$K^2 C_1 (C_{in} + C_2)$'"
M = "macs = 'C_in * C_1 * K**2 * H * W + C_1 * C_2 * K**2 * H * W / 4'"
R = "memory_change_percent = '25 * C_2 / C_in - 100'"
BPE, T = "batches_per_epoch = '$\\left\\lceil \\frac{N}{B} \\right\\rceil$'", "total_iterations = 'E * ceil(N / B)'"
L = "loss = 'log(exp(z_0) + exp(z_1) + exp(z_2)) - z_0'"
SUM = "exp(z_0) + exp(z_1) + exp(z_2)"

ANSWER_CASES = {
    "params with biases": ((P, "params = 'K**2 * C_1 * (C_in + C_2) + C_1 + C_2'"), "cnn_params",
                           "Biases are excluded"),
    "params of one conv": ((P, "params = 'C_in * C_1 * K**2'"), "cnn_params", "both convolutions"),
    "params K not squared": ((P, "params = 'K * C_1 * (C_in + C_2)'"), "cnn_params", "K squared"),
    "params as a number": ((P, "params = 5040"), "cnn_params", "a formula, not a number"),
    "macs stride": ((M, "macs = 'C_in*C_1*K**2*H*W + C_1*C_2*K**2*H*W'"), "cnn_macs", "stride 2"),
    "macs of one conv": ((M, "macs = 'C_in * C_1 * K**2 * H * W'"), "cnn_macs", "both convolutions"),
    "macs are weights": ((M, "macs = 'K**2 * C_1 * (C_in + C_2)'"), "cnn_macs", "number of weights"),
    "memory ratio": ((R, "memory_change_percent = '25 * C_2 / C_in'"), "cnn_memory", "CHANGE"),
    "memory fraction": ((R, "memory_change_percent = 'C_2 / (4 * C_in) - 1'"), "cnn_memory", "not a fraction"),
    "memory sign": ((R, "memory_change_percent = '100 - 25 * C_2 / C_in'"), "cnn_memory", "new minus old"),
    "memory over the output": ((R, "memory_change_percent = '100 - 400 * C_in / C_2'"), "cnn_memory",
                               "not of the output"),
    "memory stride": ((R, "memory_change_percent = '100 * C_2 / C_in - 100'"), "cnn_memory", "halves"),
    "memory first output": ((R, "memory_change_percent = '100 * C_1 / C_in - 100'"), "cnn_memory",
                            "second convolution's"),
    "memory off": ((R, "memory_change_percent = '25 * C_2 / C_in + 100'"), "cnn_memory", "wrong"),
    "scaled wrong": (("y = [[-1.2247", "y = [[-1.5"), "bn_scaled", "row"),
    "batches not rounded": ((BPE, "batches_per_epoch = 'N / B'"), "batches_per_epoch", "whole number"),
    "batches floor": ((BPE, "batches_per_epoch = '$\\lfloor N / B \\rfloor$'"), "batches_per_epoch", "round UP"),
    "batches plus one": ((BPE, "batches_per_epoch = 'floor(N / B) + 1'"), "batches_per_epoch", "adding one"),
    "batches floor division": ((BPE, "batches_per_epoch = 'N // B'"), "batches_per_epoch",
                               "not in the answer language"),
    "iterations not rounded": ((T, "total_iterations = 'E * N / B'"), "total_iterations", "round up per epoch"),
    "iterations floor": ((T, "total_iterations = 'E * floor(N / B)'"), "total_iterations", "round up per epoch"),
    "iterations rounded once": ((T, "total_iterations = 'ceil(E * N / B)'"), "total_iterations",
                                "then count the epochs"),
    "log10": ((L, "loss = '-log10(exp(z_0) / (" + SUM + "))'"), "cross_entropy", "log10"),
    "log2": ((L, "loss = '(log(" + SUM + ") - z_0) / log(2)'"), "cross_entropy", "log2"),
    "loss sign": ((L, "loss = 'z_0 - log(" + SUM + ")'"), "cross_entropy", "MINUS"),
    "loss without softmax": ((L, "loss = '-log(z_0)'"), "cross_entropy", "softmax first"),
    "loss not normalized": ((L, "loss = '-z_0'"), "cross_entropy", "sum of the exponentials"),
    "no biases": (('count = "$(D_{in} + 1) H_1 + (H_1 + 1) H_2 + (H_2 + 1) D_{out}$"',
                   'count = "D_in*H_1 + H_1*H_2 + H_2*D_out"'), "mlp_formula", "bias"),
    "z_hat unbiased": (("z_hat = [[-1.2247, -0.7071, 1.2247, 0.2673]", "z_hat = [[-1.0000, -0.5774, 1.0000, 0.2182]"),
                       "bn_z_hat", "row"),
}

# Other right spellings of the formula answers: each passes.
RIGHT_SPELLINGS = {
    "cnn_params": (P, ["params = 'C_in*C_1*K*K + C_1*C_2*K*K'", "params = '$C_1 K^2 C_{in} + C_2 C_1 K^2$'"]),
    "cnn_macs": (M, ["macs = '$K^2 C_1 H W (C_{in} + C_2 / 4)$'",
                     "macs = 'C_1*H*W*C_in*K**2 + C_2*(H/2)*(W/2)*C_1*K**2'"]),
    "cnn_memory": (R, ["memory_change_percent = '100 * (C_2 * H * W / 4 - C_in * H * W) / (C_in * H * W)'"]),
    "batches_per_epoch": (BPE, ["batches_per_epoch = 'floor((N + B - 1) / B)'",
                                "batches_per_epoch = '-floor(-N / B)'", "batches_per_epoch = 'np.ceil(N / B)'"]),
    "total_iterations": (T, ["total_iterations = '$E \\lceil N / B \\rceil$'",
                             "total_iterations = 'ceil(N / B) * E'"]),
    "cross_entropy": (L, ["loss = '-log(exp(z_0) / (" + SUM + "))'",
                          "loss = '$-\\ln \\frac{\\exp(z_0)}{" + SUM.replace(" ", "") + "}$'",
                          "loss = 'log(1 + exp(z_1 - z_0) + exp(z_2 - z_0))'"]),
}


@pytest.mark.parametrize("file, name", [("conv.py", n) for n in sorted(CONV_CASES)] +
                         [("batchnorm.py", n) for n in sorted(BN_CASES)])
def test_code_mutation(grade, file, name):
    replacements, tasks, expected, gists = (CONV_CASES if file == "conv.py" else BN_CASES)[name]
    files = {"conv.py": CONV, "batchnorm.py": BN, "answers.toml": ANSWERS}
    files[file] = mutate(files[file], *replacements)
    report = grade("a3", files, tasks=tasks)
    assert failing(report) == expected
    assert_hints(report, gists)


@pytest.mark.parametrize("name", sorted(ANSWER_CASES))
def test_answer_mutation(grade, name):
    (old, new), check_id, gist = ANSWER_CASES[name]
    report = grade("a3", {"conv.py": CONV, "batchnorm.py": BN, "answers.toml": mutate(ANSWERS, (old, new))},
                   tasks=["3.6"])
    assert failing(report) == {check_id}
    assert gist in by_id(report)[check_id].message + by_id(report)[check_id].hint, by_id(report)[check_id]


@pytest.mark.parametrize("check_id", sorted(RIGHT_SPELLINGS))
def test_other_right_spellings_pass(grade, check_id):
    old, spellings = RIGHT_SPELLINGS[check_id]
    for new in spellings:
        report = grade("a3", {"conv.py": CONV, "batchnorm.py": BN, "answers.toml": mutate(ANSWERS, (old, new))},
                       tasks=[check_id])
        assert by_id(report)[check_id].status == "passed", (new, by_id(report)[check_id].message)


def test_matrix_partial_credit_per_row(grade):
    report = grade("a3", {"conv.py": CONV, "batchnorm.py": BN,
                          "answers.toml": mutate(ANSWERS, ("y = [[-1.2247", "y = [[-1.5"))}, tasks=["bn_scaled"])
    assert by_id(report)["bn_scaled"].score == pytest.approx(2 / 3)


def test_every_a3_check_has_a_failing_case():
    covered = set().union(*(e for _, _, e, _ in CONV_CASES.values()), *(e for _, _, e, _ in BN_CASES.values()))
    covered |= {check_id for _, check_id, _ in ANSWER_CASES.values()} | {"bn_z_hat"}
    assert covered == {c.id for c in get_assignment("a3").checks}


def test_missing_batchnorm_file_blocks_only_its_checks(grade):
    report = grade("a3", {"conv.py": CONV, "answers.toml": ANSWERS}, tasks=["3.1", "3.5"])
    assert failing(report) == {c.id for c in get_assignment("a3").checks if c.task == "3.5"}
    assert "missing: batchnorm.py" in by_id(report)["bn_eval"].message


def test_loop_example_is_correct_but_slow(grade):
    report = grade("a3", ROOT / "examples" / "a3" / "loops_correct_but_slow", tasks=["3.1", "3.2", "3.3", "3.4"])
    assert failing(report) == {"conv_speed"}
    assert "times the grader's baseline" in by_id(report)["conv_speed"].message
    assert "Vectorize" in by_id(report)["conv_speed"].hint


def test_flipped_kernel_example(grade):
    report = grade("a3", ROOT / "examples" / "a3" / "flipped_kernel", tasks=["3.1", "3.6"])
    assert failing(report) == {"conv_forward_basic", "conv_forward_stride_padding", "conv_forward_shapes",
                               "bn_z_hat", "cross_entropy"}


# The catalogue's mistakes that had no hint (docs/hintless-mistakes.md): each is named now, and only when it is
# the mistake: the reference still passes the same checks.
NAMED_A3 = {
    "backward alone, BN reshaped to 2-D": ("batchnorm.py", "bn_backward_dx", "fix batchnorm_forward first"),
    "statistics per feature in 4-D": ("batchnorm.py", "bn_train_4d", "per channel, taken over axes 0, 2 and 3"),
    "dx buffer too small for padding 3": ("conv.py", "conv_backward_dx", "padding added on BOTH sides"),
}


@pytest.mark.parametrize("name", sorted(NAMED_A3))
def test_catalogued_a3_mistake_gets_its_hint_and_the_reference_passes(grade, name):
    from tests.assignments.a3_bugs.catalogue import BN_BUGS, CONV_BUGS

    file, check_id, gist = NAMED_A3[name]
    files = {"conv.py": CONV, "batchnorm.py": BN}
    files[file] = mutate(files[file], *{**BN_BUGS, **CONV_BUGS}[name].replacements)
    wrong = by_id(grade("a3", files, tasks=[check_id]))[check_id]
    assert wrong.status in ("failed", "error") and wrong.score == 0 and gist in wrong.hint, (wrong.message, wrong.hint)
    assert file.removesuffix(".py") in wrong.message  # the hint comes with the message that says what went wrong
    assert by_id(grade("a3", {"conv.py": CONV, "batchnorm.py": BN}, tasks=[check_id]))[check_id].status == "passed"


def test_the_per_channel_hint_is_given_only_for_a_broadcasting_error_on_4d_input():
    import numpy as np

    from grader.assignments.a3.normalization import broadcasting_on_4d
    from grader.runner.remote import StudentCodeError

    def error(kind, message):
        return StudentCodeError("grader.bn_forward", {"type": kind, "message": message})

    broadcast = "operands could not be broadcast together with shapes (4,) (4,3,3)"
    assert broadcasting_on_4d(error("ValueError", broadcast), np.zeros((2, 4, 3, 3)))
    assert not broadcasting_on_4d(error("ValueError", broadcast), np.zeros((2, 4)))
    assert not broadcasting_on_4d(error("ValueError", "math domain error"), np.zeros((2, 4, 3, 3)))
    assert not broadcasting_on_4d(error("TypeError", broadcast), np.zeros((2, 4, 3, 3)))
    assert not broadcasting_on_4d(error("ValueError", ["forged"]), np.zeros((2, 4, 3, 3)))


def test_block_formulas_count_what_the_reference_convolution_does():
    """The block's model formulas against the reference conv2d run on arrays of the judge's sizes."""
    from grader.assignments.a3 import questions as q
    from grader.authoring import formula_points, formula_value
    from reference.a3.conv import conv2d_forward

    for point in formula_points(q.BLOCK_SYMBOLS, 7, odd=q.BLOCK_ODD, even=q.BLOCK_EVEN)[:2]:
        small = {**point, "C_in": 2, "C_1": 3, "C_2": 5, "K": min(point["K"], 5), "H": min(point["H"], 12),
                 "W": min(point["W"], 10)}
        c_in, c_1, c_2, k, h, w = (small[s] for s in q.BLOCK_SYMBOLS)
        x = np.ones((1, c_in, h, w))
        w1, w2 = np.ones((c_1, c_in, k, k)), np.ones((c_2, c_1, k, k))
        y1 = conv2d_forward(x, w1, np.zeros(c_1), stride=1, padding=(k - 1) // 2)
        y2 = conv2d_forward(np.maximum(y1, 0), w2, np.zeros(c_2), stride=2, padding=(k - 1) // 2)
        assert y2.shape == (1, c_2, h // 2, w // 2)
        assert formula_value(q.BLOCK_PARAMS, q.BLOCK_SYMBOLS, small) == w1.size + w2.size
        assert formula_value(q.BLOCK_MACS, q.BLOCK_SYMBOLS, small) == y1.size * c_in * k * k + y2.size * c_1 * k * k
        assert formula_value(q.BLOCK_MEMORY_CHANGE, q.BLOCK_SYMBOLS, small) == Fraction(100 * (y2.size - x.size),
                                                                                          x.size)


def test_batch_and_loss_formulas_match_a_direct_computation():
    from grader.assignments.a3 import questions as q
    from grader.authoring import formula_value

    for n, b, e in ((50_000, 128, 10), (256, 128, 3), (7, 9, 2)):
        batches = len(range(0, n, b))  # the start of every batch, the last smaller one included
        point = {"N": n, "B": b, "E": e}
        assert formula_value(q.BATCHES_PER_EPOCH, q.BATCH_SYMBOLS, point) == batches
        assert formula_value(q.TOTAL_ITERATIONS, q.BATCH_SYMBOLS, point) == batches * e
    z = np.array([3.0, 5.0, 4.0])
    p = np.exp(z) / np.exp(z).sum()
    loss = formula_value(q.CE_LOSS, q.CE_SYMBOLS, {"z_0": 3, "z_1": 5, "z_2": 4})
    assert float(loss) == pytest.approx(-np.log(p[0]), rel=1e-12)


FORMULA_CHECKS = {  # check -> (its question in questions.FORMULAS, the points it draws)
    "cnn_params": (("cnn_block", "params"), "block"),
    "cnn_macs": (("cnn_block", "macs"), "block"),
    "cnn_memory": (("cnn_block", "memory_change_percent"), "block"),
    "batches_per_epoch": (("training_iterations", "batches_per_epoch"), "batch"),
    "total_iterations": (("training_iterations", "total_iterations"), "batch"),
    "cross_entropy": (("cross_entropy", "loss"), "plain"),
    "mlp_formula": (("mlp_parameters", "count"), "plain"),
}


def test_every_formula_question_has_its_check():
    from grader.assignments.a3 import questions as q

    assert sorted(question for question, _ in FORMULA_CHECKS.values()) == sorted(q.FORMULAS)


@pytest.mark.parametrize("check_id", sorted(FORMULA_CHECKS))
def test_every_known_mistake_fails_under_every_seed(check_id):
    """At the points a check draws (K odd, H and W even; one B that divides N and one that does not), each known
    wrong formula is refused with its hint, and the truth passes, for many seeds."""
    from types import SimpleNamespace

    from grader.assignments.a3 import answers
    from grader.assignments.a3 import questions as q
    from grader.authoring import formula_points, judge_formula

    question, kind = FORMULA_CHECKS[check_id]
    symbols, truth, mistakes = q.FORMULAS[question]
    vocabulary = (answers.LOG10, answers.LOG2) if check_id == "cross_entropy" else ()
    for seed in range(60):
        ctx = SimpleNamespace(rng=np.random.default_rng(seed))
        points = {"block": answers._block_points, "batch": answers._batch_points}.get(
            kind, lambda c: formula_points(symbols, answers._seed(c)))(ctx)
        if kind == "block":
            assert all(p["K"] % 2 == 1 and p["H"] % 2 == 0 and p["W"] % 2 == 0 for p in points)
        if kind == "batch":
            assert {p["N"] % p["B"] == 0 for p in points} == {True, False}
        judged = lambda text: judge_formula(text, symbols, truth, tuple((m, n) for n, m in mistakes.items()),  # noqa
                                            points=points, vocabulary=vocabulary)
        assert judged(truth).status == "passed"
        for name, formula in mistakes.items():
            verdict = judged(formula)
            assert verdict.status == "failed" and verdict.hint == name, (seed, name, verdict)

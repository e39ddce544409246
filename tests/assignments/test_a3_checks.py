"""Every a3 check fails on a submission with one specific bug; the examples grade as documented."""

from __future__ import annotations

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

ANSWER_CASES = {
    "params with bias": (("params = 5040", "params = 5088"), "cnn_params", "Biases are excluded"),
    "macs stride": (("macs = 1622016", "macs = 5160960"), "cnn_macs", "stride 2"),
    "memory ratio": (("memory_change_percent = 166.7", "memory_change_percent = 266.7"), "cnn_memory", "CHANGE"),
    "memory low precision": (("memory_change_percent = 166.7", "memory_change_percent = 160"), "cnn_memory", ""),
    "scaled wrong": (("y = [[-1.2247", "y = [[-1.5"), "bn_scaled", "row"),
    "floor batches": (("batches_per_epoch = 391", "batches_per_epoch = 390"), "batches_per_epoch", "round UP"),
    "fractional batches": (("batches_per_epoch = 391", "batches_per_epoch = 390.625"), "batches_per_epoch",
                           "whole number"),
    "floor iterations": (("total_iterations = 3910", "total_iterations = 3900"), "total_iterations", "round up"),
    "log10": (("loss = 0.3567", "loss = 0.1549"), "cross_entropy", "log10"),
    "no biases": (('count = "$(D_{in} + 1) H_1 + (H_1 + 1) H_2 + (H_2 + 1) D_{out}$"',
                   'count = "D_in*H_1 + H_1*H_2 + H_2*D_out"'), "mlp_formula", "bias"),
    "z_hat unbiased": (("z_hat = [[-1.2247, -0.7071, 1.2247, 0.2673]", "z_hat = [[-1.0000, -0.5774, 1.0000, 0.2182]"),
                       "bn_z_hat", "row"),
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
    assert gist in by_id(report)[check_id].message + by_id(report)[check_id].hint


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

"""Red team for a1 and a3 (issue #9 part 3): what the sandbox returns is a claim, the parent decides.

a1's training: only training data enter the sandbox; the parent computes predictions from the
returned parameters with the handout's forward, and never sends the test digits. a3's speed: the
parent times each call on a batch it drew fresh and checks the timed outputs. Malformed, wrongly
shaped or wrongly typed results are named failures, never a grader crash (exit 3).
"""

from __future__ import annotations

from tests.conftest import REFERENCE_A1, ROOT, by_id, with_prelude

CONV = (ROOT / "reference" / "a3" / "conv.py").read_text()
BN = (ROOT / "reference" / "a3" / "batchnorm.py").read_text()

# Sigmoid.forward answers with the training labels it finds in its callers' frames: a training run
# that "converges" in the sandbox without learning anything.
LABELS_FROM_FRAMES = '''
import sys as _sys


def _labels():
    frame = _sys._getframe(2)
    while frame is not None:
        if "y" in frame.f_locals and "layers" in frame.f_locals:
            return frame.f_locals["y"]
        frame = frame.f_back
    return None
'''
FORGED_SIGMOID = '''

class Sigmoid(Sigmoid):
    def forward(self, x):
        out = super().forward(x)
        y = _labels()
        return y.astype(float) if y is not None and out.shape == y.shape else out
'''

# Any test data reaching the sandbox makes the digits training crash loudly.
TEST_DATA_TRAP = '''
import sys as _sys


def _no_test_data(x):
    frame = _sys._getframe(1)
    while frame is not None:
        if {"x_test", "y_test"} & set(frame.f_locals):
            raise RuntimeError("the test data reached the sandbox")
        frame = frame.f_back
    if x.shape[0] > 1348:
        raise RuntimeError("more rows than the training set: test rows reached the sandbox")
'''
TRAPPED_LINEAR = '''

class Linear(Linear):
    def forward(self, x):
        _no_test_data(x)
        return super().forward(x)
'''


def test_a1_training_labels_echoed_from_the_sandbox_earn_nothing(grade):
    report = grade("a1", {"mlp.py": with_prelude(LABELS_FROM_FRAMES) + FORGED_SIGMOID},
                   tasks=["train_linear", "train_xor"])
    for check_id in ("train_linear", "train_xor"):
        assert by_id(report)[check_id].status == "failed", by_id(report)[check_id].message
        assert "misclassified" in by_id(report)[check_id].message


def test_a1_test_digits_never_enter_the_sandbox(grade):
    report = grade("a1", {"mlp.py": with_prelude(TEST_DATA_TRAP) + TRAPPED_LINEAR}, tasks=["train_digits"])
    assert by_id(report)["train_digits"].status == "passed", by_id(report)["train_digits"].message


def test_a1_trained_parameters_of_the_wrong_shape_are_a_named_failure(grade):
    """The weights the driver reads back are not the ones forward uses, and have another shape."""
    source = REFERENCE_A1 + '''

class Linear(Linear):
    W = property(lambda self: np.zeros((3, 3)), lambda self, value: setattr(self, "_W", value))

    def forward(self, x):
        self.x = x
        return x @ self._W + self.b

    def backward(self, grad_out):
        self.dW = self.x.T @ grad_out
        self.db[...] = grad_out.sum(axis=0)
        return grad_out @ self._W.T

    def parameters(self):
        return [(self._W, self.dW), (self.b, self.db)]
'''
    report = grade("a1", {"mlp.py": source}, tasks=["train_xor", "train_digits"])
    for check_id in ("train_xor", "train_digits"):
        check = by_id(report)[check_id]
        assert check.status == "failed" and "has shape (3, 3)" in check.message, check.message


def test_a1_non_finite_parameters_fail(grade):
    source = REFERENCE_A1 + '''

class SGD(SGD):
    def step(self):
        super().step()
        for layer in self.layers:
            if hasattr(layer, "b"):
                layer.b[...] = np.nan
'''
    check = by_id(grade("a1", {"mlp.py": source}, tasks=["train_digits"]))["train_digits"]
    assert check.status == "failed" and "not finite" in check.message


def _a3(conv=CONV, bn=BN):
    return {"conv.py": conv, "batchnorm.py": bn}


def test_a3_speed_check_recognising_the_timed_batch_fails(grade):
    """Correct on small inputs, zeros at once on anything batch-sized: the timed outputs are checked."""
    cheat = CONV + '''

_forward, _backward = conv2d_forward, conv2d_backward


def conv2d_forward(x, w, b, stride=1, padding=0):
    if x.shape[0] >= 8:
        n, _, h, wd = x.shape
        return np.zeros((n, w.shape[0], (h + 2 * padding - w.shape[2]) // stride + 1,
                         (wd + 2 * padding - w.shape[3]) // stride + 1))
    return _forward(x, w, b, stride, padding)


def conv2d_backward(grad_out, x, w, b, stride=1, padding=0):
    if x.shape[0] >= 8:
        return np.zeros_like(x), np.zeros_like(w), np.zeros_like(b)
    return _backward(grad_out, x, w, b, stride, padding)
'''
    check = by_id(grade("a3", _a3(cheat), tasks=["3.1", "3.2"]))["conv_speed"]
    assert check.status == "failed" and "timed" in check.message


def test_a3_speed_of_a_stub_that_returns_zeros_everywhere_earns_nothing(grade):
    """Even when the correctness checks failed (self-consistency mode), some result must be right."""
    stub = CONV + '''

def conv2d_forward(x, w, b, stride=1, padding=0):
    n, _, h, wd = x.shape
    return np.zeros((n, w.shape[0], (h + 2 * padding - w.shape[2]) // stride + 1,
                     (wd + 2 * padding - w.shape[3]) // stride + 1))


def conv2d_backward(grad_out, x, w, b, stride=1, padding=0):
    return np.zeros_like(x), np.zeros_like(w), np.zeros_like(b)
'''
    report = grade("a3", _a3(stub), tasks=["3.1", "3.2"])
    assert report.score == 0, [(c.id, c.status) for c in report.checks if c.score]


def test_a3_wrong_dtypes_and_types_are_named_failures(grade):
    weird = CONV + '''

_forward, _backward = conv2d_forward, conv2d_backward


def conv2d_forward(x, w, b, stride=1, padding=0):
    return _forward(x, w, b, stride, padding).astype(complex)


def conv2d_backward(grad_out, x, w, b, stride=1, padding=0):
    dx, dw, db = _backward(grad_out, x, w, b, stride, padding)
    return dx > 0, dw.tolist(), str(db)


def maxpool2d_forward(x, kernel=2, stride=2):
    return None
'''
    report = grade("a3", _a3(weird), tasks=["3.1", "3.2", "3.3"])
    for check_id in ("conv_forward_basic", "conv_backward_dx", "conv_backward_dw", "conv_backward_db",
                     "conv_speed", "maxpool_forward"):
        assert by_id(report)[check_id].status == "failed", (check_id, by_id(report)[check_id].message)

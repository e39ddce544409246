"""a4: every check fails on a model with one specific bug; CIFAR-10 is read from a local folder."""

from __future__ import annotations

import json
import pickle

import numpy as np
import pytest

from tests.conftest import ROOT, by_id, failing, mutate

torch = pytest.importorskip("torch")

from grader.assignments.a4 import data  # noqa: E402
from tests.assignments.a4_bugs import fixtures  # noqa: E402

torch_zygote, grade4 = fixtures.torch_zygote, fixtures.grade4

REFERENCE = (ROOT / "reference" / "a4" / "lenet.py").read_text()
STRUCTURE = ["4.1"]


def test_reference_gets_full_marks(grade4):
    report = grade4(ROOT / "reference" / "a4", tasks=STRUCTURE)
    assert failing(report) == set() and report.score == 11


def test_examples_fail_what_they_should(grade4):
    report = grade4(ROOT / "examples" / "a4" / "bn_before_pool_dropout_05", tasks=STRUCTURE)
    assert failing(report) == {"structure_batch_norm", "structure_dropout"}
    assert "BEFORE the max-pools" in by_id(report)["structure_batch_norm"].hint
    assert "rate is 0.5" in by_id(report)["structure_dropout"].hint
    report = grade4(ROOT / "examples" / "a4" / "cpu_tensor_and_softmax", tasks=STRUCTURE)
    assert failing(report) == {"returns_logits", "device_safe"}
    assert "lenet.py:31" in by_id(report)["device_safe"].hint


def test_softmax_model_cannot_learn(grade4):
    source = mutate(REFERENCE, ("return self.classifier(torch.flatten(self.features(x), 1))",
                                "return torch.softmax(self.classifier(torch.flatten(self.features(x), 1)), 1)"))
    report = grade4({"lenet.py": source}, tasks=["4.2"])
    assert failing(report) == {"overfit_one_batch", "train_plain", "train_bn_dropout"}
    curves = by_id(report)["train_plain"].details["curves"]
    assert curves["dataset"] == "standin" and len(curves["test_accuracy"]) == len(curves["train_loss"]) > 1


def test_reference_trains_with_progress_and_curves(grade4, tmp_path):
    lines = []
    report = grade4(ROOT / "reference" / "a4", tasks=["train_plain"], progress=lines.append)
    check = by_id(report)["train_plain"]
    assert check.status == "passed" and "test accuracy" in check.message
    assert any("epoch 1/" in line for line in lines)
    from grader.report.plot import write_learning_curves

    written = write_learning_curves(report, tmp_path)
    assert written and written[0].read_bytes().startswith(b"\x89PNG")
    assert json.loads(json.dumps(report.to_dict()))["checks"]


def make_cifar(folder, n_train=20, n_test=20, seed=0):
    """A tiny CIFAR-10 folder in the official python format (pickled dicts with bytes keys)."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    for name, n in [(f, n_train) for f in data.TRAIN_FILES] + [(data.TEST_FILE, n_test)]:
        batch = {b"batch_label": name.encode(), b"labels": rng.integers(0, 10, n).tolist(),
                 b"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8), b"filenames": [b"x.png"] * n}
        with open(folder / name, "wb") as f:
            pickle.dump(batch, f, protocol=2)
    with open(folder / data.META_FILE, "wb") as f:
        pickle.dump({b"label_names": [c.encode() for c in "abcdefghij"], b"num_vis": 3072}, f, protocol=2)
    return folder


def test_cifar_loader_reads_the_official_format(tmp_path):
    images = data.load_cifar10(make_cifar(tmp_path / "cifar"))
    assert images.train_x.shape == (100, 3, 32, 32) and images.test_x.shape == (20, 3, 32, 32)
    assert images.train_x.dtype == np.uint8 and images.classes[0] == "a"


@pytest.mark.parametrize("damage, gist", [("missing", "has no file"), ("garbage", "not a CIFAR-10 batch"),
                                          ("shape", r"shape \(N, 3072\)"), ("evil", "refusing")])
def test_cifar_loader_rejects_bad_folders(tmp_path, damage, gist):
    folder = make_cifar(tmp_path / "cifar")
    target = folder / "data_batch_3"
    if damage == "missing":
        target.unlink()
    elif damage == "garbage":
        target.write_bytes(b"not a pickle")
    elif damage == "shape":
        with open(target, "wb") as f:
            pickle.dump({b"data": np.zeros((2, 10), np.uint8), b"labels": [0, 1]}, f, protocol=2)
    else:
        class Evil:
            def __reduce__(self):
                return (print, ("pwned",))
        with open(target, "wb") as f:
            pickle.dump({b"data": Evil()}, f)
    with pytest.raises(data.DataError, match=gist):
        data.load_cifar10(folder)


def test_training_uses_cifar_when_given(grade4, tmp_path):
    folder = make_cifar(tmp_path / "cifar")
    report = grade4(ROOT / "reference" / "a4", tasks=["train_plain"], data={"cifar10": folder})
    assert by_id(report)["train_plain"].details["curves"]["dataset"] == "cifar10"


def test_bad_cifar_folder_is_a_usage_error(tmp_path):
    from click.testing import CliRunner

    from grader.cli import main

    result = CliRunner().invoke(main, ["check", "a4", str(ROOT / "reference" / "a4"), "--task", "train_plain",
                                       "--data", f"cifar10={tmp_path / 'nope'}"])
    assert result.exit_code == 2 and "no such folder" in result.output
    (tmp_path / "empty").mkdir()
    result = CliRunner().invoke(main, ["check", "a4", str(ROOT / "reference" / "a4"), "--task", "train_plain",
                                       "--data", f"cifar10={tmp_path / 'empty'}"])
    assert result.exit_code == 2 and "has no file" in result.output


def test_parent_never_initialises_cuda(grade4):
    """The parent runs the reference on its CPU; CUDA stays untouched (the zygote forks sessions)."""
    report = grade4(ROOT / "reference" / "a4", tasks=["structure_dropout", "train_eval"])
    assert failing(report) == set()
    assert not torch.cuda.is_initialized()

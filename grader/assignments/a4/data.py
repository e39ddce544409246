"""Image data for a4: CIFAR-10 from a local copy, or a stand-in the grader generates.

CIFAR-10's official "python version" is a folder of pickled dicts
(``data_batch_1`` ... ``data_batch_5``, ``test_batch``, ``batches.meta``). Pickle
can run code, so these files are read with an unpickler that refuses every
global except NumPy's array reconstruction: a tampered file fails to load
instead of executing anything. Nothing is downloaded.

Without CIFAR-10 (CI, laptops) the checks use ``standin``: 10 classes of
oriented, coloured gratings under noise, made from a seed. It is small enough
to train on a CPU in seconds and still needs convolutional features (the
class is the orientation; colour and phase are random).
"""

from __future__ import annotations

import os
import pickle
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from grader.authoring import UsageError

TRAIN_FILES = tuple(f"data_batch_{i}" for i in range(1, 6))
TEST_FILE, META_FILE = "test_batch", "batches.meta"
ENV_VARIABLE = "DLGRADE_CIFAR10"
MAX_FILE_BYTES = 200 * 1024 * 1024


@dataclass(frozen=True)
class ImageData:
    """uint8 images (N, 3, 32, 32) with int64 labels; ``name`` says which data set it is."""

    name: str
    train_x: np.ndarray
    train_y: np.ndarray
    test_x: np.ndarray
    test_y: np.ndarray
    classes: tuple[str, ...]


class DataError(UsageError):
    """A data folder given by the staff is missing or not in the expected format."""


class _ArraysOnly(pickle.Unpickler):
    """Unpickles dicts, lists, bytes, numbers and NumPy arrays; nothing else."""

    ALLOWED = {("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
               ("numpy", "ndarray"), ("numpy", "dtype"), ("_codecs", "encode"),
               ("numpy.core.multiarray", "scalar"), ("numpy._core.multiarray", "scalar")}

    def find_class(self, module: str, name: str):
        if (module, name) not in self.ALLOWED:
            raise pickle.UnpicklingError(f"refusing to load {module}.{name}")
        return {"ndarray": np.ndarray, "dtype": np.dtype, "_reconstruct": _reconstruct, "encode": _encode,
                "scalar": _scalar}[name]


def _encode(text: str, encoding: str = "latin1") -> bytes:
    """How Python 3 writes bytes in protocol-2 pickles; nothing but a string conversion."""
    return str(text).encode(str(encoding))


def _scalar(dtype, data: bytes):
    """A NumPy scalar (e.g. a label saved as np.int64), rebuilt from its dtype and raw bytes."""
    return np.frombuffer(bytes(data), dtype=np.dtype(dtype), count=1)[0]


def _reconstruct(subtype, shape, dtype):
    """What NumPy's pickles call to rebuild an array: an empty plain ndarray, filled by __setstate__."""
    if subtype is not np.ndarray:
        raise pickle.UnpicklingError("only plain ndarrays are accepted")
    return np.ndarray.__new__(np.ndarray, shape, dtype)


def _load_batch(path: Path) -> dict:
    if not path.is_file():
        raise DataError(f"CIFAR-10 folder {path.parent} has no file {path.name} (expected the official python "
                        f"version: {', '.join(TRAIN_FILES)}, {TEST_FILE}, {META_FILE})")
    if path.stat().st_size > MAX_FILE_BYTES:
        raise DataError(f"{path} is too large to be a CIFAR-10 batch")
    try:
        with open(path, "rb") as f:
            batch = _ArraysOnly(f, encoding="bytes").load()
    except Exception as exc:
        raise DataError(f"{path} is not a CIFAR-10 batch in the official python format ({exc})") from None
    if not isinstance(batch, dict):
        raise DataError(f"{path} does not hold a dict")
    return {k.decode() if isinstance(k, bytes) else k: v for k, v in batch.items()}


def _images(batch: dict, path: Path) -> tuple[np.ndarray, np.ndarray]:
    data, labels = batch.get("data"), batch.get("labels")
    if not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3072:
        raise DataError(f"{path}: 'data' should be a uint8 array of shape (N, 3072)")
    labels = np.asarray(labels, dtype=np.int64)
    if labels.shape != (data.shape[0],) or labels.min(initial=0) < 0 or labels.max(initial=0) > 9:
        raise DataError(f"{path}: 'labels' should be N integers in 0..9")
    return data.reshape(-1, 3, 32, 32), labels


def load_cifar10(folder: str | Path) -> ImageData:
    """Read the official python version of CIFAR-10 from ``folder``."""
    folder = Path(folder)
    if not folder.is_dir():
        raise DataError(f"CIFAR-10 folder {folder} does not exist")
    train = [_images(_load_batch(folder / name), folder / name) for name in TRAIN_FILES]
    test_x, test_y = _images(_load_batch(folder / TEST_FILE), folder / TEST_FILE)
    meta = _load_batch(folder / META_FILE)
    names = meta.get("label_names", [])
    classes = tuple(n.decode() if isinstance(n, bytes) else str(n) for n in names) or tuple(map(str, range(10)))
    return ImageData("cifar10", np.concatenate([x for x, _ in train]), np.concatenate([y for _, y in train]),
                     test_x, test_y, classes)


def cifar10_folder(data: dict[str, Path]) -> Path | None:
    """The CIFAR-10 folder given with --data cifar10=PATH or $DLGRADE_CIFAR10, if any."""
    if "cifar10" in data:
        return Path(data["cifar10"])
    return Path(os.environ[ENV_VARIABLE]) if os.environ.get(ENV_VARIABLE) else None


def standin(seed: int = 0, train_per_class: int = 200, test_per_class: int = 50) -> ImageData:
    """Ten classes of oriented gratings (the class is the angle), random colour, phase and noise."""
    rng = np.random.default_rng(seed)
    per_class = train_per_class + test_per_class
    yy, xx = np.mgrid[0:32, 0:32].astype(np.float64)
    images, labels = [], []
    for k in range(10):
        angle = np.pi * k / 10
        n = per_class
        freq = rng.uniform(0.18, 0.28, n)[:, None, None]
        phase = rng.uniform(0, 2 * np.pi, n)[:, None, None]
        wave = np.sin(2 * np.pi * freq * (np.cos(angle) * xx + np.sin(angle) * yy) + phase)
        colour = rng.uniform(0.2, 1.0, (n, 3, 1, 1))
        img = 0.5 + 0.35 * colour * wave[:, None] + 0.15 * rng.standard_normal((n, 3, 32, 32))
        images.append(np.clip(img * 255, 0, 255).astype(np.uint8))
        labels.append(np.full(n, k, dtype=np.int64))
    x, y = np.concatenate(images), np.concatenate(labels)
    order = rng.permutation(len(y))
    x, y = x[order], y[order]
    is_test = np.zeros(len(y), bool)
    for k in range(10):
        is_test[np.flatnonzero(y == k)[:test_per_class]] = True
    return ImageData("standin", x[~is_test], y[~is_test], x[is_test], y[is_test],
                     tuple(f"{18 * k} degrees" for k in range(10)))

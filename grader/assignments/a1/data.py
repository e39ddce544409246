"""Training data for a1: the two toy sets of the NumPy lab and a real digits set."""

from __future__ import annotations

import gzip
from functools import lru_cache
from pathlib import Path

import numpy as np

DIGITS_PATH = Path(__file__).resolve().parents[2] / "data" / "digits.csv.gz"


def linear_toy(rng: np.random.Generator, n: int = 100, margin: float = 0.05) -> tuple[np.ndarray, np.ndarray]:
    """Points in the unit square, label 1 below the diagonal (x0 > x1), none closer than ``margin``."""
    points = rng.uniform(0, 1, size=(4 * n, 2))
    points = points[np.abs(points[:, 0] - points[:, 1]) > margin][:n]
    return points, (points[:, 0] > points[:, 1]).astype(np.float64)[:, None]


def xor_toy() -> tuple[np.ndarray, np.ndarray]:
    """The lab's "easy XOR": 21 points on the two diagonals, label 1 on the anti-diagonal."""
    xs, ys = [], []
    for i in range(11):
        xs.append([0.1 * i, 0.1 * i])
        ys.append(0.0)
        if i != 5:
            xs.append([0.1 * i, 1 - 0.1 * i])
            ys.append(1.0)
    return np.array(xs), np.array(ys)[:, None]


@lru_cache(maxsize=1)
def digits() -> tuple[np.ndarray, np.ndarray]:
    """1797 handwritten digits as (images scaled to [0, 1], shape (n, 64); labels (n,))."""
    with gzip.open(DIGITS_PATH, "rt") as f:
        table = np.loadtxt(f, delimiter=",")
    return table[:, :-1] / 16.0, table[:, -1].astype(np.int64)


def digits_split(rng: np.random.Generator, test_fraction: float = 0.25):
    """A random train/test split of the digits (x_train, y_train, x_test, y_test)."""
    x, y = digits()
    order = rng.permutation(len(y))
    n_test = int(len(y) * test_fraction)
    test, train = order[:n_test], order[n_test:]
    return x[train], y[train], x[test], y[test]

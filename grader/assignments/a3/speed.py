"""What a3's speed check (``conv_speed`` in convolution.py) measures against, and how it checks repeated runs.

The verdict is a ratio (``grader.checks.timing``): the CPU time of the student's conv2d
forward + backward over the CPU time of a grader-owned yardstick of the same size run by
the parent in the same moment. The yardstick is element-wise NumPy, not a convolution and
not the reference: the sandbox never sees it, and the student build ships nothing a
student could hand in.

``LIMIT`` keeps the rule the check has always had, "about 2 s on a 16x3x32x32 batch",
as a multiple that holds on any machine and under any load: on the machine it was
calibrated on (2 cores, Python 3.11, NumPy 1.26) the yardstick of that batch takes about
4.4 ms of CPU time, so 450 times it is about 2 s. There the vectorized reference measures
about 5-10 times the yardstick, a loop over (n, f, i, j) with a vectorized inner sum about
120 times, and the plain seven-loop version (examples/a3/loops_correct_but_slow) about 800
times: it fails under every seed, idle or beside busy processes
(tests/assignments/test_a3_speed.py).

Repetitions after the first run on fresh batches of the same shape; their outputs are
checked at sampled positions straight from the definition of the convolution (a few
sums each), so that no reference answer has to be recorded for them in the student build.
"""

from __future__ import annotations

import numpy as np

from grader.authoring import CheckFailed, timing

LIMIT = 450.0  # times the yardstick's CPU time (about 2 s on the calibration machine)
SAMPLES = 48  # sampled positions per timed output of a repetition after the first


def yardstick(x_shape: tuple[int, ...], w_shape: tuple[int, ...]):
    """The baseline for conv2d forward + backward on these shapes (stride 1, 'same' padding): one multiply-add
    per output element, input channel and kernel offset for each of the three products (out, dx, dw)."""
    n, c, h, wd = x_shape
    f, _, kh, kw = w_shape
    return timing.yardstick(elements=n * f * h * wd, passes=3 * c * kh * kw)


def sampled_parts(x, w, b, G, padding: int, parts, rng: np.random.Generator) -> list[bool]:
    """Whether out, dx, dw and db (stride 1) equal the convolution's definition at ``SAMPLES`` random positions each.

    ``parts`` holds the student's (out, dx, dw, db), shapes already checked.
    """
    out, dx, dw, db = parts
    n, c, h, wd = x.shape
    f, _, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    ho, wo = G.shape[2], G.shape[3]

    def close(got, want) -> bool:
        return bool(np.allclose(got, want, rtol=1e-6, atol=1e-8))

    at = [tuple(int(rng.integers(0, s)) for s in out.shape) for _ in range(SAMPLES)]
    want = [np.sum(xp[i, :, y:y + kh, z:z + kw] * w[k]) + b[k] for i, k, y, z in at]
    right = [close([out[p] for p in at], want)]
    at = [tuple(int(rng.integers(0, s)) for s in dx.shape) for _ in range(SAMPLES)]
    want = []
    for i, ch, y, z in at:  # dx[i, ch, y, z] = sum of G[i, f, y + padding - p, z + padding - q] w[f, ch, p, q]
        total = 0.0
        for p in range(kh):
            for q in range(kw):
                gy, gz = y + padding - p, z + padding - q
                if 0 <= gy < ho and 0 <= gz < wo:
                    total += float(G[i, :, gy, gz] @ w[:, ch, p, q])
        want.append(total)
    right.append(close([dx[p] for p in at], want))
    at = [tuple(int(rng.integers(0, s)) for s in dw.shape) for _ in range(min(SAMPLES, dw.size))]
    want = [np.vdot(G[:, k], xp[:, ch, p:p + ho, q:q + wo]) for k, ch, p, q in at]
    right.append(close([dw[p] for p in at], want))
    right.append(close(db, G.sum(axis=(0, 2, 3))))
    return right


def sampled_failure(name: str, batch: str) -> CheckFailed:
    return CheckFailed(f"{name} from a repeated timed conv2d call on a fresh {batch} batch differs from the "
                       "convolution's definition at sampled positions (the first timed call was right).",
                       "The speed check times several calls on fresh inputs: every result must be computed.")

"""Reference conv2d forward + backward, against the plain loops and against torch's CPU conv2d.

The reference is also the oracle the grader runs for every submission, so it
must be fast. One run, one process, the same inputs for all three; ratios
are printed (goal: >= 50x the loops, within 3x of torch).
Usage: python bench/a3_conv.py [--batch 16] [--repeats 5]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from reference.a3 import conv, conv_loops


def timed(fn, repeats: int) -> float:
    fn()
    samples = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    x = rng.standard_normal((args.batch, 3, 32, 32))
    w, b = rng.standard_normal((8, 3, 3, 3)), rng.standard_normal(8)
    G = rng.standard_normal((args.batch, 8, 32, 32))

    def reference():
        conv.conv2d_forward(x, w, b, 1, 1)
        conv.conv2d_backward(G, x, w, b, 1, 1)

    def loops():
        conv_loops.conv2d_forward(x, w, b, 1, 1)
        conv_loops.conv2d_backward(G, x, w, b, 1, 1)

    results = {"reference (vectorized)": timed(reference, args.repeats), "plain loops": timed(loops, 1)}
    try:
        import torch

        torch.set_num_threads(1)
        tx, tw, tb, tG = (torch.tensor(a) for a in (x, w, b, G))

        def torch_conv():
            tx.requires_grad_(True), tw.requires_grad_(True), tb.requires_grad_(True)
            torch.nn.functional.conv2d(tx, tw, tb, stride=1, padding=1).backward(tG)
            tx.grad = tw.grad = tb.grad = None

        results["torch CPU (1 thread, float64)"] = timed(torch_conv, args.repeats)
    except ImportError:
        print("(torch not installed: skipping the torch comparison)")
    base = results["reference (vectorized)"]
    print(f"conv2d 3x3, 3->8 channels, padding 1, forward + backward on {args.batch}x3x32x32 (float64, "
          f"BLAS threads as configured)")
    for name, seconds in results.items():
        print(f"  {name:<30} {seconds * 1000:10.1f} ms   reference is x{seconds / base:7.1f} faster")


if __name__ == "__main__":
    main()

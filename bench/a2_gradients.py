"""a2's gradient verification: directional probes vs per-element central differences,
and the latency of written-answer checks.

Part 1 runs the a2 gradient suite (every op, every input, the grader's own
input generators) on the reference ops in-process, once with directional
probes (what the grader does) and once with per-element central differences
(the textbook way), at the grader's sizes and at a larger size. Part 2 times
`judge` on every question with right, equivalent, wrong, approximate and
hostile answers and answers built to explode (the tables of
tests/checks/test_symbolic.py), after `warm()`.
Usage: python bench/a2_gradients.py
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

from grader.assignments.a2.ops import CASES, _reference
from grader.assignments.a2.questions import QUESTIONS
from grader.checks.gradcheck import directional_check, elementwise_check
from grader.checks.symbolic import judge, warm

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.checks.test_symbolic import APPROXIMATE, BOMBS, EQUIVALENT, HOSTILE, WRONG  # noqa: E402  (the tests')


def scaled(inputs, factor):
    """Tile inputs to a larger size (keeps domains: positive stays positive)."""
    return [np.tile(x, (factor,) * x.ndim) if x.ndim else x for x in inputs]


def suite(method, factor, seed=0):
    rng = np.random.default_rng(seed)
    evaluations, started = 0, time.perf_counter()
    for case in CASES:
        if not case.smooth or case.name in ("Squeeze", "Unsqueeze", "Expand", "Sum") and factor > 1:
            continue
        inputs, params = case.draw(rng)
        inputs = scaled(inputs, factor)
        out, _ = _reference(case, inputs, params)
        G = rng.standard_normal(out.shape)
        _, grads = _reference(case, inputs, params, G)
        for i, x in enumerate(inputs):
            def evaluate(points, i=i):
                return [float(np.sum(G * _reference(case, [*inputs[:i], p, *inputs[i + 1:]], params)[0]))
                        for p in points]
            result = (directional_check("d", evaluate, x, grads[i], rng) if method == "directional"
                      else elementwise_check("d", evaluate, x, grads[i]))
            assert result.ok, (case.name, result.detail)
            evaluations += result.evaluations
    return evaluations, time.perf_counter() - started


def main() -> None:
    print("Part 1: the a2 gradient suite on the reference ops (in-process)")
    for factor, label in ((1, "grader sizes (2-5 per dim)"), (8, "8x larger per dim")):
        d_evals, d_time = suite("directional", factor)
        e_evals, e_time = suite("elementwise", factor)
        print(f"  {label:<28} directional: {d_evals:6d} evaluations {d_time * 1000:8.1f} ms | per-element: "
              f"{e_evals:6d} evaluations {e_time * 1000:8.1f} ms | x{e_evals / d_evals:.1f} evaluations, "
              f"x{e_time / d_time:.1f} time")
    print("Part 2: latency of one written-answer check (judge), SymPy warmed once as the grader should")
    started = time.perf_counter()
    warm()
    print(f"  warm(): {(time.perf_counter() - started) * 1000:.0f} ms, once per grading process")
    by_key = {f"{q.table}.{q.key}": q for q in QUESTIONS}
    cases = [(q, q.answer, "model") for q in QUESTIONS]
    cases += [(by_key[k], text, "equivalent") for k, texts in EQUIVALENT.items() for text in texts]
    cases += [(by_key[k], text, "wrong") for k, pairs in WRONG.items() for text, _ in pairs]
    cases += [(by_key[k], text, "approximate") for k, texts in APPROXIMATE.items() for text in texts]
    cases += [(QUESTIONS[0], text, "hostile") for text, _ in HOSTILE]
    cases += [(by_key["div_backward.dY"], text, "built to explode") for text, _ in BOMBS]
    times: dict[tuple[int, str], list[tuple[float, float]]] = {}
    for seed in range(3):  # seed 0: every answer is new to the process; 1, 2: later submissions, same answers
        for question, text, kind in cases:
            wall, cpu = time.perf_counter(), time.process_time()
            judge(question, text, seed=seed)
            times.setdefault((seed, kind), []).append(((time.perf_counter() - wall) * 1000,
                                                       (time.process_time() - cpu) * 1000))

    def line(label, pairs):
        parts = []
        for name, values in (("wall", sorted(w for w, _ in pairs)), ("cpu", sorted(c for _, c in pairs))):
            p95 = values[int(0.95 * (len(values) - 1))]
            parts.append(f"{name} p50 {statistics.median(values):5.1f} p95 {p95:5.1f} max {values[-1]:6.1f} ms")
        print(f"  {label:<44} {len(pairs):4d} checks: {' | '.join(parts)}")

    print(f"  ({os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}: wall time includes waiting for a core)")
    line("first submission (caches cold), all answers", [t for (s, _), v in times.items() if s == 0 for t in v])
    line("all three submissions, all answers", [t for v in times.values() for t in v])
    for kind in ("model", "equivalent", "wrong", "approximate", "hostile", "built to explode"):
        line(f"  of which {kind}", [t for (_, k), v in times.items() if k == kind for t in v])

if __name__ == "__main__":
    main()

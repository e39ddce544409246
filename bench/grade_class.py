"""`dlgrade grade --jobs N` against the pytest-per-submission peer, on the same generated class.

The peer is the common pattern: a plain pytest file of the same checks (a1
tasks 1.1-1.5: Linear, activations, softmax, losses, optimizers, each compared
with the reference on random inputs; or a4's structure checks, task 4.1: layers,
parameter counts, shapes, logits, train/eval), run as one fresh ``python -m pytest``
per submission, N at a time. It pays interpreter, pytest and NumPy (or torch) start-up
for every student, and runs student code in its own process with no sandbox.
dlgrade pays start-up once per worker and forks a sandboxed session per check.

Prints the machine and core count, both wall times, their ratio, the wall time
per submission (wall x N / students) of each, and the peer's start-up alone
(``python -m pytest`` of an empty file), all measured in this one run. With
``--pairs P`` (default 1), each side runs P times in alternating order (a
shared machine drifts: a lone pair can be off by 20%) and the medians, their
ratio and the median of the per-pair ratios are printed.
Usage: python bench/grade_class.py [--students 40] [--jobs 2] [--assignment a1|a4] [--pairs 1]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

PEER_TESTS = '''
import importlib.util, os, sys
import numpy as np
import pytest

def _load(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module

ref = _load("reference_mlp", os.environ["REFERENCE"])

@pytest.fixture(scope="module")
def mlp():
    return _load("student_mlp", os.path.join(os.environ["SUBMISSION"], "mlp.py"))

rng = np.random.default_rng(0)
X = rng.normal(size=(6, 4))
G = rng.normal(size=(6, 3))

def pair(mlp):
    s, r = mlp.Linear(4, 3), ref.Linear(4, 3)
    r.W[...] = s.W = rng.normal(size=(4, 3)); r.b[...] = s.b = rng.normal(size=3)
    s.dW, s.db = np.zeros((4, 3)), np.zeros(3)
    return s, r

def test_linear_init(mlp):
    layer = mlp.Linear(4, 3)
    assert layer.W.shape == (4, 3) and layer.b.shape == (3,) and not layer.b.any()

def test_linear_forward(mlp):
    s, r = pair(mlp)
    np.testing.assert_allclose(s.forward(X), r.forward(X), rtol=1e-6)

@pytest.mark.parametrize("what", ["dx", "dW", "db"])
def test_linear_backward(mlp, what):
    s, r = pair(mlp)
    s.forward(X); r.forward(X)
    dx_s, dx_r = s.backward(G), r.backward(G)
    got, want = {"dx": (dx_s, dx_r), "dW": (s.dW, r.dW), "db": (s.db, r.db)}[what]
    np.testing.assert_allclose(got, want, rtol=1e-6)

def test_linear_parameters(mlp):
    s, _ = pair(mlp)
    assert len(s.parameters()) == 2

@pytest.mark.parametrize("name", ["Sigmoid", "ReLU", "Tanh"])
@pytest.mark.parametrize("part", ["forward", "backward"])
def test_activation(mlp, name, part):
    s, r = getattr(mlp, name)(), getattr(ref, name)()
    out_s, out_r = s.forward(X), r.forward(X)
    if part == "forward":
        np.testing.assert_allclose(out_s, out_r, rtol=1e-6)
    else:
        np.testing.assert_allclose(s.backward(X), r.backward(X), rtol=1e-6)

def test_softmax_values(mlp):
    np.testing.assert_allclose(mlp.softmax(X), ref.softmax(X), rtol=1e-6)

def test_softmax_stability(mlp):
    big = X * 1e4
    np.testing.assert_allclose(mlp.softmax(big), ref.softmax(big), rtol=1e-6)

@pytest.mark.parametrize("name", ["MSELoss", "CrossEntropyLoss"])
@pytest.mark.parametrize("part", ["value", "gradient"])
def test_loss(mlp, name, part):
    s, r = getattr(mlp, name)(), getattr(ref, name)()
    target = rng.integers(0, 4, 6) if name == "CrossEntropyLoss" else rng.normal(size=(6, 4))
    value_s, value_r = s.forward(X, target), r.forward(X, target)
    if part == "value":
        assert abs(value_s - value_r) < 1e-6
    else:
        np.testing.assert_allclose(s.backward(), r.backward(), rtol=1e-6)

@pytest.mark.parametrize("name", ["SGD", "Momentum", "Adagrad", "Adam"])
def test_optimizer(mlp, name):
    s, r = pair(mlp)
    opt_s, opt_r = getattr(mlp, name)([s], lr=0.1), getattr(ref, name)([r], lr=0.1)
    for _ in range(3):
        for layer in (s, r):
            layer.forward(X); layer.backward(G)
        opt_s.step(); opt_r.step()
    np.testing.assert_allclose(s.W, r.W, rtol=1e-6)

def test_zero_grad(mlp):
    s, _ = pair(mlp)
    s.forward(X); s.backward(G)
    mlp.SGD([s], lr=0.1).zero_grad()
    assert not s.dW.any()
'''

PEER_TESTS_A4 = '''
import importlib.util, os
import pytest
import torch
from torch import nn

def _load(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module

ref = _load("reference_lenet", os.environ["REFERENCE"])

@pytest.fixture(scope="module")
def lenet():
    return _load("student_lenet", os.path.join(os.environ["SUBMISSION"], "lenet.py"))

VARIANTS = [{}, {"batch_norm": True, "dropout": 0.3}]

def kinds(model):
    return [type(m).__name__ for m in model.modules() if not isinstance(m, (nn.Sequential, nn.Identity))][1:]

@pytest.mark.parametrize("options", VARIANTS)
def test_layers_in_order(lenet, options):
    assert kinds(lenet.LeNet(**options)) == kinds(ref.LeNet(**options))

@pytest.mark.parametrize("options", VARIANTS)
def test_parameter_counts(lenet, options):
    count = lambda m: sum(p.numel() for p in m.parameters())
    assert count(lenet.LeNet(**options)) == count(ref.LeNet(**options))

@pytest.mark.parametrize("n", [1, 7])
def test_output_shape(lenet, n):
    assert lenet.LeNet().eval()(torch.randn(n, 3, 32, 32)).shape == (n, 10)

def test_logits_not_probabilities(lenet):
    out = lenet.LeNet().eval()(torch.randn(5, 3, 32, 32))
    assert not torch.allclose(out.sum(1), torch.ones(5))

def test_train_and_eval(lenet):
    model = lenet.LeNet(batch_norm=True, dropout=0.3)
    x = torch.randn(4, 3, 32, 32)
    model.eval()
    assert torch.equal(model(x), model(x))
    model.train()
    assert not torch.equal(model(x), model(x))
'''

CONFIGS = {
    # assignment: (file, tasks, peer tests, sources cycled through the class: correct, buggy, hostile)
    "a1": ("mlp.py", ("1.1", "1.2", "1.3", "1.4", "1.5"), PEER_TESTS,
           ("reference/a1/mlp.py", "examples/a1/dw_divided_by_in_features/mlp.py", "reference/a1/mlp.py",
            "examples/a1/common_mistakes/mlp.py", "exit:reference/a1/mlp.py")),
    "a4": ("lenet.py", ("4.1",), PEER_TESTS_A4,
           ("reference/a4/lenet.py", "examples/a4/bn_before_pool_dropout_05/lenet.py", "reference/a4/lenet.py",
            "examples/a4/cpu_tensor_and_softmax/lenet.py", "exit:reference/a4/lenet.py")),
}


def make_class(folder: Path, students: int, assignment: str) -> list[bool]:
    """Correct, buggy and hostile (exits at import) folders, cycled; returns which ones are correct."""
    file, _, _, sources = CONFIGS[assignment]
    correct = []
    for i in range(students):
        source = sources[i % len(sources)]
        text = (ROOT / source.removeprefix("exit:")).read_text()
        if source.startswith("exit:"):  # after the __future__ import, which must stay first, or it is a SyntaxError
            future = "from __future__ import annotations\n"
            head, found, tail = text.partition(future)
            text = head + found + "import sys\nsys.exit(3)\n" + tail if found else "import sys\nsys.exit(3)\n" + text
        (folder / f"s{i:03d}").mkdir(parents=True)
        (folder / f"s{i:03d}" / file).write_text(text)
        correct.append(source.startswith("reference/"))
    return correct


def timed(fn) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=40)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--assignment", choices=sorted(CONFIGS), default="a1",
                        help="a1 (tasks 1.1-1.5) or a4 (the structure checks, task 4.1; needs torch)")
    parser.add_argument("--pairs", type=int, default=1, help="runs of each side, in alternating order")
    args = parser.parse_args()
    file, tasks, peer_tests, sources = CONFIGS[args.assignment]
    work = Path(tempfile.mkdtemp(prefix="dlgrade-bench-"))
    try:
        correct = make_class(work / "class", args.students, args.assignment)
        peer = work / f"test_peer_{args.assignment}.py"
        peer.write_text(peer_tests)
        (work / "empty").mkdir()
        (work / "empty" / "test_empty.py").write_text("def test_nothing():\n    pass\n")
        env = {**os.environ, "REFERENCE": str(ROOT / sources[0])}
        pytest_cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-x", "--no-header"]

        def peer_one(folder: Path) -> int:
            return subprocess.run([*pytest_cmd, str(peer)], env={**env, "SUBMISSION": str(folder)}, cwd=work,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=600).returncode

        peer_codes: list[int] = []

        def peer_all() -> None:
            peer_codes.clear()
            with ThreadPoolExecutor(args.jobs) as pool:
                peer_codes.extend(pool.map(peer_one, sorted((work / "class").iterdir())))

        def dlgrade_all() -> None:
            book = work / "gb.sqlite"
            for stale in work.glob("gb.sqlite*"):  # each run grades everyone (a rerun would skip them all)
                stale.unlink()
            command = [sys.executable, "-m", "grader.cli", "grade", args.assignment, str(work / "class"), "--jobs",
                       str(args.jobs), "--gradebook", str(book), "--seed", "1"]
            for task in tasks:
                command += ["--task", task]
            done = subprocess.run(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            if done.returncode not in (0, 1):
                raise SystemExit(f"dlgrade grade failed: {done.stderr[-2000:]}")

        startup = min(timed(lambda: subprocess.run([*pytest_cmd, str(work / "empty")], cwd=work,
                                                   stdout=subprocess.DEVNULL)) for _ in range(3))
        walls: dict[str, list[float]] = {"dlgrade": [], "peer": []}
        for i in range(max(1, args.pairs)):
            sides = (("dlgrade", dlgrade_all), ("peer", peer_all))
            for name, run in (sides if i % 2 == 0 else sides[::-1]):
                walls[name].append(timed(run))
        ours, theirs = statistics.median(walls["dlgrade"]), statistics.median(walls["peer"])
        per = lambda wall: wall * args.jobs / args.students * 1000  # noqa: E731
        print(f"machine: {platform.node()} {platform.machine()}, {os.cpu_count()} cores, Python "
              f"{platform.python_version()}; {args.students} {args.assignment} submissions, tasks {', '.join(tasks)}, "
              f"{args.jobs} at a time; {len(walls['dlgrade'])} run(s) of each side")
        median = " (median)" if args.pairs > 1 else ""
        print(f"dlgrade grade --jobs {args.jobs}:        {ours:7.2f} s{median}   {per(ours):7.0f} ms per submission")
        print(f"pytest per submission x{args.jobs}:     {theirs:7.2f} s{median}   {per(theirs):7.0f} ms per submission "
              f"(of which python -m pytest start-up alone: {startup * 1000:.0f} ms)")
        print(f"ratio (peer / dlgrade): {theirs / ours:.2f}x")
        if args.pairs > 1:
            ratios = [p / d for d, p in zip(walls["dlgrade"], walls["peer"])]
            print(f"per pair: dlgrade {', '.join(f'{w:.2f}' for w in walls['dlgrade'])} s; peer "
                  f"{', '.join(f'{w:.2f}' for w in walls['peer'])} s; ratios {', '.join(f'{r:.2f}' for r in ratios)} "
                  f"(median {statistics.median(ratios):.2f}x)")
        db = sqlite3.connect(work / "gb.sqlite")
        full = db.execute("SELECT COUNT(*) FROM submissions WHERE score = max_score").fetchone()[0]
        graded = [json.loads(r)["diagnostics"]["duration_s"] for (r,) in db.execute("SELECT report FROM submissions")]
        db.close()
        if graded:  # where dlgrade's wall time goes: start-up, or grading the submissions (its last run)
            busy, last = sum(graded) / args.jobs, walls["dlgrade"][-1]
            print(f"dlgrade split (last run, {last:.2f} s): grading {statistics.median(graded) * 1000:.0f} ms per "
                  f"submission in its worker (median; {args.jobs} side by side), {busy:.2f} s of the wall time; the "
                  f"other {last - busy:.2f} s is start-up (the CLI, the shared zygote, the forkserver and its "
                  f"{args.jobs} workers) and scheduling")
        print(f"sanity: all checks passed for {full} submissions in dlgrade, {peer_codes.count(0)} in the peer "
              f"(the correct ones: {sum(correct)})")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

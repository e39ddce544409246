"""a4's structure checks run side by side: under a fixed seed the report is the same whatever the parallelism.

The parent's reference forwards seed torch's global generator (for dropout) and
share one reference LeNet per configuration, so two checks running at once
could otherwise load each other's weights or consume each other's dropout
draws. ``model.FORWARD_LOCK`` serialises them; these tests hold it to that.
"""

from __future__ import annotations

import threading

import numpy as np
import pytest

from tests.conftest import ROOT, failing

torch = pytest.importorskip("torch")

from grader.assignments.a4 import model as ref  # noqa: E402
from grader.assignments.a4.spec import A4  # noqa: E402
from tests.assignments.a4_bugs import fixtures  # noqa: E402
from tests.assignments.a4_bugs.catalogue import BUGS  # noqa: E402

torch_zygote, grade4 = fixtures.torch_zygote, fixtures.grade4

# A passing model, and failing ones whose verdicts come from dropout draws, batch statistics, variants and frames.
SUBMISSIONS = {
    "reference": ROOT / "reference" / "a4",
    "bn before pool, dropout 0.5": ROOT / "examples" / "a4" / "bn_before_pool_dropout_05",
    "cpu tensor and softmax": ROOT / "examples" / "a4" / "cpu_tensor_and_softmax",
    "dropout only after fc1": {"lenet.py": BUGS["dropout only after fc1"][0]},
}


def _verdicts(report) -> list[tuple]:
    return [(c.id, c.status, c.score, c.message, c.hint) for c in report.checks]


def test_a4_checks_may_run_side_by_side():
    assert A4.parallel_checks


@pytest.mark.parametrize("name", sorted(SUBMISSIONS))
def test_jobs_do_not_change_the_report(grade4, name):
    one = grade4(SUBMISSIONS[name], tasks=["4.1"], seed=11, jobs=1)
    two = grade4(SUBMISSIONS[name], tasks=["4.1"], seed=11, jobs=2)
    assert two.diagnostics["jobs"] == 2
    assert _verdicts(one) == _verdicts(two)
    assert (failing(one) == set()) == (name == "reference")


def _weights(kwargs: dict, seed: int) -> dict:
    """Random weights for the reference LeNet of ``kwargs`` (the parent's own draw, as in a check)."""
    claimed = {name: tensor.double().numpy() for name, tensor in
               ref.oracle.reference_class("a4", "lenet", "LeNet")(**kwargs).state_dict().items()}
    params = tuple(n for n in claimed if not n.endswith(("running_mean", "running_var", "num_batches_tracked")))
    matched = ref.match(ref.Claimed(claimed, params), kwargs)
    return ref.fresh_weights(matched, np.random.default_rng(seed))[0]


def test_concurrent_reference_forwards_equal_serial_ones():
    """Threads that load different weights into the same cached model and draw dropout masks get serial results."""
    kwargs = {"batch_norm": True, "dropout": 0.3}
    rng = np.random.default_rng(0)
    cases = [(_weights(kwargs, i), rng.standard_normal((7, 3, 32, 32)).astype(np.float32), bool(i % 2), 100 + i)
             for i in range(6)]
    variant = next(v for v in ref.VARIANTS if v.dropout == ("p", 0))
    serial = [(ref.reference_outputs(kwargs, *case), ref.variant_outputs(variant, kwargs, *case)) for case in cases]
    mismatches = []

    def hammer(index: int) -> None:
        for _ in range(15):
            got = (ref.reference_outputs(kwargs, *cases[index]), ref.variant_outputs(variant, kwargs, *cases[index]))
            if not all(np.array_equal(g, s) for g, s in zip(got, serial[index])):
                mismatches.append(index)

    threads = [threading.Thread(target=hammer, args=(i,)) for i in range(len(cases))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert mismatches == []
    assert not np.array_equal(serial[1][0], ref.reference_outputs(kwargs, *cases[1][:3], 999))  # the seed matters


def test_dlgrade_grade_jobs_do_not_change_the_reports(tmp_path):
    """`dlgrade grade --jobs 1` and `--jobs 2` (workers, each running checks side by side) agree under a seed."""
    import shutil

    from grader.batch.api import grade_class

    folder = tmp_path / "class"
    for i, name in enumerate(("reference", "bn before pool, dropout 0.5", "cpu tensor and softmax")):
        (folder / f"s{i}").mkdir(parents=True)
        shutil.copy(SUBMISSIONS[name] / "lenet.py", folder / f"s{i}" / "lenet.py")
    runs = [grade_class("a4", folder, gradebook=tmp_path / f"jobs{jobs}.sqlite", jobs=jobs, seed=5, tasks=["4.1"])
            for jobs in (1, 2)]
    assert not runs[0].errors and not runs[1].errors
    verdicts = [{student: _verdicts(report) for student, report in run.graded.items()} for run in runs]
    assert verdicts[0] == verdicts[1] and len(verdicts[0]) == 3
    assert failing(runs[0].graded["s0"]) == set() and failing(runs[0].graded["s1"]) and failing(runs[0].graded["s2"])

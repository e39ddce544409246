"""a3's speed check gives the same verdict idle and under load (grader.checks.timing, grader/assignments/a3/speed.py).

The reference passes beside two busy processes; the plain loop version fails idle and beside
them, under several seeds; a submission that is fast but wrong on a repeated timed call fails.
"""

from __future__ import annotations

import inspect
from types import SimpleNamespace

import pytest

from grader.assignments.a3 import speed
from reference.a3 import conv_loops
from tests.checks.test_timing import busy
from tests.conftest import ROOT, by_id

CONV = (ROOT / "reference" / "a3" / "conv.py").read_text()
LOOPS = ROOT / "examples" / "a3" / "loops_correct_but_slow"


def test_the_reference_passes_beside_two_busy_processes(grade):
    with busy(2):
        check = by_id(grade("a3", {"conv.py": CONV}, tasks=["conv_speed"], seed=3))["conv_speed"]
    assert check.status == "passed", (check.message, check.details)
    timing = check.details["timing"]
    assert timing["ratio"] < speed.LIMIT / 10 and timing["exclusive"] == "yes"
    assert timing["cpu_time_from"] in ("cgroup", "processes")


def test_a_later_timed_call_must_be_right_too():
    """Every repetition's results are checked: a wrong later one fails the check, however fast it was."""
    import numpy as np

    from grader.assignment import CheckFailed
    from grader.assignments.a3.convolution import _verify_timed, ref

    rng = np.random.default_rng(1)
    x, w, b = rng.standard_normal((14, 3, 30, 30)), rng.standard_normal((8, 3, 3, 3)), rng.standard_normal(8)
    G = rng.standard_normal((14, 8, 30, 30))
    right = (ref.conv2d_forward(x, w, b, padding=1), ref.conv2d_backward(G, x, w, b, padding=1))
    verify = _verify_timed(SimpleNamespace(failed_components=()), None, rng, {"stride": 1, "padding": 1})
    verify((1, x, w, b, G), right)
    with pytest.raises(CheckFailed, match="sampled positions"):
        verify((1, x, w, b, G), (right[0] * 0, right[1]))


def test_the_sampled_check_of_later_calls_finds_each_wrong_part():
    import numpy as np

    from grader.assignments.a3.convolution import ref

    rng = np.random.default_rng(0)
    x, w, b = rng.standard_normal((3, 2, 6, 5)), rng.standard_normal((4, 2, 3, 3)), rng.standard_normal(4)
    G = rng.standard_normal((3, 4, 6, 5))
    parts = [ref.conv2d_forward(x, w, b, padding=1), *ref.conv2d_backward(G, x, w, b, padding=1)]
    assert speed.sampled_parts(x, w, b, G, 1, parts, rng) == [True] * 4
    for index in range(4):
        wrong = list(parts)
        wrong[index] = wrong[index] * 1.01
        assert speed.sampled_parts(x, w, b, G, 1, wrong, rng) == [i != index for i in range(4)]


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2])
def test_the_plain_loop_version_fails_idle_and_beside_two_busy_processes(grade, seed):
    idle = by_id(grade("a3", LOOPS, tasks=["conv_speed"], seed=seed))["conv_speed"]
    with busy(2):
        loaded = by_id(grade("a3", LOOPS, tasks=["conv_speed"], seed=seed + 10))["conv_speed"]
    for check in (idle, loaded):
        assert check.status in ("failed", "timeout") and check.score == 0, (check.message, check.details)
        assert "Vectorize" in check.hint


PIXEL_LOOPS = CONV + "\n\n" + inspect.getsource(conv_loops.conv2d_forward)  # a loop over output pixels
HOG = CONV + '''
import os
import time

for _ in range(2):  # every core, for as long as each of its sessions lasts
    if os.fork() == 0:
        os.setsid()
        while True:
            pass
time.sleep(4)  # and each of its sessions lasts
'''


@pytest.mark.slow
def test_a_class_beside_a_hog_gets_the_speed_verdicts_each_student_gets_alone(tmp_path, zygote):
    from grader import api
    from grader.batch.api import grade_class

    root = tmp_path / "class"
    sources = {"ref1": CONV, "ref2": CONV, "pixels": PIXEL_LOOPS, "hog": HOG,
               "loops": (LOOPS / "conv.py").read_text()}
    for student, source in sources.items():
        (root / student).mkdir(parents=True)
        (root / student / "conv.py").write_text(source)
    with busy(2):
        result = grade_class("a3", root, gradebook=tmp_path / "gb.sqlite", jobs=2, tasks=["conv_speed"], seed=5)
    for student in ("ref1", "ref2", "pixels", "loops"):
        batch = by_id(result.graded[student])["conv_speed"]
        alone = by_id(api.check("a3", root / student, tasks=["conv_speed"], seed=5, zygote=zygote))["conv_speed"]
        assert (batch.status, batch.score) == (alone.status, alone.score), (student, batch.message, alone.message)
        assert (batch.status == "passed") is (student != "loops"), (student, batch.message)

"""Record calls to a stand-in module, replay them from the saved tapes, and refuse what was not recorded."""

from __future__ import annotations

import types

import numpy as np
import pytest

from grader import oracle
from grader.oracle import Unrecorded
from grader.packaging import proxy


class Counter:
    """A stateful reference class: the answer depends on the calls made before."""

    def __init__(self, start):
        self.total = np.asarray(start, dtype=float)

    def add(self, x):
        self.total = self.total + x
        return self.total.copy()


def scale(x, factor=2.0):
    return x * factor


def fill(ctx: dict, x):
    ctx["saved"] = x * 3
    return None


def make_module():
    module = types.ModuleType("reference.zz.fake")
    Counter.__module__ = scale.__module__ = fill.__module__ = module.__name__
    module.Counter, module.scale, module.fill = Counter, scale, fill
    return module


def calls(ref, x):
    counter = ref.Counter(x)
    first, second = counter.add(x), counter.add(1.0)
    ctx: dict = {}
    ref.fill(ctx, x)
    return ref.scale(x, factor=3.0), first, second, counter.total, ctx["saved"]


def test_replay_answers_recorded_calls_and_hides_the_rest(tmp_path):
    real = make_module()
    recorder = proxy.RecordBackend()
    recording = proxy.oracle_module("zz", "fake", recorder, None, real)
    x = np.arange(6.0).reshape(2, 3)
    with oracle.session("zz", "check", 1):
        expected = calls(recording, x)
    recorder.save(tmp_path)
    replay = proxy.oracle_module("zz", "fake", proxy.ReplayBackend(tmp_path), proxy.module_kinds(real))
    with oracle.session("zz", "check", 1):
        got = calls(replay, x)
        for g, e in zip(got, expected):
            np.testing.assert_array_equal(g, e)
        with pytest.raises(Unrecorded):  # other inputs than the recorded ones: hidden, never a wrong answer
            replay.scale(x + 1)
        with pytest.raises(Unrecorded):  # a parent-side object cannot be recorded
            replay.scale(object())

        class Mistaken(replay.Counter):  # subclassing works at import time, but cannot be replayed
            pass

        with pytest.raises(Unrecorded):
            Mistaken(x)
    with oracle.session("zz", "check", 2), pytest.raises(Unrecorded):  # another seed has its own tape
        replay.scale(x, factor=3.0)


def test_the_same_call_twice_with_different_answers_is_not_replayed(tmp_path):
    real = make_module()
    recorder = proxy.RecordBackend()
    recording = proxy.oracle_module("zz", "fake", recorder, None, real)
    with oracle.session("zz", "check", 1):
        counter = recording.Counter(1.0)
        counter.add(1.0)
        assert recording.scale(np.ones(2)).tolist() == [2.0, 2.0]
        real.scale = lambda x, factor=2.0: x * 5  # the same key now answers differently: ambiguous
        Counter.__module__ = real.__name__
        recording.scale(np.ones(2))
    recorder.save(tmp_path)
    replay = proxy.oracle_module("zz", "fake", proxy.ReplayBackend(tmp_path), proxy.module_kinds(real))
    with oracle.session("zz", "check", 1), pytest.raises(Unrecorded):
        replay.scale(np.ones(2))


def test_scalars_and_zero_d_arrays_keep_their_shape():
    from grader.packaging.tape import Tape

    tape = Tape()
    values = [np.float64(2.5), np.array(3.0), np.zeros((2, 0)), (1, [2.0, None], {"a": np.int64(4)}), 2**60,
              float("nan")]
    for i, value in enumerate(values):
        tape.put(str(i), value)
    for i, value in enumerate(values):
        got = tape.get(str(i))
        assert type(got) is type(value), (value, got)
        if isinstance(value, (np.ndarray, np.generic)):
            assert got.shape == value.shape and got.dtype == value.dtype, (value, got)
    assert np.isnan(tape.get("5")) and tape.get("3") == (1, [2.0, None], {"a": 4})

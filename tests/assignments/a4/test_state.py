"""The state_dict crosses the wire as names, shapes and one flat array; the parent rebuilds and validates it."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from grader.assignment import CheckFailed  # noqa: E402
from grader.assignments.a4 import model as ref  # noqa: E402
from grader.assignments.a4.spec import A4  # noqa: E402


def _drivers():
    spec = importlib.util.spec_from_file_location("a4_drivers_under_test", A4.drivers)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_state_round_trip_is_exact():
    model = ref.oracle.reference_class("a4", "lenet", "LeNet")(batch_norm=True, dropout=0.3)
    claimed = ref.claimed_state(_drivers().state(model))
    want = model.state_dict()
    assert list(claimed.tensors) == list(want)
    for name, tensor in want.items():
        assert claimed.tensors[name].shape == tuple(tensor.shape)
        assert np.array_equal(claimed.tensors[name], tensor.double().numpy())
    assert claimed.parameter_count == 62050


def _state(**changes):
    good = {"names": ["a.weight", "a.bias"], "shapes": [[2, 3], [2]], "values": np.arange(8.0),
            "parameters": ["a.weight", "a.bias"]}
    return {**good, **changes}


@pytest.mark.parametrize("changes, gist", [
    ({"shapes": [[2, 3]]}, "do not pair up"),
    ({"shapes": [[2, 3], [3]]}, "account for 9 numbers, but 8"),
    ({"shapes": [[2, -3], [2]]}, "no valid shape"),
    ({"shapes": [[2, 3.0], [2]]}, "no valid shape"),
    ({"shapes": [[2, True], [2]]}, "no valid shape"),
    ({"shapes": [[10**9, 10**9], [2]]}, "no valid shape"),
    ({"shapes": [[4000, 4000], [4000, 4000]]}, "far more numbers"),
    ({"values": [0.0] * 8}, "not an array of numbers"),
    ({"values": np.array(["x"] * 8)}, "not an array of numbers"),
    ({"values": np.zeros((2, 4))}, "not an array of numbers"),
    ({"names": ["a.weight", "a.weight"]}, "twice"),
    ({"names": ["a.weight", 7]}, "do not pair up"),
])
def test_malformed_states_are_the_students_failure(changes, gist):
    with pytest.raises(CheckFailed) as failure:
        ref.claimed_state(_state(**changes))
    assert gist in failure.value.message


def test_a_well_formed_state_is_split_by_shape():
    claimed = ref.claimed_state(_state())
    assert claimed.tensors["a.weight"].tolist() == [[0, 1, 2], [3, 4, 5]]
    assert claimed.tensors["a.bias"].tolist() == [6, 7] and claimed.parameter_count == 8


def test_the_cached_reference_is_reloaded_after_a_training_forward():
    """The reference LeNet keeps its weights between runs of the same weights, but a training-mode forward moves
    its batch-norm statistics: the next run must see the weights as drawn, not the moved statistics."""
    kwargs = {"batch_norm": True}
    model = ref.oracle.reference_class("a4", "lenet", "LeNet")(**kwargs)
    claimed = ref.claimed_state(_drivers().state(model))
    weights, _ = ref.fresh_weights(ref.match(claimed, kwargs), np.random.default_rng(0))
    x = np.random.default_rng(1).standard_normal((7, 3, 32, 32)).astype(np.float32)
    before = ref.reference_outputs(kwargs, weights, x, False, 0)
    ref.reference_outputs(kwargs, weights, x * 3 + 1, True, 0)  # moves running_mean and running_var
    assert np.array_equal(ref.reference_outputs(kwargs, weights, x, False, 0), before)

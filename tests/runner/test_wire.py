"""The wire format accepts plain numeric data only, and rejects everything else cleanly."""

from __future__ import annotations

import io
import pickle
import socket

import numpy as np
import pytest

from grader.runner import wire


def roundtrip(value):
    arrays: list[bytes] = []
    data = wire.encode(value, arrays)
    return wire.decode(data, arrays)


def test_roundtrip_of_nested_values():
    value = {"a": [1, 2.5, None, True, "s"], "b": (np.arange(6.0).reshape(2, 3), np.int64(3)), "c": float("nan")}
    back = roundtrip(value)
    assert back["a"] == [1, 2.5, None, True, "s"]
    assert isinstance(back["b"], tuple) and np.array_equal(back["b"][0], value["b"][0]) and back["b"][1] == 3
    assert np.isnan(back["c"])


def test_zero_dimensional_arrays_keep_their_shape():
    assert roundtrip(np.asarray(np.float64(2.5))).shape == ()
    assert roundtrip(np.ones((0, 3))).shape == (0, 3)


def test_decoded_arrays_are_plain_writable_ndarrays():
    class Sub(np.ndarray):
        pass

    back = roundtrip(np.arange(4.0).view(Sub))
    assert type(back) is np.ndarray and back.flags.writeable
    back[0] = 7.0


def test_fortran_order_and_byte_order_survive():
    a = np.asfortranarray(np.arange(12, dtype=">f8").reshape(3, 4))
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, a)
    back = wire.npy_to_array(buffer.getvalue())
    assert np.array_equal(back, a) and back.dtype.isnative


@pytest.mark.parametrize("array", [np.array([object()], dtype=object), np.zeros(2, dtype=[("a", "f8")]),
                                   np.array(["text"])])
def test_non_numeric_arrays_cannot_be_sent(array):
    with pytest.raises(TypeError):
        wire.encode(array, [])


def test_pickled_npy_is_rejected():
    buffer = io.BytesIO()
    np.save(buffer, np.array([{"evil": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(wire.WireError, match="not accepted"):
        wire.npy_to_array(buffer.getvalue())


@pytest.mark.parametrize("blob", [b"", b"PICKLE" + pickle.dumps(1), b"\x93NUMPY\x01\x00\x10\x00{'descr': '<f8'",
                                  b"\x93NUMPY\x09\x00" + b"x" * 20])
def test_malformed_npy_is_rejected(blob):
    with pytest.raises(wire.WireError):
        wire.npy_to_array(blob)


def test_payload_size_must_match_header():
    blob = wire.array_to_npy(np.arange(4.0))
    with pytest.raises(wire.WireError, match="size"):
        wire.npy_to_array(blob[:-8])


def test_unknown_tags_and_deep_nesting_are_rejected():
    with pytest.raises(wire.WireError):
        wire.decode({"__evil__": 1}, [])
    deep = current = []
    for _ in range(wire.MAX_DEPTH + 5):
        current.append([])
        current = current[0]
    with pytest.raises(wire.WireError):
        wire.decode(deep, [])


def test_rng_tags_are_only_honoured_by_the_worker():
    with pytest.raises(wire.WireError):
        wire.decode({"__rng__": 3}, [])  # the parent never builds objects from messages
    assert isinstance(wire.decode({"__rng__": 3}, [], from_handle=lambda h: h), np.random.Generator)


def test_oversized_header_is_rejected_before_reading_it():
    a, b = socket.socketpair()
    a.sendall(wire._LEN.pack(wire.MAX_HEADER_BYTES + 1))
    with pytest.raises(wire.WireError, match="over the limit"):
        wire.recv_message(b)
    a.close()
    b.close()


def test_messages_round_trip_over_a_socket():
    a, b = socket.socketpair()
    arrays: list[bytes] = []
    payload = wire.encode([np.eye(3), {"k": 2}], arrays)
    wire.send_message(a, {"op": "x", "args": payload}, arrays)
    header, blobs = wire.recv_message(b)
    value = wire.decode(header["args"], blobs)
    assert np.array_equal(value[0], np.eye(3)) and value[1] == {"k": 2}

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


# ------------------------------------------------------------ hostile values (issue 9)


def npy_with_header(header: str, payload: bytes = b"") -> bytes:
    text = header.encode("latin1")
    return b"\x93NUMPY\x01\x00" + len(text).to_bytes(2, "little") + text + payload


@pytest.mark.parametrize("value", [2**64, -(2**63) - 1, 2**70, 10**1000])
def test_integers_beyond_64_bits_are_a_wire_error(value):
    with pytest.raises(wire.WireError, match="beyond 64 bits"):
        wire.decode(value, [])
    with pytest.raises(wire.WireError):
        wire.decode({"__tuple__": [1, [value]]}, [])


def test_64_bit_edges_still_decode():
    assert wire.decode([2**64 - 1, -(2**63)], []) == [2**64 - 1, -(2**63)]


@pytest.mark.parametrize("shape", ["(0, 2**70)", "(2**40, 2**40, 0)", "(10**30,)", "(-1,)", "(1.5,)", "((),)"])
def test_absurd_npy_shapes_are_refused_before_allocating(shape):
    blob = npy_with_header(f"{{'descr': '<f8', 'fortran_order': False, 'shape': {shape}, }}")
    with pytest.raises(wire.WireError):
        wire.npy_to_array(blob)


def test_npy_size_must_match_the_bytes_present():
    blob = npy_with_header("{'descr': '<f8', 'fortran_order': False, 'shape': (100000, 100000), }", b"\0" * 8)
    with pytest.raises(wire.WireError, match="does not match"):
        wire.npy_to_array(blob)


@pytest.mark.parametrize("descr", ["'<f3'", "'i99999999999999999999'", "[('a', '<f8')]", "'O'", "7"])
def test_bad_dtypes_are_a_wire_error(descr):
    blob = npy_with_header(f"{{'descr': {descr}, 'fortran_order': False, 'shape': (1,), }}", b"\0" * 8)
    with pytest.raises(wire.WireError):
        wire.npy_to_array(blob)


@pytest.mark.parametrize("data", [{"__handle__": float("inf")}, {"__handle__": "7"}, {"__handle__": [1]},
                                  {"__handle__": 2**80}, {"__tuple__": 5}, {"__nd__": True}, {"__map__": []},
                                  {"__rng__": 1}])
def test_forged_tagged_values_are_a_wire_error(data):
    with pytest.raises(wire.WireError):
        wire.decode(data, [])


def test_deep_nesting_is_a_wire_error():
    data: list = []
    for _ in range(10_000):
        data = [data]
    with pytest.raises(wire.WireError, match="nested"):
        wire.decode(data, [])


def test_sanitize_error_keeps_only_plain_bounded_fields():
    forged = {"type": ["Attr", "Error"], "message": {"a": 1}, "where": 12, "line": 3.5, "student_frames": "0",
              "missing": None, "forbidden": ["os", 7, "x" * 1000], "extra": "y" * 100_000, "big": 2**100,
              ("tuple",): 1, "k" * 100: "long key"}
    clean = wire.sanitize_error(forged)
    assert clean["type"] == "Exception" and clean["message"] == ""
    assert "where" not in clean and "line" not in clean and "student_frames" not in clean and "big" not in clean
    assert clean["forbidden"] == ["os", "x" * 100]
    assert len(clean["extra"]) == wire.MAX_ERROR_TEXT
    assert all(isinstance(k, str) and len(k) <= 64 for k in clean)
    assert all(v is None or isinstance(v, (str, int, bool, list)) for v in clean.values())
    assert wire.sanitize_error("not a dict") == {"type": "Exception", "message": ""}
    assert len(wire.sanitize_error({f"k{i}": i for i in range(10_000)})) <= wire.MAX_ERROR_FIELDS + 2


def test_forged_error_record_is_described_not_crashed():
    from grader.engine import describe_student_error
    from grader.runner.remote import StudentCodeError

    forged = {"type": {"x": 1}, "message": ["m"], "where": 5, "line": 7, "forbidden": "os"}
    status, message, _ = describe_student_error(StudentCodeError("mlp.softmax(...)", forged))
    assert status == "error" and message.startswith("mlp.softmax(...) raised Exception")

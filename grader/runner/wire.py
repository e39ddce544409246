"""Frame and encode the messages that cross the sandbox boundary.

Both sides import this module: the trusted parent as ``grader.runner.wire`` and
the worker by path (it must import nothing but the standard library and NumPy).
A message is a JSON header followed by zero or more ``.npy`` array frames. No
pickle is ever involved: arrays are decoded by parsing the ``.npy`` header
ourselves and accepting only plain numeric dtypes, and JSON values carry only
a handful of tagged shapes (tuple, map, array, handle).

Decoding is written for hostile input on the parent side: every size, depth and
dtype is checked before any buffer is interpreted.
"""

from __future__ import annotations

import ast
import io
import json
import math
import socket
import struct

import numpy as np

MAX_HEADER_BYTES = 8 * 1024 * 1024
MAX_ARRAY_BYTES = 256 * 1024 * 1024
MAX_ARRAYS = 4096
MAX_DEPTH = 64
INT_MIN, INT_MAX = -(2**63), 2**64 - 1  # what NumPy can hold: int64 and uint64
MAX_ERROR_TEXT = 4000
MAX_ERROR_FIELDS = 32
NUMERIC_KINDS = frozenset("biuf")
_LEN = struct.Struct("!Q")


class WireError(Exception):
    """The other side sent something that is not a valid message."""


# --------------------------------------------------------------------- framing


def _recv_exact(sock: socket.socket, n: int) -> bytes:
    chunks = bytearray()
    while len(chunks) < n:
        chunk = sock.recv(min(n - len(chunks), 1 << 20))
        if not chunk:
            raise EOFError("connection closed")
        chunks += chunk
    return bytes(chunks)


def send_message(sock: socket.socket, header: dict, arrays: list[bytes] = ()) -> None:
    """Send one JSON header and its array frames."""
    header = dict(header, n_arrays=len(arrays))
    body = json.dumps(header, allow_nan=True).encode()
    parts = [_LEN.pack(len(body)), body]
    for blob in arrays:
        parts += [_LEN.pack(len(blob)), blob]
    sock.sendall(b"".join(parts))


def recv_message(sock: socket.socket) -> tuple[dict, list[bytes]]:
    """Receive one message; raise ``WireError`` if it breaks any limit."""
    (size,) = _LEN.unpack(_recv_exact(sock, _LEN.size))
    if size > MAX_HEADER_BYTES:
        raise WireError(f"message header of {size} bytes is over the limit")
    try:
        header = json.loads(_recv_exact(sock, size))
    except (ValueError, RecursionError) as exc:
        raise WireError(f"message header is not valid JSON: {exc}") from None
    if not isinstance(header, dict):
        raise WireError("message header is not a JSON object")
    n_arrays = header.get("n_arrays", 0)
    if not isinstance(n_arrays, int) or not 0 <= n_arrays <= MAX_ARRAYS:
        raise WireError("bad array count")
    blobs, total = [], 0
    for _ in range(n_arrays):
        (size,) = _LEN.unpack(_recv_exact(sock, _LEN.size))
        total += size
        if total > MAX_ARRAY_BYTES:
            raise WireError(f"arrays total more than {MAX_ARRAY_BYTES >> 20} MiB")
        blobs.append(_recv_exact(sock, size))
    return header, blobs


# ---------------------------------------------------------------------- arrays


def array_to_npy(array: np.ndarray) -> bytes:
    """Serialize a numeric array as ``.npy`` bytes (never with pickle)."""
    array = np.asarray(array)
    if array.dtype.kind not in NUMERIC_KINDS or array.dtype.fields is not None:
        raise TypeError(f"cannot send an array of dtype {array.dtype}")
    buffer = io.BytesIO()
    plain = array.view(np.ndarray)  # a subclass's data, without its behaviour
    np.lib.format.write_array(buffer, plain if plain.flags.c_contiguous else plain.copy(order="C"), allow_pickle=False)
    return buffer.getvalue()


def npy_to_array(blob: bytes) -> np.ndarray:
    """Parse ``.npy`` bytes into a fresh, writable, plain ``ndarray``.

    The header is parsed with ``ast.literal_eval`` on a bounded string and the
    dtype must be a plain numeric one, so nothing in the bytes can make us
    build an object array or run code.
    """
    if not blob.startswith(b"\x93NUMPY") or len(blob) < 10:
        raise WireError("array frame is not in .npy format")
    major = blob[6]
    if major == 1:
        (hlen,) = struct.unpack("<H", blob[8:10])
        start = 10
    elif major in (2, 3):
        (hlen,) = struct.unpack("<I", blob[8:12])
        start = 12
    else:
        raise WireError(f"unknown .npy version {major}")
    if hlen > 4096:
        raise WireError(".npy header too long")
    try:
        meta = ast.literal_eval(blob[start : start + hlen].decode("latin1"))
        descr, fortran, shape = meta["descr"], meta["fortran_order"], meta["shape"]
    except Exception:
        raise WireError("malformed .npy header") from None
    if not isinstance(descr, str) or not isinstance(fortran, bool) or not isinstance(shape, tuple):
        raise WireError("malformed .npy header")
    if len(shape) > 32 or not all(type(d) is int and 0 <= d <= MAX_ARRAY_BYTES for d in shape):
        raise WireError("malformed .npy shape")
    try:
        dtype = np.dtype(descr)
    except Exception:
        raise WireError(f"unknown dtype {descr[:40]!r}") from None
    if dtype.kind not in NUMERIC_KINDS or dtype.fields is not None or dtype.subdtype is not None:
        raise WireError(f"arrays of dtype {dtype} are not accepted (numbers only)")
    count = math.prod(shape)  # exact (Python ints), compared with the bytes present before anything is allocated
    payload = memoryview(blob)[start + hlen :]
    if count * dtype.itemsize != len(payload):
        raise WireError("array payload size does not match its header")
    try:
        flat = np.frombuffer(payload, dtype=dtype, count=count)
        return np.array(flat.reshape(shape, order="F" if fortran else "C"), dtype=dtype.newbyteorder("="))
    except (ValueError, TypeError, OverflowError, MemoryError) as exc:
        raise WireError(f"array frame cannot be read ({type(exc).__name__})") from None


# ---------------------------------------------------------------------- values


class Handle:
    """An object that lives in the worker, known to the parent by number."""

    __slots__ = ("id", "type_name")

    def __init__(self, id: int, type_name: str):
        self.id, self.type_name = id, type_name

    def __repr__(self) -> str:
        return f"<remote {self.type_name} #{self.id}>"


class RngSeed:
    """Asks the worker to pass ``np.random.default_rng(seed)`` as an argument."""

    __slots__ = ("seed",)

    def __init__(self, seed: int):
        self.seed = int(seed)


def encode(value, arrays: list[bytes], to_handle=None, depth: int = 0):
    """Turn a value into JSON-able data, appending array frames to ``arrays``.

    ``to_handle`` (worker side only) turns any other object into a handle.
    """
    if depth > MAX_DEPTH:
        raise TypeError("value is nested too deeply")
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, (int, np.integer)) and not isinstance(value, np.bool_):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value)
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.ndarray):
        if value.dtype.kind in NUMERIC_KINDS and value.dtype.fields is None:
            arrays.append(array_to_npy(value))
            return {"__nd__": len(arrays) - 1}
    if isinstance(value, Handle):
        return {"__handle__": value.id, "type": value.type_name}
    if isinstance(value, RngSeed):
        return {"__rng__": value.seed}
    if type(value) in (list, tuple):
        items = [encode(v, arrays, to_handle, depth + 1) for v in value]
        return items if type(value) is list else {"__tuple__": items}
    if type(value) is dict and all(type(k) is str for k in value):
        return {"__map__": {k: encode(v, arrays, to_handle, depth + 1) for k, v in value.items()}}
    if to_handle is not None:
        return to_handle(value)
    raise TypeError(f"cannot send a value of type {type(value).__name__}")


def decode(data, arrays: list[bytes], from_handle=None, depth: int = 0):
    """Inverse of ``encode``; ``from_handle`` resolves handles (worker side).

    Raises ``WireError`` (never another exception) for anything ``encode`` would
    not have produced, and for integers beyond 64 bits, which no check can compare.
    """
    if depth > MAX_DEPTH:
        raise WireError("value is nested too deeply")
    if data is None or isinstance(data, (bool, float, str)):
        return data
    if isinstance(data, int):
        if not INT_MIN <= data <= INT_MAX:
            raise WireError(f"an integer of {len(str(abs(data)))} digits, beyond 64 bits, is not a number the "
                            "grader can compare")
        return data
    if isinstance(data, list):
        return [decode(v, arrays, from_handle, depth + 1) for v in data]
    if isinstance(data, dict):
        if "__nd__" in data:
            index = data["__nd__"]
            if type(index) is not int or not 0 <= index < len(arrays):
                raise WireError("array reference out of range")
            return npy_to_array(arrays[index])
        if "__tuple__" in data and isinstance(data["__tuple__"], list):
            return tuple(decode(data["__tuple__"], arrays, from_handle, depth + 1))
        if "__map__" in data and isinstance(data["__map__"], dict):
            return {str(k): decode(v, arrays, from_handle, depth + 1) for k, v in data["__map__"].items()}
        if "__handle__" in data:
            ident = data["__handle__"]
            if type(ident) is not int or not 0 <= ident <= INT_MAX:
                raise WireError("malformed object handle")
            handle = Handle(ident, str(data.get("type", "object"))[:200])
            return from_handle(handle) if from_handle else handle
        if "__rng__" in data and from_handle is not None and type(data["__rng__"]) is int:
            return np.random.default_rng(abs(data["__rng__"]))
    raise WireError(f"unexpected value in message: {str(data)[:80]}")


# --------------------------------------------------------------- error reports

_ERROR_TEXT_FIELDS = ("type", "message", "where", "line", "missing")


def _bounded(value):
    """A str, int, bool or None of bounded size, or ``_DROP``."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value if INT_MIN <= value <= INT_MAX else _DROP
    if isinstance(value, str):
        return value[:MAX_ERROR_TEXT]
    return _DROP


_DROP = object()


def sanitize_error(info) -> dict:
    """The worker's description of an exception, reduced to fields the parent can use safely.

    The record comes from the sandbox, so any field may be forged: ``type`` a
    list, ``message`` a dict, ``where`` an int, a million keys. What is returned
    holds at most ``MAX_ERROR_FIELDS`` fields with str keys, each value a str
    (at most ``MAX_ERROR_TEXT`` characters), a 64-bit int, a bool or None;
    ``type``, ``message``, ``where``, ``line`` and ``missing`` are str or None
    (``type`` and ``message`` always str), ``student_frames`` an int, and
    ``forbidden`` a list of at most 20 short module names. A field of the wrong
    type is dropped, never converted by calling into it.
    """
    clean: dict = {}
    if isinstance(info, dict):
        for key, value in list(info.items())[:MAX_ERROR_FIELDS * 4]:
            if not isinstance(key, str) or len(key) > 64 or len(clean) >= MAX_ERROR_FIELDS:
                continue
            if key == "forbidden":
                if isinstance(value, list):
                    clean[key] = [v[:100] for v in value[:20] if isinstance(v, str)]
                continue
            value = _bounded(value)
            if value is _DROP:
                continue
            if key in _ERROR_TEXT_FIELDS and value is not None and not isinstance(value, str):
                continue
            if key == "student_frames" and (isinstance(value, bool) or not isinstance(value, int)):
                continue
            clean[key] = value
    clean["type"] = clean.get("type") or "Exception"
    clean["message"] = clean.get("message") or ""
    return clean

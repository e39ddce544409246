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
    if len(shape) > 32 or not all(isinstance(d, int) and d >= 0 for d in shape):
        raise WireError("malformed .npy shape")
    try:
        dtype = np.dtype(descr)
    except TypeError:
        raise WireError(f"unknown dtype {descr!r}") from None
    if dtype.kind not in NUMERIC_KINDS or dtype.fields is not None or dtype.subdtype is not None:
        raise WireError(f"arrays of dtype {dtype} are not accepted (numbers only)")
    count = math.prod(shape)
    payload = memoryview(blob)[start + hlen :]
    if count * dtype.itemsize != len(payload):
        raise WireError("array payload size does not match its header")
    flat = np.frombuffer(payload, dtype=dtype, count=count)
    return np.array(flat.reshape(shape, order="F" if fortran else "C"), dtype=dtype.newbyteorder("="))


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
    """Inverse of ``encode``; ``from_handle`` resolves handles (worker side)."""
    if depth > MAX_DEPTH:
        raise WireError("value is nested too deeply")
    if data is None or isinstance(data, (bool, int, float, str)):
        return data
    if isinstance(data, list):
        return [decode(v, arrays, from_handle, depth + 1) for v in data]
    if isinstance(data, dict):
        if "__nd__" in data:
            index = data["__nd__"]
            if not isinstance(index, int) or not 0 <= index < len(arrays):
                raise WireError("array reference out of range")
            return npy_to_array(arrays[index])
        if "__tuple__" in data:
            return tuple(decode(data["__tuple__"], arrays, from_handle, depth + 1))
        if "__map__" in data and isinstance(data["__map__"], dict):
            return {str(k): decode(v, arrays, from_handle, depth + 1) for k, v in data["__map__"].items()}
        if "__handle__" in data:
            handle = Handle(int(data["__handle__"]), str(data.get("type", "object"))[:200])
            return from_handle(handle) if from_handle else handle
        if "__rng__" in data and from_handle is not None:
            return np.random.default_rng(int(data["__rng__"]))
    raise WireError(f"unexpected value in message: {str(data)[:80]}")

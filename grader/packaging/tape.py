"""Plain-data encoding of the reference's answers: digests of inputs, stored outputs, no pickle.

A value is *data* when it is None, a bool, int, float or str, a NumPy array
or scalar of a numeric dtype, or a list, tuple or str-keyed dict of data.
``encode`` turns data into a JSON tree whose arrays are kept apart (saved in
an ``.npz`` and read back with ``allow_pickle=False``); ``digest`` hashes a
tree and its arrays into the key of one reference call. Anything else (a
parent-side object the check built) is not data: ``NotData`` is raised, or,
where the caller allows it, the object is left as a numbered placeholder.

A ``Tape`` holds the reference calls of one (assignment, check, seed):
``key -> encoded result`` plus the arrays, in ``<check>.json`` and ``<check>.npz``.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import zipfile
from pathlib import Path

import numpy as np

NUMERIC_KINDS = frozenset("biufc")


class NotData(Exception):
    """The value cannot be recorded as plain data."""


def encode(value, arrays: list, objects: list | None = None, depth: int = 0):
    """A JSON tree for ``value``; arrays are appended to ``arrays``, unknown objects to ``objects``."""
    if depth > 32:
        raise NotData("nested too deeply")
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return {"int": str(value)} if abs(value) >= 2**53 else value
    if isinstance(value, float):
        return value if math.isfinite(value) else {"float": repr(value)}
    if isinstance(value, (np.ndarray, np.generic)):
        array = np.asarray(value)
        if array.dtype.kind not in NUMERIC_KINDS or array.dtype.hasobject:
            raise NotData(f"array of dtype {array.dtype}")
        arrays.append(array.copy(order="C"))  # not ascontiguousarray: it turns a 0-d array into shape (1,)
        return {"nd" if isinstance(value, np.ndarray) else "np": len(arrays) - 1}
    if isinstance(value, (list, tuple)):
        items = [encode(v, arrays, objects, depth + 1) for v in value]
        return {"list" if isinstance(value, list) else "tuple": items}
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            raise NotData("dict with non-string keys")
        return {"dict": [[k, encode(v, arrays, objects, depth + 1)] for k, v in sorted(value.items())]}
    if objects is not None:
        objects.append(value)
        return {"obj": len(objects) - 1}
    raise NotData(f"a {type(value).__name__} object")


def decode(tree, arrays, objects=None):
    """The value ``encode`` turned into ``tree`` (objects come from ``objects``, by number)."""
    if tree is None or isinstance(tree, (bool, int, float, str)):
        return tree
    if isinstance(tree, list):  # only inside tags
        raise ValueError("untagged list in a tape")
    (tag, body), = tree.items()
    if tag == "int":
        return int(body)
    if tag == "float":
        return float(body)
    if tag == "nd":
        return np.array(arrays[body], copy=True)
    if tag == "np":
        return np.asarray(arrays[body])[()]
    if tag == "list":
        return [decode(v, arrays, objects) for v in body]
    if tag == "tuple":
        return tuple(decode(v, arrays, objects) for v in body)
    if tag == "dict":
        return {k: decode(v, arrays, objects) for k, v in body}
    if tag == "obj":
        return objects[body]
    raise ValueError(f"unknown tag {tag!r} in a tape")


def digest(tree, arrays: list) -> str:
    """The sha256 of a tree and its arrays' dtypes, shapes and bytes."""
    h = hashlib.sha256(json.dumps(tree, sort_keys=True, allow_nan=True).encode())
    for array in arrays:
        h.update(f"|{array.dtype.str}{array.shape}|".encode())
        h.update(array.tobytes(order="C"))
    return h.hexdigest()


def value_digest(value) -> str:
    """The digest of a data value (``NotData`` if it is not data)."""
    arrays: list = []
    return digest(encode(value, arrays), arrays)


class Tape:
    """The recorded reference calls of one check under one seed: ``key -> result tree``."""

    def __init__(self, entries: dict | None = None, arrays: list | None = None):
        self.entries: dict[str, object] = dict(entries or {})
        self.arrays: list[np.ndarray] = list(arrays or [])
        self.conflicts: set[str] = set()

    def put(self, key: str, result) -> None:
        """Store a result (any data, or the markers the proxies use); a second, different result conflicts."""
        arrays: list = []
        tree = encode(result, arrays)
        if key in self.entries:
            if value_digest(decode(self.entries[key], self.arrays)) != digest(tree, arrays):
                self.conflicts.add(key)
            return
        self.entries[key] = _shift(tree, len(self.arrays))
        self.arrays.extend(arrays)

    def get(self, key: str):
        """The stored result, or KeyError when the key was never (or ambiguously) recorded."""
        if key in self.conflicts:
            raise KeyError(key)
        return decode(self.entries[key], self.arrays)

    def save(self, stem: Path) -> None:
        for key in self.conflicts:
            self.entries.pop(key, None)
        stem.parent.mkdir(parents=True, exist_ok=True)
        stem.with_suffix(".json").write_text(json.dumps(self.entries, sort_keys=True, allow_nan=True))
        buffer = io.BytesIO()
        np.savez_compressed(buffer, **{f"a{i}": a for i, a in enumerate(self.arrays)})
        stem.with_suffix(".npz").write_bytes(buffer.getvalue())

    @classmethod
    def load(cls, stem: Path) -> Tape:
        entries = json.loads(stem.with_suffix(".json").read_text())
        with zipfile.ZipFile(stem.with_suffix(".npz")) as archive:
            count = len(archive.namelist())
        with np.load(stem.with_suffix(".npz"), allow_pickle=False) as data:
            arrays = [data[f"a{i}"] for i in range(count)]
        return cls(entries, arrays)


def _shift(tree, offset: int):
    if isinstance(tree, dict):
        (tag, body), = tree.items()
        if tag in ("nd", "np"):
            return {tag: body + offset}
        if tag in ("list", "tuple"):
            return {tag: [_shift(v, offset) for v in body]}
        if tag == "dict":
            return {tag: [[k, _shift(v, offset)] for k, v in body]}
    return tree

"""Stand-ins for a reference module: the same calls, answered by the real module or by a tape.

``oracle_module`` returns an object that looks like the module to a check:
its functions can be called, its classes called and subclassed (a subclass
cannot be replayed: creating one is ``Unrecorded``), and what they return is
data (arrays, numbers, tuples...) or another stand-in object whose methods and
attributes are proxied the same way.

Every call is keyed by a digest of who is called (a token: the module, the
class, or the object with the history of calls made on it), the name and the
arguments' data. The *backend* decides what a call does: ``RecordBackend``
runs the real code and writes ``key -> result`` (and the new contents of
dict, list and array arguments the call changed) on the running check's tape;
``ReplayBackend`` reads the tape and raises ``Unrecorded`` for a key it lacks.
"""

from __future__ import annotations

import hashlib
import inspect
from pathlib import Path

import numpy as np

from grader import oracle
from grader.oracle import Unrecorded
from grader.packaging.tape import NotData, Tape, digest, encode, value_digest

OBJECT, CALLABLE = "\x00obj", "\x00callable"
IMPORT_CHECK, IMPORT_SEED = "__import__", 0


def _tape_id(assignment: str) -> tuple[str, str, int]:
    return oracle.current() or (assignment, IMPORT_CHECK, IMPORT_SEED)


class RecordBackend:
    """Runs the real reference and keeps one tape per (assignment, check, seed)."""

    recording = True

    def __init__(self):
        self.tapes: dict[tuple[str, str, int], Tape] = {}

    def call(self, assignment: str, key: str, thunk):
        record, objects = thunk()
        self.tapes.setdefault(_tape_id(assignment), Tape()).put(key, record)
        return record, objects

    def save(self, folder: Path) -> list[str]:
        written = []
        for (assignment, check, seed), tape in sorted(self.tapes.items()):
            stem = folder / assignment / str(seed) / check
            tape.save(stem)
            written.append(str(stem))
        return written


class ReplayBackend:
    """Answers from the tapes under ``folder``; an unseen call is ``Unrecorded``."""

    recording = False

    def __init__(self, folder: Path):
        self.folder = folder
        self.cache: dict[tuple[str, str, int], Tape | None] = {}

    def call(self, assignment: str, key: str, thunk):
        tape_id = _tape_id(assignment)
        if tape_id not in self.cache:
            stem = self.folder / tape_id[0] / str(tape_id[2]) / tape_id[1]
            self.cache[tape_id] = Tape.load(stem) if stem.with_suffix(".json").is_file() else None
        tape = self.cache[tape_id]
        try:
            return tape.get(key), None
        except (KeyError, AttributeError):
            raise Unrecorded(f"reference call {key[:12]} of {tape_id[1]} was not recorded") from None


_RECORDER: RecordBackend | None = None
LOADED: dict[str, dict[str, str]] = {}  # "a1.mlp" -> the names of the stand-ins made in this process


def recorder() -> RecordBackend:
    """The one recording backend of this process."""
    global _RECORDER
    if _RECORDER is None:
        _RECORDER = RecordBackend()
    return _RECORDER


# ------------------------------------------------------------------ the proxies


class _Callable:
    """A function, static method or bound method of the reference, called through the backend."""

    def __init__(self, owner, name: str):
        self._owner, self._name = owner, name

    def __call__(self, *args, **kwargs):
        return _invoke(self._owner, self._name, args, kwargs)


class _Object:
    """A reference object (an instance, a Tensor...) behind a token that follows its history."""

    def __init__(self, context, token: str, real=None):
        object.__setattr__(self, "_context", context)
        object.__setattr__(self, "_token", token)
        object.__setattr__(self, "_real", real)

    def __getattr__(self, name: str):
        if name.startswith("__"):
            raise AttributeError(name)
        return _get(self, name)

    def __setattr__(self, name, value):
        raise Unrecorded("a check set an attribute on a reference object")


class _ClassMeta(type):
    """Classes of the stand-in module: callable and subclassable, like the real ones."""

    def __call__(cls, *args, **kwargs):
        if "_oracle_token" not in cls.__dict__:
            raise Unrecorded(f"a check made an object of {cls.__name__}, a subclass of a reference class")
        return _invoke(cls, "__call__", args, kwargs)

    def __getattr__(cls, name: str):
        if name.startswith("__") or "_oracle_token" not in cls.__dict__:
            raise AttributeError(name)
        return _get(cls, name)


class _Context:
    """What every proxy of one module shares: the assignment, the backend, the real module if any."""

    def __init__(self, assignment: str, backend, real):
        self.assignment, self.backend, self.real = assignment, backend, real


def oracle_module(assignment: str, module: str, backend, kinds: dict[str, str] | None, real=None):
    """The stand-in for ``reference.<assignment>.<module>``.

    ``kinds`` maps each public name to "class", "function" or "data" (the
    student build reads it from the manifest; recording reads the real module).
    """
    context = _Context(assignment, backend, real)
    kinds = kinds if kinds is not None else module_kinds(real)
    token = f"{assignment}.{module}"
    LOADED[token] = dict(kinds)
    namespace: dict = {"__name__": f"reference.{assignment}.{module}", "__doc__": "stand-in (grader.oracle)"}
    stand_in = _Object(context, token, real)
    for name, kind in kinds.items():
        if kind == "class":
            namespace[name] = _ClassMeta(name, (), {"_oracle_token": f"{token}.{name}", "_oracle_context": context,
                                                    "_oracle_real": getattr(real, name, None)})
        elif kind == "function":
            namespace[name] = _Callable(stand_in, name)
    return _Module(stand_in, namespace)


class _Module:
    def __init__(self, stand_in: _Object, namespace: dict):
        self.__dict__.update(namespace)
        self._stand_in = stand_in

    def __getattr__(self, name: str):
        if name.startswith("__"):
            raise AttributeError(name)
        return _get(self._stand_in, name)


def module_kinds(module) -> dict[str, str]:
    """Each name a reference module defines: class, function or data."""
    kinds = {}
    for name, value in vars(module).items():
        if name.startswith("__") or inspect.ismodule(value):
            continue
        if getattr(value, "__module__", module.__name__) != module.__name__ and not isinstance(value, type):
            continue  # imported helpers (np, annotations...)
        kinds[name] = "class" if isinstance(value, type) else "function" if callable(value) else "data"
    return kinds


def _parts(target):
    """(context, token, real object) of a module, class or object stand-in."""
    if isinstance(target, _Object):
        return target._context, target._token, target._real
    if isinstance(target, _ClassMeta):
        return target._oracle_context, target._oracle_token, target._oracle_real
    raise Unrecorded("not a reference stand-in")


def _unwrap(value):
    if isinstance(value, _Object):
        return value._real
    if isinstance(value, _ClassMeta):
        return value._oracle_real
    if isinstance(value, list):
        return [_unwrap(v) for v in value]
    if isinstance(value, tuple):
        return tuple(_unwrap(v) for v in value)
    return value


def _key(token: str, name: str, args, kwargs) -> str:
    arrays, objects = [], []
    try:
        tree = encode([list(args), kwargs], arrays, objects)
    except NotData as exc:
        raise Unrecorded(f"an argument of {name} is not plain data ({exc})") from None
    tokens = []
    for obj in objects:
        if isinstance(obj, _Object):
            tokens.append(obj._token)
        elif isinstance(obj, _ClassMeta) and "_oracle_token" in obj.__dict__:
            tokens.append(obj._oracle_token)
        else:
            raise Unrecorded(f"an argument of {name} is a {type(obj).__name__}, not plain data")
    return digest([token, name, tree, tokens], arrays)


def _wrap(context, key: str, tree_value, objects):
    """Replace object markers in a decoded result by stand-ins (with the real objects when recording)."""
    if isinstance(tree_value, dict) and set(tree_value) == {OBJECT}:
        index = tree_value[OBJECT]
        return _Object(context, f"{key}:{index}", objects[index] if objects is not None else None)
    if isinstance(tree_value, list):
        return [_wrap(context, key, v, objects) for v in tree_value]
    if isinstance(tree_value, tuple):
        return tuple(_wrap(context, key, v, objects) for v in tree_value)
    return tree_value


def _markers(value, objects: list):
    """The result as data, with every non-data object replaced by a numbered marker."""
    try:
        value_digest(value)
        return value
    except NotData:
        pass
    if isinstance(value, list):
        return [_markers(v, objects) for v in value]
    if isinstance(value, tuple):
        return tuple(_markers(v, objects) for v in value)
    if isinstance(value, dict):
        raise Unrecorded("a reference call returned a dict holding objects")
    objects.append(value)
    return {OBJECT: len(objects) - 1}


def _get(target, name: str):
    """An attribute of a stand-in: a method (callable) or a value, as recorded."""
    context, token, real = _parts(target)
    key = digest([token, "getattr", name], [])

    def thunk():
        value = getattr(real, name)
        if callable(value) and not isinstance(value, (np.ndarray, np.generic)):
            return {CALLABLE: True}, None
        objects: list = []
        return _markers(value, objects), objects

    record, objects = context.backend.call(context.assignment, key, thunk)
    if isinstance(record, dict) and record.get(CALLABLE) is True:
        return _Callable(target, name)
    return _wrap(context, key, record, objects)


def _invoke(target, name: str, args, kwargs):
    """Call ``name`` on a stand-in (``__call__`` of a class makes an object)."""
    context, token, real = _parts(target)
    key = _key(token, name, args, kwargs)

    def thunk():
        function = real if name == "__call__" else getattr(real, name)
        before = {i: value_digest(a) for i, a in enumerate(args) if isinstance(a, (dict, list, np.ndarray))
                  and not _holds_stand_ins(a)}
        out = function(*_unwrap(list(args)), **{k: _unwrap(v) for k, v in kwargs.items()})
        changed = [[i, args[i]] for i, d in before.items() if value_digest(args[i]) != d]
        objects: list = []
        return {"result": _markers(out, objects), "changed": changed}, objects

    record, objects = context.backend.call(context.assignment, key, thunk)
    if not context.backend.recording:
        for index, value in record["changed"]:
            _write_back(args[index], value)
    if isinstance(target, _Object) and ":" in token:  # an object made by a call: its token follows its history
        object.__setattr__(target, "_token", hashlib.sha256(f"{token}|{key}".encode()).hexdigest() + ":h")
    return _wrap(context, key, record["result"], objects)


def _holds_stand_ins(value) -> bool:
    arrays, objects = [], []
    try:
        encode(value, arrays, objects)
    except NotData:
        return True
    return bool(objects)


def _write_back(argument, value) -> None:
    """Replay a reference call's change to a mutable argument (a ctx dict, an array updated in place)."""
    if isinstance(argument, dict):
        argument.clear()
        argument.update(value)
    elif isinstance(argument, list):
        argument[:] = value
    elif isinstance(argument, np.ndarray):
        argument[...] = value


__all__ = ["oracle_module", "RecordBackend", "ReplayBackend", "recorder", "module_kinds"]

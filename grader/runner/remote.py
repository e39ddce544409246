"""The parent's view of a submission: proxies whose calls run in the sandbox.

Check code writes ``mlp = ctx.student.module("mlp")``, then
``layer = mlp.call("Linear", 3, 4)``, ``layer.call("forward", x)``,
``layer.get("dW")``. Each call is one request to the check's own session;
what comes back is plain data (validated arrays, numbers, strings) or a
``RemoteObject`` standing for an object that stays in the worker.

Failures surface as exceptions the engine turns into results:
``MissingName`` (an expected name does not exist), ``StudentCodeError``
(student code raised), ``LoadError`` (a module failed to import), and the
sandbox's ``CallTimeout`` / ``WorkerDied``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from grader.runner import wire
from grader.runner.sandbox import Limits, RemoteError, Zygote

if TYPE_CHECKING:
    from grader.runner.hosts import HostPool


class MissingName(Exception):
    """A file, class, function or attribute the handout requires is absent."""

    def __init__(self, name: str):
        super().__init__(name)
        self.name = name


class StudentCodeError(Exception):
    """Student code raised while the grader called ``label``."""

    hint = ""  # set by a check that recognizes the error's kind (the engine reports it with the error)

    def __init__(self, label: str, info: dict):
        super().__init__(f"{label} raised {info.get('type')}: {info.get('message')}")
        self.label, self.info = label, info

    @property
    def not_implemented(self) -> bool:
        return self.info.get("type") == "NotImplementedError"

    @property
    def broadcasting(self) -> bool:
        """NumPy's "operands could not be broadcast together": shapes that do not fit. As the sandbox reported
        it (a claim of the student's code): good for choosing a hint, never for a score."""
        return self.info.get("type") == "ValueError" and "broadcast" in str(self.info.get("message", ""))


class LoadError(StudentCodeError):
    """A student module could not be imported (syntax error, crash, exit at import)."""


def _describe_args(args: tuple, kwargs: dict) -> str:
    def short(v) -> str:
        if hasattr(v, "shape"):
            return f"array{tuple(v.shape)}"
        if isinstance(v, RemoteObject):
            return v.type_name
        if isinstance(v, (list, tuple, dict)):  # never repr a whole case list: this label is built on every call
            return f"{type(v).__name__}[{len(v)}]"
        text = repr(v)
        return text if len(text) <= 20 else text[:17] + "..."

    parts = [short(a) for a in args] + [f"{k}={short(v)}" for k, v in kwargs.items()]
    return ", ".join(parts)


def _to_wire(value):
    if isinstance(value, RemoteObject):
        return value.handle
    if type(value) in (list, tuple):
        return type(value)(_to_wire(v) for v in value)
    if type(value) is dict:
        return {k: _to_wire(v) for k, v in value.items()}
    return value


class Remote:
    """Something addressable in the worker: a module or an object handle."""

    def __init__(self, student: Student, target, label: str):
        self._student, self._target, self.label = student, target, label

    def _wrap(self, value, label: str):
        if isinstance(value, wire.Handle):
            return RemoteObject(self._student, value, label)
        if isinstance(value, list):
            return [self._wrap(v, f"{label}[{i}]") for i, v in enumerate(value)]
        if isinstance(value, tuple):
            return tuple(self._wrap(v, f"{label}[{i}]") for i, v in enumerate(value))
        return value

    def _request(self, op: str, label: str, *args):
        try:
            return self._student.session.request(op, self._target, *args)
        except RemoteError as exc:
            info = exc.info
            if info.get("student_frames") == 0 and info.get("missing"):
                raise MissingName(f"{self.label}.{info['missing']}") from None
            raise StudentCodeError(label, info) from None

    def call(self, attr: str, *args, **kwargs):
        """Call ``target.attr(*args, **kwargs)`` in the worker."""
        label = f"{self.label}.{attr}({_describe_args(args, kwargs)})"
        value = self._request("call", label, attr, _to_wire(list(args)), _to_wire(kwargs))
        return self._wrap(value, f"{self.label}.{attr}(...)")

    def map(self, attr: str, arglist: list[tuple]):
        """Call ``target.attr(*args)`` once per entry of ``arglist`` in one round trip."""
        label = f"{self.label}.{attr}(...)"
        return self._wrap(self._request("map", label, attr, _to_wire([list(a) for a in arglist])), label)

    def get(self, attr: str):
        """Read ``target.attr`` (a copy if it is data, a ``RemoteObject`` otherwise)."""
        return self._wrap(self._request("get", f"{self.label}.{attr}", attr), f"{self.label}.{attr}")

    def set(self, attr: str, value) -> None:
        """Assign ``target.attr = value`` in the worker."""
        self._request("set", f"{self.label}.{attr} = ...", attr, _to_wire(value))

    def as_object(self) -> RemoteObject:
        """A handle to the target itself, to pass it as an argument (e.g. a module to a driver)."""
        return RemoteObject(self._student, self._request("ref", self.label, None), self.label)


class RemoteObject(Remote):
    """An object that lives in the worker."""

    def __init__(self, student: Student, handle: wire.Handle, label: str):
        super().__init__(student, handle, label)
        self.handle = handle
        self.type_name = handle.type_name

    def __repr__(self) -> str:
        return f"<{self.type_name} in the sandbox: {self.label}>"


class Student:
    """The submission as seen by one check: a lazily started sandbox session."""

    def __init__(self, zygote: Zygote, files: dict[str, Path], limits: Limits,
                 forbidden_imports=(), drivers: Path | None = None, hosts: HostPool | None = None,
                 packages: tuple[str, ...] | None = None):
        self._zygote, self._files, self._limits = zygote, files, limits
        self._forbidden, self._drivers, self._packages = tuple(forbidden_imports), drivers, packages
        self._hosts = hosts  # the submission's hosts: a forked session instead of a newly built one
        self._session = None
        self._modules: dict[str, Remote] = {}

    @property
    def session(self):
        if self._session is None:
            if self._hosts is not None:
                self._session = self._hosts.session(self._limits)
            else:
                self._session = self._zygote.spawn(self._files, self._limits, self._forbidden,
                                                   drivers=self._drivers, packages=self._packages)
        return self._session

    def module(self, name: str) -> Remote:
        """Import the student's module ``name`` (e.g. ``"mlp"`` for ``mlp.py``)."""
        if name not in self._modules:
            if f"{name}.py" not in self._files:
                raise MissingName(f"{name}.py")
            try:
                self.session.request("load", "module", name, "")
            except RemoteError as exc:
                raise LoadError(f"importing {name}.py", exc.info) from None
            self._modules[name] = Remote(self, name, name)
        return self._modules[name]

    def drivers(self) -> Remote:
        """The assignment's grader-written helpers, loaded into the same sandbox."""
        if "__drivers__" not in self._modules:
            self.session.request("load", "driver", "__drivers__", str(self._drivers))
            self._modules["__drivers__"] = Remote(self, "__drivers__", "grader")
        return self._modules["__drivers__"]

    def output(self) -> str:
        return self._session.output() if self._session else ""

    def close(self) -> None:
        if self._session is not None:
            self._session.close()

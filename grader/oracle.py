"""Where checks reach the reference solutions: one indirection, three builds.

    ref = oracle.load("a1", "mlp")      # instead of: from reference.a1 import mlp as ref

- staff build (this source tree, or its wheel): the real ``reference.a1.mlp``
  module, untouched;
- recording (``DLGRADE_ORACLE=record``, used by ``dlgrade build-student-pack``):
  a proxy that calls the real module and writes every call's input digest and
  outputs on the tape of the check that made it;
- student build (its wheel carries ``grader/packaging/expectations/manifest.json``
  and no ``reference`` package): a proxy that answers the same calls from the
  tapes. A call it has never seen raises ``Unrecorded``, which the engine
  reports as a *hidden* check, never as a verdict.

The engine tells the oracle which check is running with ``session``.
"""

from __future__ import annotations

import contextlib
import contextvars
import importlib
import json
import os
from functools import lru_cache
from pathlib import Path

EXPECTATIONS = Path(__file__).resolve().parent / "packaging" / "expectations"
MANIFEST = EXPECTATIONS / "manifest.json"
STUDENT_BUILD = MANIFEST.is_file()
HIDDEN_MESSAGE = "hidden in the student build: graded by the staff's build."

_session: contextvars.ContextVar[tuple[str, str, int] | None] = contextvars.ContextVar("oracle_session", default=None)
_computing: contextvars.ContextVar[bool] = contextvars.ContextVar("oracle_computing", default=False)
# Recording: the (assignment, check) pairs that ran a reference class in the parent outside a recorded
# computation; the student build cannot replay them, so the recording lists them as hidden.
PARENT_ONLY: set[tuple[str, str]] = set()


class Unrecorded(Exception):
    """The student build cannot answer this reference call: the check is hidden here."""


def reference_module(assignment: str, module: str) -> str:
    """The absolute name of ``assignment``'s reference module ``module``: inside the package its ``Assignment``
    names (``reference``: ``reference.a1`` for the built-ins, ``course_a5.reference`` for a course's own)."""
    from grader.assignment import get_assignment

    return f"{get_assignment(assignment, load_checks=False).reference_package}.{module}"


def load(assignment: str, module: str):
    """The reference module ``module`` of ``assignment`` (see ``reference_module``), or its stand-in in this build."""
    if STUDENT_BUILD:
        from grader.packaging.proxy import ReplayBackend, oracle_module
        names = manifest().get("modules", {}).get(f"{assignment}.{module}")
        if names is None:  # a wheel built for other assignments: say so, never a KeyError (exit 3)
            from grader.errors import UsageError
            raise UsageError(f"assignment {assignment!r} is not in this build: this student build was made for "
                             f"{', '.join(sorted(manifest().get('recorded', {}))) or 'other assignments'}; "
                             "ask the course staff for the build of this assignment.")
        return oracle_module(assignment, module, ReplayBackend(EXPECTATIONS), names)
    real = importlib.import_module(reference_module(assignment, module))
    if os.environ.get("DLGRADE_ORACLE") == "record":
        from grader.packaging.proxy import oracle_module, recorder
        return oracle_module(assignment, module, recorder(), None, real)
    return real


def answer_key(assignment: str, module: str):
    """The answer-key module ``module`` of ``assignment`` (one of its ``answer_key`` modules, e.g. ".key").

    Call it inside a check: the student build ships no answer key, so there it raises ``Unrecorded``
    and the check is reported as hidden (graded by the staff's build), never as a verdict.
    """
    from grader.assignment import _absolute, get_assignment

    a = get_assignment(assignment, load_checks=False)
    name = _absolute(module, a.package)
    if name not in a.answer_key_modules:
        raise ValueError(f"{assignment}: {module!r} is not one of its answer_key modules {a.answer_key}")
    if STUDENT_BUILD:
        raise Unrecorded(f"{assignment}: the answer key {module} is only in the staff's build")
    return importlib.import_module(name)


def reference_class(assignment: str, module: str, name: str):
    """A reference class the parent runs itself (a4's LeNet, a torch module): no tape can stand in for it,
    so in the student build every check that needs it is hidden."""
    if STUDENT_BUILD:
        raise Unrecorded(f"{assignment}: the reference {name} runs only in the staff's build")
    running = current()
    if os.environ.get("DLGRADE_ORACLE") == "record" and running and not _computing.get():
        PARENT_ONLY.add((running[0], running[1]))
    return getattr(importlib.import_module(reference_module(assignment, module)), name)


def real(assignment: str, module: str):
    """The staff's reference module itself, for a computation ``computed`` records; the student build has none."""
    if STUDENT_BUILD:
        raise Unrecorded(f"{assignment}: the reference {module} runs only in the staff's build")
    return importlib.import_module(reference_module(assignment, module))


def computed(assignment: str, name: str, compute, *data):
    """``compute()``: a parent-side computation with the reference whose only inputs are ``data``.

    Some checks run the reference on objects of their own (a1's optimizers step grader-side layers), which
    no call-by-call tape can follow. When everything such a computation depends on is plain data (the
    seed's arrays, numbers), its *result* can be recorded instead, keyed by ``name`` and the digest of
    ``data``: the staff build computes it, recording computes and keeps it on the running check's tape,
    and the student build answers from the tape (``Unrecorded`` for data it never saw, as for any call).
    ``compute`` must depend on nothing but ``data`` and return plain data (arrays, numbers, lists).
    """
    if STUDENT_BUILD:
        backend = _replay_backend()
    elif os.environ.get("DLGRADE_ORACLE") == "record":
        from grader.packaging.proxy import recorder
        backend = recorder()
    else:
        return compute()
    from grader.packaging.tape import NotData, digest, encode

    arrays: list = []
    try:
        tree = encode(list(data), arrays)
    except NotData as exc:
        raise Unrecorded(f"the inputs of {name} are not plain data ({exc})") from None
    key = digest([f"{assignment}:computed", name, tree], arrays)

    def thunk():
        token = _computing.set(True)
        try:
            return compute(), None
        finally:
            _computing.reset(token)

    result, _ = backend.call(assignment, key, thunk)
    return result


@lru_cache(maxsize=1)
def _replay_backend():
    from grader.packaging.proxy import ReplayBackend
    return ReplayBackend(EXPECTATIONS)


@contextlib.contextmanager
def session(assignment: str, check: str, seed: int):
    """Run one check: its reference calls go on (or come from) the tape of (assignment, check, seed)."""
    token = _session.set((assignment, check, int(seed)))
    try:
        yield
    finally:
        _session.reset(token)


def current() -> tuple[str, str, int] | None:
    """The (assignment, check, seed) running now, or None (at import time)."""
    return _session.get()


@lru_cache(maxsize=1)
def manifest() -> dict:
    """The student build's manifest: public seeds, hidden checks, the reference modules' names."""
    return json.loads(MANIFEST.read_text(encoding="utf-8")) if STUDENT_BUILD else {}


def public_seeds() -> tuple[int, ...]:
    """The seeds the student build was recorded with (empty in the staff build: any seed)."""
    return tuple(manifest().get("seeds", ()))


def hidden_checks(assignment: str) -> dict[str, str]:
    """Checks of ``assignment`` the student build does not grade: check id -> why."""
    return dict(manifest().get("hidden", {}).get(assignment, {}))

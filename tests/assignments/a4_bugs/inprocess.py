"""Run a4's structure checks against a submission in this process (no sandbox), for fast many-seed sweeps.

The checks see the same interface as in a real run (``ctx.student.module``,
``.drivers()``, ``.call``), every value crosses ``grader.runner.wire``'s
encoder and decoder as it would between the processes, and exceptions from the
student's code carry the same ``info`` (type, message, the student's own frame)
as the worker's. Only the process boundary is missing, which is what the
sandboxed tests (test_a4_checks.py, test_redteam_a4.py) cover.
"""

from __future__ import annotations

import importlib.util
import itertools
import traceback
from pathlib import Path

import numpy as np

from grader.assignment import CheckFailed
from grader.assignments.a4.spec import A4
from grader.engine import check_seed, describe_student_error
from grader.runner import wire
from grader.runner.remote import StudentCodeError

_names = itertools.count()


class _Local:
    def __init__(self, student: Student, target, label: str):
        self._student, self._target, self.label = student, target, label

    def call(self, attr: str, *args, **kwargs):
        return self._student.invoke(self._target, attr, args, kwargs, f"{self.label}.{attr}")

    def as_object(self):
        return self


class Student:
    """The submission file ``path`` imported here, reached the way checks reach a sandboxed one."""

    def __init__(self, path: Path):
        self.folder = str(path.parent)
        spec = importlib.util.spec_from_file_location(f"a4_lenet_{next(_names)}", path)
        self.lenet = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(self.lenet)
        spec = importlib.util.spec_from_file_location(f"a4_drivers_{next(_names)}", A4.drivers)
        self.driver_module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(self.driver_module)
        self.objects: dict[int, object] = {}

    def module(self, name: str) -> _Local:
        return _Local(self, self.lenet, name)

    def drivers(self) -> _Local:
        return _Local(self, self.driver_module, "grader")

    def _to_handle(self, obj) -> dict:
        key = len(self.objects) + 1
        self.objects[key] = obj
        return {"__handle__": key, "type": type(obj).__name__}

    def _crossed(self, value, to_worker: bool):
        arrays: list[bytes] = []
        if to_worker:
            data = wire.encode(value, arrays, lambda v: self._to_handle(v.__dict__.get("_target", v)))
            return wire.decode(data, arrays, lambda h: self.objects[h.id])
        data = wire.encode(value, arrays, self._to_handle)
        return self._wrap(wire.decode(data, arrays))

    def _wrap(self, value):
        if isinstance(value, wire.Handle):
            return _Local(self, self.objects[value.id], value.type_name)
        if isinstance(value, list):
            return [self._wrap(v) for v in value]
        return value

    def invoke(self, target, attr, args, kwargs, label):
        args = self._crossed(list(args), True)
        kwargs = self._crossed(dict(kwargs), True)
        try:
            result = getattr(target, attr)(*args, **kwargs)
        except Exception as exc:
            frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename.startswith(self.folder)]
            where = frames[-1] if frames else None
            raise StudentCodeError(label, {
                "type": type(exc).__name__, "message": str(exc)[:2000],
                "where": f"{Path(where.filename).name}:{where.lineno}" if where else None,
                "line": (where.line or "") if where else None, "student_frames": len(frames)}) from None
        return self._crossed(result, False)

    def output(self) -> str:
        return ""

    def close(self) -> None:
        pass


class Context:
    """The part of ``CheckContext`` the a4 structure checks use."""

    def __init__(self, check, seed: int, student: Student):
        self.check, self.seed, self.rng, self.student = check, seed, check_seed(seed, check.id), student
        self.details, self.data, self.files = {}, {}, {}
        self.progress = lambda text: None


def grade_structure(path: Path, seed: int) -> dict[str, tuple[str, str]]:
    """check id -> (status, message + hint) for every 4.1 check."""
    student = Student(path)
    results = {}
    for check in A4.checks:
        if check.task != "4.1":
            continue
        try:
            check.func(Context(check, seed, student))
            results[check.id] = ("passed", "")
        except CheckFailed as failure:
            results[check.id] = ("failed", f"{failure.message} {failure.hint}")
        except StudentCodeError as exc:
            status, message, hint = describe_student_error(exc)
            results[check.id] = (status, f"{message} {hint}")
    return results


def failing(results: dict) -> set[str]:
    return {k for k, (status, _) in results.items() if status != "passed"}


__all__ = ["grade_structure", "failing", "np"]

"""The same checks as dlgrade, without a sandbox: the in-process lower bound and the pytest peer's engine.

``LocalStudent`` has the interface of ``grader.runner.remote.Student`` but runs
the student's code in this very process. Values still pass through the wire's
encoding, so every check sees exactly what it sees under dlgrade (copies of
arrays, handles for objects); only the sandbox is gone: no worker, no fork, no
namespaces, no limits. Never use this to grade: student code here can rewrite
the grader. It exists to measure what the sandbox costs.

Usage (the lower bound, one process per submission):
    python bench/inprocess.py a1 reference/a1 [--seed 1]
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import time
import traceback
from pathlib import Path

from grader import api
from grader.assignment import CheckContext, CheckFailed, CheckUndecided
from grader.engine import check_seed
from grader.runner import wire
from grader.runner.remote import Student
from grader.runner.sandbox import RemoteError
from grader.submission import load_submission


class LocalSession:
    """Executes the worker's operations here, with the wire's copy semantics."""

    def __init__(self, folder: Path, drivers: Path | None):
        self.folder, self.drivers = folder, drivers
        self.objects: dict[int, object] = {}
        self.modules: dict[str, object] = {}
        self.isolation = {"level": "none (in-process benchmark)"}

    def _to_handle(self, obj) -> dict:
        if isinstance(obj, _Ref):
            obj = obj.value
        key = len(self.objects) + 1
        self.objects[key] = obj
        return {"__handle__": key, "type": type(obj).__name__}

    def _resolve(self, handle):
        return self.objects[handle.id]

    def _target(self, target):
        return self.modules[target] if isinstance(target, str) else target

    def request(self, op: str, *args):
        arrays: list[bytes] = []
        args = wire.decode(wire.encode(list(args), arrays), arrays, self._resolve)
        try:
            result = getattr(self, f"op_{op}")(*args)
        except BaseException as exc:  # noqa: BLE001 - the student's exception, described like the worker does
            frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename.startswith(str(self.folder))]
            missing = getattr(exc, "name", None) if isinstance(exc, AttributeError) else None
            raise RemoteError({"type": type(exc).__name__, "message": str(exc)[:2000], "where": None, "line": None,
                               "student_frames": len(frames), "missing": missing, "forbidden": []}) from None
        arrays = []
        if isinstance(result, _Ref):
            return wire.decode(self._to_handle(result), arrays)
        return wire.decode(wire.encode(result, arrays, self._to_handle), arrays)

    def op_isolation(self):
        return {}

    def op_load(self, kind: str, name: str, path: str):
        file = Path(path) if kind == "driver" else self.folder / f"{name}.py"
        spec = importlib.util.spec_from_file_location(name, file)
        module = importlib.util.module_from_spec(spec)
        if kind != "driver":
            sys.modules[name] = module  # the student's modules may import each other
        spec.loader.exec_module(module)
        self.modules[name] = module
        return True

    def op_call(self, target, attr, args, kwargs):
        obj = self._target(target)
        return (getattr(obj, attr) if attr else obj)(*args, **kwargs)

    def op_map(self, target, attr, arglist):
        func = getattr(self._target(target), attr)
        return [func(*a) for a in arglist]

    def op_get(self, target, attr):
        return getattr(self._target(target), attr)

    def op_set(self, target, attr, value):
        setattr(self._target(target), attr, value)

    def op_ref(self, target, attr):
        value = getattr(self._target(target), attr) if attr else self._target(target)
        return _Ref(value)

    def output(self) -> str:
        return ""

    def close(self) -> None:
        pass


class _Ref:
    """Forces a handle for plain data, like the worker's ``_AsHandle``."""

    def __init__(self, value):
        self.value = value


class LocalStudent(Student):
    """``Student`` whose session runs in this process (see the module docstring)."""

    def __init__(self, folder: Path, files: dict[str, Path], drivers: Path | None):
        super().__init__(zygote=None, files=files, limits=None, drivers=drivers)
        self._session = LocalSession(folder, drivers)


def run_checks(assignment_id: str, path: Path, seed: int = 1, staging: Path | None = None) -> tuple[float, float]:
    """Run every check of the assignment in this process; return (score, max score)."""
    import tempfile

    assignment = api.get_assignment(assignment_id)
    staging = staging or Path(tempfile.mkdtemp(prefix="dlgrade-bench-"))
    submission = load_submission(path, assignment.files, staging)
    score = 0.0
    for check in assignment.checks:
        student = LocalStudent(staging, submission.files, assignment.drivers)
        context = CheckContext(check=check, seed=seed, rng=check_seed(seed, check.id), student=student,
                               files=dict(submission.files))
        try:
            check.func(context)
            score += check.points
        except CheckFailed as failure:
            score += min(max(failure.fraction, 0.0), 1.0) * check.points
        except (CheckUndecided, Exception):  # noqa: BLE001 - a benchmark counts zero, as the grader would
            pass
    return score, assignment.total_points


def main() -> None:
    parser = argparse.ArgumentParser(description="Run an assignment's checks in one process, without a sandbox.")
    parser.add_argument("assignment")
    parser.add_argument("path", type=Path)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    started = time.perf_counter()
    score, total = run_checks(args.assignment, args.path, args.seed)
    print(f"{args.assignment}: {score:g}/{total:g} in {time.perf_counter() - started:.3f} s (in-process)")


if __name__ == "__main__":
    main()

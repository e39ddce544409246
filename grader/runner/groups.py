"""Checks that share one sandboxed process: an assignment's ``process_group``, run one check after another.

A fresh process per check (``grader.runner.hosts``) costs a fork, the first touch of every page
the check writes, and the process's teardown: a few milliseconds with NumPy, about 30 ms with torch
loaded, which is most of what a4's short structure checks cost. Checks an assignment puts in one
``process_group`` therefore run one after another in one process forked for them by the
submission's host, like the tests of one pytest module:

- each check still imports the submission afresh: before it starts, the process forgets every
  handle and every module it imported from the submission (the worker's ``begin``), so
  module-level state starts over, and the check's output starts from empty;
- each check keeps its own time limit, measured here in the parent, and its own output;
- a check that times out or ends the process (a crash, ``os._exit``, the memory limit), or leaves it
  unable to ``begin`` the next check (a thread holding the GIL, a ``sys.stdout`` whose flush raises),
  ends it for itself only: the next check of the group gets a freshly forked process, from the same host;
- what the group's checks do share is what a process keeps beyond its modules: threads or
  processes a check started, changes to other modules (monkey-patching torch), files written to
  ``/scratch`` or ``/tmp``. Only the submission's own results can depend on them, never another
  submission's, and the checks of a group always run in the same order, whatever ``--jobs`` is.

Nothing here is a defence against the student: the process is as sandboxed as any check's, and
every result is still decided in the parent from outputs on inputs it chose.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from grader.runner.sandbox import Limits, Session, SessionError


@dataclass
class CheckInProcess(Session):
    """One check's view of its group's process: the same channel, the check's own limits and deadline.
    Ending the view ends nothing (the next check reuses the process); killing it kills the process."""

    group: SharedProcess | None = None

    def kill(self) -> None:
        if self.alive:
            self.alive = False
            if self.group is not None:
                self.group.kill()

    def close(self) -> None:
        self.alive = False  # no I/O: this may run in a signal handler; the group closes the process


class SharedProcess:
    """The process of one group's checks in one submission. ``session(limits)`` lends it to the next check
    (the interface of ``HostPool``, so a ``Student`` takes either); ``close`` ends it when the group is done.

    ``source`` gives the process (a ``HostPool``: forked by the submission's host); ``cpu_s`` is the
    CPU-time limit of the whole process, the sum of its checks' own."""

    def __init__(self, source, cpu_s: int):
        self._source, self._cpu_s = source, int(cpu_s)
        self._process: Session | None = None
        self.started = 0  # processes started for the group: 1 unless a check ended one

    def session(self, limits: Limits) -> Session:
        if self._process is not None and self._process.alive:
            view = self._view(limits)
            try:
                view.request("begin")
                return view
            except SessionError:
                # The last check left it unusable (a hang, a crash, or student code that makes ``begin`` itself
                # raise, e.g. a sys.stdout whose flush raises): a fresh process instead, as a lone check gets.
                self.kill()
        if self._process is not None:  # ended by the last check: its host goes back to the pool (not a new one each)
            self._process.close()
        # Its wall limit is never used: every request, ``begin`` included, goes through a view's deadline.
        self._process = self._source.session(replace(limits, cpu_s=self._cpu_s))
        self.started += 1
        return self._view(limits)

    def _view(self, limits: Limits) -> CheckInProcess:
        process = self._process
        return CheckInProcess(process.channel, process.home, process.pids, process.isolation, limits,
                              cgroup=process.cgroup, stdout_path=process.stdout_path or process.home / "stdout.txt",
                              group=self)

    def kill(self) -> None:
        """End the process now (a check's time-out or crash, an interruption)."""
        if self._process is not None:
            self._process.kill()

    def close(self) -> None:
        if self._process is not None:
            self._process.close()
            self._process = None

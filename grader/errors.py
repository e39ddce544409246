"""One error hierarchy for the grader itself; each error knows its exit code.

A student's mistake is never one of these: it becomes a ``CheckResult``.
These are for the person running the grader (a bad path, an unknown
assignment) and for the grader's own failures, which must never be shown to a
student as their zero.
"""

from __future__ import annotations

import errno

EXIT_PASSED = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERNAL = 3
EXIT_INTERRUPTED = {"SIGINT": 130, "SIGTERM": 143}  # 128 + the signal number, as shells report it
# What writing to a full or read-only disk raises: the machine's state, never the submission's fault.
DISK_FULL = (errno.ENOSPC, errno.EDQUOT, errno.EROFS)


class GraderError(Exception):
    """Base class: a problem to report to the user in one line."""

    exit_code = EXIT_INTERNAL


class UsageError(GraderError):
    """The command was given something it cannot work with."""

    exit_code = EXIT_USAGE


class UnknownAssignment(UsageError):
    def __init__(self, name: str, known: list[str]):
        super().__init__(f"unknown assignment {name!r}; known: {', '.join(known) or 'none'}")


class SubmissionError(UsageError):
    """The submission path cannot be read as a folder, zip or notebook."""


class InternalError(GraderError):
    """The grader failed; the student's score is unknown, not zero."""

    exit_code = EXIT_INTERNAL

    def __init__(self, message: str):
        super().__init__(f"internal grader error: {message}. This is not a problem with the submission; "
                         "please report it to the course staff.")

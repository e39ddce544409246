"""One student's failure stays that student's: what went wrong, in one sentence, and never the class's stop.

Every stage of a class run that touches one student's input (discovery, hashing,
cloning, unpacking, staging, grading, writing the row) catches what goes wrong
there and turns it into one sentence with ``crash_sentence``: that student's
"not graded: ..." row (``grader.batch.api``), and the rest of the class goes on.
Only a machine-wide failure (``machine_wide``: a full disk, a gradebook that
cannot be written) still ends the run, because it would fail every student alike;
Ctrl-C is not an ``Exception`` and is never caught here.

A crash in the grader's own code for one input is still a bug to report: its
traceback is saved to a file whose path the sentence names, as ``dlgrade``
does for a crash of the whole command.
"""

from __future__ import annotations

import os
import tempfile
import traceback

from grader.errors import DISK_FULL, GraderError
from grader.text import encodable

MAX_SENTENCE = 300


class NotGraded(Exception):
    """This student cannot be graded in this run, for the reason in the message (one sentence)."""


def save_traceback(exc: BaseException) -> str:
    """Write ``exc``'s traceback to a file for the staff; return where (or why not), as the end of a sentence."""
    try:
        fd, path = tempfile.mkstemp(prefix="dlgrade-crash-", suffix=".txt")
        with os.fdopen(fd, "w", encoding="utf-8", errors="backslashreplace") as f:
            traceback.print_exception(type(exc), exc, exc.__traceback__, file=f)
        return f"the details are in {encodable(path)}"
    except OSError:
        return "its traceback could not be saved (no writable temporary folder)"


def _one_line(text: str) -> str:
    line = " ".join(encodable(text).split())
    return line if len(line) <= MAX_SENTENCE else line[:MAX_SENTENCE - 1] + "…"


def crash_sentence(exc: BaseException, stage: str) -> str:
    """One sentence for an error while ``stage`` (e.g. "hashing the submission"), the traceback saved if it is a bug.

    An error that explains itself (``NotGraded``, a ``SubmissionError``, an unreadable file) is its own sentence;
    anything else is a crash of the grader for this one input and says so, with where its traceback is.
    """
    if isinstance(exc, (NotGraded, GraderError)):
        return _one_line(str(exc).rstrip("."))
    if isinstance(exc, OSError) and exc.strerror:
        where = f" ({encodable(os.fsdecode(exc.filename))})" if isinstance(exc.filename, (str, bytes)) else ""
        return _one_line(f"{stage} failed: {exc.strerror}{where}")
    what = _one_line(f"{type(exc).__name__}: {exc}")
    return _one_line(f"the grader crashed while {stage} ({what}); this is not a problem with the submission, "
                     f"please report it") + f"; {save_traceback(exc)}"


def machine_wide(exc: BaseException) -> bool:
    """Whether ``exc`` would stop every student alike (a full disk, an unwritable gradebook): the run must end."""
    from grader.batch.gradebook import GradebookError

    if isinstance(exc, GradebookError):
        return True
    if isinstance(exc, OSError) and exc.errno in DISK_FULL:
        return True
    return isinstance(exc, MemoryError)

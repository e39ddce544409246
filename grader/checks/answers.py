"""Read a submission's ``answers.toml`` and look up one answer, with named failures.

The file is student data read in the parent: its size is capped, it is parsed
by the standard TOML parser (no code runs), and every problem (no file, bad
TOML, missing table or key, wrong type) becomes a ``CheckFailed`` that says
exactly what to fix. Numbers are checked here too, before any check uses
them: an integer beyond 64 bits, a NaN or an infinity (``1e400`` parses as one)
anywhere in an answer is a named failure of that question, never a crash.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

from grader.assignment import CheckContext, CheckFailed

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ANSWERS_FILE = "answers.toml"
MAX_BYTES = 1024 * 1024
INT_LIMIT = 2**63  # what NumPy and every comparison here can hold exactly
MAX_ITEMS = 10_000


def load_answers(path: Path | None) -> dict:
    """Parse the answers file; raise ``CheckFailed`` if it is absent or malformed."""
    if path is None:
        raise CheckFailed(f"missing: {ANSWERS_FILE} was not found in the submission.",
                          f"Copy {ANSWERS_FILE} from the template and fill in your answers.")
    if path.stat().st_size > MAX_BYTES:  # the size first: never read a huge file whole
        raise CheckFailed(f"{ANSWERS_FILE} is larger than {MAX_BYTES >> 10} KiB.")
    data = path.read_bytes()[:MAX_BYTES + 1]
    if len(data) > MAX_BYTES:
        raise CheckFailed(f"{ANSWERS_FILE} is larger than {MAX_BYTES >> 10} KiB.")
    try:
        return tomllib.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise CheckFailed(f"{ANSWERS_FILE} is not UTF-8 text.") from None
    except (tomllib.TOMLDecodeError, RecursionError, ValueError, MemoryError) as exc:
        raise CheckFailed(f"{ANSWERS_FILE} could not be read: {exc}.",
                          'Check the TOML syntax: strings in quotes, one [table] per question, e.g. dX = "G / Y".') \
            from None


def describe_int(value: int) -> str:
    """An integer as a reader can take it in: written out when short, by its size when huge."""
    if value > 1 and value & (value - 1) == 0:
        return f"2**{value.bit_length() - 1}"
    digits = len(str(abs(value))) if value.bit_length() < 14_000 else value.bit_length() * 0.30103
    return str(value) if digits <= 30 else f"an integer of {digits:.0f} digits"


def check_numbers(name: str, value) -> None:
    """Raise ``CheckFailed`` if ``value`` (a number or nested lists of them) holds one the grader cannot compare."""
    stack, seen = [value], 0
    while stack:
        item = stack.pop()
        seen += 1
        if seen > MAX_ITEMS:
            raise CheckFailed(f"{name} has more than {MAX_ITEMS} entries; the answer is a handful of numbers.")
        if isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, int) and not isinstance(item, bool) and not -INT_LIMIT <= item < INT_LIMIT:
            raise CheckFailed(f"{name}: {describe_int(item)} is not a number the grader can compare "
                              "(integers must fit in 64 bits).", "Give the value the question asks for.")
        elif isinstance(item, float) and not math.isfinite(item):
            why = "not a number" if item != item else "infinite (a huge exponent such as 1e400 is infinity)"
            raise CheckFailed(f"{name}: {item} is {why}, so the grader cannot compare it.",
                              "Give the value the question asks for as an ordinary number.")


def answer(ctx: CheckContext, table: str, key: str, kinds: tuple[type, ...] = (str,)):
    """The value of ``[table] key`` in the submission's answers, of one of ``kinds``."""
    answers = load_answers(ctx.files.get(ANSWERS_FILE))
    section = answers.get(table)
    if not isinstance(section, dict):
        raise CheckFailed(f"missing: answers.toml has no [{table}] table.", f"Add [{table}] with {key} = ...")
    if key not in section or section[key] in ("", None) or section[key] == []:
        raise CheckFailed(f"missing: [{table}] {key} is not answered in answers.toml.")
    value = section[key]
    if isinstance(value, bool) or not isinstance(value, kinds):
        wanted = " or ".join({str: "a string", int: "a number", float: "a number", list: "a list"}[k]
                             for k in kinds)
        raise CheckFailed(f"[{table}] {key} should be {wanted}, got {type(value).__name__}.")
    check_numbers(f"[{table}] {key}", value)
    return value

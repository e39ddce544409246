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
import tomllib
from pathlib import Path

from grader.assignment import CheckContext, CheckFailed

ANSWERS_FILE = "answers.toml"
MAX_BYTES = 1024 * 1024
# What a double-quoted TOML string makes of LaTeX's \beta, \tau, \nabla, \frac, \rho: control characters.
ESCAPED_CONTROLS = {"\b": r"\b, as in \beta", "\t": r"\t, as in \tau or \times", "\n": r"\n, as in \nabla",
                    "\f": r"\f, as in \frac", "\r": r"\r, as in \rho or \right"}
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
        hint = "Check the TOML syntax: strings in quotes, one [table] per question, e.g. dX = '2 * G * X'."
        if "escape" in str(exc).lower() or "\\" in str(exc):
            hint = (r"In double quotes TOML reads \ as an escape (\sum is an error, \frac a form feed): write LaTeX "
                    r"in single quotes, e.g. dX = '$\frac{G}{2}$'.")
        raise CheckFailed(f"{ANSWERS_FILE} could not be read: {exc}.", hint) from None


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
    if key not in section or _unanswered(section[key]):
        raise CheckFailed(f"missing: [{table}] {key} is not answered in answers.toml.")
    value = section[key]
    if isinstance(value, str) and "$" in value and any(c in value for c in ESCAPED_CONTROLS):
        escape = next(ESCAPED_CONTROLS[c] for c in value if c in ESCAPED_CONTROLS)
        raise CheckFailed(f"[{table}] {key} contains a control character ({escape}): in double quotes TOML turned "
                          "a backslash of your LaTeX into it.",
                          f"Use single quotes for LaTeX, where a backslash stays a backslash: {key} = "
                          r"'$\frac{G}{2}$'.")
    if isinstance(value, bool) or not isinstance(value, kinds):
        wanted = " or ".join(dict.fromkeys({str: "a string", int: "a number", float: "a number",
                                            list: "a list"}[k] for k in kinds))
        hint = ""
        if isinstance(value, str) and float in kinds and _is_number(value):
            hint = f"Write the number without quotes: {key} = {value.strip()}"
        elif isinstance(value, (int, float)) and kinds == (str,):
            hint = f"This answer is a formula, not a number: write it as a string in single quotes, {key} = '...'"
        raise CheckFailed(f"[{table}] {key} should be {wanted}, got {type(value).__name__}.", hint)
    check_numbers(f"[{table}] {key}", value)
    return value


def _unanswered(value) -> bool:
    """The template's placeholders: an empty string or list, or nan (a number that says "not yet")."""
    return value in ("", None) or value == [] or (isinstance(value, float) and math.isnan(value))


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True

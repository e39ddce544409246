"""Read a submission's ``answers.toml`` and look up one answer, with named failures.

The file is student data read in the parent: its size is capped, it is parsed
by the standard TOML parser (no code runs), and every problem (no file, bad
TOML, missing table or key, wrong type) becomes a ``CheckFailed`` that says
exactly what to fix.
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


def load_answers(path: Path | None) -> dict:
    """Parse the answers file; raise ``CheckFailed`` if it is absent or malformed."""
    if path is None:
        raise CheckFailed(f"missing: {ANSWERS_FILE} was not found in the submission.",
                          f"Copy {ANSWERS_FILE} from the template and fill in your answers.")
    data = path.read_bytes()
    if len(data) > MAX_BYTES:
        raise CheckFailed(f"{ANSWERS_FILE} is larger than {MAX_BYTES >> 10} KiB.")
    try:
        return tomllib.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise CheckFailed(f"{ANSWERS_FILE} is not UTF-8 text.") from None
    except (tomllib.TOMLDecodeError, RecursionError, ValueError) as exc:
        hint = 'Check the TOML syntax: strings in quotes, one [table] per question, e.g. dX = "G / Y".'
        if "escape" in str(exc).lower() or "\\" in str(exc):
            hint = (r"In double quotes TOML reads \ as an escape (\sum is an error, \frac a form feed): write LaTeX "
                    r"in single quotes, e.g. dX = '$\frac{G}{Y}$'.")
        raise CheckFailed(f"{ANSWERS_FILE} could not be read: {exc}.", hint) from None


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
                          r"'$\frac{G}{Y}$'.")
    if isinstance(value, bool) or not isinstance(value, kinds):
        wanted = " or ".join(dict.fromkeys({str: "a string", int: "a number", float: "a number",
                                            list: "a list"}[k] for k in kinds))
        hint = ""
        if isinstance(value, str) and float in kinds and _is_number(value):
            hint = f"Write the number without quotes: {key} = {value.strip()}"
        raise CheckFailed(f"[{table}] {key} should be {wanted}, got {type(value).__name__}.", hint)
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

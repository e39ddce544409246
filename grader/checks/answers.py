"""Read a submission's ``answers.toml`` and look up one answer, with named failures.

The file is student data read in the parent: its size is capped, it is parsed
by the standard TOML parser (no code runs), and every problem (no file, bad
TOML, missing table or key, wrong type) becomes a ``CheckFailed`` that says
exactly what to fix.
"""

from __future__ import annotations

import sys
from pathlib import Path

from grader.assignment import CheckContext, CheckFailed

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ANSWERS_FILE = "answers.toml"
MAX_BYTES = 1024 * 1024


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
        raise CheckFailed(f"{ANSWERS_FILE} could not be read: {exc}.",
                          'Check the TOML syntax: strings in quotes, one [table] per question, e.g. dX = "G / Y".') \
            from None


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
    return value

"""Files an assignment ships inside its own package (data sets, fixtures): found where the package is installed."""

from __future__ import annotations

from pathlib import Path

from grader.errors import UsageError


def package_file(assignment, relative: str) -> Path:
    """The path of ``relative`` inside ``assignment``'s package (an ``Assignment`` or its id).

    Per-assignment data travels with the package that owns it (``package-data`` in its pyproject), so
    it is found the same way in a checkout, an editable install and a wheel.
    """
    if isinstance(assignment, str):
        from grader.assignment import get_assignment

        assignment = get_assignment(assignment, load_checks=False)
    folder = assignment.package_folder
    if folder is None:
        raise UsageError(f"{assignment.id}: its package {assignment.package!r} is not installed here.")
    path = folder / relative
    if not path.exists():
        raise UsageError(f"{assignment.id}: no {relative} in its package ({folder}).")
    return path

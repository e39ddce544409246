"""Report formats: each turns a ``Report`` into text. Add one with ``register_format``.

Built-in formats register exactly as a course's own would.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

from grader.result import Report

Renderer = Callable[[Report], str]
_formats: dict[str, Renderer] = {}


def register_format(name: str) -> Callable[[Renderer], Renderer]:
    """Decorator: make ``render(report) -> str`` available as ``--format NAME``."""

    def register(render: Renderer) -> Renderer:
        _formats[name] = render
        return render

    return register


# The built-in formats and the modules that register them, imported when a format is used: listing the
# formats (e.g. to check --format) imports none of them.
BUILTIN_FORMATS = {"gradescope": "grader.report.gradescope", "html": "grader.report.html",
                   "json": "grader.report.json_report", "junit": "grader.report.junit",
                   "markdown": "grader.report.markdown", "terminal": "grader.report.terminal"}


def formats() -> list[str]:
    return sorted(set(_formats) | set(BUILTIN_FORMATS))


def render(report: Report, format_name: str) -> str:
    if format_name not in _formats and format_name in BUILTIN_FORMATS:
        importlib.import_module(BUILTIN_FORMATS[format_name])
    return _formats[format_name](report)

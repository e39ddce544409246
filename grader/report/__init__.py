"""Report formats: each turns a ``Report`` into text. Add one with ``register_format``.

Built-in formats register exactly as a course's own would.
"""

from __future__ import annotations

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


def formats() -> list[str]:
    _load_builtins()
    return sorted(_formats)


def render(report: Report, format_name: str) -> str:
    _load_builtins()
    return _formats[format_name](report)


def _load_builtins() -> None:
    from grader.report import gradescope, html, json_report, junit, markdown, terminal  # noqa: F401  (registering)

"""The human report: a table of checks, then each problem with its hint.

Colour is never the only signal: every status has its own symbol.
"""

from __future__ import annotations

import io

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from grader.report import register_format
from grader.result import UNSCORED, Report

SYMBOLS = {"passed": ("✓", "green"), "failed": ("✗", "red"), "error": ("!", "yellow"),
           "timeout": ("⏱", "yellow"), "skipped": ("-", "dim"), "undecided": ("?", "magenta"),
           "hidden": ("·", "dim")}


def _points(value: float) -> str:
    return f"{value:g}"


def print_report(report: Report, console: Console) -> None:
    """Print ``report`` on a rich console."""
    title = f"dlgrade {report.assignment} · {escape(report.submission)}"
    seed = report.diagnostics.get("seed")
    table = Table(title=title, caption=f"seed {seed}: rerun with --seed {seed} to reproduce" if seed is not None
                  else None, show_lines=False, expand=False)
    table.add_column("Task", no_wrap=True)
    table.add_column("Check")
    table.add_column("Points", justify="right", no_wrap=True)
    table.add_column("Status", no_wrap=True)
    for check in report.checks:
        symbol, colour = SYMBOLS[check.status]
        partial = check.status == "failed" and check.score > 0
        table.add_row(check.task, escape(check.name),
                      "" if check.status in UNSCORED else f"{_points(check.score)}/{_points(check.max_score)}",
                      f"[{colour}]{symbol} {check.status}{' (partial)' if partial else ''}[/]")
    console.print(table)
    problems = [c for c in report.checks if c.status not in ("passed", "skipped", "hidden")]
    for check in problems:
        symbol, colour = SYMBOLS[check.status]
        console.print(f"\n[{colour}]{symbol}[/] [bold]{check.task} {escape(check.name)}[/] "
                      f"({_points(check.score)}/{_points(check.max_score)})")
        if check.message:
            console.print(f"  {escape(check.message)}")
        if check.hint:
            console.print(f"  [cyan]hint:[/] {escape(check.hint)}")
        if check.output.strip():
            lines = check.output.strip().splitlines()
            shown = "\n    ".join(escape(line[:200]) for line in lines[:5])
            more = f"\n    [dim]... {len(lines) - 5} more lines[/]" if len(lines) > 5 else ""
            console.print(f"  [dim]your code printed:[/]\n    {shown}{more}")
    hidden = [c for c in report.checks if c.status == "hidden"]
    if hidden:
        console.print(f"\n[dim]· {len(hidden)} check(s) hidden in this student build: graded by the staff's build, "
                      "not counted here.[/]")
    for note in report.diagnostics.get("submission_notes", []):
        console.print(f"\n[dim]note: {escape(note)}[/]")
    verdict = "all checks passed" if report.all_passed else f"{len(problems)} check(s) need work"
    colour = "green" if report.all_passed else "red"
    console.print(f"\n[bold]Score: {_points(report.score)}/{_points(report.max_score)}[/] "
                  f"[{colour}]({verdict})[/]")


@register_format("terminal")
def render_terminal(report: Report, width: int = 100) -> str:
    """Plain text (no colour codes), for files and golden tests."""
    buffer = io.StringIO()
    print_report(report, Console(file=buffer, width=width, color_system=None, force_terminal=False,
                                 highlight=False, emoji=False))
    return buffer.getvalue()

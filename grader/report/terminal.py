"""The human report: a table of checks, then each problem with its hint.

Colour is never the only signal: every status has its own symbol.
"""

from __future__ import annotations

import io

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from grader.report import register_format
from grader.report.markdown import more_printed, printed_lines
from grader.report.points import score_line
from grader.report.sanitize import visible
from grader.result import UNSCORED, Report

SYMBOLS = {"passed": ("✓", "green"), "failed": ("✗", "red"), "error": ("!", "yellow"),
           "timeout": ("⏱", "yellow"), "skipped": ("-", "dim"), "undecided": ("?", "magenta"),
           "not_run": ("·", "dim"), "hidden": ("·", "dim")}


def _points(value: float) -> str:
    return f"{value:g}"


def _text(value: object) -> str:
    """Student-reachable text, with control characters made visible and rich markup escaped."""
    return escape(visible(value))


def _block(value: object) -> str:
    """Like ``_text``; continuation lines are indented so no student line can pass for the grader's own."""
    return _text(value).replace("\n", "\n    ")


def print_report(report: Report, console: Console) -> None:
    """Print ``report`` on a rich console."""
    title = f"dlgrade {_text(report.assignment)} · {_text(report.submission)}"
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
        table.add_row(_text(check.task), _text(check.name),
                      "" if check.status in UNSCORED else f"{_points(check.score)}/{_points(check.max_score)}",
                      f"[{colour}]{symbol} {check.status}{' (partial)' if partial else ''}[/]")
    console.print(table)
    problems = [c for c in report.checks if c.status not in ("passed", "skipped", "not_run", "hidden")]
    not_run = [c for c in report.checks if c.status == "not_run"]
    # One explanation for checks that failed for the very same reason (a missing file, say), not one each.
    groups: dict[tuple, list] = {}
    for check in problems:
        groups.setdefault((check.status, check.message, check.hint, check.output), []).append(check)
    for same in groups.values():
        check = same[0]
        symbol, colour = SYMBOLS[check.status]
        if len(same) == 1:
            console.print(f"\n[{colour}]{symbol}[/] [bold]{_text(check.task)} {_text(check.name)}[/] "
                          f"({_points(check.score)}/{_points(check.max_score)})")
        else:
            names = ", ".join(f"{c.task} {c.name}" for c in same)
            console.print(f"\n[{colour}]{symbol}[/] [bold]{len(same)} checks[/] "
                          f"({_points(sum(c.score for c in same))}/{_points(sum(c.max_score for c in same))}): "
                          f"{_text(names)}")
        if check.message:
            console.print(f"  {_block(check.message)}")
        if check.hint:
            console.print(f"  [cyan]hint:[/] {_block(check.hint)}")
        _print_root_cause(report, check, console)
        if check.output.strip():
            lines, more = printed_lines(check.output)
            shown = "\n    ".join(_text(line) for line in lines)
            tail = more_printed(check.output, more)
            more = f"\n    [dim]{tail.strip()}[/]" if tail else ""
            console.print(f"  [dim]your code printed:[/]\n    {shown}{more}")
    if not_run:
        symbol, colour = SYMBOLS["not_run"]
        console.print(f"\n[{colour}]{symbol}[/] [bold]{len(not_run)} check(s) not run[/]: "
                      f"{_text(not_run[0].message.removeprefix('not run: '))}")
    if report.diagnostics.get("interrupted"):
        console.print(f"\n[yellow]grading was interrupted ({_text(report.diagnostics['interrupted'])}); "
                      "this report covers the checks that finished.[/]")
    for check in report.checks:
        if check.details.get("standin") and check.status == "passed":
            console.print(f"\n[dim]note: {check.task} {_text(check.name)} used the grader's "
                          f"{_text(str(check.details['standin']))} in place of yours, which failed its own checks "
                          "(one mistake is counted once).[/]")
    line = score_line(report)
    if line.hidden_checks:
        console.print(f"\n[dim]· {line.hidden_checks} check(s) hidden in this student build: graded by the staff's "
                      f"build, not counted here ({_points(line.hidden_points)} points).[/]")
    for note in report.diagnostics.get("submission_notes", []):
        console.print(f"\n[dim]note: {_text(note)}[/]")
    colour = "red" if line.need_work else "green" if line.all_passed else "yellow"
    staff = f"; [yellow]{line.staff_part}[/]" if line.hidden_checks else ""
    where = " on the checks this build can grade" if line.hidden_checks else ""
    console.print(f"\n[bold]Score: {line.points}[/]{where} [{colour}]({line.verdict})[/]{staff}")


def _print_root_cause(report: Report, check, console: Console) -> None:
    """One mistake, counted once: link a failure to its root cause, and a root cause to what it explains."""
    names = {c.id: f"{c.task} {c.name}" for c in report.checks}
    if check.root_cause:
        console.print(f"  [dim]root cause:[/] {_text(names.get(check.root_cause, check.root_cause))} (see above)")
    further = sum(1 for c in report.checks if c.root_cause == check.id)
    if further:
        console.print(f"  [dim]{further} further check{'s' if further > 1 else ''} fail because of this.[/]")


@register_format("terminal")
def render_terminal(report: Report, width: int = 100) -> str:
    """Plain text (no colour codes), for files and golden tests."""
    buffer = io.StringIO()
    print_report(report, Console(file=buffer, width=width, color_system=None, force_terminal=False,
                                 highlight=False, emoji=False))
    return buffer.getvalue()

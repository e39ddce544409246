"""The ``dlgrade`` command: parse, one ``grader.api`` call, render, exit code.

Exit codes: 0 every check passed, 1 some check did not, 2 usage error,
3 the grader itself failed (never the student's zero).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from grader import api
from grader.errors import EXIT_FAILED, EXIT_PASSED, GraderError
from grader.report import formats, render
from grader.report.plot import write_learning_curves
from grader.report.terminal import print_report


class _Group(click.Group):
    """Turns every ``GraderError`` into one line on stderr and its exit code."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except GraderError as exc:
            click.echo(f"dlgrade: {exc}", err=True)
            sys.exit(exc.exit_code)


@click.group(cls=_Group)
@click.version_option(package_name="dlgrade")
def main() -> None:
    """Autograder for from-scratch deep-learning assignments."""


@main.command("list")
def list_command() -> None:
    """List the assignments with their titles and total points."""
    table = Table(show_header=True)
    for column in ("Assignment", "Title", "Points"):
        table.add_column(column)
    for assignment in api.list_assignments():
        table.add_row(assignment.id, escape(assignment.title), f"{assignment.total_points:g}")
    Console().print(table)


@main.command("show")
@click.argument("assignment")
def show_command(assignment: str) -> None:
    """Show ASSIGNMENT's handout summary: files, tasks, checks and points."""
    a = api.get_assignment(assignment)
    console = Console()
    console.print(f"[bold]{a.id} — {escape(a.title)}[/]\n{escape(a.summary)}\n")
    console.print(f"Files expected at the top of the submission: {', '.join(a.files)}")
    if a.forbidden_imports:
        console.print(f"Not allowed to import: {', '.join(a.forbidden_imports)}")
    table = Table("Task", "Check", "Points", "What it verifies")
    for check in sorted(a.checks, key=lambda c: a.tasks.index(c.task)):
        table.add_row(check.task, escape(check.name), f"{check.points:g}", escape(check.description))
    console.print(table)
    console.print(f"Total: {a.total_points:g} points")
    if a.questions:
        console.print("\n[bold]Written questions (answers.toml)[/]")
        console.print(escape(a.questions), soft_wrap=True)


@main.command("check")
@click.argument("assignment")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--task", "tasks", multiple=True, metavar="ID", help="Only this task (e.g. 1.1) or check id; repeatable.")
@click.option("--format", "format_name", type=click.Choice(formats()), default="terminal",
              show_default=True, help="Report format.")
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the report to this file instead of standard output.")
@click.option("--seed", type=int, help="Seed of the random inputs (printed in every report), to reproduce a run.")
@click.option("--timeout-scale", type=click.FloatRange(min=0.01, max=100), default=1.0, show_default=True,
              help="Multiply every time limit (e.g. 2 on a slow machine).")
@click.option("--data", "data", multiple=True, metavar="NAME=PATH",
              help="A local data set, e.g. cifar10=/data/cifar-10-batches-py (the official python version).")
@click.option("--artifacts", type=click.Path(file_okay=False, path_type=Path),
              help="Write learning-curve PNGs of training checks into this folder.")
def check_command(assignment: str, path: Path, tasks: tuple[str, ...], format_name: str, output: Path | None,
                  seed: int | None, timeout_scale: float, data: tuple[str, ...], artifacts: Path | None) -> None:
    """Grade the submission at PATH (a folder, a .zip or an .ipynb) for ASSIGNMENT."""
    datasets = {}
    for item in data:
        name, sep, folder = item.partition("=")
        if not sep or not name or not folder:
            raise click.BadParameter(f"expected NAME=PATH, got {item!r}", param_hint="--data")
        datasets[name] = folder
    err = Console(stderr=True)
    with err.status("grading...", spinner="dots") as status:
        report = api.check(assignment, path, tasks=list(tasks) or None, seed=seed, timeout_scale=timeout_scale,
                           data=datasets, progress=lambda text: status.update(escape(text)))
    if artifacts is not None:
        for written in write_learning_curves(report, artifacts):
            err.print(f"learning curves: {written}")
    if output is not None:
        output.write_text(render(report, format_name), encoding="utf-8")
    elif format_name == "terminal":
        print_report(report, Console())
    else:
        click.echo(render(report, format_name), nl=False)
    sys.exit(EXIT_PASSED if report.all_passed else EXIT_FAILED)


@main.command("doctor")
@click.option("--format", "format_name", type=click.Choice(["terminal", "json"]), default="terminal",
              show_default=True, help="Output format.")
def doctor_command(format_name: str) -> None:
    """Show the isolation a sandbox session gets on this machine, and how to get the full sandbox."""
    report = api.doctor()
    if format_name == "json":
        click.echo(json.dumps(report.to_dict(), indent=2))
        return
    click.echo(f"isolation level: {report.level}  ({report.user}, {report.system}, Python {report.python}, "
               f"one session {report.session_ms:.0f} ms)")
    fixes: dict[str, list[str]] = {}
    for layer in report.layers:
        click.echo(f"  [{'x' if layer.active else ' '}] {layer.name}: {layer.gives}")
        if not layer.active:
            fixes.setdefault(layer.fix, []).append(layer.name)
    click.echo(f"  rlimits: {', '.join(report.rlimits) or 'none'}")
    if report.forced_off:
        click.echo("namespaces are turned off here by DLGRADE_SANDBOX=minimal (or Zygote(namespaces=False)).")
    for fix, names in fixes.items():
        click.echo(f"to get {', '.join(names)}: {fix}")


if __name__ == "__main__":
    main()

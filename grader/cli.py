"""The ``dlgrade`` command: parse, one ``grader.api`` call, render, exit code.

Exit codes: 0 every check passed, 1 some check did not, 2 usage error,
3 the grader itself failed (never the student's zero).
"""

from __future__ import annotations

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
    """Autograder for from-scratch deep-learning assignments.

    \b
    Examples:
      dlgrade list                       the assignments
      dlgrade init a1 my_submission/     starter files for a1
      dlgrade show a1                    files, tasks, checks and points
      dlgrade check a1 my_submission/    grade, and explain every failure
    """


@main.command("list")
def list_command() -> None:
    """List the assignments with their titles and total points.

    \b
    Example:
      dlgrade list
    """
    table = Table(show_header=True)
    for column in ("Assignment", "Title", "Points"):
        table.add_column(column)
    for assignment in api.list_assignments():
        missing = assignment.missing_requirements
        title = escape(assignment.title) + (f" [dim](needs {', '.join(missing)})[/]" if missing else "")
        table.add_row(assignment.id, title, f"{assignment.total_points:g}")
    Console().print(table)


@main.command("show")
@click.argument("assignment")
def show_command(assignment: str) -> None:
    """Show ASSIGNMENT's handout summary: files, tasks, checks and points.

    \b
    Example:
      dlgrade show a2
    """
    a = api.get_assignment(assignment)
    console = Console()
    console.print(f"[bold]{a.id} — {escape(a.title)}[/]\n{escape(a.summary)}\n")
    keys = api.answer_keys(a)
    files = list(a.files) + (["answers.toml"] if keys else [])
    console.print(f"Files expected at the top of the submission: {', '.join(files)}")
    for table_name, names in keys.items():
        console.print(f"  answers.toml \\[{escape(table_name)}]: {escape(', '.join(names))}")
    if a.missing_requirements:
        console.print(f"[yellow]Cannot be graded here: needs {', '.join(a.missing_requirements)}.[/]")
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
@click.argument("path", type=click.Path(path_type=Path), required=False)
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
@click.option("--jobs", type=click.IntRange(min=1), help="Checks run at once (default: the cores available).")
def check_command(assignment: str, path: Path | None, tasks: tuple[str, ...], format_name: str,
                  output: Path | None, seed: int | None, timeout_scale: float, data: tuple[str, ...],
                  artifacts: Path | None, jobs: int | None) -> None:
    """Grade the submission at PATH (a folder, a .zip, an .ipynb, or one of its files) for ASSIGNMENT.

    Without PATH, grade the current folder if it holds the assignment's files.

    \b
    Examples:
      dlgrade check a1 my_submission/
      dlgrade check a1 my_submission/mlp.py --task 1.1
      dlgrade check a2 a2.ipynb --format json --output report.json
    """
    if path is None:
        path = api.default_submission(assignment)
    datasets = {}
    for item in data:
        name, sep, folder = item.partition("=")
        if not sep or not name or not folder:
            raise click.BadParameter(f"expected NAME=PATH, got {item!r}", param_hint="--data")
        datasets[name] = folder
    err = Console(stderr=True)
    with err.status("grading...", spinner="dots") as status:
        report = api.check(assignment, path, tasks=list(tasks) or None, seed=seed, timeout_scale=timeout_scale,
                           data=datasets, progress=lambda text: status.update(escape(text)), jobs=jobs)
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


@main.command("init")
@click.argument("assignment")
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Overwrite files that already exist.")
@click.option("--ci", is_flag=True, help="Also write the GitHub Actions workflow and the Classroom 50 script.")
def init_command(assignment: str, folder: Path, force: bool, ci: bool) -> None:
    """Write ASSIGNMENT's starter files (the handout's names, TODO stubs) into FOLDER.

    \b
    Examples:
      dlgrade init a1 my_submission/ && dlgrade check a1 my_submission/
      dlgrade init a1 template-repo/ --ci     # a course's template repository, with autograding
    """
    for written in api.init(assignment, folder, force=force, ci=ci):
        click.echo(f"wrote {written}")


@main.command("ci")
@click.argument("assignment")
@click.argument("path", type=click.Path(path_type=Path), default=".", required=False)
@click.option("--emit", "emits", multiple=True, required=True,
              type=click.Choice(["github", "classroom50", "junit", "gradescope"]),
              help="Write this platform's result files; repeatable.")
@click.option("--seed", type=int, help="Seed of the random inputs (printed in every report).")
@click.option("--gradescope-out", type=click.Path(dir_okay=False, path_type=Path),
              default="/autograder/results/results.json", show_default=True, help="Where --emit gradescope writes.")
@click.option("--junit-out", type=click.Path(dir_okay=False, path_type=Path),
              help="Where --emit junit writes (default: dlgrade-junit.xml).")
@click.option("--strict", is_flag=True, help="Exit 1 when a check did not pass (default: 0 once graded).")
def ci_command(assignment: str, path: Path, emits: tuple[str, ...], seed: int | None, gradescope_out: Path,
               junit_out: Path | None, strict: bool) -> None:
    """Grade PATH (default: the repository, .) in CI and write each platform's result files.

    Exit codes: 0 once a grade is written (failed checks are in the results, so the reporter step
    still runs), 1 with --strict when a check did not pass, 2 for a usage problem, 3 if dlgrade failed.

    \b
    Examples:
      dlgrade ci a1 --emit github                         # GitHub Actions + the grading reporter
      dlgrade ci a1 --emit classroom50                    # Classroom 50's result.json
      dlgrade ci a1 --emit junit --strict                 # GitLab, Jenkins, Azure
      dlgrade ci a1 /autograder/submission --emit gradescope
    """
    import os

    from grader import ci

    report = ci.grade_for_ci(assignment, path, seed=seed)
    outcome = ci.emit(report, list(emits), os.environ, Path.cwd(), gradescope_path=gradescope_out,
                      junit_path=junit_out, submission=path)
    for line in outcome.annotations:
        click.echo(line)
    click.echo(f"dlgrade {report.assignment}: {report.score:g}/{report.max_score:g}")
    for written in outcome.written:
        click.echo(f"wrote {written}", err=True)
    sys.exit(EXIT_FAILED if strict and not report.all_passed else EXIT_PASSED)


@main.group("gradescope")
def gradescope_group() -> None:
    """Gradescope autograders.

    \b
    Example:
      dlgrade gradescope bundle a1 -o autograder.zip
    """


@gradescope_group.command("bundle")
@click.argument("assignment")
@click.option("-o", "--output", type=click.Path(path_type=Path), default="autograder.zip", show_default=True,
              help="The zip file to write.")
def gradescope_bundle_command(assignment: str, output: Path) -> None:
    """Write the autograder zip (setup.sh, run_autograder, this dlgrade) for ASSIGNMENT.

    \b
    Example:
      dlgrade gradescope bundle a1 -o autograder.zip   # then upload it on Gradescope
    """
    from grader.gradescope_bundle import build_bundle

    click.echo(f"wrote {build_bundle(api.get_assignment(assignment), output)}")


if __name__ == "__main__":
    main()

"""The ``dlgrade`` command: parse, one ``grader.api`` call, render, exit code.

Exit codes: 0 every check passed, 1 some check did not, 2 usage error (a full
disk included), 3 the grader itself failed (never the student's zero), 130 / 143
``check`` was stopped by SIGINT / SIGTERM (the report of what finished is still
written), 141 the reader of the output went away.
"""

from __future__ import annotations

import json
import os
import sys
import threading
from pathlib import Path

import click

from grader.errors import (
    DISK_FULL,
    EXIT_FAILED,
    EXIT_INTERNAL,
    EXIT_INTERRUPTED,
    EXIT_PASSED,
    EXIT_USAGE,
    GraderError,
    UsageError,
)
from grader.lazy import OnFirstUse
from grader.report import formats, render
from grader.report.sanitize import visible

# Imported on first use, so that `dlgrade --help` and `dlgrade list` start in a fraction of a second:
# the grading library pulls in NumPy (and an assignment may pull in torch), the terminal report rich.
api = OnFirstUse("grader.api")
oracle = OnFirstUse("grader.oracle")
_rich_console, _rich_table, _rich_markup = (OnFirstUse(f"rich.{m}") for m in ("console", "table", "markup"))


def Console(**kwargs):  # noqa: N802 - rich's Console, imported on first use
    console = _rich_console.Console(**kwargs)
    console.on_broken_pipe = _reader_left  # rich would exit 1, which means "checks failed"
    return console


def _reader_left() -> None:
    """The reader of our output went away (``| head``): the command's handler ends it as SIGPIPE would."""
    raise BrokenPipeError(32, "the reader of the output went away")


def Table(*columns, **kwargs):  # noqa: N802 - rich's Table, imported on first use
    return _rich_table.Table(*columns, **kwargs)


def escape(text: str) -> str:
    return _rich_markup.escape(text)


def shown(text: object) -> str:
    """Student-reachable text (an id, a file name, a message) for one rich line: controls escaped, markup too."""
    return escape(visible(text, keep_newlines=False))


def print_report(report, console) -> None:
    from grader.report.terminal import print_report as print_terminal

    print_terminal(report, console)


class _LazySpinner:
    """A "grading..." line on stderr, created at the first progress update (from any check's thread)."""

    def __init__(self):
        self._status = None
        self._lock = threading.Lock()

    def update(self, text: str) -> None:
        with self._lock:
            if self._status is None:
                self._status = Console(stderr=True).status("grading...", spinner="dots")
                self._status.start()
            self._status.update(escape(visible(text)))

    def stop(self) -> None:
        with self._lock:
            if self._status is not None:
                self._status.stop()


class _FormatChoice(click.Choice):
    """``click.Choice`` over the registered report formats, listed only when the option is used or shown."""

    def __init__(self):
        super().__init__((), case_sensitive=True)

    @property
    def choices(self):
        return tuple(formats())

    @choices.setter
    def choices(self, value):
        pass


_FAST_EXIT: list[bool] = []  # set by ``run``, the console script; never when click's test runner calls ``main``


def _finish(code: int) -> None:
    """Exit a command that graded one submission. From the console script, once everything is written
    and the worker is gone, skip the interpreter's teardown of NumPy and SymPy (up to 0.2 s of a
    student's wait); anywhere else, an ordinary ``sys.exit``."""
    if _FAST_EXIT:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    sys.exit(code)


def run() -> None:
    """The ``dlgrade`` console script."""
    _FAST_EXIT.append(True)
    main()


class _Group(click.Group):
    """Turns every ``GraderError`` into one line on stderr and its exit code."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except GraderError as exc:
            click.echo(f"dlgrade: {visible(str(exc), keep_newlines=False)}", err=True)
            sys.exit(exc.exit_code)
        except KeyboardInterrupt:  # a second SIGINT/SIGTERM while the first was being handled
            click.echo("dlgrade: stopped at once by a second signal; no report was written.", err=True)
            sys.exit(EXIT_INTERRUPTED["SIGINT"])
        except BrokenPipeError:  # `dlgrade ... | head`: the reader left; end as a program killed by SIGPIPE would
            try:
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # the final flush must not raise again
            except (OSError, ValueError):
                pass
            sys.exit(128 + 13)
        except (click.exceptions.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise  # click's own: usage errors and exits, which it reports itself
        except Exception as exc:  # noqa: BLE001 - a bug in dlgrade: exit 3, never the 1 that means "checks failed"
            if isinstance(exc, OSError) and exc.errno in DISK_FULL:  # the machine's state, not a bug
                where = f" ({visible(str(exc.filename), keep_newlines=False)})" if exc.filename else ""
                click.echo(f"dlgrade: a disk is full or read-only{where}: {exc.strerror}. Free some space, or set "
                           f"TMPDIR to a writable folder that has room, and run the command again.", err=True)
                sys.exit(EXIT_USAGE)
            what = visible(f"{type(exc).__name__}: {exc}", keep_newlines=False)[:300]
            click.echo(f"dlgrade: internal grader error: {what}. This is not a problem with the submission; "
                       f"please report it to the course staff ({_save_traceback()}).", err=True)
            sys.exit(EXIT_INTERNAL)


def _save_traceback() -> str:
    """Write the current exception's traceback to a file for the staff; say where (or why not)."""
    import tempfile
    import traceback

    try:
        fd, path = tempfile.mkstemp(prefix="dlgrade-crash-", suffix=".txt")
        with os.fdopen(fd, "w") as f:
            traceback.print_exc(file=f)
        return f"the details are in {path}"
    except OSError:  # no temporary folder to write to: the details go to stderr, above the sentence
        traceback.print_exc()
        return "the details are above"


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
      dlgrade docs a1                    the handout (docs answers: how to write answers.toml)
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
    for assignment in api.list_assignments(load_checks=False):
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
    files = list(dict.fromkeys([*a.files, *(["answers.toml"] if keys else [])]))
    console.print(f"Files expected at the top of the submission: {', '.join(files)}")
    for table_name, names in keys.items():
        console.print(f"  answers.toml \\[{escape(table_name)}]: {escape(', '.join(names))}")
    if a.missing_requirements:
        console.print(f"[yellow]Cannot be graded here: needs {', '.join(a.missing_requirements)}.[/]")
    if a.forbidden_imports:
        console.print(f"Not allowed to import: {', '.join(a.forbidden_imports)}")
    table = Table("Task", "Check", "Points", "What it verifies")
    hidden = oracle.hidden_checks(a.id)
    for check in sorted(a.checks, key=lambda c: a.tasks.index(c.task)):
        what = f"(hidden: graded by the staff's build) {check.description}" if check.id in hidden else check.description
        table.add_row(check.task, escape(check.name), f"{check.points:g}", escape(what))
    console.print(table)
    console.print(f"Total: {a.total_points:g} points")
    if a.questions:
        console.print("\n[bold]Written questions (answers.toml)[/]")
        console.print(escape(a.questions), soft_wrap=True)


@main.command("docs")
@click.argument("page", required=False, type=click.Choice(
    ["handouts", "a1", "a2", "a3", "a4", "answers"]), metavar="[a1|a2|a3|a4|answers|handouts]")
def docs_command(page: str | None) -> None:
    """Print a handout (a1 ... a4), the answer-writing guide (answers) or the shared rules (handouts).

    Formatted on a terminal, plain Markdown when piped. These pages travel with every build of dlgrade.

    \b
    Examples:
      dlgrade docs a2
      dlgrade docs answers | less
    """
    from grader import docs

    if page is None:
        table = Table("Page", "What it is")
        for name, what in docs.DESCRIPTIONS.items():
            table.add_row(name, escape(what))
        Console().print(table)
        return
    text = docs.read_page(page)
    console = Console()
    if console.is_terminal:
        from rich.markdown import Markdown

        console.print(Markdown(text))
    else:
        click.echo(text, nl=not text.endswith("\n"))


@main.command("check")
@click.argument("assignment")
@click.argument("path", type=click.Path(path_type=Path), required=False)
@click.option("--task", "tasks", multiple=True, metavar="ID", help="Only this task (e.g. 1.1) or check id; repeatable.")
@click.option("--format", "format_name", type=_FormatChoice(), default="terminal",
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
@click.option("--budget", "budget_s", type=click.FloatRange(min=0.1, max=1e6), metavar="SECONDS",
              help="Wall-clock budget for the whole submission (default: the assignment's, e.g. 60 s for a1); "
                   "checks left without time are reported as not run.")
@click.option("--jobs", type=click.IntRange(min=1), help="Checks run at once (default: the cores available).")
def check_command(assignment: str, path: Path | None, tasks: tuple[str, ...], format_name: str,
                  output: Path | None, seed: int | None, timeout_scale: float, data: tuple[str, ...],
                  artifacts: Path | None, budget_s: float | None, jobs: int | None) -> None:
    """Grade the submission at PATH (a folder, a .zip, an .ipynb, or one of its files) for ASSIGNMENT.

    Without PATH, grade the current folder if it holds the assignment's files.

    \b
    Examples:
      dlgrade check a1 my_submission/
      dlgrade check a1 my_submission/mlp.py --task 1.1
      dlgrade check a2 a2.ipynb --format json --output report.json
    """
    if output is not None and not output.parent.is_dir():  # before grading, not after minutes of it
        raise UsageError(f"--output {output}: the folder {output.parent} does not exist")
    if path is None:
        path = api.default_submission(assignment)
    datasets = {}
    for item in data:
        name, sep, folder = item.partition("=")
        if not sep or not name or not folder:
            raise click.BadParameter(f"expected NAME=PATH, got {item!r}", param_hint="--data")
        datasets[name] = folder
    spinner = _LazySpinner()  # drawn at the first progress line: rich is imported once the worker is starting
    try:
        report = api.check(assignment, path, tasks=list(tasks) or None, seed=seed, timeout_scale=timeout_scale,
                           data=datasets, progress=spinner.update, budget_s=budget_s, jobs=jobs)
    finally:
        spinner.stop()
    err = Console(stderr=True)
    if artifacts is not None:
        from grader.report.plot import write_learning_curves

        for written in write_learning_curves(report, artifacts):
            err.print(f"learning curves: {shown(written)}")
    if output is not None:
        output.write_text(render(report, format_name), encoding="utf-8")
    elif format_name == "terminal":
        print_report(report, Console())
    else:
        click.echo(render(report, format_name), nl=False)
    if report.diagnostics.get("interrupted"):
        click.echo(f"dlgrade: stopped by {report.diagnostics['interrupted']}; the report covers the checks that "
                   "finished.", err=True)
        _finish(EXIT_INTERRUPTED[report.diagnostics["interrupted"]])
    _finish(EXIT_PASSED if report.all_passed else EXIT_FAILED)


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
    from grader import ci

    report = ci.grade_for_ci(assignment, path, seed=seed)
    outcome = ci.emit(report, list(emits), os.environ, Path.cwd(), gradescope_path=gradescope_out,
                      junit_path=junit_out, submission=path)
    for line in outcome.annotations:
        click.echo(line)
    click.echo(f"dlgrade {report.assignment}: {report.score:g}/{report.max_score:g}")
    for written in outcome.written:
        click.echo(f"wrote {written}", err=True)
    _finish(EXIT_FAILED if strict and not report.all_passed else EXIT_PASSED)


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

# --- grading a class (grader.batch) ----------------------------------------------------------------------------

GRADEBOOK_OPTION = click.option("--gradebook", "gradebook", type=click.Path(dir_okay=False, path_type=Path),
                                default=Path("gradebook.sqlite"), show_default=True, help="The gradebook file.")


@main.command("grade")
@click.argument("assignment")
@click.argument("submissions", type=click.Path(path_type=Path))
@click.option("--jobs", type=click.IntRange(min=1), default=1, show_default=True, help="Worker processes.")
@GRADEBOOK_OPTION
@click.option("--roster", type=click.Path(dir_okay=False, path_type=Path),
              help="The class list: a Canvas gradebook export, a Moodle grading worksheet, or a CSV of id,name.")
@click.option("--task", "tasks", multiple=True, metavar="ID", help="Only this task or check id; repeatable.")
@click.option("--budget", "budget_s", type=click.FloatRange(min=0.1), help="Seconds of budget per submission.")
@click.option("--seed", type=int, help="Seed of the random inputs (default: the last run's, else random).")
@click.option("--timeout-scale", type=click.FloatRange(min=0.01, max=100), default=1.0, show_default=True,
              help="Multiply every time limit.")
@click.option("--executor", type=click.Choice(["local", "dask"]), default="local", show_default=True)
@click.option("--scheduler", metavar="ADDR", help="Dask scheduler address (default: a LocalCluster).")
@click.option("--regrade", is_flag=True, help="Grade again even what is already graded for the same submission.")
@click.option("--deadline", metavar="ISO8601", help="SUBMISSIONS lists repositories (a text file of URLs or paths, "
              "one a line with an optional student id, or a folder of clones): grade each at its last commit at or "
              "before this time, e.g. 2026-11-02T23:59:00+01:00.")
@click.option("--branch", default="HEAD", show_default=True, help="With --deadline: the branch graded.")
@click.option("--due", metavar="ISO8601", help="Due time: record each submission's days late (from the times the "
              "LMS or the commits carry, never file dates). Default: the last run's; 'none' drops it.")
@click.option("--late-policy", metavar="POLICY", help="With --due: the penalty, e.g. \"10%/day, max 50%, grace 15m\" "
              "(of the points earned). Without it nothing is deducted.")
@click.option("--extensions", type=click.Path(dir_okay=False, path_type=Path),
              help="With --due: a CSV of student id and a new 'due' time, or extra 'days' or 'hours'.")
def grade_command(assignment: str, submissions: Path, jobs: int, gradebook: Path, roster: Path | None,
                  tasks: tuple[str, ...], budget_s: float | None, seed: int | None, timeout_scale: float,
                  executor: str, scheduler: str | None, regrade: bool, deadline: str | None, branch: str,
                  due: str | None, late_policy: str | None, extensions: Path | None) -> None:
    """Grade every student's submission in SUBMISSIONS (a folder or .zip, e.g. an LMS download) into the gradebook.

    With --deadline, SUBMISSIONS lists the students' repositories and each is graded at its last commit
    before the deadline (the commit, its dates and any edited CI files are kept in the gradebook).
    Rerunning grades only what is not graded yet; an interrupted run loses nothing.

    \b
    Examples:
      dlgrade grade a1 canvas_download.zip --jobs 8 --roster roster.csv
      dlgrade grade a4 submissions/ --executor dask --scheduler tcp://10.0.0.5:8786
      dlgrade grade a1 repos.txt --deadline 2026-11-02T23:59:00+01:00 --jobs 4
      dlgrade grade a2 gradescope_export.zip --due 2026-11-02T23:59:00-08:00 --late-policy "10%/day, max 50%"
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from grader.batch.api import grade_class
    from grader.batch.late import parse_due
    from grader.batch.repositories import flags, parse_deadline

    when = parse_deadline(deadline) if deadline is not None else None
    due_time = parse_due(due) if due is not None and due.lower() != "none" else None
    err = Console(stderr=True, soft_wrap=True)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[counts]}"),
               TimeRemainingColumn())
    bar = Progress(*columns, console=err, transient=False)
    task_id = bar.add_task("grading", total=None, counts="")  # the description is the phase

    def update(p) -> None:  # the first call comes once the arguments are checked: no bar before an error
        if not bar.live.is_started:
            bar.start()
        if bar.tasks[0].description != p.phase:  # cloning repositories, then grading: a fresh bar and ETA
            bar.reset(task_id, description=p.phase)
        bar.update(task_id, total=p.total, completed=p.done,
                   counts="" if p.phase != "grading" else
                   f"[green]{p.passed} passed[/] [red]{p.failed} failed[/] "
                   f"[yellow]{p.errored} errored[/] [dim]{p.skipped} already graded[/]")

    try:
        result = grade_class(assignment, submissions, gradebook=gradebook, jobs=jobs, roster=roster,
                             tasks=list(tasks) or None, seed=seed, budget_s=budget_s, timeout_scale=timeout_scale,
                             executor=executor, scheduler=scheduler, regrade=regrade, progress=update,
                             deadline=when, branch=branch, due=due_time, late_policy=late_policy,
                             extensions=extensions, keep_late_policy=due is None)
    except KeyboardInterrupt:
        bar.stop()
        err.print("interrupted: every student graded so far is saved; rerun the same command to continue")
        sys.exit(130)
    finally:
        bar.stop()
    err.print(f"run {result.run_id}: {len(result.graded)} graded, {len(result.skipped)} already graded, "
              f"{len(result.errors)} not graded, seed {result.seed}, {result.duration_s:.1f} s -> {gradebook}")
    for student, why in sorted(result.errors.items()):  # each in the gradebook; a rerun tries them again
        err.print(f"[yellow]not graded[/] {shown(student)}: {shown(why)}")
    _print_lms_summary(err, result)
    if result.missing:
        err.print(f"[red]missing[/] (on the roster, no submission): {shown(', '.join(result.missing))}")
    if result.unknown:
        err.print(f"[yellow]not on the roster[/]: {shown(', '.join(result.unknown))}")
    for student, record in sorted(result.repositories.items()):
        marks = [f for f in flags(record) if student not in result.errors or f != record["kind"]]  # listed above
        if marks:
            commit = record["commit"][:10] or "-"
            err.print(f"[yellow]flagged[/] {shown(student)} ({shown(commit)}): {shown(', '.join(marks))}")
    sys.exit(EXIT_FAILED if result.errors else EXIT_PASSED)


def _print_lms_summary(err, result) -> None:
    """What reading the download found: layout, roster column, incomplete students, files not graded, late work."""
    for note in result.notes:
        err.print(escape(visible(note)), soft_wrap=True)
    for student, files in sorted(result.incomplete.items()):
        err.print(f"[red]incomplete[/] {escape(visible(student))}: missing {escape(visible(', '.join(files)))} "
                  f"(graded as 'missing: FILE')", soft_wrap=True)
    for student, files in sorted(result.unplaced.items()):
        who = f"{escape(visible(student))}: " if student else "(no student's) "
        err.print(f"[yellow]not read[/] {who}{escape(visible(', '.join(files)))}", soft_wrap=True)
    for student, found in sorted(result.lateness.items()):
        err.print(f"[yellow]late[/] {escape(visible(student))}: {escape(visible(found.describe()))}", soft_wrap=True)


@main.group("gradebook")
def gradebook_group() -> None:
    """Read the gradebook: runs, one student's history, differences between runs, exports.

    \b
    Examples:
      dlgrade gradebook list
      dlgrade gradebook export --format canvas -o canvas.csv
    """


@gradebook_group.command("list")
@GRADEBOOK_OPTION
def gradebook_list(gradebook: Path) -> None:
    """List the runs: when, dlgrade version, seed, machine, isolation layers, students graded.

    \b
    Example:
      dlgrade gradebook list --gradebook gradebook.sqlite
    """
    from rich import box

    from grader.batch.api import flagged_repositories, list_runs

    # Fits 80 columns: a seed or a date is copied from here, so nothing is cut; the machine and the isolation
    # layers (15 names: a column 15 rows tall) go on one line per distinct set under the table.
    table = Table("Run", "Assignment", "Started (UTC)", "Status", "Version", "Seed", "Isolation", "Graded",
                  box=box.SIMPLE_HEAD, padding=(0, 1, 0, 0), show_edge=False)
    for index in (2, 3, 5):
        table.columns[index].no_wrap = True
    details: dict[str, list[str]] = {}
    for run in list_runs(gradebook):
        layers = ", ".join(k for k, v in run["isolation"].items() if v is True) or "-"
        machine = f"{run['machine'].get('node', '?')} ({run['machine'].get('cpus', '?')} cpus)"
        details.setdefault(f"on {machine}, isolation layers: {layers}", []).append(str(run["id"]))
        status = "unfinished" if run["status"] == "running" else run["status"]  # running now, or killed
        table.add_row(str(run["id"]), shown(run["assignment"]), run["started_at"].replace("T", " ")[:16], status,
                      shown(run["dlgrade_version"]), str(run["seed"]),
                      shown(run["isolation"].get("level", "-")), str(run["graded"]))
    console = Console()
    console.print(table)
    for detail, runs in details.items():
        console.print(f"run {', '.join(runs)}: {shown(detail)}")
    flagged = flagged_repositories(gradebook)
    if flagged:
        marks = Table("Assignment", "Student", "Run", "Commit", "Flags", title="Repositories flagged")
        for r in flagged:
            marks.add_row(shown(r["assignment"]), shown(r["student"]), str(r["run_id"]),
                          shown(r["commit"][:10] or "-"), shown(", ".join(r["flags"])))
        Console().print(marks)


@gradebook_group.command("show")
@click.argument("student", required=False)
@click.option("--check", "check_id", metavar="ID", help="Instead: list every student who did not pass check ID.")
@click.option("--assignment", help="With --check: which assignment, when the gradebook holds several.")
@GRADEBOOK_OPTION
def gradebook_show(student: str | None, check_id: str | None, assignment: str | None, gradebook: Path) -> None:
    """Show STUDENT's latest report, their grade with the staff's changes and their history; or who failed a check.

    \b
    Examples:
      dlgrade gradebook show 1234567
      dlgrade gradebook show --check linear_backward_dW
    """
    if check_id is not None:
        if student is not None:
            raise UsageError("give a STUDENT or --check ID, not both")
        _show_failures(gradebook, check_id, assignment)
        return
    if student is None:
        raise UsageError("give a STUDENT id (or --check ID to list who failed a check)")
    from grader.batch.api import staff_changes, student_history

    history = student_history(gradebook, student)
    console = Console()
    print_report(history[-1]["report"], console)
    from grader.batch.repositories import flags

    table = Table("Run", "Assignment", "Graded at", "Score", "Version", "Submission", "Commit", title="History")
    for row in history:
        table.add_row(str(row["run_id"]), shown(row["assignment"]), shown(row["graded_at"]),
                      f"{row['score']:g}/{row['max_score']:g}", shown(row["dlgrade_version"]),
                      shown(row["submission_hash"][:12]), shown((row.get("repository") or {}).get("commit", "")[:10]))
    console.print(table)
    repository = history[-1].get("repository")
    if repository:
        r = {key: shown(value or "-") for key, value in repository.items() if isinstance(value, str)}
        console.print(f"graded from {r['source']} ({r['branch']}) at {shown(repository['commit'] or 'no commit')}, "
                      f"committed {r['committed']}, authored {r['authored']}, deadline {r['deadline']}", soft_wrap=True)
        console.print(f"flags: {shown(', '.join(flags(repository)) or 'none')}", soft_wrap=True)
    _print_staff_changes(console, staff_changes(gradebook, student))


def _print_staff_changes(console, changes: dict[str, dict]) -> None:
    """The grade of record per assignment and, when the staff changed it, what, who, when and why."""
    for assignment, entry in sorted(changes.items()):
        final = entry["final"]
        raw = f"{final.raw:g}/{final.raw_max:g}"
        grade = final.total_text()
        console.print(f"grade of record ({escape(assignment)}): {grade}"
                      + (f" (the grader's {raw})" if grade != raw else ""), soft_wrap=True)
        for note in final.notes():
            console.print(f"  {shown(note)}", soft_wrap=True)
        for change in final.unapplied:
            console.print(f"  [yellow]not applied[/]: {escape(visible(change.describe()))} (the latest result has "
                          f"no such check)", soft_wrap=True)
        if entry["history"]:
            table = Table("When (UTC)", "Who", "Change", "Was", "Why", title=f"Staff changes ({escape(assignment)})")
            for change in entry["history"]:
                table.add_row(change.at.replace("T", " "), escape(visible(change.who)),
                              escape(visible(change.describe())), escape(change.was),
                              escape(visible(change.comment)))
            console.print(table)


def _show_failures(gradebook: Path, check_id: str, assignment: str | None) -> None:
    from grader.batch.api import who_failed

    assignment, failures = who_failed(gradebook, check_id, assignment)
    console = Console()
    if not failures:
        console.print(f"every student graded for {escape(assignment)} passed {escape(visible(check_id))}")
        return
    table = Table("Student", "Name", "Status", "Points", "First line of the message",
                  title=f"Did not pass {escape(visible(check_id))} ({escape(assignment)}): {len(failures)}")
    for f in failures:
        table.add_row(escape(visible(f.student)), escape(visible(f.name)), f.status,
                      f.points + (" (staff)" if f.changed else ""), escape(visible(f.message[:200])))
    console.print(table)


def _print_change(change, before, after) -> None:
    what = "removed" if change.action == "remove" else change.describe()
    Console().print(f"{escape(visible(change.student))} {escape(visible(what))} (was {escape(change.was)}); grade of "
                    f"record {before.total_text()} -> {after.total_text()} (the grader's {after.raw:g}/"
                    f"{after.raw_max:g}); recorded as {escape(visible(change.who))} at {change.at}", soft_wrap=True)


@gradebook_group.command("override")
@click.argument("student")
@click.argument("check")
@click.option("--points", type=float, help="The points the check (or the total) gets instead of the grader's.")
@click.option("--comment", required=True, help="Why: kept in the history and shown in the student's feedback.")
@click.option("--remove", is_flag=True, help="Remove the override (or excuse) on CHECK; the grader's points count.")
@click.option("--bonus", is_flag=True, help="Allow points above the check's maximum (extra credit).")
@click.option("--assignment", help="Which assignment, when the gradebook holds several.")
@GRADEBOOK_OPTION
def gradebook_override(student: str, check: str, points: float | None, comment: str, remove: bool, bonus: bool,
                       assignment: str | None, gradebook: Path) -> None:
    """Give STUDENT's CHECK (a check id, or `total` for the whole grade) other points, with a comment.

    The change is kept through regrades (it applies to the latest result), shown in `gradebook show`, the
    feedback and every export; the history keeps who (the OS user), when and why. Points lie in [0, max].

    \b
    Examples:
      dlgrade gradebook override 12345 linear_backward_dW --points 1.5 --comment "sign error only, see email"
      dlgrade gradebook override 12345 total --points 30 --comment "regraded by hand"
      dlgrade gradebook override 12345 linear_backward_dW --remove --comment "the regrade fixed it"
    """
    from grader.batch.api import change_grade

    if remove == (points is not None):
        raise UsageError("give --points P, or --remove to take the override away")
    _print_change(*change_grade(gradebook, student, check, "remove" if remove else "points", comment, points,
                                assignment, bonus))


@gradebook_group.command("excuse")
@click.argument("student")
@click.argument("check")
@click.option("--comment", required=True, help="Why: kept in the history and shown in the student's feedback.")
@click.option("--remove", is_flag=True, help="Remove the excuse (or override) on CHECK.")
@click.option("--assignment", help="Which assignment, when the gradebook holds several.")
@GRADEBOOK_OPTION
def gradebook_excuse(student: str, check: str, comment: str, remove: bool, assignment: str | None,
                     gradebook: Path) -> None:
    """Excuse STUDENT from CHECK (or `total`: the whole assignment): it counts neither in the score nor the maximum.

    \b
    Examples:
      dlgrade gradebook excuse 12345 adam_steps --comment "medical leave, week 3"
      dlgrade gradebook excuse 12345 total --comment "withdrew"
    """
    from grader.batch.api import change_grade

    _print_change(*change_grade(gradebook, student, check, "remove" if remove else "excuse", comment, None,
                                assignment))


@gradebook_group.command("diff")
@click.argument("run_a", type=int)
@click.argument("run_b", type=int)
@GRADEBOOK_OPTION
def gradebook_diff(run_a: int, run_b: int, gradebook: Path) -> None:
    """Show the checks whose outcome changed between RUN_A and RUN_B, per student.

    \b
    Example:
      dlgrade gradebook diff 1 2
    """
    from grader.batch.api import diff_runs

    changes, only_a, only_b = diff_runs(gradebook, run_a, run_b)
    console = Console()
    if changes:
        table = Table("Student", "Check", f"Run {run_a}", f"Run {run_b}")
        for change in changes:
            table.add_row(shown(change.student), shown(change.check), shown(change.before), shown(change.after))
        console.print(table)
    else:
        console.print("no check changed for the students graded in both runs")
    if only_a:
        console.print(f"graded only in run {run_a}: {shown(', '.join(only_a))}")
    if only_b:
        console.print(f"graded only in run {run_b}: {shown(', '.join(only_b))}")


@gradebook_group.command("export")
@click.option("--format", "format_name", type=click.Choice(["csv", "canvas", "moodle", "moodle-feedback", "junit",
                                                            "gradescope", "feedback", "analytics"]), required=True)
@click.option("-o", "--output", type=click.Path(path_type=Path), required=True,
              help="A file (csv, canvas, moodle, junit, analytics), a .zip (moodle-feedback) or a folder "
                   "(gradescope, feedback).")
@click.option("--assignment", help="Which assignment, when the gradebook holds several.")
@click.option("--feedback-dir", type=click.Path(file_okay=False, path_type=Path),
              help="With --format analytics: the folder of the feedback export, which the page links each "
                   "student to (default: feedback/ beside the page).")
@click.option("--roster", type=click.Path(dir_okay=False, path_type=Path),
              help="canvas / moodle: the LMS's file to fill (default: the roster `dlgrade grade --roster` was given).")
@click.option("--lms-column", metavar="HEADER", help="canvas: the column to fill, e.g. \"A1: NumPy network "
              "(884211)\" (default: the one named after the assignment).")
@GRADEBOOK_OPTION
def gradebook_export(format_name: str, output: Path, assignment: str | None, feedback_dir: Path | None,
                     roster: Path | None, lms_column: str | None, gradebook: Path) -> None:
    """Export the latest grades: a CSV, Canvas or Moodle imports, Gradescope results, JUnit XML, feedback or the
    class page.

    \b
    Examples:
      dlgrade gradebook export --format canvas -o canvas.csv --lms-column "A1: NumPy network (884211)"
      dlgrade gradebook export --format moodle -o worksheet-graded.csv
      dlgrade gradebook export --format moodle-feedback -o feedback.zip
      dlgrade gradebook export --format feedback -o feedback/
    """
    from grader.batch.api import export_grades

    written = export_grades(gradebook, format_name, output, assignment, roster, lms_column, feedback_dir)
    err = Console(stderr=True, soft_wrap=True)
    for note in getattr(written, "notes", ()):
        err.print(escape(visible(note)))
    err.print(f"wrote {len(written)} file(s) to {escape(str(output))}")


@gradebook_group.command("similar")
@click.option("--min", "minimum", type=click.FloatRange(0, 1), default=None,
              help="Similarity from 0 to 1 a pair needs to be listed (default 0.5); identical pairs always are.")
@click.option("--format", "format_name", type=click.Choice(["terminal", "csv"]), default="terminal",
              show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write the CSV to this file.")
@click.option("--assignment", help="Which assignment, when the gradebook holds several.")
@GRADEBOOK_OPTION
def gradebook_similar(minimum: float | None, format_name: str, output: Path | None, assignment: str | None,
                      gradebook: Path) -> None:
    """Rank pairs of students by how similar their code is: leads for a human look, never a verdict.

    Comments, formatting and names are ignored and the assignment's starter code is subtracted; pairs with
    the same files come first. Similarity is the share of the smaller submission's own code found in the other.

    \b
    Examples:
      dlgrade gradebook similar
      dlgrade gradebook similar --min 0.3 --format csv -o similar.csv
    """
    from grader.batch.api import similar_submissions
    from grader.batch.exports import write_similar_csv

    found, names = similar_submissions(gradebook, assignment, minimum)
    if format_name == "csv" or output is not None:
        write_similar_csv(found.pairs, names, output)
        if output is None:
            return
    else:
        console = Console()
        if found.pairs:
            table = Table("#", "Student", "Student", "Similarity", "Shared", "Same files",
                          title=f"Similar code ({escape(found.assignment)}), at least {found.minimum:.0%}")
            for rank, p in enumerate(found.pairs, 1):
                table.add_row(str(rank), escape(visible(_named(p.first, names))),
                              escape(visible(_named(p.second, names))), f"{p.similarity:.0%}", str(p.shared),
                              "yes" if p.identical else "")
            console.print(table)
        else:
            console.print(f"no pair at or above {found.minimum:.0%} among {found.compared} submissions")
    err = Console(stderr=True, soft_wrap=True)
    err.print(f"{found.compared} submissions compared; starter code "
              f"{'subtracted' if found.template else 'not found, so not subtracted'}. Similar code is a lead to "
              f"read, not proof: shared help, a common source or a small task can explain it.")
    if found.without_code:
        shown = ", ".join(found.without_code[:10]) + (", ..." if len(found.without_code) > 10 else "")
        err.print(f"[yellow]no code kept[/] for {len(found.without_code)} student(s) ({escape(visible(shown))}):"
                  f" graded before dlgrade kept code; rerun the same `dlgrade grade` command to keep it (nothing is "
                  f"regraded)")


def _named(student: str, names: dict[str, str]) -> str:
    return f"{student} ({names[student]})" if names.get(student) else student


@gradebook_group.command("reconcile")
@click.option("--ci", "ci_path", type=click.Path(path_type=Path), required=True,
              help="A CI result file, or a folder of them (alice.json, alice/result.json, ...).")
@click.option("--assignment", help="Which assignment, when the gradebook holds several.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the findings as CSV.")
@GRADEBOOK_OPTION
def gradebook_reconcile(ci_path: Path, assignment: str | None, output: Path | None, gradebook: Path) -> None:
    """Flag students whose CI reported a score that differs from the staff grade, and malformed CI files.

    Reads Classroom 50 result.json, Gradescope results.json and the GitHub reporter payloads that
    `dlgrade ci --emit github` writes ($GITHUB_OUTPUT). Exit 0 when every CI result agrees, 1 otherwise.

    \b
    Example:
      dlgrade gradebook reconcile --ci collected-ci-results/
    """
    from grader.batch.api import reconcile_ci
    from grader.batch.reconcile import write_findings_csv

    result = reconcile_ci(gradebook, ci_path, assignment)
    console = Console()
    if result.findings:
        table = Table("Student", "CI file", "Kind", "CI", "Staff (CI units)", "Staff points", "Why",
                      title=f"CI results that need a look ({result.assignment})")
        for f in result.findings:
            table.add_row(shown(f.student or "?"), shown(f.path), shown(f.kind or "?"), shown(f.ci or "-"),
                          shown(f.staff or "-"), shown(f.staff_points or "-"), shown(f.reason))
        console.print(table)
    console.print(f"{len(result.agreed)} agree, {len(result.findings)} to look at, "
                  f"{len(result.without_ci)} graded student(s) without a CI result", soft_wrap=True)
    if output is not None:
        write_findings_csv(result, output)
    sys.exit(EXIT_PASSED if result.clean else EXIT_FAILED)


@main.command("build-student-pack")
@click.option("-o", "--output", "out", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Folder to write the wheel into (created if needed).")
@click.option("--seed", "seeds", multiple=True, type=int, metavar="N",
              help="A public seed to record (repeatable; default 1, 2, 3).")
@click.option("--assignment", "assignments", multiple=True, metavar="ID", help="Only this assignment (repeatable).")
def build_student_pack_command(out: Path, seeds: tuple[int, ...], assignments: tuple[str, ...]) -> None:
    """Build the student wheel: dlgrade without reference solutions or answer keys.

    \b
    Example:
      dlgrade build-student-pack -o dist/student   (then: pip install dist/student/*.whl)
    """
    err = Console(stderr=True)
    with err.status("recording the reference with the public seeds...", spinner="dots"):
        pack = api.build_student_pack(out, seeds=seeds or None, assignments=list(assignments) or None)
    hidden = {a: len(ids) for a, ids in pack.manifest["hidden"].items() if ids}
    click.echo(f"wrote {pack.wheel}")
    click.echo(f"public seeds: {', '.join(map(str, pack.manifest['seeds']))}; hidden checks: "
               f"{', '.join(f'{a} {n}' for a, n in sorted(hidden.items())) or 'none'}")
    for line in pack.findings.shared:
        click.echo(f"note: a grader line equals a reference line: {line}", err=True)


@main.command("doctor")
@click.option("--format", "format_name", type=click.Choice(["terminal", "json"]), default="terminal",
              show_default=True, help="Output format.")
def doctor_command(format_name: str) -> None:
    """Show the isolation a sandbox session gets on this machine, and how to get the full sandbox.

    \b
    Examples:
      dlgrade doctor
      dlgrade doctor --format json
    """
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
    for line in report.memory:
        click.echo(f"  memory: {line}")
    if report.forced_off:
        click.echo("namespaces are turned off here by DLGRADE_SANDBOX=minimal (or Zygote(namespaces=False)).")
    for fix, names in fixes.items():
        click.echo(f"to get {', '.join(names)}: {fix}")


# --- authoring a course's own assignment (grader.authoring) ------------------------------------------------------

@main.group("author")
def author_group() -> None:
    """Write a course's own assignment: a new package, its student files, its acceptance test.

    \b
    Examples:
      dlgrade author new a5 course-a5/ && pip install -e course-a5/
      dlgrade author template a5          # student files from the reference's # BEGIN SOLUTION markers
      dlgrade author verify a5            # reference full, template 0, hints hold, mutants caught
    See docs/authoring.md.
    """


@author_group.command("new")
@click.argument("assignment")
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
@click.option("--package", help="The Python package (default: course_<ASSIGNMENT>).")
@click.option("--title", help="The assignment's title.")
@click.option("--force", is_flag=True, help="Write into a folder that is not empty.")
def author_new_command(assignment: str, folder: Path, package: str | None, title: str | None, force: bool) -> None:
    """Write a working assignment package for ASSIGNMENT into FOLDER (then: pip install -e FOLDER).

    \b
    Example:
      dlgrade author new a5 course-a5/ --title "An LSTM cell"
    """
    for written in api.author_new(assignment, folder, package=package, title=title, force=force):
        click.echo(f"wrote {visible(str(written))}")
    click.echo(f"next: pip install -e {visible(str(folder))} && dlgrade author verify {assignment}")


@author_group.command("template")
@click.argument("assignment")
@click.option("-o", "--output", type=click.Path(file_okay=False, path_type=Path),
              help="Write here instead of the assignment's template folder.")
def author_template_command(assignment: str, output: Path | None) -> None:
    """Derive ASSIGNMENT's student files from its reference's # BEGIN/END SOLUTION markers.

    \b
    Example:
      dlgrade author template a5
    """
    for written in api.author_template(assignment, output):
        click.echo(f"wrote {visible(str(written))}")


@author_group.command("verify")
@click.argument("assignment")
@click.option("--seeds", type=click.IntRange(min=1, max=100), default=3, show_default=True,
              help="Seeds the reference must get full marks under.")
@click.option("--mutants", type=click.IntRange(min=0), default=100, show_default=True,
              help="At most this many mutants of the reference (0: no mutation analysis).")
@click.option("--min-mutation-score", type=click.FloatRange(min=0, max=1), metavar="FRACTION",
              help="Also fail (exit 1) when fewer of the non-equivalent mutants are caught (e.g. 0.95).")
@click.option("--jobs", type=click.IntRange(min=1), help="Checks run at once (default: the cores available).")
@click.option("--format", "format_name", type=click.Choice(["terminal", "json"]), default="terminal",
              show_default=True, help="Output format.")
def author_verify_command(assignment: str, seeds: int, mutants: int, min_mutation_score: float | None,
                          jobs: int | None, format_name: str) -> None:
    """ASSIGNMENT's acceptance test: reference full marks under each seed, template 0 (or what it gives),
    every declared mistake caught with its hint, and the mutation score of its checks.

    Exit 0 when reference, template and hints hold (and the mutation score reaches --min-mutation-score).

    \b
    Examples:
      dlgrade author verify a5
      dlgrade author verify a1 --seeds 5 --mutants 200 --format json
    """
    result = api.author_verify(assignment, seeds=seeds, mutants=mutants, min_mutation_score=min_mutation_score,
                               jobs=jobs)
    if format_name == "json":
        click.echo(json.dumps(result.to_dict(), indent=2))
    else:
        m = result.mutants
        click.echo(f"{result.assignment}: reference {result.reference_score:g}/{result.max_score:g} under seeds "
                   f"{', '.join(map(str, result.seeds))}; template {result.template_score:g}/{result.max_score:g}")
        if m.total:
            score = "n/a" if m.score is None else f"{100 * m.score:.1f}%"
            click.echo(f"mutants: {m.caught} of {m.total} caught, {m.equivalent} declared equivalent: "
                       f"mutation score {score} ({m.seconds:.1f} s)")
            for name, stats in m.per_function.items():
                click.echo(f"  {visible(name)}: {stats['caught']}/{stats['total']}")
            for name, stats in m.per_check.items():
                click.echo(f"  check {visible(name)}: caught {stats['caught']} of {stats['graded']} graded")
            for survivor in m.survivors:
                click.echo(f"survived: {visible(survivor)}")
        for problem in result.problems:
            click.echo(f"problem: {visible(problem)}")
        if not result.mutation_ok:
            click.echo(f"problem: mutation score below {result.min_mutation_score:g}")
        click.echo("ok" if result.ok else "not ok")
    _finish(EXIT_PASSED if result.ok else EXIT_FAILED)


if __name__ == "__main__":
    run()

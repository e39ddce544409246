"""Per-student feedback as Markdown: the same content as the terminal report, for an LMS comment or a file.

Student-controlled text (messages quote their values, printed output, the
submission's file names) is shown literally (``grader.report.literal``): in
code spans and fenced blocks no line of it can close, control characters made
visible. Table cells and the check names are escaped Markdown text. So a
submission cannot add a heading, a link, an image or HTML to the feedback.
"""

from __future__ import annotations

from grader.report import register_format
from grader.report.literal import code_span, fence, plain
from grader.report.points import score_line
from grader.report.sanitize import visible
from grader.result import OUTPUT_CUT_LINE, UNSCORED, Report

SYMBOLS = {"passed": "✓", "failed": "✗", "error": "!", "timeout": "⏱", "skipped": "-", "undecided": "?",
           "not_run": "·", "hidden": "·"}
OUTPUT_LINES, OUTPUT_WIDTH = 5, 200


def points(value: float) -> str:
    return f"{value:g}"


def status_text(check) -> str:
    partial = check.status == "failed" and check.score > 0
    return f"{SYMBOLS.get(check.status, '?')} {check.status}{' (partial)' if partial else ''}"


def problems(report: Report) -> list:
    return [c for c in report.checks if c.status not in ("passed", "skipped", "hidden")]


def printed_lines(output: str) -> tuple[list[str], int]:
    """The first lines the student's code printed (each cut to a width) and how many more the grader kept."""
    lines = visible(output).strip().splitlines()
    if lines and lines[-1] == OUTPUT_CUT_LINE:
        lines.pop()
    return [line[:OUTPUT_WIDTH] for line in lines[:OUTPUT_LINES]], max(len(lines) - OUTPUT_LINES, 0)


def more_printed(output: str, more: int) -> str:
    """The line after the shown ones: how many more lines, and whether the output went on past what was kept."""
    cut = output.rstrip().endswith(OUTPUT_CUT_LINE)
    if cut:
        return f"\n... {more} more lines, then the output was cut (it went on)" if more else \
            "\n... then the output was cut (it went on)"
    return f"\n... {more} more lines" if more else ""


def verdict(report: Report) -> str:
    """The score line's words after the points (``points.score_line``: hidden points are named, never "passed")."""
    line = score_line(report)
    return line.text.removeprefix(line.points).lstrip()


@register_format("markdown")
def render_markdown(report: Report) -> str:
    out = [f"# dlgrade {plain(report.assignment)} · {code_span(report.submission)}", ""]
    seed = report.diagnostics.get("seed")
    if seed is not None:
        out += [f"Seed {seed}: rerun with `--seed {seed}` to reproduce.", ""]
    out += ["| Task | Check | Points | Status |", "| --- | --- | ---: | --- |"]
    for check in report.checks:
        score = "" if check.status in UNSCORED else f"{points(check.score)}/{points(check.max_score)}"
        out.append(f"| {plain(check.task)} | {plain(check.name)} | {score} | {status_text(check)} |")
    for check in problems(report):
        out += ["", f"## {SYMBOLS.get(check.status, '?')} {plain(check.task)} {plain(check.name)} "
                    f"({points(check.score)}/{points(check.max_score)})", ""]
        if check.message:
            out += [fence(check.message), ""]
        if check.hint:
            out += [f"**hint:** {code_span(check.hint)}", ""]
        if check.output.strip():
            lines, more = printed_lines(check.output)
            out += ["your code printed:", "", fence("\n".join(lines) + more_printed(check.output, more))]
    for note in report.diagnostics.get("submission_notes", []):
        out += ["", f"*note:* {code_span(note)}"]
    out += ["", f"**Score: {score_line(report).points}** {verdict(report)}", ""]
    return "\n".join(out)

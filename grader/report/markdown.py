"""Per-student feedback as Markdown: the same content as the terminal report, for an LMS comment or a file.

Student-controlled text (messages quote their values, printed output) is made
visible first (control characters escaped) and kept out of Markdown syntax:
code spans and fenced blocks carry it, table cells escape ``|``.
"""

from __future__ import annotations

from grader.report import register_format
from grader.report.points import score_line
from grader.result import OUTPUT_CUT_LINE, UNSCORED, Report

try:  # added by the report-sanitizing work; the fallback below keeps this module independent of it
    from grader.report.sanitize import visible
except ImportError:  # pragma: no cover - depends on the branch
    def visible(text: str) -> str:
        """``text`` with C0/C1 control characters (except newline and tab) shown as ``\\xNN`` escapes."""
        return "".join(ch if ch in "\n\t" or not (ord(ch) < 32 or 127 <= ord(ch) < 160) else f"\\x{ord(ch):02x}"
                       for ch in str(text))

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


def _cell(text: str) -> str:
    return visible(text).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ").replace("`", "\\`") \
        .replace("*", "\\*").replace("_", "\\_").replace("<", "&lt;").replace("[", "\\[")


def _fence(text: str) -> str:
    fence = "```"
    while fence in text:
        fence += "`"
    return f"{fence}text\n{text}\n{fence}"


@register_format("markdown")
def render_markdown(report: Report) -> str:
    out = [f"# dlgrade {_cell(report.assignment)} · {_cell(report.submission)}", ""]
    seed = report.diagnostics.get("seed")
    if seed is not None:
        out += [f"Seed {seed}: rerun with `--seed {seed}` to reproduce.", ""]
    out += ["| Task | Check | Points | Status |", "| --- | --- | ---: | --- |"]
    for check in report.checks:
        score = "" if check.status in UNSCORED else f"{points(check.score)}/{points(check.max_score)}"
        out.append(f"| {_cell(check.task)} | {_cell(check.name)} | {score} | {status_text(check)} |")
    for check in problems(report):
        out += ["", f"## {SYMBOLS.get(check.status, '?')} {_cell(check.task)} {_cell(check.name)} "
                    f"({points(check.score)}/{points(check.max_score)})", ""]
        if check.message:
            out += [_fence(visible(check.message)), ""]
        if check.hint:
            out += [f"**hint:** {_cell(check.hint)}", ""]
        if check.output.strip():
            lines, more = printed_lines(check.output)
            out += ["your code printed:", "", _fence("\n".join(lines) + more_printed(check.output, more))]
    for note in report.diagnostics.get("submission_notes", []):
        out += ["", f"*note: {_cell(note)}*"]
    out += ["", f"**Score: {score_line(report).points}** {verdict(report)}", ""]
    return "\n".join(out)

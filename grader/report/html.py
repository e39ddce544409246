"""Per-student feedback as one self-contained HTML page: the terminal report's content, nothing executable.

Every piece of text is made visible (control characters escaped) and then
HTML-escaped; the page has no script and a Content-Security-Policy that
forbids any, so hostile text in a message cannot run in a TA's browser.
"""

from __future__ import annotations

from html import escape

from grader.report import register_format
from grader.report.markdown import SYMBOLS, more_printed, points, printed_lines, problems, status_text, verdict, visible
from grader.report.points import score_line
from grader.result import UNSCORED, Report

STYLE = """body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}
table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.25rem .6rem;text-align:left}
td.points{text-align:right}.passed{color:#1a7f37}.failed{color:#c62828}.error,.timeout{color:#9a6700}
.skipped{color:#888}.undecided{color:#8250df}pre{background:#f6f8fa;padding:.5rem;white-space:pre-wrap}
.hint{color:#0b6e99}"""
CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"


def text(value: str) -> str:
    return escape(visible(value))


def page(title: str, body: str) -> str:
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
            f"<title>{text(title)}</title><style>{STYLE}</style></head>\n<body>\n{body}\n</body></html>\n")


@register_format("html")
def render_html(report: Report) -> str:
    out = [f"<h1>dlgrade {text(report.assignment)} · {text(report.submission)}</h1>"]
    seed = report.diagnostics.get("seed")
    if seed is not None:
        out.append(f"<p>Seed {text(str(seed))}: rerun with <code>--seed {text(str(seed))}</code> to reproduce.</p>")
    out.append("<table><tr><th>Task</th><th>Check</th><th>Points</th><th>Status</th></tr>")
    for check in report.checks:
        score = "" if check.status in UNSCORED else f"{points(check.score)}/{points(check.max_score)}"
        out.append(f'<tr><td>{text(check.task)}</td><td>{text(check.name)}</td><td class="points">{score}</td>'
                   f'<td class="{text(check.status)}">{text(status_text(check))}</td></tr>')
    out.append("</table>")
    for check in problems(report):
        out.append(f'<h2><span class="{text(check.status)}">{SYMBOLS.get(check.status, "?")}</span> '
                   f"{text(check.task)} {text(check.name)} ({points(check.score)}/{points(check.max_score)})</h2>")
        if check.message:
            out.append(f"<pre>{text(check.message)}</pre>")
        if check.hint:
            out.append(f'<p class="hint"><b>hint:</b> {text(check.hint)}</p>')
        if check.output.strip():
            lines, more = printed_lines(check.output)
            shown = escape("\n".join(lines) + more_printed(check.output, more))
            out.append(f"<p>your code printed:</p><pre>{shown}</pre>")
    for note in report.diagnostics.get("submission_notes", []):
        out.append(f"<p><i>note: {text(note)}</i></p>")
    out.append(f"<p><b>Score: {text(score_line(report).points)}</b> {text(verdict(report))}</p>")
    return page(f"dlgrade {report.assignment} · {report.submission}", "\n".join(out))

"""Plots as PNG bytes, drawn with matplotlib (the optional extra ``dlgrade[plots]``).

Learning curves (a4's training checks, ``dlgrade check --artifacts``) and the
class analytics page's charts. Figures are made with ``matplotlib.figure.Figure``
and the Agg canvas, never pyplot: no global state, no display, safe in threads.
Loss is a solid line on its own axis, test accuracy a dashed line on 0..1, so
the two are told apart without colour too.
"""

from __future__ import annotations

import io
from pathlib import Path

from grader.errors import UsageError

LOSS_COLOUR, ACCURACY_COLOUR = "#c82828", "#1e5ac8"


def new_figure(width_in: float = 6.4, height_in: float = 3.6):
    """A blank Agg figure; a clear error when matplotlib is not installed."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        raise UsageError("plots need matplotlib: pip install 'dlgrade[plots]'") from None
    figure = Figure(figsize=(width_in, height_in), dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def figure_png(figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def learning_curves_png(train_loss: list[float], test_accuracy: list[float]) -> bytes:
    """A PNG of the loss (solid, left axis) and test accuracy (dashed, right axis, 0..1) per epoch."""
    figure = new_figure(4.8, 3.0)
    loss_axis = figure.add_subplot()
    epochs = range(1, max(len(train_loss), len(test_accuracy)) + 1)
    loss_axis.plot(list(epochs)[:len(train_loss)], train_loss, color=LOSS_COLOUR, linestyle="-", label="train loss")
    loss_axis.set_xlabel("epoch")
    loss_axis.set_ylabel("train loss", color=LOSS_COLOUR)
    loss_axis.grid(alpha=0.3)
    accuracy_axis = loss_axis.twinx()
    accuracy_axis.plot(list(epochs)[:len(test_accuracy)], test_accuracy, color=ACCURACY_COLOUR, linestyle="--",
                       label="test accuracy")
    accuracy_axis.set_ylim(0, 1)
    accuracy_axis.set_ylabel("test accuracy", color=ACCURACY_COLOUR)
    lines = loss_axis.get_lines() + accuracy_axis.get_lines()
    loss_axis.legend(lines, [line.get_label() for line in lines], loc="center right", fontsize="small")
    return figure_png(figure)


def write_learning_curves(report, folder: Path) -> list[Path]:
    """One PNG per check of ``report`` that recorded learning curves; returns the files written."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for check in report.checks:
        curves = check.details.get("curves") if isinstance(check.details, dict) else None
        if curves:
            path = folder / f"{report.assignment}_{check.id}_learning_curves.png"
            path.write_bytes(learning_curves_png(curves.get("train_loss", []), curves.get("test_accuracy", [])))
            written.append(path)
    return written

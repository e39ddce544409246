"""Learning curves as PNG images, written with zlib alone (no plotting library).

Loss is drawn as a solid line on a scale of its own, test accuracy as a dashed
line on 0..1, so the two are told apart without colour too.
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

WIDTH, HEIGHT, MARGIN = 480, 300, 30
LOSS_COLOUR, ACCURACY_COLOUR, AXIS_COLOUR, GRID_COLOUR = (200, 40, 40), (30, 90, 200), (0, 0, 0), (225, 225, 225)


def _png(pixels: list[bytearray]) -> bytes:
    def chunk(kind: bytes, payload: bytes) -> bytes:
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))

    raw = b"".join(b"\x00" + bytes(row) for row in pixels)
    header = struct.pack(">IIBBBBB", WIDTH, HEIGHT, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")


def _line(pixels, x0, y0, x1, y1, colour, dashed=False) -> None:
    steps = max(abs(x1 - x0), abs(y1 - y0), 1)
    for i in range(steps + 1):
        if dashed and (i // 6) % 2:
            continue
        x, y = round(x0 + (x1 - x0) * i / steps), round(y0 + (y1 - y0) * i / steps)
        for dy in (0, 1):
            if 0 <= x < WIDTH and 0 <= y + dy < HEIGHT:
                pixels[y + dy][3 * x:3 * x + 3] = bytes(colour)


def learning_curves_png(train_loss: list[float], test_accuracy: list[float]) -> bytes:
    """A PNG of the loss (solid, own scale) and test accuracy (dashed, 0..1) per epoch."""
    pixels = [bytearray(b"\xff" * 3 * WIDTH) for _ in range(HEIGHT)]
    left, right, top, bottom = MARGIN, WIDTH - MARGIN, MARGIN, HEIGHT - MARGIN
    for fraction in (0.25, 0.5, 0.75):
        y = round(bottom - fraction * (bottom - top))
        _line(pixels, left, y, right, y, GRID_COLOUR)
    _line(pixels, left, bottom, right, bottom, AXIS_COLOUR)
    _line(pixels, left, top, left, bottom, AXIS_COLOUR)
    n = max(len(train_loss), len(test_accuracy), 2)

    def x_at(i: int) -> int:
        return round(left + (right - left) * i / (n - 1))

    peak = max([v for v in train_loss if v == v] + [1e-9])
    for series, scale, colour, dashed in ((train_loss, peak, LOSS_COLOUR, False),
                                          (test_accuracy, 1.0, ACCURACY_COLOUR, True)):
        points = [(x_at(i), round(bottom - (bottom - top) * min(max(v / scale, 0), 1))) for i, v in enumerate(series)]
        for (xa, ya), (xb, yb) in zip(points, points[1:]):
            _line(pixels, xa, ya, xb, yb, colour, dashed)
    return _png(pixels)


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

"""The JSON report: ``Report.to_dict`` as one document (schema in docs/json-schema.md)."""

from __future__ import annotations

import json
import math

from grader.report import register_format
from grader.report.sanitize import visible_data
from grader.result import Report


def _finite(value):
    """NaN and infinities (e.g. a diverged loss in ``details``) as null: JSON has no such numbers."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


@register_format("json")
def render_json(report: Report) -> str:
    """The report as JSON; every string holds visible text only (``\\x1b``, never a raw ESC), see ``visible``."""
    return json.dumps(_finite(visible_data(report.to_dict())), indent=2, allow_nan=False, default=str) + "\n"

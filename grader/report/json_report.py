"""The JSON report: ``Report.to_dict`` as one document (schema in docs/json-schema.md)."""

from __future__ import annotations

import json

from grader.report import register_format
from grader.result import Report


@register_format("json")
def render_json(report: Report) -> str:
    return json.dumps(report.to_dict(), indent=2, allow_nan=False, default=str) + "\n"

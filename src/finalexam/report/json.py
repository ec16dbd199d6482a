"""``-o json``: the versioned report document (schema: report/schema/report.schema.json)."""

from __future__ import annotations

import json

from finalexam.model import Report
from finalexam.report.base import RenderOptions
from finalexam.report.document import to_document


class JsonReporter:
    name = "json"
    version = "1.0"
    requires: tuple[str, ...] = ()
    description = "versioned JSON report document"

    def render(self, report: Report, options: RenderOptions) -> bytes:
        text = json.dumps(to_document(report, options), indent=2, ensure_ascii=False)
        return (text + "\n").encode("utf-8")

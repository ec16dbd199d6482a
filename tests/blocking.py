"""What the release policy blocks on among behaviour findings, by rule and file."""

from __future__ import annotations

from finalexam.model import FileContext, Report, Severity


def high(report: Report) -> dict[str, str]:
    """High behaviour findings in shipped or vendored code: rule id -> innermost file."""
    return {
        f.rule_id: f.location.chain[-1] if f.location else ""
        for f in report.findings
        if f.kind.value in ("behavior", "malicious")
        and f.severity.rank >= Severity.HIGH.rank
        and f.context in (FileContext.SHIPPED, FileContext.VENDORED)
    }

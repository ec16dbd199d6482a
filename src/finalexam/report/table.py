"""``-o table``: the human summary: verdict, counts, top findings, issues."""

from __future__ import annotations

import io
from collections import Counter

from rich.console import Console
from rich.table import Table
from rich.text import Text

from finalexam.model import ExamStatus, Report, Severity
from finalexam.report.base import RenderOptions, gaps_summary, issue_line

_SEVERITY_STYLE = {
    Severity.CRITICAL: "bold red",
    Severity.HIGH: "red",
    Severity.UNKNOWN: "magenta",
    Severity.MEDIUM: "yellow",
    Severity.LOW: "cyan",
    Severity.INFO: "dim",
}
_TOP = 25
_WARNINGS = 10
_ISSUES = 10


class TableReporter:
    name = "table"
    version = "1.0"
    requires: tuple[str, ...] = ()
    description = "terminal summary"

    def render(self, report: Report, options: RenderOptions) -> bytes:
        buffer = io.StringIO()
        console = Console(
            file=buffer,
            width=options.width,
            force_terminal=options.color,
            color_system="auto" if options.color else None,
            highlight=False,
            markup=False,
            emoji=False,
        )
        artifact = report.artifact
        files = report.files
        console.print(Text(f"finalexam {report.tool_version}: {artifact.name}", style="bold"))
        console.print(
            f"kind {artifact.kind} · {len(files)} files · "
            f"{sum(r.size for r in files):,} bytes · depth "
            f"{max((r.location.depth for r in files), default=0)} · "
            f"{len(report.components)} components"
            + (f" · sha256 {artifact.sha256[:16]}…" if artifact.sha256 else "")
        )
        counts = Counter(f.severity for f in report.findings)
        summary = Table(title="Findings", title_justify="left", show_edge=False)
        summary.add_column("kind")
        severities = Severity.columns(counts)
        for severity in severities:
            summary.add_column(severity.value, justify="right")
        kinds = sorted({f.kind for f in report.findings})
        for kind in kinds:
            per = Counter(f.severity for f in report.findings if f.kind is kind)
            summary.add_row(kind.value, *(str(per.get(s, 0)) for s in severities))
        summary.add_row("total", *(str(counts.get(s, 0)) for s in severities), style="bold")
        console.print(summary)
        if report.findings:
            top = Table(
                title=f"Top findings ({min(_TOP, len(report.findings))} of {len(report.findings)})",
                title_justify="left",
                show_edge=False,
                expand=True,
            )
            top.add_column("severity", no_wrap=True)
            top.add_column("kind", no_wrap=True)
            top.add_column("rule", overflow="fold", ratio=2)
            top.add_column("title", overflow="fold", ratio=2)
            top.add_column("location", overflow="fold", ratio=3)
            for finding in report.findings[:_TOP]:
                top.add_row(
                    Text(finding.severity.value, style=_SEVERITY_STYLE[finding.severity]),
                    finding.kind.value,
                    finding.rule_id,
                    finding.title,
                    str(finding.location) if finding.location else "-",
                )
            console.print(top)
        if report.suppressed:
            console.print(f"{len(report.suppressed)} finding(s) waived")
            for item in report.suppressed[:5]:
                waiver = item.waiver
                until = f" until {waiver.expires}" if waiver.expires else ""
                by = f" by {waiver.approved_by}" if waiver.approved_by else ""
                console.print(f"  {item.finding.rule_id}: {waiver.reason}{by}{until}", markup=False)
            if len(report.suppressed) > 5:
                console.print(f"  … {len(report.suppressed) - 5} more")
        if report.issues:
            console.print(Text(f"{len(report.issues)} issue(s) while examining:", style="yellow"))
            # gaps first: what was not examined matters more than informative notes
            shown = sorted(report.issues, key=lambda i: not i.kind.gap)[:_ISSUES]
            for issue in shown:
                console.print(Text(f"  {issue_line(issue)}"))
            if len(report.issues) > _ISSUES:
                console.print(f"  … {len(report.issues) - _ISSUES} more in the JSON report")
        if report.allowed_incomplete:
            accepted = ", ".join(kind.value for kind in report.allowed_incomplete)
            console.print(Text(f"gaps accepted (--allow-incomplete): {accepted}", style="yellow"))
        verdict = report.verdict
        for warning in verdict.warnings[:_WARNINGS]:
            console.print(Text(f"warning: {warning}", style="yellow"))
        if len(verdict.warnings) > _WARNINGS:
            console.print(
                Text(f"… {len(verdict.warnings) - _WARNINGS} more warnings", style="yellow")
            )
        if verdict.checks:
            failed = sum(1 for c in verdict.checks if not c.passed)
            warned = sum(1 for c in verdict.checks if c.passed and c.matched)
            console.print(
                f"policy {verdict.policy}: {len(verdict.checks)} checks, {failed} failed, "
                f"{warned} warned, {len(verdict.checks) - failed - warned} clean",
                markup=False,
            )
        status = report.status
        if status is ExamStatus.INCOMPLETE:
            console.print(
                Text(f"INCOMPLETE ({verdict.policy}): {gaps_summary(report)}", style="bold red")
            )
        elif status is ExamStatus.PASSED:
            console.print(Text(f"PASSED ({verdict.policy})", style="bold green"))
        else:
            console.print(
                Text(
                    f"FAILED ({verdict.policy}): {len(verdict.violations)} violation(s)",
                    style="bold red",
                )
            )
            for violation in verdict.violations[:10]:
                console.print(f"  {violation.rule}: {violation.message}", markup=False)
            if len(verdict.violations) > 10:
                console.print(f"  … {len(verdict.violations) - 10} more")
            if not report.complete:
                console.print(Text(f"and INCOMPLETE: {gaps_summary(report)}", style="bold red"))
        return buffer.getvalue().encode("utf-8")

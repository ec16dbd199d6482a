"""``-o markdown``: a pull/merge request comment: verdict first, details folded."""

from __future__ import annotations

from collections import Counter

from finalexam.model import ExamStatus, Finding, FindingKind, Report, Severity
from finalexam.report.base import RenderOptions, gaps_summary, issue_line

TOP = 20
_ICON = {ExamStatus.PASSED: "✅", ExamStatus.FAILED: "❌", ExamStatus.INCOMPLETE: "⚠️"}


_MARKDOWN = str.maketrans({c: f"\\{c}" for c in "\\*_[]~#"})


def _flat(text: str, limit: int) -> str:
    flat = " ".join(text.split())
    return flat[: limit - 1] + "…" if len(flat) > limit else flat


def cell(text: str, limit: int = 160) -> str:
    """Prose from the artifact, inert in any Markdown: one line, no HTML, no emphasis, links
    or images (``[``/``]`` escaped), no @mentions, bounded length."""
    flat = _flat(text, limit).translate(_MARKDOWN)
    flat = flat.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    flat = flat.replace("@", "@\u200b")  # a mention needs a name right after the @
    return flat.replace("|", "\\|").replace("`", "'")


def code(text: str, limit: int = 160) -> str:
    """A code span (nothing inside it is Markdown): one line, no backtick, pipes escaped for
    tables, and no HTML for renderers that do not follow CommonMark."""
    flat = _flat(text, limit).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return "`" + flat.replace("`", "'").replace("|", "\\|") + "`" if flat else "-"


def _finding_row(finding: Finding) -> str:
    where = str(finding.location) if finding.location else finding.component or ""
    line = f":{finding.evidence.line}" if finding.evidence.line else ""
    return (
        f"| {finding.severity.value} | {finding.kind.value} | {code(finding.rule_id)} "
        f"| {cell(finding.title)} | {code(where + line)} |"
    )


def render_markdown(report: Report) -> str:
    verdict = report.verdict
    artifact = report.artifact
    lines: list[str] = []
    status = report.status
    lines.append(f"## {_ICON[status]} finalexam: {cell(artifact.name)} {status.value.upper()}")
    lines.append("")
    detail = [
        f"policy **{cell(verdict.policy)}**",
        f"{len(report.findings)} findings",
        f"{len(report.suppressed)} waived",
        f"{len(report.components)} components",
        f"{len(report.files)} files",
    ]
    if verdict.violations:
        detail.insert(1, f"**{len(verdict.violations)} violations**")
    lines.append(" · ".join(detail))
    if not report.complete:
        lines += ["", "> [!WARNING]", f"> The exam is INCOMPLETE: {cell(gaps_summary(report))}."]
        lines += ["", "<details><summary>Not examined</summary>", ""]
        lines += [f"- {cell(issue_line(issue), 300)}" for issue in report.gaps[:TOP]]
        if len(report.gaps) > TOP:
            lines.append(f"- … {len(report.gaps) - TOP} more in the JSON report")
        lines += ["", "</details>"]
    if report.allowed_incomplete:
        accepted = ", ".join(kind.value for kind in report.allowed_incomplete)
        lines += ["", f"Gaps accepted (`--allow-incomplete`): {cell(accepted)}."]
    if report.issues:
        lines += ["", f"{len(report.issues)} issue(s) while examining (see the JSON report)."]
    if verdict.violations:
        lines += ["", "### Violations", ""]
        for violation in verdict.violations[:TOP]:
            lines.append(f"- **{cell(violation.rule)}**: {cell(violation.message, 300)}")
        if len(verdict.violations) > TOP:
            lines.append(f"- … {len(verdict.violations) - TOP} more")
    if report.findings:
        lines += ["", "### Findings", ""]
        severities = Severity.columns(f.severity for f in report.findings)
        lines.append("| kind | " + " | ".join(s.value for s in severities) + " | total |")
        lines.append("|---|" + "---:|" * (len(severities) + 1))
        for kind in FindingKind:
            per = Counter(f.severity for f in report.findings if f.kind is kind)
            if per:
                counts = " | ".join(str(per.get(s, 0)) for s in severities)
                lines.append(f"| {kind.value} | {counts} | {sum(per.values())} |")
        lines += ["", "<details><summary>Top findings</summary>", ""]
        lines.append("| severity | kind | rule | title | location |")
        lines.append("|---|---|---|---|---|")
        lines += [_finding_row(f) for f in report.findings[:TOP]]
        if len(report.findings) > TOP:
            lines.append(f"\n… {len(report.findings) - TOP} more in the full report.")
        lines += ["", "</details>"]
    if verdict.checks:
        lines += ["", "<details><summary>Policy checks</summary>", ""]
        lines.append("| check | action | matched | waived | result |")
        lines.append("|---|---|---:|---:|---|")
        for check in verdict.checks:
            result = "pass" if check.passed else "**fail**"
            if check.passed and check.matched and check.action == "warn":
                result = "warn"
            lines.append(
                f"| {code(check.rule)} {cell(check.description)} | {check.action} "
                f"| {check.matched} | {check.waived} | {result} |"
            )
        lines += ["", "</details>"]
    if report.suppressed:
        lines += ["", "<details><summary>Waived findings</summary>", ""]
        lines.append("| rule | location | reason | expires | approved by |")
        lines.append("|---|---|---|---|---|")
        for item in report.suppressed[:TOP]:
            waiver = item.waiver
            where = str(item.finding.location) if item.finding.location else ""
            lines.append(
                f"| {code(item.finding.rule_id)} | {code(where)} | {cell(waiver.reason)} "
                f"| {waiver.expires or '-'} | {cell(waiver.approved_by or '-')} |"
            )
        lines += ["", "</details>"]
    if verdict.warnings:
        lines += ["", "<details><summary>Warnings</summary>", ""]
        lines += [f"- {cell(w, 300)}" for w in verdict.warnings[:50]]
        if len(verdict.warnings) > 50:
            lines.append(f"- … {len(verdict.warnings) - 50} more")
        lines += ["", "</details>"]
    digest = f" · sha256 `{artifact.sha256[:16]}`" if artifact.sha256 else ""
    lines += ["", f"<sub>finalexam {cell(report.tool_version)}{digest}</sub>", ""]
    return "\n".join(lines)


class MarkdownReporter:
    name = "markdown"
    version = "1.0"
    requires: tuple[str, ...] = ()
    description = "pull request comment (Markdown)"

    def render(self, report: Report, options: RenderOptions) -> bytes:
        return render_markdown(report).encode("utf-8")

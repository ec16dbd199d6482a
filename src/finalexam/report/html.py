"""``-o html``: one self-contained page (no network): verdict, charts, findings, inventory.

Styles and script are inlined and pinned by hash in a Content-Security-Policy that forbids
every fetch, so the page works offline and cannot call out even if a finding's text tries.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections import Counter
from collections.abc import Iterable, Sequence
from functools import cache
from html import escape
from importlib import resources

from finalexam.model import (
    Component,
    FileRecord,
    FileType,
    Finding,
    FindingKind,
    Report,
    Severity,
    Waiver,
)
from finalexam.report.base import RenderOptions, gaps_summary
from finalexam.report.document import finding_dict, report_timestamp

MAX_TREE_CHILDREN = 300
MAX_FINDING_ROWS = 5000  # a page for people: the JSON report holds everything
MAX_COMPONENT_ROWS = 5000
MAX_TREE_NODES = 5000


@cache
def _asset(name: str) -> str:
    return resources.files("finalexam.report").joinpath(f"assets/{name}").read_text("utf-8")


def _csp_hash(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


def _e(value: object) -> str:
    return escape(str(value), quote=True)


# -- charts -------------------------------------------------------------------------------


def bar_chart(title: str, rows: Sequence[tuple[str, int, str]], label_width: int = 120) -> str:
    """Horizontal bars: (label, value, css class)."""
    height = 22 * len(rows) + 6
    width = 420
    biggest = max((value for _, value, _ in rows), default=0) or 1
    span = width - label_width - 50
    parts = [
        f'<div class="chart"><h3>{_e(title)}</h3>'
        f'<svg role="img" aria-label="{_e(title)}" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg">'
    ]
    if not rows:
        parts.append('<text x="0" y="16">none</text>')
    for i, (label, value, css) in enumerate(rows):
        y = 22 * i + 4
        bar = max(1, round(span * value / biggest)) if value else 0
        parts.append(
            f'<text x="0" y="{y + 13}">{_e(label)}</text>'
            f'<rect class="{css}" x="{label_width}" y="{y}" width="{bar}" height="16" rx="2">'
            f"<title>{_e(label)}: {value}</title></rect>"
            f'<text x="{label_width + bar + 6}" y="{y + 13}">{value}</text>'
        )
    parts.append("</svg></div>")
    return "".join(parts)


def stacked_chart(title: str, findings: Sequence[Finding]) -> str:
    """Findings by kind, each bar split by severity."""
    kinds = [k for k in FindingKind if any(f.kind is k for f in findings)]
    height = 22 * len(kinds) + 30
    width, label_width = 420, 110
    totals = Counter(f.kind for f in findings)
    biggest = max(totals.values(), default=0) or 1
    span = width - label_width - 50
    parts = [
        f'<div class="chart"><h3>{_e(title)}</h3>'
        f'<svg role="img" aria-label="{_e(title)}" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg">'
    ]
    if not kinds:
        parts.append('<text x="0" y="16">no findings</text>')
    for i, kind in enumerate(kinds):
        y = 22 * i + 4
        x = float(label_width)
        parts.append(f'<text x="0" y="{y + 13}">{_e(kind.value)}</text>')
        per = Counter(f.severity for f in findings if f.kind is kind)
        for severity in Severity.columns(per):
            count = per.get(severity, 0)
            if not count:
                continue
            w = span * count / biggest
            parts.append(
                f'<rect class="sev-{severity.value}" x="{x:.1f}" y="{y}" width="{w:.1f}" '
                f'height="16"><title>{_e(kind.value)} {severity.value}: {count}</title></rect>'
            )
            x += w
        parts.append(f'<text x="{x + 6:.1f}" y="{y + 13}">{totals[kind]}</text>')
    legend_y = 22 * len(kinds) + 12
    x = 0
    for severity in Severity.columns(f.severity for f in findings):
        parts.append(
            f'<rect class="sev-{severity.value}" x="{x}" y="{legend_y}" width="10" height="10"/>'
            f'<text x="{x + 14}" y="{legend_y + 9}">{severity.value}</text>'
        )
        x += 78
    parts.append("</svg></div>")
    return "".join(parts)


# -- sections -----------------------------------------------------------------------------


def _badge(severity: Severity) -> str:
    return f'<span class="badge sev-{severity.value}">{severity.value}</span>'


def _evidence(finding: Finding, waiver: Waiver | None) -> str:
    details = finding_dict(finding)
    rows = [f"<p>{_e(finding.message)}</p>"]
    evidence = details.get("evidence") or {}
    if evidence:
        rows.append("<pre>" + _e(json.dumps(evidence, indent=2, ensure_ascii=False)) + "</pre>")
    facts = []
    for key in ("fingerprint", "found_by", "confidence", "component", "aliases", "fixed"):
        value = details.get(key)
        if value:
            shown = ", ".join(value) if isinstance(value, list) else value
            facts.append(f"<b>{key}</b> <code>{_e(shown)}</code>")
    for reference in finding.references[:5]:
        facts.append(f"<b>reference</b> <code>{_e(reference)}</code>")
    if waiver is not None:
        by = f" by {_e(waiver.approved_by)}" if waiver.approved_by else ""
        until = f" until {_e(waiver.expires)}" if waiver.expires else ""
        facts.append(f"<b>waived</b>{by}{until}: {_e(waiver.reason)}")
    rows.append("<p>" + " · ".join(facts) + "</p>")
    return "".join(rows)


def _finding_rows(report: Report) -> str:
    violations = {v.fingerprint for v in report.verdict.violations if v.fingerprint}
    items: list[tuple[Finding, Waiver | None]] = [(f, None) for f in report.findings]
    items += [(s.finding, s.waiver) for s in report.suppressed]
    rows = []
    for finding, waiver in items[:MAX_FINDING_ROWS]:
        if waiver is not None:
            status = "waived"
        elif finding.fingerprint in violations:
            status = "violation"
        else:
            status = "open"
        where = str(finding.location) if finding.location else ""
        line = f":{finding.evidence.line}" if finding.evidence.line else ""
        search = " ".join(
            (finding.rule_id, finding.title, finding.message, where, finding.component or "")
        ).lower()
        rows.append(
            f'<tr class="finding {status}" data-severity="{finding.severity.value}" '
            f'data-kind="{finding.kind.value}" data-status="{status}" '
            f'data-fingerprint="{finding.fingerprint}" data-text="{_e(search)}">'
            f"<td>{_badge(finding.severity)}</td><td>{finding.kind.value}</td>"
            f'<td class="mono">{_e(finding.rule_id)}</td><td>{_e(finding.title)}</td>'
            f'<td class="loc">{_e(where + line)}</td><td>{status}</td>'
            f'<td><button class="toggle" type="button" aria-expanded="false">evidence'
            f"</button></td></tr>"
            f'<tr class="evidence-row" hidden><td colspan="7">{_evidence(finding, waiver)}'
            f"</td></tr>"
        )
    return "".join(rows)


def _findings_section(report: Report) -> str:
    every = len(report.findings) + len(report.suppressed)
    total = min(every, MAX_FINDING_ROWS)
    capped = (
        f'<p class="muted">Showing the {total} most severe of {every} findings; the JSON '
        "report has them all.</p>"
        if every > total
        else ""
    )
    kinds = sorted(
        {f.kind.value for f in report.findings} | {s.finding.kind.value for s in report.suppressed}
    )
    severity_options = "".join(
        f'<option value="{s.value}">{s.value}{"" if s is Severity.INFO else " +"}</option>'
        for s in Severity.rated()
    )
    kind_options = '<option value="">all kinds</option>' + "".join(
        f'<option value="{k}">{k}</option>' for k in kinds
    )
    return (
        '<section id="findings-section"><h2>Findings</h2>'
        '<div class="filters">'
        '<input type="search" id="filter-text" placeholder="filter: rule, title, path, purl" '
        'aria-label="filter findings">'
        f'<label>severity <select id="filter-severity">{severity_options}</select></label>'
        f'<label>kind <select id="filter-kind">{kind_options}</select></label>'
        '<label><input type="checkbox" id="filter-waived" checked> show waived</label>'
        f'<span class="muted"><span id="shown-count">{total}</span> of {total} shown</span>'
        "</div>"
        '<table id="findings"><thead><tr><th>severity</th><th>kind</th><th>rule</th>'
        "<th>title</th><th>location</th><th>status</th><th></th></tr></thead>"
        f"<tbody>{_finding_rows(report)}</tbody></table>"
        '<p id="no-match" class="muted" hidden>No finding matches the filters.</p>'
        + capped
        + ("" if total else '<p class="muted">No findings.</p>')
        + "</section>"
    )


def _verdict_section(report: Report) -> str:
    verdict = report.verdict
    parts = ['<section id="policy"><h2>Policy ' + _e(verdict.policy) + "</h2>"]
    if verdict.violations:
        parts.append("<h3>Violations</h3><ul>")
        parts += [
            f"<li><b>{_e(v.rule)}</b>: {_e(v.message)}</li>" for v in verdict.violations[:200]
        ]
        if len(verdict.violations) > 200:
            parts.append(f"<li>… {len(verdict.violations) - 200} more</li>")
        parts.append("</ul>")
    if verdict.checks:
        parts.append(
            '<table id="checks"><thead><tr><th>check</th><th>action</th><th>matched</th>'
            "<th>waived</th><th>result</th></tr></thead><tbody>"
        )
        for check in verdict.checks:
            if not check.passed:
                result = '<span class="fail">fail</span>'
            elif check.matched:
                result = '<span class="warn">warn</span>'
            else:
                result = '<span class="pass">pass</span>'
            parts.append(
                f'<tr><td><code>{_e(check.rule)}</code> <span class="muted">'
                f"{_e(check.description)}</span></td><td>{check.action}</td>"
                f"<td>{check.matched}</td><td>{check.waived}</td><td>{result}</td></tr>"
            )
        parts.append("</tbody></table>")
    if verdict.warnings:
        parts.append("<details><summary>" + f"{len(verdict.warnings)} warning(s)</summary><ul>")
        parts += [f"<li>{_e(w)}</li>" for w in verdict.warnings]
        parts.append("</ul></details>")
    parts.append("</section>")
    return "".join(parts)


def _components_section(components: Sequence[Component]) -> str:
    rows = []
    for c in components[:MAX_COMPONENT_ROWS]:
        search = " ".join((c.name, c.version or "", c.ecosystem, c.purl or "", *c.licenses))
        rows.append(
            f'<tr data-text="{_e(search.lower())}"><td>{_e(c.name)}</td>'
            f"<td>{_e(c.version or '')}</td><td>{_e(c.ecosystem)}</td>"
            f'<td class="mono">{_e(c.purl or "")}</td><td>{_e(", ".join(c.licenses))}</td>'
            f'<td class="loc">{_e(", ".join(str(loc) for loc in c.locations[:3]))}'
            f"{' …' if len(c.locations) > 3 else ''}</td></tr>"
        )
    return (
        '<section id="components-section"><h2>Components</h2><div class="filters">'
        '<input type="search" id="filter-components" placeholder="filter components" '
        'aria-label="filter components">'
        f'<span class="muted"><span id="components-count">{len(rows)}</span> of '
        f"{len(components)} shown</span></div>"
        '<table id="components"><thead><tr><th>name</th><th>version</th><th>ecosystem</th>'
        "<th>purl</th><th>licenses</th><th>locations</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table></section>"
    )


def _indicators_section(report: Report) -> str:
    rows = []
    for indicator in report.indicators:
        search = f"{indicator.kind} {indicator.value} {indicator.category}".lower()
        rows.append(
            f'<tr data-text="{_e(search)}"><td>{_e(indicator.kind)}</td>'
            f'<td class="mono">{_e(indicator.value)}</td><td>{_e(indicator.category)}</td>'
            f'<td class="loc">{_e(", ".join(str(loc) for loc in indicator.locations[:3]))}'
            "</td></tr>"
        )
    count = len(report.indicators)
    return (
        '<section id="indicators-section"><h2>Indicators</h2><div class="filters">'
        '<input type="search" id="filter-indicators" placeholder="filter indicators" '
        'aria-label="filter indicators">'
        f'<span class="muted"><span id="indicators-count">{count}</span> of {count} shown'
        "</span></div>"
        '<table id="indicators"><thead><tr><th>kind</th><th>value</th><th>category</th>'
        f"<th>locations</th></tr></thead><tbody>{''.join(rows)}</tbody></table></section>"
    )


def _issues_section(report: Report) -> str:
    if not report.issues and report.complete:
        return ""
    parts = ['<section id="issues"><h2>Issues while examining</h2>']
    if not report.complete:
        parts.append(f'<p class="fail">The exam is INCOMPLETE: {_e(gaps_summary(report))}.</p>')
    if report.allowed_incomplete:
        accepted = ", ".join(kind.value for kind in report.allowed_incomplete)
        parts.append(f"<p>Gaps accepted (--allow-incomplete): {_e(accepted)}</p>")
    parts.append("<ul>")
    for issue in sorted(report.issues, key=lambda i: not i.kind.gap)[:500]:
        where = f"<code>{_e(issue.location)}</code>: " if issue.location else ""
        kind = f'<span class="issue-kind">[{_e(issue.kind.value)}]</span> '
        parts.append(f"<li>{kind}{where}{_e(issue.message)}</li>")
    parts.append("</ul></section>")
    return "".join(parts)


class _Node:
    __slots__ = ("children", "record")

    def __init__(self) -> None:
        self.children: dict[str, _Node] = {}
        self.record: FileRecord | None = None


def _tree(files: Iterable[FileRecord]) -> _Node:
    root = _Node()
    for record in files:
        node = root
        for member in record.location.chain[1:]:
            node = node.children.setdefault(member, _Node())
        node.record = record
    return root


def _render_node(name: str, node: _Node, budget: list[int], depth: int = 0) -> str:
    budget[0] -= 1
    if not node.children:
        size = f' <span class="muted">{node.record.size:,} B</span>' if node.record else ""
        return f"<li>{_e(name)}{size}</li>"
    count = _count(node)
    parts = [
        f"<details{' open' if depth < 2 else ''}><summary>"
        f'{_e(name)} <span class="muted">({count} files)</span></summary><ul>'
    ]
    members = sorted(node.children.items(), key=lambda kv: (not kv[1].children, kv[0]))
    for index, (child_name, child) in enumerate(members):
        if index >= MAX_TREE_CHILDREN or budget[0] <= 0:
            parts.append(f'<li class="muted">… {len(members) - index} more</li>')
            break
        rendered = _render_node(child_name, child, budget, depth + 1)
        parts.append(rendered if rendered.startswith("<li") else f"<li>{rendered}</li>")
    parts.append("</ul></details>")
    return "".join(parts)


def _count(node: _Node) -> int:
    return sum(_count(child) if child.children else 1 for child in node.children.values())


def _tree_section(report: Report) -> str:
    archives = sum(1 for r in report.files if r.file_type is FileType.ARCHIVE)
    root = _tree(report.files)
    body = (
        _render_node(report.artifact.name, root, [MAX_TREE_NODES])
        if root.children
        else '<p class="muted">No file inventory.</p>'
    )
    return (
        f'<section id="tree"><h2>Files <span class="muted">({len(report.files)} files, '
        f"{archives} nested archives)</span></h2>"
        f'<div class="tree">{body}</div></section>'
    )


def render_html(report: Report, options: RenderOptions) -> str:
    css = _asset("report.css")
    script = _asset("report.js")
    verdict = report.verdict
    state = report.status.value
    label = state.upper()
    artifact = report.artifact
    csp = (
        f"default-src 'none'; style-src {_csp_hash(css)}; script-src {_csp_hash(script)}; "
        "img-src data:; base-uri 'none'; form-action 'none'"
    )
    severity_rows = [
        (s.value, sum(1 for f in report.findings if f.severity is s), f"sev-{s.value}")
        for s in Severity.columns(f.severity for f in report.findings)
    ]
    ecosystems = Counter(c.ecosystem for c in report.components)
    ecosystem_rows = [(name, count, "bar") for name, count in sorted(ecosystems.items())]
    timestamp = report_timestamp(options)
    facts = [
        f"kind <code>{_e(artifact.kind)}</code>",
        f"{len(report.files):,} files",
        f"{artifact.size:,} bytes",
        f"{len(report.components)} components",
        f"{len(report.findings)} findings",
        f"{len(report.suppressed)} waived",
        f"{len(report.issues)} issues",
    ]
    if artifact.sha256:
        facts.append(f"sha256 <code>{artifact.sha256}</code>")
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{_e(csp)}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<link rel="icon" href="data:,">'
        f"<title>finalexam: {_e(artifact.name)} {label.lower()}</title>"
        f"<style>{css}</style></head>"
        f'<body data-verdict="{state}">'
        f'<header><span id="verdict" class="verdict {state}">{label}</span>'
        f"<h1>{_e(artifact.name)}</h1>"
        f'<p class="meta">{" · ".join(facts)}</p>'
        f'<p class="meta">policy <code>{_e(verdict.policy)}</code> · '
        f"{len(verdict.violations)} violation(s) · {len(verdict.warnings)} warning(s)</p>"
        "</header><main>"
        '<section id="summary"><h2>Summary</h2><div class="charts">'
        + stacked_chart("Findings by kind and severity", report.findings)
        + bar_chart("Findings by severity", severity_rows, 80)
        + bar_chart("Components by ecosystem", ecosystem_rows)
        + "</div></section>"
        + _verdict_section(report)
        + _findings_section(report)
        + _components_section(report.components)
        + _indicators_section(report)
        + _issues_section(report)
        + _tree_section(report)
        + '</main><footer class="muted">'
        f"finalexam {_e(report.tool_version)}"
        + (f" · {_e(timestamp)}" if timestamp else "")
        + f"</footer><script>{script}</script></body></html>\n"
    )


class HtmlReporter:
    name = "html"
    version = "1.0"
    requires: tuple[str, ...] = ()
    description = "self-contained HTML page"

    def render(self, report: Report, options: RenderOptions) -> bytes:
        return render_html(report, options).encode("utf-8")

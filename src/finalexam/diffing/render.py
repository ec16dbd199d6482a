"""Renderings of a diff: terminal table, JSON, Markdown, self-contained HTML."""

from __future__ import annotations

import html
import io
import json
from collections.abc import Callable
from dataclasses import dataclass

from rich.console import Console
from rich.table import Table
from rich.text import Text

from finalexam.diffing.document import diff_document
from finalexam.diffing.model import Change, ReleaseDiff
from finalexam.model import Severity
from finalexam.report.markdown import cell, code

_STYLE = {
    Severity.CRITICAL: "bold red",
    Severity.HIGH: "red",
    Severity.MEDIUM: "yellow",
    Severity.LOW: "cyan",
    Severity.INFO: "dim",
}
_SHOWN = 40


@dataclass(frozen=True)
class DiffRenderOptions:
    timestamp: str | None = None
    color: bool = False
    width: int = 110
    all_changes: bool = False  # also list informational changes one by one


def _title(diff: ReleaseDiff) -> str:
    old = f"{diff.old.name}" + (f" ({diff.old_version})" if diff.old_version else "")
    new = f"{diff.new.name}" + (f" ({diff.new_version})" if diff.new_version else "")
    return f"{old} → {new}"


def _listed(diff: ReleaseDiff, options: DiffRenderOptions) -> tuple[Change, ...]:
    if options.all_changes:
        return diff.changes
    return diff.at_least(Severity.LOW)


def _stats_line(diff: ReleaseDiff) -> str:
    s = diff.stats
    return (
        f"files: +{s.get('files_added', 0)} -{s.get('files_removed', 0)} "
        f"~{s.get('files_modified', 0)} modified, {s.get('files_cosmetic', 0)} cosmetic only, "
        f"{s.get('files_moved', 0)} moved, {s.get('files_unchanged', 0)} unchanged"
    )


def render_table(diff: ReleaseDiff, options: DiffRenderOptions) -> bytes:
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
    console.print(Text(f"finalexam diff: {_title(diff)}", style="bold"), markup=False)
    console.print(_stats_line(diff), markup=False)
    listed = _listed(diff, options)
    if listed:
        table = Table(
            title=f"Changes to review ({min(len(listed), _SHOWN)} of {len(listed)})",
            title_justify="left",
            show_edge=False,
        )
        table.add_column("severity")
        table.add_column("kind")
        table.add_column("location", overflow="fold")
        table.add_column("what", overflow="fold")
        for change in listed[:_SHOWN]:
            table.add_row(
                Text(change.severity.value, style=_STYLE[change.severity]),
                change.kind,
                Text(change.location or "-"),
                Text(change.title),
            )
        console.print(table)
    info = len(diff.changes) - len(diff.at_least(Severity.LOW))
    if info and not options.all_changes:
        console.print(f"{info} informational change(s) in the JSON output", markup=False)
    for note in diff.notes:
        console.print(Text(f"note: {note}", style="yellow"))
    style = "bold red" if diff.flagged else "bold green" if diff.complete else "bold yellow"
    console.print(Text(diff.headline, style=style))
    return buffer.getvalue().encode("utf-8")


def render_json(diff: ReleaseDiff, options: DiffRenderOptions) -> bytes:
    text = json.dumps(diff_document(diff, options.timestamp), indent=2, ensure_ascii=False)
    return (text + "\n").encode("utf-8")


def render_markdown(diff: ReleaseDiff, options: DiffRenderOptions) -> bytes:
    lines = [
        f"# Release diff: {cell(_title(diff))}",
        "",
        f"**{diff.headline}**",
        "",
        _stats_line(diff),
        "",
    ]
    listed = _listed(diff, options)
    if listed:
        lines += ["| severity | kind | location | what |", "|---|---|---|---|"]
        for change in listed:
            lines.append(
                f"| {change.severity.value} | {change.kind} | {code(change.location or '-')} "
                f"| {cell(change.title, 300)} |"
            )
        lines.append("")
    else:
        lines += ["No change needs review.", ""]
    for note in diff.notes:
        lines.append(f"> note: {cell(note, 300)}")
    return ("\n".join(lines).rstrip() + "\n").encode("utf-8")


_CSS = """
body{font-family:system-ui,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;width:100%}td,th{border:1px solid #ddd;padding:4px 8px;
text-align:left;vertical-align:top}th{background:#f4f4f4}code{font-size:90%}
.critical,.high{color:#b00;font-weight:bold}.medium{color:#b60}.low{color:#06c}.info{color:#777}
.risk{font-size:1.3em}details pre{white-space:pre-wrap;margin:0}
"""


def render_html(diff: ReleaseDiff, options: DiffRenderOptions) -> bytes:
    e = html.escape
    rows = []
    evidence_by_id = {c["id"]: c["evidence"] for c in diff_document(diff)["changes"]}
    for change in _listed(diff, options):
        evidence = json.dumps(evidence_by_id[change.id], indent=1, ensure_ascii=False)
        rows.append(
            f"<tr><td class='{change.severity.value}'>{change.severity.value}</td>"
            f"<td>{e(change.kind)}</td><td><code>{e(change.location or '-')}</code></td>"
            f"<td>{e(change.title)}<details><summary>evidence</summary><pre>{e(evidence)}</pre>"
            "</details></td></tr>"
        )
    body = (
        "<table><tr><th>severity</th><th>kind</th><th>location</th><th>what</th></tr>"
        + "".join(rows)
        + "</table>"
        if rows
        else "<p>No change needs review.</p>"
    )
    notes = "".join(f"<p><em>note: {e(n)}</em></p>" for n in diff.notes)
    risk_class = diff.risk if diff.flagged or diff.complete else "medium"
    risk_class = "info" if risk_class == "none" else risk_class
    page = (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>finalexam diff: {e(_title(diff))}</title><style>{_CSS}</style></head><body>"
        f"<h1>Release diff: {e(_title(diff))}</h1>"
        f"<p class='risk {risk_class}'>{e(diff.headline)}</p>"
        f"<p>{e(_stats_line(diff))}</p>{body}{notes}</body></html>\n"
    )
    return page.encode("utf-8")


DIFF_RENDERERS: dict[str, Callable[[ReleaseDiff, DiffRenderOptions], bytes]] = {
    "table": render_table,
    "json": render_json,
    "markdown": render_markdown,
    "html": render_html,
}

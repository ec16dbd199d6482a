"""The versioned report document: the one JSON shape every consumer reads.

Keep key names stable; bump SCHEMA_VERSION on any incompatible change.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from finalexam.model import (
    Component,
    Evidence,
    FileRecord,
    Finding,
    Indicator,
    Issue,
    Report,
    Suppressed,
    Waiver,
)
from finalexam.report.base import RenderOptions

SCHEMA_VERSION = "1.0"
SCHEMA_ID = "https://finalexam.dev/schema/report-1.0.json"


def report_timestamp(options: RenderOptions) -> str | None:
    """The time written into reports: ``--timestamp`` or SOURCE_DATE_EPOCH, never the clock."""
    if options.timestamp:
        return options.timestamp
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch and epoch.strip().isdigit():
        return datetime.fromtimestamp(int(epoch), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return None


def _evidence(evidence: Evidence) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if evidence.snippet is not None:
        out["snippet"] = evidence.snippet
    if evidence.line is not None:
        out["line"] = evidence.line
    if evidence.offset is not None:
        out["offset"] = evidence.offset
    out.update(_plain(dict(evidence.details)))
    return out


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    if isinstance(value, list | tuple | set | frozenset):
        items = [_plain(v) for v in value]
        return sorted(items, key=str) if isinstance(value, set | frozenset) else items
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)


def finding_dict(finding: Finding) -> dict[str, Any]:
    out: dict[str, Any] = {
        "fingerprint": finding.fingerprint,
        "kind": finding.kind.value,
        "rule_id": finding.rule_id,
        "severity": finding.severity.value,
        "confidence": finding.confidence.value,
        "title": finding.title,
        "message": finding.message,
        "location": str(finding.location) if finding.location else None,
        "found_by": finding.found_by,
        "evidence": _evidence(finding.evidence),
    }
    if finding.context is not None:
        out["context"] = finding.context.value
    if finding.component:
        out["component"] = finding.component
    if finding.aliases:
        out["aliases"] = list(finding.aliases)
    if finding.fixed:
        out["fixed"] = list(finding.fixed)
    if finding.references:
        out["references"] = list(finding.references)
    return out


def waiver_dict(waiver: Waiver) -> dict[str, Any]:
    out: dict[str, Any] = {"reason": waiver.reason}
    for key in ("fingerprint", "rule_id", "purl", "path", "expires", "approved_by"):
        value = getattr(waiver, key)
        if value is not None:
            out[key] = value
    return out


def _suppressed(item: Suppressed) -> dict[str, Any]:
    return {**finding_dict(item.finding), "waiver": waiver_dict(item.waiver)}


def component_dict(component: Component) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": component.id,
        "name": component.name,
        "version": component.version,
        "ecosystem": component.ecosystem,
        "purl": component.purl,
        "confidence": component.confidence.value,
        "found_by": list(component.found_by),
        "locations": [str(loc) for loc in component.locations],
    }
    if component.cpe:
        out["cpe"] = component.cpe
    if component.licenses:
        out["licenses"] = list(component.licenses)
    if component.hashes:
        out["hashes"] = {alg: value for alg, value in component.hashes}
    if component.supplier:
        out["supplier"] = component.supplier
    if component.evidence:
        out["evidence"] = list(component.evidence)
    if component.dependencies:
        out["dependencies"] = [
            {
                "target": d.target,
                "kind": d.kind.value,
                **({"requirement": d.requirement} if d.requirement else {}),
            }
            for d in component.dependencies
        ]
    if component.declared:
        out["declared"] = True
    return out


def _issue(issue: Issue) -> dict[str, Any]:
    out: dict[str, Any] = {
        "kind": issue.kind.value,
        "gap": issue.kind.gap,
        "stage": issue.stage,
        "location": str(issue.location) if issue.location else None,
        "message": issue.message,
    }
    if issue.plugin:
        out["plugin"] = issue.plugin
    return out


def _file(record: FileRecord) -> dict[str, Any]:
    out: dict[str, Any] = {
        "location": str(record.location),
        "size": record.size,
        "sha256": record.sha256,
        "sha1": record.sha1,
        "type": record.file_type.value,
    }
    if record.layer:
        out["layer"] = record.layer
    if record.link_target is not None:
        out["link_target"] = record.link_target
    return out


def _indicator(indicator: Indicator) -> dict[str, Any]:
    return {
        "kind": indicator.kind,
        "value": indicator.value,
        "category": indicator.category,
        "locations": [str(loc) for loc in indicator.locations],
    }


def file_summary(files: tuple[FileRecord, ...]) -> dict[str, Any]:
    by_type = Counter(record.file_type.value for record in files)
    return {
        "count": len(files),
        "bytes": sum(record.size for record in files),
        "max_depth": max((record.location.depth for record in files), default=0),
        "by_type": dict(sorted(by_type.items())),
    }


def to_document(report: Report, options: RenderOptions) -> dict[str, Any]:
    timestamp = report_timestamp(options)
    findings = report.findings
    severity_counts = Counter(f.severity.value for f in findings)
    kind_counts = Counter(f.kind.value for f in findings)
    document: dict[str, Any] = {
        "schema": SCHEMA_VERSION,
        "tool": {"name": "finalexam", "version": report.tool_version},
        "artifact": {
            "path": report.artifact.path,
            "name": report.artifact.name,
            "sha256": report.artifact.sha256,
            "size": report.artifact.size,
            "kind": report.artifact.kind,
            **({"version": report.artifact.version} if report.artifact.version else {}),
        },
        "complete": report.complete,
        "allowed_incomplete": [kind.value for kind in report.allowed_incomplete],
        "summary": {
            "files": file_summary(report.files),
            "components": len(report.components),
            "findings": {
                "total": len(findings),
                "by_severity": dict(sorted(severity_counts.items())),
                "by_kind": dict(sorted(kind_counts.items())),
            },
            "suppressed": len(report.suppressed),
            "issues": len(report.issues),
            "gaps": len(report.gaps),
        },
        "files": [_file(r) for r in report.files] if options.files else None,
        "components": [component_dict(c) for c in report.components],
        "findings": [finding_dict(f) for f in findings],
        "suppressed": [_suppressed(s) for s in report.suppressed],
        "indicators": [_indicator(i) for i in report.indicators],
        "binaries": [_plain(b) for b in report.binaries],
        "issues": [_issue(i) for i in report.issues],
        "plugins": [
            {
                "name": p.name,
                "kind": p.kind,
                "status": p.status,
                **({"detail": p.detail} if p.detail else {}),
                **({"version": p.version} if p.version else {}),
            }
            for p in report.plugins
        ],
        "verdict": {
            "status": report.status.value,
            "passed": report.verdict.passed,
            "policy": report.verdict.policy,
            "violations": [
                {
                    "rule": v.rule,
                    "message": v.message,
                    **({"fingerprint": v.fingerprint} if v.fingerprint else {}),
                }
                for v in report.verdict.violations
            ],
            "warnings": list(report.verdict.warnings),
            "checks": [
                {
                    "rule": c.rule,
                    "action": c.action,
                    "description": c.description,
                    "matched": c.matched,
                    "waived": c.waived,
                    "passed": c.passed,
                }
                for c in report.verdict.checks
            ],
        },
    }
    if options.timings:  # durations vary run to run: only when asked for (--timings)
        document["timings"] = dict(sorted(report.timings.items()))
    if document["files"] is None:
        del document["files"]
    if timestamp is not None:
        document["timestamp"] = timestamp
    for key, value in sorted(report.extra.items()):
        document.setdefault(key, _plain(value))
    return document

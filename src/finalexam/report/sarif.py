"""``-o sarif``: SARIF 2.1.0 for code scanning (GitHub and other SARIF consumers).

Files inside nested archives are SARIF ``artifacts`` chained by ``parentIndex``; each result
points at its innermost file with the ``outer!/inner`` location string as URI, relative to
the ``ARTIFACT_ROOT`` base (the directory that holds the examined artifact). Waived findings
are results with an accepted external suppression.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote

from finalexam.model import (
    ARCHIVE_SEPARATOR,
    Finding,
    Location,
    Report,
    Severity,
    Waiver,
    counts_as_gap,
)
from finalexam.report.base import RenderOptions
from finalexam.report.document import finding_dict, report_timestamp

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI = "https://finalexam.dev"
URI_BASE = "ARTIFACT_ROOT"
FINGERPRINT_KEY = "finalexam/v1"
# GitHub code scanning rejects runs with more results; the most severe are kept.
MAX_RESULTS = 25_000
PRETTY_LIMIT = 2_000  # results; bigger logs are written compact

LEVELS = {
    Severity.CRITICAL: "error",
    Severity.HIGH: "error",
    Severity.UNKNOWN: "error",  # an unrated vulnerability is treated as high
    Severity.MEDIUM: "warning",
    Severity.LOW: "note",
    Severity.INFO: "note",
}
# GitHub's security-severity scale (CVSS-like): critical > 9, high 7-8.9, medium 4-6.9.
SECURITY_SEVERITY = {
    Severity.CRITICAL: "9.5",
    Severity.HIGH: "8.0",
    Severity.UNKNOWN: "7.0",
    Severity.MEDIUM: "5.5",
    Severity.LOW: "2.0",
    Severity.INFO: "0.0",
}


def location_uri(location: Location) -> str:
    return quote(str(location), safe="/!@:+,;=-._~")


class _Artifacts:
    """Every referenced file and the archives around it, parents before children."""

    def __init__(self, locations: Iterable[Location]) -> None:
        chains: set[tuple[str, ...]] = set()
        for location in locations:
            for depth in range(1, len(location.chain) + 1):
                chains.add(location.chain[:depth])
        self.order = sorted(chains, key=lambda chain: (len(chain), chain))
        self.index = {chain: i for i, chain in enumerate(self.order)}

    def entries(self) -> list[dict[str, Any]]:
        out = []
        for chain in self.order:
            entry: dict[str, Any] = {
                "location": {"uri": location_uri(Location(chain)), "uriBaseId": URI_BASE},
                "roles": ["analysisTarget"],
            }
            if len(chain) > 1:
                entry["parentIndex"] = self.index[chain[:-1]]
            out.append(entry)
        return out


def _where(finding: Finding, report: Report) -> Location:
    if finding.location is not None:
        return finding.location
    if finding.component:
        for component in report.components:
            if component.purl == finding.component and component.locations:
                return component.locations[0]
    return Location((report.artifact.name,))


def _rules(findings: list[Finding]) -> list[dict[str, Any]]:
    by_id: dict[str, list[Finding]] = {}
    for finding in findings:
        by_id.setdefault(finding.rule_id, []).append(finding)
    rules = []
    for rule_id in sorted(by_id):
        group = by_id[rule_id]
        worst = max(group, key=lambda f: f.severity.rank)
        first = group[0]
        properties: dict[str, Any] = {
            "tags": sorted({"security", *(f.kind.value for f in group)}),
            "security-severity": SECURITY_SEVERITY[worst.severity],
            "precision": {"high": "high", "medium": "medium", "low": "low"}[first.confidence.value],
            "problem.severity": {"error": "error", "warning": "warning", "note": "recommendation"}[
                LEVELS[worst.severity]
            ],
            "found_by": first.found_by,
        }
        rule: dict[str, Any] = {
            "id": rule_id,
            "name": _pascal(rule_id),
            "shortDescription": {"text": first.title},
            "fullDescription": {
                "text": f"{first.kind.value} finding reported by {first.found_by}: {first.title}"
            },
            "defaultConfiguration": {"level": LEVELS[worst.severity]},
            "help": {
                "text": first.message,
                "markdown": f"**{first.title}**\n\n{first.message}",
            },
            "properties": properties,
        }
        reference = next((r for f in group for r in f.references), None)
        if reference:
            rule["helpUri"] = reference
        rules.append(rule)
    return rules


def _pascal(rule_id: str) -> str:
    parts = [p for p in rule_id.replace("-", ".").replace("_", ".").split(".") if p]
    return "".join(p[:1].upper() + p[1:] for p in parts) or rule_id


def _result(
    finding: Finding,
    report: Report,
    rule_index: dict[str, int],
    artifacts: _Artifacts,
    violations: set[str],
    waiver: Waiver | None,
) -> dict[str, Any]:
    where = _where(finding, report)
    region: dict[str, Any] = {"startLine": finding.evidence.line or 1}
    if finding.evidence.snippet:
        region["snippet"] = {"text": finding.evidence.snippet}
    location: dict[str, Any] = {
        "physicalLocation": {
            "artifactLocation": {
                "uri": location_uri(where),
                "uriBaseId": URI_BASE,
                "index": artifacts.index[where.chain],
            },
            "region": region,
        }
    }
    if len(where.chain) > 1:
        location["logicalLocations"] = [
            {"fullyQualifiedName": str(where), "kind": "member"},
        ]
    properties = finding_dict(finding)
    fingerprint = properties.pop("fingerprint")
    for key in ("title", "message", "rule_id"):
        properties.pop(key, None)
    properties["policy"] = "violation" if fingerprint in violations else "pass"
    result: dict[str, Any] = {
        "ruleId": finding.rule_id,
        "ruleIndex": rule_index[finding.rule_id],
        "kind": "fail",
        "level": LEVELS[finding.severity],
        "message": {"text": f"{finding.title}: {finding.message}"},
        "locations": [location],
        "partialFingerprints": {FINGERPRINT_KEY: fingerprint},
        "properties": properties,
    }
    if waiver is not None:
        suppression: dict[str, Any] = {
            "kind": "external",
            "status": "accepted",
            "justification": waiver.reason,
        }
        extra = {
            key: getattr(waiver, key)
            for key in ("fingerprint", "rule_id", "purl", "path", "expires", "approved_by")
            if getattr(waiver, key)
        }
        if extra:
            suppression["properties"] = extra
        result["suppressions"] = [suppression]
    return result


def to_sarif(report: Report, options: RenderOptions) -> dict[str, Any]:
    waived = [(s.finding, s.waiver) for s in report.suppressed]
    every: list[tuple[Finding, Waiver | None]] = [(f, None) for f in report.findings]
    every += waived
    total = len(every)
    every = every[:MAX_RESULTS]
    findings = [finding for finding, _ in every]
    rules = _rules(findings)
    rule_index = {rule["id"]: i for i, rule in enumerate(rules)}
    locations = [_where(f, report) for f in findings]
    locations += [i.location for i in report.issues if i.location is not None]
    artifacts = _Artifacts(locations)
    violations = {v.fingerprint for v in report.verdict.violations if v.fingerprint}
    results = [
        _result(finding, report, rule_index, artifacts, violations, waiver)
        for finding, waiver in every
    ]
    notifications = []
    for issue in report.issues:
        # a gap left part of the artifact unexamined: an error of the run, not a remark
        level = "error" if counts_as_gap(issue, report.allowed_incomplete) else "warning"
        level = level if issue.kind.gap else "note"
        note: dict[str, Any] = {"level": level, "message": {"text": issue.message}}
        if issue.location is not None:
            note["locations"] = [
                {
                    "physicalLocation": {
                        "artifactLocation": {
                            "uri": location_uri(issue.location),
                            "uriBaseId": URI_BASE,
                            "index": artifacts.index[issue.location.chain],
                        }
                    }
                }
            ]
        note["properties"] = {"kind": issue.kind.value, "stage": issue.stage}
        if issue.plugin:
            note["properties"]["plugin"] = issue.plugin
        notifications.append(note)
    invocation: dict[str, Any] = {
        "executionSuccessful": report.complete,
        "toolExecutionNotifications": notifications,
    }
    timestamp = report_timestamp(options)
    if timestamp:
        invocation["endTimeUtc"] = timestamp
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "finalexam",
                "version": report.tool_version,
                "semanticVersion": report.tool_version,
                "informationUri": INFORMATION_URI,
                "rules": rules,
            }
        },
        "originalUriBaseIds": {
            URI_BASE: {
                "description": {
                    "text": "The directory that holds the examined artifact; members of "
                    f"archives are written outer{ARCHIVE_SEPARATOR}inner."
                }
            }
        },
        "artifacts": artifacts.entries(),
        "invocations": [invocation],
        "results": results,
        "columnKind": "unicodeCodePoints",
        "properties": {
            "artifact": {
                "name": report.artifact.name,
                "sha256": report.artifact.sha256,
                "kind": report.artifact.kind,
            },
            "verdict": {
                "status": report.status.value.upper(),
                "complete": report.complete,
                "allowed_incomplete": [kind.value for kind in report.allowed_incomplete],
                "passed": report.verdict.passed,
                "policy": report.verdict.policy,
                "violations": len(report.verdict.violations),
            },
        },
    }
    if total > len(every):
        run["properties"]["truncated"] = {"results": total, "kept": len(every)}
    return {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]}


class SarifReporter:
    name = "sarif"
    version = "1.0"
    requires: tuple[str, ...] = ()
    description = "SARIF 2.1.0 (code scanning)"

    def render(self, report: Report, options: RenderOptions) -> bytes:
        log = to_sarif(report, options)
        if len(log["runs"][0]["results"]) <= PRETTY_LIMIT:
            text = json.dumps(log, indent=2, ensure_ascii=False)
        else:  # indenting forces the pure-Python encoder: ~10x slower on big logs
            text = json.dumps(log, separators=(",", ":"), ensure_ascii=False)
        return (text + "\n").encode("utf-8")

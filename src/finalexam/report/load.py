"""Read a stored JSON report document back into a ``Report`` (inverse of ``document.py``).

Rendering a loaded report with the options it was written with gives the same bytes back,
provided the document carried its file list (``--files``); without it the inventory is empty.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from finalexam.errors import InputError
from finalexam.model import (
    Artifact,
    Component,
    Confidence,
    Dependency,
    Evidence,
    FileContext,
    FileRecord,
    FileType,
    Finding,
    FindingKind,
    Indicator,
    Issue,
    IssueKind,
    Location,
    PluginStatus,
    PolicyCheck,
    Relationship,
    Report,
    Severity,
    Suppressed,
    Verdict,
    Violation,
    Waiver,
)
from finalexam.redact import safe_report

# Top-level keys written by document.py itself; every other key is a plug-in section (extra).
_CORE_KEYS = frozenset(
    {
        "schema",
        "tool",
        "artifact",
        "complete",
        "allowed_incomplete",
        "summary",
        "files",
        "components",
        "findings",
        "suppressed",
        "indicators",
        "binaries",
        "issues",
        "plugins",
        "verdict",
        "timings",
        "timestamp",
    }
)
_EVIDENCE_KEYS = ("snippet", "line", "offset")


@dataclass(frozen=True)
class StoredFinding(Finding):
    """A finding read from a document: keeps the fingerprint it was stored with.

    The fingerprint may depend on ``fingerprint_key`` (e.g. a secret's hash), which the
    document does not carry, so it cannot always be recomputed.
    """

    stored_fingerprint: str = ""

    @property
    def fingerprint(self) -> str:
        return self.stored_fingerprint or super().fingerprint


def is_report_document(data: bytes) -> bool:
    """Whether bytes look like a finalexam JSON report (detected by content, not by name)."""
    head = data[:4096].lstrip()
    if not head.startswith(b"{") or b'"schema"' not in head:
        return False
    try:
        document = json.loads(data)
    except (ValueError, UnicodeDecodeError):
        return False
    return (
        isinstance(document, dict)
        and isinstance(document.get("tool"), dict)
        and document["tool"].get("name") == "finalexam"
        and "artifact" in document
    )


def load_report(path: str | Path) -> Report:
    """Read a stored report document; raises InputError with the file name when it is not one."""
    source = Path(path)
    try:
        data = source.read_bytes()
    except OSError as error:
        raise InputError(f"cannot read: {error.strerror}", path=str(source)) from None
    try:
        document = json.loads(data)
    except (ValueError, UnicodeDecodeError) as error:
        raise InputError(f"not a JSON report: {error}", path=str(source)) from None
    try:
        return safe_report(report_from_document(document))  # e.g. from an older version
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise InputError(
            f"not a finalexam report: {type(error).__name__}: {error}", path=str(source)
        ) from None


def report_from_document(document: Mapping[str, Any]) -> Report:
    if not isinstance(document, Mapping) or document.get("tool", {}).get("name") != "finalexam":
        raise ValueError("missing tool.name = finalexam")
    verdict = document.get("verdict") or {}
    return Report(
        artifact=_artifact(document["artifact"]),
        tool_version=str(document["tool"].get("version", "")),
        files=tuple(_file(item) for item in document.get("files") or ()),
        components=tuple(_component(item) for item in document.get("components", ())),
        findings=tuple(_finding(item) for item in document.get("findings", ())),
        suppressed=tuple(
            Suppressed(finding=_finding(item), waiver=_waiver(item["waiver"]))
            for item in document.get("suppressed", ())
        ),
        issues=tuple(_issue(item) for item in document.get("issues", ())),
        indicators=tuple(_indicator(item) for item in document.get("indicators", ())),
        binaries=tuple(dict(item) for item in document.get("binaries", ())),
        plugins=tuple(
            PluginStatus(
                name=item["name"],
                kind=item["kind"],
                status=item["status"],
                detail=item.get("detail"),
                version=item.get("version"),
            )
            for item in document.get("plugins", ())
        ),
        verdict=Verdict(
            passed=bool(verdict.get("passed", True)),
            policy=str(verdict.get("policy", "default")),
            violations=tuple(
                Violation(rule=v["rule"], message=v["message"], fingerprint=v.get("fingerprint"))
                for v in verdict.get("violations", ())
            ),
            warnings=tuple(verdict.get("warnings", ())),
            checks=tuple(
                PolicyCheck(
                    c["rule"],
                    c["action"],
                    c.get("description", ""),
                    c.get("matched", 0),
                    c.get("waived", 0),
                )
                for c in verdict.get("checks", ())
            ),
        ),
        timings={str(k): float(v) for k, v in (document.get("timings") or {}).items()},
        complete=bool(document.get("complete", True)),
        allowed_incomplete=tuple(
            _issue_kind(k) for k in document.get("allowed_incomplete", ()) or ()
        ),
        extra={k: v for k, v in document.items() if k not in _CORE_KEYS},
    )


def _location(text: str | None) -> Location | None:
    return Location.parse(text) if text else None


def _artifact(item: Mapping[str, Any]) -> Artifact:
    return Artifact(
        name=item["name"],
        path=item["path"],
        sha256=item.get("sha256", ""),
        size=int(item.get("size", 0)),
        kind=item.get("kind", "file"),
        version=item.get("version"),
    )


def _file_type(text: str) -> FileType:
    try:
        return FileType(text)
    except ValueError:
        return FileType.OTHER


def _file(item: Mapping[str, Any]) -> FileRecord:
    return FileRecord(
        location=Location.parse(item["location"]),
        size=int(item["size"]),
        sha256=item["sha256"],
        sha1=item.get("sha1", ""),
        file_type=_file_type(item.get("type", "other")),
        layer=item.get("layer"),
        link_target=item.get("link_target"),
    )


def _component(item: Mapping[str, Any]) -> Component:
    return Component(
        name=item["name"],
        version=item.get("version"),
        ecosystem=item["ecosystem"],
        purl=item.get("purl"),
        cpe=item.get("cpe"),
        licenses=tuple(item.get("licenses", ())),
        hashes=tuple((str(k), str(v)) for k, v in (item.get("hashes") or {}).items()),
        locations=tuple(Location.parse(text) for text in item.get("locations", ())),
        found_by=tuple(item.get("found_by", ())),
        confidence=Confidence(item.get("confidence", "high")),
        evidence=tuple(item.get("evidence", ())),
        supplier=item.get("supplier"),
        dependencies=tuple(
            Dependency(
                target=d["target"],
                kind=Relationship(d.get("kind", "depends-on")),
                requirement=d.get("requirement"),
            )
            for d in item.get("dependencies", ())
        ),
        declared=bool(item.get("declared", False)),
    )


def _evidence(item: Mapping[str, Any]) -> Evidence:
    details = {k: v for k, v in item.items() if k not in _EVIDENCE_KEYS}
    return Evidence(
        snippet=item.get("snippet"),
        line=item.get("line"),
        offset=item.get("offset"),
        details=details,
    )


def _finding(item: Mapping[str, Any]) -> Finding:
    return StoredFinding(
        kind=FindingKind(item["kind"]),
        rule_id=item["rule_id"],
        severity=Severity(item["severity"]),
        title=item.get("title", ""),
        message=item.get("message", ""),
        location=_location(item.get("location")),
        found_by=item.get("found_by", ""),
        confidence=Confidence(item.get("confidence", "medium")),
        component=item.get("component"),
        evidence=_evidence(item.get("evidence") or {}),
        aliases=tuple(item.get("aliases", ())),
        fixed=tuple(item.get("fixed", ())),
        references=tuple(item.get("references", ())),
        context=FileContext(item["context"]) if item.get("context") else None,
        stored_fingerprint=item.get("fingerprint", ""),
    )


def _waiver(item: Mapping[str, Any]) -> Waiver:
    return Waiver(
        reason=item["reason"],
        fingerprint=item.get("fingerprint"),
        rule_id=item.get("rule_id"),
        purl=item.get("purl"),
        path=item.get("path"),
        expires=item.get("expires"),
        approved_by=item.get("approved_by"),
    )


def _issue(item: Mapping[str, Any]) -> Issue:
    return Issue(
        stage=item["stage"],
        location=_location(item.get("location")),
        message=item["message"],
        kind=_issue_kind(item.get("kind")),
        plugin=item.get("plugin"),
    )


def _issue_kind(text: Any) -> IssueKind:
    """Reports written before issues had kinds (or by a newer version with a kind unknown
    here) read as gaps: nothing unexamined may pass for examined."""
    try:
        return IssueKind.parse(str(text))
    except ValueError:
        return IssueKind.CORRUPT


def _indicator(item: Mapping[str, Any]) -> Indicator:
    return Indicator(
        kind=item["kind"],
        value=item["value"],
        category=item.get("category", ""),
        locations=tuple(Location.parse(text) for text in item.get("locations", ())),
    )

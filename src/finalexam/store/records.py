"""Report → rows: what the store keeps of an exam and of the exposures it found."""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from finalexam.model import Component, ExamStatus, Finding, Report
from finalexam.report.base import RenderOptions
from finalexam.report.document import component_dict, to_document
from finalexam.report.load import report_from_document
from finalexam.vuln.match import FOUND_BY as DB_FOUND_BY
from finalexam.vuln.purl import package_ref, purl_ref

PASSED, FAILED = ExamStatus.PASSED.value, ExamStatus.FAILED.value
INCOMPLETE = ExamStatus.INCOMPLETE.value
BUILT, RECEIVED = "built", "received"


def utc_now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def report_status(report: Report) -> str:
    """The exam's outcome (failed wins over incomplete), as the store spells it."""
    return report.status.value


def pack_report(report: Report) -> bytes:
    document = to_document(report, RenderOptions())
    return zlib.compress(json.dumps(document, ensure_ascii=False).encode("utf-8"), 6)


def unpack_report(data: bytes) -> Report:
    return report_from_document(json.loads(zlib.decompress(data)))


def unpack_document(data: bytes) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(zlib.decompress(data))
    return document


def component_row(component: Component) -> dict[str, Any]:
    """The row of a component (``exam_id`` is added when the exam has one)."""
    ref = package_ref(component)
    return {
        "name": component.name,
        "version": component.version,
        "ecosystem": component.ecosystem,
        "purl": component.purl,
        "lookup_ecosystem": ref.ecosystem if ref else None,
        "lookup_name": ref.name if ref else None,
        "doc": json.dumps(component_dict(component), ensure_ascii=False),
    }


def dependency_rows(components: Iterable[Component]) -> list[dict[str, Any]]:
    keys = set()
    for component in components:
        for dependency in component.dependencies:
            ref = purl_ref(dependency.target)
            if ref is not None:
                keys.add((ref.ecosystem, ref.name))
    return [
        {"lookup_ecosystem": ecosystem, "lookup_name": name} for ecosystem, name in sorted(keys)
    ]


def is_db_finding(finding: Finding) -> bool:
    """Findings a re-check recomputes from the vulnerability DB (advisories, MAL- records)."""
    return finding.found_by == DB_FOUND_BY


@dataclass(frozen=True)
class Exposure:
    """One advisory matched to one component of one release."""

    advisory: str
    ids: tuple[str, ...]
    component: str
    component_name: str
    component_version: str | None
    ecosystem: str
    kind: str
    severity: str
    title: str
    fixed: tuple[str, ...]
    fingerprint: str
    waived: bool

    @property
    def key(self) -> tuple[str, str]:
        return (self.component, self.advisory)

    def row(self) -> dict[str, Any]:
        return {
            "advisory": self.advisory,
            "ids": " " + " ".join(self.ids) + " ",
            "component": self.component,
            "component_name": self.component_name,
            "component_version": self.component_version,
            "ecosystem": self.ecosystem,
            "kind": self.kind,
            "severity": self.severity,
            "title": self.title,
            "fixed": json.dumps(list(self.fixed)),
            "fingerprint": self.fingerprint,
            "waived": self.waived,
        }


def exposure(finding: Finding, waived: bool) -> Exposure:
    details = finding.evidence.details
    name = details.get("package") or details.get("dependency") or finding.component or ""
    return Exposure(
        advisory=finding.rule_id,
        ids=(finding.rule_id, *finding.aliases),
        component=finding.component or str(name),
        component_name=str(name),
        component_version=details.get("version"),
        ecosystem=str(details.get("ecosystem") or ""),
        kind=finding.kind.value,
        severity=finding.severity.value,
        title=finding.title,
        fixed=finding.fixed,
        fingerprint=finding.fingerprint,
        waived=waived,
    )


def report_exposures(report: Report) -> list[Exposure]:
    found = [exposure(f, False) for f in report.findings if is_db_finding(f)]
    found += [exposure(s.finding, True) for s in report.suppressed if is_db_finding(s.finding)]
    return found

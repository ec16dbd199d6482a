"""Component → OSV advisories → one finding per vulnerability per component.

Records that name each other (``aliases``: CVE, GHSA, PYSEC, GO, RUSTSEC...) are one
vulnerability: they become one finding whose ``rule_id`` is the preferred record id and
whose ``aliases`` list every other id. A ``MAL-`` record makes the finding a critical
``malicious`` one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from finalexam.model import Component, Evidence, Finding, FindingKind, Severity
from finalexam.vuln.cvss import CvssError, CvssScore, score_vector
from finalexam.vuln.db import VulnDatabase
from finalexam.vuln.purl import PackageRef, package_ref
from finalexam.vuln.ranges import RangeMatch, fixed_versions, match_affected
from finalexam.vuln.versions import InvalidVersion, base_ecosystem, ecosystem_rule, normalize_name

FOUND_BY = "vulnerabilities"
MAX_REFERENCES = 20

# Which record id names a merged vulnerability: lower rank first, then alphabetical.
_ID_RANK = (("MAL-", 0), ("GHSA-", 1), ("PYSEC-", 2), ("GO-", 2), ("RUSTSEC-", 2), ("CVE-", 9))
_DATABASE_SEVERITY = {
    "critical": Severity.CRITICAL,
    "high": Severity.HIGH,
    "moderate": Severity.MEDIUM,
    "medium": Severity.MEDIUM,
    "low": Severity.LOW,
}
_INFORMATIONAL = {"unsound": Severity.LOW, "unmaintained": Severity.INFO, "notice": Severity.INFO}


def id_rank(record_id: str) -> tuple[int, str]:
    for prefix, rank in _ID_RANK:
        if record_id.startswith(prefix):
            return rank, record_id
    return 5, record_id


@dataclass(frozen=True)
class RecordMatch:
    record: Mapping[str, Any]
    package: str  # the affected package name as the record spells it
    ecosystem: str  # the affected entry's full ecosystem string (e.g. Debian:12)
    reason: RangeMatch
    fixed: tuple[str, ...]
    informational: str | None

    @property
    def record_id(self) -> str:
        return str(self.record["id"])


@dataclass(frozen=True)
class _Rated:
    severity: Severity
    source: str
    cvss: tuple[CvssScore, ...]


def match_record(record: Mapping[str, Any], ref: PackageRef) -> RecordMatch | None:
    for affected in record.get("affected") or []:
        if not isinstance(affected, dict):
            continue
        package = affected.get("package") or {}
        ecosystem, name = package.get("ecosystem"), package.get("name")
        if not isinstance(ecosystem, str) or not isinstance(name, str):
            continue
        if base_ecosystem(ecosystem) != ref.ecosystem:
            continue
        if normalize_name(ecosystem, name) != ref.name:
            continue
        reason = match_affected(affected, ecosystem, ref.version)
        if reason is None:
            continue
        fixed: list[str] = []
        for entry in record.get("affected") or []:
            entry_package = entry.get("package") or {} if isinstance(entry, dict) else {}
            if (
                base_ecosystem(str(entry_package.get("ecosystem", ""))) == ref.ecosystem
                and normalize_name(ecosystem, str(entry_package.get("name", ""))) == ref.name
            ):
                fixed.extend(fixed_versions(entry))
        specific = affected.get("database_specific") or {}
        informational = specific.get("informational") if isinstance(specific, dict) else None
        return RecordMatch(
            record=record,
            package=name,
            ecosystem=ecosystem,
            reason=reason,
            fixed=tuple(_sort_versions(ref.ecosystem, set(fixed))),
            informational=informational if isinstance(informational, str) else None,
        )
    return None


def _sort_versions(ecosystem: str, versions: Iterable[str]) -> list[str]:
    rule = ecosystem_rule(ecosystem)
    plain = sorted(versions)
    if rule is None:
        return plain
    try:
        return sorted(plain, key=rule.scheme.key)
    except (InvalidVersion, TypeError):
        return plain


def _cluster(matches: Sequence[RecordMatch]) -> list[list[RecordMatch]]:
    """Group matched records that share an id or alias (union-find over names)."""
    parent: dict[str, str] = {}

    def find(name: str) -> str:
        parent.setdefault(name, name)
        while parent[name] != name:
            parent[name] = parent[parent[name]]
            name = parent[name]
        return name

    for match in matches:
        names = [match.record_id, *(a for a in match.record.get("aliases") or [] if a)]
        for other in names[1:]:
            parent[find(other)] = find(names[0])
    groups: dict[str, list[RecordMatch]] = {}
    for match in matches:
        groups.setdefault(find(match.record_id), []).append(match)
    return [sorted(group, key=lambda m: id_rank(m.record_id)) for group in groups.values()]


def _severity_entries(record: Mapping[str, Any]) -> Iterable[Mapping[str, Any]]:
    yield from (s for s in record.get("severity") or [] if isinstance(s, dict))
    for affected in record.get("affected") or []:
        if isinstance(affected, dict):
            yield from (s for s in affected.get("severity") or [] if isinstance(s, dict))


def rate(group: Sequence[RecordMatch]) -> _Rated:
    if any(m.record_id.startswith("MAL-") for m in group):
        return _Rated(Severity.CRITICAL, "malicious package", ())
    scores: list[CvssScore] = []
    for match in group:
        for entry in _severity_entries(match.record):
            if str(entry.get("type", "")).startswith("CVSS_V") and isinstance(
                entry.get("score"), str
            ):
                try:
                    scores.append(score_vector(entry["score"]))
                except CvssError:
                    continue
    if scores:
        best = max(scores, key=lambda s: (s.score, s.version))
        return _Rated(best.severity, f"CVSS {best.version} {best.score}", tuple(scores))
    for match in group:
        specific = match.record.get("database_specific") or {}
        label = specific.get("severity") if isinstance(specific, dict) else None
        if isinstance(label, str) and label.lower() in _DATABASE_SEVERITY:
            return _Rated(_DATABASE_SEVERITY[label.lower()], f"database_specific {label}", ())
    for match in group:
        if match.informational in _INFORMATIONAL:
            return _Rated(_INFORMATIONAL[match.informational], match.informational, ())
    return _Rated(Severity.MEDIUM, "unknown (no CVSS or database severity)", ())


def build_finding(component: Component, ref: PackageRef, group: Sequence[RecordMatch]) -> Finding:
    primary = group[0]
    names: set[str] = set()
    for match in group:
        names.add(match.record_id)
        names.update(str(a) for a in match.record.get("aliases") or [] if a)
    names.discard(primary.record_id)
    aliases = tuple(sorted(names, key=id_rank))
    malicious = primary.record_id.startswith("MAL-")
    fixed = tuple(_sort_versions(ref.ecosystem, {v for m in group for v in m.fixed}))
    references: set[str] = set()
    for match in group:
        for item in match.record.get("references") or []:
            if isinstance(item, dict) and isinstance(item.get("url"), str):
                references.add(item["url"])
    rated = rate(group)
    version = ref.version or "(any version)"
    summary = str(primary.record.get("summary") or "").strip()
    if malicious:
        title = summary or f"Malicious package {ref.display_name}"
    else:
        cve = next((a for a in aliases if a.startswith("CVE-")), None)
        title = summary or f"{primary.record_id} in {ref.display_name}" + (
            f" ({cve})" if cve else ""
        )
    if primary.informational and not malicious:
        title = f"{primary.informational}: {title}"
    message = f"{ref.display_name} {version} ({ref.ecosystem}) "
    message += (
        "is a known malicious package" if malicious else f"is affected by {primary.record_id}"
    )
    if aliases:
        message += f" (also {', '.join(aliases)})"
    if not malicious:
        message += f"; fixed in {', '.join(fixed)}" if fixed else "; no fixed version known"
    details: dict[str, Any] = {
        "package": ref.display_name,
        "version": ref.version,
        "ecosystem": ref.ecosystem,
        "advisories": [m.record_id for m in group],
        "matched": [
            {"id": m.record_id, "package": m.package, "ecosystem": m.ecosystem} | m.reason.as_dict()
            for m in group
        ],
        "severity_source": rated.source,
    }
    if rated.cvss:
        details["cvss"] = [
            {"version": s.version, "vector": s.vector, "score": s.score}
            for s in sorted(set(rated.cvss), key=lambda s: (-s.score, s.vector))
        ]
    if primary.informational:
        details["informational"] = primary.informational
    if len(component.locations) > 1:
        details["locations"] = [str(loc) for loc in component.locations]
    return Finding(
        kind=FindingKind.MALICIOUS if malicious else FindingKind.VULNERABILITY,
        rule_id=primary.record_id,
        severity=rated.severity,
        title=title,
        message=message,
        location=component.locations[0] if component.locations else None,
        found_by=FOUND_BY,
        confidence=component.confidence,
        component=component.purl or f"{ref.ecosystem}/{ref.display_name}@{ref.version or ''}",
        evidence=Evidence(
            snippet=f"{ref.display_name}@{version}: {primary.reason.description}",
            details=details,
        ),
        aliases=aliases,
        fixed=fixed,
        references=tuple(sorted(references))[:MAX_REFERENCES],
    )


@dataclass
class MatchStats:
    components: int = 0
    checked: int = 0
    unsupported: int = 0  # no ecosystem the database knows
    without_version: int = 0
    vulnerable: int = 0
    malicious: int = 0


class Matcher:
    def __init__(self, database: VulnDatabase) -> None:
        self.database = database
        self.stats = MatchStats()
        self._prefetched: set[tuple[str, str]] = set()
        self._ids: dict[tuple[str, str], list[str]] = {}
        self._records: dict[str, dict[str, Any]] = {}

    def prefetch(self, components: Iterable[Component]) -> None:
        """Look up every component's records in a few batched queries."""
        keys = {(r.ecosystem, r.name) for c in components if (r := package_ref(c)) is not None}
        self._ids = self.database.record_ids_many(keys)
        self._records = self.database.records_many(i for ids in self._ids.values() for i in ids)
        self._prefetched = keys

    def _record_ids(self, ref: PackageRef) -> list[str]:
        key = (ref.ecosystem, ref.name)
        if key in self._prefetched:
            return self._ids.get(key, [])
        return self.database.record_ids(ref.ecosystem, ref.name)

    def matches(self, ref: PackageRef) -> list[RecordMatch]:
        found: list[RecordMatch] = []
        for record_id in self._record_ids(ref):
            record = self._records.get(record_id) or self.database.record(record_id)
            if record is None or record.get("withdrawn"):
                continue
            match = match_record(record, ref)
            if match is not None:
                found.append(match)
        return found

    def match_component(self, component: Component) -> list[Finding]:
        self.stats.components += 1
        ref = package_ref(component)
        if ref is None:
            self.stats.unsupported += 1
            return []
        self.stats.checked += 1
        if not ref.version:
            self.stats.without_version += 1
        findings = [build_finding(component, ref, g) for g in _cluster(self.matches(ref))]
        if any(f.kind is FindingKind.MALICIOUS for f in findings):
            self.stats.malicious += 1
        if any(f.kind is FindingKind.VULNERABILITY for f in findings):
            self.stats.vulnerable += 1
        return sorted(findings, key=lambda f: id_rank(f.rule_id))

    def match_all(self, components: Iterable[Component]) -> list[Finding]:
        components = list(components)
        self.prefetch(components)
        findings: list[Finding] = []
        for component in components:
            findings.extend(self.match_component(component))
        return findings

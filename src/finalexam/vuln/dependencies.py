"""Declared dependencies against known-malicious (MAL-) records.

A package that ships clean code and declares a dependency on a known-malicious package still
installs the malware: ``pip`` or ``npm`` fetches it. Only MAL- records count here (a
vulnerable dependency's resolved version is unknown until install; the installed tree is for
``scan`` of that tree). A record that covers every version of the name stops the release;
one that lists versions does when the requirement admits one of them (PyPI specifiers are
evaluated; for other ecosystems only an exact pin or no requirement at all is judged).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from packaging.specifiers import InvalidSpecifier, SpecifierSet

from finalexam.failures import Isolation
from finalexam.model import Component, Confidence, Evidence, Finding, FindingKind, Severity
from finalexam.vuln.match import match_record
from finalexam.vuln.purl import PackageRef, purl_ref
from finalexam.vuln.store import VulnDatabase
from finalexam.vuln.versions import base_ecosystem, normalize_name

RULE_PREFIX = "MAL-"


@dataclass(frozen=True)
class _Declared:
    component: Component
    ref: PackageRef
    requirement: str | None


def _declared(components: Iterable[Component]) -> list[_Declared]:
    found: list[_Declared] = []
    for component in components:
        for dependency in component.dependencies:
            ref = purl_ref(dependency.target)
            if ref is not None:
                found.append(_Declared(component, ref, dependency.requirement))
    return found


def _affected_versions(record: Mapping[str, Any], ref: PackageRef) -> tuple[bool, list[str]]:
    """(every version is affected, the versions listed) for ``ref``'s package in a record."""
    every = match_record(record, replace(ref, version=None)) is not None  # as for no version
    versions: list[str] = []
    for affected in record.get("affected") or []:
        package = affected.get("package") or {} if isinstance(affected, dict) else {}
        ecosystem, name = str(package.get("ecosystem", "")), str(package.get("name", ""))
        if (
            base_ecosystem(ecosystem) == ref.ecosystem
            and normalize_name(ecosystem, name) == ref.name
        ):
            versions += [str(v) for v in affected.get("versions") or []]
    return every, versions


def _admitted(ref: PackageRef, requirement: str | None, versions: list[str]) -> list[str]:
    """Listed malicious versions the requirement lets the installer pick."""
    spec = (requirement or "").strip().strip("()").strip()
    if not spec:
        return versions
    if ref.ecosystem == "PyPI":
        try:
            allowed = SpecifierSet(spec.split(";", 1)[0], prereleases=True)
        except InvalidSpecifier:
            return []
        return [v for v in versions if allowed.contains(v, prereleases=True)]
    pinned = spec.lstrip("=v").strip()
    return [v for v in versions if v == pinned]


def malicious_dependencies(
    database: VulnDatabase, components: Iterable[Component], isolation: Isolation | None = None
) -> list[Finding]:
    """Findings for declared dependencies on MAL- records; a dependency that cannot be judged
    is an Issue in ``isolation`` and the others are still judged."""
    isolation = isolation or Isolation("vulnerabilities")
    declared = _declared(components)
    keys = {(d.ref.ecosystem, d.ref.name) for d in declared}
    ids = database.record_ids_many(keys)
    wanted = {i for found in ids.values() for i in found if i.startswith(RULE_PREFIX)}
    records = database.records_many(wanted)
    findings: dict[tuple[str, str, str], Finding] = {}
    for item in declared:
        for record_id in ids.get((item.ref.ecosystem, item.ref.name), []):
            record = records.get(record_id)  # only MAL- records were fetched
            if record is None or record.get("withdrawn"):
                continue
            subject = (
                f"{record_id} for the dependency {item.ref.display_name} of {item.component.name}"
            )
            where = item.component.locations[0] if item.component.locations else None
            with isolation.item(subject, where):
                every, versions = _affected_versions(record, item.ref)
                admitted = [] if every else _admitted(item.ref, item.requirement, versions)
                if every or admitted:
                    key = (item.component.purl or item.component.name, item.ref.name, record_id)
                    findings.setdefault(key, _finding(item, record_id, every, admitted))
    return sorted(findings.values(), key=lambda f: (f.component or "", f.rule_id))


def _finding(item: _Declared, record_id: str, every: bool, admitted: list[str]) -> Finding:
    name, owner = item.ref.display_name, item.component
    which = "every version" if every else f"version {', '.join(admitted[:10])}"
    requirement = f" {item.requirement}" if item.requirement else ""
    return Finding(
        kind=FindingKind.MALICIOUS,
        rule_id=record_id,
        severity=Severity.CRITICAL if every else Severity.HIGH,
        title=f"Depends on the known-malicious package {name}",
        message=f"{owner.name} {owner.version or ''} declares the dependency {name}{requirement}; "
        f"{record_id} marks {which} of it as malicious, so installing it installs the malware",
        location=owner.locations[0] if owner.locations else None,
        found_by="vulnerabilities",
        confidence=Confidence.HIGH if every else Confidence.MEDIUM,
        component=owner.purl,
        evidence=Evidence(
            snippet=f"{name}{requirement}",
            details={
                "dependency": name,
                "ecosystem": item.ref.ecosystem,
                "requirement": item.requirement,
                "advisory": record_id,
                "every_version": every,
                "malicious_versions": admitted,
            },
        ),
        fingerprint_key=f"dependency:{item.ref.ecosystem}:{item.ref.name}",
    )

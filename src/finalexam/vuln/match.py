"""Component → OSV advisories → one finding per vulnerability per component.

Records that name each other (``aliases``: CVE, GHSA, PYSEC, GO, RUSTSEC...) are one
vulnerability: they become one finding whose ``rule_id`` is the preferred record id and
whose ``aliases`` list every other id. A ``MAL-`` record makes the finding a critical
``malicious`` one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from finalexam.catalog.ownership import installed_by
from finalexam.formats.gopclntab import GoSymbols
from finalexam.model import (
    Component,
    Confidence,
    Evidence,
    FileContext,
    Finding,
    FindingKind,
    Location,
    Severity,
)
from finalexam.vuln.distro import applies
from finalexam.vuln.purl import PackageRef, package_ref
from finalexam.vuln.ranges import RangeMatch, fixed_versions, match_affected
from finalexam.vuln.reachability import Reachability, go_reachability
from finalexam.vuln.severity import Matched, Rated, rate
from finalexam.vuln.store import VulnDatabase, same_vulnerability
from finalexam.vuln.versions import InvalidVersion, base_ecosystem, ecosystem_rule, normalize_name

FOUND_BY = "vulnerabilities"
MAX_REFERENCES = 20

# Which record id names a merged vulnerability: lower rank first, then alphabetical.
_ID_RANK = (("MAL-", 0), ("GHSA-", 1), ("PYSEC-", 2), ("GO-", 2), ("RUSTSEC-", 2), ("CVE-", 9))


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
    fix_state: str = "fixed"  # fixed, unfixed, will-not-fix
    releases: tuple[str, ...] = ()  # every entry ecosystem whose ranges hold the version
    entry: Mapping[str, Any] = field(default_factory=dict)  # the affected entry that matched
    same: tuple[str, ...] = ()  # ids the record says are the same vulnerability

    @property
    def record_id(self) -> str:
        return str(self.record["id"])


Entry = tuple[dict[str, Any], str, str]  # (affected entry, its ecosystem, name as written)


def _entries(record: Mapping[str, Any], ref: PackageRef) -> Iterable[Entry]:
    """The record's affected entries about ``ref``'s package, and release when it has one."""
    for affected in record.get("affected") or []:
        if not isinstance(affected, dict):
            continue
        package = affected.get("package") or {}
        ecosystem, name = package.get("ecosystem"), package.get("name")
        if not isinstance(ecosystem, str) or not isinstance(name, str):
            continue
        if base_ecosystem(ecosystem) != ref.ecosystem:
            continue
        if normalize_name(ecosystem, name) not in ref.names:
            continue
        if ref.distribution and not applies(ecosystem, ref.release, ref.version):
            continue
        yield affected, ecosystem, name


def _specific(entry: Mapping[str, Any], key: str) -> Any:
    for section in ("ecosystem_specific", "database_specific"):
        values = entry.get(section)
        if isinstance(values, dict) and key in values:
            return values[key]
    return None


def match_record(record: Mapping[str, Any], ref: PackageRef) -> RecordMatch | None:
    entries = list(_entries(record, ref))
    reasons = [(entry, match_affected(entry[0], entry[1], ref.version)) for entry in entries]
    holding = [(entry, reason) for entry, reason in reasons if reason is not None]
    for (affected, ecosystem, name), reason in holding[:1]:
        fixed = {version for entry, _, _ in entries for version in fixed_versions(entry)}
        informational = _specific(affected, "informational")
        state = "fixed" if fixed else "unfixed"
        if not fixed and _specific(affected, "urgency") == "end-of-life":
            state = "will-not-fix"  # Debian: no more security support for it in this release
        return RecordMatch(
            record=record,
            package=name,
            ecosystem=ecosystem,
            reason=reason,
            fixed=tuple(_sort_versions(ref.ecosystem, fixed)),
            informational=informational if isinstance(informational, str) else None,
            fix_state=state,
            releases=tuple(sorted({entry[1] for entry, _ in holding})),
            entry=affected,
            same=tuple(same_vulnerability(record)),
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
        names = [match.record_id, *match.same]
        for other in names[1:]:
            parent[find(other)] = find(names[0])
    groups: dict[str, list[RecordMatch]] = {}
    for match in matches:
        groups.setdefault(find(match.record_id), []).append(match)
    return [sorted(group, key=lambda m: id_rank(m.record_id)) for group in groups.values()]


def build_finding(
    component: Component,
    ref: PackageRef,
    group: Sequence[RecordMatch],
    related: Sequence[Mapping[str, Any]] = (),
    reachability: Reachability | None = None,
    installer: Component | None = None,
) -> Finding:
    """One finding for a group of records of the same vulnerability. ``installer``: the OS
    package whose files the component was found in (catalog/ownership.py)."""
    primary = group[0]
    names: set[str] = set()
    for match in group:
        names.add(match.record_id)
        names.update(match.same)
    names.discard(primary.record_id)
    aliases = tuple(sorted(names, key=id_rank))
    malicious = primary.record_id.startswith("MAL-")
    fixed = tuple(_sort_versions(ref.ecosystem, {v for m in group for v in m.fixed}))
    references: set[str] = set()
    for match in group:
        for item in match.record.get("references") or []:
            if isinstance(item, dict) and isinstance(item.get("url"), str):
                references.add(item["url"])
    rated = _rate(group, related)
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
    severity = rated.severity
    if reachability is not None and reachability.state == "not-reachable" and not malicious:
        # Kept in the report, but a binary that links none of the functions does not block.
        title = f"not reachable: {title}"
        severity = min(severity, Severity.LOW, key=lambda s: s.rank)
    where = ref.release.ecosystem if ref.release is not None else ref.ecosystem
    message = f"{ref.display_name} {version} ({where}) "
    message += (
        "is a known malicious package" if malicious else f"is affected by {primary.record_id}"
    )
    if aliases:
        message += f" (also {', '.join(aliases)})"
    will_not_fix = not fixed and any(m.fix_state == "will-not-fix" for m in group)
    if not malicious:
        message += f"; fixed in {', '.join(fixed)}" if fixed else "; no fixed version known"
        if will_not_fix:
            message += " (no fix will be released: end of security support for it)"
    confidence = component.confidence
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
            {"version": s.version, "vector": s.vector, "score": s.score} for s in rated.cvss
        ]
    if rated.ratings:
        details["ratings"] = sorted({r.source for r in rated.ratings})
    if primary.informational:
        details["informational"] = primary.informational
    if reachability is not None:
        details["reachability"] = reachability.as_dict()
        if severity is not rated.severity:
            details["severity_if_reachable"] = rated.severity.value
    if ref.distribution and not malicious:
        details["fix_state"] = "fixed" if fixed else ("will-not-fix" if will_not_fix else "unfixed")
        details.update(_release_details(ref, group))
        if ref.release is None:
            confidence = Confidence.LOW
            message += "; the distribution release is unknown, every release's entries were tried"
    if len(component.locations) > 1:
        details["locations"] = [str(loc) for loc in component.locations]
    context = None
    if installer is not None and not malicious and not ref.distribution:
        # The distribution builds and patches what its package installs, without changing
        # the upstream version: its advisories for that package decide (docs/policy.md).
        context = FileContext.DISTRO
        details["installed_by"] = {
            "package": installer.name,
            "version": installer.version,
            "ecosystem": installer.ecosystem,
            "purl": installer.purl,
        }
        message += (
            f"; installed by the {installer.ecosystem} package {installer.name} "
            f"{installer.version or ''}: the distribution's advisories for it decide"
        )
    return Finding(
        kind=FindingKind.MALICIOUS if malicious else FindingKind.VULNERABILITY,
        rule_id=primary.record_id,
        severity=severity,
        title=title,
        message=message,
        location=component.locations[0] if component.locations else None,
        found_by=FOUND_BY,
        confidence=confidence,
        component=component.purl or f"{ref.ecosystem}/{ref.display_name}@{ref.version or ''}",
        evidence=Evidence(
            snippet=f"{ref.display_name}@{version}: {primary.reason.description}",
            details=details,
        ),
        aliases=aliases,
        fixed=fixed,
        references=tuple(sorted(references))[:MAX_REFERENCES],
        context=context,
    )


def _rate(group: Sequence[RecordMatch], related: Sequence[Mapping[str, Any]]) -> Rated:
    if any(m.record_id.startswith("MAL-") for m in group):
        return Rated(Severity.CRITICAL, "malicious package", ())
    return rate([Matched(m.record, m.entry, m.informational) for m in group], related)


def _release_details(ref: PackageRef, group: Sequence[RecordMatch]) -> dict[str, Any]:
    if ref.release is None:
        entries = sorted({release for m in group for release in m.releases})
        return {"release": "unknown", "release_from": "unknown", "release_entries": entries}
    how = {"image": "the image's os-release", "purl": "the package URL", "version": "the version"}
    source = how.get(ref.release.source, ref.release.source)
    if ref.release.evidence:
        source += f" ({ref.release.evidence})"
    return {"release": ref.release.ecosystem, "release_from": source}


@dataclass
class MatchStats:
    components: int = 0
    checked: int = 0
    unsupported: int = 0  # no ecosystem the database knows
    without_version: int = 0
    vulnerable: int = 0
    malicious: int = 0


class Matcher:
    def __init__(
        self, database: VulnDatabase, go_symbols: Mapping[Location, GoSymbols | None] | None = None
    ) -> None:
        self.database = database
        # The functions each Go binary links (None: unreadable), by the binary's location.
        self.go_symbols = go_symbols or {}
        self.stats = MatchStats()
        self._prefetched: set[tuple[str, str]] = set()
        self._ids: dict[tuple[str, str], list[str]] = {}
        self._records: dict[str, dict[str, Any]] = {}
        self._naming: dict[str, list[str]] = {}  # alias -> records that list it
        self._installers: dict[str, Component] = {}  # purl -> the OS package containing it

    def prefetch(self, components: Iterable[Component]) -> None:
        """Look up every component's records in a few batched queries, and note which OS
        package installed each component."""
        components = list(components)
        self._installers = installed_by(components)
        refs = [r for c in components if (r := package_ref(c)) is not None]
        keys = {(r.ecosystem, name) for r in refs for name in r.names}
        self._ids = self.database.record_ids_many(keys)
        self._records = self.database.records_many(i for ids in self._ids.values() for i in ids)
        self._prefetched = keys

    def _record_ids(self, ref: PackageRef) -> list[str]:
        found: set[str] = set()
        for name in ref.names:
            key = (ref.ecosystem, name)
            if key in self._prefetched:
                found.update(self._ids.get(key, []))
            else:
                found.update(self.database.record_ids(ref.ecosystem, name))
        return sorted(found)

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

    def _related_names(self, groups: Iterable[Sequence[RecordMatch]]) -> list[set[str]]:
        """Per group, every id the matched records give the vulnerability, and looked up:
        the records listing any of them (cached for the next components)."""
        names = [{n for m in group for n in (m.record_id, *m.same)} for group in groups]
        missing = {n for group_names in names for n in group_names if n not in self._naming}
        if missing:
            found = self.database.records_naming(missing)
            self._naming.update({name: found.get(name, []) for name in missing})
        return names

    def prefetch_related(self, groups: Iterable[Sequence[RecordMatch]]) -> None:
        """Every group's related records in a few batched queries (see ``_related``)."""
        names = set().union(*self._related_names(groups))
        ids = {i for n in names for i in (n, *self._naming.get(n, []))} - self._records.keys()
        self._records.update(self.database.records_many(ids))

    def _related(self, groups: Sequence[Sequence[RecordMatch]]) -> list[list[dict[str, Any]]]:
        """Per group, the other records of the same vulnerability in the database: the ones
        whose id is an alias of a matched record, and the ones naming any of those ids."""
        out: list[list[dict[str, Any]]] = []
        for group, group_names in zip(groups, self._related_names(groups), strict=True):
            own = {m.record_id for m in group}
            ids = {i for n in group_names for i in (n, *self._naming.get(n, []))} - own
            records = (self._records.get(i) or self.database.record(i) for i in sorted(ids))
            out.append([r for r in records if r is not None and not r.get("withdrawn")])
        return out

    def _reachability(
        self, ref: PackageRef, component: Component, group: Sequence[RecordMatch]
    ) -> Reachability | None:
        if ref.ecosystem != "Go" or not self.go_symbols:
            return None
        return go_reachability((m.entry for m in group), component.locations, self.go_symbols)

    def _groups(self, component: Component) -> tuple[PackageRef, list[list[RecordMatch]]] | None:
        self.stats.components += 1
        ref = package_ref(component)
        if ref is None:
            self.stats.unsupported += 1
            return None
        self.stats.checked += 1
        if not ref.version:
            self.stats.without_version += 1
        return ref, _cluster(self.matches(ref))

    def _findings(
        self, component: Component, ref: PackageRef, groups: list[list[RecordMatch]]
    ) -> list[Finding]:
        installer = self._installers.get(component.purl or "")
        findings = [
            build_finding(
                component, ref, group, extra, self._reachability(ref, component, group), installer
            )
            for group, extra in zip(groups, self._related(groups), strict=True)
        ]
        if any(f.kind is FindingKind.MALICIOUS for f in findings):
            self.stats.malicious += 1
        if any(f.kind is FindingKind.VULNERABILITY for f in findings):
            self.stats.vulnerable += 1
        return sorted(findings, key=lambda f: id_rank(f.rule_id))

    def match_component(self, component: Component) -> list[Finding]:
        prepared = self._groups(component)
        return self._findings(component, *prepared) if prepared is not None else []

    def match_all(self, components: Iterable[Component]) -> list[Finding]:
        components = list(components)
        self.prefetch(components)
        prepared = [(c, found) for c in components if (found := self._groups(c)) is not None]
        self.prefetch_related(group for _, (_, groups) in prepared for group in groups)
        findings: list[Finding] = []
        for component, (ref, groups) in prepared:
            findings.extend(self._findings(component, ref, groups))
        return findings

"""What every SBOM writer needs from a Report: identities, containment and dependency edges.

* Containment: a component sits inside the innermost enclosing archive that is itself a
  component (a shaded library inside its jar, a jar inside a war), or inside the component
  that declares it contains it (a vendored package inside its wheel); otherwise directly in
  the examined artifact.
* Depends-on: declared dependencies resolved to components of this report (exact purl,
  else the only component of that package, else those whose version satisfies the
  requirement where the ecosystem's version rules are known).
* Identity and time: serial number / document namespace from the artifact's sha256, the
  timestamp from ``--timestamp`` / SOURCE_DATE_EPOCH, else a fixed value: never the clock.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

from finalexam.catalog.support import archive_locations, versionless
from finalexam.model import Component, Location, Relationship, Report
from finalexam.report.base import RenderOptions
from finalexam.report.document import report_timestamp

_EMAIL = re.compile(r"<([^<>@\s]+@[^<>\s]+)>")
FIXED_TIMESTAMP = "1970-01-01T00:00:00Z"  # used when no time was asked for: reproducible
TOOL_NAME = "finalexam"


@dataclass
class SbomGraph:
    components: list[Component]
    by_id: dict[str, Component]
    parent: dict[str, str | None]  # component id -> containing component id (None: artifact)
    depends_on: dict[str, list[str]] = field(default_factory=dict)
    _children: dict[str | None, list[Component]] = field(default_factory=dict)

    def children(self, parent_id: str | None) -> list[Component]:
        if not self._children:
            for component in self.components:
                self._children.setdefault(self.parent.get(component.id), []).append(component)
        return self._children.get(parent_id, [])


def document_seed(report: Report) -> str:
    """The artifact's own hash; for a directory, a hash of what was found in it."""
    if report.artifact.sha256:
        return report.artifact.sha256
    digest = hashlib.sha256(report.artifact.name.encode())
    for record in report.files:
        digest.update(f"{record.location}\0{record.sha256}\n".encode())
    for component in report.components:
        digest.update(component.id.encode())
    return digest.hexdigest()


def serial_uuid(report: Report) -> uuid.UUID:
    return uuid.uuid5(uuid.NAMESPACE_URL, f"https://finalexam.dev/sbom/{document_seed(report)}")


def sbom_timestamp(options: RenderOptions) -> str:
    return report_timestamp(options) or FIXED_TIMESTAMP


def build_graph(report: Report) -> SbomGraph:
    components = sorted(report.components, key=lambda c: c.id)
    by_id = {c.id: c for c in components}
    by_location: dict[Location, str] = {}
    for component in components:
        for location in component.locations:
            by_location.setdefault(location, component.id)
    by_purl: dict[str, str] = {c.purl: c.id for c in components if c.purl}
    by_package: dict[str, list[str]] = {}
    for component in components:
        if component.purl:
            by_package.setdefault(versionless(component.purl), []).append(component.id)

    parent: dict[str, str | None] = {}
    for component in components:
        parent[component.id] = _enclosing(component, by_location)
    depends_on: dict[str, list[str]] = {}
    for component in components:
        targets: set[str] = set()
        for dependency in component.dependencies:
            if dependency.kind is Relationship.CONTAINS:
                child = by_purl.get(dependency.target)
                if child is not None and child != component.id:
                    parent[child] = component.id
                continue
            targets.update(
                _resolve(dependency.target, dependency.requirement, by_purl, by_package, by_id)
            )
        targets.discard(component.id)
        if targets:
            depends_on[component.id] = sorted(targets)
    _break_cycles(parent)
    return SbomGraph(components, by_id, parent, depends_on)


def primary_component(report: Report) -> Component | None:
    """The component the artifact itself is (a wheel's, jar's or .deb's own package): the one
    whose hashes include the artifact's SHA-256, when exactly one does."""
    if not report.artifact.sha256:
        return None
    own = [c for c in report.components if ("SHA-256", report.artifact.sha256) in c.hashes]
    return own[0] if len(own) == 1 else None


def _enclosing(component: Component, by_location: dict[Location, str]) -> str | None:
    for location in sorted(component.locations):
        for archive in archive_locations(location):
            owner = by_location.get(archive)
            if owner is not None and owner != component.id:
                return owner
    return None


def _resolve(
    target: str,
    requirement: str | None,
    by_purl: dict[str, str],
    by_package: dict[str, list[str]],
    by_id: dict[str, Component],
) -> Iterable[str]:
    exact = by_purl.get(target)
    if exact is not None:
        return [exact]
    candidates = by_package.get(versionless(target), [])
    if len(candidates) <= 1:
        return candidates
    if requirement:
        pinned = requirement.strip().removeprefix("==").strip()
        same = [c for c in candidates if by_id[c].version == pinned]
        if same:
            return same  # a pom dependency or lock entry naming one version
        spec_text = requirement.split(";", 1)[0].strip()
        try:
            spec = SpecifierSet(spec_text)
        except InvalidSpecifier:
            return []
        matching = []
        for candidate in candidates:
            try:
                if Version(by_id[candidate].version or "") in spec:
                    matching.append(candidate)
            except InvalidVersion:
                continue
        return matching
    return []


def _break_cycles(parent: dict[str, str | None]) -> None:
    """Containment must be a tree: a component found inside its own container is lifted."""
    for start in sorted(parent):
        seen = {start}
        current = parent.get(start)
        while current is not None:
            if current in seen:
                parent[start] = None
                break
            seen.add(current)
            current = parent.get(current)


def split_contact(text: str) -> tuple[str, str | None]:
    """``Jane Doe <jane@example.org>`` -> (``Jane Doe``, ``jane@example.org``)."""
    match = _EMAIL.search(text)
    email = match.group(1) if match else None
    name = " ".join(_EMAIL.sub("", text).replace("(", " ").replace(")", " ").split()).strip(" ,")
    return (name or email or text.strip())[:200], email


def confidence_score(component: Component) -> float:
    return {"high": 1.0, "medium": 0.7, "low": 0.4}[component.confidence.value]


def technique(found_by: str) -> str:
    """CycloneDX evidence technique for a cataloger's method."""
    if found_by.endswith("file-name"):
        return "filename"
    if found_by.endswith(("version-file",)):
        return "source-code-analysis"
    if found_by.endswith(("pyc-only",)):
        return "binary-analysis"
    return "manifest-analysis"

"""Java archives: pom.properties and pom.xml, MANIFEST.MF, shaded jars, file-name fall-back.

Members arrive after their jar, so everything is grouped per archive and named in ``finish``:
the pom.properties matching the jar's file name is the jar itself (it gets the jar's location
and hashes); any other pom.properties in the same jar is a shaded copy the jar contains.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from finalexam.catalog import xmlsafe
from finalexam.catalog.support import licenses_of, purl, read_text
from finalexam.failures import Isolation
from finalexam.model import (
    Component,
    Confidence,
    Dependency,
    FileEntry,
    Location,
    Relationship,
)

NAME = "java"
JAR_SUFFIXES = (".jar", ".war", ".ear", ".jpi", ".hpi", ".sar", ".par", ".kar", ".nar", ".aar")
_FILE_NAME = re.compile(
    r"^(?P<name>[A-Za-z0-9_.-]+?)-(?P<version>\d[\w.+-]*?)(?:-(?:sources|javadoc))?$"
)
# "py4j0.10.9.7": no separator, so only a dotted numeric version is taken.
_FILE_NAME_GLUED = re.compile(
    r"^(?P<name>[A-Za-z][A-Za-z0-9_]*?[A-Za-z])(?P<version>\d+(?:\.\d+)+)$"
)
_SKIP_SCOPES = {"test", "provided", "system", "import"}


@dataclass
class _Pom:
    location: Location
    group: str
    artifact: str
    version: str
    licenses: tuple[str, ...] = ()
    dependencies: tuple[Dependency, ...] = ()
    description: str | None = None
    supplier: str | None = None


@dataclass
class _Archive:
    location: Location
    sha1: str = ""
    sha256: str = ""
    poms: list[_Pom] = field(default_factory=list)
    pom_xml: dict[str, _Pom] = field(default_factory=dict)  # "group:artifact" -> details
    manifest: dict[str, str] | None = None
    manifest_location: Location | None = None


def maven_purl(group: str | None, artifact: str, version: str | None) -> str:
    return purl("maven", artifact, version, namespace=group)


def parse_manifest(text: str) -> dict[str, str]:
    """Main section of a MANIFEST.MF (continuation lines start with one space)."""
    values: dict[str, str] = {}
    key: str | None = None
    for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        if not line:
            break  # end of the main section
        if line.startswith(" ") and key is not None:
            values[key] += line[1:]
            continue
        name, sep, value = line.partition(":")
        if sep:
            key = name.strip()
            values[key] = value.strip()
    return values


def parse_properties(text: str) -> dict[str, str]:
    values: dict[str, str] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith(("#", "!")):
            continue
        key, sep, value = line.partition("=")
        if not sep:
            key, _, value = line.partition(":")
        values[key.strip()] = value.strip()
    return values


def _pom_xml(location: Location, text: str) -> _Pom | None:
    root = xmlsafe.parse(text)
    if root is None or root.tag != "project":
        return None
    parent = root.find("parent")
    group = xmlsafe.child_text(root, "groupId") or xmlsafe.child_text(parent, "groupId")
    artifact = xmlsafe.child_text(root, "artifactId")
    version = xmlsafe.child_text(root, "version") or xmlsafe.child_text(parent, "version")
    if not group or not artifact:
        return None
    properties = {"project.version": version or "", "project.groupId": group}
    props = root.find("properties")
    if props is not None:
        for item in props:
            if isinstance(item.tag, str) and item.text:
                properties[item.tag] = item.text.strip()

    def resolve(value: str | None) -> str | None:
        if value is None:
            return None
        resolved = re.sub(r"\$\{([^}]+)\}", lambda m: properties.get(m.group(1), m.group(0)), value)
        return None if "${" in resolved else resolved

    licenses = licenses_of(
        *(xmlsafe.child_text(item, "name") for item in root.findall("licenses/license"))
    )
    deps: list[Dependency] = []
    for dep in root.findall("dependencies/dependency"):
        dep_group = resolve(xmlsafe.child_text(dep, "groupId"))
        dep_artifact = resolve(xmlsafe.child_text(dep, "artifactId"))
        scope = (xmlsafe.child_text(dep, "scope") or "compile").lower()
        optional = (xmlsafe.child_text(dep, "optional") or "").lower() == "true"
        if not dep_group or not dep_artifact or scope in _SKIP_SCOPES or optional:
            continue
        dep_version = resolve(xmlsafe.child_text(dep, "version"))
        deps.append(
            Dependency(
                target=maven_purl(dep_group, dep_artifact, None), requirement=dep_version or None
            )
        )
    organization = xmlsafe.child_text(root, "organization/name")
    description = xmlsafe.child_text(root, "description")
    return _Pom(
        location=location,
        group=group,
        artifact=artifact,
        version=resolve(version) or "",
        licenses=licenses,
        dependencies=tuple(sorted(set(deps), key=lambda d: d.target)),
        description=description[:300] if description else None,
        supplier=organization,
    )


class JavaCataloger:
    name = NAME
    version = "1.0"
    requires: tuple[str, ...] = ()
    wants = (
        *(f"*{suffix}" for suffix in JAR_SUFFIXES),
        "*META-INF/MANIFEST.MF",
        "*META-INF/maven/*/pom.properties",
        "*META-INF/maven/*/pom.xml",
    )

    def __init__(self) -> None:
        self.archives: dict[Location, _Archive] = {}
        self.isolation = Isolation(NAME, "catalog")

    def _archive(self, location: Location) -> _Archive:
        archive = self.archives.get(location)
        if archive is None:
            archive = self.archives[location] = _Archive(location)
        return archive

    def accepts(self, entry: FileEntry) -> bool:
        name = entry.name
        if name.lower().endswith(JAR_SUFFIXES):
            return True
        if entry.size > 8 * 1024 * 1024:
            return False
        path = entry.path
        if name == "MANIFEST.MF":
            return path.endswith("META-INF/MANIFEST.MF")
        return name in ("pom.properties", "pom.xml") and "META-INF/maven/" in path

    def catalog(self, entry: FileEntry) -> Iterable[Component]:
        location = entry.location
        if entry.name.lower().endswith(JAR_SUFFIXES):
            archive = self._archive(location)
            archive.sha1, archive.sha256 = entry.sha1, entry.sha256
            return ()
        owner = location.parent or location
        if entry.name == "MANIFEST.MF":
            # META-INF/MANIFEST.MF at the archive root only (not of an exploded sub-tree).
            if entry.path == "META-INF/MANIFEST.MF":
                archive = self._archive(owner)
                archive.manifest = parse_manifest(read_text(entry))
                archive.manifest_location = location
            return ()
        if entry.name == "pom.properties":
            props = parse_properties(read_text(entry))
            group, artifact = props.get("groupId"), props.get("artifactId")
            version = props.get("version")
            if group and artifact and version:
                self._archive(owner).poms.append(_Pom(location, group, artifact, version))
            return ()
        pom = _pom_xml(location, read_text(entry))
        if pom is not None:
            self._archive(owner).pom_xml[f"{pom.group}:{pom.artifact}"] = pom
        return ()

    def finish(self) -> Iterable[Component]:
        out: list[Component] = []
        for location in sorted(self.archives):
            with self.isolation.item(str(location), location):
                out.extend(_archive_components(self.archives[location]))
        return out


_CLASSIFIERS = re.compile(r"-(?:jar-with-dependencies|all|shaded|uber|standalone|bin|exec)$")


def _stem(location: Location) -> str:
    name = location.name
    for suffix in JAR_SUFFIXES:
        if name.lower().endswith(suffix):
            return _CLASSIFIERS.sub("", name[: -len(suffix)])
    return name


def _matches_file(pom: _Pom, stem: str) -> bool:
    return stem == f"{pom.artifact}-{pom.version}" or stem == pom.artifact


def _pom_component(pom: _Pom, details: _Pom | None, shaded: bool) -> Component:
    licenses = details.licenses if details else ()
    return Component(
        name=f"{pom.group}:{pom.artifact}",
        version=pom.version,
        ecosystem="Maven",
        purl=maven_purl(pom.group, pom.artifact, pom.version),
        licenses=licenses,
        locations=(pom.location,),
        found_by=(f"{NAME}-pom-properties",),
        confidence=Confidence.HIGH,
        evidence=(
            f"{pom.location}: groupId={pom.group} artifactId={pom.artifact} "
            f"version={pom.version}" + (" (shaded)" if shaded else ""),
        ),
        supplier=details.supplier if details else None,
        description=details.description if details else None,
        dependencies=details.dependencies if details else (),
    )


def _manifest_component(archive: _Archive) -> Component | None:
    manifest = archive.manifest or {}
    version = manifest.get("Implementation-Version") or manifest.get("Bundle-Version")
    symbolic = (manifest.get("Bundle-SymbolicName") or "").split(";")[0].strip()
    title = manifest.get("Implementation-Title") or manifest.get("Bundle-Name") or symbolic
    if not version or not (title or symbolic):
        return None
    group = manifest.get("Implementation-Vendor-Id")
    artifact = _stem(archive.location)
    match = _FILE_NAME.match(artifact)
    if match:
        artifact = match.group("name")
    if not group and symbolic and "." in symbolic:
        prefix, _, last = symbolic.rpartition(".")
        if last == artifact or symbolic.endswith(artifact.replace("-", ".")):
            group = prefix
    if not artifact or artifact == archive.location.name:
        artifact = title.replace(" ", "-")
    vendor = manifest.get("Implementation-Vendor") or manifest.get("Bundle-Vendor")
    license_text = manifest.get("Bundle-License")
    where = archive.manifest_location or archive.location
    return Component(
        name=f"{group}:{artifact}" if group else artifact,
        version=version,
        ecosystem="Maven",
        purl=maven_purl(group, artifact, version) if group else None,
        licenses=licenses_of(license_text),
        locations=(where,),
        found_by=(f"{NAME}-manifest",),
        confidence=Confidence.MEDIUM,
        evidence=(f"{where}: {title} {version}",),
        supplier=vendor,
    )


def _file_name_component(archive: _Archive) -> Component | None:
    stem = _stem(archive.location)
    match = _FILE_NAME.match(stem) or _FILE_NAME_GLUED.match(stem)
    if match is None:
        return None
    name, version = match.group("name"), match.group("version")
    return Component(
        name=name,
        version=version,
        ecosystem="Maven",
        purl=None,  # no groupId: a maven purl would be a guess
        locations=(archive.location,),
        found_by=(f"{NAME}-file-name",),
        confidence=Confidence.LOW,
        evidence=(f"{archive.location}: file name {archive.location.name}",),
    )


def _archive_components(archive: _Archive) -> list[Component]:
    is_jar = archive.location.name.lower().endswith(JAR_SUFFIXES)
    stem = _stem(archive.location)
    poms = sorted(archive.poms, key=lambda p: (p.group, p.artifact, p.version, p.location))
    main_pom = next((p for p in poms if _matches_file(p, stem)), None)
    if (
        main_pom is None
        and len(poms) == 1
        and (not is_jar or archive.manifest is None or _manifest_agrees(archive.manifest, poms[0]))
    ):
        main_pom = poms[0]
    components: list[Component] = []
    main: Component | None = None
    for pom in poms:
        details = archive.pom_xml.get(f"{pom.group}:{pom.artifact}")
        component = _pom_component(pom, details, shaded=pom is not main_pom)
        if pom is main_pom:
            main = component
        else:
            components.append(component)
    if main is None and is_jar:
        main = _manifest_component(archive) or _file_name_component(archive)
    if main is None:
        return components
    if is_jar:
        hashes = tuple(
            sorted(
                {*main.hashes, ("SHA-1", archive.sha1), ("SHA-256", archive.sha256)}
                - {("SHA-1", ""), ("SHA-256", "")}
            )
        )
        main = replace(
            main,
            locations=tuple(sorted({*main.locations, archive.location})),
            hashes=hashes,
        )
    contained = [
        Dependency(target=c.purl, kind=Relationship.CONTAINS) for c in components if c.purl
    ]
    if contained:
        merged = {*main.dependencies, *contained}
        main = replace(
            main,
            dependencies=tuple(sorted(merged, key=lambda d: (d.kind.value, d.target))),
        )
    return [main, *components]


def _manifest_agrees(manifest: dict[str, str], pom: _Pom) -> bool:
    version = manifest.get("Implementation-Version") or manifest.get("Bundle-Version")
    return version is None or version == pom.version or version.startswith(pom.version)


__all__ = ["JAR_SUFFIXES", "JavaCataloger", "maven_purl", "parse_manifest"]

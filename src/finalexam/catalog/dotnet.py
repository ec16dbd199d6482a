""".NET: ``*.deps.json`` (what an application was built against) and ``.nuspec`` in nupkgs."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import replace

from finalexam.catalog import xmlsafe
from finalexam.catalog.npm import integrity_hashes
from finalexam.catalog.support import licenses_of, purl, read_text
from finalexam.formats import jsonsafe
from finalexam.model import Component, Confidence, Dependency, FileEntry, Location

NAME = "dotnet"
_MAX = 64 * 1024 * 1024


def nuget_purl(name: str, version: str | None) -> str:
    return purl("nuget", name, version)


def _split_key(key: str) -> tuple[str, str] | None:
    name, sep, version = key.rpartition("/")
    return (name, version) if sep and name and version else None


def deps_json_components(location: Location, text: str) -> Iterator[Component]:
    document = jsonsafe.loads_object(text)
    if document is None:
        return
    libraries = document.get("libraries")
    targets = document.get("targets")
    if not isinstance(libraries, Mapping):
        return
    # Dependencies of each library, from every target framework (usually one).
    requires: dict[str, dict[str, str]] = {}
    if isinstance(targets, Mapping):
        for target in targets.values():
            if not isinstance(target, Mapping):
                continue
            for key, info in target.items():
                deps = info.get("dependencies") if isinstance(info, Mapping) else None
                if isinstance(deps, Mapping):
                    requires.setdefault(key, {}).update({str(k): str(v) for k, v in deps.items()})
    for key, info in sorted(libraries.items()):
        parsed = _split_key(str(key))
        if parsed is None or not isinstance(info, Mapping):
            continue
        name, version = parsed
        kind = info.get("type")
        if kind not in ("package", "project"):
            continue  # reference assemblies and runtime packs are not separate components
        hashes = integrity_hashes(info.get("sha512"))
        deps = tuple(
            sorted(
                {
                    Dependency(target=nuget_purl(dep, dep_version), requirement=dep_version)
                    for dep, dep_version in requires.get(str(key), {}).items()
                },
                key=lambda d: d.target,
            )
        )
        yield Component(
            name=name,
            version=version,
            ecosystem="NuGet",
            purl=nuget_purl(name, version),
            hashes=hashes,
            locations=(location,),
            found_by=(f"{NAME}-deps-json",),
            confidence=Confidence.HIGH if kind == "package" else Confidence.MEDIUM,
            evidence=(f"{location}: {key} ({kind})",),
            dependencies=deps,
        )


def nuspec_component(location: Location, text: str) -> Component | None:
    root = xmlsafe.parse(text)
    if root is None or root.tag != "package":
        return None
    metadata = root.find("metadata")
    name = xmlsafe.child_text(metadata, "id")
    version = xmlsafe.child_text(metadata, "version")
    if metadata is None or not name or not version:
        return None
    license_element = metadata.find("license")
    license_text = None
    if license_element is not None and license_element.get("type") == "expression":
        license_text = (license_element.text or "").strip()
    deps: dict[str, Dependency] = {}
    for dep in metadata.iter("dependency"):
        dep_id = dep.get("id")
        if dep_id:
            target = nuget_purl(dep_id, None)
            deps.setdefault(target, Dependency(target=target, requirement=dep.get("version")))
    description = xmlsafe.child_text(metadata, "description")
    return Component(
        name=name,
        version=version,
        ecosystem="NuGet",
        purl=nuget_purl(name, version),
        licenses=licenses_of(license_text),
        locations=(location,),
        found_by=(f"{NAME}-nuspec",),
        confidence=Confidence.HIGH,
        evidence=(f"{location}: <id>{name}</id> <version>{version}</version>",),
        supplier=xmlsafe.child_text(metadata, "authors"),
        description=description[:300] if description else None,
        dependencies=tuple(sorted(deps.values(), key=lambda d: d.target)),
    )


class DotnetCataloger:
    name = NAME
    version = "1.0"
    requires: tuple[str, ...] = ()
    wants = ("*.nupkg", "*.nuspec", "*.deps.json")

    def __init__(self) -> None:
        self.packages: dict[Location, tuple[str, str]] = {}  # .nupkg -> (sha256, sha1)
        self.nuspecs: list[Component] = []

    def accepts(self, entry: FileEntry) -> bool:
        if entry.name.endswith(".nupkg"):
            return True
        return entry.name.endswith((".deps.json", ".nuspec")) and entry.size <= _MAX

    def catalog(self, entry: FileEntry) -> Iterable[Component]:
        if entry.name.endswith(".nupkg"):
            self.packages[entry.location] = (entry.sha256, entry.sha1)
            return ()
        text = read_text(entry, _MAX)
        if entry.name.endswith(".nuspec"):
            component = nuspec_component(entry.location, text)
            if component is not None:
                self.nuspecs.append(component)
            return ()
        return list(deps_json_components(entry.location, text))

    def finish(self) -> Iterable[Component]:
        out = []
        for component in self.nuspecs:
            package = component.locations[0].parent
            if (
                package is not None
                and package in self.packages
                and "/" not in (component.locations[0].path)
            ):
                sha256, sha1 = self.packages[package]
                component = replace(
                    component,
                    hashes=(("SHA-1", sha1), ("SHA-256", sha256)),
                    locations=(*component.locations, package),
                )
            out.append(component)
        return out

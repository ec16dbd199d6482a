"""Native libraries inside any binary: C library version fingerprints, ELF SONAME/NEEDED.

A statically linked zlib or OpenSSL leaves no package metadata, only its own version banner
in read-only data. The rules in ``rules/native/`` name those banners. ELF dynamic sections
say which shared objects a binary loads; after the walk, a fingerprinted library that NEEDs
another fingerprinted library found in the same artifact gets a depends-on edge to it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from functools import cache

from packageurl import PackageURL

from finalexam.catalog.fingerprint import RULES_ROOT, Hit, Scanner, load_rules
from finalexam.formats.binformat import elf_dynamic, parse
from finalexam.model import Component, Confidence, Dependency, FileEntry, FileType

_BINARY_TYPES = (FileType.ELF, FileType.PE, FileType.MACHO)
# Wheel repair tools copy shared libraries into <pkg>.libs/ (auditwheel, delvewheel) or
# .dylibs/ (delocate), renamed with a content hash: libjpeg-08882baf.so.62.4.0.
_BUNDLED = re.compile(
    r"(?:^|/)[^/]*\.(?:libs|dylibs)/(?P<name>lib[A-Za-z0-9_+]+?|[A-Za-z0-9_+]+?)"
    r"(?:-[0-9a-f]{8})?(?:\.so(?:\.[0-9.]+)?|(?:\.[0-9.]+)?\.dylib|\.dll)$"
)


RULES_DIR = RULES_ROOT / "native"


def example_matches(rule_id: str, example: str) -> bool:
    """Whether one rule names a library in ``example`` (for ``finalexam rules test``)."""
    rules = [rule for rule in scanner().rules if rule.id == rule_id]
    hits = Scanner(rules, use_hyperscan=False).scan(example.encode("latin-1", "replace"))
    return any(hit.rule.id == rule_id for hit in hits)


def rule_patterns(rule_id: str) -> tuple[re.Pattern[bytes], ...]:
    """Every regular expression rule ``rule_id`` runs (for the linear-time lint)."""
    return tuple(p.regex for rule in scanner().rules if rule.id == rule_id for p in rule.patterns)


@cache
def scanner() -> Scanner:
    return Scanner(load_rules("native"))


def hit_component(hit: Hit, entry: FileEntry, found_by: str) -> Component:
    rule = hit.rule
    version = hit.version or None
    purl = rule.purl.format(version=version) if version else rule.purl.split("@", 1)[0]
    cpe = rule.cpe.format(version=hit.version) if rule.cpe and version else None
    return Component(
        name=rule.name,
        version=version,
        ecosystem=rule.ecosystem,
        purl=purl,
        cpe=cpe,
        locations=(entry.location,),
        found_by=(found_by,),
        confidence=hit.confidence,
        evidence=(f"rule {rule.id}: {hit.snippet!r} at offset {hit.offset} of {entry.location}",),
    )


def bundled_library(entry: FileEntry) -> Component | None:
    """A library a wheel repair tool bundled, named by its file when no banner says more."""
    match = _BUNDLED.search(entry.path)
    if match is None:
        return None
    name = match.group("name")
    return Component(
        name=name,
        version=None,
        ecosystem="generic",
        purl=PackageURL(type="generic", name=name).to_string(),
        locations=(entry.location,),
        found_by=("native",),
        confidence=Confidence.LOW,
        evidence=(f"shared library bundled by a wheel repair tool: {entry.location}",),
    )


@dataclass
class _Library:
    soname: str | None
    needed: tuple[str, ...]
    components: list[Component]


class NativeCataloger:
    name = "native"
    version = "1.0"
    requires: tuple[str, ...] = ()
    wants = ("elf", "pe", "macho")  # version strings of linked libraries

    def __init__(self) -> None:
        self._libraries: list[_Library] = []

    def accepts(self, entry: FileEntry) -> bool:
        return entry.file_type in _BINARY_TYPES

    def catalog(self, entry: FileEntry) -> Iterable[Component]:
        data = entry.data
        hits = scanner().scan(data)
        components = [hit_component(hit, entry, self.name) for hit in hits]
        bundled = bundled_library(entry)
        if bundled is not None and not any(
            bundled.name in hit.rule.files or bundled.name == hit.rule.name for hit in hits
        ):
            components.append(bundled)  # e.g. libfreetype, whose banner-less copy holds bzip2
        if not components:
            return []
        binary = parse(data) if entry.file_type == FileType.ELF else None
        soname, needed, _ = elf_dynamic(data, binary) if binary else (None, (), ())
        if soname or needed:
            facts = []
            if soname:
                facts.append(f"ELF SONAME {soname} at {entry.location}")
            if needed:
                facts.append(f"ELF NEEDED {' '.join(needed)} at {entry.location}")
            components = [replace(c, evidence=(*c.evidence, *facts)) for c in components]
        self._libraries.append(_Library(soname, needed, components))
        return []  # emitted in finish(), once NEEDED edges can be resolved

    def finish(self) -> Iterable[Component]:
        by_soname: dict[str, list[Component]] = {}
        for library in self._libraries:
            if library.soname:
                by_soname.setdefault(library.soname, []).extend(library.components)
        result: list[Component] = []
        for library in self._libraries:
            targets = sorted(
                {
                    dependency.purl
                    for name in library.needed
                    for dependency in by_soname.get(name, [])
                    if dependency.purl
                }
            )
            for component in library.components:
                edges = tuple(Dependency(t) for t in targets if t != component.purl)
                result.append(replace(component, dependencies=edges) if edges else component)
        self._libraries.clear()
        return result


def make() -> NativeCataloger:
    return NativeCataloger()

"""Alpine (and Wolfi/Chainguard) packages: ``lib/apk/db/installed`` in images.

The files each package installed (its ``F:`` folder and ``R:`` file lines) go to ``owners``
(catalog/ownership.py)."""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from finalexam.catalog.distro import DISTRO_WANTS, Distro, DistroTracker, osv_ecosystem
from finalexam.catalog.ownership import FileOwners, tree_of
from finalexam.catalog.support import licenses_of, purl, read_text, root_of
from finalexam.failures import Isolation
from finalexam.model import Component, Confidence, Dependency, FileEntry, Location

NAME = "apk"
_INSTALLED = "lib/apk/db/installed"
_DEP = re.compile(r"^([A-Za-z0-9][\w.+-]*)")


def apk_records(text: str) -> Iterator[dict[str, list[str]]]:
    """Records of the installed database: ``X:value`` lines, a blank line ends a package."""
    record: dict[str, list[str]] = {}
    for line in text.splitlines():
        if not line.strip():
            if record:
                yield record
            record = {}
            continue
        key, sep, value = line.partition(":")
        if sep and len(key) == 1:
            record.setdefault(key, []).append(value)
    if record:
        yield record


def installed_files(text: str) -> dict[str, list[str]]:
    """Each package's files: an ``R:`` line names a file in the last ``F:`` folder."""
    files: dict[str, list[str]] = {}
    package, folder = "", ""
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if not line.strip():
            package, folder = "", ""
        elif key == "P":
            package = value.strip()
        elif key == "F":
            folder = value.strip()
        elif key == "R" and package:
            files.setdefault(package, []).append(f"{folder}/{value.strip()}")
    return files


def _checksum(value: str) -> tuple[tuple[str, str], ...]:
    # "Q1" + base64(sha1) of the package's control section.
    if not value.startswith("Q1"):
        return ()
    try:
        return (("SHA-1", base64.b64decode(value[2:], validate=True).hex()),)
    except (binascii.Error, ValueError):
        return ()


def _component(
    record: dict[str, list[str]], location: Location, distro: Distro | None
) -> Component | None:
    def first(key: str) -> str:
        values = record.get(key)
        return values[0].strip() if values else ""

    name, version = first("P"), first("V")
    if not name or not version:
        return None
    namespace = distro.id if distro and distro.id in ("alpine", "wolfi", "chainguard") else "alpine"
    qualifiers = {
        "arch": first("A"),
        "distro": distro.purl_distro if distro else "",
        "upstream": first("o") if first("o") and first("o") != name else "",
    }
    deps: dict[str, Dependency] = {}
    for token in first("D").split():
        if token.startswith(("so:", "cmd:", "pc:", "!")):
            continue  # virtual provides and conflicts are not packages
        match = _DEP.match(token)
        if match:
            target = purl("apk", match.group(1), namespace=namespace)
            deps.setdefault(target, Dependency(target=target))
    return Component(
        name=name,
        version=version,
        ecosystem=osv_ecosystem(distro, "Alpine"),
        purl=purl("apk", name, version, namespace=namespace, qualifiers=qualifiers),
        licenses=licenses_of(first("L")),
        hashes=_checksum(first("C")),
        locations=(location,),
        found_by=(f"{NAME}-db",),
        confidence=Confidence.HIGH,
        evidence=(f"{location}: P:{name} V:{version}",),
        supplier=first("m") or None,
        description=first("T") or None,
        dependencies=tuple(sorted(deps.values(), key=lambda d: d.target)),
    )


@dataclass
class ApkCataloger:
    name: str = NAME
    version = "1.0"
    requires: tuple[str, ...] = ()
    wants = (f"*{_INSTALLED}", *DISTRO_WANTS)
    distros: DistroTracker = field(default_factory=DistroTracker)
    databases: dict[Location, str] = field(default_factory=dict)
    isolation: Isolation = field(default_factory=lambda: Isolation(NAME, "catalog"))
    owners: FileOwners = field(default_factory=FileOwners)

    def accepts(self, entry: FileEntry) -> bool:
        if entry.size > 64 * 1024 * 1024:
            return False
        return entry.path.endswith(_INSTALLED) or self.distros.accepts(entry)

    def catalog(self, entry: FileEntry) -> Iterable[Component]:
        if entry.path.endswith(_INSTALLED):
            self.databases[entry.location] = read_text(entry)
        else:
            self.distros.record(entry)
        return ()

    def finish(self) -> Iterable[Component]:
        out: list[Component] = []
        for location, text in sorted(self.databases.items()):
            distro = self.distros.distro_for(root_of(location, _INSTALLED))
            with self.isolation.item(str(location), location):
                files = installed_files(text)
                tree = tree_of(location, _INSTALLED)
                for record in apk_records(text):
                    component = _component(record, location, distro)
                    if component is not None:
                        out.append(component)
                        if component.purl:
                            paths = files.get(component.name, ())
                            self.owners.add_files(tree, paths, component.purl)
        return out

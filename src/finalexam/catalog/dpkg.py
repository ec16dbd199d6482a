"""Debian packages: a ``.deb``'s own control file, and dpkg's database in images.

* ``pkg.deb!/control.tar.xz!/control``: the package itself (hashes from the ``.deb``).
* ``var/lib/dpkg/status`` (installed paragraphs only) and ``var/lib/dpkg/status.d/*``
  (distroless images: one paragraph per file, no Status field).

The files each package installed (``var/lib/dpkg/info/<package>[:<arch>].list``, a distroless
image's ``status.d/<package>.md5sums``; every member of a ``.deb``) go to ``owners``
(catalog/ownership.py).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from finalexam.catalog.distro import DISTRO_WANTS, Distro, DistroTracker, osv_ecosystem
from finalexam.catalog.ownership import FileOwners, Tree, tree_of
from finalexam.catalog.support import paragraphs, purl, read_text, root_of, spdx_expression
from finalexam.failures import Isolation
from finalexam.model import Component, Confidence, Dependency, FileEntry, Location

NAME = "dpkg"
_STATUS = "var/lib/dpkg/status"
_STATUS_D = re.compile(r"(?:^|/)var/lib/dpkg/status\.d/[^/]+$")
# What each package installed: info/<package>[:<arch>].list, status.d/<package>.md5sums.
_FILE_LIST = re.compile(r"(?:^|/)(var/lib/dpkg/(?:info/([^/]+)\.list|status\.d/([^/]+)\.md5sums))$")
_CONTROL_TAR = re.compile(r"control\.tar(?:\.(?:gz|xz|zst|bz2))?$")
_COPYRIGHT = re.compile(r"(?:^|/)usr/share/doc/([a-z0-9][a-z0-9+.-]+)/copyright$")
_DATA_TAR = re.compile(r"data\.tar(?:\.(?:gz|xz|zst|bz2))?$")
# Debian short license names (copyright-format 1.0) that are not SPDX identifiers as written.
_DEBIAN_LICENSES = {
    "gpl-1": "GPL-1.0-only",
    "gpl-1+": "GPL-1.0-or-later",
    "gpl-2": "GPL-2.0-only",
    "gpl-2+": "GPL-2.0-or-later",
    "gpl-3": "GPL-3.0-only",
    "gpl-3+": "GPL-3.0-or-later",
    "lgpl-2": "LGPL-2.0-only",
    "lgpl-2+": "LGPL-2.0-or-later",
    "lgpl-2.1": "LGPL-2.1-only",
    "lgpl-2.1+": "LGPL-2.1-or-later",
    "lgpl-3": "LGPL-3.0-only",
    "lgpl-3+": "LGPL-3.0-or-later",
    "agpl-3": "AGPL-3.0-only",
    "agpl-3+": "AGPL-3.0-or-later",
    "artistic": "Artistic-1.0-Perl",  # Debian's common-licenses/Artistic is Perl's
    "expat": "MIT",
    "mpl-1.1": "MPL-1.1",
    "mpl-2.0": "MPL-2.0",
    "zlib": "Zlib",
    "isc": "ISC",
}
_DEP_NAME = re.compile(r"^\s*([a-z0-9][a-z0-9+.-]+)(?::[a-z0-9-]+)?\s*(?:\(([^)]*)\))?")


@dataclass
class _Database:
    root: Location
    location: Location
    text: str
    installed_only: bool
    tree: Tree


@dataclass
class _State:
    debs: dict[Location, tuple[str, str]] = field(default_factory=dict)
    controls: list[tuple[Location, str]] = field(default_factory=list)
    databases: dict[Location, _Database] = field(default_factory=dict)
    # (root of the tree, package name) -> licenses from usr/share/doc/NAME/copyright
    licenses: dict[tuple[Location, str], tuple[str, ...]] = field(default_factory=dict)
    # (tree, package or package:arch) -> the paths the package installed
    file_lists: dict[tuple[Tree, str], list[str]] = field(default_factory=dict)


def listed_paths(text: str, md5sums: bool) -> list[str]:
    """The paths of a ``.list`` file (one per line) or an ``.md5sums`` file (digest, path)."""
    if not md5sums:
        return text.splitlines()
    return [line.split(None, 1)[1] for line in text.splitlines() if len(line.split(None, 1)) == 2]


def debian_license(text: str) -> str | None:
    """A DEP-5 ``License:`` short name (``GPL-2+ or Artistic``) as an SPDX expression."""
    parts = re.split(r"\s+(or|and)\s+", text.strip(), flags=re.IGNORECASE)
    out: list[str] = []
    for index, part in enumerate(parts):
        if index % 2:
            out.append(part.upper())
            continue
        mapped = _DEBIAN_LICENSES.get(part.lower()) or spdx_expression(part)
        if mapped is None:
            return None  # an exception clause or a name without an SPDX identifier
        out.append(mapped)
    return spdx_expression(" ".join(out))


def copyright_licenses(text: str) -> tuple[str, ...]:
    """Every distinct license of a machine-readable debian/copyright file."""
    if "copyright-format" not in text[:500]:
        return ()  # free-form copyright files are not guessed at
    found: set[str] = set()
    for line in text.splitlines():
        if line.startswith("License:"):
            expression = debian_license(line.partition(":")[2])
            if expression:
                found.add(expression)
    return tuple(sorted(found))


def debian_namespace(fields: dict[str, str], distro: Distro | None) -> str:
    if distro is not None:
        return distro.id
    maintainer = fields.get("Maintainer", "").lower()
    version = fields.get("Version", "").lower()
    return "ubuntu" if "ubuntu" in maintainer or "ubuntu" in version else "debian"


def _dependencies(fields: dict[str, str], namespace: str) -> tuple[Dependency, ...]:
    deps: dict[str, Dependency] = {}
    for key in ("Pre-Depends", "Depends"):
        for clause in fields.get(key, "").split(","):
            first = clause.split("|")[0]  # alternatives: the first is the preferred one
            match = _DEP_NAME.match(first)
            if match is None:
                continue
            target = purl("deb", match.group(1), namespace=namespace)
            requirement = match.group(2).strip() if match.group(2) else None
            deps.setdefault(target, Dependency(target=target, requirement=requirement))
    return tuple(sorted(deps.values(), key=lambda d: d.target))


def package_component(
    fields: dict[str, str],
    location: Location,
    distro: Distro | None,
    found_by: str,
) -> Component | None:
    name, version = fields.get("Package", "").strip(), fields.get("Version", "").strip()
    if not name or not version:
        return None
    namespace = debian_namespace(fields, distro)
    arch = fields.get("Architecture", "").strip()
    source = fields.get("Source", "").strip()
    upstream = None
    if source:
        source_name, _, rest = source.partition(" ")
        # dpkg writes the source version (with its epoch) only where it differs (binNMUs).
        source_version = rest.strip("() ") or version
        upstream = f"{source_name}@{source_version}" if source_name else None
    qualifiers = {
        "arch": arch,
        "distro": distro.purl_distro if distro else "",
        "upstream": upstream or "",
    }
    description = fields.get("Description", "").split("\n")[0].strip() or None
    return Component(
        name=name,
        version=version,
        ecosystem=osv_ecosystem(distro, "Debian" if namespace == "debian" else "Ubuntu"),
        purl=purl("deb", name, version, namespace=namespace, qualifiers=qualifiers),
        locations=(location,),
        found_by=(found_by,),
        confidence=Confidence.HIGH,
        evidence=(f"{location}: Package: {name}, Version: {version}",),
        supplier=fields.get("Maintainer") or None,
        description=description,
        dependencies=_dependencies(fields, namespace),
    )


class DpkgCataloger:
    name = NAME
    version = "1.0"
    requires: tuple[str, ...] = ()
    wants = (
        "*.deb",
        "*.udeb",
        "*var/lib/dpkg/status",
        "*var/lib/dpkg/status.d/*",
        "*var/lib/dpkg/info/*.list",
        "*usr/share/doc/*/copyright",
        "control",
        *DISTRO_WANTS,
    )

    def __init__(self) -> None:
        self.state = _State()
        self.distros = DistroTracker()
        self.isolation = Isolation(NAME, "catalog")
        self.owners = FileOwners()

    def accepts(self, entry: FileEntry) -> bool:
        if entry.name.endswith(".deb") or entry.name.endswith(".udeb"):
            return True
        if entry.size > 64 * 1024 * 1024:
            return False
        if self.distros.accepts(entry):
            return True
        path = entry.path
        if _FILE_LIST.search(path):
            return True
        if path.endswith(_STATUS) or _STATUS_D.search(path):
            return not path.endswith(".md5sums")
        if entry.name == "copyright" and _COPYRIGHT.search(path):
            return True
        if entry.name == "control":
            parent = entry.location.parent
            return parent is not None and _CONTROL_TAR.search(parent.name) is not None
        return False

    def catalog(self, entry: FileEntry) -> Iterable[Component]:
        state, location = self.state, entry.location
        if entry.name.endswith((".deb", ".udeb")):
            state.debs[location] = (entry.sha256, entry.sha1)
        elif self.distros.accepts(entry):
            self.distros.record(entry)
        elif (listing := _FILE_LIST.search(entry.path)) is not None:
            tree = tree_of(location, listing.group(1))
            package = listing.group(2) or listing.group(3)
            paths = listed_paths(read_text(entry), md5sums=listing.group(3) is not None)
            state.file_lists[(tree, package)] = paths
        elif entry.path.endswith(_STATUS):
            root = root_of(location, _STATUS)
            # A later layer's database replaces an earlier one at the same path.
            state.databases[location] = _Database(
                root, location, read_text(entry), True, tree_of(location, _STATUS)
            )
        elif (match := _COPYRIGHT.search(entry.path)) is not None:
            root = root_of(location, match.group(0).lstrip("/"))
            if root.parent is not None and _DATA_TAR.search(root.name) and root.path == root.name:
                root = root.parent  # pkg.deb!/data.tar.xz!/usr/share/doc/... -> pkg.deb
            state.licenses[(root, match.group(1))] = copyright_licenses(
                read_text(entry, 1024 * 1024)
            )
        elif _STATUS_D.search(entry.path):
            suffix = entry.path[entry.path.find("var/lib/dpkg/status.d/") :]
            root = root_of(location, suffix)
            state.databases[location] = _Database(
                root, location, read_text(entry), False, tree_of(location, suffix)
            )
        else:
            state.controls.append((location, read_text(entry, 1024 * 1024)))
        return ()

    def finish(self) -> Iterable[Component]:
        out: list[Component] = []
        for location, text in self.state.controls:
            with self.isolation.item(str(location), location):
                fields = next(paragraphs(text), None)
                if fields is None:
                    continue
                component = package_component(fields, location, None, f"{NAME}-control")
                if component is None:
                    continue
                deb = location.parent.parent if location.parent else None
                if deb is not None:
                    component = self._with_licenses(component, deb)
                if deb is not None and component.purl:
                    self.owners.add_package(deb, component.purl)  # a .deb's files are its own
                if deb is not None and deb in self.state.debs:
                    sha256, sha1 = self.state.debs[deb]
                    component = replace(
                        component,
                        hashes=(("SHA-1", sha1), ("SHA-256", sha256)),
                        locations=tuple(sorted({*component.locations, deb})),
                    )
                out.append(component)
        for database in sorted(self.state.databases.values(), key=lambda d: d.location):
            distro = self.distros.distro_for(database.root)
            with self.isolation.item(str(database.location), database.location):
                for fields in paragraphs(database.text):
                    status = fields.get("Status", "")
                    if database.installed_only and not status.endswith(" installed"):
                        continue
                    component = package_component(fields, database.location, distro, f"{NAME}-db")
                    if component is not None:
                        out.append(self._with_licenses(component, database.root))
                        self._record_files(database.tree, fields, component)
        return out

    def _record_files(self, tree: Tree, fields: dict[str, str], component: Component) -> None:
        """The files dpkg says this package installed (``name:arch.list`` for Multi-Arch:
        same packages), owned by it."""
        name, arch = component.name, fields.get("Architecture", "").strip()
        lists = self.state.file_lists
        paths = lists.get((tree, f"{name}:{arch}")) or lists.get((tree, name))
        if paths and component.purl:
            self.owners.add_files(tree, paths, component.purl)

    def _with_licenses(self, component: Component, root: Location) -> Component:
        licenses = self.state.licenses.get((root, component.name))
        return replace(component, licenses=licenses) if licenses else component

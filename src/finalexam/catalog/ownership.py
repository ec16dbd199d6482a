"""Which operating-system package installed a file, and the components found in its files.

A component found only in files a distribution package installed (the Go standard library
linked into Debian's ``/usr/bin/age``, the ``requests`` metadata of ``python3-requests``) is
that package's build: the distribution patches it in place (backports) without changing the
upstream version, and its own advisories for the owning package are the authority on it.
The owning package ``contains`` the component (syft's ownership-by-file-overlap), which the
SBOMs show and the vulnerability matcher reads (docs/vulnerabilities.md).

Ownership comes from the package managers' own records: dpkg's ``info/<package>.list`` file
lists (and a distroless image's ``status.d/<package>.md5sums``), the rpmdb's file lists, the
apk database's ``F:``/``R:`` lines; and a package file (.deb, .rpm) owns every one of its
members by definition.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace

from finalexam.model import Component, Dependency, Location, Relationship

# purl types of operating-system packages: their advisories are the distribution's.
OS_PURL_TYPES = ("pkg:deb/", "pkg:rpm/", "pkg:apk/")
# Merged /usr: /bin, /sbin and /lib* are links into /usr, so a package database may list a
# file under either name.
_MERGED = ("bin/", "sbin/", "lib/", "lib32/", "lib64/", "libx32/")

FileKey = tuple[tuple[str, ...], str]  # (chain of the enclosing archives, normalised path)
# A file system tree: the chain of the archive holding it, and its folder there ("" for the
# root of an image, "rootfs/" for a tree inside an archive).
Tree = tuple[tuple[str, ...], str]


def is_os_package(component: Component) -> bool:
    return bool(component.purl and component.purl.startswith(OS_PURL_TYPES))


def _normalise(path: str) -> str:
    clean = posixpath.normpath("/" + path.replace("\\", "/")).lstrip("/")
    return "usr/" + clean if clean.startswith(_MERGED) else clean


def file_key(location: Location) -> FileKey:
    return location.chain[:-1], _normalise(location.path)


def tree_of(location: Location, suffix: str) -> Tree:
    """The tree in which ``location`` is ``suffix`` (``var/lib/dpkg/status``)."""
    path = location.path
    return location.chain[:-1], path[: len(path) - len(suffix)]


@dataclass
class FileOwners:
    """Files, and whole package files, by the purl of the OS package that installed them."""

    files: dict[FileKey, str] = field(default_factory=dict)
    packages: dict[tuple[str, ...], str] = field(default_factory=dict)

    def add_files(self, tree: Tree, paths: Iterable[str], owner: str) -> None:
        """``paths`` as the package database lists them (``/usr/bin/age``), in ``tree``."""
        container, prefix = tree
        for path in paths:
            path = path.strip()
            if path and path not in ("/", "/."):
                self.files.setdefault((container, _normalise(prefix + path.lstrip("/"))), owner)

    def add_package(self, package: Location, owner: str) -> None:
        """A .deb or .rpm file: each of its members is the package's."""
        self.packages.setdefault(package.chain, owner)

    def update(self, other: FileOwners) -> None:
        for key, owner in other.files.items():
            self.files.setdefault(key, owner)
        for chain, owner in other.packages.items():
            self.packages.setdefault(chain, owner)

    def lists(self, location: Location) -> bool:
        """Whether a package database lists the file, or the archive holding it (a jar's
        pom.xml); not: it is a member of a package file (a .deb examined on its own is the
        user's build, not the distribution's)."""
        chain = location.chain
        return any(file_key(Location(chain[:n])) in self.files for n in range(len(chain), 1, -1))

    def owner(self, location: Location) -> str | None:
        found = self.files.get(file_key(location))
        if found is not None:
            return found
        chain = location.chain
        for length in range(len(chain) - 1, 0, -1):
            found = self.packages.get(chain[:length])
            if found is not None:
                return found
        return None


def collect(catalogers: Iterable[object]) -> FileOwners:
    """The file owners every OS cataloger recorded (those with an ``owners`` attribute)."""
    merged = FileOwners()
    for cataloger in catalogers:
        owners = getattr(cataloger, "owners", None)
        if isinstance(owners, FileOwners):
            merged.update(owners)
    return merged


def link_owned(components: Sequence[Component], owners: FileOwners) -> list[Component]:
    """Each OS package ``contains`` the components found only in its files.

    A component also found outside them (the same ``requests`` installed by pip under
    /usr/local) is not the distribution's alone, and keeps no owner."""
    if not owners.files and not owners.packages:
        return list(components)
    by_purl = {c.purl: c for c in components if is_os_package(c)}
    contained: dict[str, set[str]] = {}
    for component in components:
        if is_os_package(component) or not component.purl or not component.locations:
            continue
        found = {owners.owner(location) for location in component.locations}
        if len(found) == 1 and (owner := found.pop()) is not None and owner in by_purl:
            contained.setdefault(owner, set()).add(component.purl)
    out = []
    for component in components:
        targets = contained.get(component.purl or "")
        if targets:
            edges = {d.target for d in component.dependencies if d.kind is Relationship.CONTAINS}
            added = [Dependency(t, Relationship.CONTAINS) for t in targets - edges]
            dependencies = sorted(
                (*component.dependencies, *added),
                key=lambda d: (d.target, d.kind, d.requirement or ""),
            )
            component = replace(component, dependencies=tuple(dependencies))
        out.append(component)
    return out


def installed_by(components: Iterable[Component]) -> dict[str, Component]:
    """Each component an OS package contains, by purl: the OS package."""
    found: dict[str, Component] = {}
    for package in components:
        if not is_os_package(package):
            continue
        for dependency in package.dependencies:
            if dependency.kind is Relationship.CONTAINS:
                found.setdefault(dependency.target, package)
    return found

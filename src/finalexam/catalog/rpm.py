"""RPM packages: the ``.rpm`` file's own header, and the rpmdb in images (sqlite or the
classic Berkeley DB ``Packages``; the NDB format of SUSE is not read).

The files each package installed (the rpmdb header's file list; every member of a ``.rpm``)
go to ``owners`` (catalog/ownership.py)."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from finalexam.catalog.distro import DISTRO_WANTS, Distro, DistroTracker, osv_ecosystem
from finalexam.catalog.ownership import FileOwners, tree_of
from finalexam.catalog.support import licenses_of, purl, root_of
from finalexam.errors import CorruptInput
from finalexam.failures import Isolation
from finalexam.formats.bdb import bdb_hash_values
from finalexam.formats.rpm import LEAD_MAGIC, evr, parse_rpm_header
from finalexam.model import Component, Confidence, Dependency, FileEntry, Location

NAME = "rpm"
_SQLITE_DB = "var/lib/rpm/rpmdb.sqlite"
_SQLITE_DB_ALT = "usr/lib/sysimage/rpm/rpmdb.sqlite"
_BDB = "var/lib/rpm/Packages"  # Berkeley DB hash (RHEL/CentOS 7, Amazon Linux 2, ...)
_DATABASES = (_SQLITE_DB, _SQLITE_DB_ALT, _BDB)
_MAX_DB = 512 * 1024 * 1024
_MAX_RPM_HEADER = 64 * 1024 * 1024
_VENDOR_NAMESPACES = {
    "red hat": "redhat",
    "fedora": "fedora",
    "centos": "centos",
    "rocky": "rocky",
    "almalinux": "almalinux",
    "suse": "opensuse",
    "opensuse": "opensuse",
    "amazon": "amazon",
    "oracle": "oracle",
}


def _namespace(tags: dict[str, Any], distro: Distro | None) -> str:
    if distro is not None:
        return "redhat" if distro.id == "rhel" else distro.id
    vendor = str(tags.get("vendor") or "").lower()
    return next((ns for key, ns in _VENDOR_NAMESPACES.items() if key in vendor), "rpm")


def rpm_component(
    tags: dict[str, Any], location: Location, distro: Distro | None, found_by: str
) -> Component | None:
    name, version = tags.get("name"), evr(tags)
    if not isinstance(name, str) or not name or version is None:
        return None
    namespace = _namespace(tags, distro)
    epoch = tags.get("epoch")
    qualifiers = {
        "arch": str(tags.get("arch") or ""),
        "epoch": str(epoch) if isinstance(epoch, int) and epoch > 0 else "",
        "distro": distro.purl_distro if distro else "",
        "upstream": str(tags.get("sourcerpm") or ""),
    }
    purl_version = version.split(":", 1)[1] if ":" in version else version
    deps: dict[str, Dependency] = {}
    requires = tags.get("requirename")
    for required in requires if isinstance(requires, list) else ():
        # File paths, sonames and rpmlib() capabilities are not package names.
        if not required or required.startswith(("/", "rpmlib(")) or "(" in required:
            continue
        target = purl("rpm", required, namespace=namespace)
        deps.setdefault(target, Dependency(target=target))
    license_text = tags.get("license")
    return Component(
        name=name,
        version=version,
        ecosystem=osv_ecosystem(distro, "RPM"),
        purl=purl("rpm", name, purl_version, namespace=namespace, qualifiers=qualifiers),
        licenses=licenses_of(license_text if isinstance(license_text, str) else None),
        locations=(location,),
        found_by=(found_by,),
        confidence=Confidence.HIGH,
        evidence=(f"{location}: {name}-{version}",),
        supplier=str(tags.get("vendor") or tags.get("packager") or "") or None,
        description=str(tags.get("summary") or "") or None,
        dependencies=tuple(sorted(deps.values(), key=lambda d: d.target)),
    )


def read_bdb_rpmdb(data: bytes) -> list[dict[str, Any]]:
    """Header blobs stored as the values of a Berkeley DB ``Packages`` hash database."""
    headers: list[dict[str, Any]] = []
    for value in bdb_hash_values(data):
        if len(value) < 16:
            continue  # the database's own bookkeeping record
        with contextlib.suppress(CorruptInput):
            tags = parse_rpm_header(value)
            if isinstance(tags.get("name"), str):
                headers.append(tags)
    return headers


def read_sqlite_rpmdb(data: bytes) -> list[dict[str, Any]]:
    """Header blobs of every package in an rpmdb.sqlite, opened in memory (never on disk)."""
    if not data.startswith(b"SQLite format 3\x00") or len(data) < 512:
        raise CorruptInput("not an SQLite database")
    if data[18:20] == b"\x02\x02":
        # rpm >= 4.16 keeps the database in WAL mode, which an in-memory copy cannot open;
        # rpm checkpoints on close, so the main file holds every package: read it as a
        # rollback-journal database.
        data = data[:18] + b"\x01\x01" + data[20:]
    connection = sqlite3.connect(":memory:")
    try:
        connection.deserialize(data)
        rows = connection.execute("SELECT blob FROM Packages").fetchall()
    except (sqlite3.Error, MemoryError, OverflowError) as error:
        raise CorruptInput(f"not a readable rpmdb.sqlite: {error}") from None
    finally:
        with contextlib.suppress(sqlite3.Error):
            connection.close()
    headers: list[dict[str, Any]] = []
    for (blob,) in rows:
        if isinstance(blob, bytes):
            with contextlib.suppress(CorruptInput):
                headers.append(parse_rpm_header(blob))
    return headers


@dataclass
class RpmCataloger:
    name: str = NAME
    version = "1.0"
    requires: tuple[str, ...] = ()
    wants = ("archive", "*.rpm", *(f"*{path}" for path in _DATABASES), *DISTRO_WANTS)
    distros: DistroTracker = field(default_factory=DistroTracker)
    databases: dict[Location, list[dict[str, Any]]] = field(default_factory=dict)
    packages: list[tuple[Location, dict[str, Any]]] = field(default_factory=list)
    isolation: Isolation = field(default_factory=lambda: Isolation(NAME, "catalog"))
    owners: FileOwners = field(default_factory=FileOwners)

    def accepts(self, entry: FileEntry) -> bool:
        path = entry.path
        if path.endswith(_DATABASES):
            return entry.size <= _MAX_DB
        if entry.name.endswith(".rpm") or entry.depth == 0:
            return bytes(entry.data[:4]) == LEAD_MAGIC
        return self.distros.accepts(entry)

    def catalog(self, entry: FileEntry) -> Iterable[Component]:
        path = entry.path
        if path.endswith(_BDB):
            self.databases[entry.location] = read_bdb_rpmdb(bytes(entry.data))
        elif path.endswith((_SQLITE_DB, _SQLITE_DB_ALT)):
            self.databases[entry.location] = read_sqlite_rpmdb(bytes(entry.data))
        elif self.distros.accepts(entry):
            self.distros.record(entry)
        else:
            # The header is at the front; the payload is never read.
            self.packages.append(
                (entry.location, parse_rpm_header(bytes(entry.data[:_MAX_RPM_HEADER])))
            )
        return ()

    def finish(self) -> Iterable[Component]:
        out: list[Component] = []
        for location, tags in self.packages:
            with self.isolation.item(str(location), location):
                component = rpm_component(tags, location, None, f"{NAME}-header")
                if component is not None:
                    out.append(component)
                    if component.purl:  # a .rpm's files are its own
                        self.owners.add_package(location, component.purl)
        for location, headers in sorted(self.databases.items()):
            suffix = next(s for s in _DATABASES if location.path.endswith(s))
            distro = self.distros.distro_for(root_of(location, suffix))
            for tags in headers:
                if tags.get("name") == "gpg-pubkey":
                    continue  # imported signing keys, not software
                with self.isolation.item(f"{location} ({tags.get('name')})", location):
                    component = rpm_component(tags, location, distro, f"{NAME}-db")
                    if component is not None:
                        out.append(component)
                        if component.purl:
                            tree = tree_of(location, suffix)
                            self.owners.add_files(tree, installed_files(tags), component.purl)
        return out


def installed_files(tags: dict[str, Any]) -> list[str]:
    """The header's file list: ``dirnames[dirindexes[i]] + basenames[i]``."""
    names, folders, indexes = tags.get("basenames"), tags.get("dirnames"), tags.get("dirindexes")
    if not (isinstance(names, list) and isinstance(folders, list) and isinstance(indexes, list)):
        return []
    return [
        f"{folders[index]}{name}"
        for name, index in zip(names, indexes, strict=False)
        if isinstance(index, int) and 0 <= index < len(folders)
    ]

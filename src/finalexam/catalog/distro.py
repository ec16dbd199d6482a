"""What the operating-system package catalogers share: the distribution an image runs.

Package databases and ``etc/os-release`` arrive in archive order, so catalogers collect both
and name packages in ``finish``, once the distribution of each image root is known.
``etc/os-release`` (or ``usr/lib/os-release``) is the authority; the older release files
(``etc/debian_version``, ``etc/alpine-release``, ``etc/redhat-release`` and its siblings,
``etc/lsb-release``) name the release of images that lack it, or fill the version an
os-release leaves out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from finalexam.catalog.support import (
    OS_RELEASE_PATHS,
    is_os_release,
    parse_os_release,
    read_text,
    root_of,
)
from finalexam.model import FileEntry, Location
from finalexam.vuln.distro import FAMILIES, release_ecosystem

_RELEASE_FILES = (
    "etc/debian_version",
    "etc/alpine-release",
    "etc/redhat-release",
    "etc/rocky-release",
    "etc/almalinux-release",
    "etc/centos-release",
    "etc/lsb-release",
)
# The files a distribution tracker reads, as plug-in wants (see finalexam.plugins).
DISTRO_WANTS = tuple(f"*{path}" for path in (*OS_RELEASE_PATHS, *_RELEASE_FILES))
# "Rocky Linux release 9.3 (Blue Onyx)", "Red Hat Enterprise Linux release 9.3 (Plow)"
_RELEASE_LINE = re.compile(r"^(?P<name>.+?) release (?P<version>\d[\w.]*)")
_RELEASE_NAMES = {
    "red hat enterprise linux": "rhel",
    "rocky linux": "rocky",
    "almalinux": "almalinux",
    "centos linux": "centos",
    "centos stream": "centos",
}


@dataclass(frozen=True)
class Distro:
    id: str  # debian, ubuntu, alpine, fedora, rhel, ...
    version_id: str | None = None
    version: str | None = None
    pretty_name: str | None = None

    @property
    def purl_distro(self) -> str:
        return f"{self.id}-{self.version_id}" if self.version_id else self.id

    @property
    def osv_ecosystem(self) -> str | None:
        """The release as OSV spells it (``Debian:12``), when OSV knows the distribution."""
        return release_ecosystem(self.id, self.version_id, self.version, self.pretty_name)


def _from_release_file(name: str, text: str) -> Distro | None:
    first = text.strip().splitlines()[0].strip() if text.strip() else ""
    if name == "debian_version":
        # "12.5" on a stable release; "trixie/sid" on testing and unstable (no number yet).
        return Distro("debian", first.split(".")[0]) if first[:1].isdigit() else Distro("debian")
    if name == "alpine-release":
        return Distro("alpine", first) if first[:1].isdigit() else None
    if name == "lsb-release":
        values = parse_os_release(text)
        distro_id = values.get("DISTRIB_ID", "").lower()
        if not distro_id:
            return None
        description = values.get("DISTRIB_DESCRIPTION")
        return Distro(distro_id, values.get("DISTRIB_RELEASE"), description, description)
    match = _RELEASE_LINE.match(first)
    if match is None or match.group("name").lower() not in _RELEASE_NAMES:
        return None
    return Distro(_RELEASE_NAMES[match.group("name").lower()], match.group("version"), None, first)


@dataclass
class DistroTracker:
    releases: dict[Location, Distro] = field(default_factory=dict)
    # Release files, per root: used where os-release is missing or says less.
    fallbacks: dict[Location, Distro] = field(default_factory=dict)

    def accepts(self, entry: FileEntry) -> bool:
        return is_os_release(entry) or (
            entry.path.endswith(_RELEASE_FILES) and entry.size < 64 * 1024
        )

    def record(self, entry: FileEntry) -> None:
        text = read_text(entry, 64 * 1024)
        release_file = next((s for s in _RELEASE_FILES if entry.path.endswith(s)), None)
        if release_file is not None:
            found = _from_release_file(release_file.rsplit("/", 1)[-1], text)
            root = root_of(entry.location, release_file)
            # The distribution's own file wins over lsb-release (which other tools write).
            if found is not None and (
                root not in self.fallbacks or not release_file.endswith("lsb-release")
            ):
                self.fallbacks[root] = found
            return
        values = parse_os_release(text)
        if not values.get("ID"):
            return
        suffix = next(s for s in OS_RELEASE_PATHS if entry.path.endswith(s))
        root = root_of(entry.location, suffix)
        distro = Distro(
            values["ID"].lower(),
            values.get("VERSION_ID"),
            values.get("VERSION"),
            values.get("PRETTY_NAME"),
        )
        # etc/os-release wins over usr/lib/os-release (it is usually a link to it).
        if suffix == OS_RELEASE_PATHS[0] or root not in self.releases:
            self.releases[root] = distro

    def distro_for(self, root: Location) -> Distro | None:
        distro, fallback = self.releases.get(root), self.fallbacks.get(root)
        if distro is None:
            return fallback
        if fallback is not None and fallback.id == distro.id and not distro.version_id:
            return replace(distro, version_id=fallback.version_id)
        return distro


def osv_ecosystem(distro: Distro | None, default: str) -> str:
    """The OSV ecosystem string for packages of this distribution: the release when it is
    known (``Debian:12``), else the family (``Debian``), else ``default``."""
    if distro is None:
        return default
    return distro.osv_ecosystem or FAMILIES.get(distro.id) or default

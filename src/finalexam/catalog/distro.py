"""What the operating-system package catalogers share: the distribution an image runs.

Package databases and ``etc/os-release`` arrive in archive order, so catalogers collect both
and name packages in ``finish``, once the distribution of each image root is known.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from finalexam.catalog.support import (
    OS_RELEASE_PATHS,
    is_os_release,
    parse_os_release,
    read_text,
    root_of,
)
from finalexam.model import FileEntry, Location


@dataclass(frozen=True)
class Distro:
    id: str  # debian, ubuntu, alpine, fedora, rhel, ...
    version_id: str | None = None
    version: str | None = None

    @property
    def purl_distro(self) -> str:
        return f"{self.id}-{self.version_id}" if self.version_id else self.id


@dataclass
class DistroTracker:
    releases: dict[Location, Distro] = field(default_factory=dict)

    def accepts(self, entry: FileEntry) -> bool:
        return is_os_release(entry)

    def record(self, entry: FileEntry) -> None:
        values = parse_os_release(read_text(entry, 64 * 1024))
        if not values.get("ID"):
            return
        suffix = next(s for s in OS_RELEASE_PATHS if entry.path.endswith(s))
        root = root_of(entry.location, suffix)
        distro = Distro(values["ID"].lower(), values.get("VERSION_ID"), values.get("VERSION"))
        # etc/os-release wins over usr/lib/os-release (it is usually a link to it).
        if suffix == OS_RELEASE_PATHS[0] or root not in self.releases:
            self.releases[root] = distro

    def distro_for(self, root: Location) -> Distro | None:
        return self.releases.get(root)


def osv_ecosystem(distro: Distro | None, default: str) -> str:
    """The OSV ecosystem string for packages of this distribution."""
    if distro is None:
        return default
    names = {
        "debian": "Debian",
        "ubuntu": "Ubuntu",
        "alpine": "Alpine",
        "rocky": "Rocky Linux",
        "almalinux": "AlmaLinux",
        "rhel": "Red Hat",
        "opensuse-leap": "openSUSE",
        "sles": "SUSE",
        "wolfi": "Wolfi",
        "chainguard": "Chainguard",
    }
    name = names.get(distro.id)
    if name is None:
        return default
    version = distro.version_id
    if distro.id == "debian" and version:
        return f"Debian:{version.split('.')[0]}"
    if distro.id == "alpine" and version:
        return "Alpine:v" + ".".join(version.split(".")[:2])
    if distro.id == "ubuntu" and version:
        lts = ":LTS" if distro.version and "LTS" in distro.version else ""
        return f"Ubuntu:{version}{lts}"
    if distro.id in ("rocky", "almalinux") and version:
        return f"{name}:{version.split('.')[0]}"
    return name

"""Distribution releases as OSV names them, and which advisory entries apply to a release.

OSV scopes a distribution package to a release in the ecosystem string of each affected
entry: ``Debian:12``, ``Ubuntu:22.04:LTS`` (``Ubuntu:Pro:18.04:LTS`` for fixes delivered by
Ubuntu Pro), ``Alpine:v3.19``, ``Rocky Linux:9``, ``AlmaLinux:9``,
``Red Hat:enterprise_linux:9::appstream``, ``openSUSE:Leap 15.5``, ``SUSE:Linux Enterprise
Server 15 SP5``. A package is matched only against the entries of its own release: the same
advisory fixed in Debian 10 at ``1.1.1n-0+deb10u3`` and in Debian 12 at ``3.0.11-1~deb12u1``
says nothing about a Debian 10 package through its Debian 12 entry.

The release comes, in order of trust, from the image (``etc/os-release`` and the release
files, see ``catalog/distro.py``), from a package URL's ``distro=`` qualifier (SBOMs made by
other tools), or from the package's own version (``+deb12u1``, ``~22.04``, ``.el9``); when
none says it, every release's entries are tried and the findings say the release is unknown.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from finalexam.vuln.versions import base_ecosystem

# os-release ID -> OSV ecosystem family.
FAMILIES = {
    "debian": "Debian",
    "ubuntu": "Ubuntu",
    "alpine": "Alpine",
    "rocky": "Rocky Linux",
    "almalinux": "AlmaLinux",
    "rhel": "Red Hat",
    "redhat": "Red Hat",
    "opensuse-leap": "openSUSE",
    "opensuse-tumbleweed": "openSUSE",
    "opensuse": "openSUSE",
    "sles": "SUSE",
    "sled": "SUSE",
    "suse": "SUSE",
    "mageia": "Mageia",
    "wolfi": "Wolfi",
    "chainguard": "Chainguard",
}
# Families whose entries carry no release (one rolling distribution).
_ROLLING = {"Wolfi", "Chainguard"}
DEBIAN_CODENAMES = {
    "buzz": "1.1",
    "hamm": "2.0",
    "potato": "2.2",
    "woody": "3.0",
    "sarge": "3.1",
    "etch": "4",
    "lenny": "5",
    "squeeze": "6",
    "wheezy": "7",
    "jessie": "8",
    "stretch": "9",
    "buster": "10",
    "bullseye": "11",
    "bookworm": "12",
    "trixie": "13",
    "forky": "14",
}
UBUNTU_CODENAMES = {
    "trusty": "14.04",
    "xenial": "16.04",
    "bionic": "18.04",
    "focal": "20.04",
    "jammy": "22.04",
    "kinetic": "22.10",
    "lunar": "23.04",
    "mantic": "23.10",
    "noble": "24.04",
    "oracular": "24.10",
    "plucky": "25.04",
    "questing": "25.10",
}
_DEBIAN_SUFFIX = re.compile(r"[+~](?:deb|bpo)(\d+)")
_UBUNTU_SUFFIX = re.compile(r"(?:ubuntu\d*\.|[~+])(\d\d\.(?:04|10))(?![\d])")
_EL_SUFFIX = re.compile(r"\.el(\d+)(?![\d])|[.+]el(\d+)\.")


@dataclass(frozen=True)
class Release:
    """The release a distribution package belongs to, and how that is known."""

    ecosystem: str  # OSV's spelling: Debian:12, Ubuntu:22.04:LTS, Red Hat:enterprise_linux:9
    source: str  # image, purl, version
    evidence: str = ""  # what said it (a qualifier, a version suffix)

    @property
    def family(self) -> str:
        return base_ecosystem(self.ecosystem)

    @property
    def name(self) -> str:
        return self.ecosystem.split(":", 1)[1] if ":" in self.ecosystem else ""


def _major(version: str) -> str:
    return version.split(".")[0]


def is_ubuntu_lts(version: str) -> bool:
    """Ubuntu LTS releases are the April releases of even years (6.06 excepted, long gone)."""
    year, _, month = version.partition(".")
    return year.isdigit() and int(year) % 2 == 0 and month.startswith("04")


def release_ecosystem(
    distro_id: str,
    version_id: str | None,
    version: str | None = None,
    pretty_name: str | None = None,
) -> str | None:
    """OSV's ecosystem string for a release named as in os-release, or None."""
    family = FAMILIES.get(distro_id.lower())
    if family is None:
        return None
    if family in _ROLLING:
        return family
    if family == "openSUSE":
        if distro_id.lower() == "opensuse-tumbleweed" or "Tumbleweed" in (pretty_name or ""):
            return "openSUSE:Tumbleweed"
        return f"openSUSE:Leap {version_id}" if version_id else None
    if family == "SUSE":
        product = (pretty_name or "").removeprefix("SUSE ").strip()
        return f"SUSE:{product}" if product.startswith("Linux Enterprise") else None
    if not version_id:
        return None
    if family == "Debian":
        return f"Debian:{_major(version_id)}" if version_id[0].isdigit() else None
    if family == "Ubuntu":
        release = ".".join(version_id.split(".")[:2])
        lts = "LTS" in (version or "") or is_ubuntu_lts(release)
        return f"Ubuntu:{release}:LTS" if lts else f"Ubuntu:{release}"
    if family == "Alpine":
        numbers = re.match(r"(\d+)\.(\d+)", version_id)
        return f"Alpine:v{numbers.group(1)}.{numbers.group(2)}" if numbers else None
    if family == "Red Hat":
        return f"Red Hat:enterprise_linux:{_major(version_id)}"
    return f"{family}:{_major(version_id)}"


def release_from_qualifier(family: str, qualifier: str) -> str | None:
    """A purl ``distro=`` qualifier: ``debian-12``, ``ubuntu-22.04``, ``rhel-9.3``, ``jammy``."""
    text = qualifier.strip().lower().rsplit("/", 1)[-1]  # esm-infra/xenial -> xenial
    if text in DEBIAN_CODENAMES and family == "Debian":
        return release_ecosystem("debian", DEBIAN_CODENAMES[text])
    if text in UBUNTU_CODENAMES and family == "Ubuntu":
        return release_ecosystem("ubuntu", UBUNTU_CODENAMES[text])
    distro_id, _, version_id = text.rpartition("-")
    if not distro_id or not version_id[:1].isdigit():
        return None
    found = release_ecosystem(distro_id, version_id)
    return found if found is not None and base_ecosystem(found) == family else None


def release_from_version(family: str, version: str) -> Release | None:
    """The release a package version names: ``+deb12u1``, ``~22.04.1``, ``.el9_3``."""
    found: str | None = None
    match: re.Match[str] | None = None
    if family == "Debian":
        match = _DEBIAN_SUFFIX.search(version)
        found = release_ecosystem("debian", match.group(1)) if match else None
    elif family == "Ubuntu":
        match = _UBUNTU_SUFFIX.search(version)
        found = release_ecosystem("ubuntu", match.group(1)) if match else None
    elif family in ("Red Hat", "Rocky Linux", "AlmaLinux"):
        match = _EL_SUFFIX.search(version)
        major = (match.group(1) or match.group(2)) if match else None
        found = f"{family}:{major}" if major else None
        if found and family == "Red Hat":
            found = f"Red Hat:enterprise_linux:{major}"
    if found is None or match is None:
        return None
    return Release(found, "version", match.group(0).strip(".+~"))


def _ubuntu_applies(entry: str, mine: str, version: str | None) -> bool:
    """``22.04:LTS``, ``Pro:22.04:LTS`` and ``Pro:FIPS-updates:22.04:LTS`` against ``22.04``.

    A Pro entry lists the same affected versions as the release it extends, so it applies to
    every system of that release (the fix it names needs a subscription). Entries of a Pro
    service (FIPS, Realtime kernels) apply only to that service's builds: FIPS packages carry
    ``fips`` in their version.
    """
    parts = [p for p in entry.split(":") if p not in ("Pro", "LTS")]
    release = mine.split(":")[0]
    if parts == [release]:
        return True
    services = [p for p in parts if p != release]
    if release not in parts or not services:
        return False
    return all(s.lower().startswith("fips") for s in services) and "fips" in (version or "")


def _red_hat_applies(entry: str, mine: str) -> bool:
    """``enterprise_linux:9::appstream`` (and RHEL 10's ``enterprise_linux:10.1``) against 9.

    Only the main product streams count: extended update streams (``rhel_eus``, ``rhel_aus``,
    ``rhel_e4s``...) need a subscription to a minor release, and layered products
    (``openshift``, ``jboss``...) ship their own builds.
    """
    product, _, rest = entry.partition(":")
    release = rest.split(":", 1)[0]
    return product == "enterprise_linux" and _major(release) == mine.split(":")[-1]


def _suse_applies(entry: str, mine: str) -> bool:
    """``Linux Enterprise Module for Basesystem 15 SP5`` applies to SLES 15 SP5."""
    level = re.search(r"\d+(?: SP\d+)?$", mine)
    return (
        level is not None
        and entry.startswith("Linux Enterprise")
        and re.search(rf"(?<![\w.]){re.escape(level.group(0))}$", entry) is not None
    )


def applies(entry_ecosystem: str, release: Release | None, version: str | None = None) -> bool:
    """Whether an affected entry of ``entry_ecosystem`` speaks about a package of ``release``.

    Without a release every entry of the family applies (the caller lowers confidence).
    An entry without a release suffix applies to every release of its family.
    """
    if release is None:
        return True
    family = base_ecosystem(entry_ecosystem)
    if family != release.family:
        return False
    entry = entry_ecosystem[len(family) + 1 :].strip()
    if not entry or family in _ROLLING:
        return True
    if family == "Ubuntu":
        return _ubuntu_applies(entry, release.name, version)
    if family == "Red Hat":
        return _red_hat_applies(entry, release.name)
    if family == "SUSE":
        return _suse_applies(entry, release.name)
    return entry == release.name

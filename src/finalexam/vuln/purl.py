"""Package URLs → the (OSV ecosystem, package name, version) a database lookup needs."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from packageurl import PackageURL

from finalexam.model import Component
from finalexam.vuln.distro import Release, release_from_qualifier, release_from_version
from finalexam.vuln.versions import ECOSYSTEMS, base_ecosystem, normalize_name

_DISTRO_ECOSYSTEMS = {
    "deb": {"debian": "Debian", "ubuntu": "Ubuntu"},
    "rpm": {
        "redhat": "Red Hat",
        "almalinux": "AlmaLinux",
        "rocky": "Rocky Linux",
        "rocky-linux": "Rocky Linux",
        "opensuse": "openSUSE",
        "suse": "SUSE",
        "mageia": "Mageia",
    },
    "apk": {"alpine": "Alpine", "wolfi": "Wolfi", "chainguard": "Chainguard"},
}
DISTRO_FAMILIES = frozenset(f for spelled in _DISTRO_ECOSYSTEMS.values() for f in spelled.values())
# A source RPM file name as the SOURCERPM header tag (and syft's upstream= qualifier) has it.
_SOURCE_RPM = re.compile(r"^(?P<name>.+)-(?P<version>[^-]+)-(?P<release>[^-]+)\.(?:no)?src\.rpm$")
PURL_ECOSYSTEMS = {
    "pypi": "PyPI",
    "npm": "npm",
    "maven": "Maven",
    "golang": "Go",
    "cargo": "crates.io",
    "nuget": "NuGet",
    "gem": "RubyGems",
    "composer": "Packagist",
    "hex": "Hex",
    "pub": "Pub",
}
# Component.ecosystem is meant to be the OSV spelling; purl types are accepted as well.
_ECOSYSTEM_BY_LOWER = {
    **{kind: ecosystem for kind, ecosystem in PURL_ECOSYSTEMS.items()},
    "go": "Go",
    "rubygems": "RubyGems",
    **{name.lower(): name for name in ECOSYSTEMS},
}


def parse_purl(text: str) -> PackageURL | None:
    """``pkg:type/namespace/name@version?qualifiers#subpath`` as the package-url library reads
    it (names normalised as the type's rules say); None for what is not a package URL."""
    if not text.startswith("pkg:"):
        return None
    try:
        return PackageURL.from_string(text)
    except ValueError:
        return None


@dataclass(frozen=True)
class PackageRef:
    """What the database is asked about: base ecosystem, normalised name, version.

    Distribution packages also carry the other name their advisories may use (an RPM's
    binary name besides its source name) and the release they belong to (None: unknown).
    """

    ecosystem: str
    name: str
    version: str | None
    display_name: str
    also: tuple[str, ...] = ()
    release: Release | None = None

    @property
    def names(self) -> tuple[str, ...]:
        return (self.name, *self.also)

    @property
    def distribution(self) -> bool:
        return self.ecosystem in DISTRO_FAMILIES


def _qualifier(purl: PackageURL, key: str) -> str:
    qualifiers = purl.qualifiers
    value = qualifiers.get(key) if isinstance(qualifiers, dict) else None
    return value or ""


def source_rpm_name(text: str) -> tuple[str, str] | None:
    """``openssl-3.0.7-25.el9_3.src.rpm`` -> (``openssl``, ``3.0.7-25.el9_3``)."""
    match = _SOURCE_RPM.match(text.strip())
    if match is None:
        return None
    return match.group("name"), f"{match.group('version')}-{match.group('release')}"


def _from_purl(purl: PackageURL) -> PackageRef | None:
    ecosystem = ecosystem_for_purl(purl)
    if ecosystem is None:
        return None
    name = purl.name
    if purl.type == "npm" and purl.namespace:
        name = f"{purl.namespace}/{purl.name}"
    elif purl.type == "maven" and purl.namespace:
        name = f"{purl.namespace}:{purl.name}"
    elif purl.type in ("golang", "composer") and purl.namespace:
        name = f"{purl.namespace}/{purl.name}"
    version = purl.version
    epoch = _qualifier(purl, "epoch")
    if version and epoch and epoch != "0" and ":" not in version:
        version = f"{epoch}:{version}"
    if purl.type in _DISTRO_ECOSYSTEMS:
        return _distribution_ref(purl, ecosystem, version)
    return PackageRef(ecosystem, normalize_name(ecosystem, name), version, name)


def _distribution_ref(purl: PackageURL, ecosystem: str, version: str | None) -> PackageRef:
    """Distribution advisories name source packages: Debian's and Ubuntu's source package
    (``upstream=openssl@3.0.11-1~deb12u2``, at the source version), Alpine's origin, and
    for RPM the source RPM's name (``upstream=openssl-3.0.7-25.el9_3.src.rpm``) as well as
    the binary one, since Red Hat, Rocky and AlmaLinux records name either."""
    binary = purl.name
    source = (_qualifier(purl, "upstream") or _qualifier(purl, "source")).strip()
    name, also = binary, ()  # type: tuple[str, tuple[str, ...]]
    if purl.type == "rpm":
        parsed = source_rpm_name(source) if source else None
        if parsed is not None and parsed[0] != binary:
            name, also = parsed[0], (normalize_name(ecosystem, binary),)
    elif source:
        source_name, _, source_version = source.partition("@")
        name = source_name.strip() or binary
        version = source_version.strip() or version
    qualifier = _qualifier(purl, "distro")
    found = release_from_qualifier(ecosystem, qualifier) if qualifier else None
    release = Release(found, "purl", f"distro={qualifier}") if found else None
    if release is None and version:
        release = release_from_version(ecosystem, version)
    return PackageRef(ecosystem, normalize_name(ecosystem, name), version, name, also, release)


def purl_ref(text: str) -> PackageRef | None:
    """What the database is asked about for a package URL (``pkg:pypi/x``), if anything."""
    parsed = parse_purl(text)
    return _from_purl(parsed) if parsed is not None else None


def ecosystem_for_purl(purl: PackageURL) -> str | None:
    """The OSV ecosystem a package URL belongs to, if the database knows one."""
    if purl.type in _DISTRO_ECOSYSTEMS:
        return _DISTRO_ECOSYSTEMS[purl.type].get((purl.namespace or "").lower())
    return PURL_ECOSYSTEMS.get(purl.type)


def package_ref(component: Component) -> PackageRef | None:
    ref = purl_ref(component.purl) if component.purl else None
    if ref is not None:
        if ref.version is None and component.version:
            ref = replace(ref, version=component.version)
        # The release the cataloger read from the image beats any other hint.
        if (
            ref.distribution
            and ":" in component.ecosystem
            and base_ecosystem(component.ecosystem) == ref.ecosystem
        ):
            ref = replace(ref, release=Release(component.ecosystem, "image"))
        return ref
    ecosystem = _ECOSYSTEM_BY_LOWER.get(base_ecosystem(component.ecosystem).lower())
    if ecosystem is None or not component.name:
        return None
    return PackageRef(
        ecosystem, normalize_name(ecosystem, component.name), component.version, component.name
    )

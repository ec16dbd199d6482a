"""Package URLs → the (OSV ecosystem, package name, version) a database lookup needs."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import unquote

from finalexam.model import Component
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


@dataclass(frozen=True)
class PackageURL:
    type: str
    namespace: str | None
    name: str
    version: str | None
    qualifiers: dict[str, str] = field(default_factory=dict)


def parse_purl(text: str) -> PackageURL | None:
    """A lenient reader of ``pkg:type/namespace/name@version?qualifiers#subpath``."""
    if not text.startswith("pkg:"):
        return None
    rest = text[4:].lstrip("/").split("#", 1)[0]
    rest, _, query = rest.partition("?")
    qualifiers = {}
    for pair in query.split("&") if query else []:
        key, _, value = pair.partition("=")
        qualifiers[key.lower()] = unquote(value)
    ptype, _, path = rest.partition("/")
    if not path:
        return None
    version: str | None = None
    if "@" in path.rsplit("/", 1)[-1]:
        path, _, raw_version = path.rpartition("@")
        version = unquote(raw_version) or None
    segments = [unquote(s) for s in path.split("/") if s]
    if not segments:
        return None
    namespace = "/".join(segments[:-1]) or None
    return PackageURL(ptype.lower(), namespace, segments[-1], version, qualifiers)


@dataclass(frozen=True)
class PackageRef:
    """What the database is asked about: base ecosystem, normalised name, version."""

    ecosystem: str
    name: str
    version: str | None
    display_name: str


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
    elif purl.type in _DISTRO_ECOSYSTEMS:
        # Distribution advisories name source packages.
        source = purl.qualifiers.get("upstream") or purl.qualifiers.get("source")
        if source:
            name = source.split("@", 1)[0].strip() or name
    version = purl.version
    epoch = purl.qualifiers.get("epoch")
    if version and epoch and epoch != "0" and ":" not in version:
        version = f"{epoch}:{version}"
    return PackageRef(ecosystem, normalize_name(ecosystem, name), version, name)


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
            ref = PackageRef(ref.ecosystem, ref.name, component.version, ref.display_name)
        return ref
    ecosystem = _ECOSYSTEM_BY_LOWER.get(base_ecosystem(component.ecosystem).lower())
    if ecosystem is None or not component.name:
        return None
    return PackageRef(
        ecosystem, normalize_name(ecosystem, component.name), component.version, component.name
    )

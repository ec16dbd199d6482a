"""Version schemes, one module each, registered here by OSV ecosystem in one mapping."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from finalexam.vuln.versions.apk import ApkScheme
from finalexam.vuln.versions.base import InvalidVersion, VersionScheme, compare
from finalexam.vuln.versions.dpkg import DpkgScheme
from finalexam.vuln.versions.golang import GoScheme
from finalexam.vuln.versions.maven import MavenScheme
from finalexam.vuln.versions.nuget import NugetScheme
from finalexam.vuln.versions.pypi import Pep440Scheme
from finalexam.vuln.versions.pypi import normalize_name as pep503_name
from finalexam.vuln.versions.rpm import RpmScheme
from finalexam.vuln.versions.rubygems import RubyGemsScheme
from finalexam.vuln.versions.semver import SemverScheme


def _exact(name: str) -> str:
    return name.strip()


def _lower(name: str) -> str:
    return name.strip().lower()


def _crate(name: str) -> str:
    # crates.io treats '-' and '_' as the same name, case-insensitively.
    return name.strip().lower().replace("_", "-")


@dataclass(frozen=True)
class Ecosystem:
    """How one OSV ecosystem orders versions and spells package names."""

    scheme: VersionScheme
    normalize_name: Callable[[str], str] = _exact


SEMVER = SemverScheme()
_RPM = Ecosystem(RpmScheme())
_APK = Ecosystem(ApkScheme())
_DPKG = Ecosystem(DpkgScheme())

ECOSYSTEMS: dict[str, Ecosystem] = {
    "PyPI": Ecosystem(Pep440Scheme(), pep503_name),
    "npm": Ecosystem(SEMVER),
    "crates.io": Ecosystem(SEMVER, _crate),
    "Go": Ecosystem(GoScheme()),
    "Maven": Ecosystem(MavenScheme()),
    "NuGet": Ecosystem(NugetScheme(), _lower),
    "RubyGems": Ecosystem(RubyGemsScheme()),
    "Packagist": Ecosystem(SEMVER, _lower),
    "Hex": Ecosystem(SEMVER),
    "Pub": Ecosystem(SEMVER),
    "Debian": _DPKG,
    "Ubuntu": _DPKG,
    "Red Hat": _RPM,
    "AlmaLinux": _RPM,
    "Rocky Linux": _RPM,
    "openSUSE": _RPM,
    "SUSE": _RPM,
    "Mageia": _RPM,
    "Alpine": _APK,
    "Wolfi": _APK,
    "Chainguard": _APK,
}

# Ecosystems whose whole export is fetched by ``finalexam db update`` without --source.
DEFAULT_ECOSYSTEMS: tuple[str, ...] = (
    "PyPI",
    "npm",
    "Maven",
    "Go",
    "crates.io",
    "NuGet",
    "RubyGems",
    "Packagist",
    "Hex",
    "Pub",
    "Debian",
    "Ubuntu",
    "Alpine",
    "Red Hat",
    "Rocky Linux",
    "AlmaLinux",
    "openSUSE",
    "SUSE",
    "Mageia",
    "Wolfi",
    "Chainguard",
)


@lru_cache(maxsize=1024)
def base_ecosystem(ecosystem: str) -> str:
    """``Debian:11`` → ``Debian``; ``Alpine:v3.18`` → ``Alpine``."""
    return ecosystem.split(":", 1)[0].strip()


def ecosystem_rule(ecosystem: str) -> Ecosystem | None:
    return ECOSYSTEMS.get(base_ecosystem(ecosystem))


def normalize_name(ecosystem: str, name: str) -> str:
    rule = ecosystem_rule(ecosystem)
    return rule.normalize_name(name) if rule else name.strip()


__all__ = [
    "DEFAULT_ECOSYSTEMS",
    "ECOSYSTEMS",
    "SEMVER",
    "Ecosystem",
    "InvalidVersion",
    "VersionScheme",
    "base_ecosystem",
    "compare",
    "ecosystem_rule",
    "normalize_name",
]

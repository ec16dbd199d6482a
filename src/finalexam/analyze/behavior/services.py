"""An OS package doing what it is for: managing the service named after itself, or, for a
web browser, reading browser profiles.

firewalld's ``firewall-offline-cmd --enabled`` / ``--disabled`` runs ``systemctl enable
firewalld.service`` and ``systemctl disable firewalld.service``: the firewall's own tool
turning the firewall on and off, for the administrator who asks. A Debian or RPM package
installs its unit in plain view of the package manager, so starting, stopping, enabling or
disabling the service named as the package is the package running its own daemon, not
persistence or a security tool switched off. Another service, or the same commands in a
registry package (a PyPI or npm package has no business with services), still count.

Firefox ESR's migrators import Chrome's and other browsers' logins and cookies, and its backup
module copies the profile's key4.db and logins.json: a browser's own work on the user's
profiles. In an OS package named as a browser, those findings stay in the report at low
severity; in any other package, or for any other rule, they count as they are.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Sequence
from dataclasses import replace

from finalexam.analyze.behavior.engine import Hit
from finalexam.model import Finding, FindingKind, Location, Severity

_SERVICE_RULES = frozenset({"thr-persistence", "thr-disable-security"})
_UNIT_COMMAND = re.compile(
    r"\bsystemctl\s+(?:--[\w-]+\s+)*(?:enable|disable|start|stop|restart|reload|mask|unmask)"
    r"\s+(?:--[\w-]+\s+)*([\w@.-]+)"
    r"|\bservice\s+([\w@.-]+)\s+(?:start|stop|restart|reload)\b"
)


def os_package_name(location: Location) -> str | None:
    """The name of the Debian or RPM package a file came out of, from its file name."""
    for step in location.chain:
        base = posixpath.basename(step)
        if base.endswith(".deb") and "_" in base:
            return base.split("_", 1)[0]
        if base.endswith(".rpm") and not base.endswith(".src.rpm"):
            parts = base[: -len(".rpm")].rsplit(".", 1)[0].rsplit("-", 2)
            if len(parts) == 3:
                return parts[0]
    return None


def without_own_service(location: Location, hits: Sequence[Hit]) -> list[Hit]:
    """The hits, less those of an OS package acting on its own service only."""
    package = os_package_name(location)
    if package is None:
        return list(hits)
    return [hit for hit in hits if not _own_service_only(hit, package)]


def _own_service_only(hit: Hit, package: str) -> bool:
    if hit.rule.id not in _SERVICE_RULES:
        return False
    units = [a or b for a, b in _UNIT_COMMAND.findall(hit.snippet)]
    return bool(units) and all(u.removesuffix(".service") == package for u in units)


# Debian and RPM packages of web browsers (and of the mail client built on one)
_BROWSER_PACKAGES = frozenset(
    {
        "firefox", "firefox-esr", "thunderbird", "seamonkey", "librewolf", "chromium",
        "chromium-browser", "google-chrome-stable", "microsoft-edge-stable", "brave-browser",
        "vivaldi-stable", "opera-stable", "epiphany-browser", "falkon", "qutebrowser",
        "konqueror", "midori",
    }
)  # fmt: skip
_BROWSERS_OWN_RULES = frozenset({"thr-browser-data"})


def as_browsers_own(findings: list[Finding]) -> list[Finding]:
    """The findings, with a browser package's reads of browser profiles at low severity."""
    return [_as_browsers_own(finding) for finding in findings]


def _as_browsers_own(finding: Finding) -> Finding:
    if (
        finding.rule_id not in _BROWSERS_OWN_RULES
        or finding.severity.rank <= Severity.LOW.rank
        or finding.location is None
        or (os_package_name(finding.location) or "") not in _BROWSER_PACKAGES
    ):
        return finding
    return replace(
        finding,
        kind=FindingKind.BEHAVIOR,
        severity=Severity.LOW,
        message=finding.message + " (a web browser's own profile code)",
    )

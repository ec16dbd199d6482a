"""Go modules: semver with a ``v`` prefix, ``+incompatible`` and pseudo-versions.

Pseudo-versions (``v0.0.0-20220101120000-abcdef123456``) are semver pre-releases, so semver
precedence orders them correctly. Toolchain versions (``go1.21.3``, ``go1.22rc1``) are read
as the ``stdlib`` versions OSV uses (``1.21.3``, ``1.22.0-rc.1``).
"""

from __future__ import annotations

import re

from finalexam.vuln.versions.base import InvalidVersion
from finalexam.vuln.versions.semver import SemverKey, semver_key

_TOOLCHAIN = re.compile(r"^go(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:(rc|beta)(\d+))?$")


def canonical(version: str) -> str:
    match = _TOOLCHAIN.match(version.strip())
    if match:
        major, minor, patch, stage, number = match.groups()
        core = f"{major}.{minor or 0}.{patch or 0}"
        return f"{core}-{stage}.{number}" if stage else core
    return version.strip().removesuffix("+incompatible")


class GoScheme:
    name = "go"

    def key(self, version: str) -> SemverKey:
        text = canonical(version)
        if not text:
            raise InvalidVersion("empty Go version")
        return semver_key(text)

"""Semantic Versioning 2.0.0 precedence (npm, crates.io, OSV ``SEMVER`` ranges).

Lenient where real data is: a leading ``v`` or ``=`` is ignored and missing minor/patch parts
count as 0 (``1.2`` is ``1.2.0``). Build metadata never affects precedence.
"""

from __future__ import annotations

import re
from functools import lru_cache

from finalexam.vuln.versions.base import InvalidVersion

_SEMVER = re.compile(
    r"^\s*[v=]?\s*(\d+)(?:\.(\d+))?(?:\.(\d+))?"
    r"(?:-([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?"
    r"(?:\+([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?\s*$"
)

# A release sorts after every pre-release of the same core version.
_RELEASE: tuple[tuple[int, int, str], ...] = ((2, 0, ""),)

SemverKey = tuple[int, int, int, tuple[tuple[int, int, str], ...]]


def _identifier(part: str) -> tuple[int, int, str]:
    # Numeric identifiers sort numerically and before alphanumeric ones.
    if part.isdigit():
        return (0, int(part), "")
    return (1, 0, part)


@lru_cache(maxsize=65536)
def semver_key(version: str) -> SemverKey:
    match = _SEMVER.match(version)
    if match is None:
        raise InvalidVersion(f"not a semantic version: {version!r}")
    major, minor, patch, pre, _build = match.groups()
    # Tuples already order a shorter pre-release first when the shared identifiers are equal.
    pre_key = _RELEASE if pre is None else tuple(_identifier(p) for p in pre.split("."))
    return (int(major), int(minor or 0), int(patch or 0), pre_key)


class SemverScheme:
    name = "semver"

    def key(self, version: str) -> SemverKey:
        return semver_key(version)

"""NuGet: up to four numeric parts, SemVer 2 pre-releases compared case-insensitively."""

from __future__ import annotations

import re
from functools import lru_cache

from finalexam.vuln.versions.base import InvalidVersion

_NUGET = re.compile(
    r"^\s*[vV]?(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:\.(\d+))?"
    r"(?:-([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?(?:\+[0-9A-Za-z.-]*)?\s*$"
)

NugetKey = tuple[tuple[int, int, int, int], tuple[tuple[int, int, str], ...]]


@lru_cache(maxsize=65536)
def nuget_key(version: str) -> NugetKey:
    match = _NUGET.match(version)
    if match is None:
        raise InvalidVersion(f"not a NuGet version: {version!r}")
    numbers = tuple(int(part or 0) for part in match.groups()[:4])
    pre = match.group(5)
    if pre is None:
        pre_key: tuple[tuple[int, int, str], ...] = ((2, 0, ""),)
    else:
        pre_key = tuple(
            (0, int(p), "") if p.isdigit() else (1, 0, p.lower()) for p in pre.split(".")
        )
    return (numbers[0], numbers[1], numbers[2], numbers[3]), pre_key


class NugetScheme:
    name = "nuget"

    def key(self, version: str) -> NugetKey:
        return nuget_key(version)

"""RubyGems: ``Gem::Version#<=>``.

Segments are runs of digits or letters; a version with letters is a pre-release, and a
letter segment sorts before any number. Trailing zeros do not count (``1.0`` == ``1``).
"""

from __future__ import annotations

import functools
import re
from typing import Any

from finalexam.vuln.versions.base import InvalidVersion

_VALID = re.compile(r"^\s*[0-9]+(?:\.[0-9a-zA-Z]+)*(?:-[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?\s*$")
_SEGMENT = re.compile(r"[0-9]+|[a-z]+", re.IGNORECASE)

Segment = int | str


def _drop_trailing_zeros(segments: list[Segment]) -> list[Segment]:
    while segments and segments[-1] == 0:
        segments.pop()
    return segments


@functools.lru_cache(maxsize=65536)
def canonical_segments(version: str) -> tuple[Segment, ...]:
    if not _VALID.match(version):
        raise InvalidVersion(f"not a RubyGems version: {version!r}")
    text = version.strip().replace("-", ".pre.")
    segments: list[Segment] = [int(s) if s.isdigit() else s for s in _SEGMENT.findall(text)]
    first_string = next((i for i, s in enumerate(segments) if isinstance(s, str)), len(segments))
    numeric = _drop_trailing_zeros(segments[:first_string])
    rest = _drop_trailing_zeros(segments[first_string:])
    return (*numeric, *rest)


def gem_compare(left: str, right: str) -> int:
    lhs, rhs = canonical_segments(left), canonical_segments(right)
    for index in range(max(len(lhs), len(rhs))):
        a: Segment = lhs[index] if index < len(lhs) else 0
        b: Segment = rhs[index] if index < len(rhs) else 0
        if a == b:
            continue
        if isinstance(a, str) and isinstance(b, int):
            return -1
        if isinstance(a, int) and isinstance(b, str):
            return 1
        return (a > b) - (a < b)  # type: ignore[operator]
    return 0


_KEY = functools.cmp_to_key(gem_compare)


class RubyGemsScheme:
    name = "rubygems"

    def key(self, version: str) -> Any:
        canonical_segments(version)  # validate eagerly
        return _KEY(version)

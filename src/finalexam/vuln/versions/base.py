"""Version scheme protocol: one ordering per ecosystem, exposed as a sort key."""

from __future__ import annotations

from typing import Any, Protocol


class InvalidVersion(ValueError):
    """The text is not a version of this scheme (such a version only matches listed versions)."""


class VersionScheme(Protocol):
    name: str

    def key(self, version: str) -> Any:
        """A value whose ordering is the scheme's version ordering; raises InvalidVersion."""
        ...


def compare(scheme: VersionScheme, left: str, right: str) -> int:
    a, b = scheme.key(left), scheme.key(right)
    return int(a > b) - int(a < b)

"""Version comparison: PEP 440 through ``packaging`` for PyPI, a natural order elsewhere."""

from __future__ import annotations

import re

from packaging.version import InvalidVersion, Version

_PART = re.compile(r"\d+|[A-Za-z]+")


def _generic_key(version: str) -> tuple[tuple[int, int | str], ...]:
    core, _, pre = version.lstrip("vV").partition("-")
    parts: list[tuple[int, int | str]] = [
        (1, int(p)) if p.isdigit() else (0, p.lower()) for p in _PART.findall(core)
    ]
    # A pre-release sorts before its release (semver): 1.0.0-rc1 < 1.0.0.
    parts.append((0, pre.lower()) if pre else (2, ""))
    return tuple(parts)


def compare(old: str, new: str, ecosystem: str) -> int:
    """-1 when new is older, 0 when equal, 1 when newer."""
    if old == new:
        return 0
    if ecosystem.lower() == "pypi":
        try:
            a, b = Version(old), Version(new)
            return (a < b) - (a > b)
        except InvalidVersion:
            pass
    ka, kb = _generic_key(old), _generic_key(new)
    try:
        return (ka < kb) - (ka > kb)
    except TypeError:
        return 1 if new > old else -1


def release_parts(version: str) -> tuple[int, ...]:
    try:
        return Version(version).release
    except InvalidVersion:
        return tuple(int(p) for p in re.findall(r"\d+", version.split("-", 1)[0])[:3])


def bump(old: str | None, new: str | None) -> str:
    """none (same), patch, minor, major, downgrade or unknown."""
    if not old or not new:
        return "unknown"
    if old == new:
        return "none"
    a, b = release_parts(old), release_parts(new)
    if not a or not b:
        return "unknown"
    a = a + (0,) * (3 - len(a))
    b = b + (0,) * (3 - len(b))
    if b < a:
        return "downgrade"
    if b[0] != a[0]:
        return "major"
    if b[1] != a[1]:
        return "minor"
    return "patch"

"""OSV ``affected`` evaluation: is this version inside these ranges or listed versions?

Follows the OSV schema's evaluation: ``ECOSYSTEM`` and ``SEMVER`` ranges, events sorted by
version (``introduced: "0"`` first), ``fixed``/``limit`` exclusive, ``last_affected``
inclusive. ``GIT`` ranges (commit hashes) cannot be evaluated against a version and are
skipped without stopping the other ranges. An entry with neither ranges nor versions affects
every version (OSV: "all versions"), which is how most MAL- records are written.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from finalexam.vuln.versions import SEMVER, InvalidVersion, VersionScheme, ecosystem_rule

_EVENT_ORDER = {"introduced": 0, "fixed": 1, "last_affected": 1, "limit": 1}
_EVALUATED = ("ECOSYSTEM", "SEMVER")


@dataclass(frozen=True)
class RangeMatch:
    """Why a version is affected: which range (or list) of which affected entry matched."""

    how: str  # "range", "versions" or "all-versions"
    description: str
    range_type: str | None = None
    events: tuple[tuple[str, str], ...] = ()

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"how": self.how, "description": self.description}
        if self.range_type:
            out["type"] = self.range_type
            out["events"] = [{kind: value} for kind, value in self.events]
        return out


def _scheme_for(range_type: str, ecosystem: str) -> VersionScheme | None:
    rule = ecosystem_rule(ecosystem)
    if range_type == "SEMVER":
        # Go's scheme is semver plus its own spellings (v prefix, go1.x toolchains).
        return rule.scheme if rule and rule.scheme.name == "go" else SEMVER
    return rule.scheme if rule else None


def _events(raw: Any) -> list[tuple[str, str]]:
    events: list[tuple[str, str]] = []
    for event in raw if isinstance(raw, list) else []:
        if not isinstance(event, dict):
            continue
        for kind in _EVENT_ORDER:
            value = event.get(kind)
            if isinstance(value, str):
                events.append((kind, value))
    return events


def in_range(version_key: Any, scheme: VersionScheme, events: Sequence[tuple[str, str]]) -> bool:
    keyed: list[tuple[int, Any, int, str]] = []
    for kind, value in events:
        if kind == "introduced" and value == "0":
            keyed.append((0, None, 0, kind))
            continue
        try:
            keyed.append((1, scheme.key(value), _EVENT_ORDER[kind], kind))
        except InvalidVersion:
            continue  # an unreadable bound is ignored, as OSV tools do
    keyed.sort(key=lambda item: (item[0], item[1] if item[0] else 0, item[2]))
    affected = False
    for is_versioned, bound, _, kind in keyed:
        if kind == "introduced":
            if not is_versioned or version_key >= bound:
                affected = True
        elif kind in ("fixed", "limit"):
            if is_versioned and version_key >= bound:
                affected = False
        elif kind == "last_affected" and is_versioned and version_key > bound:
            affected = False
    return affected


def _describe(range_type: str, events: Sequence[tuple[str, str]]) -> str:
    return f"{range_type} " + ", ".join(f"{kind} {value}" for kind, value in events)


def match_affected(
    affected: Mapping[str, Any], ecosystem: str, version: str | None
) -> RangeMatch | None:
    """The first reason ``version`` is affected by this entry, or None."""
    ranges = affected.get("ranges") or []
    versions = affected.get("versions") or []
    evaluable = [r for r in ranges if isinstance(r, dict) and r.get("type") in _EVALUATED]
    if not evaluable and not versions and not any(isinstance(r, dict) for r in ranges):
        return RangeMatch("all-versions", "every version (no ranges or versions listed)")
    if version is None:
        # Without a version only "every version" ranges can be decided (MAL- records).
        for entry in evaluable:
            events = _events(entry.get("events"))
            if events and all(kind == "introduced" and value == "0" for kind, value in events):
                range_type = str(entry["type"])
                return RangeMatch("range", _describe(range_type, events), range_type, tuple(events))
        return None
    for entry in evaluable:
        range_type = str(entry["type"])
        scheme = _scheme_for(range_type, ecosystem)
        events = _events(entry.get("events"))
        if scheme is None or not events:
            continue
        try:
            key = scheme.key(version)
        except InvalidVersion:
            continue
        if in_range(key, scheme, events):
            return RangeMatch("range", _describe(range_type, events), range_type, tuple(events))
    if isinstance(versions, list) and versions:
        if version in versions:
            return RangeMatch("versions", f"version {version} is listed as affected")
        rule = ecosystem_rule(ecosystem)
        if rule is not None:
            try:
                key = rule.scheme.key(version)
            except InvalidVersion:
                return None
            for listed in versions:
                try:
                    if isinstance(listed, str) and rule.scheme.key(listed) == key:
                        return RangeMatch("versions", f"version {listed} is listed as affected")
                except InvalidVersion:
                    continue
    return None


def fixed_versions(affected: Mapping[str, Any]) -> list[str]:
    fixed: list[str] = []
    for entry in affected.get("ranges") or []:
        if isinstance(entry, dict) and entry.get("type") in _EVALUATED:
            fixed.extend(value for kind, value in _events(entry.get("events")) if kind == "fixed")
    return fixed

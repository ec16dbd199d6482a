"""What a release diff says: a ranked list of changes and one overall risk."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from finalexam.model import Artifact, Severity, short_hash

DIFF_SCHEMA_VERSION = "1.0"
DIFF_SCHEMA_ID = "https://finalexam.dev/schema/diff-1.0.json"

# Risk names the overall verdict of a diff: no change at all, or only informational ones, is
# "none"; otherwise the highest severity among the changes. Flagged means medium or above.
RISKS = ("none", "low", "medium", "high", "critical")


@dataclass(frozen=True)
class Change:
    """One difference between two releases, with what shows it."""

    kind: str  # e.g. install-hook-added, endpoint-added, file-modified (see docs/diff.md)
    severity: Severity
    title: str
    location: str | None = None  # location inside the release, without the artifact name
    evidence: Mapping[str, Any] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return short_hash("change", self.kind, self.location or "", self.title)

    def sort_key(self) -> tuple[int, str, str, str]:
        return (-self.severity.rank, self.kind, self.location or "", self.title)


def risk_of(changes: tuple[Change, ...] | list[Change]) -> str:
    top = max((c.severity.rank for c in changes), default=0)
    return RISKS[top] if top > 0 else "none"


def risk_rank(risk: str) -> int:
    return RISKS.index(risk)


@dataclass(frozen=True)
class ReleaseDiff:
    old: Artifact
    new: Artifact
    old_version: str | None
    new_version: str | None
    changes: tuple[Change, ...]
    stats: Mapping[str, int] = field(default_factory=dict)
    notes: tuple[str, ...] = ()  # limits of this diff (e.g. no file inventory in a report)
    tool_version: str = ""
    complete: bool = True  # both exams complete (no unaccepted gap, see IssueKind)

    @property
    def risk(self) -> str:
        return risk_of(self.changes)

    @property
    def flagged(self) -> bool:
        return risk_rank(self.risk) >= risk_rank("medium")

    @property
    def headline(self) -> str:
        """What people read first. A partial diff never says "risk none": what was not
        examined may hold the change that matters (a starved binary exam sees no gain)."""
        if self.flagged:
            return f"RISK {self.risk.upper()} (flagged)"
        if not self.complete:
            return f"INCOMPLETE (risk {self.risk} in what was compared; not everything was)"
        return f"RISK {self.risk.upper()}"

    def at_least(self, severity: Severity) -> tuple[Change, ...]:
        return tuple(c for c in self.changes if c.severity.rank >= severity.rank)

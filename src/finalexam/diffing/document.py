"""The versioned diff document (schema: report/schema/diff.schema.json)."""

from __future__ import annotations

from collections import Counter
from typing import Any

from finalexam.diffing.engine import summary
from finalexam.diffing.model import DIFF_SCHEMA_VERSION, Change, ReleaseDiff
from finalexam.model import Artifact
from finalexam.report.document import _plain


def _artifact(artifact: Artifact, version: str | None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "name": artifact.name,
        "path": artifact.path,
        "sha256": artifact.sha256,
        "size": artifact.size,
        "kind": artifact.kind,
    }
    if version:
        out["version"] = version
    return out


def change_dict(change: Change) -> dict[str, Any]:
    return {
        "id": change.id,
        "kind": change.kind,
        "severity": change.severity.value,
        "title": change.title,
        "location": change.location,
        "evidence": _plain(dict(change.evidence)),
    }


def _counts(diff: ReleaseDiff) -> dict[str, Any]:
    severities = Counter(c.severity.value for c in diff.changes)
    kinds = Counter(c.kind for c in diff.changes)
    return {
        "changes": len(diff.changes),
        "by_severity": dict(sorted(severities.items())),
        "by_kind": dict(sorted(kinds.items())),
        "files": dict(sorted(diff.stats.items())),
    }


def diff_document(diff: ReleaseDiff, timestamp: str | None = None) -> dict[str, Any]:
    document: dict[str, Any] = {
        "schema": DIFF_SCHEMA_VERSION,
        "type": "finalexam-diff",
        "tool": {"name": "finalexam", "version": diff.tool_version},
        "old": _artifact(diff.old, diff.old_version),
        "new": _artifact(diff.new, diff.new_version),
        "risk": diff.risk,
        "flagged": diff.flagged,
        "complete": diff.complete,
        "summary": _counts(diff),
        "review": [dict(item) for item in summary(diff)],
        "changes": [change_dict(c) for c in diff.changes],
        "notes": list(diff.notes),
    }
    if timestamp is not None:
        document["timestamp"] = timestamp
    return document


def diff_summary(diff: ReleaseDiff) -> dict[str, Any]:
    """The short form kept in a scan report under ``baseline_diff``."""
    return {
        "baseline": _artifact(diff.old, diff.old_version),
        "version": diff.new_version,
        "risk": diff.risk,
        "flagged": diff.flagged,
        "summary": _counts(diff),
        "review": [dict(item) for item in summary(diff)],
        "notes": list(diff.notes),
    }

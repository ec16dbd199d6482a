"""The binary analyzer's findings on a real file, as the exam reports them per binary."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from finalexam.analyze.base import Analysis
from finalexam.analyze.binary import analyzer, capabilities
from finalexam.analyze.binary.facts.parse import examine
from finalexam.model import Finding, FindingKind, Location, Severity


def analysis_of(path: Path, name: str | None = None) -> Analysis:
    """The binary analyzer's answer; ``name`` stands for the file name (its kind)."""
    data = path.read_bytes()
    location = Location((name or path.name,))
    facts = examine(data)
    unpacked = analyzer.unpack(data, facts, 60)
    return analyzer.describe(facts, data, location, capabilities.load_rules(), unpacked)


def findings_of(path: Path, name: str | None = None) -> list[Finding]:
    return analysis_of(path, name).findings


def capabilities_of(path: Path, name: str | None = None) -> dict[str, Mapping[str, Any]]:
    """The ``capabilities`` of the binary's report entry (info ones included), by id."""
    (entry,) = analysis_of(path, name).binaries
    return {capability["id"]: capability for capability in entry["capabilities"]}


def behaviours(findings: list[Finding]) -> dict[str, Finding]:
    """The findings that fail a release: behaviours of severity high or critical, by rule."""
    return {
        f.rule_id: f
        for f in findings
        if f.kind is FindingKind.BEHAVIOR and f.severity.rank >= Severity.HIGH.rank
    }


def finding(findings: list[Finding], rule_id: str) -> Finding:
    return next(f for f in findings if f.rule_id == rule_id)


def raised_by(findings: list[Finding], behaviour: str) -> list[str]:
    """The capabilities that raised the behaviour ``behaviour`` (which must have failed)."""
    details = behaviours(findings)[f"capability.{behaviour}"].evidence.details
    return list(details["capabilities"])

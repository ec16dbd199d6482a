"""YARA over every file of the artifact (nested ones included): the bundled rules plus any
directory given with ``--yara-rules DIR`` (repeatable; ``yara_rules`` in the config file).

A rule that does not compile is a usage error raised when the analyzer is created, before any
file is read. Rule ``meta`` may set ``severity`` (default medium) and ``kind`` (default
behavior) of the findings.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import yara

from finalexam.analyze.base import Analysis, ExamState
from finalexam.config import Config
from finalexam.matching.yara import compile_rules, rule_files
from finalexam.model import (
    Confidence,
    Evidence,
    FileContext,
    FileEntry,
    FileType,
    Finding,
    FindingKind,
    Issue,
    IssueKind,
    Severity,
)

NAME = "yara"
RULES_DIR = Path(__file__).resolve().parents[1] / "rules" / "yara"
MAX_SCAN_SIZE = 256 * 1024 * 1024
TIMEOUT_SECONDS = 60
_MAX_STRINGS = 20


class YaraAnalyzer:
    name = NAME
    version = "1.0"
    requires: tuple[str, ...] = ()
    wants = ("every non-empty file (archives only when self-extracting)",)

    def __init__(self, config: Config) -> None:
        self.rules = compile_rules(rule_files(RULES_DIR, config.yara_rules))

    def accepts(self, entry: FileEntry) -> bool:
        if entry.size == 0:
            return False
        if entry.file_type is FileType.ARCHIVE:
            # Members are scanned one by one; the container's own bytes would only repeat
            # their matches (an uncompressed tar holding a DLL "embeds" a PE). Self-extracting
            # executables are still scanned.
            return bytes(entry.data[:4]).startswith((b"MZ", b"\x7fELF"))
        return True

    def analyze(self, entry: FileEntry) -> Analysis:
        if entry.size > MAX_SCAN_SIZE:
            message = f"larger than {MAX_SCAN_SIZE} bytes: not scanned with YARA"
            return Analysis(
                issues=[Issue("analyze", entry.location, message, IssueKind.LIMIT, NAME)]
            )
        try:
            matches = self.rules.match(data=bytes(entry.data), timeout=TIMEOUT_SECONDS)
        except yara.TimeoutError:
            message = f"YARA scan timed out after {TIMEOUT_SECONDS} s"
            issue = Issue("analyze", entry.location, message, IssueKind.TIME_BUDGET, NAME)
            return Analysis(issues=[issue])
        except yara.Error as error:
            message = f"YARA: {error}: not scanned with YARA"
            return Analysis(
                issues=[Issue("analyze", entry.location, message, IssueKind.PLUGIN_FAILED, NAME)]
            )
        context = _context(entry)
        findings = [replace(self._finding(entry, match), context=context) for match in matches]
        return Analysis(findings=findings)

    def finish(self, state: ExamState) -> Analysis:
        return Analysis()

    def _finding(self, entry: FileEntry, match: Any) -> Finding:
        meta = {
            str(k): v for k, v in sorted(match.meta.items()) if not str(k).startswith("example_")
        }
        instances: list[dict[str, Any]] = []
        snippet = None
        for string in match.strings:
            for instance in string.instances:
                if len(instances) < _MAX_STRINGS:
                    instances.append(
                        {
                            "identifier": string.identifier,
                            "offset": instance.offset,
                            "length": instance.matched_length,
                        }
                    )
                if snippet is None:
                    snippet = _printable(bytes(instance.matched_data))
        instances.sort(key=lambda item: (item["offset"], item["identifier"]))
        bundled = match.namespace.startswith("bundled/")
        rule_id = f"yara.{match.rule}" if bundled else f"yara.{match.namespace}.{match.rule}"
        description = str(meta.get("description") or f"YARA rule {match.rule} matched")
        return Finding(
            kind=_kind(meta.get("kind")),
            rule_id=rule_id,
            severity=_severity(meta.get("severity")),
            title=description,
            message=f"YARA rule {match.rule} ({match.namespace}) matched: {description}",
            location=entry.location,
            found_by=NAME,
            confidence=Confidence.MEDIUM,
            evidence=Evidence(
                snippet=snippet,
                offset=instances[0]["offset"] if instances else None,
                details={
                    "rule": match.rule,
                    "namespace": match.namespace,
                    "tags": sorted(match.tags),
                    "meta": meta,
                    "strings": instances,
                },
            ),
            fingerprint_key=match.namespace,
        )


_PROSE_SUFFIXES = (".html", ".htm", ".ipynb")


def _context(entry: FileEntry) -> FileContext | None:
    """An install instruction in a manual is a lead, not a reason to stop the release; an
    executable counts wherever it sits (a dropped .exe is no manual). Other files: the
    exam decides from the location (finalexam.context)."""
    if bytes(entry.data[:4]).startswith((b"MZ", b"\x7fELF")):
        return FileContext.SHIPPED
    if entry.name.lower().endswith(_PROSE_SUFFIXES):
        return FileContext.DOCS
    return None


def _printable(data: bytes, limit: int = 80) -> str:
    text = "".join(chr(b) if 32 <= b < 127 else "." for b in data[:limit])
    return text + ("…" if len(data) > limit else "")


def _severity(value: object) -> Severity:
    try:
        return Severity.parse(str(value)) if value is not None else Severity.MEDIUM
    except ValueError:
        return Severity.MEDIUM


def _kind(value: object) -> FindingKind:
    try:
        return FindingKind(str(value)) if value is not None else FindingKind.BEHAVIOR
    except ValueError:
        return FindingKind.BEHAVIOR


def example_matches(rule_id: str, example: str | bytes) -> bool:
    """Whether bundled rule ``rule_id`` (rule name == file stem) matches ``example``."""
    rules = yara.compile(filepath=str(RULES_DIR / f"{rule_id}.yar"))
    data = example.encode("utf-8") if isinstance(example, str) else example
    return any(match.rule == rule_id for match in rules.match(data=data))

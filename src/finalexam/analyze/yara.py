"""YARA rules, run by YARA-X, over every file of the artifact (nested ones included).

The rules: the bundled ones, any directory given with ``--yara-rules DIR`` (repeatable;
``yara_rules`` in the config file) and the rule sets imported with ``finalexam rules update
--source``.

A bundled or user rule that does not compile is a usage error raised when the analyzer is
created, before any file is read. Rule ``meta`` may set ``severity`` (or a 0-100 ``score``, as
YARA Forge and THOR rules carry; default medium) and ``kind`` (default behavior) of the
findings. Each file gets ``TIMEOUT_SECONDS`` across every rule set. The report's
``yara_rules`` section names the engine and the identity of every imported set.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from finalexam.analyze.base import Analysis, ExamState
from finalexam.analyze.yara_lists import JsonStrings, explained, json_document
from finalexam.config import Config
from finalexam.matching.yara import (
    ENGINE,
    RuleMatch,
    RuleScanner,
    ScanError,
    ScanTimeout,
    compile_rules,
    rule_files,
)
from finalexam.matching.yara_store import RuleSetInfo, load_rule_sets
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
# As large as the binary analyzer reads: the largest native libraries of popular wheels
# (Triton's libtriton.so, NCCL, semgrep-core) are 300-500 MB, and YARA-X scans 500 MB with
# the bundled rules in about 1.3 CPU s; above it both report a gap.
MAX_SCAN_SIZE = 512 * 1024 * 1024
TIMEOUT_SECONDS = 60
REPORT_KEY = "yara_rules"
_MAX_STRINGS = 20


@dataclass(frozen=True)
class _RuleSet:
    scanner: RuleScanner
    imported: RuleSetInfo | None = None  # None: the bundled rules and the user's directories


class YaraAnalyzer:
    name = NAME
    version = "2.0"
    requires: tuple[str, ...] = ()
    wants = ("*",)  # every non-empty file (archives only when self-extracting)

    def __init__(self, config: Config) -> None:
        self.files = rule_files(RULES_DIR, config.yara_rules)
        self.sets = [_RuleSet(RuleScanner(compile_rules(self.files)))]
        if config.runs(NAME):  # a damaged store must not stop an exam that runs no YARA
            self.sets += [_RuleSet(RuleScanner(r), info) for info, r in load_rule_sets(config)]

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
        data = bytes(entry.data)
        externals = _externals(entry, data)
        deadline = time.monotonic() + TIMEOUT_SECONDS
        findings: list[Finding] = []
        document: JsonStrings | None = None
        read_as_json = False
        for rule_set in self.sets:
            try:
                left = max(1, round(deadline - time.monotonic()))
                matches = rule_set.scanner.scan(data, left, externals)
            except ScanTimeout:
                message = f"YARA scan timed out after {TIMEOUT_SECONDS} s"
                issue = Issue("analyze", entry.location, message, IssueKind.TIME_BUDGET, NAME)
                return Analysis(findings=findings, issues=[issue])
            except ScanError as error:
                message = f"YARA: {error}: not scanned with YARA"
                issue = Issue("analyze", entry.location, message, IssueKind.PLUGIN_FAILED, NAME)
                return Analysis(findings=findings, issues=[issue])
            if matches and not read_as_json:
                document, read_as_json = json_document(entry.name, data), True
            if document is not None:  # words of a list are no command (yara_lists.py)
                matches = [m for m in matches if not explained(document, m)]
            findings += [_finding(entry, data, match, rule_set.imported) for match in matches]
        context = _context(entry)
        return Analysis(findings=[replace(finding, context=context) for finding in findings])

    def finish(self, state: ExamState) -> Analysis:
        section: dict[str, Any] = {
            "engine": ENGINE,
            "bundled": sum(1 for _, path in self.files if path.parent == RULES_DIR),
            "user_files": sum(1 for _, path in self.files if path.parent != RULES_DIR),
            "rules": sum(1 for _ in self.sets[0].scanner.rules),
            "imported": [s.imported.identity() for s in self.sets if s.imported],
        }
        return Analysis(extra={REPORT_KEY: section})


def _finding(
    entry: FileEntry, data: bytes, match: RuleMatch, imported: RuleSetInfo | None
) -> Finding:
    meta = {
        key: _plain(value)
        for key, value in sorted(match.meta.items())
        if not key.startswith("example_")
    }
    instances = [
        {"identifier": s.identifier, "offset": s.offset, "length": s.length}
        for s in match.strings[:_MAX_STRINGS]
    ]
    first = match.strings[0] if match.strings else None
    snippet = _printable(data[first.offset : first.offset + first.length]) if first else None
    if imported:
        rule_id = f"yara.{imported.name}.{match.rule}"
    elif match.namespace.startswith("bundled/"):
        rule_id = f"yara.{match.rule}"
    else:
        rule_id = f"yara.{match.namespace}.{match.rule}"
    description = str(meta.get("description") or f"YARA rule {match.rule} matched")
    details: dict[str, Any] = {
        "rule": match.rule,
        "namespace": match.namespace,
        "tags": sorted(match.tags),
        "meta": meta,
        "strings": instances,
    }
    if imported:
        details["rule_set"] = {"name": imported.name, "sha256": imported.sha256}
    return Finding(
        kind=_kind(meta.get("kind")),
        rule_id=rule_id,
        severity=severity_of(meta),
        title=description,
        message=f"YARA rule {match.rule} ({match.namespace}) matched: {description}",
        location=entry.location,
        found_by=NAME,
        confidence=Confidence.MEDIUM,
        evidence=Evidence(
            snippet=snippet,
            offset=first.offset if first else None,
            details=details,
        ),
        fingerprint_key=f"{imported.name}/{match.namespace}" if imported else match.namespace,
    )


def _externals(entry: FileEntry, data: bytes) -> dict[str, str]:
    """The THOR-style external variables third-party rules test (see matching/yara.py)."""
    name = entry.name
    extension = name[name.rfind(".") :].lower() if "." in name.lstrip(".") else ""
    filetype = "EXE" if data[:2] == b"MZ" else "ELF" if data[:4] == b"\x7fELF" else ""
    return {"filename": name, "filepath": entry.path, "extension": extension, "filetype": filetype}


def _plain(value: object) -> object:
    """Meta values as JSON has them (a non-UTF-8 string arrives as bytes)."""
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return value


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


# A 0-100 ``score`` (YARA Forge, THOR, signature-base): the score bands of those tools' notice,
# warning and alert levels. Only high blocks under the default policy (docs/rules.md).
_SCORE_BANDS = ((80, Severity.HIGH), (60, Severity.MEDIUM), (40, Severity.LOW))


def severity_of(meta: dict[str, object]) -> Severity:
    """``severity`` when it names one, else the band of a numeric ``score``, else medium."""
    value = meta.get("severity")
    if isinstance(value, str):
        try:
            return Severity.parse(value)
        except ValueError:
            pass
    score = meta.get("score")
    if isinstance(score, str) and score.strip().isdigit():
        score = int(score)
    if isinstance(score, int) and not isinstance(score, bool):
        return next((s for floor, s in _SCORE_BANDS if score >= floor), Severity.INFO)
    return Severity.MEDIUM


def _kind(value: object) -> FindingKind:
    try:
        return FindingKind(str(value)) if value is not None else FindingKind.BEHAVIOR
    except ValueError:
        return FindingKind.BEHAVIOR


def example_matches(rule_id: str, example: str | bytes) -> bool:
    """Whether bundled rule ``rule_id`` (rule name == file stem) matches ``example``."""
    path = RULES_DIR / f"{rule_id}.yar"
    scanner = RuleScanner(compile_rules([(f"bundled/{rule_id}", path)]))
    data = example.encode("utf-8") if isinstance(example, str) else example
    return any(m.rule == rule_id for m in scanner.scan(data, TIMEOUT_SECONDS, {}))

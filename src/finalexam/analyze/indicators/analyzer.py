"""The indicators plug-in: every file's indicators into the report, and a finding for a
suspicious endpoint inside executable code (high at install time)."""

from __future__ import annotations

from dataclasses import dataclass

from finalexam.analyze.base import Analysis, ExamState
from finalexam.analyze.indicators import NAME
from finalexam.analyze.indicators.categories import (
    always_high,
    beyond_entry,
    classify,
    host_of,
    suspicious,
)
from finalexam.analyze.indicators.extract import Found, extract_chunked
from finalexam.config import Config
from finalexam.model import (
    Confidence,
    Evidence,
    FileEntry,
    FileType,
    Finding,
    FindingKind,
    Indicator,
    Severity,
)

_TEXT_TYPES = frozenset({FileType.SCRIPT, FileType.TEXT, FileType.JSON, FileType.XML})
_CODE_SUFFIXES = (
    ".py", ".pth", ".js", ".mjs", ".cjs", ".ts", ".sh", ".bash", ".ps1", ".psm1", ".bat",
    ".cmd", ".rb", ".pl", ".php", ".vbs", ".gyp",
)  # fmt: skip
_INSTALL_NAMES = frozenset({"setup.py", "extconf.rb", "binding.gyp", "install.rb"})
# What opens a whole-line comment, by suffix; a script without one is read as shell-like
_HASH = (b"#",)
_LINE_COMMENTS = {
    ".js": (b"//",), ".mjs": (b"//",), ".cjs": (b"//",), ".ts": (b"//",),
    ".php": (b"//", b"#"), ".bat": (b"rem ", b"REM ", b"::"), ".cmd": (b"rem ", b"REM ", b"::"),
    ".vbs": (b"'",),
}  # fmt: skip


@dataclass
class IndicatorAnalyzer:
    config: Config
    name: str = NAME
    version = "1.0"
    requires: tuple[str, ...] = ()
    wants = tuple(  # every file but archives, images, links and empty files
        t.value
        for t in FileType
        if t not in (FileType.ARCHIVE, FileType.IMAGE, FileType.SYMLINK, FileType.EMPTY)
    )

    def accepts(self, entry: FileEntry) -> bool:
        return entry.size > 0 and entry.file_type not in (
            FileType.ARCHIVE,
            FileType.IMAGE,
            FileType.SYMLINK,
            FileType.EMPTY,
        )

    def analyze(self, entry: FileEntry) -> Analysis:
        is_text = entry.file_type in _TEXT_TYPES
        found = extract_chunked(entry.data, text=is_text)
        analysis = Analysis()
        name = entry.name.lower()
        is_code = name.endswith(_CODE_SUFFIXES) or entry.file_type is FileType.SCRIPT
        install = name in _INSTALL_NAMES or name.endswith(".pth")
        reported: set[str] = set()
        for item in found:
            category = classify(item.kind, item.value)
            analysis.indicators.append(
                Indicator(item.kind, item.value, category, (entry.location,))
            )
            if is_code and category in suspicious() and item.kind in ("url", "domain", "ip"):
                key = host_of(item.value) if item.kind == "url" else item.value
                if key in reported:  # one finding per host, not per URL and domain
                    continue
                # an ordinary endpoint in a comment connects to nothing (dpkt's setup.py: "#
                # ... e.g. '1.2.3.4'"); a service that only catches probes and stolen data
                # (interact.sh, a webhook) is a probe left in the code, commented out or not
                ordinary = is_text and category not in always_high()
                in_code = _outside_comments(entry, item) if ordinary else item
                if in_code is None:
                    continue
                reported.add(key)
                analysis.findings.append(
                    _endpoint_finding(entry, in_code, category, install, is_text)
                )
        return analysis

    def finish(self, state: ExamState) -> Analysis:
        return Analysis()


def _outside_comments(entry: FileEntry, item: Found) -> Found | None:
    """The first place the indicator is written outside a whole-line comment, if any: a
    comment names an endpoint to a reader; code that connects writes it in a statement."""
    name = entry.name.lower()
    markers = next((m for suffix, m in _LINE_COMMENTS.items() if name.endswith(suffix)), _HASH)
    data = bytes(entry.data)
    needle, at = item.value.encode("utf-8", "replace"), item.offset
    while at >= 0:
        line_start = data.rfind(b"\n", 0, at) + 1
        if not data[line_start:at].lstrip().startswith(markers):
            return Found(item.kind, item.value, at)
        at = data.find(needle, at + 1)
    return None


def _endpoint_finding(
    entry: FileEntry, item: Found, category: str, install: bool, is_text: bool
) -> Finding:
    data = entry.data
    line = bytes(data[: item.offset]).count(b"\n") + 1 if is_text else None
    # a live webhook or interaction catcher in code is where stolen data goes; the bare
    # service name (documentation mentioning webhook.site) is only a lead
    live = item.kind == "url" and _has_path(item.value)
    severity = Severity.HIGH if install or (category in always_high() and live) else Severity.MEDIUM
    where = "install-time code" if install else "code"
    return Finding(
        kind=FindingKind.BEHAVIOR,
        rule_id=f"ind-{category}",
        severity=severity,
        title=f"Suspicious endpoint in {where}: {category}",
        message=f"{item.value} ({category}) is reachable from {where}",
        location=entry.location,
        found_by=NAME,
        confidence=Confidence.HIGH if install else Confidence.MEDIUM,
        evidence=Evidence(
            snippet=item.value[:160],
            line=line,
            offset=item.offset,
            details={"category": category, "indicator": item.kind},
        ),
        fingerprint_key=item.value,
    )


def _has_path(url: str) -> bool:
    """Whether a URL names something on its host (a webhook id, a bot token, a bin). Under
    an entry with a path, what follows the entry counts: discord.py builds
    ``f'https://discord.com/api/webhooks/{self.id}/{self.token}'`` from its caller's values,
    and the API's own prefix names no webhook."""
    beyond = beyond_entry(url)
    if beyond is not None:
        return len(beyond.strip("/")) >= 6
    rest = url.split("://", 1)[-1]
    path = rest.split("/", 1)[1] if "/" in rest else ""
    return len(path.strip("/")) >= 6

"""What leaves the exam is safe to show: secrets redacted, control characters made visible.

``redact`` is the one redaction of free text: every value a report carries that came from the
artifact (finding messages and evidence, indicator URLs, component metadata, issue messages,
diff evidence) goes through it, in ``safe_report`` and ``safe_diff``, before any renderer,
store or attestation sees it. ``neutralize`` makes terminal escapes, C1 controls and bidi
overrides visible (``\\x1b``, ``\\u202e``), so no output can drive a terminal or reorder text.
Renderers still escape their own markup (HTML, Markdown, rich); this module is about content.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace
from typing import TypeVar

from finalexam.model import Component, Evidence, Finding, Indicator, Report, Suppressed

_HIDDEN = "***"

# C0, DEL, C1, and the invisible characters that reorder or hide text (bidi controls of Trojan
# Source, zero-width marks, a byte-order mark); free text keeps tab and newline.
_BIDI_AND_C1 = "\x7f-\x9f\u061c\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff"
_CONTROLS = re.compile(f"[\x00-\x1f{_BIDI_AND_C1}]")
_CONTROLS_IN_TEXT = re.compile(f"[\x00-\x08\x0b-\x1f{_BIDI_AND_C1}]")

_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]{1,20}://)([^\s/@:?#\"'<>]*):([^\s/@?#\"'<>]+)@")
_TOKEN_USER = re.compile(r"(?i)\b([a-z][a-z0-9+.-]{1,20}://)([^\s/@:?#\"'<>]{16,})@")
_QUERY = re.compile(
    r"(?i)([?&;](?:access_token|refresh_token|id_token|token|auth|authorization|api[_-]?key|"
    r"apikey|key|secret|client_secret|password|passwd|pwd|pass|sig|signature|session|sessionid|"
    r"jwt|private_token|x-amz-signature|x-amz-credential|x-amz-security-token|"
    r"x-goog-signature|x-goog-credential|code)=)([^&#\s\"'<>]+)"
)
_WEBHOOKS = re.compile(
    r"(?i)(hooks\.slack\.com/(?:services|workflows|triggers)/[A-Z0-9]+/[A-Z0-9]+/)[A-Za-z0-9]+"
    r"|(discord(?:app)?\.com/api/webhooks/\d+/)[\w-]+"
    r"|(api\.telegram\.org/bot\d+:)[\w-]+"
    r"|(\.webhook\.office\.com/webhookb2/)[^\s\"'<>]+"
)
_TOKENS = re.compile(
    r"\b(?:gh[pousr]_[A-Za-z0-9]{36}|github_pat_[A-Za-z0-9_]{40,}|glpat-[\w-]{20}"
    r"|xox[abposr]-[A-Za-z0-9-]{10,}|(?:AKIA|ASIA)[A-Z0-9]{16}|AIza[\w-]{35}"
    r"|(?:sk|rk)_live_[A-Za-z0-9]{20,}|npm_[A-Za-z0-9]{36}|pypi-AgEIcHlwaS5vcmc[\w-]{50,}"
    r"|eyJ[\w-]{10,}\.eyJ[\w-]{10,}\.[\w-]{10,})"
)
_PRIVATE_KEY = re.compile(
    r"-----BEGIN ([A-Z ]*PRIVATE KEY)-----.*?(?:-----END \1-----|$)", re.DOTALL
)


def redact_secret(secret: str) -> str:
    """A secret the exam found, shown by its first and last few characters: a fifth of it at
    most, never enough to use."""
    keep = min(4, len(secret) // 5)
    if keep == 0:
        return "*" * min(len(secret), 8)
    return f"{secret[:keep]}…{secret[-keep:]}"


def redact(text: str) -> str:
    """Free text with every secret-bearing part hidden: credentials in URLs (user:password@,
    token@), secret query parameters, webhook secrets (Slack, Discord, Telegram, Teams),
    well-known token formats and private key blocks."""
    text = _USERINFO.sub(lambda m: f"{m[1]}{m[2]}:{_HIDDEN}@", text)
    text = _TOKEN_USER.sub(lambda m: f"{m[1]}{_HIDDEN}@", text)
    text = _QUERY.sub(lambda m: f"{m[1]}{_HIDDEN}", text)
    text = _WEBHOOKS.sub(lambda m: f"{next(g for g in m.groups() if g)}{_HIDDEN}", text)
    text = _TOKENS.sub(lambda m: redact_secret(m[0]), text)
    return _PRIVATE_KEY.sub(lambda m: f"-----BEGIN {m[1]}----- {_HIDDEN}", text)


def _escape(match: re.Match[str]) -> str:
    code = ord(match[0])
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def neutralize(text: str, *, lines: bool = True) -> str:
    """Terminal escapes, C1 controls and bidi overrides shown as ``\\x1b``/``\\u202e``;
    ``lines=False`` (a name, not a text) escapes tab and newline too."""
    return (_CONTROLS_IN_TEXT if lines else _CONTROLS).sub(_escape, text)


def safe_text(text: str) -> str:
    return neutralize(redact(text))


T = TypeVar("T")


def safe_value(value: T) -> T:
    """Every string inside ``value`` (mappings, lists, tuples) made safe; keys too."""
    if isinstance(value, str):
        return safe_text(value)  # type: ignore[return-value]
    if isinstance(value, Mapping):
        return {safe_text(str(k)): safe_value(v) for k, v in value.items()}  # type: ignore[return-value]
    if isinstance(value, list | tuple):
        return type(value)(safe_value(v) for v in value)
    return value


def _optional(text: str | None) -> str | None:
    return None if text is None else safe_text(text)


def safe_finding(finding: Finding) -> Finding:
    evidence = finding.evidence
    return replace(
        finding,
        title=safe_text(finding.title),
        message=safe_text(finding.message),
        evidence=Evidence(
            snippet=_optional(evidence.snippet),
            line=evidence.line,
            offset=evidence.offset,
            details=safe_value(dict(evidence.details)),
        ),
        references=tuple(safe_text(r) for r in finding.references),
    )


def _component(component: Component) -> Component:
    return replace(
        component,
        name=safe_text(component.name),
        version=_optional(component.version),
        evidence=tuple(safe_text(e) for e in component.evidence),
        supplier=_optional(component.supplier),
        description=_optional(component.description),
        licenses=tuple(safe_text(x) for x in component.licenses),
    )


def safe_report(report: Report) -> Report:
    """The report every renderer, store and attestation receives (see the module doc).

    Locations are not rewritten here: the walk already made member names safe."""
    verdict = report.verdict
    return replace(
        report,
        artifact=replace(
            report.artifact,
            name=neutralize(report.artifact.name, lines=False),
            path=neutralize(report.artifact.path, lines=False),
        ),
        components=tuple(_component(c) for c in report.components),
        findings=tuple(safe_finding(f) for f in report.findings),
        suppressed=tuple(Suppressed(safe_finding(s.finding), s.waiver) for s in report.suppressed),
        issues=tuple(replace(i, message=safe_text(i.message)) for i in report.issues),
        indicators=tuple(replace(i, value=safe_text(i.value)) for i in _merged(report.indicators)),
        binaries=tuple(safe_value(dict(b)) for b in report.binaries),
        verdict=replace(
            verdict,
            violations=tuple(replace(v, message=safe_text(v.message)) for v in verdict.violations),
            warnings=tuple(safe_text(w) for w in verdict.warnings),
        ),
        extra=safe_value(dict(report.extra)),
    )


def _merged(indicators: tuple[Indicator, ...]) -> tuple[Indicator, ...]:
    """Indicators that differ only in a secret become one (with all their locations)."""
    by_value: dict[tuple[str, str], Indicator] = {}
    for indicator in indicators:
        key = (indicator.kind, redact(indicator.value))
        seen = by_value.get(key)
        if seen is None:
            by_value[key] = indicator
        else:
            locations = tuple(sorted(set(seen.locations) | set(indicator.locations)))
            by_value[key] = replace(seen, locations=locations)
    return tuple(by_value.values())

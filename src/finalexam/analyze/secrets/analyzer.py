"""Leaked secrets in every shipped file: text of any encoding and strings inside binaries.

Findings never carry the secret: evidence holds a redacted form, the sha256 of the exact
secret string, and a line (text) or byte offset (binaries).
"""

from __future__ import annotations

from finalexam.analyze.base import Analysis, ExamState
from finalexam.analyze.secrets import NAME
from finalexam.analyze.secrets.engine import RULES_DIR, Engine, default_engine, rule_patterns
from finalexam.analyze.secrets.features import names_public_parameter
from finalexam.analyze.secrets.scan import SecretHit, example_matches, scan_bytes
from finalexam.config import Config
from finalexam.model import (
    Confidence,
    Evidence,
    FileEntry,
    FileType,
    Finding,
    FindingKind,
    Location,
    Severity,
)
from finalexam.redact import redact_secret
from finalexam.testcerts import private_key_id

__all__ = ["RULES_DIR", "SecretsAnalyzer", "example_matches", "rule_patterns"]

_BINARY = {
    FileType.ELF: "elf",
    FileType.PE: "pe",
    FileType.MACHO: "macho",
    FileType.JAVA_CLASS: "java-class",
    FileType.PYC: "pyc",
    FileType.DEX: "dex",
    FileType.WASM: "wasm",
    FileType.DATA: "data",
    FileType.OTHER: "data",
}
_TEXT = {FileType.TEXT, FileType.SCRIPT, FileType.JSON, FileType.XML}
# AWS key ids and secret keys are dangerous together: a pair in one file is certain.
_PAIRS = (("aws-access-key-id", "aws-secret-access-key"),)


class SecretsAnalyzer:
    name = NAME
    version = "1.0"
    requires: tuple[str, ...] = ()
    wants = tuple(sorted(t.value for t in (*_TEXT, *_BINARY)))  # text, strings of binaries

    def __init__(self, config: Config, engine: Engine | None = None) -> None:
        self.config = config
        self._engine = engine

    @property
    def engine(self) -> Engine:
        if self._engine is None:  # compiled on first use, once per process
            self._engine = default_engine()
        return self._engine

    def accepts(self, entry: FileEntry) -> bool:
        return entry.size > 0 and (entry.file_type in _TEXT or entry.file_type in _BINARY)

    def analyze(self, entry: FileEntry) -> Analysis:
        binary = entry.file_type in _BINARY
        hits = scan_bytes(
            entry.data,
            entry.path,
            binary=binary,
            kind=_BINARY.get(entry.file_type, "text"),
            engine=self.engine,
            candidates=self.config.secrets_candidates,
        )
        hits = _pair(hits)
        return Analysis(findings=[secret_finding(hit, entry.location) for hit in hits])

    def finish(self, state: ExamState) -> Analysis:
        return Analysis()


def _pair(hits: list[SecretHit]) -> list[SecretHit]:
    rules = {hit.rule.id for hit in hits}
    paired = {rule for pair in _PAIRS if set(pair) <= rules for rule in pair}
    if not paired:
        return hits
    return [
        SecretHit(**{**hit.__dict__, "confidence": Confidence.HIGH})
        if hit.rule.id in paired
        else hit
        for hit in hits
    ]


def secret_finding(hit: SecretHit, location: Location) -> Finding:
    redacted = redact_secret(hit.secret)
    where = f"line {hit.line}" if hit.line is not None else f"offset {hit.offset}"
    # A salt or a nonce travels in the clear by design (RFC 5802's client and server nonces,
    # passlib's docstrings): reported, at low severity, never a leaked credential.
    public = hit.score is not None and names_public_parameter(hit.name)
    return Finding(
        kind=FindingKind.SECRET,
        rule_id=hit.rule.id,
        severity=Severity.LOW if public else hit.rule.severity,
        title=hit.rule.title,
        message=f"{hit.rule.title} ({redacted}) at {where}: revoke it and rebuild without it",
        location=location,
        found_by=NAME,
        confidence=hit.confidence,
        evidence=Evidence(
            snippet=redacted,
            line=hit.line,
            offset=hit.offset,
            details={
                "secret_sha256": hit.sha256,
                "redacted": redacted,
                "length": len(hit.secret),
                "entropy": hit.entropy,
                "validation": hit.validation,
                "source": hit.source,
                "encoding": hit.encoding,
                "occurrences": hit.occurrences,
                "family": hit.rule.family,
                **_filtered(hit),
                **_public_key(hit),
            },
        ),
        fingerprint_key=hit.sha256,
        context=hit.context,
    )


def _public_key(hit: SecretHit) -> dict[str, object]:
    """A PEM private key's public key id, to match it with a certificate (testcerts.py)."""
    if hit.rule.validator != "pem" or hit.validation != "valid":
        return {}
    key_id = private_key_id(hit.secret)
    return {"public_key_sha256": key_id} if key_id else {}


def _filtered(hit: SecretHit) -> dict[str, object]:
    """What the generic filter weighed: the name, its score, every line the value is on."""
    if hit.score is None:
        return {}
    return {"name": hit.name[:80], "score": hit.score, "lines": list(hit.lines[:50])}

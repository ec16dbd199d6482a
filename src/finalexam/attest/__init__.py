"""Attestations: a signed, offline-verifiable statement that this artifact passed this policy.

Library API (documented in docs/attestation.md)::

    make_bundle(report, artifact_path, key, config=None, ...) -> bytes   # JSON Lines
    verify(artifact_path, attestation_bytes, public_key, policy=..., max_age=...) -> Result
    verify_digest(sha256_hex, attestation_bytes, public_key, ...) -> Result
    write_key_pair(out, key_type) / load_private_key(path) / load_public_key(path)
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes
from packageurl import PackageURL

from finalexam.attest.envelope import (
    FORMATS,
    INTOTO_JSONL,
    SIGSTORE_BUNDLE,
    sign_statement,
    write_lines,
)
from finalexam.attest.keys import (
    KEY_TYPES,
    PASSPHRASE_ENV,
    load_private_key,
    load_public_key,
    signer_for,
    write_key_pair,
)
from finalexam.attest.statement import (
    CYCLONEDX_PREDICATE,
    EXAM_PREDICATE,
    VSA_PREDICATE,
    build_statements,
    file_sha256,
    policy_digest,
)
from finalexam.attest.verify import Failure, Result, verify, verify_digest
from finalexam.config import Config
from finalexam.errors import UsageError
from finalexam.model import Report
from finalexam.report.base import RenderOptions
from finalexam.report.document import report_timestamp


def default_resource_uri(report: Report) -> str:
    """A package URL naming the file by its name and content: ``pkg:generic/NAME?checksum=``."""
    return str(
        PackageURL(
            type="generic",
            name=report.artifact.name,
            qualifiers={"checksum": f"sha256:{report.artifact.sha256}"},
        )
    )


def exam_time(config: Config) -> datetime:
    """``--timestamp`` / SOURCE_DATE_EPOCH when given (reproducible attestations), else now."""
    fixed = report_timestamp(RenderOptions(timestamp=config.timestamp))
    if fixed:
        try:
            moment = datetime.fromisoformat(fixed.replace("Z", "+00:00"))
        except ValueError:
            raise UsageError(f"--timestamp: not an ISO 8601 time: {fixed!r}") from None
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return datetime.now(UTC).replace(microsecond=0)


def make_bundle(
    report: Report,
    artifact_path: str | Path,
    key: PrivateKeyTypes | str | Path,
    config: Config | None = None,
    *,
    attest_format: str = INTOTO_JSONL,
    sbom: bool = False,
    resource_uri: str | None = None,
    now: datetime | None = None,
) -> bytes:
    """Sign the statements of one exam; returns the attestation file's bytes (JSON Lines).

    ``config`` must be the one the exam ran with (it names the policy and the report options);
    the report's artifact must be the file at ``artifact_path`` (checked by its sha256).
    Raises UsageError when they do not match or the key cannot be used.
    """
    from finalexam.policy import load_policy

    config = config or Config()
    if report.artifact.kind == "directory" or not report.artifact.sha256:
        raise UsageError("only a file can be attested, not a directory", path=str(artifact_path))
    actual = file_sha256(artifact_path)
    if actual != report.artifact.sha256:
        raise UsageError(
            "the file changed since it was examined (sha256 differs): not attested",
            path=str(artifact_path),
        )
    policy = load_policy(config)
    if policy.name != report.verdict.policy:
        raise UsageError(
            f"the report was decided under policy {report.verdict.policy!r}, "
            f"the configuration gives {policy.name!r}"
        )
    private = key if not isinstance(key, str | Path) else load_private_key(key)
    signer = signer_for(private)
    statements = build_statements(
        report,
        config,
        policy,
        now=now or exam_time(config),
        resource_uri=resource_uri or default_resource_uri(report),
        sbom=sbom,
    )
    envelopes = [sign_statement(statement, signer) for statement in statements]
    return write_lines(envelopes, attest_format, signer.public_key.keyid)


__all__ = [
    "CYCLONEDX_PREDICATE",
    "EXAM_PREDICATE",
    "FORMATS",
    "INTOTO_JSONL",
    "KEY_TYPES",
    "PASSPHRASE_ENV",
    "SIGSTORE_BUNDLE",
    "VSA_PREDICATE",
    "Failure",
    "Result",
    "load_private_key",
    "load_public_key",
    "make_bundle",
    "policy_digest",
    "verify",
    "verify_digest",
    "write_key_pair",
]

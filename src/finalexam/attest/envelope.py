"""DSSE envelopes (securesystemslib) written as JSON Lines, one envelope or Sigstore bundle each.

``intoto-jsonl``: each line a DSSE envelope (the in-toto bundle convention).
``sigstore-bundle``: each line a Sigstore bundle v0.3 holding the same envelope, identified by a
public-key hint (the securesystemslib key id): no certificate, no transparency-log entry,
verifiable offline with the key (``cosign verify-blob-attestation --key``, sigstore-js).
"""

from __future__ import annotations

import binascii
import json
from dataclasses import dataclass
from typing import Any

from securesystemslib.dsse import Envelope
from securesystemslib.signer import Key, Signer

from finalexam.attest.statement import PAYLOAD_TYPE, canonical_json

INTOTO_JSONL = "intoto-jsonl"
SIGSTORE_BUNDLE = "sigstore-bundle"
FORMATS = (INTOTO_JSONL, SIGSTORE_BUNDLE)
SIGSTORE_MEDIA_TYPE = "application/vnd.dev.sigstore.bundle.v0.3+json"
MAX_LINE_BYTES = 64 * 1024 * 1024  # a line bigger than this is not ours (SBOMs included)


class MalformedAttestation(ValueError):
    """The file is not a list of DSSE envelopes or Sigstore bundles; the message says where."""


def sign_statement(statement: dict[str, Any], signer: Signer) -> dict[str, Any]:
    envelope = Envelope(payload=canonical_json(statement), payload_type=PAYLOAD_TYPE, signatures={})
    envelope.sign(signer)
    data: dict[str, Any] = envelope.to_dict()
    return data


def sigstore_bundle(envelope: dict[str, Any], key_hint: str) -> dict[str, Any]:
    return {
        "mediaType": SIGSTORE_MEDIA_TYPE,
        "verificationMaterial": {"publicKey": {"hint": key_hint}, "tlogEntries": []},
        "dsseEnvelope": envelope,
    }


def write_lines(envelopes: list[dict[str, Any]], attest_format: str, key_hint: str) -> bytes:
    if attest_format not in FORMATS:
        raise ValueError(f"unknown attestation format {attest_format!r}")
    items = (
        [sigstore_bundle(e, key_hint) for e in envelopes]
        if attest_format == SIGSTORE_BUNDLE
        else envelopes
    )
    return b"".join(json.dumps(item, separators=(",", ":")).encode() + b"\n" for item in items)


@dataclass(frozen=True)
class SignedStatement:
    """One line of an attestation file, its signature checked or not yet."""

    line: int
    envelope: Envelope

    @property
    def payload_type(self) -> str:
        return str(self.envelope.payload_type)

    @property
    def payload(self) -> bytes:
        return bytes(self.envelope.payload)

    def signed_by(self, key: Key) -> bool:
        try:
            self.envelope.verify([key], 1)
        except Exception:  # securesystemslib raises several types for a bad signature
            return False
        return True


def read_lines(data: bytes) -> list[SignedStatement]:
    """Parse an attestation file; raises MalformedAttestation naming the line at fault."""
    if not data.strip():
        raise MalformedAttestation("empty: no statements")
    out = []
    for number, raw in enumerate(data.splitlines(), start=1):
        if not raw.strip():
            continue
        if len(raw) > MAX_LINE_BYTES:
            raise MalformedAttestation(f"line {number}: too long")
        out.append(SignedStatement(number, _envelope(raw, number)))
    return out


def _envelope(raw: bytes, number: int) -> Envelope:
    try:
        item = json.loads(raw)
    except (ValueError, RecursionError):
        raise MalformedAttestation(f"line {number}: not JSON (truncated or corrupted?)") from None
    if not isinstance(item, dict):
        raise MalformedAttestation(f"line {number}: not a DSSE envelope or Sigstore bundle")
    if "dsseEnvelope" in item:
        media = item.get("mediaType")
        if not isinstance(media, str) or not media.startswith("application/vnd.dev.sigstore"):
            raise MalformedAttestation(f"line {number}: not a Sigstore bundle")
        item = item["dsseEnvelope"]
    shape_ok = (
        isinstance(item, dict)
        and isinstance(item.get("payload"), str)
        and isinstance(item.get("payloadType"), str)
        and isinstance(item.get("signatures"), list)
        and all(
            isinstance(s, dict)
            and isinstance(s.get("sig"), str)
            and isinstance(s.get("keyid"), str)
            for s in item["signatures"]
        )
    )
    if not shape_ok:
        raise MalformedAttestation(f"line {number}: not a DSSE envelope")
    try:
        # from_dict rewrites the signatures it is given: hand it a copy.
        return Envelope.from_dict(json.loads(json.dumps(item)))
    except (ValueError, KeyError, TypeError, binascii.Error) as error:
        raise MalformedAttestation(f"line {number}: bad DSSE envelope: {error}") from None
    except Exception as error:  # securesystemslib's FormatError
        raise MalformedAttestation(f"line {number}: bad DSSE envelope: {error}") from None

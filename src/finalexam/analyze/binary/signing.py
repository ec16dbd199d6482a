"""Code signatures: Authenticode (PE) and Mach-O code signature blobs.

The Authenticode digest of the file is computed here (not taken from the parser) and compared
with the digest the signer signed, so a byte changed after signing is visible. Nothing here
reads the clock: certificate dates are reported, not judged, so reports stay reproducible.
"""

from __future__ import annotations

import hashlib
import struct
from typing import Any

import lief

_WIN_CERT_TYPE_PKCS_SIGNED_DATA = 2
_DIGESTS = {
    "sha_1": "sha1",
    "sha_256": "sha256",
    "sha_384": "sha384",
    "sha_512": "sha512",
    "md5": "md5",
}


def _pe_layout(data: bytes) -> tuple[int, int, int] | None:
    """(checksum offset, certificate directory entry offset or -1, directory count)."""
    if len(data) < 0x40:
        return None
    pe = struct.unpack_from("<I", data, 0x3C)[0]
    optional = pe + 24
    if optional + 2 > len(data) or data[pe : pe + 4] != b"PE\0\0":
        return None
    magic = struct.unpack_from("<H", data, optional)[0]
    if magic not in (0x10B, 0x20B):
        return None
    directories = optional + (96 if magic == 0x10B else 112)
    count_offset = directories - 4
    if directories > len(data):
        return None
    count = struct.unpack_from("<I", data, count_offset)[0]
    security = directories + 4 * 8 if count > 4 else -1
    if security + 8 > len(data):
        security = -1
    return optional + 64, security, count


def certificate_table(data: bytes) -> tuple[int, int]:
    """File offset and size of the attribute certificate table ((0, 0) when absent)."""
    layout = _pe_layout(data)
    if layout is None or layout[1] < 0:
        return 0, 0
    offset, size = struct.unpack_from("<II", data, layout[1])
    if not offset or not size or offset + size > len(data):
        return 0, 0
    return int(offset), int(size)


def authenticode_digest(data: bytes, algorithm: str = "sha256") -> str | None:
    """The Authenticode hash: the file minus its checksum, certificate entry and table."""
    layout = _pe_layout(data)
    if layout is None:
        return None
    checksum, security, _ = layout
    digest = hashlib.new(algorithm)
    view = memoryview(data)
    digest.update(view[:checksum])
    if security < 0:
        digest.update(view[checksum + 4 :])
        return digest.hexdigest()
    digest.update(view[checksum + 4 : security])
    cert_offset, _size = certificate_table(data)
    digest.update(view[security + 8 : cert_offset or len(data)])
    return digest.hexdigest()


def _certificate_entries(data: bytes) -> list[dict[str, int]]:
    """The WIN_CERTIFICATE entries (length, revision, type) of the certificate table."""
    offset, size = certificate_table(data)
    entries: list[dict[str, int]] = []
    position, end = offset, offset + size
    while offset and position + 8 <= end:
        length, revision, kind = struct.unpack_from("<IHH", data, position)
        entries.append({"length": length, "revision": revision, "type": kind})
        if length < 8:
            break
        position += (length + 7) & ~7
    return entries


def _date(parts: list[int]) -> str:
    year, month, day, hour, minute, second = (list(parts) + [0] * 6)[:6]
    return f"{year:04d}-{month:02d}-{day:02d}T{hour:02d}:{minute:02d}:{second:02d}Z"


def _certificate(cert: lief.PE.x509) -> dict[str, Any]:
    return {
        "subject": cert.subject,
        "issuer": cert.issuer,
        "serial": bytes(cert.serial_number).hex(),
        "not_before": _date(cert.valid_from),
        "not_after": _date(cert.valid_to),
        "sha256": hashlib.sha256(bytes(cert.raw)).hexdigest(),
    }


def authenticode_facts(binary: lief.PE.Binary, data: bytes) -> dict[str, Any]:
    """Stable keys: ``signed`` always; the rest only when a signature is present."""
    entries = _certificate_entries(data)
    if not binary.has_signatures and not entries:
        return {"signed": False, "kind": "authenticode"}
    out: dict[str, Any] = {"signed": True, "kind": "authenticode", "entries": len(entries)}
    problems: list[str] = []
    if any(e["type"] != _WIN_CERT_TYPE_PKCS_SIGNED_DATA for e in entries):
        problems.append("certificate table entry is not PKCS#7 signed data")
    signatures = list(binary.signatures)
    if not signatures:
        problems.append("certificate table present but no parsable PKCS#7 signature")
        out["problems"] = problems
        out["digest_matches"] = False
        return out
    signature = signatures[0]
    content = signature.content_info
    algorithm = _DIGESTS.get(str(content.digest_algorithm).rsplit(".", 1)[-1].lower())
    signed_digest = bytes(content.digest).hex()
    out["digest_algorithm"] = algorithm or str(content.digest_algorithm)
    out["signed_digest"] = signed_digest
    computed = authenticode_digest(data, algorithm) if algorithm else None
    out["computed_digest"] = computed
    out["digest_matches"] = computed == signed_digest
    flags = signature.check(lief.PE.Signature.VERIFICATION_CHECKS.SKIP_CERT_TIME)
    verdict = str(flags).rsplit(".", 1)[-1].lower()
    # LIEF's own hash check is left out of "signature_valid": the digest is compared above.
    out["signature_valid"] = verdict in ("ok", "")
    if verdict not in ("ok", ""):
        out["verification"] = verdict
    signers = []
    for signer in signature.signers:
        item: dict[str, Any] = {
            "issuer": signer.issuer,
            "serial": bytes(signer.serial_number).hex(),
            "digest_algorithm": str(signer.digest_algorithm).rsplit(".", 1)[-1].lower(),
        }
        if signer.cert is not None:
            item.update(_certificate(signer.cert))
        signers.append(item)
    out["signers"] = signers
    if signers and "subject" in signers[0]:
        out["subject"] = signers[0]["subject"]
        out["issuer"] = signers[0]["issuer"]
        out["not_before"] = signers[0]["not_before"]
        out["not_after"] = signers[0]["not_after"]
    out["certificates"] = len(list(signature.certificates))
    out["self_signed"] = bool(signers) and signers[0].get("subject") == signers[0].get("issuer")
    if len(signatures) > 1:
        out["nested_signatures"] = len(signatures) - 1
    if problems:
        out["problems"] = problems
    return out


# Mach-O code signature SuperBlob (big endian) magics and slots.
_CSMAGIC_EMBEDDED_SIGNATURE = 0xFADE0CC0
_CSMAGIC_CODEDIRECTORY = 0xFADE0C02
_CSMAGIC_BLOBWRAPPER = 0xFADE0B01
_CSSLOT_CODEDIRECTORY = 0
_CSSLOT_SIGNATURESLOT = 0x10000


def macho_signature_facts(blob: bytes | None) -> dict[str, Any]:
    """Ad-hoc (no CMS) vs. certificate-signed, plus the code directory's identifier."""
    if blob is None:
        return {"signed": False, "kind": "macho-code-signature"}
    out: dict[str, Any] = {"signed": True, "kind": "macho-code-signature"}
    if len(blob) < 12 or struct.unpack_from(">I", blob, 0)[0] != _CSMAGIC_EMBEDDED_SIGNATURE:
        out["problems"] = ["code signature is not an embedded-signature SuperBlob"]
        return out
    count = struct.unpack_from(">I", blob, 8)[0]
    cms_size = 0
    for index in range(min(count, 64)):
        position = 12 + index * 8
        if position + 8 > len(blob):
            break
        slot, offset = struct.unpack_from(">II", blob, position)
        if offset + 8 > len(blob):
            continue
        magic, length = struct.unpack_from(">II", blob, offset)
        if slot == _CSSLOT_CODEDIRECTORY and magic == _CSMAGIC_CODEDIRECTORY:
            ident_offset = (
                struct.unpack_from(">I", blob, offset + 20)[0] if offset + 24 <= len(blob) else 0
            )
            if ident_offset:
                start = offset + ident_offset
                end = blob.find(b"\0", start, offset + length)
                if end > start:
                    out["identifier"] = blob[start:end].decode("utf-8", "replace")
        elif slot == _CSSLOT_SIGNATURESLOT and magic == _CSMAGIC_BLOBWRAPPER:
            cms_size = length - 8
    out["adhoc"] = cms_size <= 0
    return out

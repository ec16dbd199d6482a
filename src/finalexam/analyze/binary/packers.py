"""Packers and hiding: packer signatures, packed-looking sections, overlays, embedded binaries."""

from __future__ import annotations

import re
import struct
from typing import Any

from finalexam.analyze.binary.facts.common import BinaryFacts
from finalexam.entropy import shannon_entropy

# Section names that known PE packers and protectors leave behind.
PACKER_SECTIONS: dict[str, str] = {
    "UPX0": "upx",
    "UPX1": "upx",
    "UPX2": "upx",
    ".aspack": "aspack",
    ".adata": "aspack",
    ".MPRESS1": "mpress",
    ".MPRESS2": "mpress",
    ".petite": "petite",
    ".nsp0": "nspack",
    ".nsp1": "nspack",
    ".themida": "themida",
    ".winlice": "winlicense",
    ".vmp0": "vmprotect",
    ".vmp1": "vmprotect",
    ".enigma1": "enigma",
    ".enigma2": "enigma",
    "PEC2": "pecompact",
    "PEC2TO": "pecompact",
    "pec1": "pecompact",
    ".kkrunchy": "kkrunchy",
    ".RLPack": "rlpack",
    ".yP": "yoda-crypter",
    ".y0da": "yoda-protector",
    "MEW": "mew",
    "FSG!": "fsg",
    ".packed": "unknown",
}
_UPX_VERSION = re.compile(rb"\$Id: UPX (\d+\.\d+(?:\.\d+)?)|UPX (\d\.\d\d)\x00|(\d\.\d\d)\x00UPX!")
_HIGH_ENTROPY = 7.2
_TINY_IMPORTS = 10
_SCAN_LIMIT = 64 * 1024 * 1024  # embedded-binary scan stops after this many bytes
_MAX_EMBEDDED = 16


def packer(facts: BinaryFacts, data: bytes) -> dict[str, Any] | None:
    """The packer that processed this binary, with the evidence that says so."""
    evidence: list[str] = []
    names: list[str] = []
    for section in facts.sections:
        found = PACKER_SECTIONS.get(section.name.strip())
        if found:
            names.append(found)
            evidence.append(f"section {section.name!r}")
    upx_at = _find_upx_magic(data)
    if upx_at is not None:
        names.append("upx")
        evidence.append(f"UPX! magic at offset {upx_at}")
    if names:
        name = sorted(set(names), key=names.index)[0]
        out: dict[str, Any] = {"name": name, "evidence": evidence}
        if name == "upx":
            match = _UPX_VERSION.search(data[: 1024 * 1024]) or _UPX_VERSION.search(
                data[-64 * 1024 :]
            )
            if match:
                version = next(g for g in match.groups() if g)
                out["version"] = version.decode()
        return out
    executable = [s for s in facts.sections if s.executable and s.size > 512]
    packed = [s for s in executable if s.entropy >= _HIGH_ENTROPY]
    import_count = len(facts.imports)
    if packed and facts.format == "pe" and import_count <= _TINY_IMPORTS:
        return {
            "name": "unknown",
            "evidence": [f"executable section {s.name!r} has entropy {s.entropy}" for s in packed]
            + [f"only {import_count} imported functions"],
        }
    if facts.format == "elf" and not facts.sections and not facts.libraries:
        whole = round(shannon_entropy(data[: 1024 * 1024]), 3)  # rounded: reports stay stable
        if whole >= _HIGH_ENTROPY:
            return {
                "name": "unknown",
                "evidence": ["no section headers", f"entropy {whole} with no linked libraries"],
            }
    return None


def _find_upx_magic(data: bytes) -> int | None:
    """UPX writes ``UPX!`` into its loader header near the start and its trailer near the end."""
    head = data.find(b"UPX!", 0, 4096)
    if head >= 0:
        return head
    tail_start = max(0, len(data) - 4096)
    tail = data.find(b"UPX!", tail_start)
    return tail if tail >= 0 else None


_OVERLAY_KINDS = (
    (b"PK\x03\x04", "zip"),
    (b"7z\xbc\xaf\x27\x1c", "7z"),
    (b"Rar!\x1a\x07", "rar"),
    (b"MSCF", "cab"),
    (b"\x1f\x8b", "gzip"),
    (b"MZ", "pe"),
    (b"\x7fELF", "elf"),
)


def overlay(facts: BinaryFacts, data: bytes) -> dict[str, Any] | None:
    """Data appended after the image: installers, self-extractors, or hidden payloads."""
    if facts.overlay is None:
        return None
    offset, size = facts.overlay
    head = data[offset : offset + 64]
    out: dict[str, Any] = {
        "offset": offset,
        "size": size,
        "entropy": round(shannon_entropy(data[offset : offset + min(size, 1024 * 1024)]), 3),
    }
    for magic, kind in _OVERLAY_KINDS:
        if head.startswith(magic):
            out["kind"] = kind
            break
    sample = data[offset : offset + 4096]
    if b"NullsoftInst" in sample:
        out["kind"] = "nsis"
    elif b"Inno Setup" in sample or b"zlb\x1a" in head:
        out["kind"] = "inno"
    elif "kind" not in out and data.rfind(b"PK\x05\x06", max(offset, len(data) - 65557)) >= 0:
        out["kind"] = "zip"
    return out


def embedded_executables(data: bytes) -> list[dict[str, Any]]:
    """PE and ELF images that start anywhere after offset 0 (resources, data, overlay)."""
    found: list[dict[str, Any]] = []
    limit = min(len(data), _SCAN_LIMIT)
    position = data.find(b"MZ", 1, limit)
    while position >= 0 and len(found) < _MAX_EMBEDDED:
        if position + 0x40 <= len(data):
            pe = struct.unpack_from("<I", data, position + 0x3C)[0]
            if 0x40 <= pe < 0x1000 and data[position + pe : position + pe + 4] == b"PE\0\0":
                found.append({"format": "pe", "offset": position})
        position = data.find(b"MZ", position + 2, limit)
    position = data.find(b"\x7fELF", 1, limit)
    while position >= 0 and len(found) < _MAX_EMBEDDED:
        if _plausible_elf(data, position):
            found.append({"format": "elf", "offset": position})
        position = data.find(b"\x7fELF", position + 4, limit)
    return sorted(found, key=lambda item: item["offset"])


def _plausible_elf(data: bytes, at: int) -> bool:
    ident = data[at : at + 64]
    if len(ident) < 52 or ident[4] not in (1, 2) or ident[5] not in (1, 2) or ident[6] != 1:
        return False
    order = "<" if ident[5] == 1 else ">"
    kind, _machine, version = struct.unpack_from(order + "HHI", ident, 16)
    header_size = struct.unpack_from(order + "H", ident, 40 if ident[4] == 1 else 52)[0]
    return 1 <= kind <= 4 and version == 1 and header_size in (52, 64)

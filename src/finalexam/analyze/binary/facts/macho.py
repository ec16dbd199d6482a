"""Mach-O (thin or fat): imports, exports, sections and macOS hardening facts."""

from __future__ import annotations

from typing import Any

import lief

from finalexam.analyze.binary import signing
from finalexam.analyze.binary.facts.common import (
    BinaryFacts,
    BrokenBinary,
    Section,
    enum_name,
    text,
)

MH_ALLOW_STACK_EXECUTION = 0x20000
MH_PIE = 0x200000
MH_NO_HEAP_EXECUTION = 0x1000000
_TYPES = {
    "execute": "executable",
    "dylib": "shared-library",
    "bundle": "shared-library",
    "object": "object",
    "kext_bundle": "kernel-module",
    "core": "core",
}
_ARCH_NAMES = {"x86_64": "x86_64", "x86": "i386", "arm64": "aarch64", "arm": "arm"}


def examine(data: bytes) -> BinaryFacts:
    fat: Any = lief.MachO.parse(data)
    if fat is None or len(fat) == 0:
        raise BrokenBinary("cannot parse Mach-O headers")
    binary = fat.at(0)
    arches = [_arch(fat.at(i)) for i in range(len(fat))]
    header = binary.header
    flags = int(header.flags)
    kind = _TYPES.get(enum_name(header.file_type), enum_name(header.file_type))
    imports = {_plain(s.name) for s in binary.imported_symbols if s.name}
    exports = {_plain(s.name) for s in binary.exported_symbols if s.name}
    facts = BinaryFacts(
        format="macho",
        arch=arches[0],
        type=kind,
        bits=64 if enum_name(header.magic) in ("magic_64", "cigam_64") else 32,
        entrypoint=binary.entrypoint if binary.has_entrypoint else None,
        interpreter=binary.dylinker.name if binary.has_dylinker else None,
        libraries=sorted(text(lib.name) for lib in binary.libraries),
        imports=imports,
        exports=exports,
        symbols=exports | {_plain(s.name) for s in binary.symbols if s.name and s.value},
        sections=[
            Section(
                name=f"{text(s.segment_name)},{text(s.name)}",
                offset=s.offset,
                size=s.size,
                entropy=round(s.entropy, 3),
            )
            for s in binary.sections
        ],
        rpath=[r.path for r in binary.rpaths],
        debug_info=any(s.segment_name == "__DWARF" for s in binary.sections),
        build_id=bytes(binary.uuid.uuid).hex() if binary.has_uuid else None,
        arches=arches,
    )
    blob = None
    if binary.has_code_signature:
        signature = binary.code_signature
        blob = bytes(signature.content) or b"\0"
    facts.signature = signing.macho_signature_facts(blob)
    segments = {text(seg.name) for seg in binary.segments}
    facts.hardening = _hardening(kind, flags, imports, blob is not None, segments)
    if binary.has_encryption_info:
        facts.details["encrypted"] = bool(binary.encryption_info.crypt_id)
    return facts


def _arch(binary: Any) -> str:
    name = enum_name(binary.header.cpu_type)
    return _ARCH_NAMES.get(name, name)


def _plain(raw: str | bytes) -> str:
    """Mach-O C symbols carry a leading underscore."""
    name = text(raw)
    return name[1:] if name.startswith("_") else name


def _hardening(
    kind: str, flags: int, imports: set[str], signed: bool, segments: set[str]
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "canary": bool(imports & {"__stack_chk_fail", "__stack_chk_guard"}),
        "arc": bool(imports & {"objc_release", "objc_retain", "objc_autorelease"}),
        "code_signature": signed,
    }
    if kind in ("object", "core"):
        return out
    if kind == "executable":
        out["pie"] = bool(flags & MH_PIE)
        out["nx_heap"] = bool(flags & MH_NO_HEAP_EXECUTION)
    out["nx"] = not flags & MH_ALLOW_STACK_EXECUTION
    out["restricted"] = "__RESTRICT" in segments
    return out

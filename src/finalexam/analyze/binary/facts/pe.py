"""PE/COFF: imports, exports, sections, .NET, and the linker's exploit-mitigation flags."""

from __future__ import annotations

import struct
from typing import Any

import lief

from finalexam.analyze.binary import signing
from finalexam.analyze.binary.facts import apihash, code, flow, resolve
from finalexam.analyze.binary.facts.common import (
    BinaryFacts,
    BrokenBinary,
    NotABinary,
    Section,
    enum_name,
    strip_wide_suffix,
    text,
)

# IMAGE_OPTIONAL_HEADER.DllCharacteristics and IMAGE_FILE_HEADER.Characteristics bits.
HIGH_ENTROPY_VA = 0x0020
DYNAMIC_BASE = 0x0040
FORCE_INTEGRITY = 0x0080
NX_COMPAT = 0x0100
NO_SEH = 0x0400
GUARD_CF = 0x4000
RELOCS_STRIPPED = 0x0001
FILE_DLL = 0x2000
SUBSYSTEM_NATIVE = 1
_ARCH_NAMES = {"amd64": "x86_64", "i386": "i386", "arm64": "aarch64", "armnt": "arm"}
_MEM_EXECUTE = 0x20000000
_MEM_WRITE = 0x80000000


def pe_header_offset(data: bytes) -> int:
    """Offset of ``PE\\0\\0``; NotABinary for plain DOS files, BrokenBinary when cut short."""
    if len(data) < 0x40:
        raise BrokenBinary("truncated: shorter than a DOS header")
    offset = struct.unpack_from("<I", data, 0x3C)[0]
    if offset + 24 > len(data):
        if offset < 0x10000000:
            raise BrokenBinary(f"truncated: PE header at {offset}, file has {len(data)} bytes")
        raise NotABinary("MZ file without a PE header")
    if data[offset : offset + 4] != b"PE\0\0":
        raise NotABinary("MZ file without a PE header")
    return int(offset)


def examine(data: bytes) -> BinaryFacts:
    pe_header_offset(data)
    binary: Any = lief.PE.parse(data)
    if binary is None:
        raise BrokenBinary("cannot parse PE headers")
    header, optional = binary.header, binary.optional_header
    for section in binary.sections:
        if (
            section.sizeof_raw_data
            and section.pointerto_raw_data + section.sizeof_raw_data
            > len(data) + optional.file_alignment
        ):
            raise BrokenBinary(
                f"truncated: section {section.name!r} ends at "
                f"{section.pointerto_raw_data + section.sizeof_raw_data}, "
                f"file has {len(data)} bytes"
            )
    characteristics = int(header.characteristics)
    dll_flags = int(optional.dll_characteristics)
    is_64 = enum_name(optional.magic) == "pe32_plus"
    clr = binary.data_directory(lief.PE.DataDirectory.TYPES.CLR_RUNTIME_HEADER)
    dotnet = clr is not None and clr.size > 0 and clr.rva > 0
    machine = enum_name(header.machine)
    if dotnet:
        kind = "dotnet-assembly"
    elif int(optional.subsystem.value) == SUBSYSTEM_NATIVE and not characteristics & FILE_DLL:
        kind = "kernel-module"
    elif characteristics & FILE_DLL:
        kind = "shared-library"
    else:
        kind = "executable"
    imports: set[str] = set()
    libraries: set[str] = set()
    for library in [*binary.imports, *binary.delay_imports]:
        libraries.add(text(library.name).lower())
        for entry in library.entries:
            if entry.name:
                imports.add(text(entry.name))
                imports.add(strip_wide_suffix(text(entry.name)))
    exports = {text(f.name) for f in binary.exported_functions if f.name}
    facts = BinaryFacts(
        format="pe",
        arch=_ARCH_NAMES.get(machine, machine),
        type=kind,
        bits=64 if is_64 else 32,
        entrypoint=optional.addressof_entrypoint or None,
        libraries=sorted(libraries),
        imports=imports,
        exports=exports,
        symbols=exports,
        sections=[
            Section(
                name=text(s.name),
                offset=s.pointerto_raw_data,
                size=s.sizeof_raw_data,
                entropy=round(s.entropy, 3),
                executable=bool(s.characteristics & _MEM_EXECUTE),
                writable=bool(s.characteristics & _MEM_WRITE),
            )
            for s in binary.sections
        ],
    )
    facts.details["subsystem"] = enum_name(optional.subsystem)
    facts.details["imports_count"] = sum(len(lib.entries) for lib in binary.imports)
    _debug(binary, facts)
    load_config = binary.load_configuration if binary.has_configuration else None
    facts.hardening = _hardening(
        characteristics, dll_flags, is_64, machine, dotnet, load_config, binary.has_signatures
    )
    facts.signature = signing.authenticode_facts(binary, data)
    facts.overlay = _overlay(binary, data)
    if binary.has_resources:
        facts.details["resources"] = True
    if resolve.supported(facts.arch) and not dotnet:
        _resolved(binary, data, facts)
        for name, found in apihash.hashed_imports(data, facts.bits).items():
            facts.resolved.setdefault(name, found)
    return facts


def _resolved(binary: Any, data: bytes, facts: BinaryFacts) -> None:
    """Names the code passes to GetProcAddress and LoadLibrary, and the constants it passes
    to socket/WSASocket/setsockopt, through their IAT slots."""
    base = binary.optional_header.imagebase
    imported = {
        base + entry.iat_address: text(entry.name)
        for library in binary.imports
        for entry in library.entries
        if entry.name
    }
    wanted = resolve.READ_CALLS | flow.functions_read(set(imported.values()))
    slots = {slot: name for slot, name in imported.items() if name in wanted}
    if not slots:
        return
    sections = [s for s in binary.sections if s.sizeof_raw_data]
    regions = [
        code.Region(
            s.pointerto_raw_data,
            min(s.sizeof_raw_data, s.virtual_size or s.sizeof_raw_data),
            base + s.virtual_address,
        )
        for s in sections
    ]
    program = resolve.Program(
        arch=facts.arch,
        abi="win64" if facts.arch == "x86_64" else "stack",
        code=[
            region
            for region, section in zip(regions, sections, strict=True)
            if section.characteristics & _MEM_EXECUTE
        ],
        mapped=regions,
        stubs={},
        slots=slots,
    )
    program.stubs = resolve.thunks(data, program)
    reading = resolve.read_calls(data, program)
    facts.resolved.update(reading.resolved)
    facts.constant_calls = reading.constant_calls
    facts.fetch_runs = flow.fetch_runs(data, program)
    if reading.resolver_calls:
        facts.details["resolver_calls"] = reading.resolver_calls


def _debug(binary: lief.PE.Binary, facts: BinaryFacts) -> None:
    for entry in binary.debug:
        if isinstance(entry, lief.PE.CodeViewPDB):
            facts.debug_info = True
            guid = entry.guid.replace("-", "").lower() if entry.guid else ""
            facts.build_id = f"{guid}{entry.age:x}" if guid else None
            if entry.filename:
                facts.details["pdb"] = entry.filename
            break


def _hardening(
    characteristics: int,
    dll_flags: int,
    is_64: bool,
    machine: str,
    dotnet: bool,
    load_config: Any,
    signed: bool,
) -> dict[str, Any]:
    aslr = bool(dll_flags & DYNAMIC_BASE) and not characteristics & RELOCS_STRIPPED
    out: dict[str, Any] = {
        "aslr": aslr,
        "dep": bool(dll_flags & NX_COMPAT),
        "force_integrity": bool(dll_flags & FORCE_INTEGRITY),
        "code_signature": signed,
    }
    if is_64:
        out["high_entropy_va"] = aslr and bool(dll_flags & HIGH_ENTROPY_VA)
    if dotnet:
        return out  # IL code: compiler mitigations (/GS, CFG, SafeSEH) do not apply
    out["cfg"] = bool(dll_flags & GUARD_CF)
    out["gs"] = bool(load_config is not None and load_config.security_cookie)
    if machine == "i386":
        handlers = load_config is not None and bool(
            load_config.se_handler_table and load_config.se_handler_count
        )
        out["safe_seh"] = bool(dll_flags & NO_SEH) or handlers
    return out


def _overlay(binary: lief.PE.Binary, data: bytes) -> tuple[int, int] | None:
    """Bytes after the last section that are not the Authenticode certificate table."""
    end = max(
        (s.pointerto_raw_data + s.sizeof_raw_data for s in binary.sections if s.sizeof_raw_data),
        default=binary.optional_header.sizeof_headers,
    )
    # A COFF symbol table (left by MinGW unless stripped) and its string table follow the
    # sections: part of the image, not an overlay.
    header = binary.header
    symbols_at = header.pointerto_symbol_table
    if symbols_at and symbols_at >= end:
        strings_at = symbols_at + header.numberof_symbols * 18
        if strings_at + 4 <= len(data):
            end = max(end, strings_at + struct.unpack_from("<I", data, strings_at)[0])
    limit = len(data)
    cert_offset, cert_size = signing.certificate_table(data)
    if cert_offset and cert_offset >= end and cert_offset + cert_size >= limit:
        limit = cert_offset
    if end < limit:
        return (end, limit - end)
    return None

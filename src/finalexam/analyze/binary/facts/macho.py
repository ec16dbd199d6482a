"""Mach-O (thin or fat): imports, exports, sections and macOS hardening facts, and the calls
of each x86-64 and arm64 slice's code (``facts.resolve``, ``facts.flow``).

Calls to imported functions go through stubs (``__stubs``, ``__auth_stubs``) or pointer slots
(``__got``, ``__la_symbol_ptr``): both are named by the indirect symbol table, whose entries
``reserved1`` of each section starts. Objective-C messages go through ``objc_msgSend`` with
the selector loaded from ``__objc_selrefs``, or through the selector stubs of newer
toolchains (``__objc_stubs``: ``adrp x1``/``ldr x1`` of the selector reference, then
``objc_msgSend``), named here by their selector.
"""

from __future__ import annotations

import re
import struct
from typing import Any

import lief

from finalexam.analyze.binary import signing
from finalexam.analyze.binary.facts import code, flow, resolve
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
    if kind in ("executable", "shared-library"):
        for index in range(len(fat)):
            _read_code(fat.at(index), data, facts)
    return facts


_STUB_SECTIONS = ("symbol_stubs",)
_SLOT_SECTIONS = ("non_lazy_symbol_pointers", "lazy_symbol_pointers")
_INDIRECT_LOCAL = 0x80000000
_INDIRECT_ABSOLUTE = 0x40000000
_SELECTOR = re.compile(rb"[A-Za-z_][A-Za-z0-9_:]{0,254}")
_POINTER_TARGET = 0xFFFFFFFFF  # the target of a chained-fixup rebase (36 bits)


def _read_code(binary: Any, data: bytes, facts: BinaryFacts) -> None:
    """Resolver calls, socket constants and fetch-then-run functions of one slice."""
    arch = _arch(binary)
    if arch not in ("x86_64", "aarch64") or not binary.has_dynamic_symbol_command:
        return
    base = binary.fat_offset
    sections = list(binary.sections)
    mapped = [
        code.Region(base + s.offset, s.size, s.virtual_address)
        for s in sections
        if s.offset and s.size and enum_name(s.type) not in ("zerofill", "gb_zerofill")
    ]
    program = resolve.Program(
        arch=arch,
        abi="sysv",
        code=[
            code.Region(base + s.offset, s.size, s.virtual_address)
            for s in sections
            if s.has(lief.MachO.Section.FLAGS.PURE_INSTRUCTIONS)
            and enum_name(s.type) == "regular"
            and text(s.name) not in ("__stub_helper", "__objc_stubs")
        ],
        mapped=mapped,
        stubs={},
        slots={},
        offset=base,
    )
    wanted = resolve.READ_CALLS | flow.FUNCTIONS | flow.MESSAGE_SENDS
    names = _indirect_names(binary, data, base)
    for section in sections:
        kind = enum_name(section.type)
        if kind not in _STUB_SECTIONS + _SLOT_SECTIONS:
            continue
        step = section.reserved2 if kind in _STUB_SECTIONS else 8
        table = program.stubs if kind in _STUB_SECTIONS else program.slots
        for index in range(section.size // step if step else 0):
            name = names.get(section.reserved1 + index)
            if name in wanted:
                table[section.virtual_address + index * step] = name
    program.selectors = _selectors(binary, data, mapped)
    program.stubs.update(_selector_stubs(binary, data, base, program))
    if binary.has_function_starts:
        text_segment = binary.get_segment("__TEXT")
        if text_segment is not None:
            start = text_segment.virtual_address
            program.functions = sorted(start + f for f in binary.function_starts.functions)
    reading = resolve.read_calls(data, program)
    for name, found in reading.resolved.items():
        facts.resolved.setdefault(name, found)
    facts.constant_calls.extend(reading.constant_calls)
    facts.fetch_runs.extend(flow.fetch_runs(data, program))
    facts.fetch_runs.sort(key=lambda run: not run.flows)


def _indirect_names(binary: Any, data: bytes, base: int) -> dict[int, str]:
    """Index in the indirect symbol table -> the imported symbol's name (no underscore).
    Read from the load commands' offsets: LIEF's list drops local and absolute entries,
    which would shift every index after them."""
    dysymtab = binary.dynamic_symbol_command
    symtab = binary.symbol_command if binary.has_symbol_command else None
    if symtab is None:
        return {}
    count = min(dysymtab.nb_indirect_symbols, 1 << 20)
    start = base + dysymtab.indirect_symbol_offset
    raw = data[start : start + 4 * count]
    entry = 16 if binary.header.magic in (lief.MachO.MACHO_TYPES.MAGIC_64,) else 12
    strings = base + symtab.strings_offset
    strings_end = strings + symtab.strings_size
    names: dict[int, str] = {}
    for index, (symbol,) in enumerate(struct.iter_unpack("<I", raw[: len(raw) // 4 * 4])):
        if symbol & (_INDIRECT_LOCAL | _INDIRECT_ABSOLUTE) or symbol >= symtab.numberof_symbols:
            continue
        at = base + symtab.symbol_offset + symbol * entry
        if at + 4 > len(data):
            continue
        name_at = strings + struct.unpack_from("<I", data, at)[0]
        end = data.find(b"\0", name_at, min(strings_end, name_at + 512))
        if name_at < strings_end and end > name_at:
            names[index] = _plain(data[name_at:end].decode("utf-8", "backslashreplace"))
    return names


def _selectors(binary: Any, data: bytes, mapped: list[code.Region]) -> dict[int, str]:
    """Selector reference address -> selector, from ``__objc_selrefs``."""
    section = next((s for s in binary.sections if text(s.name) == "__objc_selrefs"), None)
    if section is None:
        return {}
    text_segment = binary.get_segment("__TEXT")
    image = text_segment.virtual_address if text_segment is not None else 0
    start = binary.fat_offset + section.offset
    raw = data[start : start + min(section.size, 1 << 22) // 8 * 8]
    found: dict[int, str] = {}
    for index, (pointer,) in enumerate(struct.iter_unpack("<Q", raw)):
        # a plain pointer, or a chained-fixup rebase: its target as an address or an offset
        for address in (pointer, pointer & _POINTER_TARGET, image + (pointer & _POINTER_TARGET)):
            name = _cstring(data, mapped, address)
            if name is not None:
                found[section.virtual_address + 8 * index] = name
                break
    return found


def _selector_stubs(
    binary: Any, data: bytes, base: int, program: resolve.Program
) -> dict[int, str]:
    """``__objc_stubs``: stub address -> the selector it sends (the stub loads it into x1 or
    rsi from a selector reference first)."""
    section = next((s for s in binary.sections if text(s.name) == "__objc_stubs"), None)
    if section is None or not program.selectors:
        return {}
    decoder = code.disassembler(program.arch)
    raw = data[base + section.offset : base + section.offset + min(section.size, 1 << 22)]
    stubs: dict[int, str] = {}
    page: dict[str, int] = {}
    first: int | None = None
    for address, _, mnemonic, operands in decoder.disasm_lite(raw, section.virtual_address):
        target, _, source = operands.partition(", ")
        if mnemonic == "adrp" and target == "x1":
            page["x1"], first = int(source.lstrip("#"), 0), address
        elif mnemonic == "ldr" and target == "x1" and "x1" in page and first is not None:
            found = re.fullmatch(r"\[x1(?:, #(0x[0-9a-f]+|\d+))?\]", source)
            if found is not None:
                selector_ref = page["x1"] + int(found.group(1) or "0", 0)
                if selector_ref in program.selectors:
                    stubs[first] = program.selectors[selector_ref]
        elif mnemonic == "mov" and target == "rsi" and source.startswith("qword ptr [rip + "):
            selector_ref = address + 7 + int(source[len("qword ptr [rip + ") : -1], 0)
            if selector_ref in program.selectors:
                stubs[address] = program.selectors[selector_ref]
    return stubs


def _cstring(data: bytes, mapped: list[code.Region], address: int) -> str | None:
    for region in mapped:
        if region.address <= address < region.address + region.size:
            at = region.offset + address - region.address
            end = data.find(b"\0", at, at + 256)
            if end > at and _SELECTOR.fullmatch(data[at:end]):
                return data[at:end].decode("ascii")
            return None
    return None


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

"""Just enough of ELF, PE and Mach-O to find sections and map addresses, parsed by hand.

Catalogers read a few bytes of a binary (a build-info blob, a custom section, the dynamic
table); a full parser would cost more than the answer. Every read is bounds-checked: a
truncated or hostile header yields fewer sections, never an exception from here.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Any

from finalexam.model import Blob

_MAX_SECTIONS = 4096
_MAX_LOAD_COMMANDS = 4096
_MAX_FAT_ARCHES = 64


@dataclass(frozen=True)
class Section:
    name: str
    offset: int  # file offset of the section's bytes
    size: int  # bytes present in the file (0 for bss-like sections)
    address: int  # virtual address when loaded
    kind: int = 0  # ELF sh_type; 0 elsewhere
    link: int = 0  # ELF sh_link (the string table of .dynamic)


@dataclass(frozen=True)
class Binary:
    format: str  # elf, pe, macho
    sections: tuple[Section, ...]
    pointer_size: int
    big_endian: bool

    def section(self, *names: str) -> Section | None:
        for name in names:
            for section in self.sections:
                if section.name == name:
                    return section
        return None

    def read(self, data: Blob, section: Section) -> bytes:
        return bytes(data[section.offset : section.offset + section.size])

    def address_to_offset(self, address: int) -> int | None:
        for section in self.sections:
            if section.size and section.address <= address < section.address + section.size:
                return section.offset + (address - section.address)
        return None


def _unpack(fmt: str, data: Blob, offset: int) -> tuple[Any, ...] | None:
    size = struct.calcsize(fmt)
    if offset < 0 or offset + size > len(data):
        return None
    return struct.unpack_from(fmt, data, offset)


def _cstring(raw: bytes | Blob, offset: int, limit: int = 256) -> str:
    if offset < 0 or offset >= len(raw):
        return ""
    end = raw.find(b"\x00", offset, offset + limit)
    if end < 0:
        end = min(len(raw), offset + limit)
    return bytes(raw[offset:end]).decode("utf-8", "replace")


def parse(data: Blob) -> Binary | None:
    """The binary's sections, or None when it is not a (readable) ELF, PE or Mach-O."""
    head = bytes(data[:4])
    if head == b"\x7fELF":
        return _parse_elf(data)
    if head[:2] == b"MZ":
        return _parse_pe(data)
    if head in (b"\xca\xfe\xba\xbe",):
        return _parse_fat(data)
    if head in (b"\xcf\xfa\xed\xfe", b"\xce\xfa\xed\xfe", b"\xfe\xed\xfa\xcf", b"\xfe\xed\xfa\xce"):
        return _parse_macho(data, 0)
    return None


def _parse_elf(data: Blob) -> Binary | None:
    if len(data) < 0x40:
        return None
    is64 = data[4] == 2
    big = data[5] == 2
    e = ">" if big else "<"
    if is64:
        header = _unpack(e + "Q", data, 0x28)
        counts = _unpack(e + "HHH", data, 0x3A)
        entry_fmt = e + "IIQQQQIIQQ"
    else:
        header = _unpack(e + "I", data, 0x20)
        counts = _unpack(e + "HHH", data, 0x2E)
        entry_fmt = e + "IIIIIIIIII"
    if header is None or counts is None:
        return None
    shoff = header[0]
    entsize, shnum, shstrndx = counts
    if shoff == 0 or entsize < struct.calcsize(entry_fmt) or shnum > _MAX_SECTIONS:
        return Binary("elf", (), 8 if is64 else 4, big)
    raw: list[tuple[int, ...]] = []
    for index in range(shnum):
        entry = _unpack(entry_fmt, data, shoff + index * entsize)
        if entry is None:
            break
        raw.append(entry)
    names = b""
    if shstrndx < len(raw):
        strtab = raw[shstrndx]
        names = bytes(data[strtab[4] : strtab[4] + min(strtab[5], 1 << 20)])
    sections = []
    for name_off, kind, _flags, addr, offset, size, link, *_ in raw:
        present = 0 if kind == 8 else size  # SHT_NOBITS occupies no file bytes
        if offset + present > len(data):
            present = max(0, len(data) - offset)
        sections.append(Section(_cstring(names, name_off), offset, present, addr, kind, link))
    return Binary("elf", tuple(sections), 8 if is64 else 4, big)


def _parse_pe(data: Blob) -> Binary | None:
    lfanew = _unpack("<I", data, 0x3C)
    if lfanew is None or bytes(data[lfanew[0] : lfanew[0] + 4]) != b"PE\x00\x00":
        return None
    coff = lfanew[0] + 4
    fields = _unpack("<HHIIIHH", data, coff)
    if fields is None:
        return None
    _machine, nsections, _, _, _, optional_size, _ = fields
    optional = coff + 20
    magic = _unpack("<H", data, optional)
    if magic is None:
        return None
    if magic[0] == 0x20B:
        base = _unpack("<Q", data, optional + 24)
        pointer_size = 8
    else:
        base = _unpack("<I", data, optional + 28)
        pointer_size = 4
    image_base = base[0] if base else 0
    table = optional + optional_size
    sections = []
    for index in range(min(nsections, _MAX_SECTIONS)):
        entry = _unpack("<8sIIII", data, table + index * 40)
        if entry is None:
            break
        raw_name, virtual_size, virtual_address, raw_size, raw_pointer = entry
        name = raw_name.rstrip(b"\x00").decode("utf-8", "replace")
        size = min(raw_size, virtual_size) if virtual_size else raw_size
        size = max(0, min(size, len(data) - raw_pointer))
        sections.append(Section(name, raw_pointer, size, image_base + virtual_address))
    return Binary("pe", tuple(sections), pointer_size, False)


def _parse_fat(data: Blob) -> Binary | None:
    count = _unpack(">I", data, 4)
    if count is None or count[0] == 0 or count[0] > _MAX_FAT_ARCHES:
        return None
    first = _unpack(">IIIII", data, 8)
    if first is None:
        return None
    return _parse_macho(data, first[2])


def _parse_macho(data: Blob, base: int) -> Binary | None:
    magic = bytes(data[base : base + 4])
    big = magic in (b"\xfe\xed\xfa\xcf", b"\xfe\xed\xfa\xce")
    is64 = magic in (b"\xcf\xfa\xed\xfe", b"\xfe\xed\xfa\xcf")
    e = ">" if big else "<"
    header = _unpack(e + "IiiIIII", data, base)
    if header is None:
        return None
    ncmds = min(header[4], _MAX_LOAD_COMMANDS)
    cursor = base + (32 if is64 else 28)
    sections: list[Section] = []
    for _ in range(ncmds):
        command = _unpack(e + "II", data, cursor)
        if command is None or command[1] < 8:
            break
        cmd, cmdsize = command
        if cmd in (0x19, 0x1):
            seg64 = cmd == 0x19
            seg_fmt = e + ("16sQQQQiiII" if seg64 else "16sIIIIiiII")
            sect_fmt = e + ("16s16sQQIIIIIIII" if seg64 else "16s16sIIIIIIIII")
            segment = _unpack(seg_fmt, data, cursor + 8)
            if segment is not None:
                nsects = min(segment[7], _MAX_SECTIONS)
                entry = cursor + 8 + struct.calcsize(seg_fmt)
                for _ in range(nsects):
                    section = _unpack(sect_fmt, data, entry)
                    if section is None:
                        break
                    entry += struct.calcsize(sect_fmt)
                    sectname = section[0].rstrip(b"\x00").decode("utf-8", "replace")
                    segname = section[1].rstrip(b"\x00").decode("utf-8", "replace")
                    address, size, offset = section[2], section[3], section[4]
                    zerofill = (section[8] & 0xFF) in (1, 12, 18)
                    file_offset = base + offset
                    present = 0 if zerofill or offset == 0 else size
                    present = max(0, min(present, len(data) - file_offset))
                    sections.append(Section(f"{segname},{sectname}", file_offset, present, address))
        cursor += cmdsize
    return Binary("macho", tuple(sections), 8 if is64 else 4, big)


def elf_dynamic(data: Blob, binary: Binary) -> tuple[str | None, tuple[str, ...], tuple[str, ...]]:
    """An ELF file's SONAME, NEEDED libraries and RUNPATH/RPATH entries."""
    if binary.format != "elf":
        return None, (), ()
    dynamic = next((s for s in binary.sections if s.kind == 6), None)  # SHT_DYNAMIC
    if dynamic is None or dynamic.link >= len(binary.sections):
        return None, (), ()
    strtab = binary.sections[dynamic.link]
    strings = binary.read(data, strtab)
    e = ">" if binary.big_endian else "<"
    fmt = e + ("qQ" if binary.pointer_size == 8 else "iI")
    step = struct.calcsize(fmt)
    soname: str | None = None
    needed: list[str] = []
    paths: list[str] = []
    raw = binary.read(data, dynamic)
    for offset in range(0, len(raw) - step + 1, step):
        tag, value = struct.unpack_from(fmt, raw, offset)
        if tag == 0:  # DT_NULL
            break
        if tag == 1:  # DT_NEEDED
            needed.append(_cstring(strings, value))
        elif tag == 14:  # DT_SONAME
            soname = _cstring(strings, value)
        elif tag in (15, 29):  # DT_RPATH, DT_RUNPATH
            paths.extend(p for p in _cstring(strings, value, 4096).split(":") if p)
    return soname, tuple(needed), tuple(paths)


def uleb128(data: bytes | Blob, offset: int, max_bits: int = 64) -> tuple[int, int] | None:
    """An unsigned LEB128 integer (Go's uvarint, WebAssembly's u32): (value, next offset)."""
    value = shift = 0
    while offset < len(data) and shift < max_bits:
        byte = data[offset]
        offset += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, offset
        shift += 7
    return None

"""Go's pclntab: the names of the functions a Go binary links, read without running it.

Since Go 1.16 the linker writes a function-name table (``funcnametab``) in the pclntab, which
stripping (``-ldflags=-s -w``) keeps: the runtime needs it for stack traces. It holds the name
of every linked function and of every function inlined into one, so a name that is absent
was not linked in. The header (``runtime/symtab.go``, ``debug/gosym``):

    magic u32 (0xfffffffa Go 1.16-1.17, 0xfffffff0 Go 1.18-1.19, 0xfffffff1 Go 1.20+)
    two zero bytes, instruction quantum (1, 2 or 4), pointer size (4 or 8)
    nfunc, nfiles, [textStart (1.18+)], funcnameOffset, cuOffset, filetabOffset, ...

The name table runs from ``funcnameOffset`` to ``cuOffset``. Older tables (Go < 1.16) have
no separate name table and are not read: their symbols stay unknown.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Iterator
from dataclasses import dataclass

from finalexam.formats.binformat import Binary, parse
from finalexam.model import Blob

_MAGICS = {0xFFFFFFFA: "1.16", 0xFFFFFFF0: "1.18", 0xFFFFFFF1: "1.20"}
_SECTIONS = (".gopclntab", "__TEXT,__gopclntab", "__DATA_CONST,__gopclntab")
_MAX_TABLE = 512 * 1024 * 1024
_GENERIC = re.compile(r"\[[^\[\]]*\]")  # instantiation brackets, innermost first


@dataclass(frozen=True)
class GoSymbols:
    """The functions a Go binary links: ``path/pkg.Func``, ``path/pkg.Type.Method``."""

    functions: frozenset[str]
    packages: frozenset[str]

    def has(self, package: str, symbol: str) -> bool:
        return f"{package}.{symbol}" in self.functions


def _header(data: Blob, at: int) -> tuple[int, int, str] | None:
    """(name table start, name table end, Go version) of a pclntab header at ``at``."""
    if at < 0 or at + 8 > len(data):
        return None
    for order in ("<", ">"):
        (magic,) = struct.unpack_from(f"{order}I", data, at)
        if magic not in _MAGICS or data[at + 4] or data[at + 5]:
            continue
        quantum, size = data[at + 6], data[at + 7]
        if quantum not in (1, 2, 4) or size not in (4, 8):
            continue
        version = _MAGICS[magic]
        count = 7 if version == "1.16" else 8
        word = "Q" if size == 8 else "I"
        if at + 8 + count * size > len(data):
            return None
        fields = struct.unpack_from(f"{order}{count}{word}", data, at + 8)
        names, units = (fields[2], fields[3]) if version == "1.16" else (fields[3], fields[4])
        start, end = at + names, at + units
        if not 8 <= names < units or units - names > _MAX_TABLE or end > len(data):
            return None
        return start, end, version
    return None


def _candidates(data: Blob, binary: Binary | None) -> Iterator[int]:
    if binary is not None:
        section = binary.section(*_SECTIONS)
        if section is not None and section.size:
            yield section.offset
    # PE binaries (and ELF files whose section table is gone) keep the table in a data
    # section with no name of its own: find its header.
    for magic in (
        b"\xf1\xff\xff\xff\x00\x00",
        b"\xf0\xff\xff\xff\x00\x00",
        b"\xfa\xff\xff\xff\x00\x00",
        b"\xff\xff\xff\xf1\x00\x00",
        b"\xff\xff\xff\xf0\x00\x00",
        b"\xff\xff\xff\xfa\x00\x00",
    ):
        at = data.find(magic)
        while at >= 0:
            yield at
            at = data.find(magic, at + 1)


def split_name(function: str) -> tuple[str, str] | None:
    """``net/http.(*Server).Serve`` -> (``net/http``, ``Server.Serve``); generic brackets and
    the linker's escaping of dots in a path's last element (``yaml%2ev2``) undone."""
    if function.startswith(("type:", "go:", "go.")):
        return None  # compiler-made symbols, not the package's functions
    name = function
    while "[" in name:
        shorter = _GENERIC.sub("", name)
        if shorter == name:
            break
        name = shorter
    slash = name.rfind("/")
    dot = name.find(".", slash + 1)
    if dot <= 0:
        return None
    package, symbol = name[:dot].replace("%2e", "."), name[dot + 1 :]
    symbol = symbol.replace("(*", "").replace(")", "")
    return package, symbol


def go_symbols(data: Blob) -> GoSymbols | None:
    """The functions a Go binary links, or None when no readable name table is found."""
    binary = parse(data)
    for at in _candidates(data, binary):
        header = _header(data, at)
        if header is None:
            continue
        start, end, _ = header
        functions: set[str] = set()
        packages: set[str] = set()
        for raw in bytes(data[start:end]).split(b"\x00"):
            split = split_name(raw.decode("utf-8", "replace")) if raw else None
            if split is not None:
                functions.add(f"{split[0]}.{split[1]}")
                packages.add(split[0])
        if functions:
            return GoSymbols(frozenset(functions), frozenset(packages))
    return None


def function_ranges(data: Blob, wanted: frozenset[str]) -> dict[str, tuple[int, int]]:
    """Where the functions named in ``wanted`` are loaded (start, end addresses; Go 1.16+), from
    the pclntab's function table: what a stripped binary's symbol table no longer says."""
    binary = parse(data)
    for at in _candidates(data, binary):
        header = _header(data, at)
        if header is None:
            continue
        entries = _entries(data, at, header[0], header[2], wanted)
        if entries is not None:
            return entries
    return {}


def _entries(
    data: Blob, at: int, names: int, version: str, wanted: frozenset[str]
) -> dict[str, tuple[int, int]] | None:
    order = "<" if data[at] in (0xF0, 0xF1, 0xFA) else ">"
    size = data[at + 7]
    word = "Q" if size == 8 else "I"
    count = 7 if version == "1.16" else 8
    fields = struct.unpack_from(f"{order}{count}{word}", data, at + 8)
    functions, table = fields[0], at + fields[-1]
    # Go 1.18+: (entry offset from textStart, _func offset) as uint32 pairs; 1.16: uintptrs
    text_start, pair = (0, f"{order}2{word}") if version == "1.16" else (fields[2], f"{order}2I")
    step = struct.calcsize(pair)
    entry_of = f"{order}{word}" if version == "1.16" else f"{order}I"
    if table + (functions + 1) * step > len(data):
        return None
    found: dict[str, tuple[int, int]] = {}
    for index in range(functions):
        _, offset = struct.unpack_from(pair, data, table + index * step)
        following, _ = struct.unpack_from(pair, data, table + (index + 1) * step)
        record = table + offset
        if record + struct.calcsize(entry_of) + 4 > len(data):
            return None
        (entry,) = struct.unpack_from(entry_of, data, record)
        (name_offset,) = struct.unpack_from(f"{order}i", data, record + struct.calcsize(entry_of))
        start = names + name_offset
        end = bytes(data[start : start + 256]).find(b"\x00")
        name = bytes(data[start : start + end]).decode("utf-8", "replace") if end > 0 else ""
        if name in wanted:
            found[name] = (text_start + entry, text_start + following)
    return found

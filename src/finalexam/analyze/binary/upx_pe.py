"""UPX-packed PE programs (win32/pe, win64/pe): the original sections and imports, statically.

UPX's PE container keeps three sections: ``UPX0`` (no file data: the address range the
original sections are decompressed into), ``UPX1`` (a pack header, the compressed data, the
loader) and ``UPX2`` or ``.rsrc`` (what stays uncompressed: resources, a small import table,
relocations). The pack header (``UPX!``, within 1 KiB from 64 bytes before ``UPX1``'s file
data) gives the format (9 win32/pe, 36 win64/pe), the method, the sizes, and the call filter
applied to the code; the compressed data follows it.

Decompressed (``upx.decompress``: NRV2B/2D/2E, LZMA), the data is the original image from its
first section's address on, followed by UPX's own records and, at its end, the offset of an
"extra info" block: the original PE header and section table, then the offset of UPX's
compressed import table and of the original import names. That table lists, per library, the
offset of its name in the packed file's import table, the offset of its import address table
in the image, then its entries: ``01`` and a name, ``FF`` and a 16-bit ordinal, ``FE`` and the
offset of a kernel32 ordinal thunk in the packed file's import table; a zero ends the library,
a zero name offset the table. UPX cleared the original import descriptors and names, which its
loader rebuilds at run time.

Here the original program is laid out as a PE file for the parser (the facts are wanted, not
a runnable program): the original header and sections at fresh file offsets, the call filter
undone over the code, the absolute addresses UPX made relative put back (from its relocation
list; the relocation directory itself is dropped: the image is laid out at its preferred
base), and the imports written back as a new import table in a section of their own, whose
address-table entries are the original ones. Not restored: resources that stayed
uncompressed in the packed file, the exports of a DLL UPX moved. A
file cut inside the compressed data is reported, not laid out (the extra info is at its end).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import TYPE_CHECKING

from finalexam.analyze.binary import upx

if TYPE_CHECKING:
    from finalexam.analyze.binary.facts.common import BinaryFacts

FORMATS = {9: "win32/pe", 36: "win64/pe"}
_HEADER_SIZE = 32  # UPX!, version, format, method, level, two checksums, sizes, filter
_MAX_IMPORTS = 65_536  # entries of UPX's import table, across all libraries
# data directories: export, import, resource, base relocation, debug, bound import, IAT
_EXPORT, _IMPORT, _RESOURCE, _RELOC, _DEBUG, _BOUND, _IAT = 0, 1, 2, 5, 6, 11, 12
_RELOCS_STRIPPED = 0x0001  # IMAGE_FILE_HEADER.Characteristics


@dataclass(frozen=True)
class Header:
    offset: int  # of the UPX! magic
    version: int
    format: int
    method: int
    unpacked_size: int
    packed_size: int
    filter_id: int
    filter_cto: int

    def describe(self) -> str:
        return (
            f"UPX header at offset {self.offset}: format {FORMATS[self.format]}, "
            f"method {upx.METHODS.get(self.method, self.method)}, "
            f"unpacked size {self.unpacked_size}"
        )


@dataclass(frozen=True)
class _Section:
    name: bytes
    vsize: int
    vaddr: int
    size: int
    rawdataptr: int
    rest: bytes  # relocations, line numbers, flags: kept as they were

    @classmethod
    def read(cls, data: bytes, at: int) -> _Section:
        name, vsize, vaddr, size, raw = struct.unpack_from("<8sIIII", data, at)
        return cls(name, vsize, vaddr, size, raw, data[at + 24 : at + 40])

    def pack(self, rawdataptr: int, size: int) -> bytes:
        return struct.pack("<8sIIII", self.name, self.vsize, self.vaddr, size, rawdataptr) + (
            self.rest
        )


def _sections(data: bytes) -> tuple[int, list[_Section]] | None:
    """The PE header's offset and the section table, when both are inside the file."""
    if len(data) < 0x40 or data[:2] != b"MZ":
        return None
    pe = struct.unpack_from("<I", data, 0x3C)[0]
    if pe + 24 > len(data) or data[pe : pe + 4] != b"PE\0\0":
        return None
    (count,) = struct.unpack_from("<H", data, pe + 6)
    (optional_size,) = struct.unpack_from("<H", data, pe + 20)
    table = pe + 24 + optional_size
    if table + 40 * count > len(data):
        return None
    return pe, [_Section.read(data, table + 40 * index) for index in range(count)]


def header(data: bytes) -> Header | None:
    """UPX's pack header in a PE file, where UPX's unpacker looks for it (from 64 bytes
    before the second section's file data), when it is whole and names a PE format."""
    found = _sections(data)
    if found is None or len(found[1]) < 2:
        return None
    start = max(found[1][1].rawdataptr - 64, 0)
    at = data.find(b"UPX!", start, start + 1024)
    if at < 0 or at + _HEADER_SIZE > len(data):
        return None
    version, fmt, method = data[at + 4], data[at + 5], data[at + 6]
    unpacked, packed = struct.unpack_from("<II", data, at + 16)
    filter_id, cto = data[at + 28], data[at + 29]
    if fmt not in FORMATS or not 0 < unpacked <= upx.MAX_UNPACKED or packed == 0:
        return None
    return Header(at, version, fmt, method, unpacked, packed, filter_id, cto)


def examine_unpacked(data: bytes) -> tuple[BinaryFacts, upx.Unpacking]:
    """The facts of the unpacked program, and the program (run in the supervised child)."""
    from finalexam.analyze.binary.facts.parse import examine

    image = unpack_pe(data)
    return examine(image), upx.Unpacking(image)


def unpack_pe(data: bytes) -> bytes:
    """The original program as a PE file: its header, sections and imports (see above)."""
    found = header(data)
    packed_sections = _sections(data)
    if found is None or packed_sections is None:
        raise upx.UnpackError("no UPX header")
    start = found.offset + _HEADER_SIZE
    packed = data[start : start + found.packed_size]
    if len(packed) < found.packed_size:
        raise upx.UnpackError(
            f"compressed data at {start} is cut short: {len(packed)} of {found.packed_size} "
            "bytes (the original headers are stored at its end)"
        )
    if found.unpacked_size > upx.MAX_RATIO * len(data):
        raise upx.UnpackError(f"unpacks to {found.unpacked_size} bytes, too many for its size")
    pure_python = found.method == 14 and upx.liblzma_refuses(packed)
    if pure_python and found.unpacked_size > upx.MAX_PYTHON_LZMA:
        raise upx.UnpackLimit(
            f"LZMA data with lc={packed[1] & 15}, lp={packed[1] >> 4} (not supported by "
            f"liblzma) unpacks to {found.unpacked_size} bytes, over the "
            f"{upx.MAX_PYTHON_LZMA} bytes the pure-Python decoder is given"
        )
    image = bytearray(upx.decompress(packed, found.method, found.unpacked_size))
    return _Original(image, found, data, packed_sections[1]).file()


class _Original:
    """The decompressed image (``image[0]`` is at the first original section's address) and
    what the extra info at its end says about it."""

    def __init__(
        self, image: bytearray, found: Header, data: bytes, packed_sections: list[_Section]
    ) -> None:
        self.image = image
        self.wide = found.format == 36
        self.packed = data
        self.packed_sections = packed_sections
        self.thunk = 8 if self.wide else 4
        header_size = 264 if self.wide else 248
        (extra,) = self._read("<I", len(image) - 4)
        self.header = bytearray(self._bytes(extra, header_size, "the original PE header"))
        if self.header[:4] != b"PE\0\0":
            raise upx.UnpackError("the extra info does not start with the original PE header")
        (count,) = struct.unpack_from("<H", self.header, 6)
        table = self._bytes(extra + header_size, 40 * count, "the original section table")
        self.sections = [_Section.read(table, 40 * index) for index in range(count)]
        if not self.sections:
            raise upx.UnpackError("the original section table is empty")
        self.rvamin = self.sections[0].vaddr
        self.directories = 136 if self.wide else 120  # in the header, from PE\0\0
        # then, when there were imports, two offsets; when relocations, one and a flag byte
        records = extra + header_size + 40 * count
        self.compressed_imports: int | None = None
        if self._directory(_IMPORT)[0]:
            (self.compressed_imports,) = self._read("<I", records)
            records += 8
        self._unfilter(found)
        reloc_rva, reloc_size = self._directory(_RELOC)
        (flags,) = struct.unpack_from("<H", self.header, 22)
        if reloc_rva and reloc_size and not flags & _RELOCS_STRIPPED:
            self._relocate(self._read("<I", records)[0])

    def _bytes(self, at: int, size: int, what: str) -> bytes:
        if at < 0 or at + size > len(self.image):
            raise upx.UnpackError(f"{what} lies outside the unpacked data (at {at})")
        return bytes(self.image[at : at + size])

    def _read(self, layout: str, at: int) -> tuple[int, ...]:
        return struct.unpack(layout, self._bytes(at, struct.calcsize(layout), "a record"))

    def _directory(self, index: int) -> tuple[int, int]:
        rva, size = struct.unpack_from("<II", self.header, self.directories + 8 * index)
        return rva, size

    def _set_directory(self, index: int, rva: int, size: int) -> None:
        struct.pack_into("<II", self.header, self.directories + 8 * index, rva, size)

    def _unfilter(self, found: Header) -> None:
        """UPX filtered the code (``BaseOfCode``, ``SizeOfCode``) with the code's offset in
        the image as the filter's base."""
        if not found.filter_id:
            return
        (code_size,) = struct.unpack_from("<I", self.header, 28)
        (code_base,) = struct.unpack_from("<I", self.header, 44)
        start = code_base - self.rvamin
        if start < 0 or start + code_size > len(self.image):
            raise upx.UnpackError("the filtered code lies outside the unpacked data")
        code = bytes(self.image[start : start + code_size])
        self.image[start : start + code_size] = upx.unfilter(
            code, found.filter_id, found.filter_cto, start
        )

    def _relocate(self, at: int) -> None:
        """Put back the absolute addresses UPX made relative: its relocation list (offsets in
        the image, delta-coded: a byte below F0, or F0-FF with 16 more bits, or F0 0000 and
        32 bits) marks each address it stored big-endian minus the image base and the first
        section's address (PE32's HIGHLOW, PE32+'s DIR64 relocations)."""
        layout = "Q" if self.wide else "I"
        (image_base,) = struct.unpack_from("<" + layout, self.header, 48 if self.wide else 52)
        mask = (1 << (8 * self.thunk)) - 1
        position = -4
        for _ in range(len(self.image)):  # each record takes at least a byte
            code = self._bytes(at, 1, "the relocation list")[0]
            if code == 0:
                return
            if code < 0xF0:
                delta, at = code, at + 1
            else:
                (low,) = self._read("<H", at + 1)
                delta, at = (code & 0x0F) * 0x10000 + low, at + 3
                if delta == 0:
                    (delta,) = self._read("<I", at)
                    at += 4
            position += delta
            if position < 0 or position + self.thunk > len(self.image):
                raise upx.UnpackError(f"a relocation at {position} is outside the image")
            (value,) = struct.unpack_from(">" + layout, self.image, position)
            address = (value + image_base + self.rvamin) & mask
            struct.pack_into("<" + layout, self.image, position, address)
        raise upx.UnpackError("the relocation list does not end")

    def _packed_import_table(self) -> tuple[int, bytes]:
        """The packed file's own import table (its RVA, and the bytes of its section from
        there), where UPX keeps the library names its table points into."""
        pe = _pe_offset(self.packed)
        (magic,) = struct.unpack_from("<H", self.packed, pe + 24)
        directories = pe + 24 + (112 if magic == 0x20B else 96)
        if directories + 8 * _IMPORT + 4 > len(self.packed):
            raise upx.UnpackError("the packed file's PE header is cut short")
        (rva,) = struct.unpack_from("<I", self.packed, directories + 8 * _IMPORT)
        for section in self.packed_sections:
            if section.vaddr <= rva < section.vaddr + max(section.vsize, section.size):
                at = section.rawdataptr + rva - section.vaddr
                end = section.rawdataptr + section.size
                return rva, self.packed[at:end]
        raise upx.UnpackError("the packed file's import table is outside its sections")

    def imports(self) -> list[tuple[bytes, int, list[bytes | int]]]:
        """Per library: its name, its import address table's RVA, and its entries (names,
        or ordinals with the ordinal flag set)."""
        if self.compressed_imports is None:
            return []
        _rva, table = self._packed_import_table()
        flag = 1 << (8 * self.thunk - 1)
        out: list[tuple[bytes, int, list[bytes | int]]] = []
        at, entries = self.compressed_imports, 0
        while True:
            (name_offset,) = self._read("<I", at)
            if name_offset == 0:
                return out
            (iat,) = self._read("<I", at + 4)
            at += 8
            name = _c_string(table, name_offset, "a library name")
            items: list[bytes | int] = []
            while True:
                kind = self._bytes(at, 1, "an import entry")[0]
                entries += 1
                if entries > _MAX_IMPORTS:
                    raise upx.UnpackError(f"more than {_MAX_IMPORTS} imports")
                if kind == 0:
                    at += 1
                    break
                if kind == 1:
                    end = self.image.find(b"\0", at + 1)
                    if end < 0:
                        raise upx.UnpackError("an import name runs past the unpacked data")
                    items.append(bytes(self.image[at + 1 : end]))
                    at = end + 1
                elif kind == 0xFF:
                    (ordinal,) = self._read("<H", at + 1)
                    items.append(ordinal | flag)
                    at += 3
                else:  # 0xFE: an ordinal thunk kept in the packed file's import table
                    (thunk_at,) = self._read("<I", at + 1)
                    thunk = table[thunk_at : thunk_at + self.thunk]
                    if len(thunk) < self.thunk:
                        raise upx.UnpackError("a kernel32 ordinal lies outside the import table")
                    items.append(int.from_bytes(thunk, "little") | flag)
                    at += 5
            out.append((name, iat + self.rvamin, items))

    def file(self) -> bytes:
        """The original program as a PE file, with a new import table section."""
        libraries = self.imports()
        (alignment,) = struct.unpack_from("<I", self.header, 56)
        (file_alignment,) = struct.unpack_from("<I", self.header, 60)
        if not _power_of_two(alignment) or not _power_of_two(file_alignment):
            raise upx.UnpackError("the original PE header has a bad alignment")
        end = max((s.vaddr + max(s.vsize, s.size) for s in self.sections), default=0)
        new_rva = _align(max(end, self.rvamin + len(self.image)), alignment)
        table = self._import_table(libraries, new_rva) if libraries else b""
        for index in (_RELOC, _DEBUG, _BOUND, _IAT):
            self._set_directory(index, 0, 0)
        self._set_directory(_IMPORT, new_rva if table else 0, 20 * (len(libraries) + 1))
        for index in (_EXPORT, _RESOURCE):  # zeros where UPX moved them out of the image
            rva = self._directory(index)[0]
            at = rva - self.rvamin
            if rva and not any(self.image[at : at + 16]):
                self._set_directory(index, 0, 0)
        sections = list(self.sections)
        if table:
            sections.append(_Section(b".upximp", len(table), new_rva, len(table), 0, bytes(16)))
        optional_size = 240 if self.wide else 224
        struct.pack_into("<H", self.header, 6, len(sections))
        struct.pack_into("<H", self.header, 20, optional_size)
        headers = _align(0x40 + 24 + optional_size + 40 * len(sections), file_alignment)
        struct.pack_into("<I", self.header, 84, headers)  # SizeOfHeaders
        image_end = max(s.vaddr + max(s.vsize, s.size) for s in sections)
        struct.pack_into("<I", self.header, 80, _align(image_end, alignment))  # SizeOfImage
        body, table_entries, position = bytearray(), bytearray(), headers
        for section in sections:
            start = section.vaddr - self.rvamin
            if section.vaddr == new_rva and table:
                content = table
            elif section.rawdataptr == 0 or section.size == 0 or start < 0:
                table_entries += section.pack(0, 0 if start < 0 else section.size)
                continue
            else:
                content = bytes(self.image[start : start + section.size])
            if len(body) + len(content) > upx.MAX_UNPACKED:  # sections that overlap, many times
                raise upx.UnpackError(f"the original sections add up to over {upx.MAX_UNPACKED}")
            raw_size = _align(len(content), file_alignment)
            table_entries += section.pack(position, raw_size)
            body += content + bytes(raw_size - len(content))
            position += raw_size
        dos = bytearray(0x40)
        dos[:2] = b"MZ"
        struct.pack_into("<I", dos, 0x3C, 0x40)
        head = bytes(dos) + bytes(self.header[: 24 + optional_size]) + bytes(table_entries)
        return head + bytes(headers - len(head)) + bytes(body)

    def _import_table(
        self, libraries: list[tuple[bytes, int, list[bytes | int]]], rva: int
    ) -> bytes:
        """Descriptors, lookup tables, names: the import table UPX's loader would have
        resolved, its address-table entries written back where the original had them."""
        thunk_layout = "<Q" if self.wide else "<I"
        descriptors = 20 * (len(libraries) + 1)
        lookups_size = sum(self.thunk * (len(items) + 1) for _, _, items in libraries)
        names = bytearray()
        names_rva = rva + descriptors + lookups_size
        out = bytearray(descriptors)
        lookups = bytearray()
        for index, (library, iat, items) in enumerate(libraries):
            lookup_rva = rva + descriptors + len(lookups)
            library_rva = names_rva + len(names)
            names += library + b"\0"
            thunks: list[int] = []
            for item in items:
                if isinstance(item, int):
                    thunks.append(item)
                    continue
                if len(names) % 2:
                    names += b"\0"
                thunks.append(names_rva + len(names))
                names += b"\0\0" + item + b"\0"
            thunks.append(0)
            for position, value in enumerate(thunks):
                lookups += struct.pack(thunk_layout, value)
                slot = iat - self.rvamin + position * self.thunk
                if slot >= 0 and slot + self.thunk <= len(self.image):
                    struct.pack_into(thunk_layout, self.image, slot, value)
            struct.pack_into("<IIIII", out, 20 * index, lookup_rva, 0, 0, library_rva, iat)
        return bytes(out + lookups + names)


def _pe_offset(data: bytes) -> int:
    return int(struct.unpack_from("<I", data, 0x3C)[0])


def _c_string(data: bytes, at: int, what: str) -> bytes:
    end = data.find(b"\0", at)
    if at < 0 or at >= len(data) or end < 0:
        raise upx.UnpackError(f"{what} lies outside the packed file's import table")
    return data[at:end]


def _align(value: int, alignment: int) -> int:
    return (value + alignment - 1) // alignment * alignment


def _power_of_two(value: int) -> bool:
    return value > 0 and value & (value - 1) == 0

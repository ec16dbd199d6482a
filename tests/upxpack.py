"""UPX's compression and call filters written from the format, to build UPX containers in the
tests (``upx`` itself is never run: Debian bookworm has no ``upx-ucl``)."""

from __future__ import annotations

import lzma
import struct

import lzmaenc


class Bits:
    """UCL's bit stream as the decoder reads it: 32-bit little-endian words, most significant
    bit first, interleaved with whole bytes."""

    def __init__(self) -> None:
        self.out = bytearray()
        self.word_at = -1
        self.count = 0
        self.word = 0

    def bit(self, value: int) -> None:
        if self.count == 0:
            self.flush()
            self.word_at = len(self.out)
            self.out += b"\0\0\0\0"
            self.count = 32
        self.count -= 1
        self.word |= value << self.count

    def byte(self, value: int) -> None:
        self.out.append(value)

    def flush(self) -> None:
        if self.word_at >= 0:
            self.out[self.word_at : self.word_at + 4] = self.word.to_bytes(4, "little")
        self.word = 0

    def gamma(self, value: int) -> None:  # NRV2B: the bits after the leading 1, each + stop
        digits = bin(value)[3:]
        for index, digit in enumerate(digits):
            self.bit(int(digit))
            self.bit(1 if index == len(digits) - 1 else 0)

    def gamma_de(self, value: int) -> None:  # NRV2D/E offsets: two data bits per stop bit
        steps: list[tuple[int, ...]] = [(value & 1, 1)]
        value >>= 1
        while value != 1:
            low = value & 1
            value = (value >> 1) + 1
            steps.insert(0, (value & 1, 0, low))
            value >>= 1
        for step in steps:
            for bit in step:
                self.bit(bit)

    def done(self) -> bytes:
        self.flush()
        return bytes(self.out)


def nrv(data: bytes, variant: str) -> bytes:
    """A greedy NRV2B/2D/2E encoder (le32): literals, and matches found through 3-byte
    prefixes at offsets up to 0x500 (so no variant adds its long-offset length bonus)."""
    bits, seen, index, last = Bits(), {}, 0, 0
    while index < len(data):
        key = data[index : index + 3]
        start = seen.get(key)
        seen[key] = index
        length = 0
        if start is not None and len(key) == 3:
            while index + length < len(data) and data[start + length] == data[index + length]:
                length += 1
        offset = index - start if start is not None else 0
        if length < 3 or offset > 0x500:
            bits.bit(1)
            bits.byte(data[index])
            index += 1
            continue
        bits.bit(0)
        code = length - 1  # the decoder copies its length + 1
        if variant == "nrv2b":
            flag = None
        elif variant == "nrv2d":
            flag = min(code, 3) >> 1 if code <= 3 else 0
        else:
            flag = 1 if code <= 2 else 0
        if offset == last:
            bits.gamma(2) if variant == "nrv2b" else bits.gamma_de(2)
            if flag is not None:
                bits.bit(flag)
        elif variant == "nrv2b":
            bits.gamma(((offset - 1) >> 8) + 3)
            bits.byte((offset - 1) & 0xFF)
        else:
            value = ((offset - 1) << 1) | (1 - flag)  # type: ignore[operator]
            bits.gamma_de((value >> 8) + 3)
            bits.byte(value & 0xFF)
        last = offset
        if variant == "nrv2b" or variant == "nrv2d":
            if code <= 3:  # 1 to 3 in two bits (nrv2d: the first is the flag)
                if variant == "nrv2b":
                    bits.bit(code >> 1)
                bits.bit(code & 1)
            else:
                if variant == "nrv2b":
                    bits.bit(0)
                bits.bit(0)
                bits.gamma(code - 2)
        elif code <= 2:
            bits.bit(code - 1)
        elif code <= 4:
            bits.bit(1)
            bits.bit(code - 3)
        else:
            bits.bit(0)
            bits.gamma(code - 3)
        index += length
    bits.bit(0)
    if variant == "nrv2b":
        bits.gamma(0x1000002)  # the end marker: an offset of 0xffffffff
    else:
        bits.gamma_de(0x1000002)
    bits.byte(0xFF)
    return bits.done()


def nrv2b(data: bytes) -> bytes:
    return nrv(data, "nrv2b")


def filtered(code: bytes, filter_id: int = 0x49, base: int = 0) -> tuple[bytes, int]:
    """UPX's "cto" call filters: the rel32 targets of E8/E9 (and 0F 8x for 0x49) inside the
    block become absolute (plus ``base``, the block's offset in the filtered address space),
    big-endian, tagged with a byte (UPX's ``cto``) that no operand left as it was starts
    with. 0x26 rewrites E8 and E9 only."""
    jumps = filter_id == 0x49
    converted: list[tuple[int, int]] = []
    kept: set[int] = set()
    index = 0
    while index < len(code) - 5:
        if code[index] in (0xE8, 0xE9):
            field = index + 1
        elif (
            jumps
            and code[index] == 0x0F
            and code[index + 1] & 0xF0 == 0x80
            and index + 6 <= len(code)
        ):
            field = index + 2
        else:
            index += 1
            continue
        target = field + struct.unpack_from("<i", code, field)[0]
        if 0 <= target < len(code) and target + base < 1 << 24:
            converted.append((field, target + base))
            index = field + 4
        else:
            kept.add(code[field])
            index += 1
    cto = next(value for value in range(256) if value not in kept)
    out = bytearray(code)
    for field, target in converted:
        out[field : field + 4] = ((cto << 24) | target).to_bytes(4, "big")
    return bytes(out), cto


def upx_lzma(data: bytes, lc: int = 3, lp: int = 0, pb: int = 2) -> bytes:
    """UPX's LZMA block: its two-byte properties header, then the raw stream (liblzma's
    encoder, or the one of the tests for what liblzma cannot write)."""
    if lc + lp <= 4:
        properties = {"lc": lc, "lp": lp, "pb": pb, "dict_size": 1 << 20}
        packed = lzma.compress(
            data, format=lzma.FORMAT_RAW, filters=[{"id": lzma.FILTER_LZMA1, **properties}]
        )
    else:
        packed = lzmaenc.encode(data, lc, lp, pb)[0]
    return bytes([((lc + lp) << 3) | pb, (lp << 4) | lc]) + packed


def compress(data: bytes, method: int) -> bytes:
    """``data`` as UPX compresses it: LZMA (14) or NRV2B/2D/2E with the 32-bit bit stream."""
    if method == 14:
        return upx_lzma(data)
    return nrv(data, {2: "nrv2b", 5: "nrv2d", 8: "nrv2e"}[method])


def _align(value: int, alignment: int) -> int:
    return (value + alignment - 1) // alignment * alignment


def _import_table(
    rva: int, libraries: list[tuple[bytes, list[bytes | int]]], wide: bool
) -> tuple[bytes, dict[bytes, int], dict[tuple[bytes, int], int]]:
    """A PE import table at ``rva`` (descriptors, lookup and address tables, names; entries
    by name or by ordinal), the offset of each library's name in it, and of each ordinal's
    address-table thunk."""
    thunk = "<Q" if wide else "<I"
    size, flag = (8, 1 << 63) if wide else (4, 1 << 31)
    descriptors = 20 * (len(libraries) + 1)
    arrays = sum(2 * size * (len(names) + 1) for _, names in libraries)
    names_at = rva + descriptors + arrays
    out, tables, strings = bytearray(descriptors), bytearray(), bytearray()
    name_offsets: dict[bytes, int] = {}
    ordinal_thunks: dict[tuple[bytes, int], int] = {}
    for index, (library, functions) in enumerate(libraries):
        library_rva = names_at + len(strings)
        name_offsets[library.lower()] = library_rva - rva
        strings += library + b"\0"
        entries = []
        for function in functions:
            if isinstance(function, int):
                entries.append(function | flag)
                continue
            strings += b"\0" * (len(strings) % 2)
            entries.append(names_at + len(strings))
            strings += b"\0\0" + function + b"\0"
        lookup = rva + descriptors + len(tables)
        tables += b"".join(struct.pack(thunk, value) for value in [*entries, 0])
        iat = rva + descriptors + len(tables)
        for position, function in enumerate(functions):
            if isinstance(function, int):
                ordinal_thunks[library.lower(), function] = iat - rva + position * size
        tables += b"".join(struct.pack(thunk, value) for value in [*entries, 0])
        struct.pack_into("<IIIII", out, 20 * index, lookup, 0, 0, library_rva, iat)
    return bytes(out + tables + strings), name_offsets, ordinal_thunks


def _relocations(program: bytes, image: bytearray, directories: int, wide: bool) -> list[int]:
    """The addresses of the HIGHLOW (PE32) or DIR64 (PE32+) relocations, the relocation
    table cleared from the image as UPX does."""
    rva, size = struct.unpack_from("<II", program, directories + 8 * 5)
    wanted = 10 if wide else 3
    positions: set[int] = set()
    at = rva
    while at < rva + size:
        page, block = struct.unpack_from("<II", image, at)
        if block < 8:
            break
        for index in range(8, block, 2):
            (entry,) = struct.unpack_from("<H", image, at + index)
            if entry >> 12 == wanted:
                positions.add(page + (entry & 0xFFF))
        at += block
    image[rva : rva + size] = bytes(size)
    return sorted(positions)


def _delta_coded(positions: list[int]) -> bytes:
    """UPX's relocation list: each offset as the distance from the previous one (from -4),
    in a byte below F0, in F0-FF and 16 more bits, or as F0 0000 and 32 bits; a zero ends."""
    out, previous = bytearray(), -4
    for position in positions:
        delta = position - previous
        if delta < 0xF0:
            out.append(delta)
        elif delta < 0x100000:
            out += bytes([0xF0 + (delta >> 16)]) + struct.pack("<H", delta & 0xFFFF)
        else:
            out += b"\xf0\0\0" + struct.pack("<I", delta)
        previous = position
    return bytes(out + b"\0")


def pack_pe(program: bytes, method: int, filter_id: int) -> bytes:
    """``program`` in UPX's PE container, as UPX's pefile.cpp lays it out: the image from the
    first section's address on, with its absolute addresses (the HIGHLOW or DIR64
    relocations) made relative to the image base and the first section and stored
    big-endian, the code filtered and the import and relocation tables cleared; then UPX's
    compressed import table (per library: the offset of its name in the packed file's import
    table, its address table's offset, ``01``-tagged names and ``FF``-tagged ordinals, a
    zero), its relocation list, and the extra info (original PE header and section table, the
    two import offsets, the relocation list's offset and a flag byte, and the extra info's
    own offset last), compressed
    behind a ``UPX!`` pack header in ``UPX1``; ``UPX0`` is the empty address range, ``UPX2``
    holds the packed file's own import table (kernel32's loader functions and one function
    of each other library). The loader itself is a placeholder: nothing here is run."""
    pe = struct.unpack_from("<I", program, 0x3C)[0]
    count, optional_size = struct.unpack_from("<H", program, pe + 6)[0], 0
    optional_size = struct.unpack_from("<H", program, pe + 20)[0]
    optional = pe + 24
    wide = struct.unpack_from("<H", program, optional)[0] == 0x20B
    header_size = 264 if wide else 248
    assert optional_size == header_size - 24
    code_size, code_base = struct.unpack_from("<I", program, optional + 4)[0], 0
    code_base = struct.unpack_from("<I", program, optional + 20)[0]
    alignment = struct.unpack_from("<I", program, optional + 32)[0]
    directories = optional + (112 if wide else 96)
    table = optional + optional_size
    sections = [struct.unpack_from("<8sIIII", program, table + 40 * i) for i in range(count)]
    rvamin = sections[0][2]
    last = sections[-1]
    end = _align(last[2] + last[1], alignment)
    image = bytearray(end)
    for _name, vsize, vaddr, size, raw in sections:
        if raw and size:
            take = min(size, vsize)
            image[vaddr : vaddr + take] = program[raw : raw + take]
    # the imports: read, then cleared (descriptors, lookup and address tables, names)
    thunk, flag = (8, 1 << 63) if wide else (4, 1 << 31)
    import_rva = struct.unpack_from("<I", program, directories + 8)[0]
    libraries: list[tuple[bytes, int, list[bytes | int]]] = []
    cleared: list[tuple[int, int]] = []
    at = import_rva
    while True:
        lookup, _, _, name_rva, iat = struct.unpack_from("<IIIII", image, at)
        if name_rva == 0:
            break
        name = bytes(image[name_rva : image.index(b"\0", name_rva)])
        cleared.append((name_rva, len(name) + 1))
        entries: list[bytes | int] = []
        position = lookup or iat
        while value := int.from_bytes(image[position : position + thunk], "little"):
            if value & flag:
                entries.append(value & 0xFFFF)
            else:
                function = bytes(image[value + 2 : image.index(b"\0", value + 2)])
                entries.append(function)
                cleared.append((value, 2 + len(function) + 1))
            position += thunk
        size = position + thunk - (lookup or iat)
        cleared += [(lookup, size), (iat, size)] if lookup else [(iat, size)]
        libraries.append((name, iat, entries))
        at += 20
    cleared.append((import_rva, at + 20 - import_rva))
    names_start = min(start for start, _ in cleared if start != import_rva)
    for start, size in cleared:
        image[start : start + size] = bytes(size)
    # the packed file's own import table (kernel32: the loader's functions and the program's
    # ordinals; any other library: an ordinal if it has one, else its shortest name), and
    # UPX's compressed one pointing into it
    kernel32 = b"KERNEL32.DLL"
    own_kernel32: list[bytes | int] = [
        b"LoadLibraryA", b"GetProcAddress", b"ExitProcess", b"VirtualProtect",
    ]  # fmt: skip
    own: list[tuple[bytes, list[bytes | int]]] = [(kernel32, own_kernel32)]
    for name, _, entries in libraries:
        ordinals = [e for e in entries if isinstance(e, int)]
        if name.lower() == kernel32.lower():
            own_kernel32 += [o for o in ordinals if o not in own_kernel32]
        elif name.lower() not in {n.lower() for n, _ in own}:
            names = [e for e in entries if isinstance(e, bytes)]
            own.append((name, [ordinals[-1]] if ordinals else [min(names, key=len)]))
    _, name_offsets, ordinal_thunks = _import_table(0, own, wide)
    compressed_imports = bytearray()
    for name, iat, entries in libraries:
        compressed_imports += struct.pack("<II", name_offsets[name.lower()], iat - rvamin)
        for entry in entries:
            if isinstance(entry, bytes):
                compressed_imports += b"\x01" + entry + b"\0"
            elif name.lower() == kernel32.lower():  # kernel32's ordinals: a thunk of UPX's
                thunk_at = ordinal_thunks[kernel32.lower(), entry]
                compressed_imports += b"\xfe" + struct.pack("<I", thunk_at)
            else:
                compressed_imports += b"\xff" + struct.pack("<H", entry)
        compressed_imports += b"\0"
    compressed_imports += bytes(4)
    relocations: list[int] = []
    characteristics = struct.unpack_from("<H", program, pe + 22)[0]
    if struct.unpack_from("<I", program, directories + 8 * 5 + 4)[0] and not characteristics & 1:
        relocations = _relocations(program, image, directories, wide)
        layout = "Q" if wide else "I"
        image_base = struct.unpack_from("<" + layout, program, optional + (24 if wide else 28))[0]
        for position in relocations:
            value = struct.unpack_from("<" + layout, image, position)[0] - image_base - rvamin
            struct.pack_into(">" + layout, image, position, value % (1 << (8 * thunk)))
    body = image[rvamin:end]
    start = code_base - rvamin
    code, cto = filtered(bytes(body[start : start + code_size]), filter_id, start)
    body[start : start + code_size] = code
    relocation_list = _delta_coded([p - rvamin for p in relocations]) if relocations else b""
    extra_at = len(body) + len(compressed_imports) + len(relocation_list)
    extra = program[pe : pe + header_size] + program[table : table + 40 * count]
    extra += struct.pack("<II", end - rvamin, names_start)
    if relocations:
        extra += struct.pack("<IB", len(body) + len(compressed_imports), 0)
    extra += struct.pack("<I", extra_at)
    unpacked = bytes(body + compressed_imports + relocation_list + extra)
    packed = compress(unpacked, method)
    # the packed file: UPX0 (no data), UPX1 (pack header, compressed data, loader), UPX2
    file_alignment = 0x200
    headers = _align(pe + header_size + 3 * 40, file_alignment)
    pack_header = struct.pack(
        "<4sBBBBIIIIIBBBB", b"UPX!", 13, 36 if wide else 9, method, 8, 0, 0,
        len(unpacked), len(packed), len(program), filter_id, cto, 0, 0,
    )  # fmt: skip
    loader = b"\x60\xbe" + bytes(30)  # a placeholder where UPX's loader goes
    upx1 = b"4.22\0" + pack_header + packed + loader
    upx1 += bytes(_align(len(upx1), file_alignment) - len(upx1))
    s1addr = _align(rvamin + len(unpacked), alignment)
    s2addr = s1addr + _align(len(upx1), alignment)
    upx2 = _import_table(s2addr, own, wide)[0]
    upx2 += bytes(_align(len(upx2), file_alignment) - len(upx2))
    entry = s1addr + len(upx1) - len(loader)
    out_header = bytearray(program[pe : pe + header_size])
    struct.pack_into("<H", out_header, 6, 3)
    struct.pack_into("<I", out_header, 24 + 4, _align(len(upx1), alignment))  # SizeOfCode
    struct.pack_into("<I", out_header, 24 + 16, entry)
    struct.pack_into("<I", out_header, 24 + 20, s1addr)  # BaseOfCode
    struct.pack_into("<I", out_header, 24 + 36, file_alignment)
    struct.pack_into("<I", out_header, 24 + 56, s2addr + _align(len(upx2), alignment))
    struct.pack_into("<I", out_header, 24 + 60, headers)
    struct.pack_into("<I", out_header, 24 + 64, 0)  # CheckSum
    dirs = directories - pe
    out_header[dirs : dirs + 128] = bytes(128)
    struct.pack_into("<II", out_header, dirs + 8, s2addr, 20 * len(own) + 20)
    upx1_raw, upx2_raw = headers, headers + len(upx1)
    section_table = struct.pack(
        "<8sIIIIIIHHI", b"UPX0", s1addr - rvamin, rvamin, 0, upx1_raw, 0, 0, 0, 0, 0xE0000080
    )
    section_table += struct.pack(
        "<8sIIIIIIHHI", b"UPX1", _align(len(upx1), alignment), s1addr, len(upx1), upx1_raw,
        0, 0, 0, 0, 0xE0000040,
    )  # fmt: skip
    section_table += struct.pack(
        "<8sIIIIIIHHI", b"UPX2", _align(len(upx2), alignment), s2addr, len(upx2), upx2_raw,
        0, 0, 0, 0, 0xC0000040,
    )  # fmt: skip
    head = program[:pe] + bytes(out_header) + section_table
    return head + bytes(headers - len(head)) + upx1 + upx2

"""UPX-packed ELF programs: the packer's header, and the original program unpacked statically.

UPX writes, after its loader, an ``l_info`` (checksum, ``UPX!``, loader size, version,
format), a ``p_info`` (original file size, block size) and then the compressed blocks, each
behind a ``b_info`` (uncompressed size, compressed size, method, filter, filter parameter).
The first block of an ELF is the original ELF header and program headers; the next ones are
the contents of its loadable segments, in order. Each block is decompressed here in Python:
NRV2B, NRV2D and NRV2E (UCL's small LZ77 codes with an interleaved bit stream, read 32 bits
little-endian at a time or 8 at a time) and LZMA (after UPX's two-byte properties header: the
standard library's raw LZMA1 decoder, or ``lzma1``'s pure-Python one for the ``lc + lp > 4``
that liblzma refuses and ``upx --brute`` may choose). Nothing is run: not the sample, not
``upx``.

Bounded: at most ``MAX_UNPACKED`` bytes (and 64 times the file) of output and ``MAX_BLOCKS``
blocks; a block that does not decompress to its declared size stops the unpacking (a damaged
or altered header is reported, never guessed around). The pure-Python LZMA decoder reads
about 1 MB per CPU second, so it is given at most ``MAX_PYTHON_LZMA`` bytes of output per
file (about 5 CPU s, half the default time budget of a file): beyond that the program is
reported as not unpacked (``UnpackLimit``) rather than decoded for minutes.

UPX's x86 call/jump filters (``0x46``, ``0x49``: rel32 targets of E8/E9, and of 0F 8x for
0x49, made absolute, big-endian and tagged) are undone, so the code reads as it was compiled.
"""

from __future__ import annotations

import lzma
import struct
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from finalexam.analyze.binary import lzma1

if TYPE_CHECKING:
    from finalexam.analyze.binary.facts.common import BinaryFacts

MAX_UNPACKED = 128 * 1024 * 1024
MAX_RATIO = 64  # unpacked bytes per packed byte (UPX reaches ~10 on real programs)
MAX_BLOCKS = 65_536
MAX_PYTHON_LZMA = 4 * 1024 * 1024  # output of the pure-Python LZMA decoder, per file
_MAGIC = b"UPX!"
# l_info.l_format of the little-endian ELF formats (UPX's conf.h); big-endian targets write
# these headers in their own byte order and are detected, not unpacked
FORMATS = {
    10: "linux/i386",
    12: "linux/elf-i386",
    13: "linux/sh-i386",
    20: "linux/elfi-i386",
    22: "linux/amd64",
    23: "linux/arm",
    24: "bsd/i386",
    25: "bsd/elf-i386",
    30: "linux/mipsel",
    39: "linux/ppc64le",
    42: "linux/arm64",
}
METHODS = {2: "nrv2b", 3: "nrv2b", 4: "nrv2b", 5: "nrv2d", 6: "nrv2d", 7: "nrv2d"}
METHODS |= {8: "nrv2e", 9: "nrv2e", 10: "nrv2e", 14: "lzma"}
_LE32_METHODS = {2, 5, 8}  # the 32-bit little-endian bit stream; 3/6/9 read 8 bits at a time


class UnpackError(ValueError):
    """The packed data cannot be unpacked (damaged, altered, or a method not supported)."""


class UnsupportedMethod(UnpackError):
    """The packed data is well formed but compressed in a way this unpacker cannot read."""


class UnpackLimit(UnpackError):
    """Unpacking the data would pass a bound this unpacker sets itself (``MAX_PYTHON_LZMA``)."""


class StreamEnded(UnpackError):
    """A compressed stream ends before its declared output (a truncated file): ``output``
    holds the bytes that did decode."""

    def __init__(self, message: str, output: bytes) -> None:
        super().__init__(message)
        self.output = output


@dataclass(frozen=True)
class Unpacking:
    """The unpacked program, and when the container was cut short, what of it is missing
    (``partial``: the image then holds the blocks up to the cut, zeros after)."""

    image: bytes
    partial: str | None = None


@dataclass(frozen=True)
class Header:
    offset: int  # of the l_info (its UPX! magic is 4 bytes in)
    version: int
    format: int
    original_size: int
    block_size: int
    method: int  # of the first block

    def describe(self) -> str:
        return (
            f"UPX header at offset {self.offset}: format {FORMATS.get(self.format, self.format)}, "
            f"method {METHODS.get(self.method, self.method)}, original size {self.original_size}"
        )


def header(data: bytes) -> Header | None:
    """The packer's l_info/p_info/first b_info, where UPX's ELF loader has them (after the
    ELF and program headers), when they are whole and consistent."""
    at = data.find(_MAGIC, 0, 8192)
    if at < 4 or at + 32 > len(data):
        return None
    _checksum, _magic, _loader, version, fmt = struct.unpack_from("<I4sHBB", data, at - 4)
    _progid, original, block = struct.unpack_from("<III", data, at + 8)
    _unc, _cpr, method = struct.unpack_from("<IIB", data, at + 20)
    if fmt not in FORMATS or not 0 < original <= MAX_UNPACKED or not 0 < block <= original:
        return None
    return Header(at - 4, version, fmt, original, block, method)


def examine_unpacked(data: bytes) -> tuple[BinaryFacts, Unpacking]:
    """The facts of the unpacked program, and the program (run in the supervised child, as
    every LIEF parse)."""
    from finalexam.analyze.binary.facts.parse import examine

    unpacking = read_elf(data)
    return examine(unpacking.image), unpacking


def unpack_elf(data: bytes) -> bytes:
    """The original ELF program, whole (a container cut short is an ``UnpackError``)."""
    unpacking = read_elf(data)
    if unpacking.partial is not None:
        raise UnpackError(unpacking.partial)
    return unpacking.image


def read_elf(data: bytes) -> Unpacking:
    """The original ELF program: its headers and the contents of its loadable segments, at
    their file offsets (section headers are not restored: UPX drops them). A file that ends
    inside a segment's block gives what decoded up to the end, marked ``partial``."""
    found = header(data)
    if found is None:
        raise UnpackError("no UPX header")
    position = found.offset + 12 + 12  # l_info, p_info
    blocks: list[bytes] = []
    total = python_lzma = 0
    while len(blocks) < MAX_BLOCKS:
        if position + 12 > len(data):
            if len(blocks) > 1 and total < found.original_size:  # cut between two blocks
                gap = f"block {len(blocks) + 1} of {_expected_blocks(blocks[0])} is missing"
                return Unpacking(_layout(blocks, found.original_size), _cut_short(gap))
            raise UnpackError(f"block header at {position} is past the end of the file")
        unpacked_size, packed_size, method, filter_id, filter_cto, _ = struct.unpack_from(
            "<IIBBBB", data, position
        )
        plausible = method in METHODS and 0 < packed_size <= unpacked_size
        if unpacked_size == 0 or (blocks and not plausible) or total >= found.original_size:
            break  # the end marker, or the loader's own data after the last block
        if not plausible:
            raise UnpackError(f"block at {position} declares impossible sizes or method")
        position += 12
        total += unpacked_size
        if total > min(MAX_UNPACKED, MAX_RATIO * len(data)):
            raise UnpackError(f"unpacks to more than {total - unpacked_size} bytes")
        packed = data[position : position + packed_size]
        if method == 14 and liblzma_refuses(packed):
            python_lzma += unpacked_size
            if python_lzma > MAX_PYTHON_LZMA:
                lc, lp = packed[1] & 15, packed[1] >> 4
                raise UnpackLimit(
                    f"LZMA blocks with lc={lc}, lp={lp} (not supported by liblzma) unpack to "
                    f"at least {python_lzma} bytes, over the {MAX_PYTHON_LZMA} bytes the "
                    "pure-Python decoder is given"
                )
        cut: str | None = None
        if len(packed) < packed_size:
            if not blocks:  # without the original headers nothing can be laid out
                raise UnpackError(f"block at {position - 12} is cut short")
            packed, missing = _decode_cut(packed, method, unpacked_size)
            cut = f"block {len(blocks) + 1} of {_expected_blocks(blocks[0])}: {missing}"
        elif packed_size < unpacked_size:
            packed = decompress(packed, method, unpacked_size)
        block = packed
        if filter_id:
            block = unfilter(block, filter_id, filter_cto)
        blocks.append(block)
        position += packed_size
        if len(blocks) == 1 and not block.startswith(b"\x7fELF"):
            raise UnpackError("the first block is not the original ELF header")
        if cut is not None:
            return Unpacking(_layout(blocks, found.original_size), _cut_short(cut))
    if not blocks:
        raise UnpackError("no compressed blocks")
    return Unpacking(_layout(blocks, found.original_size))


def _decode_cut(packed: bytes, method: int, size: int) -> tuple[bytes, str]:
    """The bytes a block the file cuts short decodes to, and what of it is missing: its
    stream ends early, and what came before the end is the program's own (bounded by the
    declared size as every block)."""
    try:
        out = decompress(packed, method, size)
    except StreamEnded as ended:
        out = ended.output
    return out, f"decoded {len(out)} of its {size} declared bytes"


def _cut_short(where: str) -> str:
    return f"the file ends inside the packed data: {where}"


def _expected_blocks(headers: bytes) -> int:
    """How many blocks UPX wrote: the headers, then one per loadable segment."""
    return 1 + len(_segments(headers))


def _segments(headers: bytes) -> list[tuple[int, int]]:
    """The (file offset, file size) of each loadable segment in the original headers."""
    wide = headers[4] == 2
    order = "<" if headers[5] == 1 else ">"
    if wide:
        (phoff,) = struct.unpack_from(order + "Q", headers, 32)
        phentsize, phnum = struct.unpack_from(order + "HH", headers, 54)
    else:
        (phoff,) = struct.unpack_from(order + "I", headers, 28)
        phentsize, phnum = struct.unpack_from(order + "HH", headers, 42)
    loads: list[tuple[int, int]] = []
    for index in range(phnum):
        at = phoff + index * phentsize
        if at + phentsize > len(headers):
            break
        if wide:
            kind, _, offset, _, _, filesz = struct.unpack_from(order + "IIQQQQ", headers, at)
        else:
            kind, offset, _va, _pa, filesz = struct.unpack_from(order + "IIIII", headers, at)
        if kind == 1 and filesz:
            loads.append((offset, filesz))
    return loads


def _layout(blocks: list[bytes], original_size: int) -> bytes:
    """Place the segments' contents where the original program headers say they were."""
    headers = blocks[0]
    wide = headers[4] == 2
    order = "<" if headers[5] == 1 else ">"
    loads = _segments(headers)
    image = bytearray(min(max(original_size, len(headers)), MAX_UNPACKED))
    image[: len(headers)] = headers
    rest = b"".join(blocks[1:])
    cursor = 0
    for offset, size in sorted(loads):
        start = max(offset, len(headers)) if offset < len(headers) else offset
        size -= start - offset
        if size <= 0:
            continue
        piece = rest[cursor : cursor + size]
        end = start + len(piece)
        if end > len(image):
            image.extend(bytes(end - len(image)))
        image[start:end] = piece
        cursor += len(piece)
    restored = max((offset + size for offset, size in loads), default=len(headers))
    if cursor < len(rest):  # what follows the segments, when UPX kept it
        tail = rest[cursor:]
        image[restored : restored + len(tail)] = tail
        restored += len(tail)
    # section headers UPX did not keep would read as zeros: say there are none
    shoff_at, count_at = (40, 60) if wide else (32, 48)
    shoff = struct.unpack_from(order + ("Q" if wide else "I"), image, shoff_at)[0]
    shentsize, shnum = struct.unpack_from(order + "HH", image, count_at - 2)
    if shnum and shoff + shentsize * shnum > restored:
        struct.pack_into(order + ("Q" if wide else "I"), image, shoff_at, 0)
        struct.pack_into(order + "HH", image, count_at, 0, 0)
    return bytes(image[: max(restored, len(headers))])


def decompress(packed: bytes, method: int, size: int) -> bytes:
    name = METHODS.get(method)
    if name is None:
        raise UnsupportedMethod(f"compression method {method} is not supported")
    if name == "lzma":
        return _lzma(packed, size)
    out = _NRV[name](packed, size, method in _LE32_METHODS)
    if len(out) != size:
        raise UnpackError(f"{name} block decompressed to {len(out)} bytes, {size} declared")
    return out


def _lzma(packed: bytes, size: int) -> bytes:
    if len(packed) < 3:
        raise UnpackError("LZMA block too short")
    pb, lp, lc = packed[0] & 7, packed[1] >> 4, packed[1] & 15
    if pb >= 5 or lp >= 5 or lc >= 9 or packed[0] >> 3 != lc + lp:
        raise UnpackError("LZMA block: bad properties")
    if liblzma_refuses(packed):
        try:
            out = lzma1.decode(packed[2:], lc, lp, pb, size)
        except lzma1.StreamEnded as ended:
            raise StreamEnded(f"LZMA block (lc={lc}, lp={lp}): {ended}", ended.output) from None
        except lzma1.LzmaDataError as error:
            raise UnpackError(f"LZMA block (lc={lc}, lp={lp}): {error}") from None
    else:
        dictionary = min(max(1 << 16, 1 << (max(size, 1) - 1).bit_length()), 1 << 28)
        properties = {"lc": lc, "lp": lp, "pb": pb, "dict_size": dictionary}
        decoder = lzma.LZMADecompressor(
            format=lzma.FORMAT_RAW, filters=[{"id": lzma.FILTER_LZMA1, **properties}]
        )
        try:
            out = decoder.decompress(packed[2:], max_length=size)
        except lzma.LZMAError as error:
            raise UnpackError(f"LZMA block: {error}") from None
        if len(out) < size and not decoder.eof:
            raise StreamEnded("LZMA block: the stream ends early", out)
    if len(out) != size:
        raise UnpackError(f"LZMA block decompressed to {len(out)} bytes, {size} declared")
    return out


def liblzma_refuses(packed: bytes) -> bool:
    """Whether UPX's LZMA properties have ``lc + lp > 4``: valid LZMA that liblzma (the
    standard library's decoder) refuses, decoded here in pure Python."""
    return len(packed) >= 2 and (packed[1] & 15) + (packed[1] >> 4) > 4


class _Bits:
    """UCL's bit stream, interleaved with the literal bytes: 32 bits little-endian at a time
    (``le32``) or 8 (``8``), most significant bit first."""

    __slots__ = ("bits", "count", "data", "out", "position", "word")

    def __init__(self, data: bytes, word: bool, out: bytearray) -> None:
        self.data = data
        self.out = out  # the output so far, for a stream that ends early
        self.position = 0
        self.bits = 0
        self.count = 0
        self.word = word

    def bit(self) -> int:
        if self.count == 0:
            if self.word:
                if self.position + 4 > len(self.data):
                    raise self._ended()
                self.bits = int.from_bytes(self.data[self.position : self.position + 4], "little")
                self.position += 4
                self.count = 32
            else:
                if self.position >= len(self.data):
                    raise self._ended()
                self.bits = self.data[self.position]
                self.position += 1
                self.count = 8
        self.count -= 1
        return (self.bits >> self.count) & 1

    def _ended(self) -> StreamEnded:
        return StreamEnded("compressed stream ends early", bytes(self.out))

    def byte(self) -> int:
        if self.position >= len(self.data):
            raise self._ended()
        value = self.data[self.position]
        self.position += 1
        return value


def _copy(out: bytearray, distance: int, length: int, limit: int) -> None:
    if distance > len(out) or distance == 0:
        raise UnpackError("match reaches before the start of the output")
    if len(out) + length > limit:
        raise UnpackError("output longer than declared")
    start = len(out) - distance
    if distance >= length:
        out += out[start : start + length]
    else:
        for index in range(length):
            out.append(out[start + index])


def _literals(bits: _Bits, out: bytearray, size: int) -> None:
    """The literal bytes before the next match (each announced by a 1 bit)."""
    while bits.bit():
        if len(out) >= size:
            raise UnpackError("output longer than declared")
        out.append(bits.byte())


def _gamma(bits: _Bits) -> int:
    """UCL's Elias-gamma-like number: a data bit and a stop bit per step, from 1."""
    value = 1
    while True:
        value = value * 2 + bits.bit()
        if bits.bit():
            return value


def _nrv2b(data: bytes, size: int, word: bool) -> bytes:
    out = bytearray()
    bits, last = _Bits(data, word, out), 1
    while True:
        _literals(bits, out, size)
        offset = _gamma(bits)
        if offset == 2:
            offset = last
        else:
            offset = (offset - 3) * 256 + bits.byte()
            if offset == 0xFFFFFFFF:
                return bytes(out)
            offset += 1
            last = offset
        length = bits.bit() * 2 + bits.bit()
        if length == 0:
            length = _gamma(bits) + 2
        length += offset > 0xD00
        _copy(out, offset, length + 1, size)


def _nrv2d(data: bytes, size: int, word: bool) -> bytes:
    return _nrv2de(data, size, word, extended=False)


def _nrv2e(data: bytes, size: int, word: bool) -> bytes:
    return _nrv2de(data, size, word, extended=True)


def _nrv2de(data: bytes, size: int, word: bool, extended: bool) -> bytes:
    out = bytearray()
    bits, last = _Bits(data, word, out), 1
    while True:
        _literals(bits, out, size)
        offset = 1
        while True:  # two data bits per stop bit
            offset = offset * 2 + bits.bit()
            if bits.bit():
                break
            offset = (offset - 1) * 2 + bits.bit()
        if offset == 2:
            offset = last
            length = bits.bit()
        else:
            offset = (offset - 3) * 256 + bits.byte()
            if offset == 0xFFFFFFFF:
                return bytes(out)
            length = (offset ^ 0xFFFFFFFF) & 1
            offset = (offset >> 1) + 1
            last = offset
        if extended:
            if length:
                length = 1 + bits.bit()
            elif bits.bit():
                length = 3 + bits.bit()
            else:
                length = _gamma(bits) + 3
        else:
            length = length * 2 + bits.bit()
            if length == 0:
                length = _gamma(bits) + 2
        length += offset > 0x500
        _copy(out, offset, length + 1, size)


_NRV = {"nrv2b": _nrv2b, "nrv2d": _nrv2d, "nrv2e": _nrv2e}


def unfilter(block: bytes, filter_id: int, cto: int, base: int = 0) -> bytes:
    """Undo UPX's x86 call/jump filters over ``block``, which starts ``base`` bytes into the
    filtered buffer's address space (PE: the code's offset from the first section).

    The "cto" filters (``0x24`` E8, ``0x25`` E9, ``0x26`` both; ``0x46`` both; ``0x49`` also
    the rel32 of 0F 8x conditional jumps) made each marked target absolute (plus ``base``),
    big-endian, with ``cto`` in its top byte. The naive ones (``0x11`` E8, ``0x12`` E9,
    ``0x13`` both; ``0x14`` to ``0x16`` the same, big-endian) made every such target absolute.
    Other filters are left as they are (the data stays readable)."""
    if filter_id in _NAIVE_FILTERS:
        return _unfilter_naive(block, filter_id, base)
    if filter_id not in _CTO_FILTERS:
        return block
    opcodes, jumps = _CTO_FILTERS[filter_id]
    out = bytearray(block)
    index = 0
    end = len(out) - 5
    while index < end:
        opcode = out[index]
        if opcode in opcodes:
            field = index + 1
        elif jumps and opcode == 0x0F and out[index + 1] & 0xF0 == 0x80 and index + 6 <= len(out):
            field = index + 2
        else:
            index += 1
            continue
        if out[field] != cto:
            index += 1
            continue
        target = int.from_bytes(out[field : field + 4], "big") & 0xFFFFFF
        relative = (target - field - base) & 0xFFFFFFFF
        out[field : field + 4] = relative.to_bytes(4, "little")
        index = field + 4
    return bytes(out)


_E8, _E9 = frozenset({0xE8}), frozenset({0xE9})
_E8E9 = _E8 | _E9
# filter id: the opcodes whose rel32 it rewrites, and whether 0F 8x jumps too
_CTO_FILTERS = {0x24: (_E8, False), 0x25: (_E9, False), 0x26: (_E8E9, False)}
_CTO_FILTERS |= {0x46: (_E8E9, False), 0x49: (_E8E9, True)}
# filter id: the opcodes, and whether the absolute target was stored big-endian
_NAIVE_FILTERS = {0x11: (_E8, False), 0x12: (_E9, False), 0x13: (_E8E9, False)}
_NAIVE_FILTERS |= {0x14: (_E8, True), 0x15: (_E9, True), 0x16: (_E8E9, True)}


def _unfilter_naive(block: bytes, filter_id: int, base: int) -> bytes:
    opcodes, big = _NAIVE_FILTERS[filter_id]
    order: Literal["big", "little"] = "big" if big else "little"
    out = bytearray(block)
    index = 0
    end = len(out) - 5
    while index < end:
        if out[index] in opcodes:
            field = index + 1
            target = int.from_bytes(out[field : field + 4], order)
            relative = (target - field - base) & 0xFFFFFFFF
            out[field : field + 4] = relative.to_bytes(4, "little")
            index = field + 4
        else:
            index += 1
    return bytes(out)

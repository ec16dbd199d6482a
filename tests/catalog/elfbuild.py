"""A minimal little-endian ELF64 with named sections, for parser edge cases."""

from __future__ import annotations

import struct


def elf64(sections: list[tuple[str, int, bytes]]) -> bytes:
    """``sections``: (name, virtual address, bytes); a section-name table is appended."""
    names = b"\x00"
    name_offsets = []
    for name, _, _ in [*sections, (".shstrtab", 0, b"")]:
        name_offsets.append(len(names))
        names += name.encode() + b"\x00"
    body = bytearray(b"\x00" * 64)
    placed = []
    for (_, address, raw), name_offset in zip(sections, name_offsets, strict=False):
        while len(body) % 16:
            body.append(0)
        placed.append((name_offset, 1, address, len(body), len(raw)))
        body += raw
    placed.append((name_offsets[-1], 3, 0, len(body), len(names)))
    body += names
    while len(body) % 8:
        body.append(0)
    shoff = len(body)
    body += b"\x00" * 64  # the null section
    for name_offset, kind, address, offset, size in placed:
        body += struct.pack("<IIQQQQIIQQ", name_offset, kind, 0, address, offset, size, 0, 0, 1, 0)
    ident = b"\x7fELF" + bytes([2, 1, 1]) + b"\x00" * 9
    header = ident + struct.pack(
        "<HHIQQQIHHHHHH", 2, 62, 1, 0, 0, shoff, 0, 64, 56, 0, 64, len(placed) + 1, len(placed)
    )
    body[:64] = header
    return bytes(body)

"""RPM packages: lead, signature header, main header, then a compressed cpio payload."""

from __future__ import annotations

import lzma
import struct
from collections.abc import Iterator
from typing import IO, Any, cast

from finalexam.errors import CorruptInput
from finalexam.unpack.base import Content, Member, UnpackContext
from finalexam.unpack.compressed import compression_of, decompressing_reader
from finalexam.unpack.cpio import cpio_members

LEAD_MAGIC = b"\xed\xab\xee\xdb"
HEADER_MAGIC = b"\x8e\xad\xe8\x01"
_LEAD_SIZE = 96
_STRING, _STRING_ARRAY, _I18N, _INT32, _INT16, _INT64 = 6, 8, 9, 4, 3, 5


def read_header(blob: bytes, offset: int) -> tuple[dict[int, Any], int]:
    """Parse one RPM header structure at ``offset``: (tag -> value, offset after it)."""
    if blob[offset : offset + 4] != HEADER_MAGIC:
        raise CorruptInput(f"bad RPM header magic at offset {offset}")
    count, size = struct.unpack(">II", blob[offset + 8 : offset + 16])
    if count > 100_000 or size > 256 * 1024 * 1024:
        raise CorruptInput("implausible RPM header size")
    index_start = offset + 16
    data_start = index_start + 16 * count
    end = data_start + size
    if end > len(blob):
        raise CorruptInput("truncated RPM header")
    tags: dict[int, Any] = {}
    for i in range(count):
        tag, kind, where, n = struct.unpack(
            ">IIII", blob[index_start + 16 * i : index_start + 16 * i + 16]
        )
        position = data_start + where
        if position > end:
            continue
        if kind in (_STRING, _I18N, _STRING_ARRAY):
            values = []
            cursor = position
            for _ in range(n if kind != _STRING else 1):
                stop = blob.find(b"\0", cursor, end)
                if stop < 0:
                    break
                values.append(blob[cursor:stop].decode("utf-8", "replace"))
                cursor = stop + 1
            tags[tag] = values[0] if kind == _STRING and values else values
        elif kind == _INT32:
            tags[tag] = list(struct.unpack(f">{n}I", blob[position : position + 4 * n]))
        elif kind == _INT16:
            tags[tag] = list(struct.unpack(f">{n}H", blob[position : position + 2 * n]))
        elif kind == _INT64:
            tags[tag] = list(struct.unpack(f">{n}Q", blob[position : position + 8 * n]))
    return tags, end


def parse_rpm(blob: bytes) -> tuple[dict[int, Any], int]:
    """The main header's tags and the payload offset of an RPM file."""
    if blob[:4] != LEAD_MAGIC:
        raise CorruptInput("not an RPM file")
    _, signature_end = read_header(blob, _LEAD_SIZE)
    main_offset = signature_end + (-signature_end) % 8
    return read_header(blob, main_offset)


class RpmUnpacker:
    name = "rpm"

    def sniff(self, head: bytes, name: str, content: Content) -> bool:
        return head.startswith(LEAD_MAGIC)

    def members(self, content: Content, name: str, ctx: UnpackContext) -> Iterator[Member]:
        blob = cast(bytes, content.blob())
        _, payload_offset = parse_rpm(blob)
        with content.open() as raw:
            raw.seek(payload_offset)
            head = raw.read(8)
            raw.seek(payload_offset)
            magic = compression_of(head)
            stream: IO[bytes]
            if magic is not None:
                stream = decompressing_reader(magic, raw)
            elif head[:3] == b"\x5d\x00\x00":  # legacy lzma-alone payloads
                stream = cast(IO[bytes], lzma.LZMAFile(raw, format=lzma.FORMAT_ALONE))  # noqa: SIM115
            else:
                stream = raw
            yield from cpio_members(stream)

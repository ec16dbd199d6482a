"""RPM packages: lead, signature header, main header, then a compressed cpio payload."""

from __future__ import annotations

import lzma
from collections.abc import Iterator
from typing import IO, cast

from finalexam.formats.rpm import LEAD_MAGIC, parse_rpm_header
from finalexam.unpack.base import Content, Member, UnpackContext
from finalexam.unpack.compressed import compression_of, decompressing_reader
from finalexam.unpack.cpio import cpio_members


class RpmUnpacker:
    name = "rpm"

    def sniff(self, head: bytes, name: str, content: Content) -> bool:
        return head.startswith(LEAD_MAGIC)

    def members(self, content: Content, name: str, ctx: UnpackContext) -> Iterator[Member]:
        payload_offset = parse_rpm_header(cast(bytes, content.blob()))["payload_offset"]
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

"""RPM packages: lead, signature header, main header, then a compressed cpio payload.

Only the sizes of the headers are read to find the payload (the catalogers read the tags);
the payload is streamed, never held in memory whole.
"""

from __future__ import annotations

from collections.abc import Iterator

from finalexam.formats.rpm import LEAD_MAGIC, payload_offset
from finalexam.unpack.base import Content, Member, UnpackContext
from finalexam.unpack.compressed import compression_of, decompressing_reader
from finalexam.unpack.cpio import cpio_members


class RpmUnpacker:
    name = "rpm"
    version = "1.0"
    requires: tuple[str, ...] = ()
    wants = ("RPM packages",)

    def sniff(self, head: bytes, name: str, content: Content) -> bool:
        return head.startswith(LEAD_MAGIC)

    def members(self, content: Content, name: str, ctx: UnpackContext) -> Iterator[Member]:
        with content.open() as raw:
            start = payload_offset(raw)
            head = raw.read(16)
            raw.seek(start)
            magic = compression_of(head)
            stream = decompressing_reader(magic, raw, ctx.limits, "the payload") if magic else raw
            yield from cpio_members(stream)

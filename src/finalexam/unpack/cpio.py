"""cpio archives (newc, crc and odc formats): RPM payloads and initramfs images."""

from __future__ import annotations

import stat
from collections.abc import Callable, Iterator
from typing import IO, cast

from finalexam.errors import CorruptInput
from finalexam.model import IssueKind
from finalexam.unpack.base import Content, Member, MemberKind, UnpackContext
from finalexam.unpack.compressed import compression_of, decompressing_reader, peek_decompressed

NEWC = (b"070701", b"070702")
ODC = b"070707"
_TRAILER = "TRAILER!!!"


class _Bounded:
    """Reads at most ``remaining`` bytes of the shared stream (one member's data)."""

    def __init__(self, stream: IO[bytes], size: int) -> None:
        self.stream = stream
        self.remaining = size

    def read(self, size: int = -1) -> bytes:
        if self.remaining <= 0:
            return b""
        if size < 0 or size > self.remaining:
            size = self.remaining
        data = self.stream.read(size)
        if not data:
            raise CorruptInput("truncated cpio member")
        self.remaining -= len(data)
        return data

    def drain(self) -> None:
        while self.remaining > 0:
            self.read(1 << 20)

    def __enter__(self) -> _Bounded:
        return self

    def __exit__(self, *_: object) -> None:
        return None


def _opener(body: _Bounded) -> Callable[[], IO[bytes]]:
    return lambda: cast(IO[bytes], body)


def _read_exact(stream: IO[bytes], size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = stream.read(size - len(data))
        if not chunk:
            raise CorruptInput("truncated cpio archive")
        data += chunk
    return data


def cpio_members(stream: IO[bytes]) -> Iterator[Member]:
    """Members of a cpio stream, read strictly in order (the stream need not seek)."""
    position = 0
    previous: _Bounded | None = None
    previous_newc = True
    while True:
        if previous is not None:
            previous.drain()
            pad = (-position) % 4 if previous_newc else 0
            _read_exact(stream, pad)
            position += pad
        magic = stream.read(6)
        if not magic:
            return
        if magic in NEWC:
            header = _read_exact(stream, 104)
            fields = [int(header[i : i + 8], 16) for i in range(0, 104, 8)]
            mode, filesize, namesize = fields[1], fields[6], fields[11]
            position += 110
            raw_name = _read_exact(stream, namesize)
            position += namesize
            pad = (-position) % 4
            _read_exact(stream, pad)
            position += pad
            previous_newc = True
        elif magic == ODC:
            header = _read_exact(stream, 70)
            try:
                mode = int(header[12:18], 8)
                namesize = int(header[53:59], 8)
                filesize = int(header[59:70], 8)
            except ValueError:
                raise CorruptInput("corrupt cpio header") from None
            raw_name = _read_exact(stream, namesize)
            position += 76 + namesize
            previous_newc = False
        else:
            raise CorruptInput(f"bad cpio magic {magic!r}")
        name = raw_name.rstrip(b"\0").decode("utf-8", "surrogateescape")
        position += filesize
        body = _Bounded(stream, filesize)
        previous = body
        if name == _TRAILER:
            return
        if stat.S_ISDIR(mode):
            yield Member(name=name, kind=MemberKind.DIR, mode=mode)
        elif stat.S_ISLNK(mode):
            target = body.read(filesize).decode("utf-8", "surrogateescape")
            yield Member(name=name, kind=MemberKind.SYMLINK, link_target=target, mode=mode)
        elif stat.S_ISREG(mode):
            yield Member(
                name=name, kind=MemberKind.FILE, size=filesize, mode=mode, opener=_opener(body)
            )
        else:
            yield Member(
                name=name,
                kind=MemberKind.DEVICE,
                mode=mode,
                problem="device or fifo member: no content to examine",
                problem_kind=IssueKind.NOTE,
            )


class CpioUnpacker:
    name = "cpio"

    def sniff(self, head: bytes, name: str, content: Content) -> bool:
        inner = peek_decompressed(head, content, 6)
        return (inner or head).startswith((*NEWC, ODC))

    def members(self, content: Content, name: str, ctx: UnpackContext) -> Iterator[Member]:
        with content.open() as raw:
            magic = compression_of(content.head(8))
            stream = decompressing_reader(magic, raw) if magic else raw
            yield from cpio_members(stream)

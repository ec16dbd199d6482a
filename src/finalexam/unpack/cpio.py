"""cpio archives (newc, crc and odc formats): RPM payloads and initramfs images.

Names and link targets are read into memory only up to ``MAX_METADATA`` bytes; a larger one
is skipped with its member, and reading goes on. Like GNU cpio and libarchive, junk between
members is skipped up to the next header (and reported).
"""

from __future__ import annotations

import stat
from collections.abc import Callable, Iterator
from typing import IO, cast

from finalexam.errors import CorruptInput
from finalexam.formats.tar import MAX_METADATA
from finalexam.model import IssueKind
from finalexam.unpack.base import Content, Member, MemberKind, UnpackContext, stream_problem
from finalexam.unpack.compressed import compression_of, decompressing_reader, peek_decompressed

NEWC = (b"070701", b"070702")
ODC = b"070707"
_TRAILER = "TRAILER!!!"
_MAX_LINK = 4096  # PATH_MAX


class _Bounded:
    """Reads at most ``remaining`` bytes of the shared stream (one member's data); -1 reads
    to the end of the stream."""

    def __init__(self, reader: _Reader, size: int) -> None:
        self.reader = reader
        self.open_ended = size < 0
        self.remaining = 1 << 62 if size < 0 else size
        self.problem: str | None = None
        self.problem_kind = IssueKind.CORRUPT

    def read(self, size: int = -1) -> bytes:
        if self.remaining <= 0:
            return b""
        if size < 0 or size > self.remaining:
            size = self.remaining
        data = self.reader.read(min(size, 1 << 20))
        if not data:
            inner = stream_problem(self.reader.stream)
            if inner:
                self.problem, self.problem_kind = inner
            elif not self.open_ended:
                self.problem = f"truncated member: {self.remaining} bytes missing"
            self.remaining = 0
            return b""
        self.remaining -= len(data)
        return data

    def drain(self) -> None:
        self.reader.skip(self.remaining)
        self.remaining = 0

    def __enter__(self) -> _Bounded:
        return self

    def __exit__(self, *_: object) -> None:
        return None


class _Reader:
    """The archive stream with its position (newc aligns headers and data to 4 bytes)."""

    def __init__(self, stream: IO[bytes]) -> None:
        self.stream = stream
        self.position = 0
        self._pushed = b""

    def read(self, size: int) -> bytes:
        if self._pushed:
            data, self._pushed = self._pushed[:size], self._pushed[size:]
        else:
            data = self.stream.read(size)
        self.position += len(data)
        return data

    def push_back(self, data: bytes) -> None:
        self._pushed = data + self._pushed
        self.position -= len(data)

    def exact(self, size: int) -> bytes:
        chunks: list[bytes] = []
        wanted = size
        while wanted > 0:
            chunk = self.read(min(wanted, 1 << 20))
            if not chunk:
                raise CorruptInput("truncated cpio archive")
            chunks.append(chunk)
            wanted -= len(chunk)
        return b"".join(chunks)

    def skip(self, size: int) -> None:
        while size > 0:
            chunk = self.read(min(size, 1 << 20))
            if not chunk:
                return
            size -= len(chunk)

    def align(self) -> None:
        self.skip((-self.position) % 4)

    def resync(self) -> int:
        """Skip to the next header magic; returns how many bytes were skipped."""
        skipped = 0
        window = b""
        while True:
            chunk = self.read(64 * 1024)
            if not chunk:
                return skipped + len(window)
            window += chunk
            found = min((i for i in (window.find(m) for m in (*NEWC, ODC)) if i >= 0), default=-1)
            if found >= 0:
                self.push_back(window[found:])
                return skipped + found
            keep = window[-5:]
            skipped += len(window) - len(keep)
            window = keep


def _hex_fields(header: bytes) -> list[int]:
    try:
        return [int(header[i : i + 8], 16) for i in range(0, 104, 8)]
    except ValueError:
        raise CorruptInput("corrupt cpio header (fields are not hexadecimal)") from None


def _opener(body: _Bounded) -> Callable[[], IO[bytes]]:
    return lambda: cast(IO[bytes], body)


def cpio_members(stream: IO[bytes]) -> Iterator[Member]:
    """Members of a cpio stream, read strictly in order (the stream need not seek)."""
    reader = _Reader(stream)
    previous: _Bounded | None = None
    previous_newc = True
    while True:
        if previous is not None:
            previous.drain()
            if previous_newc:
                reader.align()
        start = reader.position
        magic = reader.read(6)
        if not magic:
            break
        if magic not in (*NEWC, ODC):
            reader.push_back(magic)
            skipped = reader.resync()
            yield _notice(f"{skipped} bytes of junk at offset {start} (no cpio header): skipped")
            previous = None
            continue
        try:
            if magic in NEWC:
                fields = _hex_fields(reader.exact(104))
                mode, filesize, namesize = fields[1], fields[6], fields[11]
            else:
                header = reader.exact(70)
                try:
                    mode = int(header[12:18], 8)
                    namesize = int(header[53:59], 8)
                    filesize = int(header[59:70], 8)
                except ValueError:
                    raise CorruptInput("corrupt cpio header") from None
        except CorruptInput as error:
            yield _notice(f"{error} at offset {start}: the rest is not examined")
            break
        previous_newc = magic in NEWC
        if namesize > MAX_METADATA:
            reader.skip(namesize)
            if previous_newc:
                reader.align()
            previous = _Bounded(reader, filesize)
            yield _notice(
                f"member at offset {start} has a name of {namesize} bytes (over "
                f"{MAX_METADATA}): its {filesize} bytes of data are not examined",
                IssueKind.LIMIT,
            )
            continue
        try:
            raw_name = reader.exact(namesize)
        except CorruptInput:
            yield _notice(f"truncated cpio archive at offset {start}")
            break
        if previous_newc:
            reader.align()
        name = raw_name.split(b"\0", 1)[0].decode("utf-8", "surrogateescape")
        body = _Bounded(reader, filesize)
        previous = body
        if name == _TRAILER:
            body.drain()
            previous = None
            following = _skip_padding(reader)
            if following.startswith((*NEWC, ODC)):
                continue  # another archive follows (initramfs images concatenate them)
            if following:  # other data, such as the compressed main archive of an initramfs
                rest = _Bounded(reader, -1)
                yield Member(
                    name=f"data-after-trailer-at-{reader.position}",
                    kind=MemberKind.FILE,
                    opener=_opener(rest),
                )
            break
        yield _member(name, mode, filesize, body)
    problem = stream_problem(stream)
    if problem:
        yield _notice(*problem)


def _skip_padding(reader: _Reader) -> bytes:
    """Skip zero bytes; the first bytes after them are left to read (and returned)."""
    while chunk := reader.read(64 * 1024):
        stripped = chunk.lstrip(b"\0")
        if stripped:
            reader.push_back(stripped)
            return stripped
    return b""


def _notice(message: str, kind: IssueKind = IssueKind.CORRUPT) -> Member:
    return Member(name="", kind=MemberKind.NOTICE, problem=message, problem_kind=kind)


def _member(name: str, mode: int, filesize: int, body: _Bounded) -> Member:
    if stat.S_ISDIR(mode):
        return Member(name=name, kind=MemberKind.DIR, mode=mode)
    if stat.S_ISLNK(mode):
        if filesize > _MAX_LINK:
            return Member(
                name=name,
                kind=MemberKind.OTHER,
                mode=mode,
                problem=f"symlink target of {filesize} bytes (over {_MAX_LINK}): not examined",
                problem_kind=IssueKind.LIMIT,
            )
        target = body.read(filesize).decode("utf-8", "surrogateescape")
        return Member(name=name, kind=MemberKind.SYMLINK, link_target=target, mode=mode)
    if stat.S_ISREG(mode):
        return Member(
            name=name, kind=MemberKind.FILE, size=filesize, mode=mode, opener=_opener(body)
        )
    return Member(
        name=name,
        kind=MemberKind.DEVICE,
        mode=mode,
        problem="device or fifo member: no content to examine",
        problem_kind=IssueKind.NOTE,
    )


class CpioUnpacker:
    name = "cpio"
    version = "1.0"
    requires: tuple[str, ...] = ()
    wants = ("cpio archives",)

    def sniff(self, head: bytes, name: str, content: Content) -> bool:
        inner = peek_decompressed(head, content, 6)
        return (inner or head).startswith((*NEWC, ODC))

    def members(self, content: Content, name: str, ctx: UnpackContext) -> Iterator[Member]:
        with content.open() as raw:
            magic = compression_of(content.head(16))
            stream = decompressing_reader(magic, raw, ctx.limits, name) if magic else raw
            yield from cpio_members(stream)

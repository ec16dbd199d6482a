"""Unix ar archives: Debian packages (.deb, .udeb, .ipk) and static libraries (.a).

Members are read in place (no copy of the archive); names in the GNU long-name table are
looked up where they are, and a member that runs past the end is examined as far as it goes.
Like dpkg-deb and GNU ar, a damaged header ends the archive (reported).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO, cast

from finalexam.errors import CorruptInput
from finalexam.formats.streams import ReadStream
from finalexam.formats.tar import MAX_METADATA
from finalexam.model import Blob
from finalexam.unpack.base import Content, Member, MemberKind, UnpackContext

MAGIC = b"!<arch>\n"
_HEADER = 60


def _number(field: bytes, base: int, offset: int) -> int:
    try:
        return int(field.strip() or b"0", base)
    except ValueError:
        raise CorruptInput(f"corrupt ar header at offset {offset}") from None


class ArUnpacker:
    name = "ar"
    version = "1.0"
    requires: tuple[str, ...] = ()
    wants = ("ar archives: .deb packages, static libraries",)

    def sniff(self, head: bytes, name: str, content: Content) -> bool:
        return head.startswith(MAGIC)

    def members(self, content: Content, name: str, ctx: UnpackContext) -> Iterator[Member]:
        blob = content.blob()
        total = len(blob)
        offset = len(MAGIC)
        long_names: tuple[int, int] = (0, 0)  # where the GNU long-name table is in the blob
        while offset + _HEADER <= total:
            header = bytes(blob[offset : offset + _HEADER])
            if header[58:60] != b"`\n":
                raise CorruptInput(f"corrupt ar header at offset {offset}")
            raw_name = header[:16].rstrip(b" ")
            size = _number(header[48:58], 10, offset)
            mode = _number(header[40:48], 8, offset)
            start = offset + _HEADER
            problem = None
            if start + size > total:
                problem = f"truncated member: {size} bytes declared, {total - start} in the file"
                size = total - start
            offset = start + size + (size & 1)
            if raw_name == b"//":  # GNU long-name table
                long_names = (start, start + size)
                continue
            if raw_name in (b"/", b"/SYM64/", b"__.SYMDEF", b"__.SYMDEF SORTED"):
                continue  # symbol index of a static library
            if raw_name.startswith(b"#1/"):  # BSD: the name precedes the data
                length = _number(raw_name[3:], 10, offset)
                if length > min(size, MAX_METADATA):
                    raise CorruptInput(f"ar member name of {length} bytes at offset {start}")
                member_name = bytes(blob[start : start + length]).rstrip(b"\0")
                start += length
                size -= length
            elif raw_name.startswith(b"/") and raw_name[1:].isdigit():
                member_name = _long_name(blob, long_names, int(raw_name[1:]))
            else:
                member_name = raw_name.removesuffix(b"/")
            yield _member(blob, start, size, member_name, mode, problem)


def _long_name(blob: Blob, table: tuple[int, int], index: int) -> bytes:
    start, end = table
    position = start + index
    if not start <= position < end:
        return b"/%d" % index
    stop = blob.find(b"/\n", position, min(end, position + MAX_METADATA))
    return bytes(blob[position : stop if stop >= 0 else min(end, position + 4096)])


class _Slice(ReadStream):
    """Bytes ``start:end`` of the archive, read in place."""

    def __init__(self, blob: Blob, start: int, end: int) -> None:
        super().__init__()
        self.blob = blob
        self.position = start
        self.end = end

    def read(self, size: int | None = -1) -> bytes:
        stop = self.end if size is None or size < 0 else min(self.end, self.position + size)
        data = bytes(self.blob[self.position : stop])
        self.position += len(data)
        return data


def _member(
    blob: Blob, start: int, size: int, raw_name: bytes, mode: int, problem: str | None
) -> Member:
    def opener() -> IO[bytes]:
        return cast(IO[bytes], _Slice(blob, start, start + size))

    return Member(
        name=raw_name.decode("utf-8", "surrogateescape"),
        kind=MemberKind.FILE,
        size=size,
        mode=mode or None,
        opener=opener,
        problem=problem,
    )

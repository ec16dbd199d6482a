"""Unix ar archives: Debian packages (.deb, .udeb, .ipk) and static libraries (.a)."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import IO

from finalexam.errors import CorruptInput
from finalexam.unpack.base import Content, Member, MemberKind, UnpackContext

MAGIC = b"!<arch>\n"
_HEADER = 60


class ArUnpacker:
    name = "ar"

    def sniff(self, head: bytes, name: str, content: Content) -> bool:
        return head.startswith(MAGIC)

    def members(self, content: Content, name: str, ctx: UnpackContext) -> Iterator[Member]:
        blob = content.blob()
        total = len(blob)
        offset = len(MAGIC)
        long_names = b""
        while offset + _HEADER <= total:
            header = bytes(blob[offset : offset + _HEADER])
            if header[58:60] != b"`\n":
                raise CorruptInput(f"corrupt ar header at offset {offset}")
            raw_name = header[:16].rstrip(b" ")
            try:
                size = int(header[48:58].strip() or b"0")
                mode = int(header[40:48].strip() or b"0", 8)
            except ValueError:
                raise CorruptInput(f"corrupt ar header at offset {offset}") from None
            start = offset + _HEADER
            if start + size > total:
                raise CorruptInput(f"truncated ar member at offset {offset}")
            offset = start + size + (size & 1)
            if raw_name == b"//":  # GNU long-name table
                long_names = bytes(blob[start : start + size])
                continue
            if raw_name in (b"/", b"/SYM64/", b"__.SYMDEF", b"__.SYMDEF SORTED"):
                continue  # symbol index of a static library
            if raw_name.startswith(b"#1/"):  # BSD: the name precedes the data
                name_length = int(raw_name[3:])
                member_name = bytes(blob[start : start + name_length]).rstrip(b"\0")
                start += name_length
                size -= name_length
            elif raw_name.startswith(b"/") and raw_name[1:].isdigit():
                index = int(raw_name[1:])
                member_name = long_names[index:].split(b"/\n", 1)[0]
            else:
                member_name = raw_name.removesuffix(b"/")
            yield _member(blob, start, size, member_name, mode)


def _member(blob: object, start: int, size: int, raw_name: bytes, mode: int) -> Member:
    def opener() -> IO[bytes]:
        return io.BytesIO(blob[start : start + size])  # type: ignore[index]

    return Member(
        name=raw_name.decode("utf-8", "surrogateescape"),
        kind=MemberKind.FILE,
        size=size,
        mode=mode or None,
        opener=opener,
    )
